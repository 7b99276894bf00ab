#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Read latency of `skillmeat serve` while the CLI holds the home lock.

p99 of reads (/health, a page of 50 artifacts, the user collections) on an
idle server (the baseline, same run), then while a CLI `add --all` of the
corpus holds the home lock; printed with their ratio, and the
skillmeat_loop_lock_waits_total counter (0 expected).

usage: bench_loop.py SKILLMEAT_BIN SHARED_DIR
"""
import os
import shutil
import subprocess
import sys
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "tests", "api"))
os.environ["SKILLMEAT_BIN"] = sys.argv[1]
os.environ["SKILLMEAT_SHARED"] = sys.argv[2]
import test_api_loop_locks as t  # noqa: E402


def main():
    os.makedirs(t.HOME)
    proc = subprocess.Popen([t.BIN, "serve", "--port", "0", "--threads", "2", "--no-rate-limit"],
                            env=t.ENV, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        u = urllib.parse.urlsplit(proc.stdout.readline().strip())
        with t.Readers(u.hostname, u.port) as idle:
            time.sleep(3)
        with t.Readers(u.hostname, u.port) as busy:
            t.run("add", "--all", t.CORPUS, "--on-clash", "rename", "--quiet")
        base, load = t.p99(idle.lat), t.p99(busy.lat)
        print(f"reads p99 idle: {base * 1000:.2f} ms ({len(idle.lat)} reads)")
        print(f"reads p99 during add --all: {load * 1000:.2f} ms ({len(busy.lat)} reads, "
              f"{busy.answered_locked} while the home lock was held)")
        print(f"ratio: {load / base:.2f}x; loop lock waits: {t.lock_waits(t.Client(u.hostname, u.port))}")
    finally:
        proc.terminate()
        proc.wait(60)
        shutil.rmtree(t.TMP, ignore_errors=True)


if __name__ == "__main__":
    main()
