#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Team mode (issue 12) on a real PostgreSQL: a private cluster
(pgcluster.py), the real `skillmeat team migrate` and `skillmeat serve
--store postgresql://…` on 127.0.0.1.

- migrations up and down, and four processes migrating one empty database at
  once (pg_advisory_lock: all succeed, each migration applied once);
- the reads of the REST API answered from PostgreSQL: list, filters, search,
  cursors, detail, user collections with counts, memberships;
- tenant scoping: rows of another tenant are never listed, shown, counted or
  searched; tokens of team.tokens name tenants, no token is 401;
- freshness: a commit by another client is seen at the very next request
  (the per-request revision probe: list answers and ETags change at once);
- refusals of API.md "Team mode" (deployments and POST /artifacts from a
  local path 403, a bad GitHub spec 400); /metrics needs a token
  of team.tokens; nothing is written into the home (no metadata.db, no
  server.json);
- a PostgreSQL restart: the next request is answered, from the same rows;
- uploads (POST /api/v1/team/artifacts) through one instance seen through
  another at its very next request, 409 on a clash, force, concurrent uploads
  of one name through two instances (exactly one wins), bad input refused,
  an upload lands in its token's tenant only;
- metadata edits with If-Match across two instances: the other instance shows
  the edit at its next request, an old ETag is 409 with the current revision,
  two edits from one ETag through two instances: exactly one wins;
- three instances with warm caches (the LISTEN thread's invalidation): a
  write through each in turn is shown by the two others at their very next
  request (names, counts, members as in the database); three edits from one
  ETag: one 200, two 409; a psql edit of an artifact drops no member count,
  a new member drops that collection's count alone, another tenant's commit
  drops nothing of ours (count cache hits and misses in /metrics); the
  listeners' connections killed and a commit they cannot hear: fresh answers
  at once, then every listener reconnects by itself; PostgreSQL stopped:
  503, never a cached answer; started again with a commit right away: fresh
  answers, then the caches serve again; an instance SIGKILLed during a
  stream of uploads: every acknowledged one is served by another.

The seed rows are written with psql (as another client would).
usage: test_team.py   (SKILLMEAT_BIN names the program)
"""
import concurrent.futures
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import urllib.parse
import base64
import hashlib
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402

BIN = os.environ.get("SKILLMEAT_BIN") or sys.argv[1]
CHECKS = 0
LIVE = []
TMP = tempfile.mkdtemp(prefix="sm-team-")
ENV = dict(os.environ, NO_COLOR="1")
for k in ("SKILLMEAT_API_TOKEN", "SKILLMEAT_HOST", "SKILLMEAT_PORT"):
    ENV.pop(k, None)
PG = None


def cleanup():
    for p in LIVE:
        if p.poll() is None:
            p.kill()
            p.wait()
    if PG:
        PG.stop()
    shutil.rmtree(TMP, ignore_errors=True)


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    cleanup()
    sys.exit(1)


def check(cond, msg):
    global CHECKS
    if not cond:
        fail(msg)
    CHECKS += 1
    print(f"ok {CHECKS} - {msg}", flush=True)


def run(home, *args):
    return subprocess.run([BIN, *args], env=dict(ENV, SKILLMEAT_HOME=home), text=True,
                          capture_output=True, timeout=120)


def home(name, config=""):
    h = os.path.join(TMP, name)
    os.makedirs(h, exist_ok=True)
    with open(os.path.join(h, "config.toml"), "w") as f:
        f.write(config)
    return h


class Server:
    def __init__(self, home_dir, *args, env=None):
        self.home = home_dir
        self.proc = subprocess.Popen([BIN, "serve", "--port", "0", "--threads", "1",
                                      "--no-rate-limit", *args],
                                     env=dict(ENV, SKILLMEAT_HOME=home_dir, **(env or {})),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        LIVE.append(self.proc)
        line = self.proc.stdout.readline()
        if not line.startswith("http://"):
            self.proc.wait(30)
            fail(f"serve did not print its URL ({line!r}, {self.proc.stderr.read()!r})")
        u = urllib.parse.urlsplit(line.strip())
        self.host, self.port = u.hostname, u.port

    def request(self, method, path, body=None, headers=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        h = dict(headers or {})
        if body is not None:
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c.request(method, path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data, r

    def get(self, path, token=None, want=200, headers=None):
        h = dict(headers or {})
        if token:
            h["Authorization"] = f"Bearer {token}"
        st, data, r = self.request("GET", "/api/v1" + path, headers=h)
        if st != want:
            fail(f"GET {path} -> {st}, expected {want}: {data[:300]!r}")
        return (json.loads(data) if data and st != 304 else None), r

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("server did not stop in time")
        if rc != 0:
            fail(f"server stopped (exit {rc}): {self.proc.stderr.read()[-4000:]}")
        check(rc == 0, f"server stopped (exit {rc})")


def q(s):
    return "NULL" if s is None else "'" + s.replace("'", "''") + "'"


def artifact(tenant, uuid, type_, name, desc, tags, added, collection="default"):
    return ("INSERT INTO artifacts (tenant_id, uuid, collection, type, name, path, title,"
            " description, tags_json, tools_json, added, content_hash, file_count, total_size,"
            f" row_hash) VALUES ({q(tenant)}, {q(uuid)}, {q(collection)}, {q(type_)},"
            f" {q(name)}, {q(type_ + 's/' + name)}, {q(name.title())}, {q(desc)},"
            f" {q(json.dumps(tags))}, '[]', {q(added)}, {q('c' * 64)}, 1, 10,"
            f" {q(uuid[:16])});\n")


U = {n: f"{i:032x}" for i, n in enumerate(["alpha", "beta", "gamma", "acme-alpha",
                                           "secret"], start=1)}
PICKS = "ab" * 16   # a user collection id of tenant default
ACME_PICKS = "cd" * 16


def seed():
    sql = "INSERT INTO tenants (id) VALUES ('default'), ('acme');\n"
    sql += artifact("default", U["alpha"], "skill", "alpha", "Alpha reviews code",
                    ["review", "Python"], "2026-01-01T00:00:00Z")
    sql += artifact("default", U["beta"], "skill", "beta", "Beta writes tests", ["testing"],
                    "2026-01-02T00:00:00Z")
    sql += artifact("default", U["gamma"], "command", "gamma", "Gamma deploys", [],
                    "2026-01-03T00:00:00Z")
    sql += artifact("acme", U["acme-alpha"], "skill", "alpha", "Acme's own alpha",
                    ["review"], "2026-02-01T00:00:00Z")
    sql += artifact("acme", U["secret"], "skill", "secret", "Acme secret sauce zebra",
                    ["review"], "2026-02-02T00:00:00Z")
    for tenant, uc, name, members in (
            ("default", "default", "Default Collection", ["alpha", "beta", "gamma"]),
            ("default", PICKS, "Team picks", ["gamma"]),
            ("acme", "default", "Default Collection", ["acme-alpha", "secret"]),
            ("acme", ACME_PICKS, "Acme picks", ["secret"])):
        sql += ("INSERT INTO user_collections (tenant_id, id, name, collection_type,"
                f" created_at, updated_at) VALUES ({q(tenant)}, {q(uc)}, {q(name)},"
                f" {q('default' if uc == 'default' else None)}, '2026-01-01T00:00:00Z',"
                " '2026-01-01T00:00:00Z');\n")
        for m in members:
            sql += ("INSERT INTO collection_artifacts VALUES"
                    f" ({q(tenant)}, {q(uc)}, {q(U[m])}, '2026-03-01T00:00:00Z');\n")
    PG.psql(sql, "team")


def names(page):
    return [f"{i['type']}:{i['name']}" for i in page["items"]]


def test_migrations():
    url = PG.createdb("migrate")
    h = home("migrate")
    p = run(h, "team", "migrate", "--store", url, "--json")
    check(p.returncode == 0 and json.loads(p.stdout) == {"from": 0, "to": 4, "latest": 4},
          f"team migrate: 0 -> 4 ({p.stdout.strip()} {p.stderr.strip()})")
    trig = PG.psql("SELECT p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
                   " WHERE t.tgname LIKE 'artifact\\_files\\_%' ORDER BY 1", "migrate").split()
    check(trig == ["team_bump_files"] * 3, f"migration 4: file statements name their artifacts ({trig})")
    trig = PG.psql("SELECT p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
                   " WHERE t.tgname = 'artifacts_upd'", "migrate").strip()
    check(trig == "team_bump_artifacts", f"migration 3: an update of artifacts names them ({trig})")
    p = run(h, "team", "migrate", "--store", url, "--to", "2", "--json")
    fns = PG.psql("SELECT proname FROM pg_proc WHERE proname LIKE 'team%' ORDER BY 1",
                  "migrate").split()
    trig = PG.psql("SELECT p.proname FROM pg_trigger t JOIN pg_proc p ON p.oid = t.tgfoid"
                   " WHERE t.tgname = 'artifacts_upd'", "migrate").strip()
    check(p.returncode == 0 and json.loads(p.stdout)["to"] == 2 and trig == "team_bump"
          and fns == ["team_bump", "team_bump_members", "team_note"],
          f"team migrate --to 2: migration 3's function and trigger are gone ({fns} {trig})")
    tables = set(PG.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                         "migrate").split())
    check({"tenants", "artifacts", "artifact_files", "user_collections",
           "collection_artifacts", "schema_migrations"} <= tables,
          f"migration 1 creates the team tables ({sorted(tables)})")
    cols = PG.psql("SELECT table_name FROM information_schema.columns WHERE column_name ="
                   " 'tenant_id' ORDER BY 1", "migrate").split()
    check(cols == ["artifact_files", "artifacts", "collection_artifacts", "user_collections"],
          f"every data table has tenant_id ({cols})")
    p = run(h, "team", "migrate", "--store", url, "--to", "1", "--json")
    fns = PG.psql("SELECT proname FROM pg_proc WHERE proname LIKE 'team%' ORDER BY 1",
                  "migrate").split()
    check(p.returncode == 0 and json.loads(p.stdout)["to"] == 1 and fns == ["team_bump"],
          f"team migrate --to 1: migration 2's notification functions are gone ({fns})")
    p = run(h, "team", "migrate", "--store", url, "--to", "0", "--json")
    check(p.returncode == 0 and json.loads(p.stdout)["to"] == 0, "team migrate --to 0: down")
    tables = PG.psql("SELECT tablename FROM pg_tables WHERE schemaname = 'public'",
                     "migrate").split()
    check(tables == ["schema_migrations"], f"down drops every team table ({tables})")
    p = run(h, "team", "migrate", "--store", url, "--to", "5")
    check(p.returncode != 0 and "latest is 4" in p.stderr, "a version past the latest is refused")
    p = run(h, "team", "migrate", "--store", "/not/a/url")
    check(p.returncode != 0 and "not a PostgreSQL URL" in p.stderr, "a non-PostgreSQL URL is refused")
    p = run(home("migrate-config", f'[server]\nstore = "{url}"\n'), "team", "migrate", "--json")
    check(p.returncode == 0 and json.loads(p.stdout)["to"] == 4,
          "team migrate takes config server.store")
    # four processes on an empty database at once: the advisory lock serialises them
    url = PG.createdb("race")
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        procs = list(ex.map(lambda _: run(h, "team", "migrate", "--store", url), range(4)))
    check(all(p.returncode == 0 for p in procs),
          "four concurrent migrations all succeed: "
          + "; ".join(p.stderr.strip() for p in procs if p.returncode))
    rows = PG.psql("SELECT version FROM schema_migrations", "race").split()
    check(rows == ["1", "2", "3", "4"], f"each migration applied once ({rows})")


def test_reads(url):
    h = home("reads")
    s = Server(h, "--store", url)
    page, r = s.get("/artifacts")
    check(names(page) == ["command:gamma", "skill:alpha", "skill:beta"],
          f"GET /artifacts lists the tenant's rows in key order ({names(page)})")
    check(page["page_info"]["total_count"] == 3, "total_count 3")
    check(r.getheader("ETag"), "the list has an ETag")
    page, _ = s.get("/artifacts?limit=2")
    check(names(page) == ["command:gamma", "skill:alpha"] and page["page_info"]["has_next_page"],
          "limit 2: first page, has_next_page")
    page, _ = s.get("/artifacts?limit=2&after=" + page["page_info"]["end_cursor"])
    check(names(page) == ["skill:beta"] and not page["page_info"]["has_next_page"],
          "the cursor gives the rest")
    page, _ = s.get("/artifacts?artifact_type=command")
    check(names(page) == ["command:gamma"], "artifact_type filter")
    page, _ = s.get("/artifacts?tags=python")
    check(names(page) == ["skill:alpha"], "tags filter, case-insensitive")
    page, _ = s.get("/artifacts?search=test")
    check(names(page) == ["skill:beta"], "search: a word prefix over the description")
    page, _ = s.get("/artifacts?sort=added")
    check(names(page) == ["command:gamma", "skill:beta", "skill:alpha"], "sort=added, newest first")
    a, r = s.get("/artifacts/skill:alpha")
    check(a["metadata"]["description"] == "Alpha reviews code" and a["name"] == "alpha",
          "GET /artifacts/skill:alpha: the tenant's row")
    colls = sorted(c["name"] for c in a.get("collections") or [])
    check(colls == ["Default Collection"], f"collections[] of alpha ({colls})")
    etag = r.getheader("ETag")
    s.get("/artifacts/skill:alpha", headers={"If-None-Match": etag}, want=304)
    check(True, "If-None-Match with the ETag: 304")
    s.get("/artifacts/skill:nothere", want=404)
    check(True, "an unknown artifact: 404")
    ucs, _ = s.get("/user-collections")
    got = {c["name"]: c["artifact_count"] for c in ucs["items"]}
    check(got == {"Default Collection": 3, "Team picks": 1},
          f"user collections with their counts ({got})")
    page, _ = s.get(f"/user-collections/{PICKS}/artifacts")
    check(names(page) == ["command:gamma"], "members of a user collection")
    uc, _ = s.get(f"/user-collections/{PICKS}")
    check(uc["name"] == "Team picks", "GET /user-collections/{id}")
    return s


def test_tenants(url, s):
    # another tenant's rows: never listed, shown, searched or counted
    page, _ = s.get("/artifacts?search=secret")
    check(page["items"] == [], "another tenant's artifact is not found by search")
    s.get("/artifacts/skill:secret", want=404)
    check(True, "another tenant's artifact: 404")
    s.get(f"/user-collections/{ACME_PICKS}", want=404)
    check(True, "another tenant's user collection: 404")
    page, _ = s.get("/artifacts")
    check("skill:secret" not in names(page) and len(page["items"]) == 3,
          "the default tenant's list holds none of acme's rows")
    h = home("tokens", '[team.tokens]\ntok-default = "default"\ntok-acme = "acme"\n')
    t = Server(h, "--store", url)
    st, data, _ = t.request("GET", "/api/v1/artifacts")
    check(st == 401, f"team.tokens set: no token -> 401 ({st})")
    st, data, _ = t.request("GET", "/api/v1/artifacts",
                            headers={"Authorization": "Bearer nope"})
    check(st == 401, f"an unknown token -> 401 ({st})")
    page, _ = t.get("/artifacts", token="tok-acme")
    check(names(page) == ["skill:alpha", "skill:secret"], f"acme's token: acme's rows ({names(page)})")
    a, _ = t.get("/artifacts/skill:alpha", token="tok-acme")
    check(a["metadata"]["description"] == "Acme's own alpha", "acme's skill:alpha, not default's")
    ucs, _ = t.get("/user-collections", token="tok-acme")
    got = {c["name"]: c["artifact_count"] for c in ucs["items"]}
    check(got == {"Default Collection": 2, "Acme picks": 1},
          f"acme's user collections and counts, not default's ({got})")
    # the same path through the same loop thread, tenant after tenant: no answer crosses
    for _ in range(2):
        page, _ = t.get("/artifacts", token="tok-default")
        check(names(page) == ["command:gamma", "skill:alpha", "skill:beta"],
              "default's token right after acme's: default's rows")
        ucs, _ = t.get("/user-collections", token="tok-default")
        got = {c["name"]: c["artifact_count"] for c in ucs["items"]}
        check(got == {"Default Collection": 3, "Team picks": 1}, f"default's counts ({got})")
        page, _ = t.get("/artifacts", token="tok-acme")
        check(names(page) == ["skill:alpha", "skill:secret"], "then acme's rows again")
    page, _ = t.get("/artifacts?search=zebra", token="tok-acme")
    check(names(page) == ["skill:secret"], "acme's search finds acme's row")
    st, data, _ = t.request("GET", "/health")
    check(st == 200, "/health needs no token")
    st, data, _ = t.request("GET", "/metrics")
    check(st == 401, f"team.tokens set, no SKILLMEAT_API_TOKEN: /metrics without a token -> 401 ({st})")
    st, data, _ = t.request("GET", "/metrics", headers={"Authorization": "Bearer nope"})
    check(st == 401, f"/metrics with an unknown token -> 401 ({st})")
    st, data, _ = t.request("GET", "/metrics", headers={"X-API-Key": "tok-acme"})
    check(st == 200 and b"skillmeat_team_listening" in data, f"/metrics with a tenant's token -> 200 ({st})")
    t.stop()


def test_freshness(s):
    page, r = s.get("/artifacts")
    etag = r.getheader("ETag")
    s.get("/artifacts", headers={"If-None-Match": etag}, want=304)
    ucs, _ = s.get("/user-collections")
    # another client commits (as another instance would)
    PG.psql(f"UPDATE artifacts SET description = 'Beta now lints' WHERE tenant_id = 'default'"
            f" AND uuid = '{U['beta']}';"
            f"INSERT INTO collection_artifacts VALUES ('default', '{PICKS}', '{U['beta']}',"
            " '2026-03-02T00:00:00Z');", "team")
    page, r = s.get("/artifacts", headers={"If-None-Match": etag})
    beta = [i for i in page["items"] if i["name"] == "beta"][0]
    check(beta["metadata"]["description"] == "Beta now lints" and r.getheader("ETag") != etag,
          "the very next request after another client's commit: the new row, a new ETag")
    ucs, _ = s.get("/user-collections")
    got = {c["name"]: c["artifact_count"] for c in ucs["items"]}
    check(got["Team picks"] == 2, f"and the new member count at once ({got})")
    # another tenant's commit changes nothing here
    PG.psql("UPDATE artifacts SET description = 'x' WHERE tenant_id = 'acme'", "team")
    a, _ = s.get("/artifacts/skill:alpha")
    check(a["metadata"]["description"] == "Alpha reviews code", "another tenant's commit: our rows unchanged")


def test_refusals(s):
    for method, path, want in (("POST", "/api/v1/artifacts/skill:alpha/deploy", 403),
                               ("POST", "/api/v1/artifacts/skill:alpha/undeploy", 403),
                               ("POST", "/api/v1/artifacts/skill:alpha/sync", 403),
                               ("GET", "/api/v1/deployments?project_path=/tmp", 403),
                               ("POST", "/api/v1/team/artifacts", 422)):
        body = {"name": "x"} if method == "POST" else None
        st, data, _ = s.request(method, path, body=body)
        check(st == want, f"{method} {path.split('?')[0]} -> {want} in team mode ({st} {data[:80]!r})")
    a, _ = s.get("/artifacts/skill:alpha")
    check(a["name"] == "alpha", "nothing was removed")
    # POST /artifacts from a path on the server's disk: 403 (API.md "Team mode")
    src = os.path.join(TMP, "local-src", "localskill")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "SKILL.md"), "w") as f:
        f.write("---\nname: localskill\ndescription: on the server's disk\n---\n")
    for body in ({"source": src, "artifact_type": "skill"},
                 {"source": src, "source_type": "local", "artifact_type": "skill"}):
        st, data, _ = s.request("POST", "/api/v1/artifacts", body=body)
        check(st == 403 and b"team mode" in data,
              f"POST /artifacts with a local path {body.get('source_type', '(implied)')} -> 403 ({st} {data[:120]!r})")
    # from GitHub: fetched by the server (test_team_github.py); a bad spec is refused first
    st, data, _ = s.request("POST", "/api/v1/artifacts",
                            body={"source": "https://gitlab.com/a/b", "source_type": "github",
                                  "artifact_type": "skill"})
    check(st == 400 and b"GitHub" in data,
          f"POST /artifacts from a non-GitHub URL -> 400 ({st} {data[:160]!r})")
    st, data, _ = s.request("POST", "/api/v1/artifacts", body={"artifact_type": "skill"})
    check(st == 422, f"POST /artifacts without a source: 422 first ({st})")
    s.get("/artifacts/skill:localskill", want=404)
    check(True, "no refused POST /artifacts added a row")


def test_restart(s):
    PG.restart()
    page, _ = s.get("/artifacts")
    check(names(page) == ["command:gamma", "skill:alpha", "skill:beta"],
          "after a PostgreSQL restart the next request is answered from the same rows")


def test_probe_lost(url):
    """The connection loses its prepared probe but keeps its backend (a
    pooler's DISCARD ALL, a DEALLOCATE; the test build drops it at the 3rd
    probe): that request and every later one are answered, not 503."""
    s = Server(home("probe-lost"), "--store", url,
               env={"SKILLMEAT_TEST_FAIL_AT": "pg-probe-lost#3"})
    for i in range(6):
        page, _ = s.get("/artifacts")
        check(names(page) == ["command:gamma", "skill:alpha", "skill:beta"],
              f"request {i + 1} answered with the prepared probe lost at the 3rd")
    s.stop()


def test_config_store(url):
    h = home("config", f'[server]\nstore = "{url}"\n')
    s = Server(h)
    page, _ = s.get("/artifacts")
    check(names(page) == ["command:gamma", "skill:alpha", "skill:beta"],
          "config server.store: team mode without --store")
    s2 = Server(h)
    page, _ = s2.get("/artifacts")
    check(len(page["items"]) == 3, "a second instance on the same home and store")
    s2.stop()
    s.stop()
    check(not os.path.exists(os.path.join(h, "cache", "metadata.db"))
          and not os.path.exists(os.path.join(h, "server.json")),
          "team mode writes nothing into the home (no metadata.db, no server.json)")
    p = subprocess.run([BIN, "serve", "--port", "0", "--store", "sqlite:///x"],
                       env=dict(ENV, SKILLMEAT_HOME=h), capture_output=True, text=True,
                       timeout=60)
    check(p.returncode != 0 and "not a PostgreSQL URL" in p.stderr,
          "serve --store with another scheme is refused")


def b64(text):
    return base64.b64encode(text.encode()).decode()


def skill_files(desc, extra="echo hi\n"):
    return [{"path": "SKILL.md",
             "content_base64": b64(f"---\nname: x\ndescription: {desc}\ntags: [ops]\n---\nBody\n")},
            {"path": "scripts/run.sh", "content_base64": b64(extra)}]


def content_hash(files):
    h = hashlib.sha256()
    for f in sorted(files, key=lambda f: f["path"].encode()):
        h.update(f["path"].encode())
        h.update(base64.b64decode(f["content_base64"]))
    return h.hexdigest()


def upload(s, body, token=None):
    h = {"Authorization": f"Bearer {token}"} if token else {}
    st, data, r = s.request("POST", "/api/v1/team/artifacts", body=body, headers=h)
    return st, (json.loads(data) if data else None)


def test_writes(url):
    a = Server(home("inst-a"), "--store", url)
    b = Server(home("inst-b"), "--store", url)
    page, _ = b.get("/artifacts")
    before = names(page)
    ucs, _ = b.get("/user-collections")
    count0 = {c["name"]: c["artifact_count"] for c in ucs["items"]}["Default Collection"]
    files = skill_files("Delta ships releases")
    st, art = upload(a, {"type": "skill", "name": "delta", "files": files})
    check(st == 201 and art["id"] == "skill:delta", f"upload through instance A: 201 ({st})")
    check(art["content_hash"] == content_hash(files),
          "the content hash is SkillMeat's (path + bytes of each file, in path order)")
    check(art["metadata"]["description"] == "Delta ships releases" and "ops" in art["tags"],
          "metadata and tags read from the uploaded SKILL.md")
    page, _ = b.get("/artifacts")
    check(names(page) == sorted(before + ["skill:delta"]),
          "instance B lists the upload at its very next request")
    d, _ = b.get("/artifacts/skill:delta")
    check(d["metadata"]["description"] == "Delta ships releases", "instance B shows it")
    ucs, _ = b.get("/user-collections")
    got = {c["name"]: c["artifact_count"] for c in ucs["items"]}
    check(got["Default Collection"] == count0 + 1,
          f"and counts it in the default collection at once ({got})")
    st, body = upload(b, {"type": "skill", "name": "delta", "files": skill_files("other")})
    check(st == 409, f"the same name again without force: 409 ({st} {body})")
    d2, _ = a.get("/artifacts/skill:delta")
    check(d2["metadata"]["description"] == "Delta ships releases", "the refused upload changed nothing")
    st, art2 = upload(b, {"type": "skill", "name": "delta", "force": True,
                          "files": skill_files("Delta v2", "echo v2\n"),
                          "metadata": {"description": "Delta, second take", "tags": ["Release"]}})
    check(st == 200 and art2["uuid"] == art["uuid"],
          f"force replaces it through instance B: 200, same uuid ({st})")
    d, _ = a.get("/artifacts/skill:delta")
    check(d["metadata"]["description"] == "Delta, second take" and d["tags"] == ["Release"],
          "instance A shows the replacement at its next request (metadata given wins)")
    # concurrent uploads of one new name through both instances: exactly one wins
    for i in range(4):
        body = {"type": "command", "name": f"race{i}",
                "files": [{"path": f"race{i}.md", "content_base64": b64(f"# race {i}\n")}]}
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            codes = sorted(st for st, _ in ex.map(lambda s: upload(s, body), (a, b)))
        check(codes == [201, 409], f"race{i}: concurrent uploads through A and B, one 201, one 409 ({codes})")
    for bad, why in ((dict(type="skill", name="bad", files=[{"path": "../x", "content_base64": b64("x")}]), "a path leaving the artifact"),
                     (dict(type="skill", name="bad", files=[{"path": "a.md", "content_base64": b64("x")}]), "a skill without SKILL.md"),
                     (dict(type="bogus", name="bad", files=skill_files("x")), "an unknown type"),
                     (dict(type="skill", name="../bad", files=skill_files("x")), "a bad name"),
                     (dict(type="skill", name="bad", files=[{"path": "SKILL.md", "content_base64": "%%%"}]), "content that is not base64")):
        st, body = upload(a, bad)
        check(st == 400, f"{why}: 400 ({st} {body})")
    st, body = upload(a, {"type": "skill", "name": "bad"})
    check(st == 422, f"no files: 422 ({st})")
    b.get("/artifacts/skill:bad", want=404)
    check(True, "no refused upload left a row")
    # an acknowledged write outlives its instance: SIGKILL right after the 201
    st, _ = upload(a, {"type": "skill", "name": "epsilon", "files": skill_files("Epsilon")})
    a.proc.kill()
    a.proc.wait(30)
    e, _ = b.get("/artifacts/skill:epsilon")
    check(st == 201 and e["metadata"]["description"] == "Epsilon",
          "instance A killed right after acknowledging an upload: B serves it")
    b.stop()
    # tenants: an upload lands in its token's tenant only
    t = Server(home("tokens-w", '[team.tokens]\ntok-default = "default"\ntok-acme = "acme"\n'),
               "--store", url)
    st, art = upload(t, {"type": "skill", "name": "delta", "files": skill_files("Acme delta")},
                     token="tok-acme")
    check(st == 201, f"acme uploads its own skill:delta: 201, no clash with default's ({st})")
    d, _ = t.get("/artifacts/skill:delta", token="tok-default")
    check(d["metadata"]["description"] == "Delta, second take", "default's delta unchanged")
    d, _ = t.get("/artifacts/skill:delta", token="tok-acme")
    check(d["metadata"]["description"] == "Acme delta", "acme's delta is acme's")
    # a write drops its own tenant's counts only: acme's stay cached
    wait_until("the listener connected", lambda: listening(t, token="tok-acme"))

    def acme_cached():
        t.get("/user-collections", token="tok-acme")
        h0 = count_hits(t, "tok-acme")
        t.get("/user-collections", token="tok-acme")
        h1 = count_hits(t, "tok-acme")
        return h1[1] == h0[1] and h1[0] > h0[0]
    wait_until("acme's counts cached", acme_cached)
    n0 = notes(t, "tok-acme")
    st, _ = upload(t, {"type": "skill", "name": "zeta", "files": skill_files("Zeta")},
                   token="tok-default")
    check(st == 201, f"default uploads skill:zeta through the same instance ({st})")
    wait_until("its notification handled", lambda: notes(t, "tok-acme") > n0)
    h1 = count_hits(t, "tok-acme")
    ucs, _ = t.get("/user-collections", token="tok-acme")
    h2 = count_hits(t, "tok-acme")
    check(h2[1] == h1[1] and h2[0] - h1[0] == len(ucs["items"]),
          f"a write of default's: acme's counts are still served from the cache ({h1} -> {h2})")
    ucs, _ = t.get("/user-collections", token="tok-default")
    h3 = count_hits(t, "tok-acme")
    got = {c["name"]: c["artifact_count"] for c in ucs["items"]}
    want = truth()[1]
    check(got == want and h3[1] > h2[1], f"and default's counts are read again, fresh ({got})")
    st, _ = upload(t, {"type": "skill", "name": "omega", "files": skill_files("x")})
    check(st == 401, f"an upload without a token: 401 ({st})")
    t.stop()


def put_meta(s, ident, body, if_match=None, token=None):
    h = {}
    if if_match:
        h["If-Match"] = if_match
    if token:
        h["Authorization"] = f"Bearer {token}"
    st, data, r = s.request("PUT", f"/api/v1/artifacts/{ident}/metadata", body=body, headers=h)
    return st, (json.loads(data) if data else None), r.getheader("ETag")


def test_edits(url):
    a = Server(home("edit-a"), "--store", url)
    b = Server(home("edit-b"), "--store", url)
    d, r = a.get("/artifacts/skill:delta")
    etag = r.getheader("ETag")
    st, body, etag2 = put_meta(b, "skill:delta", {"description": "Edited via B", "tags": ["x", "y"]},
                               if_match=etag)
    check(st == 200 and body["metadata"]["description"] == "Edited via B" and etag2 != etag,
          f"PUT metadata through B with A's ETag: 200, a new ETag ({st} {body if st != 200 else ''})")
    d, _ = a.get("/artifacts/skill:delta")
    check(d["metadata"]["description"] == "Edited via B" and d["tags"] == ["x", "y"],
          "A shows B's edit at its next request")
    st, body, _ = put_meta(a, "skill:delta", {"description": "stale"}, if_match=etag)
    check(st == 409 and body["detail"]["error"] == "conflict"
          and body["detail"]["current_revision"] in etag2,
          f"the old ETag through A: 409 with the current revision ({st} {body})")
    d, _ = b.get("/artifacts/skill:delta")
    check(d["metadata"]["description"] == "Edited via B", "the refused edit wrote nothing")
    for i in range(4):
        _, r = a.get("/artifacts/skill:delta")
        tag = r.getheader("ETag")
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            res = list(ex.map(lambda sv: put_meta(sv[0], "skill:delta",
                                                  {"description": f"round {i} by {sv[1]}"},
                                                  if_match=tag),
                              ((a, "A"), (b, "B"))))
        codes = sorted(x[0] for x in res)
        check(codes == [200, 409], f"round {i}: one edit through A and B from one ETag wins ({codes})")
        winner = "A" if res[0][0] == 200 else "B"
        d, _ = b.get("/artifacts/skill:delta")
        check(d["metadata"]["description"] == f"round {i} by {winner}",
              f"round {i}: the stored description is the winner's ({winner})")
    st, body, _ = put_meta(a, "skill:delta", {"description": "no precondition"})
    check(st == 200, f"no If-Match: the edit proceeds ({st})")
    st, body, _ = put_meta(a, "skill:nothere", {"description": "x"})
    check(st == 404, f"an unknown artifact: 404 ({st})")
    b.stop()
    a.stop()
    t = Server(home("tokens-e", '[team.tokens]\ntok-default = "default"\ntok-acme = "acme"\n'),
               "--store", url)
    st, body, _ = put_meta(t, "skill:delta", {"description": "Acme edit"}, token="tok-acme")
    check(st == 200, f"acme edits its skill:delta ({st})")
    d, _ = t.get("/artifacts/skill:delta", token="tok-default")
    check(d["metadata"]["description"] == "no precondition", "default's skill:delta untouched by acme's edit")
    t.stop()


def metrics(s, token=None):
    h = {"Authorization": f"Bearer {token}"} if token else {}
    st, data, _ = s.request("GET", "/metrics", headers=h)
    if st != 200:
        fail(f"GET /metrics -> {st}")
    out = {}
    for line in data.decode().splitlines():
        if line and not line.startswith("#"):
            k, v = line.rsplit(" ", 1)
            out[k] = float(v)
    return out


def count_hits(s, token=None):
    m = metrics(s, token)
    return (m.get('skillmeat_cache_hits_total{cache="count"}', 0),
            m.get('skillmeat_cache_misses_total{cache="count"}', 0))


def wait_until(what, cond, tries=600):
    # waiting for the listener (a thread) to get somewhere: bounded, never timed
    for _ in range(tries):
        if cond():
            return
        time.sleep(0.05)
    fail(f"never happened: {what}")


def listening(s, connects=1, token=None):
    m = metrics(s, token)
    return (m.get("skillmeat_team_listening") == 1
            and m.get("skillmeat_team_listener_connects", 0) >= connects)


def notes(s, token=None):
    return metrics(s, token).get("skillmeat_team_notifications", 0)


def total_revision():
    # each commit's statements bump a tenant's revision once and notify once
    return int(PG.psql("SELECT coalesce(sum(revision), 0) FROM tenants", "team"))


def caught_up(s, base):
    """Wait until s's listener has handled every notification sent since base."""
    want = total_revision() - base
    wait_until(f"{want} notifications handled", lambda: notes(s) >= want)


def view(s):
    """What one instance answers now: names, default's artifacts, every count."""
    page, _ = s.get("/artifacts?limit=100")
    ucs, _ = s.get("/user-collections")
    counts = {c["name"]: c["artifact_count"] for c in ucs["items"]}
    members, _ = s.get("/user-collections/default/artifacts?limit=100")
    descs = {i["name"]: i["metadata"].get("description") for i in page["items"]}
    return names(page), counts, names(members), descs


def truth():
    """The same, read by psql from the database."""
    rows = PG.psql("SELECT type || ':' || name, coalesce(description, '') FROM artifacts"
                   " WHERE tenant_id = 'default' ORDER BY type, name", "team").splitlines()
    counts = PG.psql("SELECT u.name, count(c.artifact_uuid) FROM user_collections u LEFT JOIN"
                     " collection_artifacts c ON c.tenant_id = u.tenant_id AND"
                     " c.collection_id = u.id WHERE u.tenant_id = 'default' GROUP BY u.name",
                     "team").splitlines()
    members = PG.psql("SELECT a.type || ':' || a.name FROM collection_artifacts c JOIN artifacts a"
                      " ON a.tenant_id = c.tenant_id AND a.uuid = c.artifact_uuid WHERE"
                      " c.tenant_id = 'default' AND c.collection_id = 'default'"
                      " ORDER BY a.type, a.name", "team").split()
    return ([r.split("|")[0] for r in rows], {c.split("|")[0]: int(c.split("|")[1]) for c in counts},
            members, {r.split("|")[0].split(":", 1)[1]: r.split("|")[1] for r in rows})


def same_as_truth(s, label):
    got, want = view(s), truth()
    check(got[:3] == want[:3] and all(got[3][k] == (v or got[3][k]) for k, v in want[3].items()),
          f"{label}: names, counts, members and descriptions as in the database")


def test_instances(url):
    """Three instances on one database: the listener's invalidation."""
    insts = [Server(home(f"inst3-{n}"), "--store", url) for n in "abc"]
    for s in insts:
        wait_until("the listener connected", lambda s=s: listening(s))
    check(True, "three instances, each listening")
    base = total_revision()  # no commit since they connected
    for s in insts:  # warm every cache of every instance
        view(s)
        view(s)
    h0 = count_hits(insts[1])
    view(insts[1])
    h1 = count_hits(insts[1])
    check(h1[0] > h0[0] and h1[1] == h0[1], f"counts are served from the cache when nothing changed ({h0} -> {h1})")
    # a write through each in turn: every other shows it at its very next request
    for i, w in enumerate(insts * 2):
        st, _ = upload(w, {"type": "skill", "name": f"fresh{i}", "files": skill_files(f"Fresh {i}")})
        check(st == 201, f"write {i}: upload through instance {insts.index(w)}")
        for s in insts:
            if s is not w:
                same_as_truth(s, f"write {i}: instance {insts.index(s)} at its next request")
    d, r = insts[2].get("/artifacts/skill:fresh0")
    st, body, _ = put_meta(insts[0], "skill:fresh0", {"description": "Edited through 0"},
                           if_match=r.getheader("ETag"))
    check(st == 200, f"an edit through instance 0 ({st})")
    for s in insts[1:]:
        d, _ = s.get("/artifacts/skill:fresh0")
        check(d["metadata"]["description"] == "Edited through 0",
              f"instance {insts.index(s)} shows it at its next request")
    # three edits from one ETag through three instances: exactly one wins
    for rnd in range(3):
        _, r = insts[0].get("/artifacts/skill:fresh1")
        tag = r.getheader("ETag")
        with concurrent.futures.ThreadPoolExecutor(3) as ex:
            res = list(ex.map(lambda k: put_meta(insts[k], "skill:fresh1",
                                                 {"description": f"round {rnd} by {k}"},
                                                 if_match=tag), range(3)))
        codes = sorted(x[0] for x in res)
        check(codes == [200, 409, 409], f"round {rnd}: one of three edits from one ETag wins ({codes})")
        k = [x[0] for x in res].index(200)
        for s in insts:
            d, _ = s.get("/artifacts/skill:fresh1")
            check(d["metadata"]["description"] == f"round {rnd} by {k}",
                  f"round {rnd}: instance {insts.index(s)} shows the winner's edit")
    # exactly the entries a notification affects: an artifact's edit keeps every count
    b = insts[1]
    view(b)
    PG.psql("UPDATE artifacts SET description = 'psql edit' WHERE tenant_id = 'default'"
            " AND name = 'fresh2'", "team")
    caught_up(b, base)
    h1 = count_hits(b)
    got = view(b)
    h2 = count_hits(b)
    check(got[3]["fresh2"] == "psql edit", "an edit by psql: shown at the next request")
    check(h2[1] == h1[1] and h2[0] > h1[0],
          f"and no member count was dropped for it (count cache {h1} -> {h2})")
    # a membership of one collection: that count alone is dropped
    PG.psql(f"INSERT INTO collection_artifacts SELECT 'default', '{PICKS}', uuid,"
            " '2026-05-01T00:00:00Z' FROM artifacts WHERE tenant_id = 'default'"
            " AND name = 'fresh3'", "team")
    caught_up(b, base)
    h1 = count_hits(b)
    ucs, _ = b.get("/user-collections")
    h2 = count_hits(b)
    got = {c["name"]: c["artifact_count"] for c in ucs["items"]}
    check(got == truth()[1], f"a new member of Team picks: the counts at the next request ({got})")
    check(h2[1] - h1[1] == 1 and h2[0] - h1[0] == len(got) - 1,
          f"only Team picks' count was read again ({h1} -> {h2})")
    # another tenant's commit drops nothing of ours
    PG.psql("UPDATE artifacts SET description = 'acme again' WHERE tenant_id = 'acme'", "team")
    caught_up(b, base)
    h1 = count_hits(b)
    b.get("/user-collections")
    h2 = count_hits(b)
    check(h2[1] == h1[1], f"another tenant's commit: our counts stay cached ({h1} -> {h2})")
    # the listeners' connections killed, then a commit they cannot hear
    for s in insts:
        view(s)
    PG.psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE application_name = 'skillmeat-listen'", "team")
    PG.psql(f"DELETE FROM collection_artifacts WHERE tenant_id = 'default'"
            f" AND collection_id = '{PICKS}' AND artifact_uuid IN (SELECT uuid FROM artifacts"
            " WHERE tenant_id = 'default' AND name = 'fresh3')", "team")
    for s in insts:
        same_as_truth(s, f"listener killed, a commit unheard: instance {insts.index(s)} next")
    for s in insts:
        wait_until("the listener reconnected", lambda s=s: listening(s, 2))
        same_as_truth(s, f"instance {insts.index(s)} after its listener reconnected")
    check(True, "every listener reconnected by itself")
    # PostgreSQL restarted: no answer from a cache while it is down, fresh ones after
    for s in insts:
        view(s)
    PG.stop(remove=False)
    for s in insts:
        for path in ("/artifacts", "/user-collections", "/user-collections/default/artifacts"):
            st, data, _ = s.request("GET", "/api/v1" + path)
            check(st == 503, f"PostgreSQL down: instance {insts.index(s)} GET {path} -> 503,"
                  f" not a cached answer ({st})")
    PG.start()
    PG.psql("UPDATE artifacts SET description = 'after restart' WHERE tenant_id = 'default'"
            " AND name = 'fresh4'", "team")
    for s in insts:
        same_as_truth(s, f"PostgreSQL back, a commit right away: instance {insts.index(s)} next")
    def served_from_cache(s):
        view(s)
        h0 = count_hits(s)
        got = view(s)
        h1 = count_hits(s)
        return got[3]["fresh4"] == "after restart" and h1[1] == h0[1] and h1[0] > h0[0]
    for s in insts:
        wait_until("the listener reconnected", lambda s=s: listening(s, 3))
        # its reconnect may predate the commit above: then its notification comes
        wait_until("counts served from the cache", lambda s=s: served_from_cache(s))
        check(True, f"instance {insts.index(s)} listens again and serves counts from its cache")
    # SIGKILL during a stream of writes: every acknowledged one is there
    a, c = insts[0], insts[2]
    acked, stop = [], []

    def stream():
        for i in range(200):
            if stop:
                return
            try:
                st, _ = upload(a, {"type": "command", "name": f"kill{i}",
                                   "files": [{"path": f"kill{i}.md", "content_base64": b64("x\n")}]})
            except OSError:
                return
            if st == 201:
                acked.append(f"command:kill{i}")
    with concurrent.futures.ThreadPoolExecutor(1) as ex:
        fut = ex.submit(stream)
        wait_until("some writes acknowledged", lambda: len(acked) >= 5)
        a.proc.kill()
        a.proc.wait(30)
        stop.append(True)
        fut.result()
    page, _ = c.get("/artifacts?limit=500&type=command")
    got = set(names(page))
    check(acked and set(acked) <= got,
          f"instance 0 SIGKILLed during a stream of uploads: all {len(acked)} acknowledged"
          " ones served by instance 2")
    insts[1].stop()
    c.stop()


def test_not_team():
    s = Server(home("plain"))
    st, body = upload(s, {"type": "skill", "name": "x", "files": skill_files("x")})
    check(st == 404, f"a server without a team store: POST /team/artifacts -> 404 ({st})")
    s.stop()


def main():
    global PG
    try:
        PG = pgcluster.Cluster()
    except RuntimeError as e:
        fail(f"cannot start PostgreSQL: {e}")
    test_migrations()
    url = PG.createdb("team")
    p = run(home("seed"), "team", "migrate", "--store", url)
    check(p.returncode == 0, f"migrate the team database ({p.stderr.strip()})")
    seed()
    s = test_reads(url)
    test_tenants(url, s)
    test_freshness(s)
    test_refusals(s)
    test_restart(s)
    s.stop()
    test_probe_lost(url)
    test_config_store(url)
    test_writes(url)
    test_edits(url)
    test_instances(url)
    test_not_team()
    cleanup()
    print(f"{CHECKS} passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - any error fails the test, servers stopped
        fail(f"unexpected {type(e).__name__}: {e}")
