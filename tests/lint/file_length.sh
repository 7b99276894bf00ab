#!/bin/sh
# Fails when a source file under src/ is longer than 1,500 lines (STYLE.md:
# "past 1,500 needs a reason" — the reason is a split along the module's seams).
set -eu
root=${1:-.}
max=1500
long=$(find "$root/src" -type f \( -name '*.c' -o -name '*.h' \) -exec wc -l {} + \
	| awk -v max=$max '$2 != "total" && $1 > max { print }')
if [ -n "$long" ]; then
	echo "$long"
	echo "source files over $max lines: split them along their seams" >&2
	exit 1
fi
echo "no source file over $max lines"
