#!/bin/sh
# init, collection create/list/use/delete and config get/set/list on a real home.
. "$(dirname "$0")/lib.sh"

C="$SKILLMEAT_HOME/collections/default"
"$SM" init >"$TMP/out" || fail "init exit $?"
for d in skills commands agents workflows; do
	[ -d "$C/$d" ] || fail "init did not create $d/"
done
ok
python3 - "$C" <<'PY' || fail "fresh collection files differ from the original's"
import sys, tomllib
c = sys.argv[1]
m = tomllib.load(open(c + "/collection.toml", "rb"))
assert m["artifacts"] == [], m
col = m["collection"]
assert col["name"] == "default" and col["version"] == "1.0.0", col
assert col["created"] == col["updated"], col
text = open(c + "/collection.toml").read()
assert text.startswith("artifacts = []\n\n[collection]\n"), text
assert open(c + "/collection.lock").read() == '[lock]\nversion = "1.0.0"\n\n[lock.entries]\n'
PY
ok
grep -q 'default-collection = "default"' "$SKILLMEAT_HOME/config.toml" || fail "config.toml defaults"
ok

# an existing collection is left untouched, exit 0
before=$(tree_sum "$SKILLMEAT_HOME")
"$SM" init >"$TMP/out" 2>&1 || fail "second init exit $?"
grep -q "already exists" "$TMP/out" || fail "no notice on a second init: $(cat "$TMP/out")"
[ "$before" = "$(tree_sum "$SKILLMEAT_HOME")" ] || fail "second init changed files"
ok

"$SM" collection create work >/dev/null || fail "collection create"
"$SM" --json collection list >"$TMP/l.json" || fail "collection list"
json_check "$TMP/l.json" '[c["name"] for c in d] == ["default", "work"]'
json_check "$TMP/l.json" 'd[0]["active"] and not d[1]["active"] and d[1]["artifact_count"] == 0'
"$SM" collection use work >/dev/null || fail "collection use"
"$SM" config get settings.default-collection >"$TMP/out" || fail "config get"
[ "$(cat "$TMP/out")" = "work" ] || fail "use did not set the active collection"
ok
expect_exit 1 "$SM" collection delete work --force
grep -q "active" "$TMP/.err" || fail "deleting the active collection: $(cat "$TMP/.err")"
expect_exit 1 "$SM" collection use nope
"$SM" collection use default >/dev/null || fail "use default"
"$SM" collection delete work </dev/null >/dev/null || fail "delete work"
[ ! -e "$SKILLMEAT_HOME/collections/work" ] || fail "work was not deleted"
ok

# hostile collection names change nothing
before=$(tree_sum "$SKILLMEAT_HOME")
for bad in "../x" "a/b" ".hidden" "" "x::y"; do
	expect_exit 1 "$SM" collection create "$bad"
	expect_exit 1 "$SM" init "$bad"
done
[ "$before" = "$(tree_sum "$SKILLMEAT_HOME")" ] || fail "a rejected name changed files"
ok

# config
"$SM" config set api.base_url http://127.0.0.1:9999 >/dev/null || fail "config set"
[ "$("$SM" config get api.base_url)" = "http://127.0.0.1:9999" ] || fail "config get after set"
"$SM" config set settings.github-token ghp_1234567890abcdef >/dev/null || fail "set token"
"$SM" config get settings.github-token >"$TMP/out" || fail "config get settings.github-token"
[ "$(cat "$TMP/out")" = "ghp_****cdef" ] || fail "token not masked: $(cat "$TMP/out")"
"$SM" --json config list >"$TMP/c.json" || fail "config list"
json_check "$TMP/c.json" 'd["settings.default-collection"] == "default" and d["analytics.retention-days"] == 90'
json_check "$TMP/c.json" 'd["settings.github-token"] == "ghp_****cdef"'
python3 -c 'import tomllib,sys; tomllib.load(open(sys.argv[1],"rb"))' "$SKILLMEAT_HOME/config.toml" || fail "config.toml no longer parses"
expect_exit 1 "$SM" config set settings.default-collection.x y
expect_exit 1 "$SM" config get no.such.key
expect_exit 2 "$SM" config frob
expect_exit 2 "$SM" config set onlykey

# malformed config.toml: clear error naming file and line, file unchanged
printf '[settings]\ndefault-collection = \n' >"$SKILLMEAT_HOME/config.toml"
before=$(tree_sum "$SKILLMEAT_HOME")
expect_exit 1 "$SM" list
grep -q "config.toml.*line 2" "$TMP/.err" || fail "no file/line in: $(cat "$TMP/.err")"
[ "$(wc -l <"$TMP/.err")" = 1 ] || fail "error is not one line"
[ "$before" = "$(tree_sum "$SKILLMEAT_HOME")" ] || fail "malformed config was rewritten"
done_ok
