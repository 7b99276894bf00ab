#!/bin/sh
# Scale traps (issue 11, point 7). Not a test. Times a warm `list` of a home
# with N user collections, and of a home whose manifest lists M artifacts
# whose folders are gone, against `cat` of the file that drives the work
# (user-collections.toml, collection.toml), measured in the same run (best of
# RUNS). Both used to grow quadratically or rewrite every row on each read.
# usage: bench/scale/run.sh [BUILD_DIR] [N] [M]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
N=${2:-10000}
M=${3:-50000}
RUNS=${RUNS:-3}
SM=${SM:-$build/skillmeat}
work=$(mktemp -d "${TMPDIR:-/tmp}/sm-bench-scale.XXXXXX")
trap 'rm -rf "$work"' EXIT

now_ns() { date +%s%N; }

# best_of NAME CMD...: run CMD RUNS times, record the best in microseconds
best_of() {
	name=$1
	shift
	best=
	i=0
	while [ $i -lt "$RUNS" ]; do
		t0=$(now_ns)
		"$@" >/dev/null 2>&1 || { echo "$name: command failed: $*" >&2; exit 1; }
		t1=$(now_ns)
		us=$(( (t1 - t0) / 1000 ))
		if [ -z "$best" ] || [ "$us" -lt "$best" ]; then best=$us; fi
		i=$((i + 1))
	done
	printf '%s %s\n' "$name" "$best" >>"$work/results"
	awk -v n="$name" -v us="$best" 'BEGIN { printf "  %-34s %10.1f ms\n", n, us / 1000 }'
}

ratio() {
	awk -v a="$(grep "^$1 " "$work/results" | cut -d' ' -f2)" \
		-v b="$(grep "^$2 " "$work/results" | cut -d' ' -f2)" \
		-v l="$3" 'BEGIN { printf "  %-50s %8.1fx\n", l, a / b }'
}

echo "== scale traps: $N user collections, $M missing artifact folders ($SM)"
python3 "$here/gen.py" "$work" "$N" "$M"
# the first list builds the cache; the timed ones are warm
"$SM" --home "$work/uc" list >/dev/null 2>&1
"$SM" --home "$work/missing" list >/dev/null 2>&1 || true
best_of "cat-user-collections" cat "$work/uc/user-collections.toml"
best_of "list-$N-user-collections" "$SM" --home "$work/uc" list
best_of "cat-manifest-$M-missing" cat "$work/missing/collections/default/collection.toml"
best_of "list-$M-missing" sh -c "'$SM' --home '$work/missing' list; true"
ratio "list-$N-user-collections" "cat-user-collections" "warm list, $N user collections / cat of the file"
ratio "list-$M-missing" "cat-manifest-$M-missing" "warm list, $M missing folders / cat of the manifest"
