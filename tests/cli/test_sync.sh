#!/bin/sh
# sync-preview, sync-pull (overwrite, merge, fork), snapshots, history,
# rollback and pruning, with the real binary on temporary homes.
. "$(dirname "$0")/lib.sh"

H="$TMP/h"
P="$TMP/p"
C="$H/collections/default"
mkdir -p "$P" "$TMP/src/sk" "$TMP/src/agents"
printf -- '---\nname: sk\n---\nline1\nline2\n' >"$TMP/src/sk/SKILL.md"
echo base >"$TMP/src/sk/other.txt"
printf -- '---\nname: ag\ndescription: an agent\n---\nagent body\n' >"$TMP/src/agents/ag.md"
"$SM" --home "$H" add "$TMP/src/sk" >/dev/null || fail "add sk"
"$SM" --home "$H" add agent "$TMP/src/agents/ag.md" >/dev/null || fail "add ag"
"$SM" --home "$H" deploy sk ag --project "$P" >/dev/null || fail "deploy"
# deploy and undeploy leave the collection as it is: no snapshot
[ ! -e "$H/snapshots" ] || fail "deploy made a snapshot"
"$SM" --home "$H" --json snapshot -m "after deploy" >"$TMP/s1.json" || fail "snapshot"
json_check "$TMP/s1.json" 'd["message"] == "after deploy" and d["collection"] == "default"'
S1=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/s1.json")
[ -f "$H/snapshots/default/$S1.tar.gz" ] || fail "no tarball"
tar tzf "$H/snapshots/default/$S1.tar.gz" | grep -qx 'default/skills/sk/SKILL.md' || fail "tarball member names"
python3 - "$H/snapshots/default/snapshots.toml" "$S1" "$H" <<'PY' || fail "snapshots.toml"
import sys, tomllib
s = tomllib.load(open(sys.argv[1], "rb"))["snapshots"]
assert [x["id"] for x in s] == [sys.argv[2]]
x = s[0]
assert list(x) == ["id", "timestamp", "message", "artifact_count", "tarball_path"], list(x)
assert x["artifact_count"] == 2 and x["tarball_path"] == sys.argv[3] + "/snapshots/default/" + sys.argv[2] + ".tar.gz"
PY
ok

# nothing changed: no drift, nothing to pull, exit 0
expect_exit 0 "$SM" --home "$H" --json sync-pull "$P" --strategy overwrite
json_check "$TMP/.out" 'd["status"] == "no_changes" and d["artifacts_synced"] == []'

# --- preview writes nothing --------------------------------------------------
echo "proj change" >>"$P/.claude/skills/sk/SKILL.md"
echo "agent edit" >>"$P/.claude/agents/ag.md"
before=$(tree_sum "$H")
pbefore=$(tree_sum "$P")
expect_exit 0 "$SM" --home "$H" --json sync-preview "$P"
json_check "$TMP/.out" 'd["status"] == "dry_run" and sorted(d["artifacts_synced"]) == ["agent:ag", "skill:sk"]'
# it pulls nothing, and says what it would pull
json_check "$TMP/.out" 'd["message"] == "would pull from the project"'
[ "$before" = "$(tree_sum "$H")" ] && [ "$pbefore" = "$(tree_sum "$P")" ] || fail "sync-preview wrote"
ok

# --- merge: the collection's own change is kept, the project's is taken --------
echo "coll change" >>"$C/skills/sk/other.txt"
expect_exit 0 "$SM" --home "$H" --json sync-pull "$P" --strategy merge --artifacts sk
json_check "$TMP/.out" 'd["status"] == "success" and d["artifacts_synced"] == ["skill:sk"] and d["snapshot_id"] and d["message"] == "pulled from the project"'
grep -q "proj change" "$C/skills/sk/SKILL.md" || fail "merge did not take the project's change"
grep -q "coll change" "$C/skills/sk/other.txt" || fail "merge lost the collection's change (base not from the snapshot)"
# the lock follows the collection copy; the record's baseline follows the pull
python3 - "$C/collection.lock" "$P/.claude/.skillmeat-deployed.toml" "$C/skills/sk" "$P/.claude/skills/sk" <<'PY' || fail "lock or record after the pull"
import hashlib, os, sys, tomllib
def h(root):
    files = []
    for d, _, fs in os.walk(root):
        for f in fs:
            p = os.path.join(d, f)
            files.append(os.path.relpath(p, root).split(os.sep))
    s = hashlib.sha256()
    for parts in sorted(files):
        s.update("/".join(parts).encode())
        s.update(open(os.path.join(root, *parts), "rb").read())
    return s.hexdigest()
lock = tomllib.load(open(sys.argv[1], "rb"))["lock"]["entries"]["sk::skill"]
assert lock["content_hash"] == h(sys.argv[3]), "lock"
rec = [r for r in tomllib.load(open(sys.argv[2], "rb"))["deployed"] if r["artifact_name"] == "sk"][0]
assert rec["content_hash"] == rec["collection_sha"] == h(sys.argv[4]), "record"
PY
"$SM" --home "$H" --json status --project "$P" >"$TMP/st.json" || fail status
json_check "$TMP/st.json" '{x["name"]: x["status"] for x in d["deployments"]} == {"sk": "outdated", "ag": "modified"}'
ok

# --- merge conflict: whole-file markers (formats §5.3), exit 1 -----------------
echo "coll agent edit" >>"$C/agents/ag.md"
expect_exit 1 "$SM" --home "$H" --json sync-pull "$P" --strategy merge
cp "$TMP/.out" "$TMP/m.json"
json_check "$TMP/m.json" 'd["status"] == "partial" and d["conflicts"][0]["artifact_name"] == "ag" and d["conflicts"][0]["conflict_files"] == [""]'
python3 - "$C/agents/ag.md" <<'PY' || fail "conflict markers: $(cat "$C/agents/ag.md")"
import sys
t = open(sys.argv[1]).read()
base = "---\nname: ag\ndescription: an agent\n---\nagent body\n"
assert t == ("<<<<<<< LOCAL (current)\n" + base + "coll agent edit\n=======\n" + base +
             "agent edit\n>>>>>>> REMOTE (incoming)\n"), t
PY
ok

# --- overwrite and fork ----------------------------------------------------
"$SM" --home "$H" deploy ag --project "$P" --overwrite >/dev/null || fail "redeploy ag"
echo "proj again" >>"$P/.claude/agents/ag.md"
expect_exit 0 "$SM" --home "$H" --json sync-pull "$P" --strategy overwrite
cmp -s "$P/.claude/agents/ag.md" "$C/agents/ag.md" || fail "overwrite did not copy the project copy"
"$SM" --home "$H" --json status --project "$P" >"$TMP/st2.json" || fail status
json_check "$TMP/st2.json" '[x["status"] for x in d["deployments"] if x["name"] == "ag"] == ["synced"]'
echo "forked" >>"$P/.claude/agents/ag.md"
expect_exit 0 "$SM" --home "$H" --json sync-pull "$P" --strategy fork
[ -f "$C/agents/ag-fork.md" ] && grep -q forked "$C/agents/ag-fork.md" || fail "no fork"
grep -q forked "$C/agents/ag.md" && fail "fork changed the original"
"$SM" --home "$H" --json list >"$TMP/l.json" || fail list
json_check "$TMP/l.json" '"agent:ag-fork" in [x["id"] for x in d]'
expect_exit 2 "$SM" --home "$H" sync-pull "$P" --strategy prompt
ok

# --- history and rollback -----------------------------------------------------
"$SM" --home "$H" --json history >"$TMP/hist.json" || fail history
json_check "$TMP/hist.json" 'd[-1]["id"] == "'"$S1"'" and d == sorted(d, key=lambda x: x["id"], reverse=True) and all(x["message"].startswith("[auto] Before sync-pull") for x in d[:-1])'
before_rb=$(tree_sum "$C")
expect_exit 0 "$SM" --home "$H" --json rollback "$S1" </dev/null
cp "$TMP/.out" "$TMP/rb.json"
json_check "$TMP/rb.json" 'd["rolled_back_to"] == "'"$S1"'" and d["safety_snapshot_id"]'
grep -q "proj change" "$C/skills/sk/SKILL.md" && fail "rollback did not restore"
[ ! -e "$C/agents/ag-fork.md" ] || fail "rollback kept a later artifact"
"$SM" --home "$H" --json list >"$TMP/l2.json" || fail list
json_check "$TMP/l2.json" 'sorted(x["id"] for x in d) == ["agent:ag", "skill:sk"]'
# the safety snapshot undoes the rollback
SAFE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["safety_snapshot_id"])' "$TMP/rb.json")
expect_exit 0 "$SM" --home "$H" rollback "$SAFE" -y
[ "$before_rb" = "$(tree_sum "$C")" ] || fail "the safety snapshot does not restore the state before the rollback"
python3 -c 'import tomllib,sys; e=tomllib.load(open(sys.argv[1],"rb"))["entries"]; assert [x["snapshot_id"] for x in e] == [sys.argv[2], sys.argv[3]], e' \
	"$H/audit/default_rollback_audit.toml" "$S1" "$SAFE" || fail "audit log"
expect_exit 1 "$SM" --home "$H" rollback 20000101-000000-000000
grep -q "not found" "$TMP/.err" || fail "unknown snapshot: $(cat "$TMP/.err")"
expect_exit 1 "$SM" --home "$H" rollback ../../etc
[ "$before_rb" = "$(tree_sum "$C")" ] || fail "a failed rollback changed the collection"
ok

# --- pruning: automatic snapshots beyond snapshot.keep go, manual ones stay -----
"$SM" --home "$H" config set snapshot.keep 2 >/dev/null || fail "config set"
for i in 1 2 3 4; do
	echo "round $i" >>"$P/.claude/skills/sk/SKILL.md"
	"$SM" --home "$H" sync-pull "$P" --strategy overwrite >/dev/null || fail "pull round $i"
done
"$SM" --home "$H" --json history >"$TMP/hist2.json" || fail history
json_check "$TMP/hist2.json" 'sum(1 for x in d if x["message"].startswith("[auto] ")) == 2 and "'"$S1"'" in [x["id"] for x in d]'
n_tar=$(ls "$H/snapshots/default/"*.tar.gz | wc -l)
[ "$n_tar" = "$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))))' "$TMP/hist2.json")" ] ||
	fail "pruned tarballs not removed ($n_tar files)"
ok

# --- a snapshot killed between its tarball and snapshots.toml -----------------
# the next write lists a tarball that extracts (an automatic one: pruned like one) and
# removes one that does not; a read changes nothing
SD="$H/snapshots/default"
"$SM" --home "$H" config set snapshot.keep 10 >/dev/null || fail "config set"
cp "$SD/$S1.tar.gz" "$SD/20991231-235959-123456.tar.gz"
echo "not a tarball" >"$SD/20991231-235958-000000.tar.gz"
before=$(tree_sum "$H")
"$SM" --home "$H" --json history >"$TMP/hist3.json" || fail history
[ "$before" = "$(tree_sum "$H")" ] || fail "history changed the home"
json_check "$TMP/hist3.json" 'not any(x["id"].startswith("2099") for x in d)'
"$SM" --home "$H" snapshot -m "after the kill" >/dev/null || fail "snapshot"
"$SM" --home "$H" --json history >"$TMP/hist3.json" || fail history
json_check "$TMP/hist3.json" '[x["id"] for x in d if x["id"].startswith("2099")] == ["20991231-235959-123456"]'
json_check "$TMP/hist3.json" 'any(x["id"] == "20991231-235959-123456" and x["message"].startswith("[auto] Recovered") and x["artifact_count"] == 2 and x["timestamp"] == "2099-12-31T23:59:59.123456" for x in d)'
[ ! -e "$SD/20991231-235958-000000.tar.gz" ] || fail "an unreadable unlisted tarball was kept"
"$SM" --home "$H" rollback 20991231-235959-123456 --yes >/dev/null || fail "rollback to the recovered snapshot"
ok

done_ok
