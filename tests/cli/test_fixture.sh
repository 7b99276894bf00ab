#!/bin/sh
# The ground truth: a home written by SkillMeat 0.9.1 is read as it is, and a
# re-import of the corpus reproduces its entries and lock hashes.
. "$(dirname "$0")/lib.sh"

unpack_fixture "$TMP/fx"
FXHOME="$TMP/fx/skillmeat-home"
FXC="$FXHOME/collections/default"
CORPUS="$SHARED/corpus/wshobson-agents"
chmod -R a+rX,a-w "$FXHOME" # reading a home never writes it; a read-only home is still listed
before=$(tree_sum "$FXHOME")

"$SM" --home "$FXHOME" list --json >"$TMP/l.json" || fail "list on the fixture: $(cat "$TMP/l.json")"
json_check "$TMP/l.json" 'len(d) == 488'
json_check "$TMP/l.json" '[sum(1 for x in d if x["type"] == t) for t in ("skill", "agent", "command")] == [181, 202, 105]'
json_check "$TMP/l.json" 'd == sorted(d, key=lambda x: (x["type"], x["name"]))'
python3 - "$TMP/l.json" "$FXC" <<'PY' || fail "fixture hashes or metadata differ"
import json, sys, tomllib
d = json.load(open(sys.argv[1]))
c = sys.argv[2]
lock = tomllib.load(open(c + "/collection.lock", "rb"))["lock"]["entries"]
man = {(a["type"], a["name"]): a for a in tomllib.load(open(c + "/collection.toml", "rb"))["artifacts"]}
bad = [x["id"] for x in d if lock[x["name"] + "::" + x["type"]]["content_hash"] != x["content_hash"]]
assert not bad, ("hash", bad[:5])
assert not any(x["locally_modified"] for x in d)
for x in d:
    m = man[(x["type"], x["name"])]
    meta = m.get("metadata", {})
    assert x["description"] == meta.get("description"), (x["id"], x["description"], meta.get("description"))
    assert x["tags"] == m.get("tags", []), (x["id"], x["tags"])
    assert x["added"] == m["added"] and x["path"] == m["path"]
PY
ok
"$SM" --home "$FXHOME" show skill:screen-reader-testing --json >"$TMP/s.json" || fail "show on the fixture"
json_check "$TMP/s.json" 'd["metadata"]["extra"]["name"] == "screen-reader-testing" and d["lock"]["fetched"].startswith("2026-")'
[ "$before" = "$(tree_sum "$FXHOME")" ] || fail "reading the fixture changed its files"
# root ignores file modes: read the home as an unprivileged user to prove a
# home we cannot write to is still listed (from an in-memory cache)
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null 2>&1; then
	rm -rf "$FXHOME/cache"
	chmod 755 "$TMP" "$TMP/fx"
	setpriv --reuid=65534 --regid=65534 --clear-groups env HOME=/nonexistent \
		"$SM" --home "$FXHOME" list --json >"$TMP/ro.json" 2>"$TMP/ro.err" ||
		fail "read-only home not listed: $(cat "$TMP/ro.err")"
	json_check "$TMP/ro.json" 'len(d) == 488'
	grep -q "in-memory" "$TMP/ro.err" || fail "no warning for a read-only home: $(cat "$TMP/ro.err")"
	[ ! -e "$FXHOME/cache" ] || fail "a cache folder appeared in a read-only home"
	ok
fi
chmod -R u+w "$FXHOME"
ok

# byte-identical re-encode happens in the TOML suite; here: a re-import
NEW="$TMP/new"
"$SM" --home "$NEW" --json add --all "$CORPUS" --on-clash rename >"$TMP/a.json" ||
	fail "add --all of the corpus: $(head -c 400 "$TMP/a.json")"
json_check "$TMP/a.json" 'd["added"] == 488 and d["failed"] == [] and len(d["skipped"]) == 0'
python3 - "$FXC" "$NEW/collections/default" <<'PY' || fail "re-import differs from the fixture"
import sys, tomllib
def load(c):
    m = tomllib.load(open(c + "/collection.toml", "rb"))
    l = tomllib.load(open(c + "/collection.lock", "rb"))["lock"]["entries"]
    return {(a["type"], a["name"]): a for a in m["artifacts"]}, l
fa, fl = load(sys.argv[1])
ma, ml = load(sys.argv[2])
assert set(fa) == set(ma), sorted(set(fa) ^ set(ma))[:10]
for k, a in fa.items():
    b = dict(ma[k]); a = dict(a)
    a.pop("added"); b.pop("added")
    assert a == b, (k, a, b)
    key = k[1] + "::" + k[0]
    assert fl[key]["content_hash"] == ml[key]["content_hash"], key
    assert set(fl[key]) == set(ml[key]), key
PY
ok

# a second add --all changes nothing at all
before=$(tree_sum "$NEW")
"$SM" --home "$NEW" --json add --all "$CORPUS" --on-clash rename >"$TMP/a2.json" || fail "second add --all"
json_check "$TMP/a2.json" 'd["added"] == 0 and d["unchanged"] == 488'
[ "$before" = "$(tree_sum "$NEW")" ] || fail "a second add --all wrote files"
ok

# without --on-clash rename the clashes are reported, kept first, exit 0
"$SM" --home "$TMP/skip" --json add --all "$CORPUS" >"$TMP/a3.json" || fail "add --all without rename"
json_check "$TMP/a3.json" 'd["added"] == 410 and len(d["skipped"]) == 78 and all(set(s) == {"name","type","path","kept"} for s in d["skipped"])'

# our files parse with Python's tomllib and carry every required field
python3 - "$NEW/collections/default" <<'PY' || fail "our manifest/lock are not what SkillMeat reads"
import sys, tomllib, datetime
c = sys.argv[1]
m = tomllib.load(open(c + "/collection.toml", "rb"))
for k in ("name", "version", "created", "updated"):
    assert isinstance(m["collection"][k], str), k
datetime.datetime.fromisoformat(m["collection"]["updated"])
for a in m["artifacts"]:
    for k in ("name", "type", "path", "origin", "added"):
        assert isinstance(a[k], str), (a["name"], k)
    datetime.datetime.fromisoformat(a["added"])
l = tomllib.load(open(c + "/collection.lock", "rb"))
assert l["lock"]["version"] == "1.0.0"
for k, e in l["lock"]["entries"].items():
    name, typ = k.split("::", 1)
    assert len(e["content_hash"]) == 64 and isinstance(e["fetched"], str)
    datetime.datetime.fromisoformat(e["fetched"])
PY
ok
done_ok
