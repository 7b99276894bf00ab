#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Team-mode benchmark (issue 12, not a test): two `serve --store` instances on
one PostgreSQL beside the SQLite mode, on the same N artifacts, in one run.

usage: bench_team.py SKILLMEAT HOME DURATION WRITES
  HOME      a home made by `add --all` (bench/team/run.sh builds it); its
            cache/metadata.db rows are copied into the team database, so both
            modes serve the same artifacts
  DURATION  seconds of each wrk run
  WRITES    metadata edits of the commit-to-fresh run (>= 1,000 for the target)

Rows (wrk -t2 -c64, the page /api/v1/user-collections/default/artifacts?limit=50,
answered from each server's answer cache), SM_BENCH_ROUNDS (2) rounds of the
first three in turn, all three servers up (an idle one costs nothing), the best
round of each compared (the machine's load changes within a run):
  sqlite            serve on HOME (SQLite mode)
  team A, team B    each instance alone
  team A + writes   A while a writer edits artifacts of the page through B back
                    to back (each edit drops A's cached answer of the page)
  A + writes off    the same with edits of artifacts the page does not show
                    (A's answer stays valid: only the answers an edit touches go)
then the commit-to-fresh run: WRITES times, one edit of an artifact of that
page through B (PUT /artifacts/{id}/metadata), and as soon as B acknowledged it,
GET of the page through A (which had it cached from before the edit), again
until A shows the edit: the delay from B's acknowledgement to A's fresh answer
(median, p99, max) and the number of stale answers A gave (target 0).
"""
import http.client
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse

sys.dont_write_bytecode = True  # no __pycache__ left in the source tree
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                                "tests", "api"))
import pgcluster  # noqa: E402

SM, HOME, DUR, WRITES = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
ROUNDS = int(os.environ.get("SM_BENCH_ROUNDS", "2"))
PAGE = "/api/v1/user-collections/default/artifacts?limit=50"
ENV = dict(os.environ, NO_COLOR="1")
for k in ("SKILLMEAT_API_TOKEN", "SKILLMEAT_HOST", "SKILLMEAT_PORT"):
    ENV.pop(k, None)
PROCS = []


class Server:
    def __init__(self, name, *args):
        self.name = name
        self.log = open(os.path.join(HOME, "..", f"{name}.log"), "w")
        self.proc = subprocess.Popen([SM, "--home", HOME, "serve", "--port", "0",
                                      "--no-rate-limit", *args], env=ENV,
                                     stdout=subprocess.PIPE, stderr=self.log, text=True)
        PROCS.append(self.proc)
        line = self.proc.stdout.readline()
        if not line.startswith("http://"):
            sys.exit(f"error: {name} printed no URL ({line!r}); see {self.log.name}")
        self.base = line.strip()
        u = urllib.parse.urlsplit(self.base)
        self.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)

    def req(self, method, path, body=None, headers=None):
        h = dict(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        for attempt in (0, 1):
            try:
                self.conn.request(method, path, body=data, headers=h)
                r = self.conn.getresponse()
                return r.status, r.read()
            except (http.client.RemoteDisconnected, ConnectionError):
                # the server closed an idle keep-alive connection: once more, on a new one
                self.conn.close()
                if attempt:
                    raise

    def get(self, path):
        st, out = self.req("GET", path)
        if st != 200:
            sys.exit(f"error: {self.name} GET {path} -> {st}: {out[:200]!r}")
        return json.loads(out)

    def metrics(self):
        st, out = self.req("GET", "/metrics")
        m = {}
        for line in out.decode().splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                m[k] = float(v)
        return m

    def stop(self):
        self.proc.terminate()
        self.proc.wait(30)


def wrk(name, url):
    out = subprocess.run(["wrk", "-t2", "-c64", f"-d{DUR}s", "--latency", url],
                         capture_output=True, text=True).stdout
    print(f"== wrk -t2 -c64 -d{DUR}s --latency ({name})\n{out}", flush=True)

    def ms(v):
        n = float(re.match(r"[0-9.]+", v).group())
        return n / 1000 if v.endswith("us") else n * 1000 if v.endswith("s") and not v.endswith("ms") else n
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    p50 = ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errs = sum(int(x) for x in re.findall(r"(?:connect|read|write|timeout) (\d+)", out))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    errs += int(m.group(1)) if m else 0
    return rps, p50, p99, errs


def copy_rows(pg, url):
    """The home's index rows into the team database, tenant default."""
    p = subprocess.run([SM, "--home", HOME, "team", "migrate", "--store", url],
                       env=ENV, capture_output=True, text=True)
    if p.returncode:
        sys.exit(f"error: team migrate: {p.stderr}")
    db = sqlite3.connect(os.path.join(HOME, "cache", "metadata.db"))
    pgcols = set(pg.psql("SELECT column_name FROM information_schema.columns"
                         " WHERE table_name = 'artifacts'", "bench").split())
    cols = [r[1] for r in db.execute("PRAGMA table_info(artifacts)")
            if r[1] in pgcols and r[1] not in ("tenant_id", "search")]

    def csv(v):
        if v is None:
            return ""
        s = str(v)
        return '"' + s.replace('"', '""') + '"'
    lines = ["INSERT INTO tenants (id) VALUES ('default');",
             "INSERT INTO user_collections (tenant_id, id, name, collection_type, created_at,"
             " updated_at) SELECT 'default', id, name, collection_type, created_at, updated_at"
             " FROM (VALUES ('default', 'Default Collection', 'default',"
             " '2026-01-01T00:00:00Z', '2026-01-01T00:00:00Z')) v(id, name, collection_type,"
             " created_at, updated_at);",
             f"COPY artifacts (tenant_id, {', '.join(cols)}) FROM STDIN WITH (FORMAT csv);"]
    for row in db.execute(f"SELECT {', '.join(cols)} FROM artifacts"):
        lines.append(",".join(["default"] + [csv(v) for v in row]))
    lines.append("\\.")
    lines.append("COPY collection_artifacts FROM STDIN WITH (FORMAT csv);")
    for uuid, added in db.execute("SELECT a.uuid, c.added_at FROM collection_artifacts c"
                                  " JOIN artifacts a ON a.uuid = c.artifact_uuid"
                                  " WHERE c.collection_id = 'default'"):
        lines.append(f"default,default,{uuid},{csv(added)}")
    lines.append("\\.")
    lines.append("ANALYZE;")
    pg.psql("\n".join(lines) + "\n", "bench")
    n = int(pg.psql("SELECT count(*) FROM artifacts", "bench"))
    m = int(pg.psql("SELECT count(*) FROM collection_artifacts", "bench"))
    return n, m


def edit(s, ident, text):
    st, out = s.req("PUT", f"/api/v1/artifacts/{ident}/metadata", body={"description": text})
    if st != 200:
        sys.exit(f"error: PUT {ident} -> {st}: {out[:200]!r}")


def main():
    rows = []
    lite = Server("sqlite")
    lite.get(PAGE)
    pg = pgcluster.Cluster()
    url = pg.createdb("bench")
    n, m = copy_rows(pg, url)
    print(f"== team database: {n} artifacts, {m} members of the default collection", flush=True)
    a = Server("team-a", "--store", url)
    b = Server("team-b", "--store", url)
    for s in (a, b):
        for _ in range(600):
            if s.metrics().get("skillmeat_team_listening") == 1:
                break
            time.sleep(0.05)
        else:
            sys.exit(f"error: {s.name}'s listener never connected")
    # ROUNDS rounds of sqlite, A, B, in turn (an idle server costs nothing):
    # the machine's load changes within a run, the best of each is compared
    runs = {"sqlite": [], "team A": [], "team B": []}
    for rnd in range(ROUNDS):
        for name, s in (("sqlite", lite), ("team A", a), ("team B", b)):
            s.get(PAGE)
            subprocess.run(["wrk", "-t2", "-c64", "-d2s", s.base + PAGE], capture_output=True)
            runs[name].append(wrk(f"{name}, round {rnd + 1}", s.base + PAGE))
    lite.stop()
    for name, got in runs.items():
        rows.append((name,) + max(got))

    # A under load while B takes a stream of writes: of artifacts the page shows
    # (each drops it), then of artifacts it does not show (its answer stays)
    page = a.get(PAGE)
    ids = [i["id"] for i in page["items"]]
    off = [i["id"] for i in a.get(PAGE.replace("limit=50", "limit=100"))["items"][50:]]

    def stream(name, targets):
        stop, done = threading.Event(), [0]

        def writer():
            w = Server.__new__(Server)
            w.name = "writer"
            u = urllib.parse.urlsplit(b.base)
            w.conn = http.client.HTTPConnection(u.hostname, u.port, timeout=60)
            k = 0
            while not stop.is_set():
                edit(w, targets[k % len(targets)], f"stream edit {k}")
                k += 1
                done[0] = k
        t = threading.Thread(target=writer)
        t.start()
        rows.append((name,) + wrk(f"{name} (through B)", a.base + PAGE))
        stop.set()
        t.join()
        return done[0]
    writes_during = stream("team A + writes", ids)
    writes_off = stream("A + writes off", off)

    # commit-to-fresh
    delays, stale = [], 0
    for k in range(WRITES):
        ident = ids[k % len(ids)]
        a.get(PAGE)  # A has the page cached, as it was before the edit
        text = f"fresh check {k}"
        edit(b, ident, text)
        t0 = time.monotonic()
        while True:
            got = a.get(PAGE)
            item = [i for i in got["items"] if i["id"] == ident][0]
            if item.get("description") == text:
                delays.append((time.monotonic() - t0) * 1000)
                break
            stale += 1
            if stale > 100000:
                sys.exit("error: A never answered fresh")
    ma, mb = a.metrics(), b.metrics()
    a.stop()
    b.stop()
    pg.stop()

    print("\n== summary (req/s, p50 and p99 in ms, wrk -t2 -c64)")
    print(f"{'run':<18}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}  errors")
    for name, got in runs.items():
        for k, (rps, p50, p99, errs) in enumerate(got):
            print(f"{name + ' ' + str(k + 1):<18}{rps:>10.1f}{p50:>10.3f}{p99:>10.3f}  {errs}")
    print(f"best of {ROUNDS} rounds:")
    for name, rps, p50, p99, errs in rows:
        print(f"{name:<18}{rps:>10.1f}{p50:>10.3f}{p99:>10.3f}  {errs}")
    lite_rps = rows[0][1]
    print(f"writes through B during 'team A + writes': {writes_during}"
          f" ({writes_during / DUR:.1f}/s), during 'A + writes off' (artifacts the page"
          f" does not show): {writes_off} ({writes_off / DUR:.1f}/s)")
    for name, rps, *_ in rows[1:3]:
        ratio = lite_rps / rps
        print(f"{name}: sqlite/team req/s = {ratio:.2f}x (target <= 2x): "
              f"{'ok' if ratio <= 2 else 'MISS'}")
    idle_p99 = rows[1][3]
    print(f"team A p99 during writes: {rows[3][3]:.3f} ms (idle {idle_p99:.3f} ms,"
          f" {rows[3][3] / idle_p99:.2f}x); writes off the page: {rows[4][3]:.3f} ms"
          f" ({rows[4][3] / idle_p99:.2f}x)")
    delays.sort()
    print(f"commit-to-fresh over {len(delays)} writes through B, read through A: median"
          f" {statistics.median(delays):.3f} ms, p99 {delays[int(len(delays) * 0.99) - 1]:.3f} ms,"
          f" max {delays[-1]:.3f} ms; stale answers: {stale} (target 0):"
          f" {'ok' if stale == 0 and len(delays) >= 1000 else 'MISS'}")
    print(f"A's listener: {ma.get('skillmeat_team_notifications', 0):.0f} notifications,"
          f" {ma.get('skillmeat_team_listener_connects', 0):.0f} connection(s); B's:"
          f" {mb.get('skillmeat_team_notifications', 0):.0f}")


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
