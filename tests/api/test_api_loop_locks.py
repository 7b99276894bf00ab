#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""No event-loop thread waits on the home lock, a sync or a refresh job
(issue 8 point 2, issue 11 point 4), against the real `skillmeat serve` and
the real CLI on a temporary home:

1. while a CLI `add --all` of the corpus holds the home lock (checked with a
   non-blocking flock from here), pages and /health keep being answered;
2. while batch refreshes (POST /user-collections/refresh-cache) run, the same;
3. CLI writers (add/remove, each announcing to the server after it released
   the home lock), API writers (user-collection membership, PUT, POST
   artifacts) and readers at once: every request is answered, and no CLI
   announcement hits its HTTP timeout (the CLI's debug log says so);
4. skillmeat_loop_lock_waits_total stays 0 throughout.

The p99 of the reads in each phase is printed (no timing thresholds here;
bench/loop/run.sh reports the same figures).

usage: test_api_loop_locks.py   (SKILLMEAT_BIN, SKILLMEAT_SHARED)
"""
import fcntl
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

BIN = os.environ.get("SKILLMEAT_BIN") or sys.argv[1]
SHARED = os.environ.get("SKILLMEAT_SHARED", os.path.join(os.path.dirname(__file__), "../../../shared"))
CORPUS = os.path.join(SHARED, "corpus", "wshobson-agents")
TMP = tempfile.mkdtemp(prefix="sm-loop-")
HOME = os.path.join(TMP, "home")
ENV = dict(os.environ, NO_COLOR="1", SKILLMEAT_HOME=HOME)
ENV.pop("SKILLMEAT_API_TOKEN", None)
FAILS = []
LOCK = threading.Lock()


def fail(msg):
    with LOCK:
        FAILS.append(msg)
    print(f"not ok - {msg}", flush=True)


def ok(msg):
    print(f"ok - {msg}", flush=True)


def run(*args, env=None):
    p = subprocess.run([BIN, *args], env=env or ENV, capture_output=True, text=True, timeout=600)
    if p.returncode != 0:
        fail(f"skillmeat {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return p


class Client:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.conn = None

    def req(self, method, path, body=None):
        h = {}
        if body is not None:
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(self.host, self.port, timeout=300)
                t0 = time.monotonic()
                self.conn.request(method, path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, data, time.monotonic() - t0
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = None
                if attempt:
                    raise
        return None, None, 0


def p99(xs):
    if not xs:
        return float("nan")
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * 0.99))]


def lock_waits(c):
    st, data, _ = c.req("GET", "/metrics")
    if st != 200:
        fail(f"GET /metrics: {st}")
        return None
    for line in data.decode().splitlines():
        if line.startswith("skillmeat_loop_lock_waits_total"):
            return float(line.split()[-1])
    fail("no skillmeat_loop_lock_waits_total in /metrics")
    return None


def home_locked():
    """True while another process holds SKILLMEAT_HOME/.lock."""
    try:
        fd = os.open(os.path.join(HOME, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


class Readers:
    """Threads reading a page, a detail and /health until stopped."""

    def __init__(self, host, port, n=3):
        self.stop = threading.Event()
        self.lat = []
        self.answered_locked = 0
        self.bad = []
        self.threads = [threading.Thread(target=self.loop, args=(host, port, i)) for i in range(n)]

    def loop(self, host, port, i):
        c = Client(host, port)
        paths = ["/health", "/api/v1/artifacts?limit=50", "/api/v1/user-collections"]
        k = i
        while not self.stop.is_set():
            path = paths[k % len(paths)]
            k += 1
            locked = home_locked()
            st, _, dt = c.req("GET", path)
            with LOCK:
                self.lat.append(dt)
                if st != 200:
                    self.bad.append((path, st))
                elif locked and home_locked():
                    self.answered_locked += 1

    def __enter__(self):
        for t in self.threads:
            t.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        for t in self.threads:
            t.join()


def main():
    if not os.path.isdir(CORPUS):
        print(f"FAIL: no corpus at {CORPUS}")
        return 1
    os.makedirs(HOME)
    seed = os.path.join(TMP, "seed")
    for i in range(8):
        d = os.path.join(seed, f"seed{i}")
        os.makedirs(d)
        with open(os.path.join(d, "SKILL.md"), "w") as f:
            f.write(f"---\nname: seed{i}\ndescription: seed {i}\n---\nbody\n")
    run("add", "--all", seed)
    proc = subprocess.Popen([BIN, "serve", "--port", "0", "--threads", "2", "--no-rate-limit"],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline().strip()
        if not line.startswith("http://"):
            proc.wait(60)
            print(f"FAIL: no URL line: {proc.stderr.read()}")
            return 1
        u = urllib.parse.urlsplit(line)
        host, port = u.hostname, u.port
        c = Client(host, port)
        if lock_waits(c) != 0:
            fail("skillmeat_loop_lock_waits_total is not 0 at the start")

        # 1. a CLI add --all of the corpus holds the home lock
        with Readers(host, port) as rd:
            run("add", "--all", CORPUS, "--on-clash", "rename", "--quiet")
        if rd.bad:
            fail(f"reads during add --all not answered 200: {rd.bad[:5]}")
        if rd.answered_locked == 0:
            fail("no read was answered while the CLI held the home lock")
        else:
            ok(f"{rd.answered_locked} reads answered while the CLI held the home lock")
        print(f"# p99 of reads during add --all: {p99(rd.lat) * 1000:.2f} ms "
              f"({len(rd.lat)} reads)", flush=True)
        w = lock_waits(c)
        if w != 0:
            fail(f"loop lock waits after add --all: {w}")
        else:
            ok("no loop thread waited during add --all")

        # 2. batch refreshes (on workers) while reading
        with Readers(host, port) as rd:
            wc = Client(host, port)
            for _ in range(6):
                st, data, _ = wc.req("POST", "/api/v1/user-collections/refresh-cache")
                if st != 200:
                    fail(f"refresh-cache: {st} {data[:200]}")
        if rd.bad:
            fail(f"reads during refreshes not answered 200: {rd.bad[:5]}")
        print(f"# p99 of reads during batch refreshes: {p99(rd.lat) * 1000:.2f} ms "
              f"({len(rd.lat)} reads)", flush=True)
        w = lock_waits(c)
        if w != 0:
            fail(f"loop lock waits after refreshes: {w}")
        else:
            ok("no loop thread waited during batch refreshes")

        # 3. CLI and API writers with readers
        extra = os.path.join(TMP, "extra")
        for i in range(6):
            d = os.path.join(extra, f"mix{i}")
            os.makedirs(d)
            with open(os.path.join(d, "SKILL.md"), "w") as f:
                f.write(f"---\nname: mix{i}\ndescription: mixed {i}\n---\n")
        st, data, _ = c.req("POST", "/api/v1/user-collections", {"name": "mixed"})
        if st != 201:
            fail(f"create user collection: {st} {data[:200]}")
            return 1
        ucid = json.loads(data)["id"]
        debug_env = dict(ENV, SKILLMEAT_LOG_LEVEL="debug")
        cli_logs = []

        def cli_writer():
            for r in range(3):
                for i in range(6):
                    p = run("add", os.path.join(extra, f"mix{i}"), "--force", env=debug_env)
                    cli_logs.append(p.stderr)
                    p = run("remove", f"skill:mix{i}", "--force", env=debug_env)
                    cli_logs.append(p.stderr)

        def api_writer():
            wc = Client(host, port)
            for r in range(12):
                st, data, _ = wc.req("POST", f"/api/v1/user-collections/{ucid}/artifacts",
                                     {"artifact_ids": [f"skill:seed{r % 8}"]})
                if st not in (200, 201):
                    fail(f"add member: {st} {data[:200]}")
                st, data, _ = wc.req("DELETE",
                                     f"/api/v1/user-collections/{ucid}/artifacts/skill:seed{r % 8}")
                if st != 204:
                    fail(f"remove member: {st} {data[:200]}")
                st, data, _ = wc.req("PUT", f"/api/v1/artifacts/skill:seed{r % 8}",
                                     {"tags": [f"round{r}"]})
                if st != 200:
                    fail(f"PUT artifact: {st} {data[:200]}")

        with Readers(host, port) as rd:
            ts = [threading.Thread(target=cli_writer), threading.Thread(target=api_writer)]
            for t in ts:
                t.start()
            for t in ts:
                t.join()
        if rd.bad:
            fail(f"reads during mixed writers not answered 200: {rd.bad[:5]}")
        timeouts = [log for log in cli_logs if "api: POST" in log and "imeout" in log]
        if timeouts:
            fail(f"{len(timeouts)} CLI announcements hit their HTTP timeout: {timeouts[0][:300]}")
        else:
            ok(f"no CLI announcement of {len(cli_logs)} writes waited for its HTTP timeout")
        print(f"# p99 of reads during mixed CLI and API writers: {p99(rd.lat) * 1000:.2f} ms "
              f"({len(rd.lat)} reads)", flush=True)
        w = lock_waits(c)
        if w != 0:
            fail(f"loop lock waits after mixed writers: {w}")
        else:
            ok("no loop thread waited during mixed writers")
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()
        shutil.rmtree(TMP, ignore_errors=True)
    if FAILS:
        print(f"FAIL: {len(FAILS)} check(s)")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
