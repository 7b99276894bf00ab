#!/bin/sh
# skillmeat edit: the frontmatter changed in place (everything else byte for
# byte), the manifest tags and metadata copy, the lock hash (not for a
# GitHub-sourced artifact), --tag replacing the set, --json as show --json,
# and bad input changing nothing.
. "$(dirname "$0")/lib.sh"

SRC="$TMP/src"
mkdir -p "$SRC/s1"
# CRLF, a comment, quoting and an unknown key that must survive untouched
printf -- '---\r\nname: s1\r\n# keep this comment\r\ndescription: old text\r\nmodel: "sonnet" # trailing\r\ntags:\r\n  - old\r\n---\r\n\r\n# S1\r\n\r\nBody with kubectl.\r\n' >"$SRC/s1/SKILL.md"
make_skill "$SRC/s2" s2 "description: [broken"
"$SM" add "$SRC/s1" >/dev/null || fail "add s1"
"$SM" add "$SRC/s2" >/dev/null || fail "add s2"
COLL="$SKILLMEAT_HOME/collections/default"
F="$COLL/skills/s1/SKILL.md"

"$SM" edit skill:s1 --description 'yes: it # works' --tag a --tag 'b c' --version 1.0 --tool read >"$TMP/o" ||
	fail "edit exit $?"
ok
# the file: chosen keys changed, the rest byte for byte, CRLF kept
printf -- '---\r\nname: s1\r\n# keep this comment\r\ndescription: "yes: it # works"\r\nmodel: "sonnet" # trailing\r\ntags:\r\n  - a\r\n  - b c\r\nversion: "1.0"\r\nallowed-tools: [Read]\r\n---\r\n\r\n# S1\r\n\r\nBody with kubectl.\r\n' >"$TMP/want"
cmp "$F" "$TMP/want" || { od -c "$F" | head -20 >&2; fail "SKILL.md is not as expected"; }
ok
# PyYAML (the original's reader) reads back what was set
python3 - "$F" <<'PY' || fail "PyYAML read-back"
import re, sys, yaml
t = open(sys.argv[1], newline="").read()
m = re.match(r"---\r?\n(.*?)\r?\n---", t, re.S)
d = yaml.safe_load(m.group(1))
assert d["description"] == "yes: it # works", d
assert d["version"] == "1.0" and d["tags"] == ["a", "b c"] and d["model"] == "sonnet", d
assert d["allowed-tools"] == ["Read"], d
PY
ok
"$SM" show skill:s1 --json >"$TMP/show.json" || fail "show"
json_check "$TMP/show.json" 'd["description"] == "yes: it # works" and d["tags"] == ["a", "b c"] and d["version"] == "1.0"'
json_check "$TMP/show.json" 'd["tools"] == ["Read"] and d["locally_modified"] is False'
json_check "$TMP/show.json" 'd["lock"]["content_hash"] == d["content_hash"]'
json_check "$TMP/show.json" 'd["metadata"]["description"] == "yes: it # works"'
grep -q '"b c",' "$COLL/collection.toml" || fail "manifest tags not written"
ok

# --tag given at all replaces the whole set; --json prints what show --json prints
"$SM" edit skill:s1 --tag only --json >"$TMP/e.json" || fail "edit --json"
"$SM" show skill:s1 --json >"$TMP/show.json" || fail "show"
cmp "$TMP/e.json" "$TMP/show.json" || fail "edit --json differs from show --json"
json_check "$TMP/e.json" 'd["tags"] == ["only"]'
# the search index follows the edit
"$SM" search only --json >"$TMP/s.json" || fail "search"
json_check "$TMP/s.json" '[a["id"] for a in d] == ["skill:s1"]'

# a GitHub-sourced artifact: the lock keeps the upstream hash, the edit shows as a local change
sed -i 's/^origin = "local"$/origin = "github"/' "$COLL/collection.toml"
LOCK_BEFORE=$(sha256sum "$COLL/collection.lock")
"$SM" edit skill:s1 --author 'Ann' >/dev/null || fail "edit a github artifact"
[ "$(sha256sum "$COLL/collection.lock")" = "$LOCK_BEFORE" ] || fail "the lock changed for a github artifact"
"$SM" show skill:s1 --json >"$TMP/show.json" || fail "show"
json_check "$TMP/show.json" 'd["author"] == "Ann" and d["locally_modified"] is True'

# bad input changes nothing
tree_sum "$SKILLMEAT_HOME" >"$TMP/before"
expect_exit 2 "$SM" edit skill:s1 --description "$(printf 'bad \377 utf8')"
expect_exit 2 "$SM" edit skill:s1 --tag ''
expect_exit 2 "$SM" edit skill:s1 --tool NoSuchTool
expect_exit 2 "$SM" edit skill:s1
expect_exit 2 "$SM" edit skill:s1 --description "$(python3 -c 'print("x" * 5000)')"
expect_exit 1 "$SM" edit skill:nope --description x
# malformed frontmatter: refused with a clear error, the file untouched
expect_exit 1 "$SM" edit skill:s2 --description x
grep -q "frontmatter" "$TMP/.err" || fail "no clear error for malformed frontmatter: $(cat "$TMP/.err")"
tree_sum "$SKILLMEAT_HOME" >"$TMP/after"
cmp "$TMP/before" "$TMP/after" || fail "a refused edit changed files"
ok
done_ok
