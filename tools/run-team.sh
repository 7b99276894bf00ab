#!/bin/sh
# `make run-team`: team mode on this machine (docs/team.md). A private
# PostgreSQL cluster in demo-team/ (git-ignored; initdb/pg_ctl from
# `pg_config --bindir`, as nobody when run as root), on a unix socket there,
# the examples/demo artifacts uploaded to the tenant "demo", and two
# `serve --store` instances on 127.0.0.1:8081 and :8082 (PORTS="a b" to
# change). Ctrl-C stops both instances and the cluster.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
SM="$root/build/skillmeat"
dir="$root/demo-team"
ports=${PORTS:-"8081 8082"}
bindir=$(pg_config --bindir)
as=""
[ "$(id -u)" = 0 ] && as="runuser -u nobody --"
pgport=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

rm -rf "$dir"
mkdir -p "$dir/home-a" "$dir/home-b"
[ -n "$as" ] && chown nobody "$dir"
cd "$dir"
$as "$bindir/initdb" -D "$dir/data" -U skillmeat -A trust -E UTF8 --locale=C --no-sync >/dev/null
$as "$bindir/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w \
	-o "-k $dir -p $pgport -c listen_addresses=''" start >/dev/null
pids=""
stop() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	$as "$bindir/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null || true
}
trap stop EXIT INT TERM
"$bindir/psql" -X -q -h "$dir" -p "$pgport" -U skillmeat -d postgres -c 'CREATE DATABASE team'
url="postgresql:///team?host=$dir&port=$pgport&user=skillmeat"
config="[server]
store = \"$url\"

[team.tokens]
demo-token = \"demo\"
"
for h in home-a home-b; do printf '%s' "$config" >"$dir/$h/config.toml"; done
"$SM" --home "$dir/home-a" team migrate >&2

set -- $ports
for port in "$@"; do
	home="$dir/home-a"
	[ "$port" = "$1" ] || home="$dir/home-b"
	"$SM" --home "$home" serve --port "$port" >"$dir/url-$port" 2>>"$dir/serve.log" &
	pids="$pids $!"
done
for port in "$@"; do
	i=0
	until [ -s "$dir/url-$port" ]; do
		i=$((i + 1))
		[ $i -lt 100 ] || { echo "error: the instance on :$port did not start (demo-team/serve.log)" >&2; exit 1; }
		sleep 0.1
	done
done
# the demo artifacts, uploaded through the first instance
python3 - "$root/examples/demo" "$(cat "$dir/url-$1")" <<'PY'
import base64, json, os, sys, urllib.request
src, url = sys.argv[1], sys.argv[2]
kinds = {"skills": "skill", "commands": "command", "agents": "agent"}
for folder, kind in kinds.items():
    for entry in sorted(os.listdir(os.path.join(src, folder))):
        path = os.path.join(src, folder, entry)
        if os.path.isdir(path):
            files = [os.path.relpath(os.path.join(d, f), path)
                     for d, _, fs in os.walk(path) for f in fs]
            base, name = path, entry
        else:
            files, base, name = [entry], os.path.dirname(path), entry[:-3]
        body = {"type": kind, "name": name, "force": True, "files": [
            {"path": f, "content_base64": base64.b64encode(
                open(os.path.join(base, f), "rb").read()).decode()} for f in sorted(files)]}
        req = urllib.request.Request(url + "/api/v1/team/artifacts", json.dumps(body).encode(),
                                     {"Content-Type": "application/json",
                                      "Authorization": "Bearer demo-token"})
        urllib.request.urlopen(req).read()
        print(f"uploaded {kind}:{name}", file=sys.stderr)
PY
for port in "$@"; do echo "instance: $(cat "$dir/url-$port")  (tenant demo: Authorization: Bearer demo-token)"; done
echo "store: $url" >&2
echo "Ctrl-C stops both instances and PostgreSQL" >&2
wait
