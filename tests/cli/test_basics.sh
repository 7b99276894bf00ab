#!/bin/sh
# The program starts, answers --version and --help, and rejects unknown input.
. "$(dirname "$0")/lib.sh"

out=$("$SM" --version) || fail "--version exit $?"
case "$out" in "skillmeat "*) ;; *) fail "--version printed '$out'" ;; esac
"$SM" --help >/dev/null || fail "--help exit $?"
expect_exit 2 "$SM" no-such-verb
expect_exit 2 "$SM"
expect_exit 2 "$SM" --bogus
# every verb answers --help on stdout with its usage, exit 0, touching nothing
for verb in $("$SM" --help | awk '/^Verbs:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { exit }'); do
	out=$("$SM" "$verb" --help) || fail "$verb --help exit $?"
	case "$out" in *"usage: skillmeat"*) ;; *) fail "$verb --help: no usage line" ;; esac
	ok
done
[ "$CHECKS" -ge 10 ] || fail "too few verbs found in --help ($CHECKS)"
[ ! -e "$SKILLMEAT_HOME" ] || fail "--help created the home"
expect_exit 2 "$SM" list --no-such-flag
# a new home lists nothing, successfully
"$SM" list --json >"$TMP/l.json" || fail "list on a new home"
json_check "$TMP/l.json" 'd == []'
done_ok
