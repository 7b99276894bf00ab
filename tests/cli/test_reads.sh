#!/bin/sh
# Reading what another collection holds (issue 11, point 6): an id
# collection/type:name names its collection whether or not it is the active
# one, for show and remove.
. "$(dirname "$0")/lib.sh"

"$SM" init >/dev/null || fail "init"
"$SM" collection create work >/dev/null || fail "collection create"
make_skill "$TMP/src/skills/x" x "description: in work"
make_skill "$TMP/src/skills/y" y "description: in default"
"$SM" add "$TMP/src/skills/x" -c work >/dev/null || fail "add to work"
"$SM" add "$TMP/src/skills/y" >/dev/null || fail "add to default"

"$SM" show work/skill:x --json >"$TMP/s.json" 2>"$TMP/err" || fail "show work/skill:x: $(cat "$TMP/err")"
json_check "$TMP/s.json" 'd["name"] == "x" and d["collection"] == "work" and d["description"] == "in work"'
"$SM" show default/skill:y --json >"$TMP/s.json" || fail "show default/skill:y"
json_check "$TMP/s.json" 'd["collection"] == "default"'
expect_exit 1 "$SM" show default/skill:x
expect_exit 1 "$SM" show nosuch/skill:x
expect_exit 1 "$SM" show "../work/skill:x"
# -c and the id's collection must agree
expect_exit 1 "$SM" show -c default work/skill:x
"$SM" show -c work work/skill:x >/dev/null || fail "show -c work work/skill:x"
ok

"$SM" remove work/skill:x </dev/null >/dev/null 2>"$TMP/err" || fail "remove work/skill:x: $(cat "$TMP/err")"
[ ! -e "$SKILLMEAT_HOME/collections/work/skills/x" ] || fail "work/skill:x still on disk"
! grep -q 'name = "x"' "$SKILLMEAT_HOME/collections/work/collection.toml" || fail "still in work's manifest"
expect_exit 1 "$SM" show work/skill:x
"$SM" show skill:y >/dev/null || fail "the active collection is untouched"
ok
done_ok
