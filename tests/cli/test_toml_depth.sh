#!/bin/sh
# Issue 11: TOML nested without limit (x.x.x... with 1M levels, a 2 MB file
# under every size cap) used to overflow the stack when the tree was freed or
# printed. Every CLI command on a home whose config.toml, collection.toml or
# user-collections.toml is such a file now fails with a one-line error naming
# the file and the line, exit 1, nothing rewritten; a running server's watcher
# survives such a collection.toml.
. "$(dirname "$0")/lib.sh"

C="$SKILLMEAT_HOME/collections/default"
make_skill "$TMP/src/good" good "description: fine"
"$SM" init >/dev/null || fail "init"
"$SM" add "$TMP/src/good" >/dev/null || fail "add good"
"$SM" uc create Team >/dev/null || fail "uc create"

# deep FILE KIND: a 1M-level file of one shape (dotted key, headers, arrays)
deep() {
	python3 - "$1" "$2" <<'PY' || fail "cannot write $1"
import sys
path, kind = sys.argv[1:3]
with open(path, "a") as f:
    if kind == "dotted":
        f.write("\nx" + ".x" * 1000000 + " = 1\n")
    elif kind == "header":
        f.write("\n[x" + ".x" * 1000000 + "]\n")
    else:
        f.write("\ny = " + "[" * 1000000 + "]" * 1000000 + "\n")
PY
}

# one_line_error FILE-NAME CMD...: exit 1, one line naming the file and a line
one_line_error() {
	name=$1
	shift
	expect_exit 1 "$@"
	[ "$(wc -l <"$TMP/.err")" = 1 ] || fail "'$*': error is not one line: $(head -c 300 "$TMP/.err")"
	grep -q "^error: .*$name.*line [0-9]*, column [0-9]*: tables and arrays nested too deeply" "$TMP/.err" ||
		fail "'$*': $(head -c 300 "$TMP/.err")"
}

for f in config.toml collections/default/collection.toml user-collections.toml; do
	cp "$SKILLMEAT_HOME/$f" "$TMP/saved"
	for kind in dotted header array; do
		cp "$TMP/saved" "$SKILLMEAT_HOME/$f"
		deep "$SKILLMEAT_HOME/$f" $kind
		before=$(tree_sum "$SKILLMEAT_HOME")
		base=$(basename "$f")
		case $f in
		config.toml)
			for cmd in "list" "show good" "config list" "uc list" "add $TMP/src/good --force"; do
				# shellcheck disable=SC2086
				one_line_error "$base" "$SM" $cmd
			done
			expect_exit 1 "$SM" serve --port 0
			;;
		*/collection.toml)
			for cmd in "list" "show good" "remove good" "add $TMP/src/good --force"; do
				# shellcheck disable=SC2086
				one_line_error "$base" "$SM" $cmd
			done
			;;
		user-collections.toml)
			for cmd in "uc list" "uc show Team" "uc create Other"; do
				# shellcheck disable=SC2086
				one_line_error "$base" "$SM" $cmd
			done
			;;
		esac
		[ "$before" = "$(tree_sum "$SKILLMEAT_HOME")" ] || fail "$f ($kind) was rewritten"
		ok
	done
	cp "$TMP/saved" "$SKILLMEAT_HOME/$f"
done
"$SM" list >/dev/null || fail "list after restoring the files"

# a running server: its watcher reads the deep manifest and goes on serving
"$SM" serve --port 0 >"$TMP/url" 2>"$TMP/serve.err" &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$TMP"' EXIT
i=0
while [ ! -s "$TMP/url" ] && [ $i -lt 400 ]; do sleep 0.05; i=$((i + 1)); done
URL=$(head -n 1 "$TMP/url")
[ -n "$URL" ] || fail "serve did not start: $(cat "$TMP/serve.err")"
cp "$C/collection.toml" "$TMP/saved"
deep "$C/collection.toml" dotted
# the CLI's refresh skips that collection with a warning (and announces the refresh
# to the server, which reads the file too)
expect_exit 0 "$SM" cache refresh
grep -q "nested too deeply" "$TMP/.err" || fail "cache refresh: no nesting warning: $(cat "$TMP/.err")"
python3 - "$URL" <<'PY' || fail "the server did not survive a deep collection.toml: $(tail -c 300 "$TMP/serve.err")"
import sys, time, urllib.request
url = sys.argv[1]
# an explicit wait: the server has read the deep manifest once its refresh of it is
# counted as failed in /metrics (the watcher's or the announced one)
deadline = time.time() + 60
while True:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as r:
        m = r.read().decode()
    err = [l for l in m.splitlines() if l.startswith('skillmeat_cache_refresh_total{result="error"}')]
    if err and float(err[0].split()[-1]) >= 1:
        break
    if time.time() > deadline:
        sys.exit("no failed refresh of the deep manifest in /metrics")
    time.sleep(0.05)
with urllib.request.urlopen(f"{url}/health", timeout=5) as r:
    assert r.status == 200
PY
kill -0 $pid || fail "the server died"
cp "$TMP/saved" "$C/collection.toml"
python3 - "$URL" <<'PY' || fail "the server does not serve the restored manifest"
import json, sys, time, urllib.request
url = sys.argv[1]
deadline = time.time() + 20
while time.time() < deadline:
    with urllib.request.urlopen(f"{url}/api/v1/artifacts", timeout=5) as r:
        j = json.load(r)
    if any(a["name"] == "good" for a in j["items"]):
        sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
PY
ok
kill $pid
wait $pid
done_ok
