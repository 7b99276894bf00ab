#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""HTTP infrastructure test: starts http-infra-server (the real sm_http_server
with demo routes) on 127.0.0.1 with --port 0 and checks it over real HTTP.

usage: test_http_infra.py PATH-TO-http-infra-server
Prints one line per check; exits 1 on the first failure.
"""
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse

import apitest as t
from apitest import LIVE, check, fail  # LIVE: servers to kill if a check fails

SERVER = sys.argv[1]


class Server:
    def __init__(self, *args):
        self.proc = subprocess.Popen([SERVER, "--port", "0", *args],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                     text=True)
        LIVE.append(self.proc)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("http://"):
            err = self.proc.stderr.read()
            fail(f"server did not print its URL (got {line!r}, stderr {err!r})")
        self.url = line
        u = urllib.parse.urlsplit(line)
        self.host, self.port = u.hostname, u.port

    def request(self, method, path, body=None, headers=None, conn=None):
        c = conn or http.client.HTTPConnection(self.host, self.port, timeout=30)
        h = dict(headers or {})
        if body is not None and not isinstance(body, bytes):
            body = body.encode()
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        if conn is None:
            c.close()
        return r.status, r.headers, data

    def json(self, method, path, **kw):
        st, h, data = self.request(method, path, **kw)
        try:
            return st, h, json.loads(data) if data else None
        except ValueError:
            fail(f"{method} {path}: not JSON: {data!r}")

    def stop(self, sig=signal.SIGTERM, timeout=15):
        self.proc.send_signal(sig)
        try:
            rc = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("server did not stop in time")
        err = self.proc.stderr.read()
        return rc, err


def metric(text, line_prefix):
    for line in text.splitlines():
        if line.startswith(line_prefix + " "):
            return float(line.split()[-1])
    return None


def test_basics():
    s = Server("--threads", "2", "--max-body", "1024", "--burst", "20", "--window", "30",
               "--block", "2", "--refresh-burst", "2", "--refresh-refill", "30")
    host_port = f"{s.host}:{s.port}"
    check(s.host == "127.0.0.1" and s.port > 0, f"url line names 127.0.0.1 and a port ({host_port})")

    for path in ("/health", "/api/v1/health"):
        st, h, j = s.json("GET", path)
        check(st == 200 and j["status"] == "ok" and isinstance(j["uptime_seconds"], int)
              and j["version"], f"GET {path} -> ok JSON")
        check(h["Content-Type"] == "application/json", f"{path} content type")

    st, h, j = s.json("GET", "/nope")
    check(st == 404 and j == {"detail": "Not Found"}, "404 body")
    st, h, j = s.json("POST", "/health")
    check(st == 405 and j == {"detail": "Method Not Allowed"} and h["Allow"] == "GET",
          "405 body and Allow")
    st, h, j = s.json("GET", "/api/v1/missing")
    check(st == 404 and j == {"detail": "Not Found"}, "handler -ENOENT -> 404")

    st, h, j = s.json("GET", "/api/v1/user-collections/cache-stats")
    check(st == 200 and j == {"cache_stats": True}, "cache-stats is not shadowed by {id}")
    st, h, j = s.json("GET", "/api/v1/user-collections/abc%2Fdef%20x")
    check(st == 200 and j == {"id": "abc/def x"}, "path parameter is percent-decoded")
    st, h, j = s.json("GET", "/api/v1/user-collections/%zz")
    check(st == 400, "malformed escape -> 400")

    st, h, j = s.json("GET", "/api/v1/echo?x=1&x=a%20b&x=c+d&y=2", headers={"User-Agent": "t/1"})
    check(st == 200 and j["x"] == ["1", "a b", "c d"], "repeated, decoded query parameters")
    check(j["client_ip"] == "127.0.0.1" and j["user_agent"] == "t/1", "client IP and headers")
    check(j["endpoint"] == "/api/v1/echo", "endpoint label")
    st, h, j = s.json("GET", "/api/v1/echo", headers={"X-Forwarded-For": "10.1.2.3"})
    check(j["client_ip"] == "127.0.0.1", "X-Forwarded-For ignored without trust_proxy")

    body = json.dumps({"k": "v" * (1024 - 9)})
    check(len(body) == 1024, "body of exactly the cap")
    st, h, j = s.json("POST", "/api/v1/json", body=body,
                      headers={"Content-Type": "application/json"})
    check(st == 201 and j["got"]["k"].startswith("vvv"), "body at the cap accepted")
    st, h, j = s.json("POST", "/api/v1/json", body=body + " ")
    check(st == 413 and j == {"detail": "request body too large"}, "body over the cap -> 413 JSON")
    # beyond h2o's own limit the answer comes as soon as the headers are read,
    # in the same JSON shape (announced by Content-Length, or streamed in chunks)
    def huge(head_line, headers, chunks=()):
        with socket.create_connection((s.host, s.port), timeout=10) as sk:
            # chunks just past h2o's limit (64 KiB above the cap), all read at once
            sk.sendall(head_line + b"\r\nHost: x\r\n" + headers + b"\r\n"
                       + b"".join(b"%x\r\n" % n + b"x" * n + b"\r\n" for n in chunks))
            got = b""
            while True:
                part = sk.recv(65536)
                if not part:
                    return got
                got += part
    for what, raw in (("announced", huge(b"POST /api/v1/json HTTP/1.1", b"Content-Length: 1048576\r\n")),
                      ("chunked", huge(b"POST /api/v1/json HTTP/1.1", b"Transfer-Encoding: chunked\r\n",
                                       (65536, 2000)))):
        head, _, body = raw.partition(b"\r\n\r\n")
        check(head.startswith(b"HTTP/1.1 413 ") and b"content-type: application/json" in head.lower()
              and json.loads(body) == {"detail": "request body too large"},
              f"huge body ({what}) -> 413 JSON before it is read ({raw[:300]!r})")
    st, h, j = s.json("POST", "/api/v1/json", body="{bad json",
                      headers={"Content-Type": "application/json"})
    check(st == 422 and j["detail"][0]["type"] == "value_error.jsondecode"
          and j["detail"][0]["loc"][0] == "body" and j["detail"][0]["msg"],
          "invalid JSON -> 422 FastAPI shape")
    st, h, j = s.json("POST", "/api/v1/json")
    check(st == 422 and j["detail"][0]["type"] == "value_error.missing", "missing body -> 422")

    st, h, j = s.json("GET", "/api/v1/items/abc")
    check(st == 200 and h["ETag"] == '"rev-3"', "ETag on GET")
    st, h, data = s.request("GET", "/api/v1/items/abc", headers={"If-None-Match": '"rev-3"'})
    check(st == 304 and data == b"" and h["ETag"] == '"rev-3"', "If-None-Match -> 304")
    st, h, data = s.request("GET", "/api/v1/items/abc", headers={"If-None-Match": '"old"'})
    check(st == 200, "stale If-None-Match -> 200")
    st, h, data = s.request("DELETE", "/api/v1/items/abc")
    check(st == 204 and data == b"" and h.get("Content-Length") is None, "204 without a body")

    # keep-alive: several requests on one connection
    c = http.client.HTTPConnection(s.host, s.port, timeout=10)
    for i in range(3):
        st, h, data = s.request("GET", "/health", conn=c)
    c.close()
    check(st == 200, "keep-alive connection serves several requests")

    # HEAD is served by the GET route, without a body (the next response parses)
    c = http.client.HTTPConnection(s.host, s.port, timeout=10)
    st, h, data = s.request("HEAD", "/health", conn=c)
    check(st == 200 and data == b"" and int(h["Content-Length"]) > 0, "HEAD -> GET headers, no body")
    st, h, j = s.request("GET", "/api/v1/items/x", conn=c)
    check(st == 200 and json.loads(j) == {"id": "x"}, "connection still in sync after HEAD")
    c.close()

    st, h, j = s.json("GET", "/api/v1/whoami")
    check(st == 200 and j["data"] == j["thread"] + 1, "per-thread data from thread_init")
    st, h, j = s.json("GET", "/api/v1/whoami", headers={"X-Refuse": "1"})
    check(st == 409 and j == {"detail": "Conflict"}, "the before hook can answer a request")

    st, h, j = s.json("GET", "/api/v1/slow?ms=20&chain=2")
    check(st == 200 and j == {"slept_ms": 60}, "a done callback can chain another job")

    # CORS
    origin = "http://localhost:3000"
    st, h, data = s.request("OPTIONS", "/api/v1/echo", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "content-type"})
    check(st == 204 and h["Access-Control-Allow-Origin"] == origin
          and "GET" in h["Access-Control-Allow-Methods"] and h.get_all("Vary") == ["Origin"],
          "preflight from an allowed origin")
    st, h, data = s.request("OPTIONS", "/api/v1/echo", headers={
        "Origin": "http://evil.example", "Access-Control-Request-Method": "GET"})
    check(st == 400 and h.get("Access-Control-Allow-Origin") is None,
          "preflight from another origin refused")
    st, h, data = s.request("OPTIONS", "/api/v1/nothing", headers={
        "Origin": origin, "Access-Control-Request-Method": "GET"})
    check(st == 404, "preflight for an unknown path -> 404")
    st, h, j = s.json("GET", "/api/v1/echo?x=cors", headers={"Origin": origin})
    check(h["Access-Control-Allow-Origin"] == origin and h["Vary"] == "Origin"
          and h["Access-Control-Allow-Credentials"] == "true", "CORS headers on GET")
    st, h, j = s.json("GET", "/api/v1/echo?x=cors", headers={"Origin": "http://evil.example"})
    check(h.get("Access-Control-Allow-Origin") is None and h["Vary"] == "Origin",
          "no Allow-Origin for another origin, never *")

    # metrics move
    st, h, data = s.request("GET", "/metrics")
    check(st == 200 and h["Content-Type"].startswith("text/plain"), "/metrics is text")
    key = 'skillmeat_api_requests_total{method="GET",endpoint="/health",status="200"}'
    before = metric(data.decode(), key)
    check(before is not None and before >= 4, f"requests_total for /health present ({before})")
    s.request("GET", "/health")
    st, h, data = s.request("GET", "/metrics")
    text = data.decode()
    check(metric(text, key) == before + 1, "requests_total moves")
    check(metric(text, 'skillmeat_api_requests_total{method="GET",endpoint="unmatched",status="404"}') >= 1,
          "unmatched requests counted under one label")
    check(metric(text, "process_resident_memory_bytes") > 0, "resident memory reported")
    check(metric(text, 'skillmeat_cache_hits_total{cache="count"}') == 0, "cache series pre-declared")
    check('skillmeat_api_request_duration_seconds_bucket{endpoint="/health",le="+Inf"}' in text,
          "duration histogram")

    # burst rule: the 20th identical request within the window is refused
    for i in range(19):
        st, h, j = s.json("GET", "/api/v1/echo?x=burst")
        if st != 200:
            fail(f"request {i + 1} of the burst refused early ({st})")
    st, h, j = s.json("GET", "/api/v1/echo?x=burst")
    check(st == 429 and h["Retry-After"] == "2" and j == {
        "error": "RATE_LIMIT_EXCEEDED", "message": "Too many requests. Please try again later.",
        "retry_after": 2}, "20th identical request -> 429 with Retry-After")
    st, h, j = s.json("GET", "/api/v1/echo?x=different")
    check(st == 429, "a blocked client is refused everywhere")
    st, h, j = s.json("GET", "/health")
    check(st == 200, "/health is exempt")
    st, h, data = s.request("GET", "/metrics")
    check(st == 200 and metric(data.decode(), "skillmeat_rate_limited_total") >= 2,
          "/metrics is exempt and counts refusals")
    time.sleep(2.2)
    st, h, j = s.json("GET", "/api/v1/echo?x=after")
    check(st == 200, "block expires")

    # token bucket on refresh-cache: burst 2, one token per 30 s
    for i in range(2):
        st, h, j = s.json("POST", "/api/v1/user-collections/refresh-cache")
        check(st == 200, f"refresh {i + 1} within the bucket")
    st, h, j = s.json("POST", "/api/v1/user-collections/refresh-cache")
    ra = int(h["Retry-After"])
    check(st == 429 and 29 <= ra <= 30 and j["retry_after"] == ra, f"empty bucket -> 429, Retry-After {ra}")

    # graceful stop: a deferred request in flight completes, an idle keep-alive
    # connection does not hold the stop up
    idle = http.client.HTTPConnection(s.host, s.port, timeout=10)
    s.request("GET", "/health", conn=idle)
    result = {}

    mark = os.path.join(tempfile.mkdtemp(prefix="sm-http-"), "running")

    def slow():
        try:
            result["r"] = s.json("GET", "/api/v1/slow?ms=1500&mark=" + urllib.parse.quote(mark))
        except Exception as e:  # noqa: BLE001
            result["e"] = e

    th = threading.Thread(target=slow)
    th.start()
    deadline = time.monotonic() + 30
    while not os.path.exists(mark) and time.monotonic() < deadline:
        time.sleep(0.01)
    check(os.path.exists(mark), "the slow job is running")
    os.unlink(mark)
    os.rmdir(os.path.dirname(mark))
    t0 = time.monotonic()
    rc, err = s.stop()
    took = time.monotonic() - t0
    th.join(10)
    check("r" in result and result["r"][0] == 200 and result["r"][2] == {"slept_ms": 1500},
          f"in-flight request completed during the stop ({result})")
    check(rc == 0, f"exit 0 on SIGTERM (rc {rc}, stderr {err!r})")
    check(took < 8, f"idle keep-alive connection closed at stop ({took:.1f}s)")
    idle.close()
    try:
        s.request("GET", "/health")
        fail("server still accepts after stop")
    except OSError:
        check(True, "no longer accepting")


def test_token():
    s = Server("--threads", "1", "--token", "s3cret", "--no-rate-limit")
    st, h, j = s.json("GET", "/api/v1/echo")
    check(st == 401 and j == {"detail": "Not authenticated"}, "401 without the token")
    st, h, j = s.json("GET", "/api/v1/echo", headers={"Authorization": "Bearer wrong"})
    check(st == 401, "401 with a wrong token")
    st, h, j = s.json("GET", "/api/v1/echo", headers={"Authorization": "Bearer s3cret"})
    check(st == 200, "Bearer token accepted")
    st, h, j = s.json("GET", "/api/v1/echo", headers={"X-API-Key": "s3cret"})
    check(st == 200, "X-API-Key accepted")
    st, h, j = s.json("GET", "/health")
    check(st == 200, "/health needs no token")
    st, h, j = s.json("GET", "/nope")
    check(st == 401, "unknown paths need the token too")
    for i in range(30):
        st, h, j = s.json("GET", "/api/v1/echo?x=same", headers={"X-API-Key": "s3cret"})
    check(st == 200, "--no-rate-limit turns the limits off")
    rc, err = s.stop(signal.SIGINT)
    check(rc == 0, "exit 0 on SIGINT")


def test_refuse_public_bind():
    p = subprocess.run([SERVER, "--host", "0.0.0.0", "--port", "0"], capture_output=True,
                       text=True, timeout=30)
    check(p.returncode == 1 and "SKILLMEAT_API_TOKEN" in p.stderr,
          "non-loopback bind without a token refused")


def test_start_failures():
    p = subprocess.run([SERVER, "--port", "0", "--threads", "3", "--fail-init"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and p.stdout == "" and "cannot start loop thread 2" in p.stderr,
          f"a failing thread_init fails the start cleanly ({p.stderr.strip()})")
    # (SO_REUSEPORT lets a second server of the same user share a port: the
    # server.json check of `serve` is what refuses it.) An address this host
    # does not have shows the bind error.
    p = subprocess.run([SERVER, "--host", "192.0.2.1", "--token", "t", "--threads", "2"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and "cannot listen on port 8080" in p.stderr,
          f"bind error reported ({p.stderr.strip()})")
    p = subprocess.run([SERVER, "--host", "no-such-host.invalid", "--token", "t"],
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and "cannot resolve host" in p.stderr,
          f"resolve error reported ({p.stderr.strip()})")


def test_threads_share_port():
    s = Server("--threads", "4", "--no-rate-limit")
    seen = set()
    for i in range(40):
        st, h, j = s.json("GET", "/api/v1/whoami")
        if st != 200:
            fail(f"whoami {st}")
        seen.add(j["thread"])
    check(len(seen) >= 1 and all(0 <= t < 4 for t in seen), f"4 loops on one port (served by {sorted(seen)})")

    # concurrent clients, with deferred jobs mixed in
    errors = []

    def hammer(n):
        c = http.client.HTTPConnection(s.host, s.port, timeout=30)
        for i in range(40):
            path = "/api/v1/slow?ms=5" if i % 10 == 0 else f"/api/v1/echo?x={n}-{i}"
            st, h, data = s.request("GET", path, conn=c)
            if st != 200:
                errors.append((path, st))
        c.close()

    ths = [threading.Thread(target=hammer, args=(n,)) for n in range(8)]
    for t in ths:
        t.start()
    for t in ths:
        t.join()
    check(not errors, f"8 concurrent keep-alive clients served ({errors[:3]})")
    st, h, data = s.request("GET", "/metrics")
    text = data.decode()
    total = sum(float(line.split()[-1]) for line in text.splitlines()
                if line.startswith('skillmeat_api_requests_total{method="GET",endpoint="/api/v1/echo"'))
    check(total == 8 * 36, f"every request counted once ({total})")
    rc, err = s.stop()
    check(rc == 0, "exit 0")


def test_localhost():
    s = Server("--host", "localhost", "--threads", "2", "--trust-proxy")
    check(s.url == f"http://localhost:{s.port}", f"URL keeps the host name ({s.url})")
    with socket.create_connection(("127.0.0.1", s.port), timeout=10):
        pass
    check(True, "localhost binds 127.0.0.1")
    s.host = "127.0.0.1"
    st, h, j = s.json("GET", "/api/v1/echo", headers={"X-Forwarded-For": " 10.1.2.3, 10.0.0.1"})
    check(j["client_ip"] == "10.1.2.3", "X-Forwarded-For's first entry with trust_proxy")
    rc, err = s.stop()
    check(rc == 0, "exit 0")


def main():
    test_basics()
    test_localhost()
    test_token()
    test_refuse_public_bind()
    test_start_failures()
    test_threads_share_port()
    print(f"{t.CHECKS} checks passed")


if __name__ == "__main__":
    try:
        main()
    finally:
        for proc in LIVE:  # only left running when a check failed
            if proc.poll() is None:
                proc.kill()
                proc.wait()
