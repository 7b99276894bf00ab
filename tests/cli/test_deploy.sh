#!/bin/sh
# deploy, undeploy, status and sync-check against the ground truth (the
# project SkillMeat 0.9.1 deployed) and on hand-made homes and projects.
. "$(dirname "$0")/lib.sh"

unpack_fixture "$TMP/fx"
FXHOME="$TMP/fx/skillmeat-home"
CORPUS="$SHARED/corpus/wshobson-agents"

# --- the fixture project: every deployment synced, nothing written --------
cp -r "$TMP/fx/project" "$TMP/fxp"
before=$(tree_sum "$TMP/fxp")
hbefore=$(tree_sum "$FXHOME")
"$SM" --home "$FXHOME" --json status --project "$TMP/fxp" >"$TMP/st.json" ||
	fail "status on the fixture: $(cat "$TMP/st.json")"
json_check "$TMP/st.json" 'len(d["deployments"]) == 488 and d["counts"]["synced"] == 488'
json_check "$TMP/st.json" '[sum(1 for x in d["deployments"] if x["type"] == t) for t in ("skill", "agent", "command")] == [181, 202, 105]'
"$SM" --home "$FXHOME" --json sync-check "$TMP/fxp" >"$TMP/sc.json" ||
	fail "sync-check on the synced fixture exits non-zero: $(cat "$TMP/sc.json")"
json_check "$TMP/sc.json" 'd == {"drift_detected": False, "drift_count": 0, "artifacts": []}'
[ "$before" = "$(tree_sum "$TMP/fxp")" ] || fail "status or sync-check wrote into the project"
[ "$hbefore" = "$(tree_sum "$FXHOME")" ] || fail "status wrote into the home"
ok

# --- our import of the corpus, deployed into an empty project -------------
H="$TMP/h"
"$SM" --home "$H" --json add --all "$CORPUS" --on-clash rename >"$TMP/a.json" || fail "add --all"
mkdir "$TMP/p"
names=$(python3 -c '
import tomllib,sys
d=tomllib.load(open(sys.argv[1],"rb"))["deployed"]
print(" ".join(r["artifact_type"]+":"+r["artifact_name"] for r in d))' "$TMP/fx/project/.claude/.skillmeat-deployed.toml")
# shellcheck disable=SC2086
"$SM" --home "$H" --json deploy $names --project "$TMP/p" >"$TMP/d.json" ||
	fail "deploy of the fixture's names: $(head -c 600 "$TMP/d.json")"
json_check "$TMP/d.json" 'len(d["deployed"]) == 488 and d["unchanged"] == [] and d["failed"] == []'
diff -r -x .skillmeat-deployed.toml "$TMP/fx/project/.claude" "$TMP/p/.claude" >"$TMP/diff" ||
	fail "deployed files differ from the fixture: $(head -5 "$TMP/diff")"
ok
python3 - "$TMP/fx/project/.claude/.skillmeat-deployed.toml" "$TMP/p/.claude/.skillmeat-deployed.toml" <<'PY' || fail "tracking entries differ from the fixture"
import sys, tomllib
a = tomllib.load(open(sys.argv[1], "rb"))["deployed"]
b = tomllib.load(open(sys.argv[2], "rb"))["deployed"]
key = lambda r: (r["artifact_type"], r["artifact_name"])
A = {key(r): r for r in a}
B = {key(r): r for r in b}
assert len(A) == len(B) == 488 and set(A) == set(B)
for k in A:
    x, y = dict(A[k]), dict(B[k])
    for f in ("deployed_at", "version_lineage"):
        x.pop(f, None), y.pop(f, None)
    assert x == y and list(x) == list(y), (k, x, y)
    assert y.get("version_lineage", [y["content_hash"]]) == [y["content_hash"]]
PY
ok
"$SM" --home "$H" --json status --project "$TMP/p" >"$TMP/st2.json" || fail "status"
json_check "$TMP/st2.json" 'd["counts"]["synced"] == 488'
# the deploy wrote the deployments index itself (opened only when a tracking file changed)
python3 - "$H/cache/metadata.db" "$TMP/p" <<'PY' || fail "the CLI deploy did not index its deployments"
import sqlite3, sys
n = sqlite3.connect(sys.argv[1]).execute("SELECT count(*) FROM deployments WHERE project = ?", (sys.argv[2],)).fetchone()[0]
assert n == 488, n
PY

# incremental: nothing copied again (same inodes), tracking file rewritten at most once
ino_before=$(stat -c %i "$TMP/p/.claude/skills/screen-reader-testing" "$TMP/p/.claude/agents/ui-visual-validator.md")
"$SM" --home "$H" --json deploy --all --project "$TMP/p" >"$TMP/d2.json" || fail "re-deploy"
json_check "$TMP/d2.json" 'd["deployed"] == [] and len(d["unchanged"]) == 488 and d["failed"] == []'
[ "$ino_before" = "$(stat -c %i "$TMP/p/.claude/skills/screen-reader-testing" "$TMP/p/.claude/agents/ui-visual-validator.md")" ] ||
	fail "an unchanged re-deploy copied again"
ok
# one read and one write of the tracking file per run (strace when available)
if command -v strace >/dev/null 2>&1; then
	echo "edit" >>"$H/collections/default/agents/ui-visual-validator.md"
	echo "edit" >>"$H/collections/default/commands/accessibility-audit.md"
	# LeakSanitizer cannot run under ptrace: no leak check for this one run (ASan build)
	ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
	strace -f -e trace=openat,rename,renameat,renameat2,syncfs -o "$TMP/strace" \
		"$SM" --home "$H" --json deploy --all --project "$TMP/p" >"$TMP/d3.json" || fail "deploy after edits"
	json_check "$TMP/d3.json" 'sorted(d["deployed"]) == ["agent:ui-visual-validator", "command:accessibility-audit"]'
	reads=$(grep -c 'openat(.*\.claude/\.skillmeat-deployed\.toml"' "$TMP/strace")
	writes=$(grep -E -c 'rename.*\.skillmeat-deployed\.toml' "$TMP/strace")
	syncs=$(grep -c 'syncfs(' "$TMP/strace")
	[ "$reads" = 1 ] || fail "tracking file opened $reads times"
	[ "$writes" = 1 ] || fail "tracking file renamed $writes times"
	[ "$syncs" = 1 ] || fail "$syncs syncfs calls"
	ok
fi

# --- hand edits are seen by status ----------------------------------------
P="$TMP/p/.claude"
C="$H/collections/default"
echo "local edit" >>"$P/skills/screen-reader-testing/SKILL.md"       # modified
echo "collection edit" >>"$C/skills/wcag-audit-patterns/SKILL.md"     # outdated
echo "both" >>"$P/agents/ui-visual-validator.md"                      # conflict
echo "both" >>"$C/agents/ui-visual-validator.md"
rm "$P/commands/accessibility-audit.md"                               # missing
"$SM" --home "$H" --json status --project "$TMP/p" >"$TMP/st3.json" || fail "status after edits"
python3 - "$TMP/st3.json" <<'PY' || fail "status after hand edits: $(head -c 300 "$TMP/st3.json")"
import json, sys
d = json.load(open(sys.argv[1]))
s = {x["id"]: x["status"] for x in d["deployments"]}
assert s["skill:screen-reader-testing"] == "modified", s["skill:screen-reader-testing"]
assert s["skill:wcag-audit-patterns"] == "outdated", s["skill:wcag-audit-patterns"]
assert s["agent:ui-visual-validator"] == "conflict", s["agent:ui-visual-validator"]
assert s["command:accessibility-audit"] == "missing", s["command:accessibility-audit"]
assert d["counts"]["synced"] == 484
PY
ok
expect_exit 1 "$SM" --home "$H" --json sync-check "$TMP/p"
cp "$TMP/.out" "$TMP/sc2.json"
json_check "$TMP/sc2.json" 'd["drift_detected"] and d["drift_count"] == 3 and sorted((a["name"], a["drift_type"], a["recommendation"]) for a in d["artifacts"]) == [("screen-reader-testing", "modified", "push_to_collection"), ("ui-visual-validator", "conflict", "review_manually"), ("wcag-audit-patterns", "outdated", "pull_from_collection")]'
json_check "$TMP/sc2.json" 'all(a["last_deployed"].endswith("Z") and set(a) == {"name", "type", "drift_type", "collection_sha", "project_sha", "collection_version", "project_version", "last_deployed", "recommendation"} for a in d["artifacts"])'

# non-TTY rules: modified → failed and untouched; outdated unmodified → updated; missing → redeployed
sum_mod=$(sha256sum "$P/skills/screen-reader-testing/SKILL.md")
expect_exit 1 "$SM" --home "$H" --json deploy skill:screen-reader-testing skill:wcag-audit-patterns command:accessibility-audit --project "$TMP/p" </dev/null
cp "$TMP/.out" "$TMP/d4.json"
json_check "$TMP/d4.json" 'sorted(d["deployed"]) == ["command:accessibility-audit", "skill:wcag-audit-patterns"] and [f["id"] for f in d["failed"]] == ["skill:screen-reader-testing"] and "modified" in d["failed"][0]["error"]'
# a failed entry has spec/CLI.md's shape {id, error}; the error names the target
json_check "$TMP/d4.json" 'set(d["failed"][0]) == {"id", "error"} and "/.claude/skills/screen-reader-testing" in d["failed"][0]["error"]'
[ "$sum_mod" = "$(sha256sum "$P/skills/screen-reader-testing/SKILL.md")" ] || fail "a modified copy was overwritten"
grep -q "collection edit" "$P/skills/wcag-audit-patterns/SKILL.md" || fail "outdated copy not updated"
"$SM" --home "$H" --json deploy skill:screen-reader-testing --overwrite --project "$TMP/p" >"$TMP/d5.json" || fail "--overwrite"
grep -q "local edit" "$P/skills/screen-reader-testing/SKILL.md" && fail "--overwrite left the local edit"
ok

# an untracked target is not ours: failed, untouched, unless --overwrite
mkdir -p "$TMP/q/.claude/skills/canvas"
echo mine >"$TMP/q/.claude/skills/canvas/SKILL.md"
make_skill "$TMP/src/canvas" canvas "description: a canvas"
"$SM" --home "$TMP/h2" add "$TMP/src/canvas" >/dev/null || fail "add canvas"
expect_exit 1 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/q"
grep -q "not deployed by skillmeat" "$TMP/.err" || fail "untracked target message: $(cat "$TMP/.err")"
[ "$(cat "$TMP/q/.claude/skills/canvas/SKILL.md")" = mine ] || fail "untracked target touched"
[ ! -e "$TMP/q/.claude/.skillmeat-deployed.toml" ] || fail "a failed deploy wrote a record"
expect_exit 0 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/q" --overwrite
cmp -s "$TMP/src/canvas/SKILL.md" "$TMP/q/.claude/skills/canvas/SKILL.md" || fail "--overwrite did not replace"
# an identical untracked copy (e.g. left by an interrupted run) is adopted without a copy
rm "$TMP/q/.claude/.skillmeat-deployed.toml"
expect_exit 0 "$SM" --home "$TMP/h2" --json deploy canvas --project "$TMP/q"
json_check "$TMP/.out" 'd["unchanged"] == ["skill:canvas"]'

# the temp of the tracking file a killed run left goes at the next run on the project, a
# deploy or a sync-pull (a read keeps it); a temp of an earlier version (no pid) once stale
Q=$TMP/q/.claude
for verb in deploy sync-pull; do
	sh -c 'exit 0' &
	dead=$!
	wait "$dead"
	echo x >"$Q/..skillmeat-deployed.toml.sm-stage-$dead"
	echo x >"$Q/..skillmeat-deployed.toml.0badf00d.tmp"
	touch -d '2 hours ago' "$Q/..skillmeat-deployed.toml.0badf00d.tmp"
	expect_exit 0 "$SM" --home "$TMP/h2" status --project "$TMP/q"
	[ -e "$Q/..skillmeat-deployed.toml.sm-stage-$dead" ] || fail "status removed a leftover"
	if [ $verb = deploy ]; then
		expect_exit 0 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/q"
	else
		expect_exit 0 "$SM" --home "$TMP/h2" sync-pull "$TMP/q"
	fi
	left=$(find "$Q" -maxdepth 1 -name '..skillmeat-deployed.toml.*')
	[ -z "$left" ] || fail "$verb left the tracking file's temps: $left"
	grep -q 'artifact_name = "canvas"' "$Q/.skillmeat-deployed.toml" || fail "$verb lost the record"
done

# --- profiles ----------------------------------------------------------------
for bad in ../x .hidden a/b "" "x y"; do
	expect_exit 1 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/q" --profile "$bad"
	grep -q "invalid profile id" "$TMP/.err" || fail "profile '$bad': $(cat "$TMP/.err")"
done
expect_exit 0 "$SM" --home "$TMP/h2" --json deploy canvas --project "$TMP/q" --profile codex
[ -f "$TMP/q/.codex/skills/canvas/SKILL.md" ] || fail "codex profile root"
json_check "$TMP/.out" 'd["deployed"] == ["skill:canvas"]'
python3 -c 'import tomllib,sys; r=tomllib.load(open(sys.argv[1],"rb"))["deployed"][0]; assert (r["deployment_profile_id"], r["platform"], r["profile_root_dir"]) == ("codex","codex",".codex"), r' \
	"$TMP/q/.codex/.skillmeat-deployed.toml" || fail "codex record"
"$SM" --home "$TMP/h2" --json status --project "$TMP/q" >"$TMP/st4.json" || fail "status two roots"
json_check "$TMP/st4.json" 'sorted(x["profile_id"] for x in d["deployments"]) == ["claude_code", "codex"]'
ok
# --all-profiles: every profile whose root folder exists (none: the default)
mkdir -p "$TMP/ap/.gemini" "$TMP/ap/.cursor" "$TMP/ap/.notaprofile dir"
expect_exit 0 "$SM" --home "$TMP/h2" --json deploy canvas --project "$TMP/ap" --all-profiles
python3 - "$TMP/.out" "$TMP/ap" <<'PY' || fail "--all-profiles: $(cat "$TMP/.out")"
import json, os, sys, tomllib
d = json.load(open(sys.argv[1]))
assert d["deployed"] == ["skill:canvas", "skill:canvas"] and d["failed"] == [], d
for root, prof in ((".gemini", "gemini"), (".cursor", "cursor")):
    assert os.path.isfile(os.path.join(sys.argv[2], root, "skills/canvas/SKILL.md")), root
    r = tomllib.load(open(os.path.join(sys.argv[2], root, ".skillmeat-deployed.toml"), "rb"))["deployed"]
    assert [(x["deployment_profile_id"], x["profile_root_dir"]) for x in r] == [(prof, root)], r
assert not os.path.exists(os.path.join(sys.argv[2], ".claude")), "a root that did not exist was made"
PY
expect_exit 2 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/ap" --all-profiles --profile codex
mkdir "$TMP/ap0"
expect_exit 0 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/ap0" --all-profiles
[ -f "$TMP/ap0/.claude/skills/canvas/SKILL.md" ] || fail "--all-profiles with no root: not the default profile"
ok
# a collection artifact never deployed to the project is not drift (bug S5)
make_skill "$TMP/src/extra" extra "description: never deployed"
"$SM" --home "$TMP/h2" add "$TMP/src/extra" >/dev/null || fail "add extra"
expect_exit 0 "$SM" --home "$TMP/h2" --json sync-check "$TMP/ap"
json_check "$TMP/.out" 'd == {"drift_detected": False, "drift_count": 0, "artifacts": []}'
expect_exit 0 "$SM" --home "$TMP/h2" --json undeploy canvas --project "$TMP/ap"
json_check "$TMP/.out" 'd["undeployed"] == ["skill:canvas", "skill:canvas"] and d["failed"] == []'
expect_exit 0 "$SM" --home "$TMP/h2" undeploy canvas --project "$TMP/ap0"
[ ! -e "$TMP/ap/.gemini/skills/canvas" ] && [ ! -e "$TMP/ap0/.claude/skills/canvas" ] || fail "undeploy after --all-profiles left files"
ok

# --- --symlink ----------------------------------------------------------------
mkdir "$TMP/s"
expect_exit 0 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/s" --symlink
[ -L "$TMP/s/.claude/skills/canvas" ] || fail "--symlink made no link"
grep -q 'deploy_mode = "symlink"' "$TMP/s/.claude/.skillmeat-deployed.toml" || fail "link not recorded"
"$SM" --home "$TMP/h2" --json status --project "$TMP/s" >"$TMP/st5.json" || fail "status symlink"
json_check "$TMP/st5.json" 'd["deployments"][0]["status"] == "synced" and d["deployments"][0]["symlink"]'
expect_exit 0 "$SM" --home "$TMP/h2" undeploy canvas --project "$TMP/s"
[ ! -e "$TMP/s/.claude/skills/canvas" ] || fail "link not removed"
[ -f "$TMP/h2/collections/default/skills/canvas/SKILL.md" ] || fail "undeploy of a link removed the collection copy"
ok

# --- undeploy -----------------------------------------------------------------
echo edit >>"$TMP/q/.claude/skills/canvas/SKILL.md"
expect_exit 1 "$SM" --home "$TMP/h2" undeploy canvas --project "$TMP/q" --profile claude_code
grep -q "modified" "$TMP/.err" || fail "undeploy of a modified copy: $(cat "$TMP/.err")"
[ -d "$TMP/q/.claude/skills/canvas" ] || fail "modified copy removed without --force"
expect_exit 0 "$SM" --home "$TMP/h2" --json undeploy canvas --project "$TMP/q" --force
json_check "$TMP/.out" 'sorted(d["undeployed"]) == ["skill:canvas", "skill:canvas"] and d["failed"] == []'
[ ! -e "$TMP/q/.claude/skills/canvas" ] && [ ! -e "$TMP/q/.codex/skills/canvas" ] || fail "undeploy left files"
[ ! -e "$TMP/q/.claude/.skillmeat-deployed.toml" ] || fail "empty tracking file kept"
expect_exit 1 "$SM" --home "$TMP/h2" undeploy canvas --project "$TMP/q"
grep -q "not deployed" "$TMP/.err" || fail "undeploy of nothing: $(cat "$TMP/.err")"
# projects.toml registry: the project is listed while it holds deployments
expect_exit 0 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/q"
python3 -c 'import tomllib,sys; p=[x["path"] for x in tomllib.load(open(sys.argv[1],"rb"))["projects"]]; assert p == [sys.argv[2]], p' \
	"$TMP/h2/projects.toml" "$(cd "$TMP/q" && pwd -P)" || fail "projects.toml after deploy"
expect_exit 0 "$SM" --home "$TMP/h2" undeploy canvas --project "$TMP/q"
python3 -c 'import tomllib,sys; assert tomllib.load(open(sys.argv[1],"rb"))["projects"] == []' "$TMP/h2/projects.toml" ||
	fail "projects.toml after undeploy"
ok

# --- hostile tracking files: refused, never followed ----------------------------
mkdir -p "$TMP/victim" && echo keep >"$TMP/victim/file"
for path in "/$TMP/victim" "../../victim" "skills/../../../victim"; do
	rm -rf "$TMP/e" && mkdir -p "$TMP/e/.claude"
	cat >"$TMP/e/.claude/.skillmeat-deployed.toml" <<EOF
[[deployed]]
artifact_name = "canvas"
artifact_type = "skill"
from_collection = "default"
deployed_at = "2026-01-01T00:00:00"
artifact_path = "$path"
content_hash = "0000000000000000000000000000000000000000000000000000000000000000"
EOF
	expect_exit 1 "$SM" --home "$TMP/h2" undeploy canvas --project "$TMP/e" --force
	grep -q "outside the project" "$TMP/.err" || fail "'$path' not refused: $(cat "$TMP/.err")"
	expect_exit 1 "$SM" --home "$TMP/h2" status --project "$TMP/e"
	expect_exit 1 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/e" --overwrite
	[ "$(cat "$TMP/victim/file")" = keep ] || fail "a hostile path was followed"
done
# a symlinked container folder pointing outside
rm -rf "$TMP/e" && mkdir -p "$TMP/e/.claude" && ln -s "$TMP/victim" "$TMP/e/.claude/skills"
cat >"$TMP/e/.claude/.skillmeat-deployed.toml" <<EOF
[[deployed]]
artifact_name = "file"
artifact_type = "skill"
from_collection = "default"
deployed_at = "2026-01-01T00:00:00"
artifact_path = "skills/file"
content_hash = "0000000000000000000000000000000000000000000000000000000000000000"
EOF
expect_exit 1 "$SM" --home "$TMP/h2" undeploy file --project "$TMP/e" --force
grep -q "symlink" "$TMP/.err" || fail "symlinked folder not refused: $(cat "$TMP/.err")"
expect_exit 1 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/e" --overwrite
[ "$(cat "$TMP/victim/file")" = keep ] && [ ! -e "$TMP/victim/canvas" ] || fail "a symlinked folder was followed"
"$SM" --home "$TMP/h2" --json status --project "$TMP/e" >"$TMP/st6.json" || fail "status with a symlinked folder"
json_check "$TMP/st6.json" 'd["deployments"][0]["status"] == "error" and "symlink" in d["deployments"][0]["error"]'
# a symlinked profile root
rm -rf "$TMP/e" && mkdir -p "$TMP/e" && ln -s "$TMP/victim" "$TMP/e/.claude"
expect_exit 1 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/e"
[ ! -e "$TMP/victim/skills" ] || fail "a symlinked root was followed"
# malformed tracking file: a clear error, nothing changed
rm -rf "$TMP/e" && mkdir -p "$TMP/e/.claude" && echo 'deployed = [' >"$TMP/e/.claude/.skillmeat-deployed.toml"
expect_exit 1 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/e"
grep -q "skillmeat-deployed.toml" "$TMP/.err" || fail "malformed tracking file message: $(cat "$TMP/.err")"
[ "$(cat "$TMP/e/.claude/.skillmeat-deployed.toml")" = 'deployed = [' ] || fail "malformed tracking file rewritten"
[ ! -e "$TMP/e/.claude/skills" ] || fail "deploy went on after a malformed tracking file"
# a project that is not a folder
expect_exit 1 "$SM" --home "$TMP/h2" deploy canvas --project "$TMP/nope"
expect_exit 2 "$SM" --home "$TMP/h2" deploy
ok

# --- the hash cache trusts stat records (git's index rules) ---------------
# An unchanged status or re-deploy reads no artifact file (stats only); a hand
# edit keeping the size with its mtime put back (touch -r) is still seen: the
# ctime, which no user can set, changed. Right after a deploy the records are
# "racy" (taken in the tick of the write) and read once more, as git does.
H3="$TMP/h3"
R="$TMP/r"
"$SM" --home "$H3" --json add --all "$CORPUS/plugins/security-scanning" >"$TMP/a3.json" || fail "add security-scanning"
mkdir "$R"
"$SM" --home "$H3" --json deploy --all --project "$R" >"$TMP/d5.json" || fail "deploy security-scanning"
json_check "$TMP/d5.json" 'len(d["deployed"]) == 10 and d["failed"] == []'
same_size_edit() { # FILE: one byte changed, size and mtime kept
	touch -r "$1" "$TMP/ref"
	python3 -c 'import sys; p=sys.argv[1]; b=bytearray(open(p,"rb").read()); b[0]^=0x20; open(p,"wb").write(b)' "$1"
	touch -r "$TMP/ref" "$1"
}
# edited at once (maybe within the tick of the copy): seen
same_size_edit "$R/.claude/skills/stride-analysis-patterns/references/details.md"
"$SM" --home "$H3" --json status --project "$R" >"$TMP/st7.json" || fail "status after a same-size edit"
json_check "$TMP/st7.json" '{x["id"]: x["status"] for x in d["deployments"]}["skill:stride-analysis-patterns"] == "modified" and d["counts"]["synced"] == 9'
if command -v strace >/dev/null 2>&1; then
	"$SM" --home "$H3" status --project "$R" >/dev/null || fail "status"
	for verb in status deploy; do
		extra="" want=0
		[ "$verb" = deploy ] && extra="--all" want=1 # the modified copy is refused
		rc=0
		ASAN_OPTIONS="${ASAN_OPTIONS:-}:detect_leaks=0" \
		strace -f -e trace=open,openat -o "$TMP/strace2" \
			"$SM" --home "$H3" --json $verb $extra --project "$R" >"$TMP/v.json" || rc=$?
		[ "$rc" = "$want" ] || fail "$verb unchanged exits $rc: $(head -c 300 "$TMP/v.json")"
		opened=$(grep -E -c '(/skills/|/agents/|/commands/)[^"]*\.md"' "$TMP/strace2")
		[ "$opened" = 0 ] || fail "an unchanged $verb read $opened artifact files: $(grep -E '\.md"' "$TMP/strace2" | head -3)"
	done
	json_check "$TMP/v.json" 'd["deployed"] == [] and len(d["unchanged"]) == 9 and len(d["failed"]) == 1'
fi
# settled records: same-size edits with the mtime put back, both sides, nested or not
same_size_edit "$R/.claude/agents/security-auditor.md"
same_size_edit "$H3/collections/default/commands/security-sast.md"
same_size_edit "$H3/collections/default/skills/attack-tree-construction/references/details.md"
echo "new" >"$R/.claude/skills/sast-configuration/added.md"
"$SM" --home "$H3" --json status --project "$R" >"$TMP/st8.json" || fail "status after settled edits"
python3 - "$TMP/st8.json" <<'PY' || fail "status after same-size edits: $(head -c 400 "$TMP/st8.json")"
import json, sys
s = {x["id"]: x["status"] for x in json.load(open(sys.argv[1]))["deployments"]}
assert s.pop("agent:security-auditor") == "modified"
assert s.pop("command:security-sast") == "outdated"
assert s.pop("skill:attack-tree-construction") == "outdated"
assert s.pop("skill:sast-configuration") == "modified"
assert s.pop("skill:stride-analysis-patterns") == "modified"
assert set(s.values()) == {"synced"}, s
PY
ok

# a bare NAME deployed as two types is ambiguous for undeploy too (deploy and edit refuse
# it): nothing is undeployed, exit 1; TYPE:NAME undeploys just that one
H4="$TMP/home-amb"
P4="$TMP/proj-amb"
mkdir -p "$TMP/amb/agents" "$TMP/amb/commands" "$P4"
printf -- '---\ndescription: an agent\n---\nA\n' >"$TMP/amb/agents/implement.md"
printf -- '---\ndescription: a command\n---\nC\n' >"$TMP/amb/commands/implement.md"
"$SM" --home "$H4" add agent "$TMP/amb/agents/implement.md" >/dev/null 2>&1 || fail "add agent:implement"
"$SM" --home "$H4" add command "$TMP/amb/commands/implement.md" >/dev/null 2>&1 || fail "add command:implement"
"$SM" --home "$H4" deploy agent:implement command:implement --project "$P4" >/dev/null ||
	fail "deploy both implement"
expect_exit 1 "$SM" --home "$H4" --json undeploy implement --project "$P4"
json_check "$TMP/.out" 'd["undeployed"] == [] and len(d["failed"]) == 1 and "ambiguous" in d["failed"][0]["error"]'
[ -f "$P4/.claude/agents/implement.md" ] && [ -f "$P4/.claude/commands/implement.md" ] ||
	fail "an ambiguous undeploy removed a deployment"
"$SM" --home "$H4" --json undeploy command:implement --project "$P4" >"$TMP/ud.json" ||
	fail "undeploy command:implement"
json_check "$TMP/ud.json" 'd["undeployed"] == ["command:implement"] and d["failed"] == []'
[ -f "$P4/.claude/agents/implement.md" ] && [ ! -e "$P4/.claude/commands/implement.md" ] ||
	fail "undeploy command:implement: $(find "$P4/.claude" -type f)"
"$SM" --home "$H4" --json undeploy implement --project "$P4" >"$TMP/ud.json" ||
	fail "undeploy implement once it is one type"
json_check "$TMP/ud.json" 'd["undeployed"] == ["agent:implement"]'
ok

# --- another project from an unchanged collection: the bytes copied in the kernel under
# the hash the cache holds for each collection copy; a collection file changed since then
# (same size, mtime put back; nested or not) is hashed as copied: every record names the
# copy it sits beside (status read with the hash cache gone, everything hashed anew)
H5="$TMP/h5"
"$SM" --home "$H5" add --all "$CORPUS/plugins/security-scanning" >/dev/null 2>&1 ||
	fail "add security-scanning (h5)"
mkdir "$TMP/k1" "$TMP/k2" "$TMP/k3"
"$SM" --home "$H5" deploy --all --project "$TMP/k1" >/dev/null || fail "deploy k1"
"$SM" --home "$H5" deploy --all --project "$TMP/k2" >/dev/null || fail "deploy k2"
same_size_edit "$H5/collections/default/skills/attack-tree-construction/references/details.md"
same_size_edit "$H5/collections/default/agents/security-auditor.md"
"$SM" --home "$H5" --json deploy --all --project "$TMP/k3" >"$TMP/k3.json" || fail "deploy k3"
json_check "$TMP/k3.json" 'len(d["deployed"]) == 10 and d["failed"] == []'
for k in skills agents commands; do
	diff -r "$H5/collections/default/$k" "$TMP/k3/.claude/$k" >/dev/null 2>&1 ||
		[ ! -d "$H5/collections/default/$k" ] || fail "k3's $k differ from the collection's"
done
rm -f "$H5/cache/deploy-hashes.bin"
for k in k1 k2 k3; do
	"$SM" --home "$H5" --json status --project "$TMP/$k" >"$TMP/$k-st.json" || fail "status $k"
done
json_check "$TMP/k3-st.json" 'd["counts"]["synced"] == 10 and len(d["deployments"]) == 10'
json_check "$TMP/k2-st.json" 'sorted(x["id"] for x in d["deployments"] if x["status"] == "outdated") == ["agent:security-auditor", "skill:attack-tree-construction"] and d["counts"]["synced"] == 8'
python3 - "$TMP/k1/.claude/.skillmeat-deployed.toml" "$TMP/k2/.claude/.skillmeat-deployed.toml" <<'PY' ||
import sys, tomllib
a, b = ({r["artifact_name"]: r["content_hash"] for r in tomllib.load(open(f, "rb"))["deployed"]} for f in sys.argv[1:])
assert a == b and len(a) == 10, (a, b)
PY
	fail "the first and second projects' records differ"
ok

# --- add records the hash a deployed copy will have -------------------------
# The first deploy then copies the bytes in the kernel and hashes nothing; it
# trusts the recorded hash only while the copy's stats of the collection copy
# equal the records: a hand edit of the collection copy after the add (same
# size, mtime put back) is hashed from what was copied, so status says synced.
H6="$TMP/h6"
"$SM" --home "$H6" --json add --all "$CORPUS/plugins/security-scanning" >"$TMP/a6.json" || fail "add security-scanning (h6)"
python3 - "$H6" <<'PY' || fail "add did not record the deploy hashes of what it added"
import os, sys, tomllib
home = os.path.realpath(sys.argv[1])
coll = os.path.join(home, "collections/default")
arts = tomllib.load(open(os.path.join(coll, "collection.toml"), "rb"))["artifacts"]
cache = open(os.path.join(home, "cache/deploy-hashes.bin"), "rb").read()
missing = [a["path"] for a in arts if ("S:" + os.path.join(coll, a["path"])).encode() not in cache]
assert len(arts) == 10 and not missing, missing
PY
same_size_edit "$H6/collections/default/skills/stride-analysis-patterns/references/details.md"
mkdir "$TMP/p6"
"$SM" --home "$H6" --json deploy --all --project "$TMP/p6" >"$TMP/d6.json" || fail "deploy (h6)"
json_check "$TMP/d6.json" 'len(d["deployed"]) == 10 and d["failed"] == []'
diff -r "$H6/collections/default/skills" "$TMP/p6/.claude/skills" >/dev/null || fail "the deployed copies differ (h6)"
"$SM" --home "$H6" --json status --project "$TMP/p6" >"$TMP/st6b.json" || fail "status (h6)"
json_check "$TMP/st6b.json" 'd["counts"]["synced"] == 10 and len(d["deployments"]) == 10'
python3 - "$TMP/p6/.claude/.skillmeat-deployed.toml" "$H6/collections/default/collection.lock" <<'PY' || fail "a recorded hash is not the deployed copy's"
import sys, tomllib
rec = {r["artifact_name"]: r["content_hash"] for r in tomllib.load(open(sys.argv[1], "rb"))["deployed"]}
# the lock's hashes were taken at add, before the edit of one skill
flat = {k.split("::")[0]: v["content_hash"] for k, v in tomllib.load(open(sys.argv[2], "rb"))["lock"]["entries"].items()}
assert rec["stride-analysis-patterns"] != flat.get("stride-analysis-patterns"), "stale hash recorded"
assert sum(rec[n] == flat.get(n) for n in rec) == 9, (rec, flat)
PY
ok

done_ok
