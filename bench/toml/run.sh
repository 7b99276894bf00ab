#!/bin/sh
# TOML decoder/encoder throughput against Python's tomllib on a ~4 MB
# collection.toml (the fixture's [[artifacts]] replicated to 5000 entries).
# usage: bench/toml/run.sh   (env: BUILD=build, RUNS=10, COUNT=5000, SKILLMEAT_SHARED)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
BUILD=${BUILD:-build}
case $BUILD in /*) ;; *) BUILD=$root/$BUILD ;; esac
RUNS=${RUNS:-10}
COUNT=${COUNT:-5000}
SHARED=${SKILLMEAT_SHARED:-$root/../shared}
bench=$BUILD/bench/bench-toml
[ -x "$bench" ] || { echo "bench/toml: $bench not built (ninja -C $BUILD bench/bench-toml)" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
tar xzf "$SHARED/fixtures/skillmeat-0.9.1-sample.tar.gz" -C "$tmp"
file=$tmp/collection-$COUNT.toml
python3 "$here/gen_collection.py" "$tmp/skillmeat-home/collections/default/collection.toml" \
	"$file" "$COUNT"

echo "== TOML: skillmeat sm_toml vs python3 tomllib ($COUNT artifacts) =="
ours=$("$bench" "$file" "$RUNS")
echo "$ours" | grep -v '^result '
py=$(python3 - "$file" "$RUNS" <<'PY'
import sys, time, tomllib
path, runs = sys.argv[1], int(sys.argv[2])
with open(path, "rb") as f:
    text = f.read().decode()
size = len(text.encode())
best = min((lambda t0: (tomllib.loads(text), time.perf_counter() - t0)[1])(time.perf_counter())
           for _ in range(runs))
print(f"{size / 1e6 / best:.2f}")
PY
)
dec=$(echo "$ours" | sed -n 's/^result decode_mbps=\([0-9.]*\).*/\1/p')
echo "tomllib.loads (python $(python3 -c 'import platform; print(platform.python_version())')): $py MB/s"
awk -v a="$dec" -v b="$py" 'BEGIN { printf "decode ratio: %.1fx tomllib\n", a / b }'
