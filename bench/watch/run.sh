#!/bin/sh
# Watcher benchmark (not a test): the delay from a hand edit of a skill's
# SKILL.md to the new description being visible in the cache, through the
# inotify watcher and its default refresh (debounce 100 ms), over 20 edits of
# one artifact in an N-artifact home. Target: under 1 s.
# usage: bench/watch/run.sh [BUILD_DIR] [N] [EDITS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
N=${2:-1000}
EDITS=${3:-20}
shared=${SKILLMEAT_SHARED:-$root/../shared}
work=$(mktemp -d "${TMPDIR:-/tmp}/sm-bench-watch.XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 "$here/../gen_tree.py" "$shared/corpus/wshobson-agents" "$work/tree" "$N"
"$build/skillmeat" --home "$work/home" --quiet add --all "$work/tree" --on-clash rename
"$build/bench/bench-watch" "$work/home" "$EDITS" 100 >"$work/out"
cat "$work/out"
awk '$1 == "edit_to_visible_median_ms" { m = $2 }
	$1 == "edit_to_visible_max_ms" { x = $2 }
	END { printf "edit to visible: median %.1f ms, max %.1f ms (target < 1000 ms)\n", m, x }' "$work/out"
