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
4. a corrupt index (a leaf deep in the artifacts table damaged under the
   running server): the repair goes to a worker, and while it waits for the
   writer lock (an API write holds it, waiting for the home lock this test
   holds) every loop thread keeps answering; the reads that met the damage
   are answered after the repair with the same artifacts as before it, the
   write too, with one warning, and the index checks out afterwards; then
   damage again under concurrent readers, every read answered the same;
5. skillmeat_loop_lock_waits_total stays 0 throughout.

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


def all_items(c, path, fail_on=None):
    """Every item of a paged list (limit in path), following the cursors."""
    items, after = [], None
    while True:
        st, data, dt = c.req("GET", path + (f"&after={urllib.parse.quote(after)}" if after else ""))
        if fail_on is not None:
            fail_on.append(dt)
        if st != 200:
            return st, data
        j = json.loads(data)
        items += j["items"]
        pi = j.get("page_info") or {}
        after = pi.get("end_cursor") if pi.get("has_next_page") else None
        if not after:
            return 200, sorted((x["name"], x.get("description")) for x in items)


def lock_waiter(pid, path):
    """True while process pid waits for a flock on path (/proc/locks: a '->' line)."""
    st = os.stat(path)
    dev = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    with open("/proc/locks") as f:
        for line in f:
            w = line.split()
            if "->" in w and "FLOCK" in w:
                rest = w[w.index("->") + 1:]
                if len(rest) >= 5 and rest[3] == str(pid) and rest[4] == dev:
                    return True
    return False


def damage_deep(db_path):
    """64 bytes of 0xff over a leaf of the artifacts table that is not its root,
    then a commit by another connection (every connection reads the file again)."""
    import sqlite3
    db = sqlite3.connect(db_path, isolation_level=None)
    for _ in range(1000):
        busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        if busy == 0:
            break
        time.sleep(0.01)
    else:
        fail("the checkpoint of the live index stayed busy")
    root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'artifacts'").fetchone()[0]
    leaves = [p for (p,) in db.execute(
        "SELECT pageno FROM dbstat WHERE name = 'artifacts' AND pagetype = 'leaf' "
        "AND pageno != ? ORDER BY pageno", (root,))]
    page = leaves[len(leaves) // 2]
    size = db.execute("PRAGMA page_size").fetchone()[0]
    with open(db_path, "r+b") as f:
        f.seek((page - 1) * size)
        f.write(b"\xff" * 64)
    v = db.execute("PRAGMA user_version").fetchone()[0]
    db.execute(f"PRAGMA user_version = {v + 1}")
    db.close()
    return page


def phase_corrupt(host, port, c, pid, errlog):
    db_path = os.path.join(HOME, "cache", "metadata.db")
    want_st, want = all_items(Client(host, port), "/api/v1/artifacts?limit=97")
    if want_st != 200 or len(want) < 100:
        fail(f"reference list: {want_st} {str(want)[:200]}")
        return
    lockf = os.open(os.path.join(HOME, ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    fcntl.flock(lockf, fcntl.LOCK_EX)
    results = {}

    def put():
        results["put"] = Client(host, port).req("PUT", "/api/v1/artifacts/skill:seed1",
                                                {"tags": ["healed"]})[:2]

    def reader(k):
        results[k] = all_items(Client(host, port), f"/api/v1/artifacts?limit={89 - k}")

    pt = threading.Thread(target=put)
    pt.start()
    # the write's worker holds the writer lock and waits for the home lock
    # (a generous deadline: it only guards against a hang)
    for _ in range(6000):
        if lock_waiter(pid, os.path.join(HOME, ".lock")):
            break
        time.sleep(0.01)
    else:
        fail("the API write never waited for the home lock")
    page = damage_deep(db_path)
    rts = [threading.Thread(target=reader, args=(k,)) for k in range(3)]
    for t in rts:
        t.start()
    # every loop thread answers while the repair waits for the writer lock
    # (new connections land on every loop thread; a blocked one never answers)
    answered = 0
    for i in range(12):
        hc = http.client.HTTPConnection(host, port, timeout=120)
        try:
            hc.request("GET", "/health" if i % 2 else "/api/v1/user-collections")
            r = hc.getresponse()
            r.read()
            if r.status == 200:
                answered += 1
            else:
                fail(f"a read while the index waits for its repair: {r.status}")
        except OSError as e:
            fail(f"a loop thread did not answer while the repair waited for the writer lock: {e}")
            break
        finally:
            hc.close()
    if answered == 12:
        ok("every read not meeting the damage answered while the repair waited")
    pending = [k for k in range(3) if k in results]
    if pending:
        fail(f"reads meeting the damaged page {page} answered before its repair: "
             f"{[results[k][0] for k in pending]}")
    fcntl.flock(lockf, fcntl.LOCK_UN)
    os.close(lockf)
    pt.join()
    for t in rts:
        t.join()
    if results.get("put", (None,))[0] != 200:
        fail(f"the write beside the repair: {results.get('put')}")
    for k in range(3):
        st, got = results.get(k, (None, None))
        if st != 200 or got != want:
            fail(f"reader {k} after the repair of page {page}: {st} "
                 f"{str(got)[:200] if st != 200 else 'different artifacts'}")
    if not FAILS:
        ok(f"3 reads meeting damaged page {page} answered after its repair, as before it")
    w = lock_waits(c)
    if w != 0:
        fail(f"loop lock waits after a repair beside a write: {w}")
    else:
        ok("no loop thread waited for the writer lock of a repair")

    # damage again under concurrent readers: every read answered the same
    page = damage_deep(db_path)
    lat = []

    def busy_reader(k):
        cl = Client(host, port)
        for rnd in range(3):
            results[("busy", k, rnd)] = all_items(cl, f"/api/v1/artifacts?limit={79 - k * 3 - rnd}",
                                                  fail_on=lat)
            st, _, dt = cl.req("GET", "/health")
            lat.append(dt)

    ts = [threading.Thread(target=busy_reader, args=(k,)) for k in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    bad = [(k, v[0]) for k, v in results.items() if isinstance(k, tuple) and v != (200, want)]
    if bad:
        fail(f"concurrent reads after damage to page {page}: {bad[:5]}")
    else:
        ok(f"12 concurrent full listings across damage to page {page} answered as before it")
    print(f"# p99 of reads during the repair of a corrupt index: {p99(lat) * 1000:.2f} ms "
          f"({len(lat)} reads)", flush=True)
    w = lock_waits(c)
    if w != 0:
        fail(f"loop lock waits after a repair under readers: {w}")
    else:
        ok("no loop thread waited during the repair under readers")
    with open(errlog) as f:
        log = f.read()
    n = log.count("is corrupt")
    if n != 2:
        fail(f"{n} warnings about the corrupt index after 2 damages: {log[-2000:]}")
    else:
        ok("one warning per damage")
    import sqlite3
    db = sqlite3.connect(db_path)
    chk = db.execute("PRAGMA integrity_check").fetchall()
    db.close()
    if chk != [("ok",)]:
        fail(f"the index after its repairs: {chk[:5]}")
    else:
        ok("the index checks out after its repairs")


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
    errlog = os.path.join(TMP, "serve.err")
    proc = subprocess.Popen([BIN, "serve", "--port", "0", "--threads", "2", "--no-rate-limit"],
                            env=ENV, stdout=subprocess.PIPE, stderr=open(errlog, "w"), text=True)
    try:
        line = proc.stdout.readline().strip()
        if not line.startswith("http://"):
            proc.wait(60)
            print(f"FAIL: no URL line: {open(errlog).read()}")
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

        # 4. a corrupt index
        phase_corrupt(host, port, c, proc.pid, errlog)
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
