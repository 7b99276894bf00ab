#!/bin/sh
# Two servers of two homes never share a port (SO_REUSEPORT would let them).
. "$(dirname "$0")/lib.sh"

"$SM" --home "$TMP/a" --quiet init || fail "init a"
"$SM" --home "$TMP/b" --quiet init || fail "init b"
"$SM" --home "$TMP/a" serve --port 0 >"$TMP/a.out" 2>"$TMP/a.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while [ ! -s "$TMP/a.out" ] && [ $i -lt 200 ]; do
	sleep 0.05
	i=$((i + 1))
done
url=$(head -n 1 "$TMP/a.out")
case "$url" in http://127.0.0.1:*) ;; *) fail "no URL line: $(cat "$TMP/a.err")" ;; esac
port=${url##*:}
expect_exit 1 "$SM" --home "$TMP/b" serve --port "$port"
grep -q "already in use" "$TMP/.err" || fail "busy port message: $(cat "$TMP/.err")"
[ ! -e "$TMP/b/server.json" ] || fail "the refused server left a server.json"
kill "$pid" && wait "$pid"
st=$?
[ $st -eq 0 ] || fail "SIGTERM: exit $st"
[ ! -e "$TMP/a/server.json" ] || fail "server.json not removed on exit"
ok
done_ok
