#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Parallel readers and writers against the real `skillmeat serve --threads 4`
(suite 'threads': runs under ThreadSanitizer too). Writers change the
membership of their own user collection through the API and check that the
very next request sees the new count; readers list and read details all the
while; a CLI process adds an artifact in the middle. At the end every count
the API reports equals the membership it lists.

usage: test_api_concurrency.py   (SKILLMEAT_BIN names the program)
"""
import http.client
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import urllib.parse

BIN = os.environ.get("SKILLMEAT_BIN") or sys.argv[1]
TMP = tempfile.mkdtemp(prefix="sm-apic-")
HOME = os.path.join(TMP, "home")
ENV = dict(os.environ, NO_COLOR="1", SKILLMEAT_HOME=HOME,
           SKILLMEAT_CACHE_COUNT_TTL_SECONDS="3600")
ENV.pop("SKILLMEAT_API_TOKEN", None)
N_ART = 12
WRITERS = 4
READERS = 4
ROUNDS = int(os.environ.get("SM_API_ROUNDS", "12"))
ERRORS = []
CHECKS = 0
LOCK = threading.Lock()


def fail(msg):
    with LOCK:
        ERRORS.append(msg)


def ok(msg):
    global CHECKS
    with LOCK:
        CHECKS += 1
    print(f"ok - {msg}", flush=True)


def run(*args):
    p = subprocess.run([BIN, *args], env=ENV, capture_output=True, text=True, timeout=300)
    if p.returncode != 0:
        print(f"FAIL: skillmeat {args}: {p.stderr}")
        sys.exit(1)
    return p


class Client:
    def __init__(self, host, port):
        self.host, self.port = host, port
        self.conn = http.client.HTTPConnection(host, port, timeout=120)

    def req(self, method, path, body=None):
        h = {}
        if body is not None:
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        for attempt in range(2):
            try:
                self.conn.request(method, "/api/v1" + path, body=body, headers=h)
                r = self.conn.getresponse()
                data = r.read()
                return r.status, json.loads(data) if data else None
            except (http.client.HTTPException, ConnectionError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt:
                    raise
        return None, None


def main():
    src = os.path.join(TMP, "src")
    for i in range(N_ART + 1):
        d = os.path.join(src if i < N_ART else TMP + "/late", f"s{i:02d}")
        os.makedirs(d)
        with open(os.path.join(d, "SKILL.md"), "w") as f:
            f.write(f"---\nname: s{i:02d}\ndescription: skill number {i}\ntags: [t{i % 3}]\n---\n")
    run("add", "--all", src)
    proc = subprocess.Popen([BIN, "serve", "--port", "0", "--threads", "4", "--no-rate-limit"],
                            env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    line = proc.stdout.readline().strip()
    if not line.startswith("http://"):
        proc.wait(60)
        print(f"FAIL: no URL line: {proc.stderr.read()}")
        sys.exit(1)
    u = urllib.parse.urlsplit(line)
    main_c = Client(u.hostname, u.port)
    ids = []
    for w in range(WRITERS):
        st, j = main_c.req("POST", "/user-collections", {"name": f"W{w}"})
        if st != 201:
            print(f"FAIL: create W{w}: {st} {j}")
            proc.kill()
            sys.exit(1)
        ids.append(j["id"])
    names = [f"skill:s{i:02d}" for i in range(N_ART)]
    done = threading.Event()
    final = {}

    def writer(w):
        c = Client(u.hostname, u.port)
        rnd = random.Random(w)
        have = set()
        cid = ids[w]
        for r in range(ROUNDS):
            if have and rnd.random() < 0.4:
                a = rnd.choice(sorted(have))
                st, j = c.req("DELETE", f"/user-collections/{cid}/artifacts/{a}")
                if st != 204:
                    fail(f"writer {w}: DELETE {a} -> {st} {j}")
                have.discard(a)
            else:
                pick = rnd.sample(names, 2)
                st, j = c.req("POST", f"/user-collections/{cid}/artifacts",
                              {"artifact_ids": pick})
                new = set(pick) - have
                if st != (201 if new else 200) or j["added_count"] != len(new):
                    fail(f"writer {w}: POST {pick} -> {st} {j}")
                have |= set(pick)
            st, j = c.req("GET", f"/user-collections/{cid}")
            if st != 200 or j["artifact_count"] != len(have):
                fail(f"writer {w} round {r}: count {j and j.get('artifact_count')} != {len(have)}")
        final[cid] = have

    def reader(k):
        c = Client(u.hostname, u.port)
        rnd = random.Random(100 + k)
        n = 0
        while not done.is_set() or n < 5:
            n += 1
            st, j = c.req("GET", "/user-collections")
            if st != 200 or any(i["artifact_count"] is None or i["artifact_count"] > N_ART + 1
                                for i in j["items"]):
                fail(f"reader {k}: /user-collections -> {st} {j}")
            st, j = c.req("GET", f"/artifacts?limit={rnd.randint(1, 20)}")
            if st != 200:
                fail(f"reader {k}: /artifacts -> {st} {j}")
            st, j = c.req("GET", f"/artifacts/{rnd.choice(names)}")
            if st != 200 or not j["collections"]:
                fail(f"reader {k}: detail -> {st} {j}")
            st, j = c.req("GET", f"/user-collections/{rnd.choice(ids)}/artifacts?limit=5")
            if st != 200:
                fail(f"reader {k}: members -> {st} {j}")

    def toucher():
        """Flags rows stale (as the watcher will) and refreshes: syncs on loops and workers."""
        c = Client(u.hostname, u.port)
        rnd = random.Random(7)
        db = sqlite3.connect(os.path.join(HOME, "cache", "metadata.db"), timeout=60)
        for r in range(ROUNDS):
            with db:
                db.execute("UPDATE artifacts SET stale = 1 WHERE name = ?",
                           (rnd.choice(names).split(":")[1],))
            path = "/user-collections/refresh-cache" if r % 2 else \
                f"/user-collections/{rnd.choice(ids)}/refresh-cache"
            st, j = c.req("POST", path)
            if st != 200:
                fail(f"toucher: {path} -> {st} {j}")
        db.close()

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
    threads.append(threading.Thread(target=toucher))
    readers = [threading.Thread(target=reader, args=(k,)) for k in range(READERS)]
    for t in threads + readers:
        t.start()
    run("add", "skill", os.path.join(TMP, "late", f"s{N_ART:02d}"))  # another process writes
    for t in threads:
        t.join()
    done.set()
    for t in readers:
        t.join()
    if ERRORS:
        proc.kill()
        print("FAIL:\n" + "\n".join(ERRORS[:20]))
        sys.exit(1)
    ok(f"{WRITERS} writers x {ROUNDS} rounds and {READERS} readers: every count fresh")

    st, j = main_c.req("GET", "/user-collections?limit=100")
    counts = {i["id"]: i["artifact_count"] for i in j["items"]}
    for cid, have in final.items():
        st, m = main_c.req("GET", f"/user-collections/{cid}/artifacts?limit=100")
        listed = {i["id"] for i in m["items"]}
        if counts[cid] != len(have) or listed != have or m["page_info"]["total_count"] != len(have):
            print(f"FAIL: {cid}: count {counts[cid]}, listed {sorted(listed)}, want {sorted(have)}")
            proc.kill()
            sys.exit(1)
    ok("final counts equal the listed memberships")
    if counts["default"] != N_ART + 1:
        print(f"FAIL: default count {counts['default']} != {N_ART + 1} after the CLI add")
        proc.kill()
        sys.exit(1)
    ok("the CLI add during the load is counted")
    p = run("--json", "user-collection", "list")
    cli_counts = {c["id"]: c["artifact_count"] for c in json.loads(p.stdout)}
    if any(cli_counts[cid] != len(have) for cid, have in final.items()):
        print(f"FAIL: CLI counts {cli_counts} differ")
        proc.kill()
        sys.exit(1)
    ok("the CLI agrees (user-collections.toml is the truth)")
    proc.send_signal(signal.SIGTERM)
    rc = proc.wait(120)
    err = proc.stderr.read()
    if rc != 0 or "WARNING: ThreadSanitizer" in err or "ERROR: AddressSanitizer" in err:
        print(f"FAIL: exit {rc}: {err[-3000:]}")
        sys.exit(1)
    ok("SIGTERM -> exit 0, no sanitizer report")
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"{CHECKS} checks passed")


if __name__ == "__main__":
    main()
