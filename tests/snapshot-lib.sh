# tests/snapshot-lib.sh: sourced by the setup scripts that snapshot a probe
# program.  The caller defines die() and may set SNAP_ENV (e.g.
# "MALLOC_ARENA_MAX=1") for the probe's environment.

# Fails unless a kernel core lands in the probe's cwd as a plain file.
require_plain_core_pattern() {
	pattern=$(cat /proc/sys/kernel/core_pattern)
	case "$pattern" in
		'|'*|*/*) die "kernel.core_pattern is '$pattern'; the kernel-core fixtures need a plain name in the cwd: echo core > /proc/sys/kernel/core_pattern (as root), then rerun" ;;
	esac
}

# snapshot_probe OUT EXE GCORE ARGS...: runs EXE ARGS in OUT/run until it has
# printed its truth (a line "end", and "pid N" naming itself), takes a gcore
# into OUT/gcore when GCORE is "gcore", then a kernel core (SIGABRT) into
# OUT/kcore, and leaves the truth in OUT/truth.txt.
snapshot_probe() {
	local out="$1" exe="$2" want_gcore="$3"
	shift 3
	local run="$out/run" pid core
	rm -rf "$run" && mkdir -p "$run"
	# shellcheck disable=SC2086 # SNAP_ENV is a list of NAME=VALUE words
	(cd "$run" && ulimit -c unlimited && exec env ${SNAP_ENV:-} "$exe" "$@" > "$out/truth.tmp") &
	pid=$!
	for _ in $(seq 1 600); do
		grep -qx end "$out/truth.tmp" 2>/dev/null && break
		kill -0 "$pid" 2>/dev/null || die "$exe exited before printing its truth"
		sleep 0.1
	done
	grep -qx end "$out/truth.tmp" || { kill -KILL "$pid"; die "$exe printed no truth in 60 s"; }
	grep -qx "pid $pid" "$out/truth.tmp" || { kill -KILL "$pid"; die "$exe says its pid is not $pid"; }
	if [ "$want_gcore" = gcore ]; then
		if ! gcore -o "$run/g" "$pid" > "$out/gcore.log" 2>&1 || [ ! -s "$run/g.$pid" ]; then
			kill -KILL "$pid"; die "gcore failed on pid $pid (see $out/gcore.log; ptrace must be allowed)"
		fi
		mv "$run/g.$pid" "$out/gcore"
	fi
	kill -ABRT "$pid"
	{ wait "$pid" || true; } 2>/dev/null
	core=$(ls "$run"/core* 2>/dev/null | head -n1 || true)
	[ -n "$core" ] && [ -s "$core" ] || die "no kernel core in $run after SIGABRT (ulimit -c? core_pattern '$pattern'?)"
	mv "$core" "$out/kcore"
	mv "$out/truth.tmp" "$out/truth.txt"
	rmdir "$run" 2>/dev/null || true
}
