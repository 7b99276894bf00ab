#!/bin/sh
# A self-healing cache (issue 11, point 5), a running server: damage under it
# (a leaf deep in the artifacts table, the root and the leaves of the
# full-text index) is repaired by the first thread that meets it, with one
# warning, and every loop thread answers as before; a server running when its
# disk fills up answers from its file; a command started on a full tmpfs
# answers from memory with one warning. (test_heal.sh: the CLI.)
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/heal_lib.sh"

# ---- a running server meets the damage ----
rm -rf "$SKILLMEAT_HOME/cache"
"$SM" list >/dev/null 2>&1 || fail "list"
"$SM" serve --port 0 >"$TMP/url" 2>"$TMP/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
# a generous deadline: the machine may be busy (no timing is asserted)
while [ ! -s "$TMP/url" ] && [ $i -lt 1800 ] && kill -0 $pid 2>/dev/null; do
	sleep 0.1
	i=$((i + 1))
done
URL=$(head -n 1 "$TMP/url")
[ -n "$URL" ] || fail "serve did not start: $(cat "$TMP/serve.err")"

# reads.py URL ROUND REF (reads ROUND: the server's): every loop thread's
# connection lists, searches, shows and pages the default collection (a
# limit of its own per round: no answer cached before the damage can be
# served); with ROUND 0 the answers are kept in REF, else compared with it
cat >"$TMP/reads.py" <<'PY'
import json, sys, urllib.request
url, rnd, ref = sys.argv[1], int(sys.argv[2]), sys.argv[3]
limit = 100 - rnd
def get(path):
    with urllib.request.urlopen(url + path, timeout=60) as r:
        return json.load(r)
def all_items(path):
    items, after = [], None
    while True:
        j = get(path + ("&after=" + after if after else ""))
        items += j["items"]
        pi = j.get("page_info", {})
        after = pi.get("end_cursor") if pi.get("has_next_page") else None
        if not after:
            return items
def desc(x):
    return x.get("description") or (x.get("metadata") or {}).get("description")
got = []
for _ in range(4):
    got.append({
        "list": sorted((x["name"], desc(x)) for x in all_items("/api/v1/artifacts?limit=%d" % limit)),
        "search": sorted(x["name"] for x in all_items("/api/v1/artifacts?limit=%d&search=word3" % limit)),
        "show": desc(get("/api/v1/artifacts/skill:s77")),
        "default": sorted(x["name"] for x in all_items("/api/v1/user-collections/default/artifacts?limit=%d" % limit)),
    })
assert all(g == got[0] for g in got), "the connections answer differently"
assert len(got[0]["list"]) == 160 and len(got[0]["search"]) > 10, got[0]
if rnd == 0:
    json.dump(got[0], open(ref, "w"))
else:
    want = json.load(open(ref))
    for k in want:
        assert json.loads(json.dumps(got[0][k])) == want[k], (k, got[0][k], want[k])
PY
reads() {
	python3 "$TMP/reads.py" "$URL" "$1" "$TMP/api.ref"
}
reads 0 || fail "server reads before the damage: $(cat "$TMP/serve.err")"

# damage_live LABEL: the page of the server's live cache, then a commit by
# another connection (so every connection of the server reads the file again)
damage_live() {
	python3 - "$DB" >/dev/null <<'PY' || fail "checkpoint the live cache"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
for _ in range(1000):
    busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy == 0:
        break
else:
    sys.exit("the checkpoint stayed busy")
PY
	pages "$DB" >"$TMP/live.pages"
	p=$(awk -v l="$1" '$1 == l { print $2 }' "$TMP/live.pages")
	[ -n "$p" ] || fail "no $1 page: $(cat "$TMP/live.pages")"
	hit "$DB" "$p"
	python3 - "$DB" <<'PY' || fail "commit to the live cache"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
v = db.execute("PRAGMA user_version").fetchone()[0]
db.execute("PRAGMA user_version = %d" % (v + 1))
PY
}

round=0
for target in deep fts-root fts-leaf; do
	round=$((round + 1))
	damage_live "$target"
	reads "$round" || fail "server reads after damage to the $target page: $(cat "$TMP/serve.err")"
	kill -0 $pid || fail "serve exited: $(cat "$TMP/serve.err")"
	n=$(grep -c "is corrupt" "$TMP/serve.err")
	[ "$n" = "$round" ] || fail "server, $target page: $n warnings after $round damages: $(cat "$TMP/serve.err")"
	ok
done
! grep -q " ERROR \|^error: " "$TMP/serve.err" || fail "errors in the server's log: $(cat "$TMP/serve.err")"
kill $pid && wait $pid || fail "serve did not stop cleanly"
trap 'rm -rf "$TMP"' EXIT
"$SM" cache dump >"$TMP/out" 2>"$TMP/err" || fail "dump after the server's repairs"
cmp -s "$TMP/out" "$TMP/ref.dump" || fail "dump after the server's repairs differs"
[ "$(warnings "$TMP/err")" = 0 ] || fail "still damaged after the server's repairs: $(cat "$TMP/err")"
ok

# a real full file system: a 2 MiB tmpfs in a private mount namespace (root,
# as in CI, or a user namespace); a running server, then new commands
ns="unshare -m"
[ "$(id -u)" = 0 ] || ns="unshare -rm"
$ns true || fail "no mount namespace ($ns): this test needs root or user namespaces"
mkdir -p "$TMP/mnt"
$ns sh -c '
	mount -t tmpfs -o size=2m tmpfs "$1" || exit 1
	cp -r "$2" "$1/home" || exit 1
	export SKILLMEAT_HOME="$1/home"
	rm -rf "$1/home/cache"
	"$3" list >/dev/null 2>&1 || exit 1
	# a server that runs when the disk fills up answers from its file
	"$3" serve --port 0 >"$4/full.url" 2>"$4/full.serve.err" &
	spid=$!
	i=0
	while [ ! -s "$4/full.url" ] && [ $i -lt 1800 ] && kill -0 $spid 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	url=$(head -n 1 "$4/full.url")
	[ -n "$url" ] || { kill $spid; echo "serve did not start" >&2; exit 1; }
	python3 "$4/reads.py" "$url" 0 "$4/full.ref" || { kill $spid; exit 1; }
	dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null
	[ "$(df -k "$1" | awk "NR == 2 { print \$4 }")" -lt 8 ] || { kill $spid; echo "the tmpfs is not full" >&2; exit 1; }
	python3 "$4/reads.py" "$url" 1 "$4/full.ref" || { kill $spid; echo "server reads on a full disk" >&2; exit 1; }
	kill $spid && wait $spid || { echo "serve did not stop cleanly" >&2; exit 1; }
	# a command started on the full disk answers from memory (the server
	# freed its WAL and server.json: filled again)
	rm -f "$1/home/cache/metadata.db-wal" "$1/home/cache/metadata.db-shm"
	dd if=/dev/zero of="$1/fill2" bs=4k 2>/dev/null
	[ "$(df -k "$1" | awk "NR == 2 { print \$4 }")" -lt 8 ] || { echo "the tmpfs is not full" >&2; exit 1; }
	"$3" list --json >"$4/tmpfs.out" 2>"$4/tmpfs.err" || exit 1
	"$3" search word3 --json >"$4/tmpfs.search" 2>>"$4/tmpfs.err"
' sh "$TMP/mnt" "$SKILLMEAT_HOME" "$SM" "$TMP" ||
	fail "reads on a full tmpfs: $(cat "$TMP/full.serve.err" "$TMP/tmpfs.err" 2>/dev/null)"
! grep -q " ERROR \|^error: " "$TMP/full.serve.err" || fail "errors of the server on a full disk: $(cat "$TMP/full.serve.err")"
json_check "$TMP/tmpfs.out" 'len(d) == 160'
same_json "$TMP/tmpfs.search" "$TMP/ref.search"
grep -q "^warning: no space left" "$TMP/tmpfs.err" || fail "no warning on a full tmpfs: $(cat "$TMP/tmpfs.err")"
! grep -q "^error" "$TMP/tmpfs.err" || fail "an error on a full tmpfs: $(cat "$TMP/tmpfs.err")"
ok
done_ok
