#!/bin/sh
# Issue 11 point 6: a manifest path whose real path lies outside its
# collection ("../", an absolute path elsewhere, a symlink, a symlinked
# folder) is never read - not by list, show, the cache sync, deploy or the
# API's files endpoints - as it is never removed; the artifact is still
# listed. An absolute path inside the collection (the original's marketplace
# imports write them) keeps working. The home is hostile input.
. "$(dirname "$0")/lib.sh"

C="$SKILLMEAT_HOME/collections/default"
"$SM" init >/dev/null || fail "init"
make_skill "$TMP/src/good" good "description: good one"
"$SM" add "$TMP/src/good" >/dev/null 2>&1 || fail "add"
# the secret outside the collection, and ways to reach it
make_skill "$TMP/secret/skills/leak" leak "description: SECRET-TEXT"
echo "SECRET-TEXT" >"$TMP/secret/skills/leak/key.txt"
ln -s "$TMP/secret/skills/leak" "$C/skills/link"
ln -s "$TMP/secret/skills" "$C/linkdir"
make_skill "$C/skills/absin" absin "description: absolute inside"
python3 - "$C/collection.toml" "$TMP/secret/skills/leak" "$C/skills/absin" <<'PY' || fail "cannot edit the manifest"
import sys
path, secret, absin = sys.argv[1:4]
entry = '\n[[artifacts]]\nname = "%s"\ntype = "skill"\npath = "%s"\norigin = "local"\nadded = "2026-01-01T00:00:00"\n'
with open(path, "a") as f:
    f.write(entry % ("dotdot", "skills/../../../../secret/skills/leak"))
    f.write(entry % ("absout", secret))
    f.write(entry % ("link", "skills/link"))
    f.write(entry % ("viadir", "linkdir/leak"))
    f.write(entry % ("absin", absin))
PY
OUT="dotdot absout link viadir"

"$SM" list --json >"$TMP/l.json" 2>"$TMP/w" || fail "list: $(cat "$TMP/w")"
json_check "$TMP/l.json" 'sorted(a["name"] for a in d) == ["absin", "absout", "dotdot", "good", "link", "viadir"]'
json_check "$TMP/l.json" '[a["description"] for a in d if a["name"] == "absin"] == ["absolute inside"]'
! grep -q SECRET-TEXT "$TMP/l.json" || fail "list read a file outside the collection"
ok
for n in $OUT; do
	"$SM" show "skill:$n" --json >"$TMP/s.json" 2>"$TMP/w"
	! grep -q SECRET-TEXT "$TMP/s.json" "$TMP/w" || fail "show skill:$n read outside the collection"
	if [ -s "$TMP/s.json" ]; then
		json_check "$TMP/s.json" 'd.get("files", []) == [] and d.get("content_hash") is None'
	fi
	ok
done
"$SM" show skill:absin --json >"$TMP/s.json" 2>"$TMP/w" || fail "show skill:absin: $(cat "$TMP/w")"
json_check "$TMP/s.json" 'd["description"] == "absolute inside" and d["files"] == ["SKILL.md"] and d["content_hash"]'
"$SM" cache rebuild >/dev/null 2>"$TMP/w" || fail "cache rebuild: $(cat "$TMP/w")"
"$SM" list --json >"$TMP/l.json" 2>/dev/null || fail "list after a rebuild"
! grep -q SECRET-TEXT "$TMP/l.json" || fail "the cache sync read a file outside the collection"
ok

# deploy: that item fails, nothing of the secret reaches the project
mkdir "$TMP/p"
for n in $OUT; do
	"$SM" deploy "skill:$n" --project "$TMP/p" --json >"$TMP/d.json" 2>/dev/null
	json_check "$TMP/d.json" 'd["deployed"] == [] and len(d["failed"]) == 1'
done
! grep -rq SECRET-TEXT "$TMP/p" || fail "deploy copied a file from outside the collection"
"$SM" deploy skill:absin --project "$TMP/p" >/dev/null 2>"$TMP/w" || fail "deploy skill:absin: $(cat "$TMP/w")"
[ -f "$TMP/p/.claude/skills/absin/SKILL.md" ] || fail "absin not deployed"
ok

# remove refuses them too, and the secret stays
for n in $OUT; do
	expect_exit 1 "$SM" remove "skill:$n"
done
[ -f "$TMP/secret/skills/leak/key.txt" ] || fail "remove deleted outside the collection"

# the API: listed, files neither listed nor read
"$SM" serve --port 0 --threads 2 --no-rate-limit >"$TMP/url" 2>"$TMP/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while [ ! -s "$TMP/url" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
URL=$(head -n 1 "$TMP/url")
[ -n "$URL" ] || fail "serve did not start: $(cat "$TMP/serve.err")"
python3 - "$URL" $OUT <<'PY' || fail "the API read outside the collection"
import json, sys, urllib.request, urllib.error
url, names = sys.argv[1], sys.argv[2:]
def get(path):
    try:
        with urllib.request.urlopen(url + path, timeout=30) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
st, body = get("/api/v1/artifacts?limit=100")
assert st == 200 and "SECRET-TEXT" not in body, body
assert len(json.loads(body)["items"]) == 6
for n in names:
    for path in (f"/api/v1/artifacts/skill:{n}", f"/api/v1/artifacts/skill:{n}/files",
                 f"/api/v1/artifacts/skill:{n}/files/SKILL.md",
                 f"/api/v1/artifacts/skill:{n}/files/key.txt"):
        st, body = get(path)
        assert "SECRET-TEXT" not in body, (path, body)
        if "/files" in path:
            assert st == 404 and isinstance(json.loads(body)["detail"], str), (path, st, body)
    # the original's shapes for an artifact whose files are not read: lists, never null
    st, body = get(f"/api/v1/artifacts/skill:{n}")
    j = json.loads(body)
    assert st == 200 and j["tags"] == [] and j["metadata"]["tools"] == [] and j["version"] is None \
        and j["deployments"] == [] and j["aliases"] == [] and j["owner_type"] == "user" \
        and j["visibility"] == "private" and j["content_hash"] is None, (n, j)
st, body = get("/api/v1/user-collections/default/artifacts?limit=100&include_groups=true")
items = json.loads(body)["items"]
assert len(items) == 6 and all(i["tags"] == [] or i["name"] in ("good", "absin") for i in items), items
assert all(i["groups"] == [] and i["deployments"] == [] and isinstance(i["tools"], list) for i in items), items
st, body = get("/api/v1/artifacts/skill:absin/files/SKILL.md")
assert st == 200 and "absolute inside" in json.loads(body)["content"], (st, body)
PY
ok
kill $pid && wait $pid || fail "serve did not stop cleanly"
done_ok
