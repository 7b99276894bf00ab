#!/bin/sh
# Metadata-cache benchmark (not a test): an N-artifact home built with
# `skillmeat add --all` from the generator, then bench-cache in-process, beside
# `cat` of the same artifacts' metadata files measured in the same run.
# usage: bench/cache/run.sh [BUILD_DIR] [N]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
N=${2:-10000}
shared=${SKILLMEAT_SHARED:-$root/../shared}
work=$(mktemp -d "${TMPDIR:-/tmp}/sm-bench-cache.XXXXXX")
trap 'rm -rf "$work"' EXIT

python3 "$here/../gen_tree.py" "$shared/corpus/wshobson-agents" "$work/tree" "$N"
"$build/skillmeat" --home "$work/home" --quiet add --all "$work/tree" --on-clash rename
coll="$work/home/collections/default"

best=
for i in 1 2 3 4 5; do
	t0=$(date +%s%N)
	find "$coll" \( -name SKILL.md -o -path '*/agents/*.md' -o -path '*/commands/*.md' \) \
		-print0 | xargs -0 cat >/dev/null
	t1=$(date +%s%N)
	us=$(( (t1 - t0) / 1000 ))
	if [ -z "$best" ] || [ "$us" -lt "$best" ]; then best=$us; fi
done
cat_ms=$(awk -v us="$best" 'BEGIN { printf "%.3f", us / 1000 }')

"$build/bench/bench-cache" "$work/home" 5 >"$work/out"
cat "$work/out"
echo "cat_metadata_ms $cat_ms"
awk -v c="$cat_ms" '$1 == "cold_sync_ms" { printf "cold sync / cat of the metadata files: %.2fx (target <= 3x)\n", $2 / c }
	$1 == "warm_sync_ms" { printf "warm sync: %.1f ms (target < 100 ms)\n", $2 }
	$1 == "page50_ms" { printf "page of 50: %.3f ms (target < 1 ms)\n", $2 }
	$1 == "counts1000_cached_ms" { printf "counts of 1,000, cached: %.4f ms (target < 0.1 ms)\n", $2 }
	$1 == "counts1000_uncached_ms" { printf "counts of 1,000, one grouped query: %.3f ms\n", $2 }' "$work/out"
