#!/usr/bin/env bash
# chroot-lib.sh: the Debian chroots some fixtures are built and run in
# (35-glibc-matrix.sh: glibc 2.31 and 2.41; 65-toolchains.sh: Debian 13's
# rustc), made by debootstrap once and cached outside the clone in
# /var/cache/aggop-inspect/chroots/PREFIXSUITE-ARCH-KEY (KEY: a hash of the
# suite, the architecture and the package list, so a changed list is a new
# chroot).  Sourced for chroot_build; run as `chroot-lib.sh prefetch` by
# tests/setup.sh, in the background, to build every missing chroot while the
# other fixtures compile (debootstrap waits on the network and dpkg, the
# fixtures on the CPU).  A chroot is built under a lock of its own, so a
# script that needs it while the prefetch builds it waits for that build
# instead of starting another; a failed build is retried by the script that
# needs it, which fails loudly.
CHROOT_CACHE=${CHROOT_CACHE:-/var/cache/aggop-inspect/chroots}

# Every chroot the fixtures use: prefix, suite, packages.
CHROOT_ALL=(
	"|bullseye|gcc,libc6-dev"
	"|trixie|gcc,libc6-dev"
	"rust-|trixie|rustc,cargo,gcc,libc6-dev"
)

# The Debian archive apt uses on this machine: the first main component of
# a plain suite (not -security, -updates, -backports) apt-cache policy
# lists, else the first such URI in the sources files (deb822 or one-line).
chroot_mirror() {
	local m
	m=$(apt-cache policy 2>/dev/null | awk '$2 ~ /^[a-z+]+:\/\// && $3 !~ /-(security|updates|backports)\// &&
		$3 ~ /\/main$/ { print $2; exit }')
	if [ -z "$m" ] && compgen -G '/etc/apt/sources.list.d/*.sources' >/dev/null; then
		m=$(awk 'BEGIN { RS = ""; FS = "\n" }
			{ uri = ""; plain = 0; deb = 0
			  for (i = 1; i <= NF; i++) {
				split($i, w, /[ \t]+/)
				if (w[1] == "Types:" && $i ~ /[ \t]deb([ \t]|$)/) deb = 1
				if (w[1] == "URIs:") uri = w[2]
				if (w[1] == "Suites:") for (k = 2; k in w; k++) if (w[k] != "" && w[k] !~ /-(security|updates|backports)$/) plain = 1
			  }
			  if (deb && plain && uri != "") { print uri; exit } }' /etc/apt/sources.list.d/*.sources)
	fi
	if [ -z "$m" ]; then
		m=$(cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
			awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z+]+:\/\//) { u = $i; s = $(i + 1); break }
				if (s !~ /-(security|updates|backports)$/) { print u; exit } }')
	fi
	echo "$m"
}

# chroot_need_debootstrap: 0 when debootstrap is there or could be
# installed (scripts/deps.sh check lists it, and waits for the dpkg lock).
chroot_need_debootstrap() {
	export PATH="$PATH:/usr/sbin:/sbin"
	command -v debootstrap >/dev/null && return 0
	scripts/deps.sh check >&2 || return 1
	command -v debootstrap >/dev/null
}

# chroot_build PREFIX SUITE PKGS: prints the cached chroot's path, building
# it first when missing.  Messages go to stderr; 1 when it cannot be built.
chroot_build() {
	local prefix=$1 suite=$2 pkgs=$3 arch key root
	arch=$(dpkg --print-architecture)
	key=$(printf '%s %s %s minbase v1' "$suite" "$arch" "$pkgs" | sha256sum | cut -c1-12)
	root="$CHROOT_CACHE/$prefix$suite-$arch-$key"
	mkdir -p "$CHROOT_CACHE" || return 1
	(
		flock 9
		[ -f "$root/.aggop-complete" ] && exit 0
		chroot_need_debootstrap || { echo "chroot-lib: cannot install debootstrap" >&2; exit 1; }
		local url tmp log="$CHROOT_CACHE/$prefix$suite.log" t0=$SECONDS
		url=$(chroot_mirror)
		[ -n "$url" ] || { echo "chroot-lib: no Debian mirror in apt-cache policy or /etc/apt/sources.list*" >&2; exit 1; }
		tmp="$root.tmp.$$"
		rm -rf "$root".tmp.*   # what a build that was stopped left (the lock is ours)
		echo "chroot-lib: debootstrap $suite ($arch, minbase + $pkgs) from $url" >&2
		if ! debootstrap --variant=minbase --arch="$arch" --include="$pkgs" "$suite" "$tmp" "$url" > "$log" 2>&1; then
			tail -5 "$log" >&2
			rm -rf "$tmp"
			echo "chroot-lib: debootstrap $suite failed (log: $log)" >&2
			exit 1
		fi
		echo "chroot-lib: $prefix$suite chroot built in $((SECONDS - t0)) s" >&2
		touch "$tmp/.aggop-complete"
		rm -rf "$root"
		mv -T "$tmp" "$root"
	) 9> "$root.lock" || return 1
	echo "$root"
}

# chroot_prefetch: builds every chroot of CHROOT_ALL that is missing, one
# after the other (never fails: the script that needs a chroot reports).
chroot_prefetch() {
	local c prefix suite pkgs
	[ "$(id -u)" -eq 0 ] || return 0
	for c in "${CHROOT_ALL[@]}"; do
		IFS='|' read -r prefix suite pkgs <<<"$c"
		chroot_build "$prefix" "$suite" "$pkgs" >/dev/null || true
	done
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -uo pipefail
	cd "$(dirname "$0")/.."
	case "${1:-}" in
	prefetch) chroot_prefetch ;;
	*) echo "usage: tests/chroot-lib.sh prefetch" >&2; exit 1 ;;
	esac
fi
