#!/bin/sh
# Crash-safe writes (issue 11 point 3), the cases a user meets without a
# crash loop: lock entries lost by an old crash are repaired by add --all,
# leftovers of dead writers go at the next write (never at a read), remove
# of an artifact with a read-only folder, a committed but unfinished write.
. "$(dirname "$0")/lib.sh"

C="$SKILLMEAT_HOME/collections/default"
SRC="$TMP/src"
make_skill "$SRC/skills/one" one "description: first"
make_skill "$SRC/skills/two" two "description: second"
must "$SM" add --all "$SRC" >/dev/null

# 1. a crash between the manifest and the lock (before the journal) lost lock entries
python3 - "$C/collection.lock" <<'PY' || fail "cannot edit the lock"
import sys, re
p = sys.argv[1]
t = open(p).read()
t = re.sub(r'\[lock\.entries\."one::skill"\][^\[]*', '', t)
open(p, "w").write(t)
PY
grep -q 'one::skill' "$C/collection.lock" && fail "the lock entry was not removed"
must "$SM" show skill:one --json >"$TMP/s.json"
json_check "$TMP/s.json" 'd["locally_modified"] is False'
must "$SM" add --all "$SRC" --json >"$TMP/a.json"
json_check "$TMP/a.json" 'd["unchanged"] == 2 and d["added"] == 0'
grep -q 'one::skill' "$C/collection.lock" || fail "add --all did not repair the lock entry of an unchanged artifact"
echo "edited" >>"$C/skills/one/SKILL.md"
must "$SM" show skill:one --json >"$TMP/s.json"
json_check "$TMP/s.json" 'd["locally_modified"] is True'

# 2. leftovers of dead writers (older versions too): a read keeps them, the next write removes them
mkdir -p "$C/skills/.one.sm-new-4242" "$C/skills/.two.sm-old-4243/sub"
echo x >"$C/skills/.one.sm-new-4242/SKILL.md"
echo x >"$C/.collection.toml.0badf00d.tmp"
echo x >"$C/.collection.lock.0badf00d.tmp"
echo x >"$SKILLMEAT_HOME/.user-collections.toml.0badf00d.tmp"
mkdir -p "$SKILLMEAT_HOME/collections/.gone.sm-old-4244"
chmod 555 "$C/skills/.two.sm-old-4243/sub"
before=$(tree_sum "$SKILLMEAT_HOME")
must "$SM" list --json >/dev/null
[ "$(tree_sum "$SKILLMEAT_HOME")" = "$before" ] || fail "a read changed files"
[ -d "$C/skills/.one.sm-new-4242" ] || fail "a read removed a leftover"
make_skill "$SRC/three" three "description: third"
must "$SM" add "$SRC/three" >/dev/null
left=$(find "$SKILLMEAT_HOME" -path "$SKILLMEAT_HOME/cache" -prune -o \( -name '*.sm-new-*' -o -name '*.sm-old-*' -o -name '*.tmp' -o -name '*.sm-next' -o -name '.collection.journal' \) -print)
[ -z "$left" ] || fail "leftovers after the next write: $left"
ok

# 3. remove of an artifact holding a read-only folder: all or nothing
make_skill "$SRC/ro" ro "description: read-only inside"
mkdir -p "$SRC/ro/locked" && echo keep >"$SRC/ro/locked/file.txt"
must "$SM" add "$SRC/ro" >/dev/null
chmod 555 "$C/skills/ro/locked"
must "$SM" remove -f skill:ro >/dev/null
[ ! -e "$C/skills/ro" ] || fail "remove left files of skill:ro"
grep -q 'name = "ro"' "$C/collection.toml" && fail "skill:ro is still in the manifest"
ok

# 4. a removal that fails (the type folder is read-only) changes nothing
if [ "$(id -u)" != 0 ]; then
	chmod 555 "$C/skills"
	expect_exit 1 "$SM" remove -f skill:two
	chmod 755 "$C/skills"
	grep -q 'name = "two"' "$C/collection.toml" || fail "a failed remove dropped the entry"
	[ -f "$C/skills/two/SKILL.md" ] || fail "a failed remove deleted files"
fi

# 5. a write committed (journal "committed") but not finished: reads see it, the next write finishes it
cp "$C/collection.toml" "$TMP/m.before"
# the next files as the removal writes them (on a copy of the home)
cp -a "$SKILLMEAT_HOME" "$TMP/copy"
SKILLMEAT_HOME="$TMP/copy" "$SM" remove -f skill:three >/dev/null || fail "remove on the copy"
cp "$TMP/copy/collections/default/collection.toml" "$C/.collection.toml.sm-next"
cp "$TMP/copy/collections/default/collection.lock" "$C/.collection.lock.sm-next"
printf '%s\n' 'state = "committed"' 'from = ["skills/three"]' 'to = ["skills/.three.sm-old-77"]' \
	'trash = ["skills/.three.sm-old-77"]' 'staged = []' >"$C/.collection.journal"
mv "$C/skills/three" "$C/skills/.three.sm-old-77"
before=$(tree_sum "$SKILLMEAT_HOME")
must "$SM" list --json >"$TMP/l.json"
json_check "$TMP/l.json" '"three" not in [x["name"] for x in d] and "one" in [x["name"] for x in d]'
[ "$(tree_sum "$SKILLMEAT_HOME")" = "$before" ] || fail "a read finished the write"
must "$SM" add "$SRC/skills/two" >/dev/null
[ ! -e "$C/.collection.journal" ] || fail "the next write did not finish the committed write"
[ ! -e "$C/skills/.three.sm-old-77" ] || fail "the set-aside copy was not deleted"
grep -q 'name = "three"' "$C/collection.toml" && fail "the committed removal was lost"
grep -q 'three::skill' "$C/collection.lock" && fail "the committed lock was lost"

# 6. a hostile journal moves nothing outside our side names
cat >"$C/.collection.journal" <<'J'
state = "prepared"
from = ["skills/one"]
to = ["../../../escaped"]
trash = []
staged = []
J
expect_exit 1 "$SM" add "$SRC/three"
grep -q "journal is malformed" "$TMP/.err" || fail "hostile journal: $(cat "$TMP/.err")"
[ -f "$C/skills/one/SKILL.md" ] || fail "a hostile journal moved files"
rm "$C/.collection.journal"
ok

# 7. a replace killed right after it exchanged the new copy in (before the
# old one went to its set-aside name): the artifact is never missing, and the
# next write puts the old copy back, with and without an exchange at recovery
make_skill "$SRC/four" four "description: fourth"
must "$SM" add "$SRC/four" >/dev/null
for how in exchange rename; do
	make_skill "$TMP/v2-$how/four" four "description: replaced ($how)"
	old=$(tree_sum "$C/skills/four")
	SKILLMEAT_TEST_KILL_AT='commit-move#2' "$SM" add --force "$TMP/v2-$how/four" >/dev/null 2>&1 &&
		fail "$how: the kill did not stop add --force"
	[ -f "$C/skills/four/SKILL.md" ] || fail "$how: skill four is missing after the kill"
	grep -q "replaced ($how)" "$C/skills/four/SKILL.md" || fail "$how: the kill came before the exchange"
	[ -e "$C/.collection.journal" ] || fail "$how: no journal left by the kill"
	if [ $how = rename ]; then
		SKILLMEAT_TEST_FAIL_AT=txn-no-exchange must "$SM" add "$SRC/skills/two" >/dev/null
	else
		must "$SM" add "$SRC/skills/two" >/dev/null
	fi
	[ "$(tree_sum "$C/skills/four")" = "$old" ] || fail "$how: recovery did not put the old copy back"
	[ ! -e "$C/.collection.journal" ] || fail "$how: the journal is left"
	left=$(find "$C" \( -name '*.sm-new-*' -o -name '*.sm-old-*' \) -print)
	[ -z "$left" ] || fail "$how: leftovers after recovery: $left"
	must "$SM" show skill:four --json >"$TMP/s.json"
	json_check "$TMP/s.json" 'd["locally_modified"] is False'
done
done_ok
