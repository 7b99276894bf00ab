#!/bin/sh
# Start-up floor benchmark (issue 8). Not a test. Times `skillmeat --version`
# and `list` of the wshobson-agents corpus (488 artifacts after
# `add --all --on-clash rename`) against `git --version`, measured in the
# same run, with hyperfine when installed (tools/deps.sh bench), else a
# best-of-RUNS loop. Targets: --version <= 1.5x git, list <= 3x git.
# usage: bench/startup/run.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
RUNS=${RUNS:-200}
SM="$build/skillmeat"
shared=${SKILLMEAT_SHARED:-$root/../shared}
corpus="$shared/corpus/wshobson-agents"
work=$(mktemp -d "${TMPDIR:-/tmp}/sm-bench-startup.XXXXXX")
trap 'rm -rf "$work"' EXIT
export SKILLMEAT_HOME="$work/home" NO_COLOR=1

"$SM" --quiet add --all "$corpus" --on-clash rename >/dev/null
n=$("$SM" list --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(len(d if isinstance(d, list) else d.get("artifacts", d)))')
"$SM" list >/dev/null # warm the cache and the page cache
echo "home: $n artifacts; libraries loaded by skillmeat: $(ldd "$SM" | wc -l) (git: $(ldd "$(command -v git)" | wc -l))"

if command -v hyperfine >/dev/null; then
	hyperfine -N --warmup 20 --runs "$RUNS" --export-json "$work/h.json" \
		-n git-version 'git --version' \
		-n sm-version "$SM --version" \
		-n sm-list "$SM list" >/dev/null
	python3 - "$work/h.json" <<'PY'
import json, sys
r = {x["command"]: x for x in json.load(open(sys.argv[1]))["results"]}
g = r["git-version"]["mean"]
for name in ("git-version", "sm-version", "sm-list"):
    x = r[name]
    print(f"  {name:14} mean {x['mean']*1e3:7.2f} ms  median {x['median']*1e3:7.2f} ms  "
          f"= {x['mean']/g:5.2f}x git --version")
PY
	exit 0
fi

# fallback: mean over RUNS runs, interleaved so load changes hit all three alike
python3 - "$RUNS" "$SM" <<'PY'
import subprocess, sys, time
runs, sm = int(sys.argv[1]), sys.argv[2]
cmds = {"git-version": ["git", "--version"], "sm-version": [sm, "--version"], "sm-list": [sm, "list"]}
t = {k: [] for k in cmds}
for _ in range(runs):
    for k, c in cmds.items():
        t0 = time.perf_counter()
        subprocess.run(c, stdout=subprocess.DEVNULL, check=True)
        t[k].append(time.perf_counter() - t0)
g = sorted(t["git-version"])[runs // 2]
for k, v in t.items():
    v.sort()
    print(f"  {k:14} median {v[runs // 2]*1e3:7.2f} ms = {v[runs // 2]/g:5.2f}x git --version")
PY
