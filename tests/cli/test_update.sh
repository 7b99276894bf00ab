#!/bin/sh
# update of GitHub-sourced artifacts (formats §3.4), from local bare
# repositories over file:// as test_git.sh serves them.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || fail "git is not installed"
W="$TMP/work"
mkdir -p "$W" && cd "$W" || fail "cd"
git init -q -b main . && git config user.email t@example.com && git config user.name t
make_skill skills/demo demo "description: first version"
make_skill skills/other other "description: other"
git add -A && git commit -qm one
mkdir -p "$TMP/gh/acme"
git clone -q --bare "$W" "$TMP/gh/acme/tools" || fail "bare clone"
cd "$TMP" || fail "cd"
"$SM" config set github.api-url "file://$TMP/gh" >/dev/null || fail "config set github.api-url"
"$SM" add acme/tools/skills/demo >/dev/null || fail "add demo"
"$SM" add acme/tools/skills/other >/dev/null || fail "add other"
make_skill "$TMP/local" loc "description: local"
"$SM" add "$TMP/local" >/dev/null || fail "add local"
first=$(git -C "$TMP/gh/acme/tools" rev-parse main)

# nothing new upstream: up to date
"$SM" --json update demo >"$TMP/u0.json" || fail "update up to date: $(cat "$TMP/u0.json")"
json_check "$TMP/u0.json" 'd["results"] == [{"id": "skill:demo", "status": "up_to_date", "resolved_sha": "'"$first"'", "error": None}]'

# a new upstream commit
cd "$W" && make_skill skills/demo demo "description: second version" && git commit -qam two &&
	git push -q "$TMP/gh/acme/tools" main || fail "push"
cd "$TMP" || fail cd
second=$(git -C "$TMP/gh/acme/tools" rev-parse main)
mkdir "$TMP/proj"
"$SM" deploy demo --project "$TMP/proj" >/dev/null || fail "deploy demo"
"$SM" --json update demo >"$TMP/u1.json" || fail "update: $(cat "$TMP/u1.json")"
json_check "$TMP/u1.json" 'd["results"][0]["status"] == "updated_github" and d["results"][0]["resolved_sha"] == "'"$second"'" and d["snapshot_id"]'
"$SM" --json show skill:demo >"$TMP/s.json" || fail show
json_check "$TMP/s.json" "d['description'] == 'second version' and d['resolved_sha'] == '$second' and d['version_spec'] == 'latest' and d['upstream'] == 'https://github.com/acme/tools/tree/$second/skills/demo' and not d['locally_modified']"
python3 - "$SKILLMEAT_HOME/collections/default/collection.lock" "$second" <<'PY' || fail "lock after update"
import sys, tomllib
e = tomllib.load(open(sys.argv[1], "rb"))["lock"]["entries"]["demo::skill"]
assert e["resolved_sha"] == sys.argv[2] and sys.argv[2] in e["upstream"], e
PY
"$SM" --json history >"$TMP/h.json" || fail history
json_check "$TMP/h.json" 'len(d) == 2 and all(x["message"] == "[auto] Before update" for x in d)'
# the deployment of demo is now outdated
"$SM" --json status --project "$TMP/proj" >"$TMP/st.json" || fail status
json_check "$TMP/st.json" '[x["status"] for x in d["deployments"]] == ["outdated"]'
ok

# a locally modified artifact is kept unless --strategy upstream
cd "$W" && make_skill skills/other other "description: other 2" && git commit -qam three &&
	git push -q "$TMP/gh/acme/tools" main || fail "push"
cd "$TMP" || fail cd
echo "my edit" >>"$SKILLMEAT_HOME/collections/default/skills/other/SKILL.md"
"$SM" --json update >"$TMP/u2.json" || fail "update all: $(cat "$TMP/u2.json")"
json_check "$TMP/u2.json" '{x["id"]: x["status"] for x in d["results"]} == {"skill:demo": "up_to_date", "skill:other": "local_changes_kept", "skill:local": "refreshed_local"}'
grep -q "my edit" "$SKILLMEAT_HOME/collections/default/skills/other/SKILL.md" || fail "local edit lost"
"$SM" --json update other --strategy upstream >"$TMP/u3.json" || fail "update --strategy upstream"
json_check "$TMP/u3.json" 'd["results"][0]["status"] == "updated_github"'
grep -q "my edit" "$SKILLMEAT_HOME/collections/default/skills/other/SKILL.md" && fail "--strategy upstream kept the edit"
# unknown names fail, exit 1
expect_exit 1 "$SM" update nope
expect_exit 2 "$SM" update --strategy bogus
ok
done_ok
