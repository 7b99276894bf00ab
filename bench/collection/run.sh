#!/bin/sh
# Collection-core benchmark (issue: file-based collection core). Not a test.
# Times `add --all` and `list` against cp -r + sync and cat of the metadata
# files of the same tree, measured in the same run (best of RUNS).
# usage: bench/collection/run.sh [BUILD_DIR] [N]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
N=${2:-10000}
RUNS=${RUNS:-3}
SM="$build/skillmeat"
shared=${SKILLMEAT_SHARED:-$root/../shared}
corpus="$shared/corpus/wshobson-agents"
work=$(mktemp -d "${TMPDIR:-/tmp}/sm-bench.XXXXXX")
trap 'rm -rf "$work"' EXIT

now_ns() { date +%s%N; }

# best_of NAME CMD...: run CMD RUNS times (PREP before each, if set), print the best in ms
best_of() {
	name=$1
	shift
	best=
	i=0
	while [ $i -lt "$RUNS" ]; do
		[ -n "${PREP:-}" ] && sh -c "$PREP"
		t0=$(now_ns)
		"$@" >/dev/null 2>&1 || { echo "$name: command failed: $*" >&2; exit 1; }
		t1=$(now_ns)
		ms=$(( (t1 - t0) / 1000 ))
		if [ -z "$best" ] || [ "$ms" -lt "$best" ]; then best=$ms; fi
		i=$((i + 1))
	done
	printf '%s %s\n' "$name" "$best" >>"$work/results"
	awk -v n="$name" -v us="$best" 'BEGIN { printf "  %-34s %10.1f ms\n", n, us / 1000 }'
}

ratio() {
	awk -v a="$(grep "^$1 " "$work/results" | cut -d' ' -f2)" \
		-v b="$(grep "^$2 " "$work/results" | cut -d' ' -f2)" \
		-v l="$3" 'BEGIN { printf "  %-50s %6.2fx\n", l, a / b }'
}

echo "generating a $N-artifact tree from the corpus..."
python3 "$here/../gen_tree.py" "$corpus" "$work/tree" "$N"

for label in corpus tree; do
	src=$corpus
	[ $label = tree ] && src=$work/tree
	echo "== $label ($src)"
	PREP="rm -rf '$work/cp'" best_of "cp-r+sync-$label" sh -c "cp -r '$src' '$work/cp' && sync"
	PREP="rm -rf '$work/home'" best_of "add-all-$label" \
		"$SM" --home "$work/home" --quiet add --all "$src" --on-clash rename
	PREP= best_of "cat-meta-$label" sh -c "find '$src' \\( -name SKILL.md -o -path '*/agents/*.md' -o -path '*/commands/*.md' \\) -print0 | xargs -0 cat >/dev/null"
	PREP= best_of "list-$label" "$SM" --home "$work/home" list
	PREP= best_of "list-json-$label" "$SM" --home "$work/home" list --json
	ratio "add-all-$label" "cp-r+sync-$label" "add --all / (cp -r + sync)"
	ratio "list-$label" "cat-meta-$label" "list / cat of the metadata files"
	ratio "list-json-$label" "cat-meta-$label" "list --json / cat of the metadata files"
done
echo "(SkillMeat 0.9.1 on this machine, fixtures/README.md: list 2.07 s at N=488;"
echo " add ~2.0 s per artifact, 948 s for all 488)"
