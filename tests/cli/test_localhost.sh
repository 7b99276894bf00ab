#!/bin/sh
# `serve --host localhost` binds the loopback address without the resolver
# (RFC 6761): a minimal Debian root has no /etc/hosts. The server runs in a
# mount namespace where /etc/hosts is empty (needs unshare -m: root or user
# namespaces; skipped, exit 77, where neither is allowed).
. "$(dirname "$0")/lib.sh"

: >"$TMP/empty-hosts"
if ! unshare -m sh -c 'mount --bind "$1" /etc/hosts' sh "$TMP/empty-hosts" 2>/dev/null; then
	echo "skip: no mount namespace here (unshare -m)"
	exit 77
fi
# the resolver really knows no localhost in there (so the check below can fail)
if unshare -m sh -c 'mount --bind "$1" /etc/hosts && getent ahostsv4 localhost' sh \
	"$TMP/empty-hosts" >/dev/null 2>&1; then
	echo "skip: this libc resolves localhost without /etc/hosts"
	exit 77
fi
"$SM" --quiet init || fail "init"
unshare -m sh -c 'mount --bind "$1" /etc/hosts && shift && exec "$@"' sh "$TMP/empty-hosts" \
	"$SM" serve --host localhost --port 0 >"$TMP/out" 2>"$TMP/err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while [ ! -s "$TMP/out" ] && kill -0 $pid 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.05
	i=$((i + 1))
done
url=$(head -n 1 "$TMP/out")
case "$url" in http://localhost:*) ;; *) fail "no URL line: $(cat "$TMP/err")" ;; esac
port=${url##*:}
python3 - "$port" <<'PY' || fail "the server does not answer on 127.0.0.1"
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=30)
c.request("GET", "/health", headers={"Host": "localhost:" + sys.argv[1]})
r = c.getresponse()
sys.exit(0 if r.status == 200 else 1)
PY
ok
kill "$pid" && wait "$pid"
st=$?
[ $st -eq 0 ] || fail "SIGTERM: exit $st"
ok
done_ok
