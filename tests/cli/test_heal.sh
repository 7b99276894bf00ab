#!/bin/sh
# A self-healing cache (issue 11, point 5). Damage found by a query after the
# open (a page deep in metadata.db, its indexes, its full-text index) is
# repaired from the files with one warning, for list, show, search, cache
# rebuild and dump, and for a running server's reads; a file that is no
# database is emptied and refilled; a full disk still answers reads.
# Damage: 64 bytes of 0xff written at the start of a page of a real cache:
# the header page, a leaf page deep in the artifacts table, the root and a
# leaf of the full-text index, the root page of every table and index, and
# 8 pages spread over the file.
. "$(dirname "$0")/lib.sh"

"$SM" init >/dev/null || fail "init"
DB="$SKILLMEAT_HOME/cache/metadata.db"
i=1
while [ $i -le 160 ]; do
	pad=$(printf "%0$((i % 9 * 40 + 1))d" 0)
	make_skill "$TMP/src/skills/s$i" "s$i" "description: skill number $i about word$((i % 7)) $pad" \
		"tags: [t$((i % 5)), common]"
	i=$((i + 1))
done
"$SM" --quiet add --all "$TMP/src" || fail "add --all"

# the answers of a cache built from scratch
rm -rf "$SKILLMEAT_HOME/cache"
"$SM" list --json >"$TMP/ref.list" || fail "reference list"
"$SM" show skill:s77 --json >"$TMP/ref.show" || fail "reference show"
"$SM" search word3 --json >"$TMP/ref.search" || fail "reference search"
"$SM" cache dump >"$TMP/ref.dump" || fail "reference dump"
json_check "$TMP/ref.list" 'len(d) == 160'
json_check "$TMP/ref.search" 'len(d) > 10'
cp "$DB" "$TMP/good.db" || fail "copy the cache"
[ ! -s "$DB-wal" ] || fail "the cache has a WAL after the last close"

# pages NAME...: the named pages of the database $DB_FILE, one per line as
# "label page": header, deep (a leaf of artifacts that is not its root),
# fts-root and fts-leaf (artifact_fts_data, the FTS5 index: its root, the
# leaves holding the searched terms), then root-* (every
# table and index) and spread-* (8 pages over the file)
pages() {
	python3 - "$1" <<'PY' || fail "read the cache's layout"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
def one(q, *a):
    r = db.execute(q, a).fetchone()
    assert r, q
    return r[0]
out = [("header", 1)]
root = one("SELECT rootpage FROM sqlite_master WHERE name = 'artifacts'")
out.append(("deep", one("SELECT max(pageno) FROM dbstat WHERE name = 'artifacts' AND pagetype = 'leaf' AND pageno != ?", root)))
fts = one("SELECT rootpage FROM sqlite_master WHERE name = 'artifact_fts_data'")
out.append(("fts-root", fts))
# the leaves holding the terms word0..word6 (what a search for word3 reads)
raw = open(sys.argv[1], "rb").read()
leaves = [p for (p,) in db.execute("SELECT pageno FROM dbstat WHERE name = 'artifact_fts_data' AND pagetype = 'leaf'")
          if b"word" in raw[(p - 1) * 4096:p * 4096]]
assert leaves, "no leaf of the FTS index holds the search term"
out.append(("fts-leaf", ",".join(map(str, leaves))))
for name, p in db.execute("SELECT name, rootpage FROM sqlite_master WHERE rootpage > 1 ORDER BY rootpage"):
    out.append(("root-" + name, p))
n = one("PRAGMA page_count")
out += [("spread-%d" % k, 2 + (n - 2) * k // 7) for k in range(8)]
for label, p in out:
    print(label, p)
PY
}
pages "$TMP/good.db" >"$TMP/pages"
grep -q "^deep " "$TMP/pages" && grep -q "^fts-leaf " "$TMP/pages" || fail "layout: $(cat "$TMP/pages")"
npages=$(wc -l <"$TMP/pages")
[ "$npages" -ge 25 ] || fail "too few pages to damage: $(cat "$TMP/pages")"
ok

# hit FILE PAGES: 64 bytes of 0xff at the start of each page of FILE (PAGES: n[,n...])
hit() {
	python3 - "$1" "$2" <<'PY' || fail "damage page $2"
import sys
with open(sys.argv[1], "r+b") as f:
    for p in sys.argv[2].split(","):
        f.seek((int(p) - 1) * 4096)
        f.write(b"\xff" * 64)
PY
}

damage() { # damage PAGE: the good cache, with page PAGE overwritten at its start
	rm -f "$DB" "$DB-wal" "$DB-shm"
	cp "$TMP/good.db" "$DB" || fail "restore the cache"
	hit "$DB" "$1"
}

# warnings FILE: the lines about a damaged cache
warnings() {
	grep -c "corrupt\|unusable\|malformed" "$1"
}

# one_warning FILE: at most one line about the damaged cache, and no error
one_warning() {
	n=$(warnings "$1")
	[ "$n" -le 1 ] || fail "$n warnings about the damage: $(cat "$1")"
	! grep -q "^error" "$1" || fail "an error: $(cat "$1")"
	ok
}

same_json() { # same_json A B: equal as JSON values
	python3 - "$1" "$2" <<'PY' || fail "answers differ from a fresh cache: $1"
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
sys.exit(0 if a == b else 1)
PY
	ok
}

# read_with HOW: one reader of the damaged cache, its answer compared with a fresh cache's
read_with() {
	case $1 in
	list)
		"$SM" list --json >"$TMP/out" 2>"$TMP/err" || fail "list, $label: $(cat "$TMP/err")"
		same_json "$TMP/out" "$TMP/ref.list"
		;;
	show)
		"$SM" show skill:s77 --json >"$TMP/out" 2>"$TMP/err" || fail "show, $label: $(cat "$TMP/err")"
		same_json "$TMP/out" "$TMP/ref.show"
		;;
	search)
		"$SM" search word3 --json >"$TMP/out" 2>"$TMP/err" || fail "search, $label: $(cat "$TMP/err")"
		same_json "$TMP/out" "$TMP/ref.search"
		;;
	rebuild)
		"$SM" cache rebuild >/dev/null 2>"$TMP/err" || fail "cache rebuild, $label: $(cat "$TMP/err")"
		;;
	dump)
		"$SM" cache dump >"$TMP/out" 2>"$TMP/err" || fail "cache dump, $label: $(cat "$TMP/err")"
		cmp -s "$TMP/out" "$TMP/ref.dump" || fail "$label: dump of a damaged cache differs"
		ok
		;;
	esac
	one_warning "$TMP/err"
}

# the named pages, each with the readers that must notice it: one warning each time
for c in "header list" "header dump" "deep list" "deep show" "deep rebuild" "fts-root search" \
	"fts-leaf search" "fts-root rebuild"; do
	set -- $c
	label="$1 page, $2"
	p=$(awk -v l="$1" '$1 == l { print $2 }' "$TMP/pages")
	damage "$p"
	read_with "$2"
	[ "$(warnings "$TMP/err")" = 1 ] || fail "$label (page $p): the damage went unnoticed: $(cat "$TMP/err")"
	grep -q "WARN cache: '.*metadata.db' is \(corrupt\|unusable\)" "$TMP/err" ||
		fail "$label: the warning: $(cat "$TMP/err")"
	"$SM" cache dump >"$TMP/out" 2>"$TMP/err" || fail "dump after the repair, $label: $(cat "$TMP/err")"
	cmp -s "$TMP/out" "$TMP/ref.dump" || fail "$label: dump after the repair differs"
	[ "$(warnings "$TMP/err")" = 0 ] || fail "$label: still damaged after the repair: $(cat "$TMP/err")"
	ok
done

# every page of the list with one reader, in turn; then the cache must be a good one again
healed=0
j=0
while read -r label p; do
	damage "$p"
	case $((j % 5)) in
	0) read_with list ;;
	1) read_with show ;;
	2) read_with search ;;
	3) read_with rebuild ;;
	4) read_with dump ;;
	esac
	[ "$(warnings "$TMP/err")" = 1 ] && healed=$((healed + 1))
	# a page the reader did not need may still be damaged: a full read finds it
	"$SM" cache dump >"$TMP/out" 2>"$TMP/err" || fail "dump after the repair, $label: $(cat "$TMP/err")"
	cmp -s "$TMP/out" "$TMP/ref.dump" || fail "$label (page $p): dump after the repair differs"
	one_warning "$TMP/err"
	j=$((j + 1))
done <"$TMP/pages"
# most damage is seen by the first reader (a page it does not read may stay unnoticed)
[ "$healed" -ge $((npages / 3)) ] || fail "only $healed of $npages damaged pages were noticed"
ok

# a cache that is no database at all, or empty, or cut short
for how in garbage empty half; do
	label=$how
	rm -f "$DB-wal" "$DB-shm"
	case $how in
	garbage) head -c 20000 /dev/urandom >"$DB" ;;
	empty) : >"$DB" ;;
	half) head -c $(($(wc -c <"$TMP/good.db") / 2)) "$TMP/good.db" >"$DB" ;;
	esac
	read_with list
done

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
! grep -q " ERROR " "$TMP/serve.err" || fail "errors in the server's log: $(cat "$TMP/serve.err")"
kill $pid && wait $pid || fail "serve did not stop cleanly"
trap 'rm -rf "$TMP"' EXIT
"$SM" cache dump >"$TMP/out" 2>"$TMP/err" || fail "dump after the server's repairs"
cmp -s "$TMP/out" "$TMP/ref.dump" || fail "dump after the server's repairs differs"
[ "$(warnings "$TMP/err")" = 0 ] || fail "still damaged after the server's repairs: $(cat "$TMP/err")"
ok

# ---- a full disk: reads answer from memory, with a warning ----
# full CMD...: run skillmeat with no file growth allowed (RLIMIT_FSIZE 0,
# SIGXFSZ ignored: every write that would extend a file fails with EFBIG, as
# ENOSPC would); its output goes through pipes, which the limit spares.
full() {
	python3 - "$SM" "$@" <<'PY'
import resource, signal, subprocess, sys
def limit():
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
p = subprocess.run(sys.argv[1:], preexec_fn=limit, capture_output=True)
sys.stdout.buffer.write(p.stdout)
sys.stderr.buffer.write(p.stderr)
sys.exit(p.returncode)
PY
}
rm -rf "$SKILLMEAT_HOME/cache"
"$SM" list >/dev/null 2>&1 || fail "list"
full list --json >"$TMP/out" 2>"$TMP/err" || fail "list on a full disk: $(cat "$TMP/err")"
same_json "$TMP/out" "$TMP/ref.list"
grep -q "^warning: no space left" "$TMP/err" || fail "no warning on a full disk: $(cat "$TMP/err")"
[ "$(grep -c "no space" "$TMP/err")" = 1 ] || fail "more than one warning: $(cat "$TMP/err")"
ok
full show skill:s77 --json >"$TMP/out" 2>"$TMP/err" || fail "show on a full disk: $(cat "$TMP/err")"
same_json "$TMP/out" "$TMP/ref.show"
full search word3 --json >"$TMP/out" 2>"$TMP/err" || fail "search on a full disk: $(cat "$TMP/err")"
same_json "$TMP/out" "$TMP/ref.search"
# a hand edit the cache has not seen yet still shows (the index is built from the files)
sed -i 's/^description: skill number 77 .*/description: edited while the disk was full/' \
	"$SKILLMEAT_HOME/collections/default/skills/s77/SKILL.md"
full show skill:s77 --json >"$TMP/out" 2>"$TMP/err" || fail "show after an edit on a full disk: $(cat "$TMP/err")"
json_check "$TMP/out" 'd["description"] == "edited while the disk was full"'
full list --json >"$TMP/out" 2>"$TMP/err" || fail "list on a full disk: $(cat "$TMP/err")"
json_check "$TMP/out" '{x["name"]: x["description"] for x in d}["s77"] == "edited while the disk was full"'
# the disk has room again: the file cache catches up, no warning
"$SM" show skill:s77 --json >"$TMP/out" 2>"$TMP/err" || fail "show with room again: $(cat "$TMP/err")"
json_check "$TMP/out" 'd["description"] == "edited while the disk was full"'
! grep -q "no space" "$TMP/err" || fail "a warning with room again: $(cat "$TMP/err")"
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
! grep -q " ERROR " "$TMP/full.serve.err" || fail "errors of the server on a full disk: $(cat "$TMP/full.serve.err")"
json_check "$TMP/tmpfs.out" 'len(d) == 160'
same_json "$TMP/tmpfs.search" "$TMP/ref.search"
grep -q "^warning: no space left" "$TMP/tmpfs.err" || fail "no warning on a full tmpfs: $(cat "$TMP/tmpfs.err")"
! grep -q "^error" "$TMP/tmpfs.err" || fail "an error on a full tmpfs: $(cat "$TMP/tmpfs.err")"
ok
done_ok
