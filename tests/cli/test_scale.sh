#!/bin/sh
# Scale traps (issue 11, point 7): many manifest entries whose folders are
# gone, many user collections. The speed is measured in bench/scale; this
# checks what the fast paths must keep: a warning per missing artifact on
# every read, no rewrite of rows that did not change, a folder coming back
# is picked up, duplicates in a large user-collections.toml still found.
. "$(dirname "$0")/lib.sh"

"$SM" init >/dev/null || fail "init"
C="$SKILLMEAT_HOME/collections/default"
DB="$SKILLMEAT_HOME/cache/metadata.db"
make_skill "$TMP/src/real" real "description: a real one"
"$SM" add "$TMP/src/real" >/dev/null || fail "add"

# 2,000 entries whose folders do not exist
python3 - "$C/collection.toml" <<'PY' || fail "write manifest"
import sys
p = sys.argv[1]
t = open(p).read()
extra = "".join('[[artifacts]]\nname = "gone-%d"\ntype = "skill"\npath = "skills/gone-%d"\n'
                'origin = "local"\nadded = "2026-01-01T00:00:00"\n\n' % (i, i) for i in range(2000))
open(p, "w").write(extra + t)
PY

# sum and count of synced_at of the missing rows, read straight from the cache
synced() {
	python3 - "$DB" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
print(db.execute("SELECT count(*), sum(synced_at) FROM artifacts WHERE fingerprint = 'missing'").fetchone())
PY
}

"$SM" list --json >"$TMP/l.json" 2>"$TMP/err" || fail "first list"
json_check "$TMP/l.json" 'len(d) == 2001'
n=$(grep -c "^warning: default/skill:gone-[0-9]*: cannot read" "$TMP/err")
[ "$n" = 2000 ] || fail "first list: $n warnings, wanted 2000"
ok
before=$(synced) || fail "read the cache"
case $before in "(2000, "*) ok ;; *) fail "missing rows in the cache: $before" ;; esac

# a warm read warns again for each, and rewrites none of them
"$SM" list --json >"$TMP/l.json" 2>"$TMP/err" || fail "warm list"
json_check "$TMP/l.json" 'len(d) == 2001'
n=$(grep -c "^warning: default/skill:gone-[0-9]*: cannot read" "$TMP/err")
[ "$n" = 2000 ] || fail "warm list: $n warnings, wanted 2000"
ok
after=$(synced) || fail "read the cache"
[ "$before" = "$after" ] || fail "a warm list rewrote missing rows: $before -> $after"
ok

# the same after the manifest changed (the full path, not the manifest fast path)
printf '\n' >>"$C/collection.toml"
"$SM" list --json >"$TMP/l.json" 2>"$TMP/err" || fail "list after a manifest touch"
n=$(grep -c "^warning: default/skill:gone-[0-9]*: cannot read" "$TMP/err")
[ "$n" = 2000 ] || fail "full path: $n warnings, wanted 2000"
after=$(synced) || fail "read the cache"
[ "$before" = "$after" ] || fail "the full path rewrote unchanged missing rows: $before -> $after"
ok

# a folder that comes back is read at the next warm list (both paths)
make_skill "$C/skills/gone-7" gone-7 "description: back again"
"$SM" list --json >"$TMP/l.json" 2>"$TMP/err" || fail "list after a folder came back"
json_check "$TMP/l.json" '{x["name"]: x["description"] for x in d}["gone-7"] == "back again"'
n=$(grep -c "^warning: default/skill:gone-[0-9]*: cannot read" "$TMP/err")
[ "$n" = 1999 ] || fail "after gone-7 came back: $n warnings, wanted 1999"
ok
"$SM" list --json >"$TMP/l.json" 2>"$TMP/err" || fail "list again"
json_check "$TMP/l.json" '{x["name"]: x["description"] for x in d}["gone-7"] == "back again"'
rm -rf "$C/skills/gone-7"
"$SM" list --json >"$TMP/l.json" 2>"$TMP/err" || fail "list after it went again"
n=$(grep -c "^warning: default/skill:gone-[0-9]*: cannot read" "$TMP/err")
[ "$n" = 2000 ] || fail "after gone-7 went again: $n warnings, wanted 2000"
json_check "$TMP/l.json" '{x["name"]: x["content_hash"] for x in d}["gone-7"] is None'

# ---- 3,000 user collections ----
UC="$SKILLMEAT_HOME/user-collections.toml"
gen_uc() { # gen_uc N [DUP]: N entries; DUP=name or id repeats the first at the end
	python3 - "$UC" "$1" "${2:-}" <<'PY'
import sys
p, n, dup = sys.argv[1], int(sys.argv[2]), sys.argv[3]
out = []
for i in range(n):
    out.append('[[collections]]\nid = "%032x"\nname = "c%d"\nmembers = ["skill:real"]\n' % (i + 1, i))
if dup == "name":
    out.append('[[collections]]\nid = "%032x"\nname = "c0"\n' % (n + 1))
elif dup == "id":
    out.append('[[collections]]\nid = "%032x"\nname = "other"\n' % 1)
open(p, "w").write("\n".join(out))
PY
}
gen_uc 3000 || fail "write user collections"
"$SM" --json uc list >"$TMP/u.json" 2>"$TMP/err" || fail "uc list: $(cat "$TMP/err")"
json_check "$TMP/u.json" 'len(d["items"] if isinstance(d, dict) else d) >= 3000'
"$SM" --json uc show c2999 >"$TMP/s.json" || fail "uc show"
json_check "$TMP/s.json" 'd["members"] == ["skill:real"]'
# a duplicate after 3,000 entries is still found, with its line: that entry is
# left out with a warning, the 3,000 others listed
gen_uc 3000 name || fail "write user collections"
expect_exit 0 "$SM" --json uc list
grep -q "line 15001: collections\[3000\] ('c0') ignored: name 'c0' is used twice$" "$TMP/.err" ||
	fail "duplicate name: $(cat "$TMP/.err")"
json_check "$TMP/.out" 'len(d) == 3001'
gen_uc 3000 id || fail "write user collections"
expect_exit 0 "$SM" --json uc list
grep -q "collections\[3000\] ('other') ignored: id '00000000000000000000000000000001' is used twice$" "$TMP/.err" ||
	fail "duplicate id: $(cat "$TMP/.err")"
json_check "$TMP/.out" 'len(d) == 3001 and "other" not in [c["name"] for c in d]'
# renaming two collections into each other's names (a swap by hand) still syncs
gen_uc 3000 || fail "write user collections"
"$SM" uc list >/dev/null 2>&1 || fail "uc list"
python3 - "$UC" <<'PY' || fail "swap names"
import sys
p = sys.argv[1]
t = open(p).read().replace('name = "c1"\n', 'name = "TMP"\n').replace('name = "c2"\n', 'name = "c1"\n').replace('name = "TMP"\n', 'name = "c2"\n')
open(p, "w").write(t)
PY
"$SM" --json uc show c1 >"$TMP/s.json" 2>"$TMP/err" || fail "uc show after a swap: $(cat "$TMP/err")"
json_check "$TMP/s.json" 'd["id"] == "%032x" % 3'
done_ok
