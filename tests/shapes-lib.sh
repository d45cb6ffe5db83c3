# tests/shapes-lib.sh: sourced by tests/setup.d/60-shapes.sh and
# 65-toolchains.sh, which build the programs of fixtures/shapes/ with one
# Rust toolchain each and snapshot them.  The caller defines die().
#
# Layout: $FIXDIR/shapes/TOOLCHAIN/PROGRAM/{exe, core, truth.json, rustc.txt}
# for PROGRAM in std (std_shapes.rs), opaque (opaque.rs), crates
# (fixtures/shapes/crates, Debian's packaged crates, cargo offline).

SHAPES_SRC=fixtures/shapes

# Everything a toolchain's fixtures are made from, for the stamp.
shapes_sources() {
	find "$SHAPES_SRC" -name target -prune -o -type f -print | LC_ALL=C sort | xargs cat
	cat tests/shapes-lib.sh
}

# shapes_fresh DIR STAMP: true when DIR holds every program's snapshot made
# from the same stamp.
shapes_fresh() {
	local dir=$1 stamp=$2 p
	[ -f "$dir/stamp" ] && [ "$(cat "$dir/stamp")" = "$stamp" ] || return 1
	for p in std opaque crates; do
		[ -s "$dir/$p/core" ] && [ -s "$dir/$p/truth.json" ] && [ -s "$dir/$p/exe" ] || return 1
	done
}

# shapes_snap OUT ROOT EXE: runs EXE (a path inside ROOT when ROOT is a
# chroot, ROOT empty for the host) until it has printed its truth (one JSON
# line), takes a gcore of it from the host (gdb's sysroot set to ROOT so it
# reads the chroot's libraries), stops it, and leaves OUT/{core,truth.json}.
shapes_snap() {
	local out=$1 root=$2 exe=$3 pid sysroot=()
	mkdir -p "$out"
	rm -f "$out/core" "$out/truth.json" "$out/truth.tmp"
	if [ -n "$root" ]; then
		# chroot, sh and env exec in turn: $! is the program's pid
		(exec chroot "$root" /bin/sh -c "exec env -i PATH=/usr/bin:/bin $exe" > "$out/truth.tmp") &
		sysroot=(-ex "set sysroot $root")
	else
		("$exe" > "$out/truth.tmp") &
	fi
	pid=$!
	for _ in $(seq 1 300); do
		grep -q '}$' "$out/truth.tmp" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || die "$exe exited before printing its truth"
		sleep 0.1
	done
	grep -q '}$' "$out/truth.tmp" || { kill -KILL "$pid"; die "$exe printed no truth in 30 s"; }
	if ! gdb -nx -batch "${sysroot[@]}" -ex "attach $pid" -ex "gcore $out/core" -ex detach \
		> "$out/gcore.log" 2>&1 || [ ! -s "$out/core" ]; then
		kill -KILL "$pid"; die "gcore failed on pid $pid (see $out/gcore.log; ptrace must be allowed)"
	fi
	kill -KILL "$pid"
	{ wait "$pid" || true; } 2>/dev/null
	mv "$out/truth.tmp" "$out/truth.json"
}

# shapes_registry LOCK DEST: copies the crates Cargo.lock names from Debian's
# registry (/usr/share/cargo/registry, librust-*-dev) into DEST.
shapes_registry() {
	local lock=$1 dest=$2 name ver
	mkdir -p "$dest"
	awk '/^\[\[package\]\]/ { n = "" } /^name = / { n = $3 }
	     /^version = / && n != "" { gsub(/"/, "", n); v = $3; gsub(/"/, "", v); print n, v }' "$lock" |
	while read -r name ver; do
		[ "$name" = crate-shapes ] && continue
		[ -d "/usr/share/cargo/registry/$name-$ver" ] ||
			die "crate $name $ver missing from /usr/share/cargo/registry (scripts/deps.sh installs librust-*-dev)"
		cp -a "/usr/share/cargo/registry/$name-$ver" "$dest/"
	done
}
