#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""The small things of issue 11 point 9 on the real `skillmeat serve`:

- /metrics: skillmeat_cache_stale_artifacts is live (rows that age past the
  TTL show at the next scrape, no refresh needed), the watcher's and the
  refresher's work is counted in skillmeat_cache_refresh_total, an artifact a
  refresh cannot read makes that refresh an error, no series that can never
  move;
- JSON numbers without float noise (0.06, not 0.059999999999999998);
- the rate limiter: a burst of one client's writes does not block its reads.

Every wait polls for its condition with a deadline; no sleep stands in for one.
usage: test_api_upkeep.py   (SKILLMEAT_BIN names the program)
"""
import json
import os
import re
import shutil
import time

import apitest as t
from apitest import check, cli, fail, write

TMP, ENV = t.setup("sm-upkeep-")
DEADLINE = 60


class Server(t.Server):
    """apitest's server; request() takes the whole path (/api/v1/…, /metrics)
    and answers (status, body bytes); stop() checks the exit status."""

    def request(self, method, path, body=None):
        st, _, data = super().request(method, path.removeprefix("/api/v1"), body)
        return st, data

    def metrics(self):
        st, data = self.request("GET", "/metrics")
        if st != 200:
            fail(f"/metrics -> {st}")
        out = {}
        for line in data.decode().splitlines():
            if line and not line.startswith("#"):
                k, v = line.rsplit(" ", 1)
                out[k] = float(v)
        return out

    def stop(self):
        rc, _, _ = super().stop()
        check(rc == 0, f"server stopped (exit {rc})")


def wait_for(what, fn):
    end = time.monotonic() + DEADLINE
    while True:
        v = fn()
        if v:
            return v
        if time.monotonic() > end:
            fail(f"timed out waiting for {what}")
        time.sleep(0.05)


REFRESH_OK = 'skillmeat_cache_refresh_total{result="success"}'
REFRESH_ERR = 'skillmeat_cache_refresh_total{result="error"}'
STALE = "skillmeat_cache_stale_artifacts"


def make_home(name, n):
    src = os.path.join(TMP, name + "-src")
    home = os.path.join(TMP, name)
    for i in range(n):
        write(f"{src}/s{i}/SKILL.md", f"---\nname: s{i}\ndescription: skill {i}\n---\nbody\n")
    cli(home, "--quiet", "add", "--all", src)
    return home


def significant_digits(tok):
    mant = re.split("[eE]", tok)[0].lstrip("-").replace(".", "").lstrip("0")
    return len(mant)


def no_float_noise(data, what):
    nums = re.findall(rb'(?<![\w"])-?\d+\.\d+(?:[eE][-+]?\d+)?', data)
    check(nums, f"{what}: has fractional numbers ({data[:200]!r})")
    noisy = [n.decode() for n in nums if significant_digits(n.decode()) > 15]
    check(not noisy, f"{what}: no float noise {noisy}")


def test_watcher_and_stale(home):
    # watcher on, the refresher's interval far away, rows stale after 2 s
    s = Server(home, "--no-rate-limit",
               env={"SKILLMEAT_CACHE_STALE_TTL_SECONDS": "2",
                    "SKILLMEAT_SERVER_REFRESH_INTERVAL_SECONDS": "3600"})
    m = s.metrics()
    check('skillmeat_cache_invalidations_total{cache="metadata"}' not in m,
          "no metadata invalidation series (nothing could move it)")
    entries = m.get('skillmeat_cache_entries{cache="metadata"}')
    check(entries == 4, f"cached artifacts in /metrics ({entries})")
    # the rows age past the TTL: the next scrapes show it, with no refresh asked for
    wait_for("every row stale in /metrics", lambda: s.metrics().get(STALE) == 4)
    check(True, "skillmeat_cache_stale_artifacts is live (4 rows aged past the TTL)")

    # a hand edit: the watcher's refresh is counted as a success
    ok0 = s.metrics()[REFRESH_OK]
    write(os.path.join(home, "collections/default/skills/s1/SKILL.md"),
          "---\nname: s1\ndescription: edited by hand\n---\nbody\n")

    def edited():
        st, data = s.request("GET", "/api/v1/artifacts/skill:s1")
        return st == 200 and json.loads(data)["metadata"]["description"] == "edited by hand"
    wait_for("the watcher's refresh", edited)
    wait_for("the watcher's refresh in the metrics", lambda: s.metrics()[REFRESH_OK] > ok0)
    check(True, "the watcher's refresh counted in skillmeat_cache_refresh_total")

    # an artifact whose folder is gone: the watcher's refresh cannot read it -> error
    err0 = s.metrics()[REFRESH_ERR]
    shutil.rmtree(os.path.join(home, "collections/default/skills/s2"))
    wait_for("an error in the metrics", lambda: s.metrics()[REFRESH_ERR] > err0)
    check(True, "an artifact the watcher's refresh cannot read counts as an error")

    # refresh-cache with that artifact still missing: an error too; numbers without noise
    err1 = s.metrics()[REFRESH_ERR]
    st, data = s.request("POST", "/api/v1/user-collections/refresh-cache")
    check(st == 200, f"refresh-cache -> {st}")
    no_float_noise(data, "refresh-cache")
    check(s.metrics()[REFRESH_ERR] == err1 + 1,
          "a refresh-cache with an unreadable artifact counts as an error")
    st, data = s.request("GET", "/api/v1/user-collections/cache-stats")
    check(st == 200, f"cache-stats -> {st}")
    s.stop()


def test_refresher(home):
    # no watcher: the refresher alone, every second
    s = Server(home, "--no-rate-limit",
               env={"SKILLMEAT_SERVER_WATCH": "false",
                    "SKILLMEAT_SERVER_REFRESH_INTERVAL_SECONDS": "1"})
    m = s.metrics()
    total0 = m[REFRESH_OK] + m[REFRESH_ERR]
    wait_for("the refresher's passes in the metrics",
             lambda: (lambda m: m[REFRESH_OK] + m[REFRESH_ERR])(s.metrics()) >= total0 + 2)
    check(True, "the refresher's passes counted in skillmeat_cache_refresh_total")
    s.stop()


def test_write_burst_keeps_reads(home):
    s = Server(home, env={"SKILLMEAT_SERVER_RATE_LIMIT_BURST_THRESHOLD": "5"})
    codes = [s.request("POST", "/api/v1/user-collections", {"name": "Same"})[0]
             for _ in range(5)]
    check(codes[-1] == 429, f"the 5th identical write is refused {codes}")
    st, _ = s.request("POST", "/api/v1/user-collections", {"name": "Other"})
    check(st == 429, f"the client's other writes wait ({st})")
    for path in ("/api/v1/user-collections", "/api/v1/artifacts", "/api/v1/artifacts/skill:s0"):
        st, _ = s.request("GET", path)
        check(st == 200, f"its reads go on: GET {path} -> {st}")
    s.stop()


def main():
    home = make_home("home", 4)
    test_watcher_and_stale(home)
    test_refresher(home)
    test_write_burst_keeps_reads(make_home("rl", 2))
    t.finish()


if __name__ == "__main__":
    try:
        main()
    except BaseException:
        # an unexpected error (not fail()) leaves no server behind either
        for p in t.LIVE:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(TMP, ignore_errors=True)
        raise
