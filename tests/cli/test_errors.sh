#!/bin/sh
# Errors users can act on (issue 8 point 6): every failure prints one
# "error: <what>" line that is never empty, and a failure to write the output
# (a full disk, /dev/full) is an error with exit status 1, not a silent 0.
. "$(dirname "$0")/lib.sh"

src="$TMP/src"
make_skill "$src/skills/demo" demo "description: a demo"
"$SM" add skill "$src/skills/demo" >/dev/null || fail "add a local skill"

# fails CMD...: CMD must exit non-zero with error lines, none of them empty
fails() {
	"$@" </dev/null >"$TMP/.out" 2>"$TMP/.err" && fail "'$*' succeeded"
	grep -q '^error: ' "$TMP/.err" || fail "'$*': no error line: $(cat "$TMP/.err")"
	if grep -nE '^error:[[:space:]]*$' "$TMP/.err"; then
		fail "'$*' printed an empty error line"
	fi
	if grep -nE '^error: .*: *$' "$TMP/.err"; then
		fail "'$*' printed an error with an empty cause"
	fi
	ok
}

fails "$SM" show nope
fails "$SM" remove nope
fails "$SM" list --collection nope
fails "$SM" config get nope
fails "$SM" uc show nope
fails "$SM" add "$TMP/nothing"
fails "$SM" cache migrate --to 999
fails "$SM" collection use nope
fails "$SM" collection delete default
fails "$SM" add skill "$src/skills/demo" --name '../escape'
fails "$SM" --home "$src/skills/demo/SKILL.md" list
# a broken manifest and a broken config
cp "$SKILLMEAT_HOME/collections/default/collection.toml" "$TMP/manifest.bak"
printf 'artifacts = [' >"$SKILLMEAT_HOME/collections/default/collection.toml"
fails "$SM" list
fails "$SM" add skill "$src/skills/demo" --name other
cp "$TMP/manifest.bak" "$SKILLMEAT_HOME/collections/default/collection.toml"
cp "$SKILLMEAT_HOME/config.toml" "$TMP/config.bak"
printf 'garbage = [' >"$SKILLMEAT_HOME/config.toml"
fails "$SM" list
cp "$TMP/config.bak" "$SKILLMEAT_HOME/config.toml"
"$SM" list >/dev/null || fail "the home does not work again"

# output failures change the exit status and say so
for cmd in "list" "list --json" "show demo" "--version" "--help" "config list"; do
	# shellcheck disable=SC2086
	"$SM" $cmd >/dev/full 2>"$TMP/.err"
	st=$?
	[ $st -eq 1 ] || fail "'skillmeat $cmd >/dev/full' exited $st, wanted 1"
	grep -q '^error: cannot write the output: ' "$TMP/.err" ||
		fail "'skillmeat $cmd >/dev/full' did not say so: $(cat "$TMP/.err")"
	ok
done
# and a good run still exits 0
"$SM" list >"$TMP/list.out" || fail "list"
grep -q demo "$TMP/list.out" || fail "list lost the artifact"
ok

# option errors read like every other error (spec/CLI.md: 'error: <one line>', exit 2),
# not getopt's 'VERB: unrecognized option'
for v in init add list show search edit remove collection config uc cache deploy undeploy \
	status sync-check sync-pull sync-preview snapshot history rollback update serve team; do
	expect_exit 2 "$SM" $v --no-such-option
	[ "$(head -1 "$TMP/.err")" = "error: unknown option '--no-such-option'" ] ||
		fail "$v --no-such-option: $(cat "$TMP/.err")"
	grep -q "^usage: skillmeat " "$TMP/.err" || fail "$v: no usage line: $(cat "$TMP/.err")"
done
# the usage line names every option (serve's --store was missing)
expect_exit 2 "$SM" serve --no-such-option
grep -q "^usage: skillmeat serve .*\[--store URL\]" "$TMP/.err" || fail "serve usage: $(cat "$TMP/.err")"
expect_exit 2 "$SM" list --type
[ "$(head -1 "$TMP/.err")" = "error: option '--type' needs a value" ] || fail "list --type: $(cat "$TMP/.err")"
expect_exit 2 "$SM" show -c
[ "$(head -1 "$TMP/.err")" = "error: option '-c' needs a value" ] || fail "show -c: $(cat "$TMP/.err")"
expect_exit 2 "$SM" list -Z
[ "$(head -1 "$TMP/.err")" = "error: unknown option '-Z'" ] || fail "list -Z: $(cat "$TMP/.err")"
expect_exit 2 "$SM" list --json=yes
[ "$(head -1 "$TMP/.err")" = "error: option '--json' takes no value" ] || fail "list --json=yes: $(cat "$TMP/.err")"

# the library's warnings (a sync meeting a bad file) read like the CLI's: 'warning: …',
# without the server log's time stamp and level
mkdir -p "$TMP/agents"
printf -- '---\ndescription: [unclosed\n---\nbody\n' >"$TMP/agents/badfm.md"
"$SM" add agent "$TMP/agents/badfm.md" >/dev/null 2>"$TMP/.err" || fail "add an agent with bad frontmatter: $(cat "$TMP/.err")"
# the add warns once, naming the file it was given (the index's read of the copy warned again)
[ "$(grep -c 'malformed frontmatter' "$TMP/.err")" = 1 ] || fail "add warned other than once: $(cat "$TMP/.err")"
grep -q "^warning: $TMP/agents/badfm.md:3: malformed frontmatter" "$TMP/.err" || fail "add warning: $(cat "$TMP/.err")"
mkdir -p "$TMP/all/agents"
cp "$TMP/agents/badfm.md" "$TMP/all/agents/badall.md"
"$SM" add --all "$TMP/all" >/dev/null 2>"$TMP/.err" || fail "add --all: $(cat "$TMP/.err")"
[ "$(grep -c 'malformed frontmatter' "$TMP/.err")" = 1 ] || fail "add --all warned other than once: $(cat "$TMP/.err")"
ok
rm -rf "$SKILLMEAT_HOME/cache"
"$SM" list >/dev/null 2>"$TMP/.err" || fail "list: $(cat "$TMP/.err")"
grep -q "^warning: .*badfm.md:.*malformed frontmatter" "$TMP/.err" || fail "no warning: $(cat "$TMP/.err")"
if grep -v "^warning: " "$TMP/.err"; then
	fail "a line that is not 'warning: …'"
fi
ok
SKILLMEAT_LOG_FORMAT=json "$SM" list >/dev/null 2>"$TMP/.err" || fail "list with JSON logs"
rm -rf "$SKILLMEAT_HOME/cache"
SKILLMEAT_LOG_FORMAT=json "$SM" list >/dev/null 2>"$TMP/.err" || fail "list with JSON logs"
grep -q '^{"ts":.*"level":"warn".*malformed frontmatter' "$TMP/.err" ||
	fail "SKILLMEAT_LOG_FORMAT=json is no longer honoured: $(cat "$TMP/.err")"
ok
done_ok
