#!/usr/bin/env bash
# e2e_deps.sh: scripts/deps.sh decides by the files the build needs, not by
# package names.  On fake roots (DEPS_ROOT) in simulate mode (DEPS_SIMULATE):
# a root with everything prints nothing; a root missing one package's files
# names exactly that package; a root where another package provides the same
# files (a crate directory of another version series' package, a pkg-config
# module in /usr/share) is left alone; `build` never asks for test-only
# packages.  Prints "ok ..." / "not ok ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
fails=0
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; fails=$((fails + 1)); }
ma=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

full() {   # a root holding every file deps.sh looks for
	local r=$1
	mkdir -p "$r/usr/include/libdwarf" "$r/usr/lib/$ma/pkgconfig" "$r/usr/bin" "$r/usr/share/cargo/registry"
	touch "$r/usr/include/libdwarf/libdwarf.h"
	for pc in libelf jansson zlib cmocka libzstd liblzma liblz4; do touch "$r/usr/lib/$ma/pkgconfig/$pc.pc"; done
	for c in pkg-config gcore xz rustc cargo zstd lz4 gzip debuginfod strace objcopy; do touch "$r/usr/bin/$c"; done
	touch "$r/usr/lib/$ma/libdebuginfod.so.1"
	mkdir -p "$r/usr/sbin" && touch "$r/usr/sbin/debootstrap"
	for d in smallvec-1.10.0 hashbrown-0.12.3 parking_lot-0.12.1 rustc-hash-1.1.0 ahash-0.7.6 libc-0.2.139 \
		indexmap-1.9.2 bytes-1.2.1 arrayvec-0.7.2 dashmap-5.4.0; do
		mkdir -p "$r/usr/share/cargo/registry/$d"
	done
}
run() { DEPS_ROOT=$1 DEPS_SIMULATE=1 scripts/deps.sh "$2" 2>&1; }

full "$tmp/all"
out=$(run "$tmp/all" check)
[ -z "$out" ] && ok "deps: nothing missing prints nothing" || nok "deps: nothing missing printed [$out]"

full "$tmp/one"
rm "$tmp/one/usr/lib/$ma/pkgconfig/cmocka.pc"
out=$(run "$tmp/one" check)
[ "$out" = "deps: would install libcmocka-dev" ] && ok "deps: a missing cmocka module installs libcmocka-dev and nothing else" \
	|| nok "deps: missing cmocka gave [$out]"
out=$(run "$tmp/one" build)
[ -z "$out" ] && ok "deps: the build alone does not ask for test packages" || nok "deps build asked for [$out]"

# another package provides the same files: hashbrown 0.12 from a differently
# named package, jansson's module from /usr/share/pkgconfig
full "$tmp/equiv"
rm -rf "$tmp/equiv/usr/share/cargo/registry/hashbrown-0.12.3" "$tmp/equiv/usr/lib/$ma/pkgconfig/jansson.pc"
mkdir -p "$tmp/equiv/usr/share/cargo/registry/hashbrown-0.12.1" "$tmp/equiv/usr/share/pkgconfig"
touch "$tmp/equiv/usr/share/pkgconfig/jansson.pc"
out=$(run "$tmp/equiv" check)
[ -z "$out" ] && ok "deps: files provided by an equivalent package are left alone" || nok "deps: equivalent provider gave [$out]"

# a header missing is the build's business
full "$tmp/hdr"
rm "$tmp/hdr/usr/include/libdwarf/libdwarf.h"
out=$(run "$tmp/hdr" build)
[ "$out" = "deps: would install libdwarf-dev" ] && ok "deps: a missing libdwarf header installs libdwarf-dev" \
	|| nok "deps: missing libdwarf header gave [$out]"

# the real install path never removes a package
grep -q -- '--no-remove' scripts/deps.sh && ok "deps: apt-get install runs with --no-remove" || nok "deps: no --no-remove"
# and apt itself agrees that installing a package already present removes nothing
if command -v apt-get >/dev/null && apt-get -s install --no-remove gdb >/dev/null 2>&1; then
	ok "deps: apt-get -s install --no-remove of an installed package succeeds"
else
	nok "deps: apt-get -s install --no-remove gdb failed"
fi
# another apt holding the lock: deps.sh waits and tries again instead of failing
# (a fake apt-get that answers "Could not get lock" twice, then succeeds)
cat > "$tmp/apt-get" <<'FAKE'
#!/usr/bin/env bash
n=$(cat "$(dirname "$0")/tries" 2>/dev/null || echo 0)
echo $((n + 1)) > "$(dirname "$0")/tries"
echo "$*" >> "$(dirname "$0")/calls"
if [ "$n" -lt 2 ]; then echo "E: Could not get lock /var/lib/apt/lists/lock. It is held by process 4242 (apt-get)" >&2; exit 100; fi
exit 0
FAKE
chmod +x "$tmp/apt-get"
if [ "$(id -u)" -eq 0 ]; then
	out=$(DEPS_ROOT=$tmp/hdr DEPS_APT=$tmp/apt-get DEPS_LOCK_SLEEP=0 scripts/deps.sh build 2>&1)
	rc=$?
	if [ $rc -eq 0 ] && grep -q "waiting" <<<"$out" && grep -q "^update" <<<"$(sed 's/^-o [^ ]* //' "$tmp/calls")" \
		&& grep -q "install .*libdwarf-dev" "$tmp/calls"; then
		ok "deps: a held apt lock is waited for, then update and install run"
	else
		nok "deps: held lock: rc $rc, output [$out], calls [$(cat "$tmp/calls" 2>/dev/null)]"
	fi
else
	ok "deps: held lock test skipped (not root: deps.sh would use sudo) # SKIP"
fi
exit $((fails > 0))
