#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Cross-site and DNS-rebinding requests (issue 11, point 1; spec/API.md
"Writes: content type, Origin and Host") against the real `skillmeat serve`.

Every write route of the router's table (read from the sources, so a route
added later is covered too) is sent a text/plain body (415), a JSON body from
a foreign Origin (403) and a foreign Host (421); nothing on disk may change.
Reads are refused for a foreign Host too; localhost, 127.0.0.1, [::1], the
bound address and server.allowed-hosts are accepted; the page's own origin,
the CORS list and the CLI's bodyless refresh-cache still work.

usage: test_api_origin.py   (SKILLMEAT_BIN names the program, SKILLMEAT_SRC the sources)
"""
import glob
import http.client
import json
import os
import re
import subprocess

import apitest as t
from apitest import check, cli, tree_sum

SRC = os.environ.get("SKILLMEAT_SRC") or os.path.join(os.path.dirname(__file__), "..", "..")
TMP, ENV = t.setup("sm-origin-", HOME="{tmp}")
for k in ("SKILLMEAT_SERVER_ALLOWED_HOSTS", "SKILLMEAT_SERVER_CORS_ORIGINS"):
    ENV.pop(k, None)


class Server(t.Server):
    """apitest's server without rate limits; request() sends the path as
    given and the Host header the test names."""

    def __init__(self, home, env=None):
        super().__init__(home, "--no-rate-limit", env=env)

    def request(self, method, path, body=None, headers=None, host=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        h = dict(headers or {})
        if isinstance(body, str):
            body = body.encode()
        c.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        c.putheader("Host", host or f"{self.host}:{self.port}")
        for k, v in h.items():
            c.putheader(k, v)
        if body is not None:
            c.putheader("Content-Length", str(len(body)))
        c.endheaders(body)
        r = c.getresponse()
        data = r.read()
        c.close()
        try:
            j = json.loads(data) if data else None
        except ValueError:
            j = None
        return r.status, r.headers, j


def write_routes():
    """(method, pattern) of every write route registered in src/api and src/http."""
    routes = set()
    pat = re.compile(r'"(POST|PUT|PATCH|DELETE)"\s*,\s*(API_PREFIX\s*)?"(/[^"]*)"')
    files = glob.glob(os.path.join(SRC, "src", "api", "*.c")) + \
        glob.glob(os.path.join(SRC, "src", "http", "*.c"))
    for f in files:
        for m in pat.finditer(open(f).read()):
            routes.add((m.group(1), ("/api/v1" if m.group(2) else "") + m.group(3)))
    return sorted(routes)


def fill(pattern, uc_id):
    return (pattern.replace("{id}", uc_id if "/user-collections/" in pattern else "skill:alpha")
            .replace("{artifact_id}", "skill:alpha").replace("{name}", "alpha"))


def main():
    home = os.path.join(TMP, "home")
    src = os.path.join(TMP, "src")
    for n in ("alpha", "beta"):
        os.makedirs(os.path.join(src, "skills", n))
        with open(os.path.join(src, "skills", n, "SKILL.md"), "w") as f:
            f.write(f"---\nname: {n}\ndescription: {n} skill\n---\n# {n}\n")
    cli(home, "init")
    cli(home, "--quiet", "add", "--all", src)
    cli(home, "uc", "create", "Team")
    uc_id = json.loads(cli(home, "--json", "uc", "show", "Team").stdout)["id"]

    routes = write_routes()
    check(len(routes) >= 9, f"write routes found in the sources: {len(routes)}")
    s = Server(home)
    own = f"{s.host}:{s.port}"
    before = tree_sum(home)

    for method, pattern in routes:
        path = fill(pattern, uc_id)
        body = json.dumps({"name": "x", "tags": ["x"], "artifact_ids": ["skill:beta"],
                           "description": "attacker-written instructions"})
        # a simple request (no CORS preflight): text/plain, form, no type at all
        for ctype in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", None):
            hdr = {"Content-Type": ctype} if ctype else {}
            st, _, j = s.request(method, path, body, hdr)
            check(st == 415 and isinstance(j, dict) and isinstance(j.get("detail"), str),
                  f"{method} {pattern} with a {ctype} body -> 415 ({st} {j})")
        # JSON from a foreign page
        for origin in ("http://evil.example", "null", f"http://{own}.evil.example"):
            st, _, j = s.request(method, path, body,
                                 {"Content-Type": "application/json", "Origin": origin})
            check(st == 403 and isinstance(j, dict) and isinstance(j.get("detail"), str),
                  f"{method} {pattern} from Origin {origin} -> 403 ({st})")
        # bodyless, from a foreign page
        st, _, _ = s.request(method, path, None, {"Origin": "http://evil.example"})
        check(st == 403, f"{method} {pattern} bodyless from a foreign Origin -> 403 ({st})")
        # DNS rebinding: the attacker's name resolved to 127.0.0.1
        st, _, j = s.request(method, path, body, {"Content-Type": "application/json"},
                             host=f"evil.example:{s.port}")
        check(st in (421, 403) and isinstance(j, dict) and isinstance(j.get("detail"), str),
              f"{method} {pattern} with Host evil.example -> {st}")
        check(tree_sum(home) == before, f"{method} {pattern}: nothing changed on disk")

    # reads: the Host check covers them too (rebinding reads the collection)
    reads = ["/api/v1/artifacts", "/api/v1/artifacts/skill:alpha", "/api/v1/user-collections",
             f"/api/v1/user-collections/{uc_id}/artifacts", "/", "/health", "/metrics"]
    for path in reads:
        for host in (f"evil.example:{s.port}", "evil.example", f"localhost.evil.example:{s.port}",
                     f"127.0.0.1.nip.io:{s.port}", f"localhost:{s.port + 1}", f"[::2]:{s.port}"):
            st, _, j = s.request("GET", path, host=host)
            check(st in (421, 403) and isinstance(j, dict) and isinstance(j.get("detail"), str),
                  f"GET {path} with Host {host} -> {st}")
        for host in (f"127.0.0.1:{s.port}", f"localhost:{s.port}", f"LocalHost:{s.port}",
                     f"[::1]:{s.port}", "localhost", "127.0.0.1"):
            st, _, _ = s.request("GET", path, host=host)
            check(st == 200, f"GET {path} with Host {host} -> 200 ({st})")

    # what must keep working
    st, _, j = s.request("POST", "/api/v1/user-collections/refresh-cache", None,
                         {"Content-Type": "application/x-www-form-urlencoded"})
    check(st == 200, f"a bodyless POST refresh-cache as the CLI sends it -> 200 ({st} {j})")
    st, _, j = s.request("POST", "/api/v1/user-collections/migrate-to-default", "")
    check(st == 200, f"a bodyless POST migrate-to-default -> 200 ({st} {j})")
    for origin in (f"http://{own}", f"http://localhost:{s.port}" if False else f"http://{own}",
                   "http://localhost:5173"):
        st, _, j = s.request("POST", "/api/v1/user-collections",
                             json.dumps({"name": f"ok {t.CHECKS}"}),
                             {"Content-Type": "application/json; charset=utf-8", "Origin": origin})
        check(st == 201, f"a JSON write from Origin {origin} (own page or CORS list) -> 201 ({st} {j})")
    st, _, j = s.request("PUT", "/api/v1/artifacts/skill:alpha",
                         json.dumps({"tags": ["kept"]}), {"Content-Type": "Application/JSON"})
    check(st == 200, f"a JSON write without Origin (scripts, the CLI) -> 200 ({st} {j})")
    # the CLI announces its writes to the server: not refused
    r = subprocess.run([t.BIN, "add", os.path.join(src, "skills", "beta"), "--name", "gamma"],
                       env=dict(ENV, SKILLMEAT_HOME=home), text=True, capture_output=True, timeout=120)
    check(r.returncode == 0 and "refused" not in r.stderr and "415" not in r.stderr
          and "403" not in r.stderr and "421" not in r.stderr,
          f"a CLI add next to the server announces without a refusal ({r.stderr!r})")

    # error bodies: always {"detail": <string or object>}, never null, invalid UTF-8 escaped
    for method, path, body in (
            ("GET", "/api/v1/artifacts/skill:%FF%FEbad", None),
            ("GET", "/api/v1/artifacts/%C3", None),
            ("GET", "/api/v1/user-collections/%FF", None),
            ("DELETE", "/api/v1/user-collections/%FF%FE/artifacts/skill:%FF", None),
            ("POST", "/api/v1/user-collections", b'{"name": "\xff\xfe"}'),
            ("PUT", "/api/v1/artifacts/skill:alpha", b'{"tags": ["\xc3"]}'),
            ("POST", "/api/v1/artifacts", b'{"source": "/nowhere/\xff", "artifact_type": "skill"}'),
            ("POST", "/api/v1/user-collections", b"x" * (2 << 20))):
        st, _, j = s.request(method, path, body,
                             {"Content-Type": "application/json"} if body else {})
        check(st >= 400 and isinstance(j, dict) and j.get("detail") is not None
              and isinstance(j["detail"], (str, dict, list)),
              f"{method} {path[:40]} {str(body)[:30]} -> {st} with a detail ({j})")
    st, _, j = s.request("POST", "/api/v1/user-collections", b"x" * (2 << 20), {"Content-Type": "text/plain"})
    check(st == 413 and isinstance(j, dict) and isinstance(j.get("detail"), str),
          f"an oversized body -> 413 JSON detail ({st} {j})")
    s.stop()

    # server.allowed-hosts: a proxy's name (config list, or the environment's comma list)
    with open(os.path.join(home, "config.toml"), "a") as f:
        f.write('\n[server]\nallowed-hosts = ["skills.internal", "Proxy.Example:8443"]\n')
    s = Server(home)
    for host, want in (("skills.internal", 200), (f"skills.internal:{s.port}", 200),
                       ("proxy.example:8443", 200), ("proxy.example", 421),
                       (f"evil.example:{s.port}", 421)):
        st, _, _ = s.request("GET", "/api/v1/artifacts", host=host)
        check(st == want, f"allowed-hosts: Host {host} -> {want} ({st})")
    s.stop()
    s = Server(home, {"SKILLMEAT_SERVER_ALLOWED_HOSTS": "lb.example, other.example"})
    for host, want in (("lb.example", 200), ("other.example", 200), ("skills.internal", 421)):
        st, _, _ = s.request("GET", "/api/v1/artifacts", host=host)
        check(st == want, f"SKILLMEAT_SERVER_ALLOWED_HOSTS: Host {host} -> {want} ({st})")
    s.stop()

    t.finish()


try:
    main()
finally:
    for p in t.LIVE:
        if p.poll() is None:
            p.kill()
            p.wait()
