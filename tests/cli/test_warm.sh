#!/bin/sh
# The warm sync of a read (list, show) sees every kind of hand change on its
# own, each followed by one read: the fingerprint walk reads folders with
# getdents64 relative to the collection folder, stats a name with an
# extension first and opens any other as a folder first, or stats what a
# skill's walk record names (src/cache/fingerprint.c).
# The table of `list` (a brief read of the rows) shows what --json shows.
. "$(dirname "$0")/lib.sh"

C="$SKILLMEAT_HOME/collections/default"
src="$TMP/src"
make_skill "$src/skills/plain" plain "description: plain skill"
mkdir -p "$src/skills/plain/ref/deep" "$src/agents"
echo "reference one" >"$src/skills/plain/ref/deep/notes.txt"
printf -- '---\ndescription: an agent\n---\nx\n' >"$src/agents/helper.md"
"$SM" add --all "$src" --quiet || fail "add --all"
make_skill "$TMP/dotted" v1.2 "description: a dotted folder"
"$SM" add skill "$TMP/dotted" --name v1.2 >/dev/null || fail "add a skill named v1.2"
[ -d "$C/skills/v1.2" ] || fail "no folder skills/v1.2"
"$SM" list >/dev/null || fail "list"

# desc NAME: the description `list --json` shows for NAME
desc() {
	"$SM" list --json >"$TMP/l.json" || fail "list --json"
	python3 -c 'import json,sys; print({x["name"]: x["description"] for x in json.load(open(sys.argv[1]))}[sys.argv[2]])' "$TMP/l.json" "$1"
}
# hash NAME: its content hash
hash() {
	"$SM" list --json >"$TMP/l.json" || fail "list --json"
	python3 -c 'import json,sys; print({x["name"]: x["content_hash"] for x in json.load(open(sys.argv[1]))}[sys.argv[2]])' "$TMP/l.json" "$1"
}

# a nested file rewritten in place, same size, its time moved: a new hash
h0=$(hash plain)
echo "reference two" >"$C/skills/plain/ref/deep/notes.txt"
touch -d '2001-02-03 04:05:06' "$C/skills/plain/ref/deep/notes.txt"
h1=$(hash plain)
[ "$h0" != "$h1" ] || fail "a same-size edit of a nested file was not seen"
ok
# the same edit with its times put back (touch -r): size, mtime and inode as
# before, only the ctime tells (top-level SKILL.md and a nested file)
chmod -R u+w "$C/skills/plain"
cp -p "$C/skills/plain/SKILL.md" "$TMP/skill.before"
sed 's/plain skill/plain SKILL/' "$TMP/skill.before" >"$TMP/skill.after"
cmp -s "$TMP/skill.before" "$TMP/skill.after" && fail "the edit changed nothing"
cat "$TMP/skill.after" >"$C/skills/plain/SKILL.md"
touch -r "$TMP/skill.before" "$C/skills/plain/SKILL.md"
[ "$(desc plain)" = "plain SKILL" ] || fail "a same-size edit under touch -r was not seen: $(desc plain)"
h0=$(hash plain)
cp -p "$C/skills/plain/ref/deep/notes.txt" "$TMP/notes.before"
echo "reference 2wo" >"$C/skills/plain/ref/deep/notes.txt"
touch -r "$TMP/notes.before" "$C/skills/plain/ref/deep/notes.txt"
h1=$(hash plain)
[ "$h0" != "$h1" ] || fail "a nested same-size edit under touch -r was not seen"
ok
# a new file in a nested folder, nothing else
echo new >"$C/skills/plain/ref/deep/added.txt"
h2=$(hash plain)
[ "$h2" != "$h1" ] || fail "a new nested file was not seen"
ok
# a file removed from a nested folder
rm "$C/skills/plain/ref/deep/added.txt"
[ "$(hash plain)" = "$h1" ] || fail "a removed nested file was not seen"
ok
# an agent (one .md file: stat'ed first) edited in place
printf -- '---\ndescription: an edited agent\n---\nx\n' >"$C/agents/helper.md"
[ "$(desc helper)" = "an edited agent" ] || fail "the agent's edit was not seen: $(desc helper)"
ok
# a skill whose folder name has a dot (stat'ed first, then opened as a folder)
make_skill "$C/skills/v1.2" v1.2 "description: the dotted one, edited"
[ "$(desc v1.2)" = "the dotted one, edited" ] || fail "the dotted skill's edit was not seen"
ok
# a file behind a symlink is followed; a dangling symlink is skipped
echo target >"$TMP/outside.txt"
ln -s "$TMP/outside.txt" "$C/skills/plain/link.txt"
h3=$(hash plain)
[ "$h3" != "$h1" ] || fail "a symlinked file was not seen"
echo changed-target >"$TMP/outside.txt"
[ "$(hash plain)" != "$h3" ] || fail "a change behind a symlink was not seen"
rm "$C/skills/plain/link.txt"
ln -s "$TMP/nowhere" "$C/skills/plain/dangling"
"$SM" list >/dev/null 2>"$TMP/err" || fail "list with a dangling symlink: $(cat "$TMP/err")"
rm "$C/skills/plain/dangling"
ok
# A skill folder's walk record (src/cache/fingerprint.c): with every folder's
# stat as recorded, the warm sync stats the recorded files without reading a
# folder. Each edit below is made under a record and must still be seen.
mkdir -p "$TMP/walk/skills/w/ref/deep"
make_skill "$TMP/walk/skills/w" w "description: walked"
echo one >"$TMP/walk/skills/w/ref/deep/a.txt"
echo two >"$TMP/walk/skills/w/ref/b.txt"
"$SM" add skill "$TMP/walk/skills/w" >/dev/null || fail "add w"
W="$C/skills/w"
chmod -R u+w "$W"
# recorded: the folders changed longer ago than the racy window (100 ms), then
# a rebuild fingerprints them again
recorded() {
	sleep 0.3
	"$SM" cache rebuild >/dev/null || fail "cache rebuild"
	python3 - "$SKILLMEAT_HOME/cache/metadata.db" <<'PY' || fail "no walk record for w"
import sqlite3, sys
fp = sqlite3.connect(sys.argv[1]).execute(
    "SELECT fingerprint FROM artifacts WHERE name = 'w'").fetchone()[0]
assert "\n" in fp and "\nfref/deep/a.txt\n" in fp + "\n", fp
PY
	hash w
}
r0=$(recorded)
[ "$(hash w)" = "$r0" ] || fail "an unchanged recorded skill changed"
echo added >"$W/ref/deep/new.txt"
[ "$(hash w)" != "$r0" ] || fail "a file added in a recorded subfolder was not seen"
rm "$W/ref/deep/new.txt"
r0=$(recorded)
rm "$W/ref/b.txt"
[ "$(hash w)" != "$r0" ] || fail "a file removed from a recorded subfolder was not seen"
echo two >"$W/ref/b.txt"
r0=$(recorded)
mv "$W/ref/deep" "$W/ref/deeper"
[ "$(hash w)" != "$r0" ] || fail "a renamed recorded subfolder was not seen"
mv "$W/ref/deeper" "$W/ref/deep"
r0=$(recorded)
cp -p "$W/ref/deep/a.txt" "$TMP/a.before"
echo ONE >"$W/ref/deep/a.txt"
touch -r "$TMP/a.before" "$W/ref/deep/a.txt"
[ "$(hash w)" != "$r0" ] || fail "a same-size edit under touch -r in a recorded folder was not seen"
echo one >"$W/ref/deep/a.txt"
r0=$(recorded)
# the subfolder swapped for a copy keeping every time (cp -a): a new inode
cp -a "$W/ref/deep" "$TMP/deep.copy"
echo extra >"$TMP/deep.copy/x.txt"
touch -r "$W/ref/deep" "$TMP/deep.copy"
rm -r "$W/ref/deep"
mv "$TMP/deep.copy" "$W/ref/deep"
[ "$(hash w)" != "$r0" ] || fail "a recorded subfolder swapped for another was not seen"
rm "$W/ref/deep/x.txt"
r0=$(recorded)
# a recorded file replaced by a folder of the same name
rm "$W/ref/b.txt"
mkdir "$W/ref/b.txt"
echo inside >"$W/ref/b.txt/c.txt"
[ "$(hash w)" != "$r0" ] || fail "a recorded file turned folder was not seen"
rm -r "$W/ref/b.txt"
echo two >"$W/ref/b.txt"
r0=$(recorded)
make_skill "$W" w "description: walked, then edited"
[ "$(desc w)" = "walked, then edited" ] || fail "an edit of a recorded SKILL.md was not seen: $(desc w)"
ok
# A skill synced while its folders were racy (added and listed within 100 ms)
# gets its walk record from a later read once they have settled, without a
# rebuild: otherwise every list walks its folders for good.
walkrec() {
	python3 - "$SKILLMEAT_HOME/cache/metadata.db" "$1" <<'PY'
import sqlite3, sys
fp = sqlite3.connect(sys.argv[1]).execute(
    "SELECT fingerprint FROM artifacts WHERE name = ?", (sys.argv[2],)).fetchone()[0]
print("yes" if "\n" in fp else "no")
PY
}
mkdir -p "$TMP/late/skills/late/ref"
make_skill "$TMP/late/skills/late" late "description: late record"
echo one >"$TMP/late/skills/late/ref/a.txt"
"$SM" add skill "$TMP/late/skills/late" >/dev/null || fail "add late"
sleep 0.3
h0=$(hash late)
[ "$(walkrec late)" = yes ] || fail "a settled folder got no walk record from list"
echo two >"$C/skills/late/ref/b.txt"
[ "$(hash late)" != "$h0" ] || fail "a file added under the late record was not seen"
ok
# show sees an edit without a list first
make_skill "$C/skills/plain" plain "description: shown after an edit"
"$SM" show plain >"$TMP/show" || fail "show"
grep -q "shown after an edit" "$TMP/show" || fail "show missed the edit: $(cat "$TMP/show")"
ok
# the table shows the same rows and fields as --json
make_skill "$C/skills/plain" plain "description: in the table" "tags: [red, blue]"
"$SM" list >"$TMP/table" || fail "list"
"$SM" list --json >"$TMP/l.json" || fail "list --json"
python3 - "$TMP/l.json" "$TMP/table" <<'PY' || fail "the table and --json differ: $(cat "$TMP/table")"
import json, sys
rows = json.load(open(sys.argv[1]))
table = open(sys.argv[2]).read().splitlines()
assert table[0] == f"Artifacts ({len(rows)})", table[0]
body = table[2:]
assert len(body) == len(rows), (len(body), len(rows))
for r, line in zip(rows, body):
    cells = line.split()
    assert cells[0] == r["name"] and cells[1] == r["type"] and cells[2] == (r["origin"] or "-"), (r, line)
    tags = ",".join(r["tags"]) or "-"
    assert tags in line, (tags, line)
    assert r["description"][:8] in line, (r["description"], line)
PY
ok
done_ok
