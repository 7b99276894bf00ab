#!/bin/sh
# Issue 11 point 6: an entry of collection.toml we cannot understand (a field
# of the wrong type, an unknown type or origin, a name breaking the name rules,
# no path, a second artifact of the same type and name) degrades that entry
# only, with a warning naming it: list, show, the cache sync and serve show
# every other artifact, and a rewrite of the manifest keeps the entry as it was
# written, where it was.
. "$(dirname "$0")/lib.sh"

unpack_fixture "$TMP/fx"
export SKILLMEAT_HOME="$TMP/fx/skillmeat-home"
M="$SKILLMEAT_HOME/collections/default/collection.toml"
python3 - "$M" <<'PY' || fail "cannot edit the fixture manifest"
import sys
path = sys.argv[1]
s = open(path).read()
bad = [
    'name = 42\ntype = "skill"\npath = "skills/x"\norigin = "local"\nadded = "2026-01-01T00:00:00"\n',
    'name = "odd-type"\ntype = "plugin-pack"\npath = "skills/odd-type"\norigin = "local"\nadded = "2026-01-01T00:00:00"\n',
    'name = "../escape"\ntype = "skill"\npath = "skills/escape"\norigin = "local"\nadded = "2026-01-01T00:00:00"\n',
    'name = "no-path"\ntype = "skill"\norigin = "local"\nadded = "2026-01-01T00:00:00"\n',
    'name = "wcag-audit-patterns"\ntype = "skill"\npath = "skills/elsewhere"\norigin = "local"\nadded = "2026-01-01T00:00:00"\n',
    'name = "odd-origin"\ntype = "skill"\npath = "skills/odd-origin"\norigin = "ftp"\nadded = "2026-01-01T00:00:00"\n',
    'name = "list-path"\ntype = "skill"\npath = ["skills/a"]\norigin = "local"\nadded = "2026-01-01T00:00:00"\n',
]
# the first before the second artifact, the others at the end
second = s.index('[[artifacts]]\nname = "wcag-audit-patterns"')
s = s[:second] + "[[artifacts]]\n" + bad[0] + "\n" + s[second:]
for b in bad[1:]:
    s += "\n[[artifacts]]\n" + b
open(path, "w").write(s)
PY
# a lock entry without its hash: that artifact has no lock hash, nothing else changes
printf '\n[lock.entries."ghost::skill"]\nfetched = 3\n' >>"$SKILLMEAT_HOME/collections/default/collection.lock"
cp "$M" "$TMP/before.toml"

"$SM" list --json >"$TMP/l.json" 2>"$TMP/w" || fail "list refused the manifest: $(cat "$TMP/w")"
json_check "$TMP/l.json" 'len(d) == 488'
json_check "$TMP/l.json" '[a["path"] for a in d if a["name"] == "wcag-audit-patterns"] == ["skills/wcag-audit-patterns"]'
for why in "artifact 2 ignored: missing string 'name'" \
	"('odd-type') ignored: unknown type 'plugin-pack'" \
	"('../escape') ignored: invalid name" \
	"('no-path') ignored: missing string 'path'" \
	"('wcag-audit-patterns') ignored: a second skill 'wcag-audit-patterns'" \
	"('odd-origin') ignored: unknown origin 'ftp'" \
	"('list-path') ignored: missing string 'path'" \
	"lock entry 'ghost::skill' has no content_hash, ignored"; do
	grep -qF "$why" "$TMP/w" || fail "no warning '$why': $(cat "$TMP/w")"
	ok
done
"$SM" show skill:wcag-audit-patterns --json >"$TMP/s.json" 2>/dev/null || fail "show a good artifact"
json_check "$TMP/s.json" 'd["path"] == "skills/wcag-audit-patterns"'
expect_exit 1 "$SM" show skill:odd-origin
"$SM" cache status --json >"$TMP/c.json" 2>/dev/null || fail "cache status"
cmp -s "$M" "$TMP/before.toml" || fail "a read changed collection.toml"
ok

# a rewrite (remove the first artifact, add one) keeps every held entry, in place
"$SM" remove skill:screen-reader-testing </dev/null >/dev/null 2>"$TMP/w" || fail "remove: $(cat "$TMP/w")"
make_skill "$TMP/src/fresh" fresh "description: fresh"
"$SM" add "$TMP/src/fresh" >/dev/null 2>"$TMP/w" || fail "add: $(cat "$TMP/w")"
python3 - "$M" "$TMP/before.toml" <<'PY' || fail "the held entries after a rewrite"
import sys, tomllib
new = tomllib.load(open(sys.argv[1], "rb"))["artifacts"]
old = tomllib.load(open(sys.argv[2], "rb"))["artifacts"]
assert new[0]["name"] == 42, new[0]                       # was second, the first is gone
assert new[1]["name"] == "wcag-audit-patterns" and new[1]["path"] == "skills/wcag-audit-patterns"
assert new[-1]["name"] == "fresh", new[-1]
assert new[-7:-1] == old[-6:], [e.get("name") for e in new[-8:]]   # before the new one
held = [e for e in new if e.get("name") in (42, "odd-type", "../escape", "no-path", "odd-origin", "list-path")
        or (e.get("name") == "wcag-audit-patterns" and e["path"] == "skills/elsewhere")]
assert held == [old[1]] + old[-6:], held
assert len(new) == len(old), (len(new), len(old))
PY
ok
"$SM" list --json >"$TMP/l.json" 2>/dev/null || fail "list after the rewrite"
json_check "$TMP/l.json" 'len(d) == 488 and any(a["name"] == "fresh" for a in d)'

# serve: every understood artifact, none of the others
"$SM" serve --port 0 --threads 2 --no-rate-limit >"$TMP/url" 2>"$TMP/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while [ ! -s "$TMP/url" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
URL=$(head -n 1 "$TMP/url")
[ -n "$URL" ] || fail "serve did not start: $(cat "$TMP/serve.err")"
python3 - "$URL" <<'PY' || fail "serve"
import json, sys, urllib.request
url = sys.argv[1]
names, cursor = [], None
while True:
    q = f"{url}/api/v1/artifacts?limit=100" + (f"&after={cursor}" if cursor else "")
    with urllib.request.urlopen(q, timeout=30) as r:
        j = json.load(r)
    names += [a["name"] for a in j["items"]]
    cursor = j["page_info"].get("end_cursor")
    if not j["page_info"].get("has_next_page"):
        break
assert len(names) == 488 and "fresh" in names and "odd-origin" not in names, len(names)
assert names.count("wcag-audit-patterns") == 1
PY
ok
kill $pid && wait $pid || fail "serve did not stop cleanly"
trap 'rm -rf "$TMP"' EXIT

# a uuid is one artifact's identity: a second holder in the same manifest is
# ignored like a second type:name; one in another collection (a copied
# collection.toml) gets its derived uuid - neither hides the other
export SKILLMEAT_HOME="$TMP/h2"
U=0123456789abcdef0123456789abcdef
"$SM" init >/dev/null && "$SM" collection create work >/dev/null || fail "init h2"
for n in a b c; do make_skill "$TMP/src/$n" "$n" "description: d$n"; done
"$SM" add "$TMP/src/a" >/dev/null 2>&1 && "$SM" add "$TMP/src/b" >/dev/null 2>&1 &&
	"$SM" add "$TMP/src/c" -c work >/dev/null 2>&1 || fail "add to h2"
for m in default work; do
	sed -i "s/^origin = \"local\"\$/origin = \"local\"\nuuid = \"$U\"/" "$SKILLMEAT_HOME/collections/$m/collection.toml"
done
[ "$(grep -c "$U" "$SKILLMEAT_HOME/collections/default/collection.toml")" = 2 ] || fail "uuid not written"
"$SM" list --json >"$TMP/l.json" 2>"$TMP/w" || fail "list h2: $(cat "$TMP/w")"
json_check "$TMP/l.json" '[a["name"] for a in d] == ["a"]'
grep -qF "('b') ignored: uuid $U of an earlier artifact" "$TMP/w" || fail "no warning for b: $(cat "$TMP/w")"
"$SM" list -c work --json >"$TMP/l.json" 2>"$TMP/w" || fail "list work: $(cat "$TMP/w")"
json_check "$TMP/l.json" '[a["name"] for a in d] == ["c"]'
grep -qF "uuid $U is default/skill:a's already" "$TMP/w" || fail "no warning for c: $(cat "$TMP/w")"
"$SM" show work/skill:c --json >"$TMP/c.json" 2>/dev/null || fail "show work/skill:c"
"$SM" show default/skill:a --json >"$TMP/a.json" 2>/dev/null || fail "show default/skill:a"
json_check "$TMP/a.json" 'd["uuid"] == "'$U'"'
json_check "$TMP/c.json" 'd["uuid"] != "'$U'" and len(d["uuid"]) == 32'
"$SM" list --json >"$TMP/l.json" 2>/dev/null || fail "list h2 again"
json_check "$TMP/l.json" '[a["name"] for a in d] == ["a"]'
"$SM" cache rebuild >/dev/null 2>&1 || fail "rebuild h2"
"$SM" list -c work --json >"$TMP/l.json" 2>/dev/null || fail "list work after a rebuild"
json_check "$TMP/l.json" '[a["name"] for a in d] == ["c"]'
"$SM" list --json >"$TMP/l.json" 2>/dev/null || fail "list default after a rebuild"
json_check "$TMP/l.json" '[a["name"] for a in d] == ["a"]'
done_ok
