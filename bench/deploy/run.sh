#!/bin/sh
# Deploy benchmark (issue 9): 1,000 skills (the corpus's skills replicated)
# deployed into an empty project by `skillmeat deploy --all`, beside `cp -r`
# of the same folders and the npm `skills` CLI (vercel-labs, pinned, copy
# mode, local source, non-interactive, telemetry off), in one run; then a
# re-deploy with nothing changed and `status` of the 1,000.
#
# usage: sh bench/deploy/run.sh            (from the repository, after make)
# env:   SKILLMEAT_BIN (default build/skillmeat), SKILLMEAT_SHARED (default ../shared),
#        N (skills, default 1000), RUNS (hyperfine runs, default 5),
#        SKILLS_NPM_VERSION (default 1.4.9: the newest release that runs on
#        Debian's node 20; 1.5.x and later require node >= 22.20). npm installs
#        it --prefer-offline: from the npm cache when the machine is offline.
set -eu
SM=$(realpath "${SKILLMEAT_BIN:-build/skillmeat}")
SHARED=${SKILLMEAT_SHARED:-../shared}
N=${N:-1000}
RUNS=${RUNS:-5}
VER=${SKILLS_NPM_VERSION:-1.4.9}
command -v hyperfine >/dev/null || { echo "bench/deploy: needs hyperfine (tools/deps.sh bench)" >&2; exit 1; }
T=$(mktemp -d "${TMPDIR:-/tmp}/sm-bench-deploy.XXXXXX")
trap 'rm -rf "$T"' EXIT

python3 - "$SHARED/corpus/wshobson-agents" "$T/src/skills" "$N" <<'PY'
import os, shutil, sys
corpus, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
skills = sorted(d for d, _, f in os.walk(corpus) if "SKILL.md" in f)
os.makedirs(out)
k = 0
while k < n:
    for s in skills:
        if k == n:
            break
        name = f"{os.path.basename(s)}-{k // len(skills)}"
        shutil.copytree(s, os.path.join(out, name))
        # the frontmatter name follows the folder: the npm CLI names skills by it
        md = os.path.join(out, name, "SKILL.md")
        with open(md, encoding="utf-8") as f:
            text = f.read()
        head, sep, rest = text.partition("\n---")
        lines = [f"name: {name}" if x.startswith("name:") else x for x in head.split("\n")]
        with open(md, "w", encoding="utf-8") as f:
            f.write("\n".join(lines) + sep + rest)
        k += 1
PY
"$SM" --home "$T/home" --json add --all "$T/src" >/dev/null
C="$T/home/collections/default/skills"
echo "skills: $(ls "$C" | wc -l), $(du -sh "$C" | cut -f1)"

NPM=""
if command -v npm >/dev/null && (cd "$T" && mkdir npm && cd npm &&
	npm install --no-audit --no-fund --silent --prefer-offline "skills@$VER" >/dev/null 2>&1); then
	NPM="$T/npm/node_modules/.bin/skills"
else
	echo "npm skills@$VER could not be installed: its row is left out" >&2
fi

set -- -n "cp -r" "cp -r '$C' '$T/p-cp/.claude/skills'" \
	-n "skillmeat deploy --all" "'$SM' --home '$T/home' deploy --all --project '$T/p-sm'"
if [ -n "$NPM" ]; then
	set -- "$@" -n "skills@$VER add --copy" \
		"cd '$T/p-npm' && DISABLE_TELEMETRY=1 DO_NOT_TRACK=1 '$NPM' add '$T/src' --skill '*' --agent claude-code -y --copy </dev/null >/dev/null 2>&1"
fi
hyperfine --style basic --runs "$RUNS" --export-json "$T/first.json" \
	--prepare "rm -rf '$T/p-cp' '$T/p-sm' '$T/p-npm'; mkdir -p '$T/p-cp/.claude' '$T/p-sm' '$T/p-npm'; sync" \
	"$@" >/dev/null

if [ -n "$NPM" ]; then
	echo "skills@$VER installed $(ls "$T/p-npm/.claude/skills" 2>/dev/null | wc -l) skills (last run)"
fi
rm -rf "$T/p-sm" && mkdir "$T/p-sm"
"$SM" --home "$T/home" deploy --all --project "$T/p-sm" >/dev/null
diff -r "$C" "$T/p-sm/.claude/skills" >/dev/null || { echo "deployed copy differs from the collection" >&2; exit 1; }
echo "skillmeat deployed $(ls "$T/p-sm/.claude/skills" | wc -l) skills (equal to the collection's)"
hyperfine -N --style basic --warmup 2 --runs $((RUNS * 4)) --export-json "$T/again.json" \
	-n "re-deploy unchanged" "$SM --home $T/home deploy --all --project $T/p-sm" \
	-n "status" "$SM --home $T/home status --project $T/p-sm" \
	-n "git --version (floor)" "git --version" >/dev/null

python3 - "$T/first.json" "$T/again.json" "$N" <<'PY'
import json, sys
first = {r["command"]: r for r in json.load(open(sys.argv[1]))["results"]}
again = {r["command"]: r for r in json.load(open(sys.argv[2]))["results"]}
cp = first["cp -r"]["mean"]
print(f"\n| step ({sys.argv[3]} skills) | mean | ± | vs cp -r | target |")
print("|---|---|---|---|---|")
for name, r in first.items():
    tgt = "≤ 1.5×" if name.startswith("skillmeat") else ""
    print(f"| {name} | {r['mean']*1000:.1f} ms | {r['stddev']*1000:.1f} | {r['mean']/cp:.2f}× | {tgt} |")
for name, r in again.items():
    tgt = {"re-deploy unchanged": "≤ 50 ms", "status": "≤ 100 ms"}.get(name, "")
    print(f"| {name} | {r['mean']*1000:.1f} ms | {r['stddev']*1000:.1f} | | {tgt} |")
PY

# The first deploy paired with cp -r run by run (the shared disk's speed
# drifts within a run: hyperfine's means above compare different minutes):
# each pair prepares both projects the same way (removed, made, sync), then
# times cp -r and deploy in alternating order; medians of the per-pair ratios.
python3 - "$SM" "$T" "$C" "$((RUNS * 2))" <<'PY'
import os, shutil, statistics, subprocess, sys, time
sm, t, c, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
def prep():
    for p in ("p-cp", "p-sm"):
        shutil.rmtree(os.path.join(t, p), ignore_errors=True)
    os.makedirs(os.path.join(t, "p-cp/.claude"))
    os.makedirs(os.path.join(t, "p-sm"))
    subprocess.run(["sync"], check=True)
def timed(cmd):
    w0, r0 = time.monotonic(), os.times()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    w1, r1 = time.monotonic(), os.times()
    return w1 - w0, (r1.children_user - r0.children_user) + (r1.children_system - r0.children_system)
cp = ["cp", "-r", c, os.path.join(t, "p-cp/.claude/skills")]
dep = [sm, "--home", os.path.join(t, "home"), "deploy", "--all", "--project", os.path.join(t, "p-sm")]
wall, cpu, dw, cw = [], [], [], []
for i in range(n):
    first, second = (cp, dep) if i % 2 else (dep, cp)
    prep()
    a = timed(first)
    prep()
    b = timed(second)
    d, k = (b, a) if i % 2 else (a, b)
    wall.append(d[0] / k[0]); cpu.append(d[1] / k[1]); dw.append(d[0]); cw.append(k[0])
print(f"\nfirst deploy paired with cp -r ({n} pairs, medians): deploy {statistics.median(dw)*1000:.0f} ms,"
      f" cp -r {statistics.median(cw)*1000:.0f} ms; wall ratio {statistics.median(wall):.2f}×"
      f" (min {min(wall):.2f}, max {max(wall):.2f}), cpu ratio {statistics.median(cpu):.2f}× (target ≤ 1.5×)")
PY
