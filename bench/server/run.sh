#!/bin/sh
# HTTP server benchmark (not a test): `skillmeat serve` against Debian's nginx
# serving the same bytes as a static file, on the same machine in the same run.
#
# What it does, in order:
#   1. `sh tools/deps.sh bench` (hyperfine, wrk, nginx-light from Debian);
#   2. builds an N-artifact home (default 10,000) in a mktemp dir with
#      bench/gen_tree.py + `skillmeat add --all` (never ~/.skillmeat; the temp
#      dir is removed at exit, unless SM_BENCH_KEEP=1);
#   3. starts `skillmeat --home H serve --port 0 --no-rate-limit` (stdout gives
#      the URL, stderr goes to serve.log in the temp dir), warms it, and saves
#      the body of GET /api/v1/user-collections/default/artifacts?limit=50;
#   4. starts nginx (daemon off, master + 2 workers, 127.0.0.1 on a free port,
#      access_log off, everything in the temp dir) serving that body as a static
#      application/json file, checks the bytes are identical, warms it;
#   5. `wrk -t2 -c64 -d${DURATION}s --latency` against each (ours, then nginx);
#   6. reads the server's VmRSS (and VmHWM, the peak) from /proc/PID/status;
#      then, for context only, 3 s of `wrk -t1 -c1` on ours (one connection:
#      the per-request service time without the queueing of 64 connections);
#   7. the same wrk load on ours while a background loop POSTs
#      /api/v1/user-collections/refresh-cache back to back (curl, one at a
#      time) for the whole run, counting the refreshes that completed (200);
#   8. prints a summary table; every process it started is stopped by PID
#      (trap on exit);
#   9. rows that miss the answer cache: wrk with Lua scripts cycling through
#      2,000 distinct search terms (/artifacts?search=) and 2,000 distinct
#      cursors (the default user collection's pages), beside nginx serving a
#      static body of the mean search answer's size (bench/server/rotate.py);
#  10. the user-collection search uncached: 1,000 distinct terms on
#      /user-collections/default/artifacts?search= (10,000 members), one
#      connection, one request at a time: p50/p95/p99 (target p95 < 20 ms);
#  11. metadata PUT throughput: 2 writer threads PUT /artifacts/{id}/metadata
#      (rotating artifacts) for the run's duration while wrk reads the list
#      page; edits/s and the reads' p99 beside the p99 just before.
#
# How to read the output: the raw wrk reports are printed as they come, then a
# table at the end, e.g.
#   run                    req/s    p50 ms    p99 ms  errors
#   skillmeat (idle)     12345.6     2.345     9.876  0
#   nginx (static)       23456.7     1.234     6.543  0
#   skillmeat (refresh)  11111.1     2.500    12.000  0   (37 refreshes, 0 failed)
#   skillmeat (1 conn)    1234.5     0.800     1.500  0
# followed by one line per target with the measured value and ok/MISS:
#   req/s ours/nginx >= 0.50 (throughput as a share of nginx's),
#   p99 ours/nginx <= 1.5, p50 ours < 1 ms, VmRSS after the idle run < 50 MB,
#   p99 during the refresh loop / idle p99 <= 2.
# With 64 connections, p50 is roughly 64 / (req/s) when the server is CPU-bound,
# so the "1 conn" row tells whether a p50 miss is queueing or per-request cost.
# The last line gives how long serve took to exit on SIGTERM and whether it
# wrote and removed server.json.
# "errors" adds wrk's socket errors (connect/read/write/timeout) and its
# non-2xx/3xx responses; anything but 0 makes that row suspect. Latencies are
# wrk's percentiles over all requests (coordinated omission not corrected).
# The machine is shared and has 2 cores (wrk's 2 threads compete with the
# servers), so run it more than once before drawing conclusions.
#
# usage: bench/server/run.sh [BUILD_DIR] [N] [DURATION_SECONDS]
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:-$root/build}
N=${2:-10000}
DUR=${3:-10}
shared=${SKILLMEAT_SHARED:-$root/../shared}
sm="$build/skillmeat"
path='/api/v1/user-collections/default/artifacts?limit=50'

sh "$root/tools/deps.sh" bench
for t in wrk nginx curl python3; do
	command -v "$t" >/dev/null 2>&1 || [ -x "/usr/sbin/$t" ] || {
		echo "error: $t not found" >&2
		exit 1
	}
done
NGINX=$(command -v nginx 2>/dev/null || echo /usr/sbin/nginx)
[ -x "$sm" ] || { echo "error: $sm not built (make, or pass BUILD_DIR)" >&2; exit 1; }

work=$(mktemp -d "${TMPDIR:-/tmp}/sm-bench-server.XXXXXX")
server_pid=
nginx_pid=
loop_pid=

stop_pid() { # PID: TERM, wait up to 10 s, then KILL
	[ -n "$1" ] || return 0
	kill -TERM "$1" 2>/dev/null || return 0
	i=0
	while kill -0 "$1" 2>/dev/null && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
	done
	if kill -0 "$1" 2>/dev/null; then
		echo "warning: PID $1 still alive 10 s after SIGTERM, sending SIGKILL" >&2
		kill -KILL "$1" 2>/dev/null || true
	fi
	wait "$1" 2>/dev/null || true
}

cleanup() {
	if [ -n "$loop_pid" ]; then
		: >"$work/stop-refresh"
		stop_pid "$loop_pid"
	fi
	stop_pid "$server_pid"
	stop_pid "$nginx_pid"
	if [ "${SM_BENCH_KEEP:-0}" = 1 ]; then
		echo "kept $work" >&2
	else
		rm -rf "$work"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

free_port() {
	python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wrk report -> "req/s p50_ms p99_ms errors"
wrk_fields() {
	awk '
	function ms(v) {
		if (v ~ /us$/) return substr(v, 1, length(v) - 2) / 1000
		if (v ~ /ms$/) return substr(v, 1, length(v) - 2) + 0
		if (v ~ /m$/) return substr(v, 1, length(v) - 1) * 60000
		if (v ~ /s$/) return substr(v, 1, length(v) - 1) * 1000
		return v + 0
	}
	$1 == "50%" { p50 = ms($2) }
	$1 == "99%" { p99 = ms($2) }
	$1 == "Requests/sec:" { rps = $2 }
	$1 == "Socket" && $2 == "errors:" {
		for (i = 3; i <= NF; i++) { gsub(/,/, "", $i); if ($i ~ /^[0-9]+$/) err += $i }
	}
	/Non-2xx or 3xx responses:/ { err += $NF }
	END { printf "%s %.3f %.3f %d\n", rps, p50, p99, err }' "$1"
}

run_wrk() { # NAME URL
	echo "== wrk -t2 -c64 -d${DUR}s --latency ($1)"
	wrk -t2 -c64 -d"${DUR}s" --latency "$2" | tee "$work/wrk-$1.txt"
}

# 2. the home
echo "== building a $N-artifact home in $work"
python3 "$here/../gen_tree.py" "$shared/corpus/wshobson-agents" "$work/tree" "$N"
"$sm" --home "$work/home" add --all "$work/tree" --on-clash rename --quiet
rm -rf "$work/tree"

# 3. our server
"$sm" --home "$work/home" serve --port 0 --no-rate-limit >"$work/serve.out" 2>"$work/serve.log" &
server_pid=$!
i=0
while ! grep -q '^http://' "$work/serve.out" 2>/dev/null; do
	if ! kill -0 "$server_pid" 2>/dev/null; then
		echo "error: serve exited before printing its URL; log:" >&2
		tail -20 "$work/serve.log" >&2
		server_pid=
		exit 1
	fi
	i=$((i + 1))
	[ $i -lt 1200 ] || { echo "error: serve printed no URL within 120 s" >&2; exit 1; }
	sleep 0.1
done
base=$(head -n 1 "$work/serve.out")
ours="$base$path"
echo "== skillmeat serve PID $server_pid at $base ($(grep -c ^ "$work/serve.out") line(s) on stdout)"
code=$(curl -s -o "$work/body.json" -w '%{http_code}' "$ours")
[ "$code" = 200 ] || { echo "error: GET $path -> $code" >&2; exit 1; }
echo "== warming skillmeat (2 s)"
wrk -t2 -c64 -d2s "$ours" >/dev/null
curl -s -o "$work/body.json" "$ours"
bytes=$(wc -c <"$work/body.json")

# 4. nginx serving the same bytes
mkdir -p "$work/www" "$work/nginx-tmp"
cp "$work/body.json" "$work/www/artifacts.json"
chmod 711 "$work" # nginx workers run as nobody when started as root
chmod 755 "$work/www" "$work/nginx-tmp"
chmod 644 "$work/www/artifacts.json"
nport=$(free_port)
cat >"$work/nginx.conf" <<EOF
daemon off;
master_process on;
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 1024; }
http {
	access_log off;
	sendfile on;
	tcp_nopush on;
	keepalive_requests 1000000;
	client_body_temp_path $work/nginx-tmp/body;
	proxy_temp_path $work/nginx-tmp/proxy;
	fastcgi_temp_path $work/nginx-tmp/fastcgi;
	uwsgi_temp_path $work/nginx-tmp/uwsgi;
	scgi_temp_path $work/nginx-tmp/scgi;
	types { }
	default_type application/json;
	server {
		listen 127.0.0.1:$nport;
		root $work/www;
	}
}
EOF
"$NGINX" -p "$work" -e "$work/nginx-error.log" -c "$work/nginx.conf" &
nginx_pid=$!
theirs="http://127.0.0.1:$nport/artifacts.json"
i=0
until curl -s -o "$work/nginx-body.json" "$theirs" 2>/dev/null; do
	if ! kill -0 "$nginx_pid" 2>/dev/null; then
		echo "error: nginx exited; log:" >&2
		tail -20 "$work/nginx-error.log" >&2
		nginx_pid=
		exit 1
	fi
	i=$((i + 1))
	[ $i -lt 100 ] || { echo "error: nginx not answering on $nport" >&2; exit 1; }
	sleep 0.1
done
cmp -s "$work/body.json" "$work/nginx-body.json" || { echo "error: nginx serves other bytes" >&2; exit 1; }
ctype=$(curl -s -o /dev/null -w '%{content_type}' "$theirs")
echo "== nginx PID $nginx_pid at $theirs ($bytes bytes, $ctype, identical to ours)"
echo "== warming nginx (2 s)"
wrk -t2 -c64 -d2s "$theirs" >/dev/null

# 5. the two idle runs
run_wrk skillmeat "$ours"
run_wrk nginx "$theirs"

# 6. RSS after the run
rss_kb=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$server_pid/status")
hwm_kb=$(awk '$1 == "VmHWM:" { print $2 }' "/proc/$server_pid/status")
threads=$(awk '$1 == "Threads:" { print $2 }' "/proc/$server_pid/status")

# extra, for reading the -c64 numbers: one connection, no queueing (3 s)
echo "== wrk -t1 -c1 -d3s --latency (skillmeat-1conn)"
wrk -t1 -c1 -d3s --latency "$ours" | tee "$work/wrk-skillmeat-1conn.txt"

# 7. the same load during back-to-back refresh-cache
: >"$work/refresh.codes"
(
	while [ ! -e "$work/stop-refresh" ]; do
		curl -s -o "$work/refresh-last.json" -w '%{http_code} %{time_total}\n' \
			--max-time 60 -X POST "$base/api/v1/user-collections/refresh-cache" \
			>>"$work/refresh.codes" || echo "000 0" >>"$work/refresh.codes"
	done
) &
loop_pid=$!
run_wrk skillmeat-refresh "$ours"
: >"$work/stop-refresh"
wait "$loop_pid" 2>/dev/null || true
loop_pid=
refresh_ok=$(awk '$1 == 200' "$work/refresh.codes" | wc -l)
refresh_bad=$(awk '$1 != 200' "$work/refresh.codes" | wc -l)
refresh_avg=$(awk '$1 == 200 { s += $2; n++ } END { if (n) printf "%.3f", s / n; else print "-" }' "$work/refresh.codes")
echo "== last refresh-cache response: $(cat "$work/refresh-last.json" 2>/dev/null)"
rss2_kb=$(awk '$1 == "VmRSS:" { print $2 }' "/proc/$server_pid/status")
alive=yes
kill -0 "$server_pid" 2>/dev/null || alive=no

# 9. rows that miss the answer cache: 2,000 rotating search terms and 2,000
# rotating cursors (wrk Lua scripts, bench/server/rotate.py), beside nginx
# serving a static body of the mean size of those search answers
python3 "$here/rotate.py" lua "$work/home" "$work/search.lua" search 2000 >/dev/null
python3 "$here/rotate.py" lua "$work/home" "$work/cursor.lua" cursor 2000 >/dev/null
search_bytes=$(python3 "$here/rotate.py" avgsize "$base" "$work/www/search.json" search "$work/home" 2000)
chmod 644 "$work/www/search.json"
echo "== wrk -t2 -c64 -d${DUR}s --latency -s search.lua (skillmeat-search)"
wrk -t2 -c64 -d"${DUR}s" --latency -s "$work/search.lua" "$base" | tee "$work/wrk-skillmeat-search.txt"
echo "== wrk -t2 -c64 -d${DUR}s --latency -s cursor.lua (skillmeat-cursor)"
wrk -t2 -c64 -d"${DUR}s" --latency -s "$work/cursor.lua" "$base" | tee "$work/wrk-skillmeat-cursor.txt"
run_wrk nginx-search "http://127.0.0.1:$nport/search.json"

# 10. the user-collection search, uncached, one request at a time (10,000 members)
echo "== GET /user-collections/default/artifacts?search=TERM, 1,000 distinct terms, one connection"
uc_stats=$(python3 "$here/rotate.py" ucp95 "$base" "$work/home" 1000)
echo "$uc_stats"

# 11. metadata PUT throughput (2 writers, rotating artifacts) with wrk reads of the
# list page at the same time
run_wrk skillmeat-before-put "$ours" >/dev/null
python3 "$here/rotate.py" put "$base" "$DUR" 2 "$work/put.out" &
loop_pid=$!
run_wrk skillmeat-put "$ours"
wait "$loop_pid" 2>/dev/null || true
loop_pid=
read -r put_ok put_err put_secs <"$work/put.out"

# 8. summary
set -- $(wrk_fields "$work/wrk-skillmeat.txt")
o_rps=$1 o_p50=$2 o_p99=$3 o_err=$4
set -- $(wrk_fields "$work/wrk-nginx.txt")
n_rps=$1 n_p50=$2 n_p99=$3 n_err=$4
set -- $(wrk_fields "$work/wrk-skillmeat-refresh.txt")
r_rps=$1 r_p50=$2 r_p99=$3 r_err=$4
set -- $(wrk_fields "$work/wrk-skillmeat-1conn.txt")
c_rps=$1 c_p50=$2 c_p99=$3 c_err=$4

echo
echo "== server benchmark summary: N=$N, body $bytes bytes, wrk -t2 -c64 -d${DUR}s, $(nproc) cores, server threads $threads"
awk -v o_rps="$o_rps" -v o_p50="$o_p50" -v o_p99="$o_p99" -v o_err="$o_err" \
	-v n_rps="$n_rps" -v n_p50="$n_p50" -v n_p99="$n_p99" -v n_err="$n_err" \
	-v r_rps="$r_rps" -v r_p50="$r_p50" -v r_p99="$r_p99" -v r_err="$r_err" \
	-v c_rps="$c_rps" -v c_p50="$c_p50" -v c_p99="$c_p99" -v c_err="$c_err" \
	-v rss="$rss_kb" -v hwm="$hwm_kb" -v rss2="$rss2_kb" \
	-v rok="$refresh_ok" -v rbad="$refresh_bad" -v ravg="$refresh_avg" -v alive="$alive" '
	function v(ok) { return ok ? "ok" : "MISS" }
	BEGIN {
		printf "%-20s %10s %9s %9s  %s\n", "run", "req/s", "p50 ms", "p99 ms", "errors"
		printf "%-20s %10.1f %9.3f %9.3f  %d\n", "skillmeat (idle)", o_rps, o_p50, o_p99, o_err
		printf "%-20s %10.1f %9.3f %9.3f  %d\n", "nginx (static)", n_rps, n_p50, n_p99, n_err
		printf "%-20s %10.1f %9.3f %9.3f  %d   (%d refreshes completed, %d failed, avg %s s each)\n", \
			"skillmeat (refresh)", r_rps, r_p50, r_p99, r_err, rok, rbad, ravg
		printf "%-20s %10.1f %9.3f %9.3f  %d   (wrk -t1 -c1 -d3s: service time without queueing)\n", \
			"skillmeat (1 conn)", c_rps, c_p50, c_p99, c_err
		tr = n_rps > 0 ? o_rps / n_rps : 0
		lr = n_p99 > 0 ? o_p99 / n_p99 : 0
		rr = o_p99 > 0 ? r_p99 / o_p99 : 0
		printf "req/s ours/nginx       %8.3f  (target >= 0.50)  %s\n", tr, v(tr >= 0.5)
		printf "p99 ours/nginx         %8.2f  (target <= 1.5)   %s\n", lr, v(lr <= 1.5)
		printf "p50 ours               %8.3f ms (target < 1 ms) %s\n", o_p50, v(o_p50 < 1)
		printf "VmRSS after idle run   %8.1f MB (target < 50 MB) %s  (peak VmHWM %.1f MB; after refresh run %.1f MB)\n", \
			rss / 1024, v(rss / 1024 < 50), hwm / 1024, rss2 / 1024
		printf "p99 refresh/idle       %8.2f  (target <= 2)     %s\n", rr, v(rr <= 2)
		if (alive != "yes") print "WARNING: the server died during the run"
	}'
set -- $(wrk_fields "$work/wrk-skillmeat-search.txt")
s_rps=$1 s_p50=$2 s_p99=$3 s_err=$4
set -- $(wrk_fields "$work/wrk-skillmeat-cursor.txt")
k_rps=$1 k_p50=$2 k_p99=$3 k_err=$4
set -- $(wrk_fields "$work/wrk-nginx-search.txt")
ns_rps=$1 ns_p50=$2 ns_p99=$3 ns_err=$4
set -- $(wrk_fields "$work/wrk-skillmeat-before-put.txt")
b_rps=$1 b_p50=$2 b_p99=$3 b_err=$4
set -- $(wrk_fields "$work/wrk-skillmeat-put.txt")
w_rps=$1 w_p50=$2 w_p99=$3 w_err=$4
set -- $uc_stats
echo
echo "== cache-missing rows (2,000 rotating paths each; the answer cache holds 64 per thread)"
awk -v s_rps="$s_rps" -v s_p50="$s_p50" -v s_p99="$s_p99" -v s_err="$s_err" \
	-v k_rps="$k_rps" -v k_p50="$k_p50" -v k_p99="$k_p99" -v k_err="$k_err" \
	-v ns_rps="$ns_rps" -v ns_p50="$ns_p50" -v ns_p99="$ns_p99" -v ns_err="$ns_err" \
	-v b_rps="$b_rps" -v b_p99="$b_p99" -v w_rps="$w_rps" -v w_p50="$w_p50" -v w_p99="$w_p99" \
	-v w_err="$w_err" -v sbytes="$search_bytes" -v uc50="$1" -v uc95="$2" -v uc99="$3" \
	-v ucmax="$4" -v ucn="$5" -v pok="$put_ok" -v perr="$put_err" -v psecs="$put_secs" '
	function v(ok) { return ok ? "ok" : "MISS" }
	BEGIN {
		printf "%-26s %10s %9s %9s  %s\n", "run", "req/s", "p50 ms", "p99 ms", "errors"
		printf "%-26s %10.1f %9.3f %9.3f  %d\n", "skillmeat search (rotating)", s_rps, s_p50, s_p99, s_err
		printf "%-26s %10.1f %9.3f %9.3f  %d\n", "skillmeat cursor (rotating)", k_rps, k_p50, k_p99, k_err
		printf "%-26s %10.1f %9.3f %9.3f  %d   (static body of %d bytes, the mean search answer)\n", \
			"nginx (same size)", ns_rps, ns_p50, ns_p99, ns_err, sbytes
		printf "search req/s ours/nginx    %8.3f\n", (ns_rps > 0 ? s_rps / ns_rps : 0)
		printf "cursor req/s ours/nginx    %8.3f\n", (ns_rps > 0 ? k_rps / ns_rps : 0)
		printf "user-collection search, %d distinct terms, 1 conn: p50 %.3f ms, p95 %.3f ms, p99 %.3f ms, max %.3f ms  (target p95 < 20 ms) %s\n", \
			ucn, uc50, uc95, uc99, ucmax, v(uc95 < 20)
		printf "metadata PUT: %d edits in %.1f s = %.1f edits/s (%d errors), 2 writers\n", \
			pok, psecs, (psecs > 0 ? pok / psecs : 0), perr
		printf "reads during the PUTs: %.1f req/s, p50 %.3f ms, p99 %.3f ms (%d errors); just before: %.1f req/s, p99 %.3f ms; p99 ratio %.2f\n", \
			w_rps, w_p50, w_p99, w_err, b_rps, b_p99, (b_p99 > 0 ? w_p99 / b_p99 : 0)
	}'
if [ -s "$work/serve.log" ]; then
	echo "== serve.log: $(grep -c ^ "$work/serve.log") line(s); last 5:"
	tail -5 "$work/serve.log"
fi
if [ -s "$work/nginx-error.log" ]; then
	echo "== nginx-error.log (last 5):"
	tail -5 "$work/nginx-error.log"
fi

# stop ours now (the trap would too) to see how it exits
[ -e "$work/home/server.json" ] && sj=present || sj=missing
t0=$(date +%s%N)
kill -TERM "$server_pid" 2>/dev/null || true
i=0
while kill -0 "$server_pid" 2>/dev/null && [ $i -lt 1000 ]; do
	sleep 0.01
	i=$((i + 1))
done
t1=$(date +%s%N)
if kill -0 "$server_pid" 2>/dev/null; then
	echo "== skillmeat serve still running 10 s after SIGTERM (the trap will SIGKILL it)"
else
	wait "$server_pid" 2>/dev/null && rc=0 || rc=$?
	server_pid=
	[ -e "$work/home/server.json" ] && sj2=left || sj2=removed
	echo "== skillmeat serve exited (status $rc) $(( (t1 - t0) / 1000000 )) ms after SIGTERM; server.json $sj while running, $sj2 at exit"
fi
