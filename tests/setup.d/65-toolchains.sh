#!/usr/bin/env bash
# 65-toolchains.sh: the programs of fixtures/shapes/ built by two more Rust
# toolchains than rustup's (60-shapes.sh), run and snapshotted the same way:
#   deb12: Debian 12's packaged rustc 1.63 and cargo 0.66 (/usr/bin/rustc,
#          called by full path so rustup's rustc on PATH does not shadow it).
#          Its OnceLock is unstable: the build passes --cfg oncelock_unstable
#          with RUSTC_BOOTSTRAP=1.
#   deb13: Debian 13's rustc 1.85 and cargo, in a debootstrap chroot of
#          trixie (minbase + rustc, cargo, gcc, libc6-dev; glibc 2.41).  The
#          crates are the host's (Debian 12's librust-*-dev, the versions
#          Cargo.lock names), copied into the build directory.  The programs
#          run in the chroot with its own loader and libc; gdb on the host
#          takes the gcore (sysroot set to the chroot).
#   $FIXDIR/shapes/{deb12,deb13}/{std,opaque,crates}/{exe, core, truth.json, rustc.txt}
# (exe: a copy of the binary that ran).  The chroot is cached outside the
# clone in /var/cache/aggop-inspect/chroots/rust-SUITE-ARCH-KEY (KEY: a hash
# of the suite, the architecture and the package list), built from nothing
# when absent (about 100 s on a fast mirror).  Needs root (debootstrap,
# chroot).  Work already done (same sources, same scripts, same toolchain)
# is skipped; a failure fails loudly.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
die() { echo "65-toolchains: $*" >&2; exit 1; }
. tests/shapes-lib.sh

[ "$(id -u)" -eq 0 ] || die "needs root (debootstrap and chroot)"
[ -x /usr/bin/rustc ] && [ -x /usr/bin/cargo ] && [ -d /usr/share/cargo/registry/dashmap-5.4.0 ] || scripts/deps.sh check
[ -x /usr/bin/rustc ] || die "/usr/bin/rustc missing (apt-get install rustc)"
command -v gdb >/dev/null || die "gdb not found (scripts/deps.sh installs it)"
flags=(-C debuginfo=2 -C opt-level=1)
lock="$SHAPES_SRC/crates/Cargo.lock"

# ---------------------------------------------------------------- deb12
build_deb12() {
	local out="$FIXDIR/shapes/deb12" stamp t0=$SECONDS
	stamp=$( (shapes_sources; cat "$0"; /usr/bin/rustc --version; /usr/bin/cargo --version) | sha256sum | cut -d' ' -f1)
	shapes_fresh "$out" "$stamp" && return 0
	rm -rf "$out" && mkdir -p "$out"/{std,opaque,crates}
	export RUSTC_BOOTSTRAP=1
	/usr/bin/rustc --cfg oncelock_unstable "${flags[@]}" -o "$out/std/exe" "$SHAPES_SRC/std_shapes.rs" ||
		die "rustc 1.63: std_shapes.rs failed"
	/usr/bin/rustc --cfg oncelock_unstable "${flags[@]}" -o "$out/opaque/exe" "$SHAPES_SRC/opaque.rs" ||
		die "rustc 1.63: opaque.rs failed"
	(cd "$SHAPES_SRC/crates" && CARGO_TARGET_DIR="$FIXDIR/shapes-target/deb12" RUSTC=/usr/bin/rustc \
		RUSTFLAGS="--cfg oncelock_unstable" /usr/bin/cargo build --quiet --locked) >"$out/crates/build.log" 2>&1 ||
		{ cat "$out/crates/build.log" >&2; die "cargo 0.66 / rustc 1.63 build of $SHAPES_SRC/crates failed"; }
	unset RUSTC_BOOTSTRAP
	cp "$FIXDIR/shapes-target/deb12/debug/crate-shapes" "$out/crates/exe"
	for p in std opaque crates; do
		/usr/bin/rustc --version > "$out/$p/rustc.txt"
		shapes_snap "$out/$p" "" "$out/$p/exe"
	done
	echo "$stamp" > "$out/stamp"
	echo "65-toolchains: deb12 ($(/usr/bin/rustc --version)) in $((SECONDS - t0)) s" >&2
}

# ---------------------------------------------------------------- deb13
suite=trixie
pkgs=rustc,cargo,gcc,libc6-dev

# Prints the cached chroot's path (tests/chroot-lib.sh), building it when missing.
# shellcheck source=../chroot-lib.sh
. tests/chroot-lib.sh
rust_chroot() {
	chroot_build rust- "$suite" "$pkgs" || die "no $suite chroot with rustc (tests/chroot-lib.sh said why above)"
}

build_deb13() {
	local out="$FIXDIR/shapes/deb13" root stamp rel t0=$SECONDS
	root=$(rust_chroot)
	stamp=$( (shapes_sources; cat "$0"; chroot "$root" rustc --version; chroot "$root" cargo --version) |
		sha256sum | cut -d' ' -f1)
	shapes_fresh "$out" "$stamp" && return 0
	rm -rf "$out" && mkdir -p "$out"/{std,opaque,crates}
	rel=/aggop-shapes.$$
	work="$root$rel"   # global: the EXIT trap removes it
	rm -rf "$work" && mkdir -p "$work"
	trap 'rm -rf "$work"' EXIT
	cp -a "$SHAPES_SRC/." "$work/src"
	rm -rf "$work/src/crates/target"
	shapes_registry "$lock" "$work/registry"
	sed -i "s|^directory = .*|directory = \"$rel/registry\"|" "$work/src/crates/.cargo/config.toml"
	# inroot DIR WORDS...: runs WORDS in the chroot, in $rel/src/DIR, with a clean environment
	inroot() { local d=$1; shift; chroot "$root" /bin/sh -c "cd $rel/src/$d && exec env -i PATH=/usr/bin:/bin HOME=$rel $*"; }
	inroot . rustc "${flags[*]}" -o "$rel/std" std_shapes.rs || die "rustc in the $suite chroot: std_shapes.rs failed"
	inroot . rustc "${flags[*]}" -o "$rel/opaque" opaque.rs || die "rustc in the $suite chroot: opaque.rs failed"
	inroot crates CARGO_TARGET_DIR="$rel/target" cargo build --quiet --locked >"$out/crates/build.log" 2>&1 ||
		{ cat "$out/crates/build.log" >&2; die "cargo in the $suite chroot: $SHAPES_SRC/crates failed"; }
	cp "$work/target/debug/crate-shapes" "$work/crates"
	for p in std opaque crates; do
		chroot "$root" rustc --version > "$out/$p/rustc.txt"
		cp "$work/$p" "$out/$p/exe"
		shapes_snap "$out/$p" "$root" "$rel/$p"
	done
	rm -rf "$work"
	trap - EXIT
	echo "$stamp" > "$out/stamp"
	echo "65-toolchains: deb13 ($(cat "$out/std/rustc.txt"), $suite chroot) in $((SECONDS - t0)) s" >&2
}

build_deb12
build_deb13
