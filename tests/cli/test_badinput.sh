#!/bin/sh
# Bad input: a malformed manifest, malformed frontmatter, oversized names, and
# the TTY-only progress bar.
. "$(dirname "$0")/lib.sh"

C="$SKILLMEAT_HOME/collections/default"
"$SM" init >/dev/null || fail "init"
make_skill "$TMP/src/good" good "description: fine"
"$SM" add "$TMP/src/good" >/dev/null || fail "add good"

# malformed frontmatter: the artifact is added, a warning names file and line
mkdir -p "$TMP/src/broken"
printf -- '---\nname: broken\ndescription: [unclosed\nauthor: x\n---\nbody line\n' >"$TMP/src/broken/SKILL.md"
"$SM" add "$TMP/src/broken" >"$TMP/out" 2>"$TMP/err" || fail "malformed frontmatter stopped add: $(cat "$TMP/err")"
grep -q "^warning: .*broken/SKILL.md:[0-9]" "$TMP/err" || fail "warning without file:line: $(cat "$TMP/err")"
grep -q "Added skill: broken" "$TMP/out" || fail "not added: $(cat "$TMP/out")"
"$SM" show skill:broken --json >"$TMP/s.json" 2>/dev/null || fail "show broken"
json_check "$TMP/s.json" 'd["description"] == "[unclosed" and d["metadata"]["extra"]["frontmatter"]["extra"]["author"] == "x"'

# a frontmatter key with an empty value (the original fails on it)
mkdir -p "$TMP/src/agents"
printf -- '---\nname: empty\ndescription: has an empty key\ncolor:\nmodel: sonnet\n---\nx\n' >"$TMP/src/agents/empty.md"
"$SM" add "$TMP/src/agents/empty.md" >/dev/null 2>"$TMP/err" || fail "empty value: $(cat "$TMP/err")"
python3 - "$C/collection.toml" <<'PY' || fail "manifest after an empty frontmatter value"
import sys, tomllib
m = tomllib.load(open(sys.argv[1], "rb"))
e = [a for a in m["artifacts"] if a["name"] == "empty"][0]
assert e["metadata"]["extra"]["model"] == "sonnet" and "color" not in e["metadata"]["extra"], e
PY
ok

# names: too long, control characters
long=$(printf 'a%.0s' $(seq 1 200))
expect_exit 1 "$SM" add "$TMP/src/good" --name "$long"
expect_exit 1 "$SM" add "$TMP/src/good" --name "$(printf 'a\tb')"

# a malformed manifest: one-line error with file and line, nothing rewritten
cp "$C/collection.toml" "$TMP/manifest.bak"
printf '\n[[artifacts]]\nname = "x\n' >>"$C/collection.toml"
before=$(tree_sum "$SKILLMEAT_HOME")
for cmd in "list" "show good" "remove good" "add $TMP/src/agents/empty.md --force"; do
	# shellcheck disable=SC2086
	expect_exit 1 "$SM" $cmd
	grep -q "collection.toml.*line [0-9]" "$TMP/.err" || fail "$cmd: no file/line: $(cat "$TMP/.err")"
	[ "$(wc -l <"$TMP/.err")" = 1 ] || fail "$cmd: error is not one line: $(cat "$TMP/.err")"
done
[ "$before" = "$(tree_sum "$SKILLMEAT_HOME")" ] || fail "a malformed manifest was rewritten"
ok
# a manifest entry missing a required key: that entry is ignored with a
# warning, the others are listed (issue 11 point 6; tests/cli/test_entries.sh)
cp "$TMP/manifest.bak" "$C/collection.toml"
printf '\n[[artifacts]]\nname = "x"\ntype = "skill"\n' >>"$C/collection.toml"
expect_exit 0 "$SM" list
grep -q "('x') ignored: missing string 'path'" "$TMP/.err" || fail "missing key: $(cat "$TMP/.err")"
grep -q "good" "$TMP/.out" || fail "the other artifacts are not listed: $(cat "$TMP/.out")"
cp "$TMP/manifest.bak" "$C/collection.toml"

# progress bar: on stderr only when it is a terminal
mkdir -p "$TMP/many/agents"
for i in 1 2 3 4 5; do printf -- '---\ndescription: a%s\n---\n' "$i" >"$TMP/many/agents/a$i.md"; done
"$SM" add --all "$TMP/many" >"$TMP/out" 2>"$TMP/err" || fail "add --all"
if grep -q "Adding \[" "$TMP/err"; then fail "progress bar without a terminal"; fi
if command -v script >/dev/null 2>&1; then
	"$SM" remove agent:a1 </dev/null >/dev/null || fail "remove agent:a1"
	script -qec "'$SM' add --all '$TMP/many'" /dev/null >"$TMP/tty" 2>&1 || fail "add --all on a tty"
	grep -q "Adding \[" "$TMP/tty" || fail "no progress bar on a terminal: $(cat "$TMP/tty")"
	ok
fi
done_ok
