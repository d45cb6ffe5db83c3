#!/usr/bin/env bash
# deps.sh [build|demo|check|viewers]: installs the Debian packages that are missing, judged by
# what the build needs (headers, pkg-config modules, commands, crate source
# directories), not by package names: a machine where another package provides
# the same files is left alone.  `build` (the default) checks what `make` needs
# to compile the tool; `demo` also what unpacking a committed snapshot needs;
# `check` also what the tests and fixtures need; `viewers` what bench/flamegraph.sh
# shows the exports in (go tool pprof, headless Chromium).
#
# Never removes a package (apt-get install --no-remove); waits up to five
# minutes for a held dpkg lock and says so plainly if it stays held; prints
# nothing when nothing is missing.
#
# For tests: DEPS_ROOT=DIR looks for the files under DIR instead of /,
# DEPS_SIMULATE=1 prints "deps: would install P..." instead of installing,
# DEPS_APT=CMD runs CMD instead of apt-get and DEPS_LOCK_SLEEP=S waits S
# seconds (default 5) between tries while a lock is held.
set -euo pipefail
mode=${1:-build}
root=${DEPS_ROOT:-}
multiarch=$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

have_file() {   # any of the paths (globs allowed) exists under the root
	local p
	for p in "$@"; do
		compgen -G "$root$p" >/dev/null && return 0
	done
	return 1
}
have_pc() {     # a pkg-config module
	have_file "/usr/lib/$multiarch/pkgconfig/$1.pc" "/usr/lib/pkgconfig/$1.pc" "/usr/share/pkgconfig/$1.pc"
}
have_cmd() {
	if [ -n "$root" ]; then have_file "/usr/bin/$1" "/bin/$1" "/usr/local/bin/$1"; else command -v "$1" >/dev/null; fi
}

# package | how to tell it is present
build_needs=(
	"libdwarf-dev|have_file /usr/include/libdwarf/libdwarf.h /usr/include/libdwarf.h"
	"libelf-dev|have_pc libelf"
	"libjansson-dev|have_pc jansson"
	"zlib1g-dev|have_pc zlib"
	# compressed cores (src/image_zcore.c): systemd-coredump's zstd, and xz, lz4, gzip
	"libzstd-dev|have_pc libzstd"
	"liblzma-dev|have_pc liblzma"
	"liblz4-dev|have_pc liblz4"
	"pkg-config|have_cmd pkg-config"
)
check_needs=(
	"libcmocka-dev|have_pc cmocka"
	"gdb|have_cmd gcore"
	"xz-utils|have_cmd xz"
	# tests/e2e_prod.sh: the real compressors, a debuginfod server and its client
	# library (dlopened by the tool), a second tracer for the --pid refusal
	"zstd|have_cmd zstd"
	"lz4|have_cmd lz4"
	"gzip|have_cmd gzip"
	"debuginfod|have_cmd debuginfod"
	"libdebuginfod1|have_file /usr/lib/$multiarch/libdebuginfod.so.1"
	"strace|have_cmd strace"
	# the Debian 11/13 chroots of tests/setup.d/35-glibc-matrix.sh and 65-toolchains.sh (tests/chroot-lib.sh)
	"debootstrap|have_file /usr/sbin/debootstrap"
	"binutils|have_cmd objcopy"
	"librust-smallvec-dev|have_file /usr/share/cargo/registry/smallvec-1.*"
	"librust-hashbrown-dev|have_file /usr/share/cargo/registry/hashbrown-0.12.*"
	"librust-parking-lot-dev|have_file /usr/share/cargo/registry/parking_lot-0.12.*"
	"librust-rustc-hash-dev|have_file /usr/share/cargo/registry/rustc-hash-1.*"
	"librust-ahash-0.7-dev|have_file /usr/share/cargo/registry/ahash-0.7.*"
	"librust-libc-dev|have_file /usr/share/cargo/registry/libc-0.2.*"
	# fixtures/shapes/crates; Debian 12's own rustc 1.63 and cargo for tests/setup.d/65-toolchains.sh
	"librust-indexmap-dev|have_file /usr/share/cargo/registry/indexmap-1.*"
	"librust-bytes-dev|have_file /usr/share/cargo/registry/bytes-1.*"
	"librust-arrayvec-dev|have_file /usr/share/cargo/registry/arrayvec-0.7.*"
	"librust-dashmap-dev|have_file /usr/share/cargo/registry/dashmap-5.*"
	"rustc|have_file /usr/bin/rustc"
	"cargo|have_file /usr/bin/cargo"
)

demo_needs=("xz-utils|have_cmd xz")
# bench/flamegraph.sh: the readers the exports are shown in (not needed by make check)
viewers_needs=("golang-go|have_cmd go" "chromium|have_cmd chromium")
needs=("${build_needs[@]}")
case $mode in
build) ;;
demo) needs+=("${demo_needs[@]}") ;;
check) needs+=("${check_needs[@]}") ;;
viewers) needs+=("${demo_needs[@]}" "${viewers_needs[@]}") ;;
*) echo "deps: usage: deps.sh [build|demo|check|viewers]" >&2; exit 1 ;;
esac
missing=()
for n in "${needs[@]}"; do
	pkg=${n%%|*} test=${n#*|}
	set -f   # the patterns are for have_file, under the root, not for the shell
	$test || missing+=("$pkg")
	set +f
done
[ ${#missing[@]} -eq 0 ] && exit 0
if [ -n "${DEPS_SIMULATE:-}" ]; then
	echo "deps: would install ${missing[*]}"
	exit 0
fi
echo "deps: installing ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
lock=(-o DPkg::Lock::Timeout=300)
# apt-get update takes the lists lock, which DPkg::Lock::Timeout does not cover:
# while another apt holds a lock, wait and try again (five minutes at most).
apt_wait() {   # apt_wait WHAT ARGS...: run apt-get ARGS, retrying while a lock is held
	local what=$1 i out
	shift
	for i in $(seq 60); do
		if out=$($SUDO "${DEPS_APT:-apt-get}" "${lock[@]}" "$@" 2>&1); then return 0; fi
		case $out in
		*"Could not get lock"*|*"Unable to acquire"*|*"is held by process"*|*"lock-frontend"*)
			[ "$i" -eq 1 ] && echo "deps: $what: another apt or dpkg holds its lock; waiting (up to 5 minutes)" >&2
			sleep "${DEPS_LOCK_SLEEP:-5}" ;;
		*) printf '%s\n' "$out" | tail -5 >&2; return 1 ;;
		esac
	done
	echo "deps: $what: the apt/dpkg lock stayed held for 5 minutes (see 'ps aux | grep -E \"apt|dpkg\"')" >&2
	return 1
}
apt_wait "apt-get update" update -qq || { echo "deps: apt-get update failed" >&2; exit 1; }
if ! apt_wait "apt-get install" install -y -qq --no-remove "${missing[@]}"; then
	echo "deps: could not install ${missing[*]} without removing a package; install them by hand" >&2
	exit 1
fi
