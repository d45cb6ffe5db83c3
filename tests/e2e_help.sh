#!/usr/bin/env bash
# e2e_help.sh: every command's --help is its own, and the man page is complete.
#   - `aggop-inspect SUB --help` prints SUB's synopsis and options (not the global text), exit 0;
#   - every option a --help lists is accepted by that command (not "unknown option");
#   - every option a --help lists is in the man page (as \-\-NAME), and every exit status
#     the --help texts name (0-5) has an entry under EXIT STATUS.
# Prints "ok ..." / "not ok ..." lines.
set -uo pipefail
cd "$(dirname "$0")/.."
: "${BIN:?}"
fails=0
ok() { echo "ok $*"; }
nok() { echo "not ok $*"; fails=$((fails + 1)); }
man=man/aggop-inspect.1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BIN" --help > "$tmp/main" 2>&1 || nok "help: aggop-inspect --help exits non-zero"
for sub in "" layout heap diff export; do
	name=${sub:-profile}
	"$BIN" $sub --help > "$tmp/$name" 2> "$tmp/$name.err"
	rc=$?
	if [ -n "$sub" ]; then
		head -1 "$tmp/$name" | grep -q "^usage: aggop-inspect $sub " && ! cmp -s "$tmp/$name" "$tmp/main" && [ $rc -eq 0 ] \
			&& ok "help: $sub --help is $sub's own" || nok "help: $sub --help: exit $rc, first line [$(head -1 "$tmp/$name")]"
	fi
	# options of the help lines that start with an option (the option table), not prose
	opts=$(grep -E '^ +(-[a-z], )?--[a-z]' "$tmp/$name" | grep -oE -- '--[a-z][a-z-]*' | sort -u)
	[ -n "$opts" ] || { nok "help: $name --help lists no option"; continue; }
	missing="" unknown=""
	for o in $opts; do
		grep -qF -- "$(sed 's/-/\\-/g' <<<"$o")" "$man" || missing="$missing $o"
		(cd "$tmp" && "$BIN" $sub "$o" x y z < /dev/null > /dev/null 2> "$tmp/o.err")
		grep -q "unknown option" "$tmp/o.err" && unknown="$unknown $o"
	done
	[ -z "$missing" ] && ok "help: the man page has every option of $name --help ($(wc -w <<<"$opts"))" \
		|| nok "help: the man page lacks$missing ($name)"
	[ -z "$unknown" ] && ok "help: $name accepts every option its --help lists" || nok "help: $name rejects$unknown"
done
exits=$(sed -n '/^\.SH EXIT STATUS/,/^\.SH /p' "$man" | grep -A1 '^\.TP' | grep -oE '^\.B [0-9]+' | awk '{print $2}' | sort -u | tr '\n' ' ')
named=$(cat "$tmp"/main "$tmp"/layout "$tmp"/heap "$tmp"/diff "$tmp"/export | grep -oE '(^exit status:|^ +)[ 0-9a-z,]*' | grep -oE '\b[0-5]\b' | sort -u | tr '\n' ' ')
[ "$exits" = "0 1 2 3 4 5 " ] && ok "help: the man page's EXIT STATUS has 0 to 5" || nok "help: man EXIT STATUS has [$exits]"
[ "$named" = "0 1 2 3 4 5 " ] && ok "help: the --help texts name exit statuses 0 to 5" || nok "help: --help names [$named]"
grep -q 'diff BASELINE.json CORE EXE' "$man" && grep -qi 'saved profile.*records\|records.*--root' "$tmp/diff" \
	&& ok "help: diff's reuse of the baseline's target is documented (man, diff --help)" || nok "help: reuse undocumented"
exit $((fails > 0))
