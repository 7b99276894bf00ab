# Shared by test_heal.sh and test_heal_serve.sh (sourced after lib.sh): a
# home of 160 skills, the answers of a cache built from scratch (ref.*), a copy
# of that cache (good.db), its page layout (pages) and the helpers that damage
# it and check the answers.

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
# the WAL and its index outlive a close, emptied: a verb does not create and
# unlink them on every run (src/cache/db.c, SQLITE_FCNTL_PERSIST_WAL)
[ -f "$DB-wal" ] && [ -f "$DB-shm" ] || fail "the WAL or its index was unlinked at the last close"

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

