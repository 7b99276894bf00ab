#!/bin/sh
# A self-healing cache (issue 11, point 5), the CLI: damage found by a query
# after the open (a page deep in metadata.db, its indexes, its full-text
# index) is repaired from the files with one warning, for list, show, search,
# cache rebuild and dump; a file that is no database is emptied and refilled;
# a full disk still answers reads (test_heal_serve.sh: a running server, a
# full tmpfs).
# Damage: 64 bytes of 0xff written at the start of a page of a real cache:
# the header page, a leaf page deep in the artifacts table, the root and the
# leaves of the full-text index holding the searched terms, the root page of
# every table and index, and 8 pages spread over the file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/heal_lib.sh"

# the named pages, each with the readers that must notice it: one warning each time
for c in "header list" "header dump" "deep list" "deep show" "deep rebuild" "fts-root search" \
	"fts-leaf search" "fts-root rebuild"; do
	set -- $c
	label="$1 page, $2"
	p=$(awk -v l="$1" '$1 == l { print $2 }' "$TMP/pages")
	damage "$p"
	read_with "$2"
	[ "$(warnings "$TMP/err")" = 1 ] || fail "$label (page $p): the damage went unnoticed: $(cat "$TMP/err")"
	grep -q "^warning: cache: '.*metadata.db' is \(corrupt\|unusable\)" "$TMP/err" ||
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

done_ok
