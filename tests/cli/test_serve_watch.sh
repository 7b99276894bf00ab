#!/bin/sh
# A running server shows hand edits without any refresh call (the inotify
# watcher): in-place write, sed -i, write-to-temp-and-rename, a nested file, a
# deleted artifact, a rewritten collection.toml. Polls with a generous deadline.
. "$(dirname "$0")/lib.sh"

C="$SKILLMEAT_HOME/collections/default"
for n in one two three four five; do
	make_skill "$TMP/src/skills/$n" "$n" "description: first $n"
done
"$SM" --quiet add --all "$TMP/src" || fail "add --all"
# two loop threads whatever the machine: wait_page reaches each with many connections
"$SM" serve --port 0 --threads 2 --no-rate-limit >"$TMP/url" 2>"$TMP/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while [ ! -s "$TMP/url" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
URL=$(head -n 1 "$TMP/url")
[ -n "$URL" ] || fail "serve did not start: $(cat "$TMP/serve.err")"

# wait_for ID PYTHON-EXPR: poll GET /artifacts/ID until the expression over j holds
wait_for() {
	python3 - "$URL" "$1" "$2" <<'PY' || fail "not visible through the API: $1: $2"
import json, sys, time, urllib.request, urllib.error
url, ident, expr = sys.argv[1:4]
deadline = time.time() + 20
last = None
while time.time() < deadline:
    try:
        with urllib.request.urlopen(f"{url}/api/v1/artifacts/{ident}", timeout=5) as r:
            j = json.load(r)
        last = j
        if eval(expr, {"j": j}):
            sys.exit(0)
    except urllib.error.HTTPError as e:
        last = e.code
        if eval(expr, {"j": None, "code": e.code}) if "code" in expr else False:
            sys.exit(0)
    time.sleep(0.1)
print("last:", json.dumps(last)[:300], file=sys.stderr)
sys.exit(1)
PY
	ok
}

# the page endpoints answer from a per-revision cache: warm it, then it must follow edits
wait_page() {
	python3 - "$URL" "$1" <<'PY' || fail "page answer stale: $1"
import json, sys, time, urllib.request
url, want = sys.argv[1:3]
deadline = time.time() + 20
while time.time() < deadline:
    seen = set()
    for _ in range(16):  # 16 connections over 2 threads: every loop thread's cache
        with urllib.request.urlopen(f"{url}/api/v1/user-collections/default/artifacts?limit=50", timeout=5) as r:
            j = json.load(r)
        seen.add(next(i["description"] for i in j["items"] if i["name"] == "one"))
    if seen == {want}:
        sys.exit(0)
    time.sleep(0.1)
print("seen:", seen, file=sys.stderr)
sys.exit(1)
PY
	ok
}

wait_for skill:one 'j["metadata"]["description"] == "first one"'
wait_page "first one"
wait_page "first one"
printf -- '---\nname: one\ndescription: page follows\n---\n' >"$C/skills/one/SKILL.md"
wait_page "page follows"
printf -- '---\nname: one\ndescription: written in place\n---\n' >"$C/skills/one/SKILL.md"
wait_for skill:one 'j["metadata"]["description"] == "written in place"'
sed -i 's/first two/edited by sed/' "$C/skills/two/SKILL.md"
wait_for skill:two 'j["metadata"]["description"] == "edited by sed"'
printf -- '---\nname: three\ndescription: renamed over\n---\n' >"$C/skills/three/.SKILL.md.swp" &&
	mv "$C/skills/three/.SKILL.md.swp" "$C/skills/three/SKILL.md"
wait_for skill:three 'j["metadata"]["description"] == "renamed over"'
{ mkdir -p "$C/skills/four/deep/er" && echo nested >"$C/skills/four/deep/er/notes.txt"; } ||
	fail "nested file"
wait_for skill:four 'j["locally_modified"] is True'
rm -rf "$C/skills/five"
wait_for skill:five 'j["content_hash"] is None'
python3 - "$C/collection.toml" <<'PY' || fail "rewrite manifest"
import os, sys
p = sys.argv[1]
t = open(p).read()
t = t.replace('name = "one"\n', 'name = "one"\ntags = [\n    "by-hand",\n]\n', 1)
tmp = p + ".tmp"
open(tmp, "w").write(t)
os.rename(tmp, p)
PY
wait_for skill:one '"by-hand" in j["tags"]'
kill $pid && wait $pid || fail "serve did not stop cleanly"
done_ok
