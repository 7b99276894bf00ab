#!/bin/sh
# Runs meson test in build folder $1 (extra args passed on) and ends with one
# line "N passed, N failed" (skipped tests are counted apart). Exit 1 on failure.
set -u
dir=$1
shift
log=$(mktemp)
st=$(mktemp)
# meson's own exit status, not tee's (POSIX sh has no pipefail)
{
	meson test -C "$dir" --print-errorlogs "$@"
	echo $? >"$st"
} 2>&1 | tee "$log"
status=$(cat "$st")
[ -n "$status" ] || status=1
count() {
	awk -v k="$1" '$1 == k":" || ($1" "$2) == k":" { n = $NF } END { print n + 0 }' "$log"
}
ok=$(count Ok)
fail=$(( $(count Fail) + $(count Timeout) + $(awk '/^Unexpected Pass:/ { n = $NF } END { print n + 0 }' "$log") ))
skip=$(count Skipped)
rm -f "$log" "$st"
if [ "$ok" = 0 ] && [ "$fail" = 0 ]; then
	echo "no test ran" >&2
	fail=1
fi
if [ "$skip" != 0 ]; then
	echo "$ok passed, $fail failed, $skip skipped"
else
	echo "$ok passed, $fail failed"
fi
[ "$fail" = 0 ] && [ "$status" = 0 ]
