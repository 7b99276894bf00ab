#!/usr/bin/env python3
"""Helpers of bench/server/run.sh for the rows that miss the answer cache.

  rotate.py lua HOME OUT.lua KIND N   a wrk script cycling through N distinct
        request paths: KIND "search" (/artifacts?search=TERM&limit=50, terms
        drawn from the home's full-text vocabulary) or "cursor"
        (/user-collections/default/artifacts?limit=50&after=CURSOR, cursors of
        N artifacts spread over the collection). Each path is requested once
        per cycle, and the server keeps at most 64 answers per thread, so
        every request is answered from the database.
  rotate.py avgsize BASE OUT.json KIND HOME N   fetch a sample of those paths and
        write a JSON body of their mean size (for nginx to serve).
  rotate.py ucp95 BASE HOME N   GET /user-collections/default/artifacts?search=TERM
        for N distinct terms, one connection, one at a time: prints
        "p50 p95 p99 max" in ms (the uncached service time).
  rotate.py put BASE SECONDS WRITERS OUT   PUT /artifacts/{id}/metadata (a new
        description each time, rotating over the artifacts) from WRITERS
        threads for SECONDS; writes "edits errors seconds" to OUT.
"""
import base64
import http.client
import json
import os
import random
import sqlite3
import sys
import threading
import time
import urllib.parse


def terms(home, n):
    db = sqlite3.connect(f"file:{home}/cache/metadata.db?mode=ro", uri=True)
    rows = db.execute("SELECT term FROM artifact_vocab WHERE doc BETWEEN 2 AND 3000"
                      " AND length(term) >= 4 AND term GLOB '[a-z]*'").fetchall()
    db.close()
    rnd = random.Random(42)
    rnd.shuffle(rows)
    return [r[0] for r in rows[:n]]


def cursors(home, n):
    db = sqlite3.connect(f"file:{home}/cache/metadata.db?mode=ro", uri=True)
    rows = db.execute("SELECT type || ':' || name FROM artifacts ORDER BY type, name").fetchall()
    db.close()
    step = max(1, len(rows) // n)
    return [base64.b64encode(r[0].encode()).decode() for r in rows[::step][:n]]


def paths(kind, home, n):
    if kind == "search":
        return [f"/api/v1/artifacts?search={urllib.parse.quote(t)}&limit=50" for t in terms(home, n)]
    return [f"/api/v1/user-collections/default/artifacts?limit=50&after={urllib.parse.quote(c)}"
            for c in cursors(home, n)]


def conn(base):
    u = urllib.parse.urlsplit(base)
    return http.client.HTTPConnection(u.hostname, u.port, timeout=120)


def main():
    cmd = sys.argv[1]
    if cmd == "lua":
        home, out, kind, n = sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5])
        ps = paths(kind, home, n)
        with open(out, "w") as f:
            f.write("local paths = {\n")
            for p in ps:
                f.write(f"  {json.dumps(p)},\n")
            f.write("}\nlocal i = 0\n"
                    "request = function()\n"
                    "  i = i % #paths + 1\n"
                    "  return wrk.format(nil, paths[i])\n"
                    "end\n")
        print(len(ps))
    elif cmd == "avgsize":
        base, out, kind, home, n = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5], int(sys.argv[6])
        c = conn(base)
        sizes = []
        for p in paths(kind, home, n)[:200]:
            c.request("GET", p)
            sizes.append(len(c.getresponse().read()))
        avg = sum(sizes) // max(1, len(sizes))
        body = json.dumps({"pad": "x" * max(0, avg - 11)})
        with open(out, "w") as f:
            f.write(body)
        print(avg)
    elif cmd == "ucp95":
        base, home, n = sys.argv[2], sys.argv[3], int(sys.argv[4])
        c = conn(base)
        lat = []
        for t in terms(home, n):
            t0 = time.perf_counter()
            c.request("GET", "/api/v1/user-collections/default/artifacts?limit=20&search="
                      + urllib.parse.quote(t))
            r = c.getresponse()
            r.read()
            lat.append((time.perf_counter() - t0) * 1000)
            if r.status != 200:
                sys.exit(f"error: {t} -> {r.status}")
        lat.sort()

        def pct(q):
            return lat[min(len(lat) - 1, int(q * len(lat)))]
        print(f"{pct(0.5):.3f} {pct(0.95):.3f} {pct(0.99):.3f} {lat[-1]:.3f} {len(lat)}")
    elif cmd == "put":
        base, secs, writers, out = sys.argv[2], float(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
        c = conn(base)
        c.request("GET", "/api/v1/artifacts?limit=500&artifact_type=skill")
        ids = [i["id"] for i in json.loads(c.getresponse().read())["items"]]
        done = [0, 0]
        lock = threading.Lock()
        stop = time.monotonic() + secs

        def writer(k):
            cc = conn(base)
            j = k
            while time.monotonic() < stop:
                aid = ids[j % len(ids)]
                j += writers
                body = json.dumps({"description": f"bench edit {j} at {time.time()}"})
                cc.request("PUT", f"/api/v1/artifacts/{urllib.parse.quote(aid)}/metadata", body,
                           {"Content-Type": "application/json"})
                r = cc.getresponse()
                r.read()
                with lock:
                    done[0 if r.status == 200 else 1] += 1
        t0 = time.monotonic()
        ts = [threading.Thread(target=writer, args=(k,)) for k in range(writers)]
        for t in ts:
            t.start()
        for t in ts:
            t.join()
        with open(out, "w") as f:
            f.write(f"{done[0]} {done[1]} {time.monotonic() - t0:.3f}\n")
    else:
        sys.exit("usage: see the header of rotate.py")


if __name__ == "__main__":
    main()
