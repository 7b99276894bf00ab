# Shared helpers for the CLI tests: a temporary SKILLMEAT_HOME per test,
# removed on exit; fail() prints and exits 1.
set -u
SM=${SKILLMEAT_BIN:?SKILLMEAT_BIN is not set}
SHARED=${SKILLMEAT_SHARED:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sm-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export SKILLMEAT_HOME="$TMP/home"
export NO_COLOR=1
CHECKS=0

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	CHECKS=$((CHECKS + 1))
}

# expect_exit CODE CMD...: run CMD, fail unless it exits with CODE.
expect_exit() {
	want=$1
	shift
	"$@" >"$TMP/.out" 2>"$TMP/.err"
	got=$?
	[ "$got" = "$want" ] || fail "'$*' exited $got, wanted $want: $(cat "$TMP/.err")"
	ok
}

done_ok() {
	echo "ok ($CHECKS checks)"
	exit 0
}
