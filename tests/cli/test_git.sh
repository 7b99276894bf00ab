#!/bin/sh
# add from GitHub specs, served from local bare repositories over file://.
. "$(dirname "$0")/lib.sh"

command -v git >/dev/null || fail "git is not installed"
W="$TMP/work"
mkdir -p "$W" && cd "$W" || fail "cd"
git init -q -b main . && git config user.email t@example.com && git config user.name t
make_skill skills/demo demo "description: first version" "version: 1.0.0"
printf -- '---\ndescription: Review\n---\nreview\n' >commands/review.md 2>/dev/null ||
	{ mkdir -p commands && printf -- '---\ndescription: Review\n---\nreview\n' >commands/review.md; }
git add -A && git commit -qm one && git tag v1.0
first=$(git rev-parse HEAD)
make_skill skills/demo demo "description: second version" "version: 2.0.0"
git commit -qam two && git tag -a 2.0.0 -m release
git checkout -q -b dev && make_skill skills/demo demo "description: dev version" &&
	git commit -qam dev && git checkout -q main
mkdir -p "$TMP/gh/acme"
git clone -q --bare "$W" "$TMP/gh/acme/tools" || fail "bare clone"
cd "$TMP" || fail "cd"
"$SM" config set github.api-url "file://$TMP/gh" >/dev/null || fail "config set github.api-url"

"$SM" --json add acme/tools/skills/demo >"$TMP/a.json" || fail "add latest: $(cat "$TMP/a.json")"
"$SM" show skill:demo --json >"$TMP/s.json" || fail "show"
head=$(git -C "$TMP/gh/acme/tools" rev-parse main)
json_check "$TMP/s.json" "d['origin'] == 'github' and d['resolved_sha'] == '$head' and d['version_spec'] == 'latest'"
json_check "$TMP/s.json" "d['upstream'] == 'https://github.com/acme/tools/tree/$head/skills/demo' and d['resolved_version'] is None"
json_check "$TMP/s.json" "d['description'] == 'second version'"
python3 - "$SKILLMEAT_HOME/collections/default/collection.lock" "$head" <<'PY' || fail "lock entry of a github add"
import sys, tomllib
e = tomllib.load(open(sys.argv[1], "rb"))["lock"]["entries"]["demo::skill"]
assert e["resolved_sha"] == sys.argv[2] and e["upstream"].endswith("/skills/demo"), e
PY
ok

"$SM" add acme/tools/skills/demo@v1.0 --name demo-v1 >/dev/null || fail "add tag"
"$SM" show demo-v1 --json >"$TMP/s.json" || fail "show demo-v1"
json_check "$TMP/s.json" "d['resolved_sha'] == '$first' and d['resolved_version'] == 'v1.0' and d['description'] == 'first version'"
"$SM" add "acme/tools/skills/demo@$(echo "$first" | cut -c1-7)" --name demo-short >/dev/null || fail "add 7-hex"
"$SM" show demo-short --json >"$TMP/s.json" || fail "command failed: skillmeat show demo-short --json"; json_check "$TMP/s.json" "d['resolved_sha'] == '$first' and d['resolved_version'] is None"
"$SM" add "acme/tools/skills/demo@$first" --name demo-long >/dev/null || fail "add 40-hex"
"$SM" add acme/tools/skills/demo@dev --name demo-dev >/dev/null || fail "add branch"
"$SM" show demo-dev --json >"$TMP/s.json" || fail "command failed: skillmeat show demo-dev --json"; json_check "$TMP/s.json" "d['description'] == 'dev version' and d['version_spec'] == 'dev'"
"$SM" add acme/tools/skills/demo@2.0.0 --name demo-2 >/dev/null || fail "add annotated tag"
"$SM" show demo-2 --json >"$TMP/s.json" || fail "command failed: skillmeat show demo-2 --json"; json_check "$TMP/s.json" "d['resolved_version'] == '2.0.0' and d['resolved_sha'] == '$head'"
"$SM" add https://github.com/acme/tools/blob/main/commands/review.md >/dev/null || fail "add URL"
"$SM" show command:review --json >"$TMP/s.json" || fail "command failed: skillmeat show command:review --json"; json_check "$TMP/s.json" "d['path'] == 'commands/review.md'"

before=$(tree_sum "$SKILLMEAT_HOME")
expect_exit 1 "$SM" add acme/tools/skills/demo@no-such-ref --name nope
grep -q "no-such-ref" "$TMP/.err" || fail "missing ref not named: $(cat "$TMP/.err")"
expect_exit 1 "$SM" add acme/tools/skills/missing
expect_exit 1 "$SM" add https://gitlab.com/acme/tools/skills/demo
grep -q "GitHub" "$TMP/.err" || fail "other hosts: $(cat "$TMP/.err")"
[ "$before" = "$(tree_sum "$SKILLMEAT_HOME")" ] || fail "a failed github add changed the home"
ok
done_ok
