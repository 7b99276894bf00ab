#!/bin/sh
# The program starts, answers --version and --help, and rejects unknown input.
. "$(dirname "$0")/lib.sh"

out=$("$SM" --version) || fail "--version exit $?"
case "$out" in "skillmeat "*) ;; *) fail "--version printed '$out'" ;; esac
"$SM" --help >/dev/null || fail "--help exit $?"
expect_exit 2 "$SM" no-such-verb
done_ok
