#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""API test: builds a temporary SKILLMEAT_HOME with the real CLI, starts the
real `skillmeat serve --port 0` on 127.0.0.1 and drives every endpoint of
spec/API.md that serve implements over real HTTP.

usage: test_api.py   (SKILLMEAT_BIN names the program)
Prints one line per check; exits 1 on the first failure.
"""
import base64
import json
import os
import signal
import socket
import sqlite3
import subprocess
import tomllib
import urllib.parse

import apitest
from apitest import BIN, Server, check, cli, write

TMP, ENV = apitest.setup("sm-api-", SKILLMEAT_CACHE_COUNT_TTL_SECONDS="3600")


def b64(s):
    return base64.b64encode(s.encode()).decode()


def detail_is_str(j):
    return isinstance(j, dict) and isinstance(j.get("detail"), str) and j["detail"]


def is_422(st, j, field=None):
    if st != 422 or not isinstance(j, dict) or not isinstance(j.get("detail"), list):
        return False
    d = j["detail"][0]
    return {"loc", "msg", "type"} <= set(d) and (field is None or d["loc"][-1] == field)


# ---------------------------------------------------------------- fixtures

def make_sources():
    src = os.path.join(TMP, "src")
    write(f"{src}/canvas/SKILL.md",
          "---\nname: canvas\ntitle: Canvas\ndescription: Draw on a canvas\nauthor: Ann\n"
          "license: MIT\nversion: 1.2.0\ntags: [art, ui]\ntools: [Read, Write]\n---\n# Canvas\n")
    write(f"{src}/pdf/SKILL.md",
          "---\nname: pdf\ndescription: Read PDF files\ntags: [docs]\ntools: [Bash]\n---\nx\n")
    write(f"{src}/reviewer.md", "---\ndescription: Review code carefully\ntags: [review]\n---\nb\n")
    write(f"{src}/deploy.md", "---\ndescription: Deploy the app\n---\nrun\n")
    write(f"{src}/late/SKILL.md",
          "---\nname: late\ndescription: Added while serving\nauthor: Bob\nlicense: ISC\n"
          "tags: [fresh]\ntools: [Grep]\n---\nlate\n")
    write(f"{src}/later.md", "---\ndescription: Another late one\n---\nz\n")
    write(f"{src}/dup/SKILL.md", "---\nname: dup\ndescription: Duplicate in two collections\n---\n")
    return src


def make_home(src, name="home"):
    home = os.path.join(TMP, name)
    cli(home, "add", "skill", f"{src}/canvas")
    cli(home, "add", "skill", f"{src}/pdf")
    cli(home, "add", "agent", f"{src}/reviewer.md")
    cli(home, "add", "command", f"{src}/deploy.md")
    cli(home, "add", "skill", f"{src}/dup")
    cli(home, "collection", "create", "work")
    cli(home, "add", "--collection", "work", "skill", f"{src}/dup")
    return home


# ---------------------------------------------------------------- tests

def test_startup(s, home):
    check(s.line == s.url + "\n" and s.host == "127.0.0.1" and s.port > 0,
          f"serve prints one URL line ({s.url})")
    with open(os.path.join(home, "server.json")) as f:
        sj = json.load(f)
    check(sj["pid"] == s.proc.pid and sj["url"] == s.url and isinstance(sj["started_at"], str),
          "server.json names pid, url and started_at")
    p = subprocess.run([BIN, "serve", "--port", "0"], env=dict(ENV, SKILLMEAT_HOME=home),
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 1 and "already serves" in p.stderr and p.stdout == "",
          "a second serve on the same home is refused (exit 1)")
    with open(os.path.join(home, "server.json")) as f:
        check(json.load(f) == sj, "server.json is left as it was")
    st, _, j = s.get("/health")
    check(st == 200 and j["status"] == "ok", "GET /health")


def test_refusals(src):
    home = os.path.join(TMP, "other")
    cli(home, "add", "skill", f"{src}/pdf")
    p = subprocess.run([BIN, "serve", "--host", "0.0.0.0", "--port", "0"],
                       env=dict(ENV, SKILLMEAT_HOME=home), capture_output=True, text=True,
                       timeout=60)
    check(p.returncode == 1 and "SKILLMEAT_API_TOKEN" in p.stderr and p.stdout == "",
          "non-loopback --host without a token: exit 1")
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    port = sock.getsockname()[1]
    p = subprocess.run([BIN, "serve", "--port", str(port)], env=dict(ENV, SKILLMEAT_HOME=home),
                       capture_output=True, text=True, timeout=60)
    sock.close()
    check(p.returncode == 1 and p.stderr.startswith("error: ") and p.stdout == ""
          and not os.path.exists(os.path.join(home, "server.json")),
          f"a busy port: exit 1 with a clear error ({p.stderr.strip()})")
    p = subprocess.run([BIN, "serve", "--port", "x"], env=dict(ENV, SKILLMEAT_HOME=home),
                       capture_output=True, text=True, timeout=60)
    check(p.returncode == 2, "serve --port x: usage error")
    # a stale server.json (a dead pid) is replaced
    dead = subprocess.Popen(["true"])
    dead.wait()
    write(os.path.join(home, "server.json"),
          json.dumps({"pid": dead.pid, "url": "http://127.0.0.1:1", "started_at": "x"}))
    s = Server(home)
    with open(os.path.join(home, "server.json")) as f:
        check(json.load(f)["pid"] == s.proc.pid, "a stale server.json is replaced")
    rc, out, _ = s.stop(signal.SIGINT)
    check(rc == 0 and out == "" and not os.path.exists(os.path.join(home, "server.json")),
          "SIGINT: exit 0, server.json removed")
    # a non-loopback address with a token: requests need it
    s = Server(home, "--host", "0.0.0.0", env={"SKILLMEAT_API_TOKEN": "s3cret"})
    check(s.url.startswith("http://0.0.0.0:"), "URL line names the bound host")
    s.host = "127.0.0.1"
    st, _, j = s.get("/artifacts")
    check(st == 401 and detail_is_str(j), "no token -> 401")
    st, _, j = s.get("/artifacts", headers={"Authorization": "Bearer s3cret"})
    check(st == 200 and j["page_info"]["total_count"] == 1, "Bearer token -> 200")
    st, _, j = s.get("/artifacts", headers={"X-API-Key": "wrong"})
    check(st == 401, "wrong X-API-Key -> 401")
    st, _, j = s.get("/health")
    check(st == 200, "/health needs no token")
    st, _, data = s.request("GET", "/metrics")
    check(st == 401, f"/metrics needs the token like the API ({st})")
    st, _, data = s.request("GET", "/metrics", headers={"Authorization": "Bearer s3cret"})
    check(st == 200 and b"skillmeat_" in data, "/metrics with the token -> 200")
    rc, out, _ = s.stop()
    check(rc == 0 and out == "", "token server stopped")


def test_artifacts(s):
    st, h, j = s.get("/artifacts")
    check(st == 200 and set(j) == {"items", "page_info"}, "GET /artifacts -> items, page_info")
    pi = j["page_info"]
    check(set(pi) == {"has_next_page", "has_previous_page", "start_cursor", "end_cursor",
                      "total_count"} and pi["total_count"] == 6 and not pi["has_next_page"]
          and not pi["has_previous_page"], "page_info fields and total_count")
    ids = [i["id"] for i in j["items"]]
    check(ids == ["agent:reviewer", "command:deploy", "skill:canvas", "default/skill:dup",
                  "work/skill:dup", "skill:pdf"], f"sorted by type, name; ambiguous ids qualified {ids}")
    canvas = next(i for i in j["items"] if i["id"] == "skill:canvas")
    fields = {"id", "uuid", "name", "type", "source", "origin", "origin_source", "version",
              "aliases", "tags", "target_platforms", "metadata", "upstream", "deployment_stats",
              "deployments", "collections", "added", "updated", "import_id", "owner_id",
              "owner_type", "visibility", "workflow_id"}
    check(fields <= set(canvas), f"ArtifactResponse fields ({sorted(fields - set(canvas))})")
    m = canvas["metadata"]
    check(m["title"] == "Canvas" and m["description"] == "Draw on a canvas" and m["author"] == "Ann"
          and m["license"] == "MIT" and m["version"] == "1.2.0" and m["tools"] == ["Read", "Write"]
          and m["dependencies"] == [] and m["linked_artifacts"] == [], "metadata from the files")
    check(sorted(canvas["tags"]) == ["art", "ui"] and canvas["source"] == "skill:canvas"
          and canvas["deployments"] == [] and canvas["deployment_stats"] == {"total_deployments": 0, "project_count": 0, "modified_count": 0}
          and canvas["aliases"] == [] and len(canvas["uuid"]) == 32, "tags, source, unbuilt fields")
    check(set(canvas["upstream"]) == {"tracking_enabled", "current_sha", "upstream_sha",
                                      "update_available", "has_local_modifications",
                                      "drift_status"}, "upstream object")
    check(canvas["collections"] == [{"id": "default", "name": "Default Collection",
                                     "artifact_count": 6}], "collections[] with artifact_count")
    check(h["ETag"], "list ETag")
    st, h2, _ = s.request("GET", "/artifacts", headers={"If-None-Match": h["ETag"]})
    check(st == 304, "list If-None-Match -> 304")

    # keyset pagination
    seen, after, pages = [], None, 0
    while True:
        q = "/artifacts?limit=2" + (f"&after={urllib.parse.quote(after)}" if after else "")
        st, _, j = s.get(q)
        check(st == 200 and len(j["items"]) <= 2, f"page {pages}")
        seen += [i["id"] for i in j["items"]]
        check(j["page_info"]["has_previous_page"] == (after is not None)
              and j["page_info"]["total_count"] == 6, "page_info on page")
        if j["items"]:
            check(j["page_info"]["end_cursor"] == b64(j["items"][-1]["id"]),
                  "end_cursor = base64 of the last id")
        pages += 1
        if not j["page_info"]["has_next_page"]:
            break
        after = j["page_info"]["end_cursor"]
    check(seen == ids and pages == 3, "pages of 2 cover every artifact once")

    st, _, j = s.get("/artifacts?artifact_type=agent,command")
    check(st == 200 and [i["id"] for i in j["items"]] == ["agent:reviewer", "command:deploy"]
          and j["page_info"]["total_count"] == 2, "artifact_type comma list")
    st, _, j = s.get("/artifacts?artifact_type=widget")
    check(st == 400 and detail_is_str(j), "unknown artifact_type -> 400")
    st, _, j = s.get("/artifacts?tags=docs,review")
    check(st == 200 and [i["id"] for i in j["items"]] == ["agent:reviewer", "skill:pdf"],
          "tags filter (any)")
    st, _, j = s.get("/artifacts?tools=bash")
    check(st == 200 and [i["id"] for i in j["items"]] == ["skill:pdf"], "tools filter")
    st, _, j = s.get("/artifacts?search=canvas")
    check(st == 200 and [i["id"] for i in j["items"]] == ["skill:canvas"], "search")
    st, _, j = s.get("/artifacts?collection=work")
    check(st == 200 and [i["id"] for i in j["items"]] == ["work/skill:dup"], "collection filter")
    st, _, j = s.get("/artifacts?collection=nope")
    check(st == 404 and detail_is_str(j), "unknown collection -> 404")
    for bad in ("0", "501", "x", "-1"):
        st, _, j = s.get(f"/artifacts?limit={bad}")
        check(st == 400 and detail_is_str(j), f"limit={bad} -> 400")
    st, _, j = s.get("/artifacts?limit=500")
    check(st == 200, "limit=500 ok")
    st, _, j = s.get("/artifacts?after=%%%")
    check(st == 400 and j["detail"].startswith("Invalid cursor"), "bad cursor -> 400")

    # detail
    st, h, j = s.get("/artifacts/skill:canvas")
    check(st == 200 and j["id"] == "skill:canvas" and j["metadata"]["author"] == "Ann",
          "GET /artifacts/{id}")
    etag = h["ETag"]
    check(etag and etag.startswith('"') and canvas["revision"] in etag, "detail ETag holds the row revision")
    st, _, _ = s.request("GET", "/artifacts/skill:canvas", headers={"If-None-Match": etag})
    check(st == 304, "detail If-None-Match -> 304")
    st, _, j = s.get("/artifacts/skill:canvas.md")
    check(st == 200 and j["id"] == "skill:canvas", "a trailing .md is ignored")
    st, _, j = s.get("/artifacts/skill:nope")
    check(st == 404 and detail_is_str(j), "unknown artifact -> 404")
    for bad in ("canvas", "skill:..%2F..%2Fetc", "skill:a%2Fb", "skill:.hidden",
                "..%2Fskill:canvas", "widget:canvas"):
        st, _, j = s.get(f"/artifacts/{bad}")
        check(st in (400, 404) and detail_is_str(j) and (st == 400 or bad == "widget:canvas"),
              f"bad id {bad} -> {st}")
    st, _, j = s.get("/artifacts/skill:dup")
    check(st == 400 and "ambiguous" in j["detail"], "ambiguous id -> 400")
    st, _, j = s.get("/artifacts/work%2Fskill:dup")
    check(st == 200 and j["id"] == "work/skill:dup" and j["collection"] == "work",
          "collection/type:name id")
    st, _, j = s.get("/artifacts/skill:dup?collection=work")
    check(st == 200 and j["id"] == "work/skill:dup", "?collection= disambiguates")


def uc_create(s, name, **kw):
    st, _, j = s.json("POST", "/user-collections", {"name": name, **kw})
    check(st == 201, f"POST /user-collections {name!r} -> 201 ({st} {j})")
    return j


def test_user_collections(s, home):
    uc_file = os.path.join(home, "user-collections.toml")
    st, h, j = s.get("/user-collections")
    check(st == 200 and j["page_info"]["total_count"] == 1 and j["items"][0]["id"] == "default",
          "only the default collection at first")
    d = j["items"][0]
    check(set(d) == {"id", "name", "description", "created_by", "collection_type",
                     "context_category", "created_at", "updated_at", "group_count",
                     "artifact_count"} and d["name"] == "Default Collection"
          and d["artifact_count"] == 6 and d["group_count"] == 0 and d["created_by"] is None,
          "UserCollectionResponse fields")
    a = uc_create(s, "Frontend", description="UI work", collection_type="artifacts",
                  context_category="web")
    check(len(a["id"]) == 32 and a["artifact_count"] == 0 and a["description"] == "UI work"
          and a["collection_type"] == "artifacts" and a["context_category"] == "web",
          "created collection body")
    with open(uc_file) as f:
        check(a["id"] in f.read(), "persisted to user-collections.toml")
    b = uc_create(s, "Backend", collection_type="context")
    c = uc_create(s, "Zeta")

    st, _, j = s.json("POST", "/user-collections", {"name": "Frontend"})
    check(st == 409 and j["detail"] == "Collection with name 'Frontend' already exists",
          "duplicate name -> 409")
    st, _, j = s.json("POST", "/user-collections", {"name": "Default Collection"})
    check(st == 409, "the default collection's name -> 409")
    st, _, j = s.json("POST", "/user-collections", {"description": "x"})
    check(is_422(st, j, "name"), "missing name -> 422 FastAPI shape")
    st, _, j = s.json("POST", "/user-collections", {"name": 5})
    check(is_422(st, j, "name"), "non-string name -> 422")
    st, _, j = s.json("POST", "/user-collections", {"name": ""})
    check(is_422(st, j, "name"), "empty name -> 422")
    st, _, j = s.json("POST", "/user-collections", {"name": "x" * 256})
    check(is_422(st, j, "name"), "name over 255 -> 422")
    st, _, j = s.json("POST", "/user-collections", {"name": "bad\nname"})
    check(is_422(st, j), "control character in name -> 422")
    st, _, j = s.json("POST", "/user-collections", "{not json")
    check(is_422(st, j), "malformed JSON -> 422")
    st, _, j = s.json("POST", "/user-collections", [1])
    check(is_422(st, j), "non-object body -> 422")

    st, _, j = s.get("/user-collections")
    ids = [i["id"] for i in j["items"]]
    check(j["page_info"]["total_count"] == 4 and ids == sorted(ids), "list in id order")
    seen, after = [], None
    while True:
        st, _, j = s.get("/user-collections?limit=1" + (f"&after={after}" if after else ""))
        check(st == 200 and len(j["items"]) == 1, "user collection page of 1")
        seen.append(j["items"][0]["id"])
        check(j["page_info"]["start_cursor"] == b64(seen[-1]), "start_cursor = base64(id)")
        if not j["page_info"]["has_next_page"]:
            break
        after = urllib.parse.quote(j["page_info"]["end_cursor"])
    check(seen == ids, "keyset pages cover every collection")
    st, _, j = s.get("/user-collections?search=END")
    check([i["name"] for i in j["items"]] == ["Backend", "Frontend"]
          or sorted(i["name"] for i in j["items"]) == ["Backend", "Frontend"],
          "search: case-insensitive substring")
    st, _, j = s.get("/user-collections?collection_type=context")
    check([i["id"] for i in j["items"]] == [b["id"]], "collection_type filter")
    for bad in ("0", "101", "abc"):
        st, _, j = s.get(f"/user-collections?limit={bad}")
        check(st == 400 and detail_is_str(j), f"limit={bad} -> 400")
    st, _, j = s.get("/user-collections?after=!!")
    check(st == 400 and detail_is_str(j), "bad cursor -> 400")

    st, h, j = s.get(f"/user-collections/{a['id']}")
    check(st == 200 and j["groups"] == [] and j["name"] == "Frontend", "GET {id} with groups []")
    st, _, j = s.get("/user-collections/nope")
    check(st == 404 and j["detail"] == "Collection 'nope' not found", "GET unknown -> 404")
    st, _, j = s.get("/user-collections/nope", headers={"If-None-Match": h["ETag"]})
    check(st == 404, "GET unknown with a current ETag -> still 404")
    st, _, _ = s.request("GET", f"/user-collections/{a['id']}", headers={"If-None-Match": h["ETag"]})
    check(st == 304, "GET {id} If-None-Match -> 304")
    st, _, j = s.get("/user-collections/default")
    check(st == 200 and j["collection_type"] == "default", "GET default")

    st, _, j = s.get("/user-collections/cache-stats")
    check(st == 200 and {"total_artifacts", "stale_count", "fresh_count", "oldest_sync_age_seconds",
                         "percentage_stale", "ttl_seconds", "count_cache"} <= set(j)
          and j["total_artifacts"] == 6 and j["ttl_seconds"] == 1800
          and set(j["count_cache"]) == {"size", "ttl_seconds", "hits", "misses", "hit_rate"}
          and j["count_cache"]["ttl_seconds"] == 3600, "cache-stats is reachable")
    st, _, j = s.get("/user-collections/cache-stats?ttl_seconds=5")
    check(st == 400, "cache-stats ttl_seconds out of range -> 400")

    # PUT
    st, _, j = s.json("PUT", f"/user-collections/{c['id']}", {"name": "Omega",
                                                            "description": "last"})
    check(st == 200 and j["name"] == "Omega" and j["description"] == "last"
          and j["collection_type"] is None, "PUT partial update")
    st, _, j = s.json("PUT", f"/user-collections/{c['id']}", {})
    check(st == 400 and j["detail"] == "At least one update parameter must be provided",
          "empty PUT -> 400")
    st, _, j = s.json("PUT", f"/user-collections/{c['id']}", {"name": "Frontend"})
    check(st == 409 and detail_is_str(j), "PUT name clash -> 409")
    st, _, j = s.json("PUT", "/user-collections/default", {"name": "x"})
    check(st == 409 and detail_is_str(j), "PUT default -> 409")
    st, _, j = s.json("PUT", "/user-collections/0123456789abcdef0123456789abcdef", {"name": "q"})
    check(st == 404, "PUT unknown -> 404")
    st, _, j = s.json("PUT", f"/user-collections/{c['id']}", {"name": 3})
    check(is_422(st, j, "name"), "PUT bad type -> 422")
    # DELETE
    st, _, j = s.json("DELETE", "/user-collections/default")
    check(st == 409 and detail_is_str(j), "DELETE default -> 409")
    st, _, j = s.json("DELETE", "/user-collections/0123456789abcdef0123456789abcdef")
    check(st == 404, "DELETE unknown -> 404")
    st, _, _ = s.request("DELETE", f"/user-collections/{c['id']}")
    check(st == 204, "DELETE -> 204")
    st, _, _ = s.get(f"/user-collections/{c['id']}")
    check(st == 404, "deleted collection is gone")
    with open(uc_file) as f:
        check(c["id"] not in f.read(), "and gone from user-collections.toml")
    return a, b


def members_of(s, cid):
    st, _, j = s.get(f"/user-collections/{cid}/artifacts?limit=100")
    check(st == 200, f"GET {cid}/artifacts")
    return j


def test_membership(s, home, a, b):
    uc_file = os.path.join(home, "user-collections.toml")
    st, _, j = s.json("POST", f"/user-collections/{a['id']}/artifacts",
                      {"artifact_ids": ["skill:canvas", "agent:reviewer.md", "skill:ghost",
                                        "work/skill:dup"]})
    check(st == 201 and j == {"collection_id": a["id"], "added_count": 3,
                              "already_present_count": 0, "total_artifacts": 3,
                              "not_found": ["skill:ghost"]}, f"POST members -> 201 {j}")
    st, _, j = s.get(f"/user-collections/{a['id']}")
    check(j["artifact_count"] == 3, "artifact_count fresh right after the add")
    st, _, j = s.json("POST", f"/user-collections/{a['id']}/artifacts",
                      {"artifact_ids": ["skill:canvas"]})
    check(st == 200 and j["added_count"] == 0 and j["already_present_count"] == 1
          and j["total_artifacts"] == 3, "nothing added -> 200")
    with open(uc_file) as f:
        before = f.read()
    for body, what in (({"artifact_ids": []}, "empty list"), ({}, "missing field"),
                       ({"artifact_ids": "skill:canvas"}, "not a list"),
                       ({"artifact_ids": [1]}, "not strings")):
        st, _, j = s.json("POST", f"/user-collections/{a['id']}/artifacts", body)
        check(is_422(st, j, "artifact_ids"), f"{what} -> 422")
    st, _, j = s.json("POST", f"/user-collections/{a['id']}/artifacts",
                      {"artifact_ids": ["skill:pdf", "skill:../../etc"]})
    check(st == 400 and detail_is_str(j), "a path trick in the ids -> 400")
    st, _, j = s.json("POST", f"/user-collections/{a['id']}/artifacts",
                      {"artifact_ids": ["skill:pdf", "skill:dup"]})
    check(st == 400 and "ambiguous" in j["detail"], "an ambiguous id -> 400")
    with open(uc_file) as f:
        check(f.read() == before, "nothing written on those errors")
    st, _, j = s.json("POST", "/user-collections/default/artifacts",
                      {"artifact_ids": ["skill:pdf"]})
    check(st == 409, "membership change of default -> 409")
    st, _, j = s.json("POST", "/user-collections/0123456789abcdef0123456789abcdef/artifacts",
                      {"artifact_ids": ["skill:pdf"]})
    check(st == 404, "add to unknown collection -> 404")

    j = members_of(s, a["id"])
    check([i["id"] for i in j["items"]] == ["agent:reviewer", "skill:canvas", "work/skill:dup"]
          and j["page_info"]["total_count"] == 3, "collection artifacts page")
    item = j["items"][1]
    check({"id", "name", "type", "version", "source", "description", "author", "tags", "tools",
           "origin", "origin_source", "collections", "deployments"} <= set(item)
          and item["description"] == "Draw on a canvas" and item["author"] == "Ann"
          and item["tools"] == ["Read", "Write"], "ArtifactSummary fields")
    colls = {c["id"]: c["artifact_count"] for c in item["collections"]}
    check(colls == {"default": 6, a["id"]: 3}, f"collections[].artifact_count {colls}")
    check("groups" not in item, "no groups[] unless include_groups")
    st, _, j = s.get(f"/user-collections/{a['id']}/artifacts?include_groups=true")
    check(all(i["groups"] == [] for i in j["items"]), "include_groups=true -> groups []")
    st, _, j = s.get(f"/artifacts?collection={a['id']}")
    check(st == 200 and [i["id"] for i in j["items"]] == ["agent:reviewer", "skill:canvas",
                                                         "work/skill:dup"],
          "/artifacts?collection=<user collection id>")
    st, _, j = s.get(f"/user-collections/{a['id']}/artifacts?artifact_type=agent")
    check([i["id"] for i in j["items"]] == ["agent:reviewer"], "artifact_type filter")
    st, _, j = s.get(f"/user-collections/{a['id']}/artifacts?search=draw")
    check([i["id"] for i in j["items"]] == ["skill:canvas"], "search filter")
    st, _, j = s.get(f"/user-collections/{a['id']}/artifacts?tags=review")
    check([i["id"] for i in j["items"]] == ["agent:reviewer"], "tags filter")
    st, _, j = s.get(f"/user-collections/{a['id']}/artifacts?limit=2")
    check(len(j["items"]) == 2 and j["page_info"]["has_next_page"], "limit 2")
    st, _, j2 = s.get(f"/user-collections/{a['id']}/artifacts?limit=2&after="
                      + urllib.parse.quote(j["page_info"]["end_cursor"]))
    check([i["id"] for i in j2["items"]] == ["work/skill:dup"]
          and j2["page_info"]["has_previous_page"], "next page by cursor")
    st, _, j = s.get(f"/user-collections/{a['id']}/artifacts?limit=101")
    check(st == 400, "limit 101 -> 400")
    st, _, j = s.get("/user-collections/nope/artifacts")
    check(st == 404, "artifacts of unknown collection -> 404")

    st, _, _ = s.request("DELETE", f"/user-collections/{a['id']}/artifacts/agent:reviewer")
    check(st == 204, "DELETE member -> 204")
    st, _, j = s.get(f"/user-collections/{a['id']}")
    check(j["artifact_count"] == 2, "count fresh right after the removal")
    st, _, _ = s.request("DELETE", f"/user-collections/{a['id']}/artifacts/agent:reviewer")
    check(st == 204, "DELETE again -> 204 (idempotent)")
    st, _, _ = s.request("DELETE", f"/user-collections/{a['id']}/artifacts/skill:ghost")
    check(st == 204, "DELETE unknown artifact -> 204")
    st, _, _ = s.request("DELETE", "/user-collections/nope/artifacts/skill:canvas")
    check(st == 404, "DELETE member of unknown collection -> 404")
    st, _, _ = s.request("DELETE", "/user-collections/default/artifacts/skill:canvas")
    check(st == 409, "DELETE member of default -> 409")

    # refresh-cache and migrate
    st, _, j = s.json("POST", f"/user-collections/{a['id']}/refresh-cache")
    check(st == 200 and set(j) == {"collection_id", "updated_count", "skipped_count", "errors"}
          and j["collection_id"] == a["id"] and j["errors"] == [], f"refresh-cache one {j}")
    st, _, j = s.json("POST", "/user-collections/nope/refresh-cache")
    check(st == 404 and j["detail"]["error"] == "collection_not_found"
          and j["detail"]["collection_id"] == "nope", "refresh-cache unknown -> 404 object")
    st, _, j = s.json("POST", "/user-collections/refresh-cache")
    check(st == 200 and j["success"] is True and j["collections_refreshed"] == 3
          and {"total_updated", "total_skipped", "errors", "duration_seconds"} <= set(j),
          f"refresh-cache all {j}")
    s.get("/user-collections")
    s.get("/user-collections")
    st, _, data = s.request("GET", "/metrics")
    text = data.decode()
    entries = [ln for ln in text.splitlines()
               if ln.startswith('skillmeat_cache_entries{cache="count"}')]
    hits = [ln for ln in text.splitlines()
            if ln.startswith('skillmeat_cache_hits_total{cache="count"}')]
    check(st == 200 and entries and float(entries[0].split()[-1]) > 0 and hits
          and float(hits[0].split()[-1]) > 0, "count cache entries and hits in /metrics")
    st, _, j = s.json("POST", "/user-collections/migrate-to-default")
    check(st == 200 and j["success"] and j["total_artifacts"] == 6 and j["migrated_count"] == 0
          and j["already_present_count"] == 6 and "metadata_cache" in j,
          f"migrate-to-default is idempotent {j}")


def count_metrics(s):
    """The count cache's series of /metrics, by name."""
    st, _, data = s.request("GET", "/metrics")
    check(st == 200, "GET /metrics")
    return {ln.rsplit(" ", 1)[0]: float(ln.rsplit(" ", 1)[1])
            for ln in data.decode().splitlines()
            if ln.startswith("skillmeat_cache_") and '{cache="count"}' in ln}


def test_freshness(s, home, src, a):
    """CLI and API mutations are seen by the very next request; no stale 304."""
    st, h, j = s.get("/artifacts")
    etag = h["ETag"]
    st, hu, _ = s.get("/user-collections")
    uetag = hu["ETag"]
    d = next(i for i in _["items"] if i["id"] == "default")
    check(d["artifact_count"] == 6, "default count cached at 6")

    # another connection's commit that moves no revision (a folder's walk
    # record written by a warm sync) keeps the counts: only the revision does
    m0 = count_metrics(s)
    db = sqlite3.connect(os.path.join(home, "cache", "metadata.db"), timeout=30)
    with db:
        db.execute("UPDATE artifacts SET synced_at = synced_at + 1"
                   " WHERE id = (SELECT min(id) FROM artifacts)")
    db.close()
    s.get("/user-collections")
    s.get("/user-collections")
    m1 = count_metrics(s)
    inv, hits = 'skillmeat_cache_invalidations_total{cache="count"}', \
        'skillmeat_cache_hits_total{cache="count"}'
    check(m1.get(inv) == m0.get(inv) and m1.get(hits, 0) > m0.get(hits, 0),
          f"a commit that moves no revision keeps the counts cached {m0} {m1}")

    cli(home, "add", "skill", f"{src}/late")
    st, h, j = s.get("/artifacts", headers={"If-None-Match": etag})
    check(st == 200 and h["ETag"] != etag, "after a CLI add: no stale 304 on /artifacts")
    late = [i for i in j["items"] if i["id"] == "skill:late"]
    check(late and late[0]["metadata"]["description"] == "Added while serving"
          and late[0]["metadata"]["author"] == "Bob" and late[0]["metadata"]["license"] == "ISC"
          and late[0]["tags"] == ["fresh"] and late[0]["metadata"]["tools"] == ["Grep"],
          "CLI add -> listed with full metadata on the next request")
    st, h, j = s.get("/user-collections", headers={"If-None-Match": uetag})
    d = next(i for i in j["items"] if i["id"] == "default")
    check(st == 200 and d["artifact_count"] == 7, "count fresh after a CLI add (TTL 3600)")
    etag = h["ETag"]
    # new connections land on either loop thread: every one sees the commit
    counts = set()
    for _ in range(12):
        st, _, j = s.get("/user-collections/default")
        counts.add(j["artifact_count"])
    check(counts == {7}, f"every loop thread sees the CLI commit {counts}")

    p = cli(home, "--json", "user-collection", "add", a["id"], "skill:late")
    st, h, j = s.get(f"/user-collections/{a['id']}", headers={"If-None-Match": etag})
    check(st == 200 and j["artifact_count"] == 3, "count fresh after a CLI uc add")
    st, h, j = s.get("/artifacts/skill:late")
    colls = {c["id"]: c["artifact_count"] for c in j["collections"]}
    check(colls == {"default": 7, a["id"]: 3}, "detail collections[] fresh")
    detag = h["ETag"]

    st, _, _ = s.json("POST", f"/user-collections/{a['id']}/artifacts",
                      {"artifact_ids": ["skill:pdf"]})
    st, h, j = s.get("/artifacts/skill:late", headers={"If-None-Match": detag})
    check(st == 200 and {c["id"]: c["artifact_count"] for c in j["collections"]}[a["id"]] == 4,
          "detail: no stale 304 after an API membership change")

    cli(home, "user-collection", "remove", a["id"], "skill:late")
    st, _, j = s.get(f"/user-collections/{a['id']}")
    check(j["artifact_count"] == 3, "count fresh after a CLI uc remove")

    cli(home, "remove", "skill:late")
    st, _, j = s.get("/user-collections")
    d = next(i for i in j["items"] if i["id"] == "default")
    check(d["artifact_count"] == 6, "count fresh after a CLI remove")
    st, _, _ = s.get("/artifacts/skill:late")
    check(st == 404, "removed by the CLI -> 404")

    # a hand-made user collection by the CLI shows at once
    p = cli(home, "--json", "user-collection", "create", "FromCLI")
    cid = json.loads(p.stdout)["id"]
    st, _, j = s.get(f"/user-collections/{cid}")
    check(st == 200 and j["name"] == "FromCLI" and j["artifact_count"] == 0,
          "CLI-created collection visible on the next request")

    # API delete of an artifact
    st, h, j = s.get("/artifacts")
    etag = h["ETag"]
    st, _, j = s.get(f"/user-collections/{a['id']}")
    n_a = j["artifact_count"]
    st, _, _ = s.request("DELETE", "/artifacts/skill:canvas")
    check(st == 204, "DELETE /artifacts/{id} -> 204")
    check(not os.path.exists(os.path.join(home, "collections/default/skills/canvas")),
          "its files are gone")
    with open(os.path.join(home, "collections/default/collection.toml")) as f:
        check("canvas" not in f.read(), "its manifest entry is gone")
    with open(os.path.join(home, "collections/default/collection.lock")) as f:
        check("canvas" not in f.read(), "its lock entry is gone")
    with open(os.path.join(home, "user-collections.toml")) as f:
        check("skill:canvas" not in f.read(), "its memberships are gone")
    st, h, j = s.get("/artifacts", headers={"If-None-Match": etag})
    check(st == 200 and "skill:canvas" not in [i["id"] for i in j["items"]],
          "no stale 304 after DELETE")
    st, _, j = s.get(f"/user-collections/{a['id']}")
    check(j["artifact_count"] == n_a - 1, "counts invalidated by DELETE")
    st, _, j = s.get("/user-collections/default")
    check(j["artifact_count"] == 5, "default count after DELETE")
    st, _, j = s.json("DELETE", "/artifacts/skill:canvas")
    check(st == 404 and detail_is_str(j), "DELETE again -> 404")
    st, _, j = s.json("DELETE", "/artifacts/skill:..%2Fx")
    check(st == 400, "DELETE path trick -> 400")
    st, _, j = s.json("DELETE", "/artifacts/skill:dup")
    check(st == 400, "DELETE ambiguous -> 400")
    st, _, _ = s.request("DELETE", "/artifacts/skill:dup?collection=work")
    check(st == 204, "DELETE with ?collection")
    st, _, j = s.get("/artifacts/skill:dup")
    check(st == 200 and j["id"] == "skill:dup", "the other one is no longer ambiguous")


def flag_stale(home, name):
    """What the watcher does on a change: flag the row (white box, the cache's schema)."""
    db = sqlite3.connect(os.path.join(home, "cache", "metadata.db"), timeout=30)
    with db:
        db.execute("UPDATE artifacts SET stale = 1 WHERE name = ?", (name,))
    db.close()


def test_read_repair(s, home, a):
    """A row flagged stale is re-read from the files before the answer."""
    path = os.path.join(home, "collections/default/skills/pdf/SKILL.md")
    st, h, j = s.get("/artifacts/skill:pdf")
    etag = h["ETag"]
    write(path, "---\nname: pdf\ndescription: Edited by hand\ntags: [docs]\ntools: [Bash]\n---\nx\n")
    flag_stale(home, "pdf")
    st, h, j = s.get("/artifacts/skill:pdf", headers={"If-None-Match": etag})
    check(st == 200 and j["metadata"]["description"] == "Edited by hand" and h["ETag"] != etag,
          "detail: a stale row is repaired before answering (no stale 304)")
    write(path, "---\nname: pdf\ndescription: Edited again\ntags: [docs]\ntools: [Bash]\n---\nx\n")
    flag_stale(home, "pdf")
    st, _, j = s.get("/artifacts?artifact_type=skill")
    d = {i["id"]: i for i in j["items"]}
    check(st == 200 and d["skill:pdf"]["metadata"]["description"] == "Edited again",
          "list: stale rows repaired before answering")
    write(path, "---\nname: pdf\ndescription: Third edit\ntags: [docs]\ntools: [Bash]\n---\nx\n")
    flag_stale(home, "pdf")
    st, _, j = s.get(f"/user-collections/{a['id']}/artifacts")
    d = {i["id"]: i for i in j["items"]}
    check(st == 200 and d["skill:pdf"]["description"] == "Third edit",
          "collection page: stale rows repaired before answering")


def no_stale_304(s, paths, action, what):
    """After action, a 304 for an old ETag is only allowed when the body is unchanged."""
    before = {}
    for p in paths:
        st, h, data = s.request("GET", p)
        before[p] = (h["ETag"], data)
    action()
    stale = []
    for p in paths:
        st, h, _ = s.request("GET", p, headers={"If-None-Match": before[p][0]})
        st2, _, data = s.request("GET", p)
        if st == 304 and data != before[p][1]:
            stale.append(p)
    check(not stale, f"no stale 304 after {what} {stale}")


def test_no_stale_304(s, home, src, a):
    cid = a["id"]
    paths = ["/user-collections", f"/user-collections/{cid}", f"/user-collections/{cid}/artifacts",
             "/user-collections/default/artifacts", "/artifacts", "/artifacts/skill:pdf",
             "/artifacts/agent:reviewer"]
    holder = {}

    def api_create():
        holder["b"] = s.json("POST", "/user-collections", {"name": "Fresh"})[2]["id"]

    steps = [
        (api_create, "API create"),
        (lambda: s.json("PUT", f"/user-collections/{cid}", {"description": "changed"}),
         "API PUT"),
        (lambda: s.json("POST", f"/user-collections/{cid}/artifacts",
                        {"artifact_ids": ["agent:reviewer"]}), "API add member"),
        (lambda: s.request("DELETE", f"/user-collections/{cid}/artifacts/agent:reviewer"),
         "API remove member"),
        (lambda: s.request("DELETE", f"/user-collections/{holder['b']}"), "API delete collection"),
        (lambda: cli(home, "add", "command", f"{src}/later.md"), "CLI add"),
        (lambda: cli(home, "user-collection", "add", cid, "command:later"), "CLI uc add"),
        (lambda: cli(home, "user-collection", "rename", cid, "Frontend2"), "CLI uc rename"),
        (lambda: cli(home, "user-collection", "remove", cid, "command:later"), "CLI uc remove"),
        (lambda: cli(home, "remove", "command:later"), "CLI remove"),
        (lambda: s.json("POST", "/user-collections/refresh-cache"), "API refresh-cache"),
        (lambda: s.json("POST", "/user-collections/migrate-to-default"), "API migrate"),
        (lambda: s.request("DELETE", "/artifacts/command:deploy"), "API delete artifact"),
    ]
    for fn, what in steps:
        no_stale_304(s, paths, fn, what)
    # and the ETags do hold when nothing changed
    tags = {p: s.request("GET", p)[1]["ETag"] for p in paths}
    codes = {p: s.request("GET", p, headers={"If-None-Match": tags[p]})[0] for p in paths}
    check(set(codes.values()) == {304}, f"unchanged -> 304 everywhere {codes}")


def etag_holds(s, path, what):
    """path answers 200 with an ETag and 304 to If-None-Match with it."""
    st, h, data = s.request("GET", path)
    check(st == 200 and h["ETag"], f"{what}: 200 with an ETag ({st}, {h['ETag']})")
    tag = h["ETag"] or '"none"'
    st2, _, data2 = s.request("GET", path, headers={"If-None-Match": tag})
    check(st2 == 304 and data2 == b"", f"{what}: If-None-Match -> 304 ({st2})")
    return tag


def etag_moved(s, path, tag, what):
    """After a change, the old ETag gets the new answer (200), not 304."""
    st, h, data = s.request("GET", path, headers={"If-None-Match": tag})
    check(st == 200 and h["ETag"] and h["ETag"] != tag, f"{what}: the old ETag -> 200 ({st})")
    return json.loads(data)


def test_spec_paths(s, home, src):
    """spec/API.md Conventions: 400 for query parameters, ETag on every GET,
    <collection>/<type>:<name> ids unencoded in paths."""
    cli(home, "collection", "create", "alt")
    cli(home, "add", "--collection", "alt", "skill", f"{src}/dup")
    # a missing query parameter is 400 {"detail": str}, not 422 with loc "body"
    for q in ("/deployments", "/deployments?project_path="):
        st, _, j = s.get(q)
        check(st == 400 and detail_is_str(j), f"GET {q} -> 400 detail ({st} {j})")
    # qualified ids unencoded: every /artifacts/{id}... route
    for coll in ("default", "alt"):
        st, _, j = s.get(f"/artifacts/{coll}/skill:dup")
        st2, _, j2 = s.get(f"/artifacts/{coll}%2Fskill:dup")
        check(st == 200 and j["id"] == f"{coll}/skill:dup" and j == j2,
              f"GET /artifacts/{coll}/skill:dup = the %2F form ({st})")
        st, _, j = s.get(f"/artifacts/{coll}/skill:dup/files")
        check(st == 200 and j["artifact_id"] == f"{coll}/skill:dup"
              and j["collection_name"] == coll, f"/artifacts/{coll}/skill:dup/files ({st})")
    dup = os.path.join(home, "collections/alt/skills/dup")
    write(os.path.join(dup, "notes/a:b.md"), "colon\n")
    st, _, j = s.get("/artifacts/alt/skill:dup/files/notes/a:b.md")
    check(st == 200 and j["content"] == "colon\n", f"a file path with ':' under a qualified id ({st})")
    write(os.path.join(home, "collections/default/skills/pdf/x:y.md"), "xy\n")
    st, _, j = s.get("/artifacts/skill:pdf/files/x:y.md")
    check(st == 200 and j["content"] == "xy\n", f"a file path with ':' ({st})")
    st, _, j = s.json("PUT", "/artifacts/alt/skill:dup", {"tags": ["worktag"]})
    check(st == 200 and j["id"] == "alt/skill:dup" and j["tags"] == ["worktag"],
          f"PUT /artifacts/alt/skill:dup ({st} {j})")
    st, _, j = s.get("/artifacts/default/skill:dup")
    check(j["tags"] == [], "the other collection's dup is untouched")
    st, _, j = s.json("PUT", "/artifacts/alt/skill:dup/metadata", {"description": "Work copy"})
    check(st == 200, f"PUT /artifacts/alt/skill:dup/metadata ({st} {j})")
    st, _, j = s.get("/artifacts/alt%2Fskill:dup")
    check(j["metadata"]["description"] == "Work copy", "the metadata edit reached alt's dup")
    st, _, j = s.get("/artifacts/default/skill:dup/archive")
    check(st == 404 and "team server" in j["detail"], f"/archive routed ({j})")
    # deployments: ETag over what the answer depends on, the project's files included
    proj = os.path.join(TMP, "proj-spec")
    os.makedirs(proj)
    st, _, j = s.json("POST", "/artifacts/alt/skill:dup/deploy", {"project_path": proj})
    check(st == 200, f"POST /artifacts/alt/skill:dup/deploy ({st} {j})")
    dpath = "/deployments?project_path=" + urllib.parse.quote(proj)
    st, _, j = s.get(dpath)
    check(st == 200 and [(d["artifact_id"], d["collection"], d["status"]) for d in j["deployments"]]
          == [("skill:dup", "alt", "synced")], f"deployed from alt ({j})")
    tag = etag_holds(s, dpath, "GET /deployments")
    deployed = [os.path.join(r, f) for r, _, fs in os.walk(proj) for f in fs if f == "SKILL.md"]
    with open(deployed[0], "a") as f:
        f.write("local edit\n")
    j = etag_moved(s, dpath, tag, "GET /deployments after a local edit")
    check(j["deployments"][0]["status"] == "modified", "and says modified")
    st, _, j = s.json("POST", "/artifacts/alt/skill:dup/sync",
                      {"project_path": proj, "strategy": "theirs"})
    check(st == 200, f"POST /artifacts/alt/skill:dup/sync ({st} {j})")
    st, _, j = s.json("POST", "/artifacts/alt/skill:dup/undeploy", {"project_path": proj})
    check(st == 200, f"POST /artifacts/alt/skill:dup/undeploy ({st} {j})")
    # files: ETags follow the files, not only the DB
    fpath = "/artifacts/skill:pdf/files/SKILL.md"
    tag = etag_holds(s, fpath, "GET a file")
    with open(os.path.join(home, "collections/default/skills/pdf/SKILL.md"), "a") as f:
        f.write("more\n")
    j = etag_moved(s, fpath, tag, "GET a file after an edit")
    check(j["content"].endswith("more\n"), "with the new text")
    tpath = "/artifacts/skill:pdf/files"
    tag = etag_holds(s, tpath, "GET the files")
    write(os.path.join(home, "collections/default/skills/pdf/new.md"), "n\n")
    j = etag_moved(s, tpath, tag, "GET the files after a new file")
    check("new.md" in json.dumps(j), "with the new file")
    # cache-stats: its ages move with the clock; the ETag is the answer's own
    st, h, data = s.request("GET", "/user-collections/cache-stats")
    check(st == 200 and h["ETag"], "cache-stats has an ETag")
    st, h2, data2 = s.request("GET", "/user-collections/cache-stats",
                              headers={"If-None-Match": h["ETag"] or '"none"'})
    check((st == 304 and data2 == b"") or (st == 200 and h2["ETag"] != h["ETag"] and data2 != data),
          f"cache-stats: 304 only for the same answer ({st})")
    empty = os.path.join(TMP, "empty-spec")
    cli(empty, "init")
    e = Server(empty)
    etag_holds(e, "/user-collections/cache-stats", "cache-stats of an unchanged home")
    e.stop()
    # membership by an unencoded qualified id, then DELETE
    st, _, uc = s.json("POST", "/user-collections", {"name": "Spec paths"})
    st, _, j = s.json("POST", f"/user-collections/{uc['id']}/artifacts",
                      {"artifact_ids": ["alt/skill:dup"]})
    check(st == 201 and j["added_count"] == 1, f"alt/skill:dup added ({j})")
    st, _, _ = s.request("DELETE", f"/user-collections/{uc['id']}/artifacts/alt/skill:dup")
    st2, _, j = s.get(f"/user-collections/{uc['id']}/artifacts")
    check(st == 204 and j["items"] == [], f"DELETE .../artifacts/alt/skill:dup ({st} {j})")
    st, _, _ = s.request("DELETE", "/artifacts/alt/skill:dup")
    check(st == 204 and s.get("/artifacts/alt/skill:dup")[0] == 404
          and s.get("/artifacts/skill:dup")[0] == 200, f"DELETE /artifacts/alt/skill:dup ({st})")


def test_rate_limit(src):
    home = os.path.join(TMP, "rl")
    cli(home, "add", "skill", f"{src}/pdf")
    s = Server(home)
    codes = [s.json("POST", "/user-collections/refresh-cache")[0] for _ in range(6)]
    check(codes[:5] == [200] * 5 and codes[5] == 429, f"refresh-cache token bucket {codes}")
    st, _, j = s.json("POST", "/user-collections", {"name": "Kept"})
    check(st == 201, "create")
    uc = os.path.join(home, "user-collections.toml")
    write(uc, "[[collections]\nbroken")
    st, _, j = s.json("POST", "/user-collections", {"name": "New"})
    check(st == 500 and "malformed" in j["detail"], "a malformed user-collections.toml -> 500")
    # the message names the file and the line (issue 8: errors users can act on)
    check("user-collections.toml" in j["detail"] and "line 1" in j["detail"],
          f"the create's error names the file and the line: {j}")
    # removing an artifact reads it too: the same answer, not "Internal server error"
    # (its -EBADMSG was turned into -EIO)
    st, _, j = s.json("DELETE", "/artifacts/skill:pdf")
    check(st == 500 and "user-collections.toml" in str(j.get("detail"))
          and "line 1" in str(j.get("detail")),
          f"DELETE with a malformed user-collections.toml names the file and the line: {st} {j}")
    check(os.path.isdir(os.path.join(home, "collections", "default", "skills", "pdf")),
          "and the artifact is still there")
    with open(uc) as f:
        check(f.read() == "[[collections]\nbroken", "and it is left untouched")
    st, _, j = s.get("/user-collections")
    check(st == 200 and [i["name"] for i in j["items"]].count("Kept") == 1,
          "reads still answer from the cache")
    rc, out, _ = s.stop()
    check(rc == 0, "stopped")
    os.unlink(uc)
    # server.* settings from the environment (config.toml keys)
    s = Server(home, env={"SKILLMEAT_SERVER_RATE_LIMIT_REFRESH_BURST": "2",
                          "SKILLMEAT_SERVER_MAX_BODY_BYTES": "200"})
    codes = [s.json("POST", "/user-collections/refresh-cache")[0] for _ in range(3)]
    check(codes == [200, 200, 429], f"server.rate-limit.refresh-burst from the env {codes}")
    st, _, j = s.json("POST", "/user-collections", {"name": "x", "description": "y" * 300})
    check(st == 413, f"server.max-body-bytes from the env ({st})")
    # and from config.toml
    rc, out, _ = s.stop()
    cli(home, "config", "set", "server.rate-limit.enabled", "false")
    s = Server(home)
    codes = {s.json("POST", "/user-collections/refresh-cache")[0] for _ in range(8)}
    check(codes == {200}, f"server.rate-limit.enabled = false in config.toml {codes}")
    rc, out, _ = s.stop()
    check(rc == 0 and out == "", "stopped")


HOSTILE_UC = """owner = "them"

[[collections]]
id = "a0000000000000000000000000000001"
name = "Good"
members = ["skill:canvas", 5, "gadget:x", "agent:reviewer"]

[collections.description]
nested = "a table where a string goes"

[[collections]]
id = "a0000000000000000000000000000002"
name = "Good"

[[collections]]
id = "NOT-HEX"
name = "Held"

[[collections]]
id = "a0000000000000000000000000000003"
name = 42

[[collections]]
id = "a0000000000000000000000000000004"
name = "Second"
members = "skill:canvas"

[[collections]]
id = "a0000000000000000000000000000005"
name = "Typed"
collection_type = ["x"]
"""
HOSTILE_WARNINGS = [
    "collections[0] ('Good'): members[1] ignored: not a string",
    "collections[0] ('Good'): members[2] ignored: artifact id 'gadget:x': unknown type 'gadget'",
    "collections[0] ('Good'): 'description' ignored: not a string",
    "collections[1] ('Good') ignored: name 'Good' is used twice",
    "collections[2] ('Held') ignored: id 'NOT-HEX' is not 32 lowercase hex digits",
    "collections[3] (id 'a0000000000000000000000000000003') ignored: 'name' is missing",
    "collections[4] ('Second'): 'members' ignored: not an array",
    "collections[5] ('Typed'): 'collection_type' ignored: not a string",
]


def test_hostile_user_collections(src):
    """Issue 11 point 6: an entry of user-collections.toml we cannot understand
    degrades that entry only. The server shows the others, warns once per
    problem, keeps such entries through its writes, and refuses the writes that
    could only drop one (nothing changed on disk)."""
    home = os.path.join(TMP, "hostile")
    cli(home, "add", "skill", f"{src}/canvas")
    cli(home, "add", "skill", f"{src}/pdf")
    cli(home, "add", "agent", f"{src}/reviewer.md")
    uc = os.path.join(home, "user-collections.toml")
    write(uc, HOSTILE_UC)
    good, second, typed = ("a0000000000000000000000000000001",
                           "a0000000000000000000000000000004",
                           "a0000000000000000000000000000005")
    s = Server(home, "--no-rate-limit", "--threads", "2")
    st, _, j = s.get("/user-collections")
    check(st == 200 and sorted(i["name"] for i in j["items"])
          == ["Default Collection", "Good", "Second", "Typed"],
          f"GET /user-collections: the entries understood {j}")
    check([i["description"] for i in j["items"] if i["id"] == good] == [None]
          and [i["collection_type"] for i in j["items"] if i["id"] == typed] == [None],
          "a field that is not a string reads as absent")
    st, _, j = s.get(f"/user-collections/{good}/artifacts")
    check(st == 200 and sorted(i["id"] for i in j["items"]) == ["agent:reviewer", "skill:canvas"],
          f"the members understood {j}")
    for bad in ("NOT-HEX", "a0000000000000000000000000000002", "a0000000000000000000000000000003"):
        st, _, _ = s.get(f"/user-collections/{bad}")
        check(st == 404, f"an entry left out is not served ({bad})")
    # refused writes change nothing
    st, _, j = s.json("POST", "/user-collections", {"name": "Held"})
    check(st == 409 and detail_is_str(j), f"a name held by an entry left out -> 409 {st} {j}")
    st, _, j = s.json("POST", f"/user-collections/{second}/artifacts",
                      {"artifact_ids": ["skill:pdf"]})
    check(st == 500 and "'members'" in str(j.get("detail")) and "Second" in str(j.get("detail")),
          f"adding to members that are not an array -> refused, naming it {st} {j}")
    with open(uc) as f:
        check(f.read() == HOSTILE_UC, "refused writes left the file as it was")
    # the others keep what they do not understand
    st, _, j = s.json("POST", f"/user-collections/{good}/artifacts", {"artifact_ids": ["skill:pdf"]})
    check(st == 201 and j["added_count"] == 1, f"add to Good {st} {j}")
    st, _, _ = s.request("DELETE", f"/user-collections/{good}/artifacts/agent:reviewer")
    check(st == 204, "remove from Good")
    st, _, j = s.json("PUT", f"/user-collections/{typed}", {"description": "typed"})
    check(st == 200 and j["description"] == "typed", "PUT Typed")
    st, _, j = s.json("POST", "/user-collections", {"name": "Fresh"})
    check(st == 201, "create Fresh")
    st, _, _ = s.request("DELETE", "/artifacts/skill:canvas")
    check(st == 204, "DELETE an artifact that Good holds")
    with open(uc, "rb") as f:
        new = tomllib.load(f)
    old = tomllib.loads(HOSTILE_UC)
    n, o = new["collections"], old["collections"]
    check(new["owner"] == "them" and n[1:5] == o[1:5]
          and n[0]["description"] == o[0]["description"]
          and n[0]["members"] == [5, "gadget:x", "skill:pdf"]
          and n[5]["collection_type"] == ["x"] and n[6]["name"] == "Fresh",
          f"every entry not understood kept in place through the writes {n}")
    st, _, j = s.get("/user-collections")
    check(sorted(i["name"] for i in j["items"])
          == ["Default Collection", "Fresh", "Good", "Second", "Typed"], "and listed after them")
    rc, _, err = s.stop()
    check(rc == 0, "stopped")
    for w in HOSTILE_WARNINGS:
        check(err.count(w) == 1, f"warned once: {w} ({err.count(w)} in {err[-2000:]!r})")


def main():
    src = make_sources()
    test_refusals(src)
    home = make_home(src)
    s = Server(home, "--no-rate-limit", "--threads", "2")
    test_startup(s, home)
    test_artifacts(s)
    a, b = test_user_collections(s, home)
    test_membership(s, home, a, b)
    test_freshness(s, home, src, a)
    test_read_repair(s, home, a)
    test_no_stale_304(s, home, src, a)
    test_spec_paths(s, home, src)
    rc, out, err = s.stop()
    check(rc == 0, f"SIGTERM -> exit 0 ({err[-500:]})")
    check(out == "", "nothing on stdout but the URL line")
    check(not os.path.exists(os.path.join(home, "server.json")), "server.json removed on exit")
    test_rate_limit(src)
    test_hostile_user_collections(src)
    apitest.finish()


if __name__ == "__main__":
    main()
