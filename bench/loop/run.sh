#!/bin/sh
# Loop-thread benchmark (not a test): p99 of reads while a CLI `add --all` of
# the corpus holds the home lock, against the idle p99 of the same run.
# usage: bench/loop/run.sh [BUILD_DIR]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
shared=${SKILLMEAT_SHARED:-$root/../shared}
python3 "$here/bench_loop.py" "$build/skillmeat" "$shared"
