#!/bin/sh
# Fails when code outside src/toml (and the TOML module's own unit test)
# reaches into a TOML value's containers or strings (u.tab, u.arr, u.str)
# instead of using the accessors of include/skillmeat/toml.h
# (sm_toml_len, sm_toml_at, sm_toml_kv_at, sm_toml_value_at, sm_toml_str, ...).
set -eu
root=${1:-.}
if grep -rnE '\bu\.(tab|arr|str)\b' "$root/src" "$root/tests" "$root/bench" --include='*.c' --include='*.h' \
	| grep -v "^$root/src/toml/" | grep -v "^$root/tests/unit/test_toml.c:"; then
	echo "TOML value members used outside src/toml: use the accessors of skillmeat/toml.h" >&2
	exit 1
fi
echo "no TOML value members outside src/toml"
