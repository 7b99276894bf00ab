#!/bin/sh
# A short run of every libFuzzer target (CI: `make fuzz-short`, after `make
# fuzz` built them): FUZZ_SECONDS each (default 25), seeded from
# tests/fuzz/seeds and ../shared. Any crash, leak or sanitizer report fails;
# the input is kept in BUILD/fuzz-crashes/. Prints one line per target.
# FUZZ_TARGETS picks targets (default: all); a long run of one target is
# FUZZ_SECONDS=600 FUZZ_TARGETS=json sh tools/fuzz-short.sh build-fuzz.
set -eu
BUILD=${1:-build-fuzz}
SECONDS_EACH=${FUZZ_SECONDS:-25}
SHARED=${SKILLMEAT_SHARED:-../shared}
work=$(mktemp -d "${TMPDIR:-/tmp}/sm-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
TARGETS=${FUZZ_TARGETS:-toml frontmatter http json router}
mkdir -p "$BUILD/fuzz-crashes" "$work/toml" "$work/frontmatter"

# seeds: the toml-test cases, the fixture's and corpus's Markdown heads
if [ -d "$SHARED/conformance/toml-test/valid" ]; then
	find "$SHARED/conformance/toml-test/valid" "$SHARED/conformance/toml-test/invalid" \
		-name '*.toml' | head -n 800 | while read -r f; do
		cp "$f" "$work/toml/$(printf '%s' "$f" | cksum | cut -d' ' -f1)"
	done
fi
if [ -d "$SHARED/corpus" ]; then
	find "$SHARED/corpus" -name '*.md' | head -n 300 | while read -r f; do
		head -c 4096 "$f" >"$work/frontmatter/$(printf '%s' "$f" | cksum | cut -d' ' -f1)"
	done
fi

status=0
for t in $TARGETS; do
	mkdir -p "$work/corpus-$t" "$work/$t"
	dict=
	[ "$t" = toml ] && dict=-dict=tests/fuzz/toml.dict
	if nice "$BUILD/tests/fuzz/fuzz_$t" -max_total_time="$SECONDS_EACH" -max_len=16384 \
		-timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $dict \
		-artifact_prefix="$BUILD/fuzz-crashes/$t-" \
		"$work/corpus-$t" "tests/fuzz/seeds/$t" "$work/$t" >"$work/$t.log" 2>&1; then
		execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/$t.log")
		cov=$(grep -o 'cov: [0-9]*' "$work/$t.log" | tail -n 1)
		echo "fuzz_$t: ${SECONDS_EACH}s, $execs execs, $cov, no crash"
	else
		echo "FAIL fuzz_$t (input in $BUILD/fuzz-crashes/):"
		tail -n 60 "$work/$t.log"
		status=1
	fi
done
exit $status
