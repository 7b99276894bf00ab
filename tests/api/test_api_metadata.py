#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""PUT /api/v1/artifacts/{id}/metadata against the real `skillmeat serve`:
the file written first (frontmatter in place, body byte-identical), the
manifest and lock, the answer with its new ETag, optimistic locking (stale
If-Match / expected_revision and a hand edit the watcher has not seen yet
give 409 and write nothing), concurrent edits (exactly one wins), and bad
input (422 / 400 / 413, nothing on disk changed).

usage: test_api_metadata.py   (SKILLMEAT_BIN names the program)
"""
import http.client
import json
import os
import re
import sqlite3
import subprocess
import threading
import time
import tomllib
import urllib.parse

import apitest
from apitest import BIN, LIVE, Server, check, cli, fail, tree_sum, write

TMP, ENV = apitest.setup("sm-apim-", SKILLMEAT_SERVER_MAX_BODY_BYTES="65536",
                          SKILLMEAT_CACHE_COUNT_TTL_SECONDS="3600",
                          SKILLMEAT_GITHUB_URL="file://{tmp}/gh", GIT_CONFIG_NOSYSTEM="1",
                          HOME="{tmp}")


def is_422(st, j):
    return st == 422 and isinstance(j, dict) and "detail" in j


SKILL = ("---\nname: s1\n# a comment\ndescription: old\nmodel: sonnet\n---\n\n"
         "# S1\n\nThe body mentions kubectl.\n")


def read(p):
    with open(p, "rb") as f:
        return f.read()


def manifest_fp(coll):
    """The stat fingerprint the sync keeps of collection.toml and collection.lock."""
    out = ""
    for f in ("collection.toml", "collection.lock"):
        st = os.stat(os.path.join(coll, f))
        out += f"{st.st_ino}.{st.st_size}.{st.st_mtime_ns // 10**9}.{st.st_mtime_ns % 10**9:09d};"
    return out


def sync_state(home):
    db = sqlite3.connect(f"file:{home}/cache/metadata.db?mode=ro", uri=True)
    try:
        row = db.execute("SELECT files_fp FROM sync_state WHERE collection = 'default'").fetchone()
    finally:
        db.close()
    return row[0] if row else None


def watcher_lines(log, start):
    with open(log) as f:
        f.seek(start)
        return [ln for ln in f.read().splitlines() if "watcher: 'default' changed" in ln]


def wait_watcher(log, start, what):
    """The watcher's first refresh line after offset start (a generous deadline, not a timing check)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        lines = watcher_lines(log, start)
        if lines:
            return lines[0]
        time.sleep(0.05)
    fail(f"no watcher refresh after {what} within 60 s")


def own_writes(home, coll, fpath):
    """An edit keeps the index in step with the manifest it wrote (sync state
    included), so the watcher does not read the whole collection again for
    it; a hand edit still is read."""
    cli(home, "cache", "refresh")
    check(sync_state(home) == manifest_fp(coll), "after a refresh the sync state is the manifest's")
    cli(home, "edit", "skill:s1", "--description", "from the CLI")
    check(sync_state(home) == manifest_fp(coll),
          "after a CLI edit the sync state follows the manifest it wrote")
    log = os.path.join(TMP, "serve-debug.log")
    with open(log, "w") as lf:
        proc = subprocess.Popen([BIN, "serve", "--port", "0", "--no-rate-limit"],
                                env=dict(ENV, SKILLMEAT_HOME=home, SKILLMEAT_LOG_LEVEL="debug"),
                                stdout=subprocess.PIPE, stderr=lf, text=True)
    LIVE.append(proc)
    line = proc.stdout.readline()
    if not line.startswith("http://"):
        fail(f"serve did not start ({line!r})")
    u = urllib.parse.urlsplit(line.strip())
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    start = os.path.getsize(log)
    c.request("PUT", "/api/v1/artifacts/skill:s1/metadata", json.dumps({"description": "own"}),
              {"Content-Type": "application/json"})
    r = c.getresponse()
    r.read()
    check(r.status == 200, f"PUT with the watcher on -> {r.status}")
    got = wait_watcher(log, start, "the PUT")
    check(got.endswith("already indexed"), f"the watcher does not sync again for our own write ({got})")
    start = os.path.getsize(log)
    text = read(fpath).decode()
    check(re.search(r'^description: "?own"?$', text, re.M), f"the PUT wrote the file ({text!r})")
    write(fpath, re.sub(r'^description: .*$', "description: by hand", text, flags=re.M))
    got = wait_watcher(log, start, "a hand edit")
    check(not got.endswith("already indexed"), f"a hand edit is read again ({got})")
    c.request("GET", "/api/v1/artifacts/skill:s1")
    r = c.getresponse()
    j = json.loads(r.read())
    check(j["metadata"]["description"] == "by hand", f"the hand edit shows ({j['metadata']})")
    proc.terminate()
    check(proc.wait(30) == 0, "the debug server stops cleanly")


def main():
    home = os.path.join(TMP, "home")
    src = os.path.join(TMP, "src")
    write(os.path.join(src, "s1", "SKILL.md"), SKILL)
    write(os.path.join(src, "agents", "a1.md"), "---\nname: a1\ndescription: an agent\ntools: Read, Grep\n---\nPrompt.\n")
    write(os.path.join(src, "hooks", "h1.json"), "{}\n")
    cli(home, "add", os.path.join(src, "s1"))
    cli(home, "add", "agent", os.path.join(src, "agents", "a1.md"))
    coll = os.path.join(home, "collections", "default")
    fpath = os.path.join(coll, "skills", "s1", "SKILL.md")
    s = Server(home, "--no-rate-limit", "--threads", "2")
    path = "/artifacts/skill:s1/metadata"

    st, h, j = s.json("GET", "/artifacts/skill:s1")
    check(st == 200 and h.get("ETag"), "GET gives an ETag")
    etag = h["ETag"]

    # a successful edit: file first, answer with the new ETag
    st, h2, j = s.json("PUT", path, {"description": "null", "tags": ["x", "yes"], "title": "T: 1",
                                     "version": "2.0", "author": "Ann", "license": "MIT",
                                     "tools": ["read", "Bash"]}, {"If-Match": etag})
    check(st == 200, f"PUT metadata -> 200 ({st} {j})")
    check(h2.get("ETag") and h2["ETag"] != etag, "the answer carries a new ETag")
    check(j["metadata"]["description"] == "null" and j["tags"] == ["x", "yes"]
          and j["metadata"]["title"] == "T: 1" and j["metadata"]["version"] == "2.0",
          "the answer shows the new metadata")
    text = read(fpath).decode()
    check(text.endswith("---\n\n# S1\n\nThe body mentions kubectl.\n"), "the body is byte-identical")
    check("# a comment\nmodel: sonnet\n" in text or "# a comment\n" in text and "model: sonnet\n" in text,
          "comments and untouched keys are kept")
    import re
    import yaml
    d = yaml.safe_load(re.match(r"---\n(.*?)\n---", text, re.S).group(1))
    check(d["description"] == "null" and d["tags"] == ["x", "yes"] and d["version"] == "2.0"
          and d["title"] == "T: 1" and d["allowed-tools"] == ["Read", "Bash"],
          "PyYAML reads back exactly what was set")
    with open(os.path.join(coll, "collection.toml"), "rb") as f:
        man = tomllib.load(f)
    e = [a for a in man["artifacts"] if a["name"] == "s1"][0]
    check(e["tags"] == ["x", "yes"] and e["metadata"]["description"] == "null",
          "the manifest has the tags and the metadata copy")
    st, h3, j = s.json("GET", "/artifacts/skill:s1")
    check(st == 200 and h3["ETag"] == h2["ETag"], "GET after the PUT gives the same ETag")
    check(j["metadata"]["author"] == "Ann", "GET shows the edit")
    p = cli(home, "show", "skill:s1", "--json")
    sj = json.loads(p.stdout)
    check(sj["lock"]["content_hash"] == sj["content_hash"] and not sj["locally_modified"],
          "the lock hash follows a local artifact's edit")

    # a stale ETag and a stale expected_revision: 409 with the current revision, nothing written
    before = tree_sum(home)
    st, _, j = s.json("PUT", path, {"description": "stale"}, {"If-Match": etag})
    check(st == 409 and j["detail"]["error"] == "conflict" and j["detail"]["message"]
          and h2["ETag"].strip('"').startswith(j["detail"]["current_revision"]),
          f"stale If-Match -> 409 with the current revision ({st} {j})")
    st, _, j = s.json("PUT", path, {"description": "stale",
                                    "expected_revision": etag.strip('"').split(".")[0]})
    check(st == 409, "stale expected_revision -> 409")
    check(tree_sum(home) == before, "nothing written on a conflict")

    # a hand edit the watcher has not seen yet: still a 409 (checked on the re-read file)
    cur = h2["ETag"]
    write(fpath, read(fpath).decode().replace("model: sonnet", "model: opus"))
    st, _, j = s.json("PUT", path, {"description": "overwrite?"}, {"If-Match": cur})
    check(st == 409, f"hand edit then PUT with the old ETag -> 409 ({st})")
    check("model: opus" in read(fpath).decode() and "overwrite?" not in read(fpath).decode(),
          "the hand edit is not overwritten")
    st, h4, j = s.json("GET", "/artifacts/skill:s1")
    st, _, j = s.json("PUT", path, {"description": "after reload"}, {"If-Match": h4["ETag"]})
    check(st == 200 and j["metadata"]["description"] == "after reload", "PUT with the fresh ETag -> 200")

    # concurrent edits with the same ETag: exactly one wins, the others get 409
    st, h5, _ = s.json("GET", "/artifacts/skill:s1")
    results = []

    def edit(i):
        results.append(s.json("PUT", path, {"description": f"writer {i}"}, {"If-Match": h5["ETag"]})[0])
    ts = [threading.Thread(target=edit, args=(i,)) for i in range(8)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(sorted(results) == [200] + [409] * 7, f"8 concurrent edits: one 200, seven 409 ({results})")
    d = yaml.safe_load(re.match(r"---\n(.*?)\n---", read(fpath).decode(), re.S).group(1))
    check(d["description"].startswith("writer "), "the winner's value is in the file")

    # no precondition: the write proceeds
    st, _, j = s.json("PUT", path, {"description": "no precondition"})
    check(st == 200, "no If-Match -> the write proceeds")
    # null removes a key
    st, _, j = s.json("PUT", path, {"author": None})
    check(st == 200 and j["metadata"]["author"] is None and "author:" not in read(fpath).decode(),
          "null removes the key")
    # an agent: tools written in the file's own style
    st, _, j = s.json("PUT", "/artifacts/agent:a1/metadata", {"tools": ["Write", "Bash"]})
    check(st == 200 and "tools: Write, Bash\n" in read(os.path.join(coll, "agents", "a1.md")).decode(),
          "an agent's comma-separated tools keep their style")

    # bad input: a clear error, nothing on disk changed
    before = tree_sum(home)
    fbytes = read(fpath)
    bad = [
        ({"description": 5}, 422),
        ({"tags": "a"}, 422),
        ({"tags": [1]}, 422),
        ({"tags": [""]}, 422),
        ({"tools": ["NoSuchTool"]}, 422),
        ({"nope": "x"}, 422),
        ({"description": "x" * 5000}, 422),
        ({"description": "bell\u0007"}, 422),
        ({}, 400),
        ([1], 422),
    ]
    for body, want in bad:
        st, _, j = s.json("PUT", path, body)
        check(st == want and j and j.get("detail"), f"{json.dumps(body)[:40]} -> {want} ({st})")
    st, _, data = s.request("PUT", path, b'{"description": "\xff\xfe"}',
                            {"Content-Type": "application/json"})
    check(st in (400, 422), f"invalid UTF-8 -> 400/422 ({st})")
    st, _, data = s.request("PUT", path, b'{"description": ', {"Content-Type": "application/json"})
    check(st in (400, 422), f"malformed JSON -> 400/422 ({st})")
    st, _, j = s.json("PUT", path, {"description": "x" * 70000})
    check(st == 413, f"a body over server.max-body-bytes -> 413 ({st})")
    st, _, data = s.request("PUT", path, "description=x", {"Content-Type": "text/plain"})
    check(st in (415, 422), f"not JSON -> refused ({st})")
    st, _, j = s.json("PUT", "/artifacts/skill:nope/metadata", {"description": "x"})
    check(st == 404, "unknown artifact -> 404")
    check(tree_sum(home) == before and read(fpath) == fbytes, "bad input changed nothing on disk")

    rc, _, err = s.stop()
    check(rc == 0, f"server stops cleanly ({err[-300:]})")
    own_writes(home, coll, fpath)
    apitest.finish()


if __name__ == "__main__":
    main()
