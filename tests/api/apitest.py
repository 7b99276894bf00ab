# SPDX-License-Identifier: MIT
"""The harness the API tests share: the binary, a clean environment in a
temporary folder, checks that stop every server when one fails, the CLI, and a
real `skillmeat serve` on 127.0.0.1 with a free port.

A test calls setup() once, then uses the module's names:

    import apitest as t
    from apitest import check, cli, fail, Server
    TMP, ENV = t.setup("sm-api-", SKILLMEAT_CACHE_COUNT_TTL_SECONDS="3600")
    ...
    t.finish()          # removes TMP, prints the number of checks
"""
import hashlib
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse

BIN = os.environ.get("SKILLMEAT_BIN") or (sys.argv[1] if len(sys.argv) > 1 else "")
CHECKS = 0
LIVE = []  # server processes to kill when a check fails
TMP = ""
ENV = {}

# Variables of the caller's shell that would point a test at something else.
FOREIGN = ("SKILLMEAT_API_TOKEN", "SKILLMEAT_HOST", "SKILLMEAT_PORT", "GITHUB_TOKEN")


def setup(prefix, **env):
    """A new temporary folder and the environment every command gets: the
    caller's, without FOREIGN, with NO_COLOR and `env` ("{tmp}" in a value
    stands for the folder)."""
    global TMP
    if not BIN:
        sys.exit("usage: set SKILLMEAT_BIN or pass the binary as the first argument")
    TMP = tempfile.mkdtemp(prefix=prefix)
    ENV.clear()
    ENV.update(os.environ, NO_COLOR="1")
    for k in FOREIGN:
        ENV.pop(k, None)
    ENV.update({k: v.replace("{tmp}", TMP) for k, v in env.items()})
    return TMP, ENV


def finish():
    shutil.rmtree(TMP, ignore_errors=True)
    print(f"{CHECKS} checks passed")


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    for p in LIVE:
        if p.poll() is None:
            p.kill()
            p.wait()
    sys.exit(1)


def check(cond, msg):
    global CHECKS
    if not cond:
        fail(msg)
    CHECKS += 1
    print(f"ok {CHECKS} - {msg}", flush=True)


def cli(home, *args, ok=True):
    """The real binary on `home`; a failure fails the test unless ok=False."""
    p = subprocess.run([BIN, *args], env=dict(ENV, SKILLMEAT_HOME=home), text=True,
                       capture_output=True, timeout=120)
    if ok and p.returncode != 0:
        fail(f"skillmeat {' '.join(args)} -> {p.returncode}: {p.stderr}")
    return p


def write(path, data):
    """A text or bytes file, its folders made."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb" if isinstance(data, bytes) else "w") as f:
        f.write(data)


def tree_sum(root):
    """Hash of every file under root except cache/ and server.json: what a
    refused write must leave as it was."""
    h = hashlib.sha256()
    for d, dirs, files in sorted(os.walk(root)):
        dirs.sort()
        rel = os.path.relpath(d, root)
        if rel == "cache" or rel.startswith("cache/"):
            continue
        for f in sorted(files):
            if rel == "." and f == "server.json":
                continue
            p = os.path.join(d, f)
            h.update(os.path.relpath(p, root).encode() + b"\0")
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


class Server:
    """`skillmeat serve --port 0 ARGS` on `home`, extra environment `env`."""

    def __init__(self, home, *args, env=None):
        self.home = home
        self.proc = subprocess.Popen([BIN, "serve", "--port", "0", *args],
                                     env=dict(ENV, SKILLMEAT_HOME=home, **(env or {})),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        LIVE.append(self.proc)
        line = self.proc.stdout.readline()
        if not line.startswith("http://"):
            self.proc.wait(30)
            fail(f"serve did not print its URL (got {line!r}, stderr {self.proc.stderr.read()!r})")
        self.line = line
        self.url = line.strip()
        u = urllib.parse.urlsplit(self.url)
        self.host, self.port = u.hostname, u.port

    def request(self, method, path, body=None, headers=None):
        """One request on a new connection; a path outside /health and
        /metrics is under /api/v1. A body that is not bytes or str is sent as
        JSON; any body says application/json unless headers say otherwise."""
        c = http.client.HTTPConnection(self.host, self.port, timeout=120)
        h = dict(headers or {})
        if body is not None and not isinstance(body, (bytes, str)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        if body is not None:
            h.setdefault("Content-Type", "application/json")
        c.request(method, path if path.startswith(("/health", "/metrics")) else "/api/v1" + path,
                  body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, r.headers, data

    def json(self, method, path, body=None, headers=None):
        st, h, data = self.request(method, path, body, headers)
        try:
            return st, h, json.loads(data) if data else None
        except ValueError:
            fail(f"{method} {path}: not JSON: {data!r}")

    def get(self, path, **kw):
        return self.json("GET", path, **kw)

    def stop(self, sig=signal.SIGTERM):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("server did not stop in time")
        return rc, self.proc.stdout.read(), self.proc.stderr.read()
