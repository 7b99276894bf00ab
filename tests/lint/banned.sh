#!/bin/sh
# Fails when a banned function (src/util/banned.h) is called anywhere in the sources.
set -eu
root=${1:-.}
pat='(^|[^_a-zA-Z0-9.>])(strcpy|strcat|strncpy|sprintf|vsprintf|strtok|atoi|gmtime|localtime)[[:space:]]*\('
if grep -rnE "$pat" "$root/src" "$root/tests" --include='*.c' --include='*.h' \
	| grep -v 'src/util/banned.h' | grep -v 'lint-allow'; then
	echo "banned function used (see src/util/banned.h)" >&2
	exit 1
fi
echo "no banned functions"
