#!/bin/sh
# --quiet means only errors (CLI.md): no warning line from the CLI nor from
# the library's log, whether --quiet comes before the verb or after it, for
# add --all over many malformed files and for the reads and syncs after it.
. "$(dirname "$0")/lib.sh"

n=0
while [ $n -lt 40 ]; do
	mkdir -p "$TMP/src/skills/bad$n" || fail "mkdir"
	printf -- '---\nname: bad%s\ndescription: [unclosed\n---\nbody\n' $n \
		>"$TMP/src/skills/bad$n/SKILL.md" || fail "write"
	n=$((n + 1))
done
make_skill "$TMP/src/skills/good" good "description: fine"
"$SM" init >/dev/null || fail "init"

# without --quiet the warnings are there (so the checks below can fail)
expect_exit 0 "$SM" add --all "$TMP/src"
[ "$(grep -c 'malformed frontmatter' "$TMP/.err")" -ge 40 ] ||
	fail "expected a warning per malformed file: $(head -n 3 "$TMP/.err")"
expect_exit 0 "$SM" remove --help
for a in $(n=0; while [ $n -lt 40 ]; do echo bad$n; n=$((n + 1)); done) good; do
	"$SM" --quiet remove "skill:$a" >/dev/null || fail "remove $a"
done

# --quiet before the verb and after it: nothing on stderr
expect_exit 0 "$SM" --quiet add --all "$TMP/src"
[ ! -s "$TMP/.err" ] || fail "--quiet add --all printed: $(head -n 3 "$TMP/.err")"
[ "$(wc -l <"$TMP/.out")" = 0 ] || fail "--quiet add --all printed on stdout"
expect_exit 0 "$SM" --quiet cache rebuild
[ ! -s "$TMP/.err" ] || fail "--quiet cache rebuild printed: $(head -n 3 "$TMP/.err")"
expect_exit 0 "$SM" add --quiet --force --all "$TMP/src"
[ ! -s "$TMP/.err" ] || fail "add --quiet printed: $(head -n 3 "$TMP/.err")"
expect_exit 0 "$SM" list --quiet
[ ! -s "$TMP/.err" ] || fail "list --quiet printed: $(head -n 3 "$TMP/.err")"
# a debug log level asked for in the environment does not beat --quiet
expect_exit 0 env SKILLMEAT_LOG_LEVEL=debug "$SM" --quiet show skill:bad3
[ ! -s "$TMP/.err" ] || fail "--quiet show printed: $(head -n 3 "$TMP/.err")"

# errors still show
expect_exit 1 "$SM" --quiet show skill:missing
grep -q "error:" "$TMP/.err" || fail "--quiet hid an error"

done_ok
