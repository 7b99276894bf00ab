#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""API write test: POST /api/v1/artifacts (local and GitHub adds) and
PUT /api/v1/artifacts/{id} (optimistic locking) against the real
`skillmeat serve --port 0` on a temporary home built with the CLI.

usage: test_api_write.py   (SKILLMEAT_BIN names the program)
Prints one line per check; exits 1 on the first failure.
"""
import json
import os
import subprocess
import threading
import tomllib

import apitest
from apitest import Server, check, cli, fail, tree_sum, write

TMP, ENV = apitest.setup("sm-apiw-", SKILLMEAT_CACHE_COUNT_TTL_SECONDS="3600",
                          GIT_CONFIG_NOSYSTEM="1", HOME="{tmp}")


def is_422(st, j, field=None):
    if st != 422 or not isinstance(j, dict) or not isinstance(j.get("detail"), list):
        return False
    d = j["detail"][0]
    return {"loc", "msg", "type"} <= set(d) and (field is None or d["loc"][-1] == field)


def detail_is_str(j):
    return isinstance(j, dict) and isinstance(j.get("detail"), str) and j["detail"]


def default_count(s):
    st, _, j = s.json("GET", "/user-collections/default")
    if st != 200:
        fail(f"GET /user-collections/default -> {st}")
    return j["artifact_count"]


# ---------------------------------------------------------------- fixtures

def make_sources():
    src = os.path.join(TMP, "src")
    write(f"{src}/canvas/SKILL.md",
          "---\nname: canvas\ntitle: Canvas\ndescription: Draw on a canvas\nauthor: Ann\n"
          "license: MIT\nversion: 1.2.0\ntags: [art, ui]\ntools: [Read, Write]\n---\n# Canvas\n")
    write(f"{src}/fresh/SKILL.md",
          "---\nname: fresh\ntitle: Fresh\ndescription: Added over HTTP\nauthor: Eve\n"
          "license: ISC\nversion: 0.3.0\ntags: [new]\ntools: [Grep]\n---\nbody\n")
    write(f"{src}/helper.md", "---\ndescription: Helps a lot\ntools: [Bash]\n---\nhelp\n")
    write(f"{src}/ship.md", "---\ndescription: Ship it\n---\nship\n")
    return src


def make_github():
    w = os.path.join(TMP, "gitwork")
    write(f"{w}/skills/remote/SKILL.md",
          "---\nname: remote\ndescription: From a remote repository\ntags: [gh]\n---\nr\n")
    genv = dict(ENV, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
                GIT_COMMITTER_EMAIL="t@e")
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "one"]):
        subprocess.run(["git", *args], cwd=w, env=genv, check=True, timeout=60)
    os.makedirs(f"{TMP}/gh/acme", exist_ok=True)
    subprocess.run(["git", "clone", "-q", "--bare", w, f"{TMP}/gh/acme/tools"], env=genv,
                   check=True, timeout=60)
    return subprocess.run(["git", "-C", f"{TMP}/gh/acme/tools", "rev-parse", "main"],
                          env=genv, check=True, capture_output=True, text=True).stdout.strip()


# ---------------------------------------------------------------- POST

def test_post_local(s, home, src):
    n0 = default_count(s)
    st, h, j = s.json("POST", "/artifacts", {"source_type": "local", "source": f"{src}/fresh",
                                             "artifact_type": "skill", "tags": ["mine"]})
    check(st == 201 and j["id"] == "skill:fresh" and j["type"] == "skill"
          and j["name"] == "fresh" and j["success"] is True
          and j["artifact_id"] == "skill:fresh" and j["source_type"] == "local",
          f"POST local skill -> 201 ArtifactResponse ({st} {j})")
    check(j["metadata"]["description"] == "Added over HTTP" and j["metadata"]["author"] == "Eve"
          and j["metadata"]["tools"] == ["Grep"] and j["tags"] == ["mine", "new"]
          and j["origin"] == "local" and j["collection"] == "default"
          and j["path"] == "skills/fresh" and h["ETag"],
          "the response carries the metadata from the files and an ETag")
    check(j["collections"] and j["collections"][0]["id"] == "default"
          and j["collections"][0]["artifact_count"] == n0 + 1,
          "collections[].artifact_count counts the new artifact")
    check(default_count(s) == n0 + 1, "user collection artifact_count fresh right after the add")
    st, _, g = s.json("GET", "/artifacts/skill:fresh")
    check(st == 200 and g["metadata"]["title"] == "Fresh" and g["metadata"]["version"] == "0.3.0"
          and g["metadata"]["license"] == "ISC" and g["tags"] == ["mine", "new"],
          "GET shows it with full metadata")
    st, _, lst = s.json("GET", "/artifacts?artifact_type=skill")
    check("skill:fresh" in [i["id"] for i in lst["items"]], "GET /artifacts lists it")
    check(os.path.isfile(f"{home}/collections/default/skills/fresh/SKILL.md"),
          "the files are in the collection")

    st, _, j = s.json("POST", "/artifacts", {"source": f"{src}/helper.md",
                                             "artifact_type": "agent"})
    check(st == 201 and j["id"] == "agent:helper" and j["metadata"]["tools"] == ["Bash"],
          f"POST local agent (source_type detected) -> 201 ({st})")
    st, _, j = s.json("POST", "/artifacts", {"source_type": "local", "source": f"{src}/ship.md",
                                             "artifact_type": "command", "name": "deliver"})
    check(st == 201 and j["id"] == "command:deliver"
          and j["metadata"]["description"] == "Ship it", f"POST command with a name -> 201 ({st})")
    check(default_count(s) == n0 + 3, "counts fresh after each add")

    before = tree_sum(home)
    st, _, j = s.json("POST", "/artifacts", {"source_type": "local", "source": f"{src}/fresh",
                                             "artifact_type": "skill", "tags": ["mine"]})
    check(st == 200 and j["id"] == "skill:fresh", f"unchanged re-add -> 200 ({st})")
    check(tree_sum(home) == before, "an unchanged re-add writes nothing")

    write(f"{src}/fresh/SKILL.md",
          "---\nname: fresh\ndescription: Changed on disk\n---\nnew body\n")
    st, _, j = s.json("POST", "/artifacts", {"source_type": "local", "source": f"{src}/fresh",
                                             "artifact_type": "skill"})
    check(st == 409 and detail_is_str(j), f"other content, no force -> 409 ({st} {j})")
    check(tree_sum(home) == before, "a 409 writes nothing")
    st, _, j = s.json("POST", "/artifacts", {"source_type": "local", "source": f"{src}/fresh",
                                             "artifact_type": "skill", "force": True})
    check(st == 201 and j["metadata"]["description"] == "Changed on disk",
          f"force replaces -> 201 ({st})")
    check(default_count(s) == n0 + 3, "a replace keeps the count")


def test_post_errors(s, home, src):
    before = tree_sum(home)
    n = default_count(s)
    cases = [
        ({"artifact_type": "skill"}, "source"),
        ({"source": f"{src}/canvas"}, "artifact_type"),
        ({"source": f"{src}/canvas", "artifact_type": "widget"}, "artifact_type"),
        ({"source": 7, "artifact_type": "skill"}, "source"),
        ({"source": f"{src}/canvas", "artifact_type": "skill", "tags": "a,b"}, "tags"),
        ({"source": f"{src}/canvas", "artifact_type": "skill", "tags": [1]}, "tags"),
        ({"source": f"{src}/canvas", "artifact_type": "skill", "force": "yes"}, "force"),
        ({"source": f"{src}/canvas", "artifact_type": "skill", "source_type": "ftp"},
         "source_type"),
        ({"source": f"{src}/canvas", "artifact_type": "skill", "name": "../x"}, "name"),
    ]
    for body, field in cases:
        st, _, j = s.json("POST", "/artifacts", body)
        check(is_422(st, j, field), f"422 on {field}: {json.dumps(body)[:70]}")
    st, _, j = s.json("POST", "/artifacts", "[1, 2]")
    check(is_422(st, j), "a body that is not an object -> 422")
    st, _, j = s.json("POST", "/artifacts", "{nope")
    check(is_422(st, j), "invalid JSON -> 422")
    st, _, j = s.json("POST", "/artifacts", {"source": "relative/dir", "source_type": "local",
                                             "artifact_type": "skill"})
    check(st == 400 and detail_is_str(j), f"a relative local path -> 400 ({st})")
    st, _, j = s.json("POST", "/artifacts", {"source": f"{src}/missing",
                                             "artifact_type": "skill"})
    check(st == 404 and detail_is_str(j), f"a missing local path -> 404 ({st})")
    st, _, j = s.json("POST", "/artifacts",
                      {"source": f"{home}/collections/default/skills/canvas",
                       "artifact_type": "skill", "name": "again"})
    check(st == 400 and "home" in j["detail"], f"a path inside the home -> 400 ({st})")
    st, _, j = s.json("POST", "/artifacts", {"source": f"{src}/canvas", "artifact_type": "skill",
                                             "collection": "nope"})
    check(st == 404, f"an unknown collection -> 404 ({st})")
    st, _, j = s.json("POST", "/artifacts", {"source": "https://gitlab.com/a/b",
                                             "source_type": "github", "artifact_type": "skill"})
    check(st == 400 and detail_is_str(j), f"a non-GitHub URL -> 400 ({st})")
    st, _, j = s.json("POST", "/artifacts", {"source": "acme/tools/skills/none",
                                             "artifact_type": "skill"})
    check(st == 404 and detail_is_str(j), f"a missing path in the repository -> 404 ({st})")
    check(tree_sum(home) == before and default_count(s) == n, "nothing written on any error")


def test_post_github(s, home, sha):
    n = default_count(s)
    st, _, j = s.json("POST", "/artifacts", {"source_type": "github",
                                             "source": "acme/tools/skills/remote",
                                             "artifact_type": "skill", "tags": ["x"]})
    check(st == 201 and j["id"] == "skill:remote" and j["origin"] == "github"
          and j["upstream"]["current_sha"] == sha and j["upstream"]["tracking_enabled"]
          and j["source"] == f"https://github.com/acme/tools/tree/{sha}/skills/remote"
          and j["metadata"]["description"] == "From a remote repository"
          and j["tags"] == ["x", "gh"], f"POST github (a local bare repo) -> 201 ({st} {j})")
    check(default_count(s) == n + 1, "count fresh after the github add")
    st, _, j = s.json("POST", "/artifacts", {"source": "https://github.com/acme/tools/tree/main/"
                                             "skills/remote", "artifact_type": "skill",
                                             "tags": ["x"]})
    check(st == 200, f"the same artifact by URL (source_type detected) -> 200 unchanged ({st})")
    st, _, j = s.json("POST", "/artifacts", {"source": "acme/tools/skills/remote@nope",
                                             "artifact_type": "skill", "name": "r2"})
    check(st == 404 and "nope" in j["detail"], f"an unknown ref -> 404 ({st})")


def test_post_other_collection(s, home, src):
    cli(home, "collection", "create", "work")
    st, _, j = s.json("POST", "/artifacts", {"source": f"{src}/canvas", "artifact_type": "skill",
                                             "collection": "work"})
    check(st == 201 and j["collection"] == "work" and j["id"] == "work/skill:canvas",
          f"POST into another collection; the ambiguous id is qualified ({st} {j.get('id')})")


# ---------------------------------------------------------------- PUT

def manifest(home):
    with open(f"{home}/collections/default/collection.toml", "rb") as f:
        return f.read()


def test_put(s, home):
    st, h, g = s.json("GET", "/artifacts/default%2Fskill:canvas")
    check(st == 200 and h["ETag"], "GET gives an ETag")
    etag = h["ETag"]
    rev = g["revision"]
    check(etag.strip('"').split(".")[0] == rev, "the ETag starts with the revision")

    st, h2, j = s.json("PUT", "/artifacts/default%2Fskill:canvas", {"tags": ["paint"]},
                       headers={"If-Match": etag})
    check(st == 200 and j["id"] == "skill:canvas" and "paint" in j["tags"]
          and "art" in j["tags"], f"PUT tags with a matching If-Match -> 200 ({st} {j})")
    check(h2["ETag"] and h2["ETag"] != etag and j["revision"] != rev, "the ETag changed")
    check(b'"paint"' in manifest(home), "collection.toml holds the new tags")
    st, h3, g = s.json("GET", "/artifacts/default%2Fskill:canvas")
    check(g["tags"] == j["tags"] and h3["ETag"] == h2["ETag"], "GET agrees with the PUT answer")

    before = manifest(home)
    st, _, j = s.json("PUT", "/artifacts/default%2Fskill:canvas", {"tags": ["stale"]},
                      headers={"If-Match": etag})
    check(st == 409 and j["detail"]["error"] == "conflict" and j["detail"]["message"]
          and j["detail"]["current_revision"] == g["revision"],
          f"a stale If-Match -> 409 with current_revision ({st} {j})")
    check(manifest(home) == before, "a 409 leaves collection.toml unchanged byte for byte")

    st, _, j = s.json("PUT", "/artifacts/default%2Fskill:canvas",
                      {"tags": ["x"], "expected_revision": rev})
    check(st == 409 and j["detail"]["current_revision"] == g["revision"],
          "a stale expected_revision in the body -> 409")
    check(manifest(home) == before, "and nothing written")
    st, _, j = s.json("PUT", "/artifacts/default%2Fskill:canvas",
                      {"tags": ["brush"], "expected_revision": g["revision"]})
    check(st == 200 and "brush" in j["tags"] and "paint" not in j["tags"],
          "a matching expected_revision -> 200, tags replaced")
    # the revision part alone, quoted, works as If-Match too
    st, _, j2 = s.json("PUT", "/artifacts/default%2Fskill:canvas", {"tags": ["brush", "ink"]},
                       headers={"If-Match": f'"{j["revision"]}"'})
    check(st == 200 and "ink" in j2["tags"], "If-Match with the bare revision -> 200")
    # no precondition: the write proceeds
    st, _, j3 = s.json("PUT", "/artifacts/default%2Fskill:canvas",
                       {"metadata": {"tags": ["meta-tag"], "description": "Manifest copy"}})
    check(st == 200 and "meta-tag" in j3["tags"] and "ink" not in j3["tags"],
          "no precondition -> 200 (metadata.tags replace the tags)")
    check(b"Manifest copy" in manifest(home),
          "metadata fields go to the manifest's [artifacts.metadata] copy")
    check(j3["metadata"]["description"] == "Draw on a canvas",
          "the shown metadata stays the files' (ARCHITECTURE §4)")
    n = default_count(s)
    check(n == j3["collections"][0]["artifact_count"], "counts fresh right after the PUT")

    # an unrelated commit changes the DB part of the ETag, not the revision: no conflict
    st, h, g = s.json("GET", "/artifacts/default%2Fskill:canvas")
    st, _, _ = s.json("POST", "/user-collections", {"name": "Unrelated"})
    check(st == 201, "an unrelated write")
    st, h2, _ = s.json("GET", "/artifacts/default%2Fskill:canvas")
    check(h2["ETag"] != h["ETag"], "it changed the detail ETag's DB part")
    st, _, j = s.json("PUT", "/artifacts/default%2Fskill:canvas", {"tags": ["meta-tag", "v2"]},
                      headers={"If-Match": h["ETag"]})
    check(st == 200, f"the older ETag still matches the unchanged artifact ({st})")
    # two writers with the same revision: exactly one wins
    st, h, g = s.json("GET", "/artifacts/default%2Fskill:canvas")
    results = []

    def put(tag):
        results.append(s.json("PUT", "/artifacts/default%2Fskill:canvas", {"tags": [tag]},
                              headers={"If-Match": h["ETag"]})[0])
    ts = [threading.Thread(target=put, args=(f"race{i}",)) for i in range(4)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    check(sorted(results) == [200, 409, 409, 409], f"concurrent PUTs: one 200, the rest 409 "
          f"{sorted(results)}")

    # bad requests
    before = manifest(home)
    st, _, j = s.json("PUT", "/artifacts/default%2Fskill:canvas", {})
    check(st == 400 and detail_is_str(j), f"an empty body -> 400 ({st})")
    st, _, j = s.json("PUT", "/artifacts/default%2Fskill:canvas", {"expected_revision": "x"})
    check(st == 400, "only expected_revision -> 400 (nothing to update)")
    st, _, j = s.json("PUT", "/artifacts/skill:nope", {"tags": ["a"]})
    check(st == 404 and detail_is_str(j), f"unknown id -> 404 ({st})")
    st, _, j = s.json("PUT", "/artifacts/default%2Fskill:canvas", {"tags": "a"})
    check(is_422(st, j, "tags"), "tags not a list -> 422")
    st, _, j = s.json("PUT", "/artifacts/default%2Fskill:canvas", {"metadata": {"author": 3}})
    check(is_422(st, j, "author"), "metadata.author not a string -> 422")
    st, _, j = s.json("PUT", "/artifacts/default%2Fskill:canvas", "nope")
    check(is_422(st, j), "invalid JSON -> 422")
    check(manifest(home) == before, "nothing written by bad requests")
    # removing every tag drops the key; frontmatter tags are still shown
    st, _, j = s.json("PUT", "/artifacts/agent:helper", {"tags": []})
    check(st == 200 and j["tags"] == [], f"tags [] -> 200 ({j.get('tags')})")
    # a new tags key goes where the original writes it, and the manifest stays valid TOML
    st, _, j = s.json("PUT", "/artifacts/command:deliver", {"tags": ["ops"]})
    check(st == 200 and j["tags"] == ["ops"], f"tags on an entry without any -> 200 ({st})")
    doc = tomllib.loads(manifest(home).decode())
    e = next(a for a in doc["artifacts"] if a["name"] == "deliver")
    check(e["tags"] == ["ops"] and e["type"] == "command"
          and list(e).index("tags") > list(e).index("added"), "collection.toml entry")
    st, _, j = s.json("GET", "/artifacts/command:deliver")
    check(j["tags"] == ["ops"], "GET shows it")
    # a hand-edited entry whose 'metadata' is not a table: a metadata change is
    # refused as a malformed file, naming it (was 'Internal server error' from an
    # 'out of memory'), and the entry stays as written
    path = f"{home}/collections/default/collection.toml"
    text = manifest(home).decode()
    at = text.index('name = "deliver"')
    end = text.find("[[artifacts]]", at)
    end = len(text) if end < 0 else end
    entry = text[at:end].replace("[artifacts.metadata", "[artifacts.meta_kept")
    entry = entry.replace('name = "deliver"\n', 'name = "deliver"\nmetadata = 5\n', 1)
    write(path, text[:at] + entry + text[end:])
    before = manifest(home)
    st, _, j = s.json("PUT", "/artifacts/command:deliver", {"metadata": {"description": "x"}})
    check(st == 500 and detail_is_str(j) and "'metadata' is not a table" in j["detail"]
          and "collection.toml" in j["detail"],
          f"metadata change of an entry whose metadata is 5 -> malformed file ({st} {j})")
    check(manifest(home) == before, "and nothing written")
    st, _, j = s.json("PUT", "/artifacts/command:deliver", {"tags": ["ops", "more"]})
    check(st == 200 and j["tags"] == ["ops", "more"], f"a tags change still works ({st})")


def main():
    src = make_sources()
    sha = make_github()
    home = os.path.join(TMP, "home")
    cli(home, "config", "set", "github.api-url", f"file://{TMP}/gh")
    cli(home, "add", "skill", f"{src}/canvas")
    s = Server(home, "--no-rate-limit", "--threads", "2")
    test_post_local(s, home, src)
    test_post_errors(s, home, src)
    test_post_github(s, home, sha)
    test_put(s, home)
    test_post_other_collection(s, home, src)
    rc, out, err = s.stop()
    check(rc == 0, f"SIGTERM -> exit 0 ({err[-500:]})")
    apitest.finish()


if __name__ == "__main__":
    main()
