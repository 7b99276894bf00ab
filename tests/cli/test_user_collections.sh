#!/bin/sh
# user-collection (uc): create/list/show/rename/add/remove/delete on a real home,
# the default collection's protections, a malformed user-collections.toml, hostile
# names, and the invariant: deleting cache/metadata.db changes no visible state.
. "$(dirname "$0")/lib.sh"

UC="$SKILLMEAT_HOME/user-collections.toml"
DB="$SKILLMEAT_HOME/cache/metadata.db"
SRC="$TMP/src"

"$SM" init >/dev/null || fail "init"
"$SM" collection create work >/dev/null || fail "collection create work"
for n in alpha beta gamma; do
	make_skill "$SRC/$n" "$n" "description: the $n skill"
	"$SM" add skill "$SRC/$n" >/dev/null || fail "add $n"
done
mkdir -p "$SRC/agents"
printf -- '---\nname: reviewer\n---\nReview.\n' >"$SRC/agents/reviewer.md"
"$SM" add agent "$SRC/agents/reviewer.md" >/dev/null || fail "add agent"
# the same type:name in two file collections
"$SM" add skill "$SRC/alpha" --collection work >/dev/null || fail "add alpha to work"

# ---- nothing yet: only the implicit default collection ----
"$SM" --json uc list >"$TMP/l.json" || fail "uc list"
json_check "$TMP/l.json" 'len(d) == 1 and d[0]["id"] == "default" and d[0]["name"] == "Default Collection"'
json_check "$TMP/l.json" 'd[0]["collection_type"] == "default" and d[0]["artifact_count"] == 5'
[ ! -e "$UC" ] || fail "a read wrote user-collections.toml"
ok

# ---- create ----
"$SM" --json user-collection create "Front end" --description "UI work" --type artifacts \
	--category web >"$TMP/c.json" || fail "create"
json_check "$TMP/c.json" 'len(d["id"]) == 32 and all(c in "0123456789abcdef" for c in d["id"])'
json_check "$TMP/c.json" 'd["name"] == "Front end" and d["description"] == "UI work" and d["collection_type"] == "artifacts"'
json_check "$TMP/c.json" 'd["context_category"] == "web" and d["artifact_count"] == 0 and d["created_at"] == d["updated_at"]'
json_check "$TMP/c.json" 'sorted(d) == sorted(["id", "name", "description", "collection_type", "context_category", "created_at", "updated_at", "artifact_count"])'
ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/c.json")
python3 - "$UC" "$ID" <<'PY' || fail "user-collections.toml content"
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
(c,) = d["collections"]
assert c["id"] == sys.argv[2] and c["name"] == "Front end", c
assert c["description"] == "UI work" and c["context_category"] == "web", c
assert "default" not in [x["id"] for x in d["collections"]]
assert open(sys.argv[1]).read().startswith("[[collections]]\n")
PY
ok
"$SM" uc create Backend >"$TMP/out" || fail "create Backend"
grep -q "Created user collection 'Backend'" "$TMP/out" || fail "create message: $(cat "$TMP/out")"
ok
expect_exit 1 "$SM" uc create Backend
grep -q "already exists" "$TMP/.err" || fail "duplicate name: $(cat "$TMP/.err")"
"$SM" uc create backend >/dev/null || fail "names are case-sensitive"
ok

# ---- add / show ----
"$SM" --json uc add "Front end" skill:beta reviewer work/skill:alpha >"$TMP/a.json" || fail "add: $(cat "$TMP/a.json")"
json_check "$TMP/a.json" 'd == {"collection_id": "'"$ID"'", "added_count": 3, "already_present_count": 0, "total_artifacts": 3}'
# again, under other spellings: already present, file untouched
before=$(tree_sum "$SKILLMEAT_HOME" | grep -v cache/)
"$SM" --json uc add "$ID" beta agent:reviewer.md >"$TMP/a2.json" || fail "add again"
json_check "$TMP/a2.json" 'd["added_count"] == 0 and d["already_present_count"] == 2 and d["total_artifacts"] == 3'
[ "$before" = "$(tree_sum "$SKILLMEAT_HOME" | grep -v cache/)" ] || fail "a no-op add rewrote files"
ok
# ambiguous and unknown ids: exit 1, named, nothing written
before=$(tree_sum "$SKILLMEAT_HOME" | grep -v cache/)
expect_exit 1 "$SM" uc add "Front end" skill:gamma skill:alpha
grep -q "ambiguous" "$TMP/.err" && grep -q "default/skill:alpha" "$TMP/.err" || fail "ambiguity: $(cat "$TMP/.err")"
expect_exit 1 "$SM" uc add "Front end" skill:gamma skill:nope command:zzz
grep -q "skill:nope" "$TMP/.err" && grep -q "command:zzz" "$TMP/.err" || fail "unknown ids not named: $(cat "$TMP/.err")"
[ "$(wc -l <"$TMP/.err")" -eq 1 ] || fail "error is not one line: $(cat "$TMP/.err")"
expect_exit 1 "$SM" uc add "Front end" "gadget:x"
expect_exit 1 "$SM" uc add nope skill:gamma
grep -q "user collection 'nope' not found" "$TMP/.err" || fail "unknown collection: $(cat "$TMP/.err")"
[ "$before" = "$(tree_sum "$SKILLMEAT_HOME" | grep -v cache/)" ] || fail "a failed add wrote files"
ok
python3 - "$UC" <<'PY' || fail "members in the file"
import sys, tomllib
(c, *_) = tomllib.load(open(sys.argv[1], "rb"))["collections"]
assert c["members"] == ["skill:beta", "agent:reviewer", "work/skill:alpha"], c["members"]
PY
ok
"$SM" --json uc show "Front end" >"$TMP/s.json" || fail "show"
json_check "$TMP/s.json" 'd["members"] == ["agent:reviewer", "work/skill:alpha", "skill:beta"] and d["missing"] == []'
json_check "$TMP/s.json" 'd["artifact_count"] == 3 and d["id"] == "'"$ID"'"'
"$SM" uc show "$ID" >"$TMP/s.txt" || fail "show by id"
grep -q "^Name: *Front end" "$TMP/s.txt" && grep -q "^  work/skill:alpha" "$TMP/s.txt" || fail "show text: $(cat "$TMP/s.txt")"
"$SM" --json uc show default >"$TMP/sd.json" || fail "show default"
json_check "$TMP/sd.json" 'len(d["members"]) == 5 and "work/skill:alpha" in d["members"] and "default/skill:alpha" in d["members"]'
expect_exit 1 "$SM" uc show nope
ok
"$SM" --json uc list >"$TMP/l.json" || fail "list"
json_check "$TMP/l.json" '[c["name"] for c in d] == ["Backend", "Default Collection", "Front end", "backend"]'
json_check "$TMP/l.json" '[c["artifact_count"] for c in d] == [0, 5, 3, 0]'
"$SM" uc list >"$TMP/l.txt" || fail "list text"
grep -q "^Front end .* $ID .*artifacts .* 3$" "$TMP/l.txt" || fail "list text: $(cat "$TMP/l.txt")"
ok

# ---- rename / remove ----
"$SM" --json uc rename "Front end" Frontend >"$TMP/r.json" || fail "rename"
json_check "$TMP/r.json" 'd["name"] == "Frontend" and d["updated_at"] > d["created_at"]'
expect_exit 1 "$SM" uc rename Frontend Backend
expect_exit 1 "$SM" uc rename Frontend ""
"$SM" --json uc remove Frontend beta work/skill:alpha >"$TMP/rm.json" || fail "remove"
json_check "$TMP/rm.json" 'd == {"collection_id": "'"$ID"'", "removed_count": 2, "total_artifacts": 1}'
before=$(tree_sum "$SKILLMEAT_HOME" | grep -v cache/)
expect_exit 1 "$SM" uc remove Frontend skill:beta
grep -q "not a member" "$TMP/.err" || fail "remove non-member: $(cat "$TMP/.err")"
[ "$before" = "$(tree_sum "$SKILLMEAT_HOME" | grep -v cache/)" ] || fail "a failed remove wrote files"
"$SM" uc add Frontend skill:gamma >/dev/null || fail "add gamma"
ok

# ---- the default collection is protected ----
before=$(tree_sum "$SKILLMEAT_HOME" | grep -v cache/)
for args in "delete default --force" "rename default X" "add default skill:beta" \
	"remove default skill:beta"; do
	# shellcheck disable=SC2086
	expect_exit 1 "$SM" uc $args
	grep -q "default collection" "$TMP/.err" || fail "uc $args: $(cat "$TMP/.err")"
done
expect_exit 1 "$SM" uc delete "Default Collection" --force
expect_exit 1 "$SM" uc rename "Default Collection" X
expect_exit 1 "$SM" uc create "Default Collection"
expect_exit 1 "$SM" uc create Other --type default
expect_exit 1 "$SM" uc rename Frontend "Default Collection"
[ "$before" = "$(tree_sum "$SKILLMEAT_HOME" | grep -v cache/)" ] || fail "a refused change wrote files"
ok

# ---- usage ----
expect_exit 2 "$SM" uc
expect_exit 2 "$SM" uc frobnicate
expect_exit 2 "$SM" uc create
expect_exit 2 "$SM" uc create a b
expect_exit 2 "$SM" uc rename Frontend
expect_exit 2 "$SM" uc add Frontend
expect_exit 2 "$SM" uc list --force
expect_exit 2 "$SM" uc show Frontend --description x
expect_exit 2 "$SM" uc list --bogus
for sub in create list show rename delete add remove; do
	"$SM" uc "$sub" --help >"$TMP/h" || fail "$sub --help exit"
	grep -q "usage: skillmeat user-collection $sub" "$TMP/h" || fail "$sub --help: $(cat "$TMP/h")"
done
"$SM" user-collection --help | grep -q "alias: uc" || fail "uc --help"
ok

# ---- hostile names ----
for name in "../../etc/passwd" 'a"b\c' "\$(touch $TMP/pwned)" "; rm -rf /" "ünï ✓ 日本" \
	"[[collections]]" 'x = "y"' "-dash"; do
	"$SM" --json uc create -- "$name" >"$TMP/h.json" || fail "create '$name'"
	printf '%s' "$name" >"$TMP/name"
	json_check "$TMP/h.json" 'd["name"] == open("'"$TMP/name"'", encoding="utf-8").read()'
	"$SM" --json uc show -- "$name" >"$TMP/h2.json" || fail "show '$name'"
done
[ ! -e "$TMP/pwned" ] || fail "a name was run by a shell"
python3 - "$UC" <<'PY' || fail "hostile names do not round-trip"
import sys, tomllib
names = [c["name"] for c in tomllib.load(open(sys.argv[1], "rb"))["collections"]]
for n in ["../../etc/passwd", 'a"b\\c', "; rm -rf /", "ünï ✓ 日本", "[[collections]]", 'x = "y"', "-dash"]:
    assert n in names, (n, names)
PY
ok
before=$(tree_sum "$SKILLMEAT_HOME" | grep -v cache/)
long=$(python3 -c 'print("x" * 256)')
for bad in "" "   " "$(printf 'a\tb')" "$(printf 'a\033[31mb')" "$(printf 'a\nb')" "$long" \
	"$(printf 'bad\377utf8')"; do
	expect_exit 1 "$SM" uc create -- "$bad"
	[ "$(wc -l <"$TMP/.err")" -le 1 ] || fail "error is not one line for a bad name"
done
"$SM" uc create "$(python3 -c 'print("y" * 255)')" >/dev/null || fail "255-byte name refused"
expect_exit 1 "$SM" uc create ok --description "$(printf 'a\001b')"
ok

# ---- invariant: delete metadata.db, same visible state ----
snapshot() {
	"$SM" --json uc list >"$1.list" || fail "list for snapshot"
	python3 - "$1.list" <<'PY' | while IFS= read -r id; do "$SM" --json uc show -- "$id"; done >"$1.show" || fail "show for snapshot"
import json, sys
for c in json.load(open(sys.argv[1])):
    print(c["id"])
PY
}
snapshot "$TMP/snap1"
rm -f "$DB" "$DB-wal" "$DB-shm"
snapshot "$TMP/snap2"
cmp -s "$TMP/snap1.list" "$TMP/snap2.list" || fail "deleting metadata.db changed 'uc list': $(diff "$TMP/snap1.list" "$TMP/snap2.list" | head -5)"
cmp -s "$TMP/snap1.show" "$TMP/snap2.show" || fail "deleting metadata.db changed 'uc show': $(diff "$TMP/snap1.show" "$TMP/snap2.show" | head -5)"
json_check "$TMP/snap2.list" 'any(c["name"] == "Frontend" and c["artifact_count"] == 2 for c in d)'
ok
# and a cache dump is identical too (memberships included)
if "$SM" cache dump >"$TMP/dump1" 2>/dev/null; then
	rm -f "$DB" "$DB-wal" "$DB-shm"
	"$SM" cache dump >"$TMP/dump2" || fail "dump after deleting the DB"
	grep -q "$ID" "$TMP/dump1" || fail "the dump has no user collection rows"
	cmp -s "$TMP/dump1" "$TMP/dump2" || fail "the cache differs after deleting it: $(diff "$TMP/dump1" "$TMP/dump2" | head -5)"
	"$SM" cache rebuild >/dev/null || fail "cache rebuild"
	"$SM" cache dump >"$TMP/dump3" || fail "dump after rebuild"
	cmp -s "$TMP/dump1" "$TMP/dump3" || fail "the cache differs after a rebuild: $(diff "$TMP/dump1" "$TMP/dump3" | head -5)"
	snapshot "$TMP/snap6"
	cmp -s "$TMP/snap1.show" "$TMP/snap6.show" || fail "cache rebuild changed 'uc show'"
	ok
fi

# ---- hand edits of the file show up; a dangling member is kept, not counted ----
python3 - "$UC" <<'PY' || fail "hand edit"
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('"skill:gamma",', '"skill:gamma",\n    "skill:ghost",\n    "work/skill:beta",\n    "skill:alpha",', 1)
s = "# hand edited\nversion = 7\n" + s
open(p, "w").write(s)
PY
"$SM" --json uc show Frontend >"$TMP/s.json" 2>"$TMP/s.err" || fail "show after hand edit: $(cat "$TMP/s.err")"
# an unqualified member that is ambiguous resolves to the active collection's artifact
json_check "$TMP/s.json" 'd["members"] == ["agent:reviewer", "default/skill:alpha", "skill:gamma"] and d["missing"] == ["skill:ghost", "work/skill:beta"]'
json_check "$TMP/s.json" 'd["artifact_count"] == 3'
# the bulk resolver (used for many members) gives the same index as the per-member one
snapshot "$TMP/snap3"
rm -f "$DB" "$DB-wal" "$DB-shm"
SKILLMEAT_UC_INDEX_MIN=1 snapshot "$TMP/snap4"
cmp -s "$TMP/snap3.show" "$TMP/snap4.show" && cmp -s "$TMP/snap3.list" "$TMP/snap4.list" ||
	fail "bulk and per-member resolution differ: $(diff "$TMP/snap3.show" "$TMP/snap4.show" | head -5)"
SKILLMEAT_UC_INDEX_MIN=1 "$SM" uc list >/dev/null || fail "bulk re-sync"
snapshot "$TMP/snap5"
cmp -s "$TMP/snap3.show" "$TMP/snap5.show" || fail "switching resolvers changed the index"
"$SM" uc remove Frontend default/skill:alpha >/dev/null || fail "remove the ambiguous member"
"$SM" uc remove Frontend skill:ghost >/dev/null || fail "remove a dangling member"
grep -q "^version = 7" "$UC" || fail "an unknown key did not survive a rewrite"
grep -q "skill:ghost" "$UC" && fail "dangling member not removed"
ok
# removing an artifact removes its memberships too, in the file and the index
# (as the API's DELETE /artifacts/{id} does)
"$SM" remove skill:gamma --force >/dev/null || fail "remove gamma"
"$SM" --json uc show Frontend >"$TMP/s.json" || fail "show after artifact removal"
json_check "$TMP/s.json" 'd["members"] == ["agent:reviewer"] and "skill:gamma" not in d["missing"]'
grep -q "skill:gamma" "$UC" && fail "the removed artifact is still a member in the file"
ok

# a hand swap of two names is indexed (names are unique in the cache too)
"$SM" --json uc list >"$TMP/before.json" || fail "list before swap"
python3 - "$UC" <<'PY' || fail "swap"
import sys
p = sys.argv[1]
s = open(p).read()
s = s.replace('name = "Backend"', 'name = "@tmp"').replace('name = "backend"', 'name = "Backend"').replace('name = "@tmp"', 'name = "backend"')
open(p, "w").write(s)
PY
"$SM" --json uc list >"$TMP/after.json" || fail "list after swap"
python3 - "$TMP/before.json" "$TMP/after.json" <<'PY' || fail "the swap was not indexed"
import json, sys
b = {c["name"]: c["id"] for c in json.load(open(sys.argv[1]))}
a = {c["name"]: c["id"] for c in json.load(open(sys.argv[2]))}
assert a["Backend"] == b["backend"] and a["backend"] == b["Backend"], (a, b)
PY
ok

# ---- a malformed user-collections.toml: one-line error with file and line, untouched ----
cp "$UC" "$TMP/uc.good"
printf '[[collections]]\nid = "0123456789abcdef0123456789abcdef"\nname = "A\n' >"$UC"
before=$(tree_sum "$SKILLMEAT_HOME" | grep -v cache/)
for args in "list" "show A" "create B" "rename A C" "delete A --force" "add A skill:beta" \
	"remove A skill:beta"; do
	# shellcheck disable=SC2086
	expect_exit 1 "$SM" uc $args
	[ "$(wc -l <"$TMP/.err")" -eq 1 ] || fail "uc $args: not one line: $(cat "$TMP/.err")"
	grep -q "^error: cannot parse '.*user-collections.toml': line 3" "$TMP/.err" ||
		fail "uc $args: $(cat "$TMP/.err")"
done
# other reads go on, with a warning
"$SM" list >/dev/null 2>"$TMP/w" || fail "list with a malformed user-collections.toml"
grep -q "warning: .*user-collections.toml" "$TMP/w" || fail "no warning: $(cat "$TMP/w")"
cp "$TMP/uc.good" "$UC"
ok

# ---- an entry we cannot understand degrades that entry only (issue 11 point 6) ----
# (the file may be a hand edit or another writer's): every reader shows the other
# entries with one warning per problem; a write keeps what it does not understand
# where it was, or is refused with one line and nothing changed
cat >"$UC" <<'EOF'
# written by someone else
owner = "them"

[[collections]]
id = "a0000000000000000000000000000001"
name = "Good"
members = ["skill:beta", 5, "gadget:x", "agent:reviewer"]

[collections.description]
nested = "a table where a string goes"

[[collections]]
id = "a0000000000000000000000000000002"
name = "Good"

[[collections]]
id = "NOT-HEX"
name = "Held"
extra = [1, 2]

[[collections]]
id = "a0000000000000000000000000000003"
name = 42

[[collections]]
id = "a0000000000000000000000000000004"
name = "Second"
members = "skill:beta"

[[collections]]
id = "a0000000000000000000000000000005"
name = "Typed"
collection_type = ["x"]
created_at = "yesterday"
members = ["agent:reviewer"]
EOF
cp "$UC" "$TMP/uc.hostile"
WARNS="line 4: collections[0] ('Good'): members[1] ignored: not a string
collections[0] ('Good'): members[2] ignored: artifact id 'gadget:x': unknown type 'gadget'
collections[0] ('Good'): 'description' ignored: not a string
line 12: collections[1] ('Good') ignored: name 'Good' is used twice
collections[2] ('Held') ignored: id 'NOT-HEX' is not 32 lowercase hex digits
collections[3] (id 'a0000000000000000000000000000003') ignored: 'name' is missing or not a string
collections[4] ('Second'): 'members' ignored: not an array
collections[5] ('Typed'): 'collection_type' ignored: not a string
collections[5] ('Typed'): 'created_at' ignored: not an ISO date-time string"
# each problem said once on stderr, naming the file
warned_once() { # FILE WHAT
	echo "$WARNS" | while IFS= read -r w; do
		n=$(grep -cF "$w" "$1")
		[ "$n" = 1 ] || fail "$2: '$w' warned $n times: $(cat "$1")"
	done
	n=$(grep -c "user-collections.toml" "$1")
	[ "$n" = 9 ] || fail "$2: $n warnings, wanted 9: $(cat "$1")"
}
"$SM" --json uc list >"$TMP/l.json" 2>"$TMP/w" || fail "uc list of a hostile file: $(cat "$TMP/w")"
json_check "$TMP/l.json" 'sorted(c["name"] for c in d) == ["Default Collection", "Good", "Second", "Typed"]'
json_check "$TMP/l.json" '[c["artifact_count"] for c in d if c["name"] == "Good"] == [2]'
json_check "$TMP/l.json" '[c["collection_type"] for c in d if c["name"] == "Typed"] == [None]'
warned_once "$TMP/w" "uc list"
"$SM" --json uc show Good >"$TMP/s.json" 2>"$TMP/w" || fail "uc show Good: $(cat "$TMP/w")"
json_check "$TMP/s.json" 'sorted(d["members"]) == ["agent:reviewer", "skill:beta"] and d["missing"] == [] and d["description"] is None'
warned_once "$TMP/w" "uc show"
expect_exit 1 "$SM" uc show Held
"$SM" list >/dev/null 2>"$TMP/w" || fail "list with a hostile user-collections.toml"
warned_once "$TMP/w" "list"
"$SM" --quiet uc list >/dev/null 2>"$TMP/w" || fail "uc list --quiet"
[ ! -s "$TMP/w" ] || fail "--quiet printed: $(cat "$TMP/w")"
cmp -s "$UC" "$TMP/uc.hostile" || fail "a read changed the hostile file"
ok
# refused writes: one line naming the entry, nothing changed on disk
expect_exit 1 "$SM" uc create Held
[ "$(grep -c '^error:' "$TMP/.err")" -eq 1 ] && grep -q "^error: collection with name 'Held' already exists: collections\[2\] of '.*user-collections.toml', ignored" "$TMP/.err" ||
	fail "create over a name held by an entry ignored: $(cat "$TMP/.err")"
expect_exit 1 "$SM" uc rename Typed Held
expect_exit 1 "$SM" uc add Second skill:beta
[ "$(grep -c '^error:' "$TMP/.err")" -eq 1 ] && grep -q "^error: cannot add to 'Second': its 'members' in '.*user-collections.toml' is not an array" "$TMP/.err" ||
	fail "add to members that are not an array: $(cat "$TMP/.err")"
cmp -s "$UC" "$TMP/uc.hostile" || fail "a refused write changed the file"
ok
# writes that can keep what they do not understand: kept, in place
"$SM" uc add Good default/skill:alpha >/dev/null 2>"$TMP/w" || fail "uc add to Good: $(cat "$TMP/w")"
warned_once "$TMP/w" "uc add"
"$SM" uc remove Good agent:reviewer >/dev/null 2>&1 || fail "uc remove from Good"
"$SM" uc rename Typed Typed2 >/dev/null 2>&1 || fail "uc rename Typed"
"$SM" uc create Fresh >/dev/null 2>&1 || fail "uc create Fresh"
"$SM" remove skill:beta --force >/dev/null 2>&1 || fail "remove beta (a member of Good)"
python3 - "$UC" "$TMP/uc.hostile" <<'PY' || fail "what was not understood did not survive the writes"
import sys, tomllib
new = tomllib.load(open(sys.argv[1], "rb"))
old = tomllib.load(open(sys.argv[2], "rb"))
assert new["owner"] == "them", new
n, o = new["collections"], old["collections"]
assert [c.get("name") for c in n] == ["Good", "Good", "Held", 42, "Second", "Typed2", "Fresh"], n
assert n[1:5] == o[1:5], (n[1:5], o[1:5])
assert n[0]["description"] == o[0]["description"], n[0]
assert n[0]["members"] == [5, "gadget:x", "default/skill:alpha"], n[0]["members"]
t = dict(n[5]); t.pop("name"); t.pop("updated_at")
u = dict(o[5]); u.pop("name")
assert t == u, (t, u)
PY
"$SM" --json uc list >"$TMP/l.json" 2>/dev/null || fail "uc list after the writes"
json_check "$TMP/l.json" 'sorted(c["name"] for c in d) == ["Default Collection", "Fresh", "Good", "Second", "Typed2"]'
# the first of two entries named Good goes: the second is read now
"$SM" uc delete Good --force >/dev/null 2>&1 || fail "uc delete Good"
"$SM" --json uc show Good >"$TMP/s.json" 2>"$TMP/w" || fail "the second Good: $(cat "$TMP/w")"
json_check "$TMP/s.json" 'd["id"] == "a0000000000000000000000000000002"'
grep -q "used twice" "$TMP/w" && fail "still a duplicate: $(cat "$TMP/w")"
grep -q 'id = "NOT-HEX"' "$UC" || fail "the entry with a bad id went with a delete"
ok
# 'collections' that is not an array: no user collection read, a create refused
printf 'collections = "mine"\n' >"$UC"
"$SM" --json uc list >"$TMP/l.json" 2>"$TMP/w" || fail "uc list: $(cat "$TMP/w")"
json_check "$TMP/l.json" '[c["name"] for c in d] == ["Default Collection"]'
[ "$(grep -c "'collections' is not an array of tables, ignored" "$TMP/w")" = 1 ] || fail "warning: $(cat "$TMP/w")"
expect_exit 1 "$SM" uc create X
[ "$(grep -c '^error:' "$TMP/.err")" -eq 1 ] && grep -q "^error: cannot add a collection to '.*user-collections.toml': its 'collections' is not an array" "$TMP/.err" ||
	fail "create: $(cat "$TMP/.err")"
[ "$(cat "$UC")" = 'collections = "mine"' ] || fail "a refused create changed the file"
cp "$TMP/uc.good" "$UC"
ok

# ---- delete ----
"$SM" --json uc delete Frontend --force >"$TMP/d.json" || fail "delete"
json_check "$TMP/d.json" 'd == {"deleted": "'"$ID"'", "name": "Frontend"}'
"$SM" uc delete Backend </dev/null >/dev/null || fail "delete without a terminal does not prompt"
expect_exit 1 "$SM" uc delete Frontend --force
"$SM" --json uc list >"$TMP/l.json" || fail "list after delete"
json_check "$TMP/l.json" 'not any(c["name"] in ("Frontend", "Backend") for c in d)'
python3 - "$UC" "$ID" <<'PY' || fail "delete left it in the file"
import sys, tomllib
d = tomllib.load(open(sys.argv[1], "rb"))
assert sys.argv[2] not in [c["id"] for c in d["collections"]]
PY
"$SM" list >/dev/null || fail "the artifacts went with the user collection"
ok

# ---- a cache that cannot be opened: the file write stands, with a warning ----
rm -rf "$SKILLMEAT_HOME/cache"
printf 'not a folder' >"$SKILLMEAT_HOME/cache"
"$SM" uc create "No cache" >"$TMP/out" 2>"$TMP/err" || fail "create without a cache: $(cat "$TMP/err")"
grep -q "warning:" "$TMP/err" || fail "no warning without a cache"
grep -q 'name = "No cache"' "$UC" || fail "the write did not stand"
rm -f "$SKILLMEAT_HOME/cache"
"$SM" --json uc list >"$TMP/l.json" || fail "list after the cache came back"
json_check "$TMP/l.json" 'any(c["name"] == "No cache" for c in d)'
ok

done_ok
