# aggop-inspect: build, test and install.
#
#   make            build ./aggop-inspect (installs missing Debian packages first)
#   make demo       write memory-profile.md from a committed snapshot
#   make check      the test suite, in a normal and in an ASan+UBSan build
#   make install    PREFIX=/usr/local DESTDIR=
#   make bench      issue 21's speed figures on the benchmark core (bench/speed.sh), not part of check
#   make bench-all  every benchmark (bench/*.sh)

CC      ?= cc
PREFIX  ?= /usr/local
BUILD   ?= build/normal
SAN     ?=
OPT     ?= -O2 -g

PKGS     := libelf jansson libzstd liblzma liblz4 zlib
CPPFLAGS := -Iinclude -D_GNU_SOURCE $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
CFLAGS   := -std=c11 -pthread -Wall -Wextra -Werror $(OPT) $(SAN)
# Header dependencies come from the compiler (-MMD), one .d file per object.
DEPFLAGS := -MMD -MP
# Debian's libdwarf 20210528 ships no .pc file; it lives in the default paths.
# libdebuginfod is not linked: types_debuginfo.c dlopens libdebuginfod.so.1 when it is installed.
LDLIBS   := -pthread -ldwarf $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lelf -ljansson -lzstd -llzma -llz4 -lz) -lz -ldl -lm
TESTLIBS := $(shell pkg-config --libs cmocka 2>/dev/null || echo -lcmocka)

LIB_SRC  := $(filter-out src/main.c,$(wildcard src/*.c))
LIB_OBJ  := $(patsubst src/%.c,$(BUILD)/obj/%.o,$(LIB_SRC))
TEST_SRC := $(wildcard tests/test_*.c)
TEST_BIN := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRC))
# the fuzz harnesses (fuzz section below); their replay drivers are tests
FUZZ_NAMES   := image types heap walk layout
FUZZ_REPLAY  := $(patsubst %,$(BUILD)/tests/fuzz-replay-%,$(FUZZ_NAMES))
HEADERS  := $(wildcard include/*.h) $(wildcard src/*.h) $(wildcard tests/*.h)
# tests/cmocka_filter.c: linked into every cmocka test, applies CMOCKA_FILTER.
CMOCKA_FILTER_OBJ := $(BUILD)/obj/cmocka_filter.o

.PHONY: all deps build-deps deps-check demo check check-normal check-asan install clean bench bench-all fixtures tests-bin
.DEFAULT_GOAL := all

all: build-deps aggop-inspect

deps:
	@scripts/deps.sh build

# A plain make installs nothing: it names what is missing and stops.
build-deps:
	@missing=$$(DEPS_SIMULATE=1 scripts/deps.sh build); \
	if [ -n "$$missing" ]; then echo "$${missing#deps: would install } missing: run 'make deps' (as root) first" >&2; exit 1; fi

deps-check:
	@scripts/deps.sh check

aggop-inspect: $(BUILD)/aggop-inspect
	cp $< $@

$(BUILD)/aggop-inspect: $(BUILD)/obj/main.o $(BUILD)/libaggop.a
	$(CC) $(CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/libaggop.a: $(LIB_OBJ)
	rm -f $@ && ar rcs $@ $^

# An object built before -MMD (no .d beside it) cannot say which headers it
# read: it depends on all of them until it has been rebuilt once.
.SECONDEXPANSION:
NODEP = $(if $(wildcard $(basename $(1)).d),,$(HEADERS))

$(BUILD)/obj/%.o: src/%.c $$(call NODEP,$$@) | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(CMOCKA_FILTER_OBJ): tests/cmocka_filter.c | $(BUILD)/obj
	$(CC) $(CPPFLAGS) $(CFLAGS) $(DEPFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/%.c $(BUILD)/libaggop.a $(CMOCKA_FILTER_OBJ) $$(call NODEP,$$@) | $(BUILD)/tests
	$(CC) $(CPPFLAGS) -Itests $(CFLAGS) $(DEPFLAGS) -o $@ $< $(CMOCKA_FILTER_OBJ) $(BUILD)/libaggop.a $(LDLIBS) $(TESTLIBS)

$(BUILD)/obj $(BUILD)/tests:
	mkdir -p $@

tests-bin: $(BUILD)/aggop-inspect $(TEST_BIN) $(FUZZ_REPLAY)

demo: all
	@scripts/deps.sh demo
	scripts/demo.sh

# Fixtures (probe programs, their cores, beava-sim snapshots) are built once
# into build/fixtures and shared by both builds.
fixtures: deps-check
	tests/setup.sh

# Both builds run even when the first fails; the summary line comes last and
# decides the exit status (a build that did not produce results fails it).
# T=NAME[:PATTERN] runs one test in both builds (tests/run.sh).
export T
check: deps-check fixtures
	@rm -f build/normal/results.txt build/asan/results.txt
	-@$(MAKE) --no-print-directory check-normal
	-@$(MAKE) --no-print-directory check-asan
	@tests/summary.sh build/normal build/asan

check-normal:
	$(MAKE) --no-print-directory BUILD=build/normal tests-bin
	tests/run.sh build/normal

check-asan:
	$(MAKE) --no-print-directory BUILD=build/asan OPT="-O1 -g" \
		SAN="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer" tests-bin
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 tests/run.sh build/asan

# make bench: issue 21's figures in one interleaved run on the benchmark core
# (bench/speed.sh, which makes the core when build/bench/big has none);
# make bench-all: every bench/*.sh.
bench: all
	bench/speed.sh

bench-all: all
	bench/run.sh

install: aggop-inspect
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 755 aggop-inspect $(DESTDIR)$(PREFIX)/bin/aggop-inspect
	install -m 644 man/aggop-inspect.1 $(DESTDIR)$(PREFIX)/share/man/man1/aggop-inspect.1

clean:
	rm -rf build aggop-inspect

# ---- fuzzing (tests/fuzz/fuzz.h) ----
#   make fuzz            every harness for FUZZ_SECONDS, in parallel (FUZZ_JOBS
#                        at a time, default: the machine's cores), niced, from
#                        the committed corpus; new inputs land in
#                        build/fuzz/corpus, crashes in build/fuzz/crashes (copy
#                        each into tests/fuzz/regressions/NAME/ once fixed);
#                        the run's totals are appended to tests/fuzz/CAMPAIGN.md
#                        and its corpus merged into tests/fuzz/corpus (-merge=1,
#                        FUZZ_CORPUS_KB per harness): commit both
#   make fuzz-build      the libFuzzer binaries only (clang)
# make check replays the corpus and the regressions through
# BUILD/tests/fuzz-replay-NAME and runs a short smoke (tests/e2e_fuzz.sh).
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_JOBS    ?= $(shell nproc 2>/dev/null || echo 1)
FUZZ_BUILD   := build/fuzz
# UBSan recovers so that tests/fuzz/ubsan.supp can skip known findings;
# libfuzzer_main.c sets halt_on_error=1 for the rest.
FUZZ_SAN     := -fsanitize=address,undefined -fsanitize-recover=undefined -fno-omit-frame-pointer
# clang warns where gcc does not: warnings are shown, not fatal, in this build.
FUZZ_CFLAGS  := -std=c11 -Wall -Wextra -O2 -g $(FUZZ_SAN)
FUZZ_OBJ     := $(patsubst src/%.c,$(FUZZ_BUILD)/obj/%.o,$(LIB_SRC))
FUZZ_SRC     := tests/fuzz/fuzz_util.c tests/fuzz/synth.c
FUZZ_COMMON  := $(FUZZ_SRC) tests/fuzz/fuzz.h tests/fuzz/synth.h
FUZZ_BIN     := $(patsubst %,$(FUZZ_BUILD)/fuzz_%,$(FUZZ_NAMES))

.PHONY: fuzz fuzz-build fuzz-cc

fuzz-cc:
	@command -v $(FUZZ_CC) > /dev/null || \
		{ echo "make fuzz needs $(FUZZ_CC) with libFuzzer (Debian: apt-get install clang)"; exit 1; }

$(FUZZ_BUILD)/obj/%.o: src/%.c $(HEADERS) | $(FUZZ_BUILD)/obj
	$(FUZZ_CC) $(CPPFLAGS) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(FUZZ_COV) -c -o $@ $<

$(FUZZ_BUILD)/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/libfuzzer_main.c $(FUZZ_COMMON) $(FUZZ_OBJ) $(HEADERS)
	$(FUZZ_CC) $(CPPFLAGS) -Itests/fuzz $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< tests/fuzz/libfuzzer_main.c \
		$(FUZZ_SRC) $(FUZZ_OBJ) $(LDLIBS)

$(FUZZ_BUILD)/obj: | fuzz-cc
	mkdir -p $@

# The fixtures the harnesses load (FIXDIR, default build/fixtures), made
# here when missing so that `make fuzz-build` alone is enough in a clean
# clone (make fixtures builds them with everything else, and replaces these):
#   generic/shapes  the walk and heap harnesses' synthetic core is built from
#                   its DWARF at start-up (the same rustc command as
#                   tests/setup.d/40-generic.sh, about 5 s; its data layout
#                   does not depend on where the clone is, so the committed
#                   corpus means the same);
#   probes/c/exe    the image harness's executable: the copy the image seeds
#                   were cut from (tests/fuzz/data/cprobe-exe.gz, mkseeds.sh),
#                   since a rebuild elsewhere has another build-id, which
#                   image_open refuses.
# Order-only: an existing fixture is never replaced or rebuilt here.
FUZZ_FIXDIR  := build/fixtures
FUZZ_FIXTURES := $(FUZZ_FIXDIR)/generic/shapes $(FUZZ_FIXDIR)/probes/c/exe

$(FUZZ_FIXDIR)/generic/shapes: | fixtures/generic/shapes.rs
	@command -v rustc > /dev/null || { echo "make fuzz-build needs rustc (for $@)"; exit 1; }
	mkdir -p $(@D)
	rustc -C debuginfo=2 -C opt-level=1 -o $@.tmp fixtures/generic/shapes.rs && mv $@.tmp $@

$(FUZZ_FIXDIR)/probes/c/exe: | tests/fuzz/data/cprobe-exe.gz
	mkdir -p $(@D)
	gzip -dc tests/fuzz/data/cprobe-exe.gz > $@.tmp && chmod 755 $@.tmp && mv $@.tmp $@

# The objects are named here so that make keeps them (they are not
# intermediates of the pattern rules) and rebuilds them when missing.
fuzz-build: $(FUZZ_OBJ) $(FUZZ_BIN) $(FUZZ_FIXTURES)

# The arena search scans libc's data for malloc_state under every layout:
# comparison tracing there costs 3/4 of the heap harness's time, for
# comparisons with no input-dependent target worth solving.
$(FUZZ_BUILD)/obj/heap_arena.o: FUZZ_COV := -fno-sanitize-coverage=trace-cmp

fuzz: deps fixtures fuzz-build
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_JOBS) $(FUZZ_NAMES)

# The replay drivers: the harness bodies built like the tests of BUILD.
# (compiled and linked in one step, so -MMD has no object to name: the
# headers are listed instead)
$(BUILD)/tests/fuzz-replay-%: tests/fuzz/fuzz_%.c tests/fuzz/replay_main.c $(FUZZ_COMMON) $(BUILD)/libaggop.a $(HEADERS) | $(BUILD)/tests
	$(CC) $(CPPFLAGS) -Itests/fuzz $(CFLAGS) -o $@ $< tests/fuzz/replay_main.c $(FUZZ_SRC) \
		$(BUILD)/libaggop.a $(LDLIBS)

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/tests/*.d)
