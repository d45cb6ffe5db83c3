#!/usr/bin/env bash
# 55-snapshots.sh: unpacks the committed beava-sim snapshots (fixtures/snapshots/<name>/,
# xz-compressed executable, core and truth) into $FIXDIR/snapshots/<name>/ with the file
# names make-snapshot writes (beava-sim, core, truth.json, metrics.prom, variants.txt,
# made-by.txt, malloc_info.xml). Needs no Rust toolchain. Skips a snapshot already unpacked
# from the same files; fails loudly on a missing or corrupt file.
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
die() { echo "55-snapshots: $*" >&2; exit 1; }
command -v xz >/dev/null || die "xz not found (apt-get install xz-utils)"

n=0
for src in fixtures/snapshots/*/; do
	[ -f "$src/made-by.txt" ] || continue
	name=$(basename "$src")
	dst="$FIXDIR/snapshots/$name"
	stamp=$(cat "$src"/* "$0" | sha256sum | cut -d' ' -f1)
	n=$((n + 1))
	[ -f "$dst/stamp" ] && [ "$(cat "$dst/stamp")" = "$stamp" ] && continue
	rm -rf "$dst"
	mkdir -p "$dst"
	for f in "$src"/*; do
		b=$(basename "$f")
		case "$b" in
		*.xz) xz -dc "$f" >"$dst/${b%.xz}" || die "cannot unpack $f" ;;
		*) cp "$f" "$dst/$b" ;;
		esac
	done
	chmod +x "$dst/beava-sim"
	for f in beava-sim core truth.json metrics.prom variants.txt made-by.txt; do
		[ -s "$dst/$f" ] || die "snapshot $name has no $f"
	done
	echo "$stamp" >"$dst/stamp"
done
[ "$n" -ge 2 ] || die "expected at least two committed snapshots in fixtures/snapshots, found $n"
