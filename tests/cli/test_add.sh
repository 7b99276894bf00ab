#!/bin/sh
# add / list / show / remove of local artifacts, and bad input that must change nothing.
. "$(dirname "$0")/lib.sh"

SRC="$TMP/src"
mkdir -p "$SRC/agents" "$SRC/commands"
make_skill "$SRC/canvas-design" canvas-design "description: Create visual designs" \
	"author: Jane Doe" "license: MIT" "version: 1.10" "tags: [design, canvas]" \
	"allowed-tools: Read, Write, Bash, FooTool" "empty-key:"
mkdir -p "$SRC/canvas-design/scripts" "$SRC/canvas-design/__pycache__"
echo 'print("hi")' >"$SRC/canvas-design/scripts/run.py"
echo junk >"$SRC/canvas-design/__pycache__/x.pyc"
printf -- '---\ndescription: Reviews code\ntools: Read, Grep\n---\nYou review code.\n' >"$SRC/agents/reviewer.md"
printf '# Deploy\n\nDeploy the app to production.\n' >"$SRC/commands/deploy.md"

# on a home with no collection, 'default' is created first; type detected
"$SM" add "$SRC/canvas-design" >"$TMP/out" 2>&1 || fail "add skill: $(cat "$TMP/out")"
grep -q "Added skill: canvas-design" "$TMP/out" || fail "add output: $(cat "$TMP/out")"
C="$SKILLMEAT_HOME/collections/default"
[ -f "$C/skills/canvas-design/SKILL.md" ] || fail "skill files not copied"
[ -f "$C/skills/canvas-design/scripts/run.py" ] || fail "nested file not copied"
[ ! -e "$C/skills/canvas-design/__pycache__" ] || fail "__pycache__ was copied"
ok
"$SM" add "$SRC/agents/reviewer.md" >/dev/null || fail "add agent"
"$SM" --json add command "$SRC/commands/deploy.md" --name ship --tags ops,release >"$TMP/a.json" ||
	fail "add command"
json_check "$TMP/a.json" 'd["artifact"]["name"] == "ship" and d["artifact"]["type"] == "command"'
[ -f "$C/commands/ship.md" ] || fail "--name not used for the path"

"$SM" list --json >"$TMP/l.json" || fail "list --json"
json_check "$TMP/l.json" '[x["id"] for x in d] == ["agent:reviewer", "command:ship", "skill:canvas-design"]'
json_check "$TMP/l.json" 'all(list(x) == ["id","name","type","collection","path","origin","title","description","author","license","version","tags","tools","content_hash","locally_modified","upstream","version_spec","resolved_sha","resolved_version","added"] for x in d)'
json_check "$TMP/l.json" 'd[2]["version"] == "1.1" and d[2]["author"] == "Jane Doe" and d[2]["tags"] == ["design", "canvas"]'
json_check "$TMP/l.json" 'd[2]["tools"] == ["Read", "Write", "Bash"] and d[2]["path"] == "skills/canvas-design"'
json_check "$TMP/l.json" 'd[1]["tags"] == ["ops", "release"] and d[1]["description"] == "Deploy the app to production."'
json_check "$TMP/l.json" 'all(x["locally_modified"] is False and len(x["content_hash"]) == 64 for x in d)'
json_check "$TMP/l.json" 'all(x["origin"] == "local" and x["upstream"] is None for x in d)'
python3 - "$C" <<'PY' || fail "lock hash is not algorithm A of the stored copy"
import hashlib, os, sys, tomllib
c = sys.argv[1]
lock = tomllib.load(open(c + "/collection.lock", "rb"))["lock"]["entries"]
def hash_a(p):
    if os.path.isfile(p):
        return hashlib.sha256(open(p, "rb").read()).hexdigest()
    files = []
    for root, dirs, fs in os.walk(p):
        for f in fs:
            files.append(os.path.relpath(os.path.join(root, f), p))
    h = hashlib.sha256()
    for rel in sorted(files, key=lambda r: r.split("/")):
        h.update(rel.encode()); h.update(open(os.path.join(p, rel), "rb").read())
    return h.hexdigest()
assert lock["canvas-design::skill"]["content_hash"] == hash_a(c + "/skills/canvas-design")
assert lock["reviewer::agent"]["content_hash"] == hash_a(c + "/agents/reviewer.md")
m = tomllib.load(open(c + "/collection.toml", "rb"))
e = [a for a in m["artifacts"] if a["name"] == "canvas-design"][0]
assert list(e)[:5] == ["name", "type", "path", "origin", "added"], list(e)
assert "empty-key" not in e["metadata"].get("extra", {}), e["metadata"]
PY
ok

# filters and the table
"$SM" list --json --type skill >"$TMP/l.json" || fail "command failed: skillmeat list --json --type skill"; json_check "$TMP/l.json" 'len(d) == 1'
# an empty page (no rows at all): memcpy(…, NULL, 0) under UBSan before
"$SM" list --json --tag no-such-tag >"$TMP/l.json" || fail "command failed: skillmeat list --json --tag no-such-tag"; json_check "$TMP/l.json" 'd == []'
"$SM" list --json --tag ops >"$TMP/l.json" || fail "command failed: skillmeat list --json --tag ops"; json_check "$TMP/l.json" '[x["name"] for x in d] == ["ship"]'
"$SM" list --json --search REVIEW >"$TMP/l.json" || fail "command failed: skillmeat list --json --search REVIEW"; json_check "$TMP/l.json" '[x["name"] for x in d] == ["reviewer"]'
COLUMNS=60 "$SM" list >"$TMP/out" || fail "list"
grep -q "Artifacts (3)" "$TMP/out" || fail "table header: $(cat "$TMP/out")"
awk 'length > 60 * 3 { exit 1 }' "$TMP/out" || fail "table not cut to the width"
if grep -q "$(printf '\033')" "$TMP/out"; then fail "colour when not a TTY"; fi
ok

# show
"$SM" show canvas-design --json >"$TMP/s.json" || fail "show"
json_check "$TMP/s.json" 'd["id"] == "skill:canvas-design" and d["files"] == ["SKILL.md", "scripts/run.py"]'
json_check "$TMP/s.json" 'd["lock"]["content_hash"] == d["content_hash"] and d["metadata"]["license"] == "MIT"'
json_check "$TMP/s.json" '"uuid" in d'
"$SM" show skill:canvas-design >"$TMP/out" || fail "show type:name"
grep -q "canvas-design (skill)" "$TMP/out" || fail "show text"
expect_exit 1 "$SM" show nope
expect_exit 1 "$SM" show bogus:canvas-design

# re-adding the same content: unchanged, files untouched
before=$(tree_sum "$SKILLMEAT_HOME")
"$SM" add "$SRC/canvas-design" >"$TMP/out" || fail "re-add"
grep -q Unchanged "$TMP/out" || fail "re-add not unchanged: $(cat "$TMP/out")"
[ "$before" = "$(tree_sum "$SKILLMEAT_HOME")" ] || fail "an unchanged re-add wrote files"
ok
# changed content: refused without --force, replaced with it
echo "more" >>"$SRC/canvas-design/SKILL.md"
expect_exit 1 "$SM" add "$SRC/canvas-design"
grep -q "already exists" "$TMP/.err" || fail "conflict message: $(cat "$TMP/.err")"
"$SM" add "$SRC/canvas-design" --force >/dev/null || fail "add --force"
grep -q more "$C/skills/canvas-design/SKILL.md" || fail "--force did not replace the files"
ok

# keys we do not know survive a rewrite (top level, [collection], an entry, the lock)
python3 - "$C" <<'PY' || fail "cannot add unknown keys"
import sys
c = sys.argv[1]
t = open(c + "/collection.toml").read()
t = "future_top = \"kept\"\n" + t
t = t.replace('[collection]\n', '[collection]\nowner = "someone"\n', 1)
t = t.replace('name = "reviewer"\n', 'name = "reviewer"\nrating = 5\n', 1)
open(c + "/collection.toml", "w").write(t)
l = open(c + "/collection.lock").read()
open(c + "/collection.lock", "w").write(l.replace('[lock]\nversion = "1.0.0"\n', '[lock]\nversion = "1.0.0"\nfuture = true\n', 1))
PY
printf -- '---\ndescription: trigger a rewrite\n---\n' >"$SRC/commands/rewrite.md"
"$SM" add "$SRC/commands/rewrite.md" >/dev/null || fail "add after unknown keys"
python3 - "$C" <<'PY' || fail "unknown keys were lost in a rewrite"
import sys, tomllib
c = sys.argv[1]
m = tomllib.load(open(c + "/collection.toml", "rb"))
assert m["future_top"] == "kept" and m["collection"]["owner"] == "someone", m.keys()
assert [a for a in m["artifacts"] if a["name"] == "reviewer"][0]["rating"] == 5
assert any(a["name"] == "rewrite" for a in m["artifacts"])
assert tomllib.load(open(c + "/collection.lock", "rb"))["lock"]["future"] is True
PY
ok
"$SM" remove command:rewrite </dev/null >/dev/null || fail "remove rewrite"

# hand edit → locally_modified
echo "edit" >>"$C/agents/reviewer.md"
"$SM" show agent:reviewer --json >"$TMP/s.json" || fail "command failed: skillmeat show agent:reviewer --json"; json_check "$TMP/s.json" 'd["locally_modified"] is True'

# ambiguous name across types
printf -- '---\ndescription: x\n---\n' >"$SRC/commands/reviewer.md"
"$SM" add "$SRC/commands/reviewer.md" >/dev/null || fail "add command reviewer"
expect_exit 1 "$SM" show reviewer
grep -q "ambiguous" "$TMP/.err" || fail "ambiguity not reported: $(cat "$TMP/.err")"

# bad input changes nothing
before=$(tree_sum "$SKILLMEAT_HOME")
for bad in "../x" "a/b" ".hidden" "a\\b"; do
	expect_exit 1 "$SM" add "$SRC/agents/reviewer.md" --name "$bad"
done
expect_exit 1 "$SM" add "$TMP/does-not-exist"
mkdir -p "$TMP/evil"
make_skill "$TMP/evil/leaky" leaky "description: x"
echo secret >"$TMP/secret.txt"
ln -s "$TMP/secret.txt" "$TMP/evil/leaky/link.txt"
expect_exit 1 "$SM" add "$TMP/evil/leaky"
grep -q "outside" "$TMP/.err" || fail "symlink escape message: $(cat "$TMP/.err")"
mkdir -p "$TMP/empty-skill" && : >"$TMP/empty-skill/SKILL.md"
expect_exit 1 "$SM" add skill "$TMP/empty-skill"
expect_exit 1 "$SM" add "$TMP/src"
expect_exit 2 "$SM" add frob "$SRC/agents/reviewer.md"
expect_exit 2 "$SM" add
[ "$before" = "$(tree_sum "$SKILLMEAT_HOME")" ] || fail "rejected input changed the home"
[ -z "$(find "$C" -name '.sm-add-*')" ] || fail "a staging folder was left behind"
ok

# a symlink inside the source is followed
make_skill "$TMP/ok/linked" linked "description: y"
echo data >"$TMP/ok/linked/real.txt"
ln -s real.txt "$TMP/ok/linked/alias.txt"
"$SM" add "$TMP/ok/linked" >/dev/null || fail "inner symlink refused"
[ -f "$C/skills/linked/alias.txt" ] && [ ! -L "$C/skills/linked/alias.txt" ] || fail "inner symlink not copied as a file"
ok

# remove: non-TTY never prompts; --keep-files keeps them
"$SM" remove command:ship </dev/null >/dev/null || fail "remove"
[ ! -e "$C/commands/ship.md" ] || fail "remove left the files"
"$SM" --json remove agent:reviewer --keep-files </dev/null >"$TMP/r.json" || fail "remove --keep-files"
[ -e "$C/agents/reviewer.md" ] || fail "--keep-files deleted the files"
python3 - "$C" <<'PY' || fail "remove left manifest or lock entries"
import sys, tomllib
c = sys.argv[1]
m = tomllib.load(open(c + "/collection.toml", "rb"))
names = {(a["type"], a["name"]) for a in m["artifacts"]}
assert ("command", "ship") not in names and ("agent", "reviewer") not in names, names
lock = tomllib.load(open(c + "/collection.lock", "rb"))["lock"]["entries"]
assert "ship::command" not in lock and "reviewer::agent" not in lock, list(lock)
PY
ok
expect_exit 1 "$SM" remove command:ship

# init writes `artifacts = []` above [collection] (tomli_w puts a literal first); once
# the array has entries the original writes [collection] first (its model's order), and
# so must we, also for a manifest read in the other order (a file written before this fix)
H2="$TMP/home-order"
SKILLMEAT_HOME="$H2" "$SM" init >/dev/null || fail "init of a second home"
head -1 "$H2/collections/default/collection.toml" | grep -qx 'artifacts = \[\]' ||
	fail "init: $(head -3 "$H2/collections/default/collection.toml")"
SKILLMEAT_HOME="$H2" "$SM" add "$SRC/agents/reviewer.md" >/dev/null 2>&1 || fail "add into the second home"
order() {
	grep -n '^\[collection\]$\|^\[\[artifacts\]\]$' "$1" | head -2 | cut -d: -f2 | tr '\n' ' '
}
[ "$(order "$H2/collections/default/collection.toml")" = "[collection] [[artifacts]] " ] ||
	fail "manifest order after init + add: $(order "$H2/collections/default/collection.toml")"
python3 - "$H2/collections/default/collection.toml" <<'PY' || fail "could not write the old order"
import sys
p = sys.argv[1]
t = open(p).read()
i = t.index("[collection]\n")
j = t.index("[[artifacts]]\n")
coll = t[i:j]
open(p, "w").write("[extra]\nkept = 1\n\n" + t[j:] + "\n" + coll)
PY
SKILLMEAT_HOME="$H2" "$SM" add "$SRC/commands/deploy.md" >/dev/null 2>&1 || fail "add into the reordered home"
[ "$(order "$H2/collections/default/collection.toml")" = "[collection] [[artifacts]] " ] ||
	fail "a manifest read in the other order is written back in it: $(cat "$H2/collections/default/collection.toml")"
python3 - "$H2/collections/default/collection.toml" <<'PY' || fail "reordered manifest lost something"
import sys, tomllib
m = tomllib.load(open(sys.argv[1], "rb"))
assert list(m) == ["collection", "artifacts", "extra"], list(m)
assert m["extra"] == {"kept": 1} and len(m["artifacts"]) == 2, m
PY
ok
# messages name the type with its article: "an agent", "an mcp", "a command"
printf 'not markdown\n' >"$TMP/notes.txt"
expect_exit 1 "$SM" add agent "$TMP/notes.txt"
grep -q "an agent must be a .md file" "$TMP/.err" || fail "agent article: $(cat "$TMP/.err")"
expect_exit 1 "$SM" add command "$TMP/notes.txt"
grep -q "a command must be a .md file" "$TMP/.err" || fail "command article: $(cat "$TMP/.err")"
mkdir -p "$TMP/mcpdir"
expect_exit 1 "$SM" add mcp "$TMP/mcpdir"
grep -q "adding an mcp is not supported" "$TMP/.err" || fail "mcp article: $(cat "$TMP/.err")"
done_ok
