#!/bin/sh
# Team-mode benchmark (issue 12; not a test): two `skillmeat serve --store
# postgresql://…` instances on one private PostgreSQL, beside the SQLite mode
# on the same N artifacts, in the same run.
#
# What it does, in order:
#   1. `sh tools/deps.sh bench` (wrk; PostgreSQL comes with the default list);
#   2. builds an N-artifact home (default 10,000) in a mktemp dir with
#      bench/gen_tree.py + `skillmeat add --all` (never ~/.skillmeat; removed
#      at exit unless SM_BENCH_KEEP=1);
#   3. bench/team/bench_team.py: the SQLite-mode server on that home under
#      `wrk -t2 -c64 -d${DURATION}s` (the page
#      /api/v1/user-collections/default/artifacts?limit=50 from the answer
#      cache), stopped; a private cluster (tests/api/pgcluster.py: initdb and
#      pg_ctl in a temporary folder, unix socket, always stopped), the home's
#      index rows copied into it (tenant default), two instances A and B on it;
#      SM_BENCH_ROUNDS (2) rounds of sqlite, A, B in turn under the same wrk load
#      (the best round of each is compared: the load moves), then A while a writer edits
#      artifacts of that page through B back to back, again with edits of
#      artifacts the page does not show (its answer stays), then WRITES edits through
#      B each followed at once by reads of the page through A until A shows it:
#      the commit-to-fresh delay and the count of stale answers;
#   4. prints a summary: req/s, p50, p99 per row, sqlite/team ratio (target
#      <= 2x), A's p99 during the writes beside idle, commit-to-fresh median,
#      p99 and max (target: 0 stale answers over >= 1,000 writes).
# Every process it starts is stopped (servers by the driver, the cluster by
# pgcluster.py). The machine has 2 cores shared by wrk, the servers and
# PostgreSQL: note `uptime` with the figures and run it more than once.
#
# usage: bench/team/run.sh [BUILD_DIR] [N] [DURATION_SECONDS] [WRITES]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
N=${2:-10000}
DUR=${3:-10}
WRITES=${4:-1000}
shared=${SKILLMEAT_SHARED:-$root/../shared}
sm="$build/skillmeat"

sh "$root/tools/deps.sh" bench
for t in wrk python3 pg_config; do
	command -v "$t" >/dev/null 2>&1 || { echo "error: $t not found" >&2; exit 1; }
done
[ -x "$sm" ] || { echo "error: $sm not built (make, or pass BUILD_DIR)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sm-bench-team.XXXXXX")
cleanup() {
	if [ "${SM_BENCH_KEEP:-0}" = 1 ]; then
		echo "kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

echo "== building a $N-artifact home in $work"
python3 "$root/bench/gen_tree.py" "$shared/corpus/wshobson-agents" "$work/tree" "$N"
"$sm" --home "$work/home" add --all "$work/tree" --on-clash rename --quiet
rm -rf "$work/tree"
echo "== load before: $(uptime)"
python3 "$here/bench_team.py" "$sm" "$work/home" "$DUR" "$WRITES"
echo "== load after: $(uptime)"
