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
done_ok
