#!/bin/sh
# tools/test-summary.sh: its exit status is meson's (not tee's), and its last
# line counts what meson reported. A fake `meson` on PATH plays each case.
set -u
SRC=${1:?usage: test_summary.sh SOURCE_ROOT}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sm-summary.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
n=0
fail() {
	echo "FAIL: $*" >&2
	exit 1
}
# case OUTPUT_LINES MESON_EXIT WANT_EXIT WANT_LAST_LINE
case_() {
	printf '#!/bin/sh\nprintf "%%b" "%s"\nexit %s\n' "$1" "$2" >"$TMP/meson"
	chmod +x "$TMP/meson"
	PATH="$TMP:$PATH" sh "$SRC/tools/test-summary.sh" build >"$TMP/out" 2>&1
	got=$?
	last=$(tail -n 1 "$TMP/out")
	[ "$got" = "$3" ] || fail "meson exit $2 with '$1': summary exited $got, wanted $3"
	[ "$last" = "$4" ] || fail "meson exit $2 with '$1': last line '$last', wanted '$4'"
	n=$((n + 1))
}
case_ 'Ok:                 3\nFail:               0\n' 0 0 "3 passed, 0 failed"
case_ 'Ok:                 2\nFail:               1\n' 1 1 "2 passed, 1 failed"
# meson failed (a build error, an interrupted run) though no test failed
case_ 'Ok:                 3\nFail:               0\n' 1 1 "3 passed, 0 failed"
case_ 'Ok:                 3\nTimeout:            1\n' 1 1 "3 passed, 1 failed"
case_ 'Ok:                 3\nSkipped:            2\n' 0 0 "3 passed, 0 failed, 2 skipped"
case_ 'ninja: build stopped\n' 1 1 "0 passed, 1 failed"
echo "ok ($n checks)"
