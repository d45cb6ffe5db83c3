#!/usr/bin/env bash
# 48-wholeheap.sh: builds fixtures/wholeheap/wholeheap.rs (a table of ops
# beside statics that own heap: a registry behind OnceLock, an mmapped ring,
# a LazyLock, an Arc shared by two statics, a leaked buffer, a buffer only a
# thread's stack refers to; its counting allocator keeps a ledger per owner),
# runs it and snapshots it with gcore and with a kernel core:
#   $FIXDIR/wholeheap/{exe, gcore, kcore, truth.txt, stamp}
# and once more with "rev" (its table's holders built last to first, so the
# walk meets the two holders sharing an Arc in the other order), kernel core:
#   $FIXDIR/wholeheap/rev/{kcore, truth.txt}
set -euo pipefail
cd "$(dirname "$0")/../.."
: "${FIXDIR:?FIXDIR must be set (tests/setup.sh sets it)}"
dir="$FIXDIR/wholeheap"
die() { echo "48-wholeheap: $*" >&2; exit 1; }
for tool in rustc gcore; do
	command -v "$tool" >/dev/null || die "$tool not found"
done
# shellcheck source=../snapshot-lib.sh
. tests/snapshot-lib.sh
require_plain_core_pattern
stamp=$( (cat fixtures/wholeheap/wholeheap.rs fixtures/common/op_counting.rs "$0" tests/snapshot-lib.sh; rustc --version) |
	sha256sum | cut -c1-16)
[ -s "$dir/truth.txt" ] && [ -s "$dir/kcore" ] && [ "$(cat "$dir/stamp" 2>/dev/null)" = "$stamp" ] && exit 0
rm -rf "$dir" && mkdir -p "$dir"
rustc -C debuginfo=2 -C opt-level=1 -o "$dir/exe" fixtures/wholeheap/wholeheap.rs || die "cannot build wholeheap.rs"
snapshot_probe "$dir" "$dir/exe" gcore
mkdir -p "$dir/rev"
snapshot_probe "$dir/rev" "$dir/exe" kernel-only rev
echo "$stamp" > "$dir/stamp"
