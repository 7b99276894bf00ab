#!/bin/sh
# A self-healing cache (issue 11, point 5). Damage found by a query after the
# open (a page deep in metadata.db, its indexes, its full-text index) is
# repaired from the files with one warning, for list, show, search, cache
# rebuild and dump, and for a server's reads; a full disk still answers reads.
# Damage: 64 bytes of 0xff written at the start of a page of a real cache,
# for the root page of every table and index and 8 pages spread over the file.
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
reference() {
	"$SM" list --json >"$TMP/ref.list" || fail "reference list"
	"$SM" show skill:s77 --json >"$TMP/ref.show" || fail "reference show"
	"$SM" search word3 --json >"$TMP/ref.search" || fail "reference search"
	"$SM" cache dump >"$TMP/ref.dump" || fail "reference dump"
}
rm -rf "$SKILLMEAT_HOME/cache"
reference
json_check "$TMP/ref.list" 'len(d) == 160'
json_check "$TMP/ref.search" 'len(d) > 10'
cp "$DB" "$TMP/good.db" || fail "copy the cache"
[ ! -s "$DB-wal" ] || fail "the cache has a WAL after the last close"

# the pages to damage: 1 (the header), every root page, and 8 spread over the file
python3 - "$TMP/good.db" >"$TMP/pages" <<'PY' || fail "read the cache's layout"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
roots = [r[0] for r in db.execute("SELECT rootpage FROM sqlite_master WHERE rootpage > 1")]
n = db.execute("PRAGMA page_count").fetchone()[0]
spread = [2 + (n - 2) * k // 7 for k in range(8)]
print(" ".join(str(p) for p in sorted(set([1] + roots + spread))))
PY
npages=$(wc -w <"$TMP/pages")
[ "$npages" -ge 25 ] || fail "too few pages to damage: $(cat "$TMP/pages")"
ok

damage() { # damage PAGE: the good cache, with page PAGE overwritten at its start
	rm -f "$DB" "$DB-wal" "$DB-shm"
	cp "$TMP/good.db" "$DB" || fail "restore the cache"
	python3 - "$DB" "$1" <<'PY' || fail "damage page $1"
import sys
with open(sys.argv[1], "r+b") as f:
    ps = 4096
    f.seek((int(sys.argv[2]) - 1) * ps)
    f.write(b"\xff" * 64)
PY
}

# one_warning FILE: at most one line about the damaged cache, and no error
one_warning() {
	n=$(grep -c "corrupt\|unusable\|malformed" "$1")
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

# each damaged page with one reader, in turn; then the cache must be a good one again
healed=0
j=0
for p in $(cat "$TMP/pages"); do
	damage "$p"
	case $((j % 5)) in
	0)
		"$SM" list --json >"$TMP/out" 2>"$TMP/err" || fail "list, page $p: $(cat "$TMP/err")"
		same_json "$TMP/out" "$TMP/ref.list"
		;;
	1)
		"$SM" show skill:s77 --json >"$TMP/out" 2>"$TMP/err" || fail "show, page $p: $(cat "$TMP/err")"
		same_json "$TMP/out" "$TMP/ref.show"
		;;
	2)
		"$SM" search word3 --json >"$TMP/out" 2>"$TMP/err" || fail "search, page $p: $(cat "$TMP/err")"
		same_json "$TMP/out" "$TMP/ref.search"
		;;
	3)
		"$SM" cache rebuild >/dev/null 2>"$TMP/err" || fail "cache rebuild, page $p: $(cat "$TMP/err")"
		;;
	4)
		"$SM" cache dump >"$TMP/out" 2>"$TMP/err" || fail "cache dump, page $p: $(cat "$TMP/err")"
		cmp -s "$TMP/out" "$TMP/ref.dump" || fail "page $p: dump of a damaged cache differs"
		ok
		;;
	esac
	one_warning "$TMP/err"
	grep -q "corrupt\|unusable" "$TMP/err" && healed=$((healed + 1))
	# a page the reader did not need may still be damaged: a full read finds it
	"$SM" cache dump >"$TMP/out" 2>"$TMP/err" || fail "dump after the repair, page $p: $(cat "$TMP/err")"
	cmp -s "$TMP/out" "$TMP/ref.dump" || fail "page $p: dump after the repair differs"
	ok
	j=$((j + 1))
done
# most damage is seen by the first reader (a page it does not read may stay unnoticed)
[ "$healed" -ge $((npages / 3)) ] || fail "only $healed of $npages damaged pages were noticed"
ok

# a cache that is no database at all, or empty, or cut short
for how in garbage empty half; do
	rm -f "$DB-wal" "$DB-shm"
	case $how in
	garbage) head -c 20000 /dev/urandom >"$DB" ;;
	empty) : >"$DB" ;;
	half) head -c $(($(wc -c <"$TMP/good.db") / 2)) "$TMP/good.db" >"$DB" ;;
	esac
	"$SM" list --json >"$TMP/out" 2>"$TMP/err" || fail "list, $how: $(cat "$TMP/err")"
	same_json "$TMP/out" "$TMP/ref.list"
	one_warning "$TMP/err"
done

# ---- a server's reads ----
for p in $(python3 - "$TMP/good.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
q = "SELECT rootpage FROM sqlite_master WHERE name IN ('artifacts', 'artifact_fts_data', 'artifact_fts_idx', 'collection_artifacts')"
print(" ".join(str(r[0]) for r in db.execute(q)))
PY
); do
	damage "$p"
	"$SM" serve --port 0 >"$TMP/url" 2>"$TMP/serve.err" &
	pid=$!
	i=0
	# a generous deadline: the machine may be busy (no timing is asserted)
	while [ ! -s "$TMP/url" ] && [ $i -lt 1800 ] && kill -0 $pid 2>/dev/null; do
		sleep 0.1
		i=$((i + 1))
	done
	URL=$(head -n 1 "$TMP/url")
	if [ -z "$URL" ]; then
		state=exited
		kill -0 $pid 2>/dev/null && state="still running after $i waits"
		kill $pid 2>/dev/null
		wait $pid
		fail "serve did not start ($state, status $?), page $p: $(cat "$TMP/serve.err")"
	fi
	python3 - "$URL" "$TMP/ref.list" "$TMP/ref.search" <<'PY' || { kill $pid; fail "server reads, page $p: $(cat "$TMP/serve.err")"; }
import json, sys, urllib.request
url, ref_list, ref_search = sys.argv[1:4]
names = sorted(x["name"] for x in json.load(open(ref_list)))
found = sorted(x["name"] for x in json.load(open(ref_search)))
def get(path):
    with urllib.request.urlopen(url + path, timeout=30) as r:
        return json.load(r)
def all_items(path):
    items, after = [], None
    while True:
        j = get(path + ("&after=" + after if after else ""))
        items += j["items"]
        after = j.get("page_info", {}).get("end_cursor") if j.get("page_info", {}).get("has_next_page") else None
        if not after:
            return items
# several connections: every loop thread's own connection
for _ in range(4):
    got = sorted(x["name"] for x in all_items("/api/v1/artifacts?limit=100"))
    assert got == names, ("list", len(got), len(names))
    got = sorted(x["name"] for x in all_items("/api/v1/artifacts?limit=100&search=word3"))
    assert got == found, ("search", got[:5], found[:5])
    j = get("/api/v1/artifacts/skill:s77")
    assert j["name"] == "s77", j
    j = get("/api/v1/user-collections/default/artifacts?limit=100")
    assert j["items"], j
PY
	ok
	n=$(grep -c "corrupt\|unusable" "$TMP/serve.err")
	[ "$n" -le 1 ] || { kill $pid; fail "server: $n warnings, page $p: $(cat "$TMP/serve.err")"; }
	kill $pid && wait $pid || fail "serve did not stop cleanly"
done
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
# the same with the cache's WAL and shared memory left by another process
full list --json >"$TMP/out" 2>"$TMP/err" || fail "list on a full disk: $(cat "$TMP/err")"
json_check "$TMP/out" '{x["name"]: x["description"] for x in d}["s77"] == "edited while the disk was full"'

# a real full file system, where user namespaces allow a private tmpfs
if unshare -rm true 2>/dev/null; then
	mkdir -p "$TMP/mnt"
	unshare -rm sh -c '
		set -e
		mount -t tmpfs -o size=2m tmpfs "$1"
		cp -r "$2" "$1/home"
		export SKILLMEAT_HOME="$1/home"
		rm -rf "$1/home/cache"
		"$3" list >/dev/null 2>&1
		dd if=/dev/zero of="$1/fill" bs=4k 2>/dev/null || true
		"$3" list --json >"$4/tmpfs.out" 2>"$4/tmpfs.err"
		"$3" search word3 --json >"$4/tmpfs.search" 2>>"$4/tmpfs.err"
	' sh "$TMP/mnt" "$SKILLMEAT_HOME" "$SM" "$TMP" || fail "reads on a full tmpfs: $(cat "$TMP/tmpfs.err" 2>/dev/null)"
	json_check "$TMP/tmpfs.out" 'len(d) == 160'
	same_json "$TMP/tmpfs.search" "$TMP/ref.search"
else
	echo "note: no user namespaces here; the tmpfs case is skipped (RLIMIT_FSIZE covers it)"
fi
done_ok
