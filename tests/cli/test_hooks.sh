#!/bin/sh
# The CLI's hooks into a running server (CLI.md "serve", formats §7): after a
# mutation the CLI POSTs refresh-cache to the url of server.json (live pid),
# else to config api.base_url when set (never a default such as :8080);
# errors and 429 are silent; "API cache
# refreshed" on stderr, not with --quiet/--json.
. "$(dirname "$0")/lib.sh"

# A tiny server recording each request as "METHOD PATH AUTH" in $TMP/posts;
# it answers with the status in $TMP/status (default 200). A request that
# arrives while someone holds the home lock (a CLI announcing before it
# released it) is also written to $TMP/held.
cat >"$TMP/srv.py" <<'PY'
import fcntl, http.server, json, os, sys
log, statusf, portf, home, held = sys.argv[1:6]
def lock_held():
    try:
        fd = os.open(os.path.join(home, ".lock"), os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n:
            self.rfile.read(n)
        if lock_held():
            with open(held, "a") as f:
                f.write("%s %s\n" % (self.command, self.path))
        with open(log, "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, self.headers.get("Authorization") or "-"))
        try:
            code = int(open(statusf).read().strip())
        except (OSError, ValueError):
            code = 200
        body = json.dumps({"collection_id": "default", "updated_count": 1, "skipped_count": 0,
                           "errors": [], "collections_refreshed": 1, "total_updated": 3,
                           "total_skipped": 0, "success": True, "duration_seconds": 0.0}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
with open(portf + ".tmp", "w") as f:
    f.write(str(s.server_address[1]))
os.rename(portf + ".tmp", portf)
s.serve_forever()
PY
python3 "$TMP/srv.py" "$TMP/posts" "$TMP/status" "$TMP/port" "$SKILLMEAT_HOME" "$TMP/held" &
PYPID=$!
trap 'kill $PYPID 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while [ ! -s "$TMP/port" ]; do
	i=$((i + 1))
	[ $i -lt 200 ] || fail "the test server did not start"
	sleep 0.05
done
PORT=$(cat "$TMP/port")
URL="http://127.0.0.1:$PORT"

"$SM" init >/dev/null || fail "init"
# no server.json yet: api.base_url points at a closed port (1 is never bound)
"$SM" config set api.base_url "http://127.0.0.1:1" >/dev/null || fail "config set"
write_server_json() {
	printf '{"pid": %s, "url": "%s", "started_at": "2026-01-01T00:00:00Z"}\n' "$1" "$2" \
		>"$SKILLMEAT_HOME/server.json"
}
posts() {
	if [ -f "$TMP/posts" ]; then wc -l <"$TMP/posts" | tr -d ' '; else echo 0; fi
}
n=0
make_skill "$TMP/src/s$n" "s$n" "description: skill $n"

# 1. a live server in server.json: one single refresh, the line on stderr
write_server_json "$PYPID" "$URL"
expect_exit 0 "$SM" add "$TMP/src/s0"
grep -qx "API cache refreshed" "$TMP/.err" || fail "no refreshed line: $(cat "$TMP/.err")"
[ "$(posts)" = 1 ] || fail "expected one POST, got $(posts)"
grep -qx "POST /api/v1/user-collections/default/refresh-cache -" "$TMP/posts" ||
	fail "wrong request: $(cat "$TMP/posts")"
ok

# 2. --quiet and --json: posted, no line
n=1
make_skill "$TMP/src/s1" s1 "description: skill 1"
expect_exit 0 "$SM" --quiet add "$TMP/src/s1"
[ ! -s "$TMP/.err" ] || fail "--quiet printed: $(cat "$TMP/.err")"
[ "$(posts)" = 2 ] || fail "--quiet did not post"
make_skill "$TMP/src/s2" s2 "description: skill 2"
expect_exit 0 "$SM" --json add "$TMP/src/s2"
grep -q "API cache refreshed" "$TMP/.err" && fail "--json printed the line"
python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$TMP/.out" || fail "--json output is not JSON"
[ "$(posts)" = 3 ] || fail "--json did not post"
ok

# 3. a 429 (and a 404, a 500) is silent
for code in 429 404 500; do
	echo "$code" >"$TMP/status"
	n=$((n + 10))
	make_skill "$TMP/src/s$n" "s$n" "description: skill $n"
	expect_exit 0 "$SM" add "$TMP/src/s$n"
	[ ! -s "$TMP/.err" ] || fail "a $code was not silent: $(cat "$TMP/.err")"
done
[ "$(posts)" = 6 ] || fail "the error answers were not posted to: $(posts)"
rm -f "$TMP/status"

# 4. a read posts nothing; remove posts
before=$(posts)
expect_exit 0 "$SM" show skill:s0
expect_exit 0 "$SM" list
[ "$(posts)" = "$before" ] || fail "a read posted"
expect_exit 0 "$SM" remove skill:s1
grep -qx "API cache refreshed" "$TMP/.err" || fail "remove: no refreshed line"
[ "$(posts)" = $((before + 1)) ] || fail "remove did not post"

# 5. the token is sent as a bearer header
make_skill "$TMP/src/tok" tok "description: token"
expect_exit 0 env SKILLMEAT_API_TOKEN=s3cret "$SM" add "$TMP/src/tok"
tail -n 1 "$TMP/posts" | grep -qx "POST /api/v1/user-collections/default/refresh-cache Bearer s3cret" ||
	fail "no bearer token: $(tail -n 1 "$TMP/posts")"
ok

# 6. server.json naming a dead pid: api.base_url is used (closed port: silent)
sh -c 'exit 0' &
DEAD=$!
wait $DEAD
before=$(posts)
write_server_json "$DEAD" "$URL"
make_skill "$TMP/src/dead" dead "description: dead"
expect_exit 0 "$SM" add "$TMP/src/dead"
[ ! -s "$TMP/.err" ] || fail "a dead server was not silent: $(cat "$TMP/.err")"
[ "$(posts)" = "$before" ] || fail "posted to the url of a dead server.json"

# 7. no server.json: api.base_url is used
rm -f "$SKILLMEAT_HOME/server.json"
"$SM" config set api.base_url "$URL/" >/dev/null || fail "config set"
make_skill "$TMP/src/cfg" cfg "description: cfg"
expect_exit 0 "$SM" add "$TMP/src/cfg"
grep -qx "API cache refreshed" "$TMP/.err" || fail "api.base_url: no refreshed line"
[ "$(posts)" = $((before + 1)) ] || fail "api.base_url was not used"
expect_exit 0 env SKILLMEAT_API_BASE_URL="http://127.0.0.1:1" "$SM" remove skill:cfg
[ ! -s "$TMP/.err" ] || fail "a refused connection was not silent: $(cat "$TMP/.err")"
[ "$(posts)" = $((before + 1)) ] || fail "the environment did not override api.base_url"

# 8. a live server.json whose server has gone away (connection refused): silent
write_server_json "$PYPID" "http://127.0.0.1:1"
make_skill "$TMP/src/gone" gone "description: gone"
expect_exit 0 "$SM" add "$TMP/src/gone"
[ ! -s "$TMP/.err" ] || fail "a refused connection was not silent: $(cat "$TMP/.err")"

# 9. no server.json and no api.base_url: nothing is posted anywhere (not to
# whatever listens on localhost:8080); the debug log shows every attempt
rm -f "$SKILLMEAT_HOME/server.json"
"$SM" config unset api.base_url >/dev/null || fail "config unset api.base_url"
"$SM" config get api.base_url >/dev/null 2>&1 && fail "api.base_url is still set"
before=$(posts)
make_skill "$TMP/src/none" none "description: none"
expect_exit 0 env SKILLMEAT_LOG_LEVEL=debug "$SM" add "$TMP/src/none"
grep -E "POST|refreshed" "$TMP/.err" && fail "announced without a server of this home"
expect_exit 0 env SKILLMEAT_LOG_LEVEL=debug "$SM" remove skill:none
grep -E "POST|refreshed" "$TMP/.err" && fail "announced a remove without a server of this home"
[ "$(posts)" = "$before" ] || fail "posted without server.json or api.base_url"
ok

# 10. deploy, undeploy and a (non-dry-run) sync-pull announce a batch refresh
# (formats §7, issue 9); status, sync-check and sync-preview post nothing
write_server_json "$PYPID" "$URL"
P="$TMP/proj"
mkdir -p "$P"
before=$(posts)
expect_exit 0 "$SM" deploy s0 --project "$P"
[ "$(posts)" = $((before + 1)) ] || fail "deploy did not post: $(posts)"
tail -n 1 "$TMP/posts" | grep -qx "POST /api/v1/user-collections/refresh-cache -" ||
	fail "deploy: not the batch refresh: $(tail -n 1 "$TMP/posts")"
grep -qx "API cache refreshed (3 artifacts in 1 collections)" "$TMP/.err" ||
	fail "deploy: no batch refreshed line: $(cat "$TMP/.err")"
expect_exit 0 "$SM" deploy s0 --project "$P"
[ "$(posts)" = $((before + 1)) ] || fail "an unchanged re-deploy posted"
expect_exit 0 "$SM" status --project "$P"
echo "project edit" >>"$P/.claude/skills/s0/SKILL.md"
expect_exit 1 "$SM" sync-check "$P"
expect_exit 0 "$SM" sync-preview "$P"
[ "$(posts)" = $((before + 1)) ] || fail "a read or a preview posted: $(posts)"
expect_exit 0 "$SM" sync-pull "$P" --strategy overwrite
[ "$(posts)" = $((before + 2)) ] || fail "sync-pull did not post: $(posts)"
tail -n 1 "$TMP/posts" | grep -qx "POST /api/v1/user-collections/refresh-cache -" ||
	fail "sync-pull: not the batch refresh: $(tail -n 1 "$TMP/posts")"
expect_exit 0 "$SM" undeploy s0 --project "$P"
[ "$(posts)" = $((before + 3)) ] || fail "undeploy did not post: $(posts)"
ok

# 11. every write verb announces after it released the home lock (issue 11
# point 4): a server answering the announcement must be able to take it
[ ! -e "$TMP/held" ] || fail "an announcement arrived under the home lock: $(cat "$TMP/held")"
make_skill "$TMP/src/s20" s20 "description: skill 20"
P2="$TMP/proj2"
mkdir -p "$P2"
# announces CMD...: CMD succeeds and announces once
announces() {
	b=$(posts)
	expect_exit 0 "$@"
	[ "$(posts)" = $((b + 1)) ] || fail "'$*' made $(($(posts) - b)) announcements, not 1"
}
announces "$SM" add "$TMP/src/s20"
announces "$SM" edit skill:s20 --description "edited"
echo "collection edit" >>"$SKILLMEAT_HOME/collections/default/skills/s20/SKILL.md"
announces "$SM" update s20
announces "$SM" deploy s20 --project "$P2"
echo "project edit" >>"$P2/.claude/skills/s20/SKILL.md"
announces "$SM" sync-pull "$P2" --strategy overwrite
announces "$SM" undeploy s20 --project "$P2" --force
"$SM" --json snapshot -m "hooks" >"$TMP/snap.json" 2>"$TMP/.err" || fail "snapshot: $(cat "$TMP/.err")"
snap=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$TMP/snap.json") ||
	fail "snapshot id: $(cat "$TMP/snap.json")"
announces "$SM" rollback "$snap" -y
announces "$SM" remove skill:s20 --force
[ ! -e "$TMP/held" ] || fail "announced while holding the home lock: $(cat "$TMP/held")"
ok
# the check itself: an announcement made while the lock is held is seen
python3 - "$URL" "$SKILLMEAT_HOME/.lock" <<'PY' || fail "the held-lock probe"
import fcntl, sys, urllib.request
fd = open(sys.argv[2], "a")
fcntl.flock(fd, fcntl.LOCK_EX)
urllib.request.urlopen(urllib.request.Request(sys.argv[1] + "/probe", data=b"", method="POST"), timeout=10).read()
PY
grep -qx "POST /probe" "$TMP/held" || fail "the probe under the lock was not seen: $(cat "$TMP/held" 2>&1)"
ok
done_ok
