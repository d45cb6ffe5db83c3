#!/usr/bin/env bash
# Installs the Debian packages the build, the tests and the fixtures need, when missing.
set -euo pipefail
need=(libdwarf-dev libelf-dev libjansson-dev libcmocka-dev zlib1g-dev pkg-config gdb
      librust-smallvec-dev librust-hashbrown-dev librust-parking-lot-dev librust-rustc-hash-dev
      librust-ahash-0.7-dev librust-libc-dev xz-utils)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
