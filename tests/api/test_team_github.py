#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Team mode (issue 12): POST /api/v1/artifacts from GitHub on a team server
(`serve --store postgresql://…`, a real PostgreSQL from pgcluster.py). The
server fetches the source as the personal add does (a local bare repository
stands for GitHub: config github.api-url = file://…, as test_api_write.py)
and stores it as an upload in the request's tenant:

- through instance A: 201 with personal mode's answer (success, artifact_id,
  source_type github, origin github, the upstream URL at the resolved commit,
  current_sha); the row in PostgreSQL says github with the spec's version and
  the resolved sha; a one-file command from a file path;
- instance B shows it at its next request (GET /artifacts/{id} 200, its files
  via GET /artifacts/{id}/files and /files/{path}, the exact bytes);
- a name clash: 409 (nothing changed), force: 201 replaced;
- bad specs (not GitHub, a bad name, a path or a ref not in the repository):
  an error and no row;
- another tenant's token does not see it (404 through both instances), and
  its own add of the same spec is its own row.

usage: test_team_github.py   (SKILLMEAT_BIN names the program)
"""
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402
import test_team as tt  # noqa: E402  (the harness: Server, check, home, PG, …)

check = tt.check
SKILL_MD = "---\nname: remote\ndescription: From a remote repository\ntags: [gh]\n---\nr\n"
RUN_SH = "echo remote\n"
SHIP_MD = "---\ndescription: Ship it\n---\nship\n"


def config():
    return (f'[github]\napi-url = "file://{tt.TMP}/gh"\n\n'
            '[team.tokens]\ntok-default = "default"\ntok-acme = "acme"\n')


def make_github():
    w = os.path.join(tt.TMP, "gitwork")
    for rel, text in (("skills/remote/SKILL.md", SKILL_MD), ("skills/remote/scripts/run.sh", RUN_SH),
                      ("commands/ship.md", SHIP_MD)):
        os.makedirs(os.path.dirname(os.path.join(w, rel)), exist_ok=True)
        with open(os.path.join(w, rel), "w") as f:
            f.write(text)
    genv = dict(tt.ENV, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@e", GIT_COMMITTER_NAME="t",
                GIT_COMMITTER_EMAIL="t@e", GIT_CONFIG_NOSYSTEM="1", HOME=tt.TMP)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"], ["commit", "-qm", "one"],
                 ["tag", "v1.0.0"]):
        subprocess.run(["git", *args], cwd=w, env=genv, check=True, timeout=60)
    os.makedirs(f"{tt.TMP}/gh/acme", exist_ok=True)
    subprocess.run(["git", "clone", "-q", "--bare", w, f"{tt.TMP}/gh/acme/tools"], env=genv,
                   check=True, timeout=60)
    return subprocess.run(["git", "-C", f"{tt.TMP}/gh/acme/tools", "rev-parse", "main"],
                          env=genv, check=True, capture_output=True, text=True).stdout.strip()


def call(s, method, path, body=None, token="tok-default"):
    h = {"Authorization": f"Bearer {token}"} if token else {}
    st, data, _ = s.request(method, "/api/v1" + path, body=body, headers=h)
    return st, (tt.json.loads(data) if data else None)


def rows(tenant=None):
    where = f" WHERE tenant_id = '{tenant}'" if tenant else ""
    return tt.PG.psql("SELECT tenant_id || '|' || type || ':' || name || '|' || coalesce(origin, '')"
                      " || '|' || coalesce(version_spec, '') || '|' || coalesce(resolved_sha, '')"
                      " || '|' || coalesce(resolved_version, '') || '|' || coalesce(upstream, '')"
                      f" FROM artifacts{where} ORDER BY 1", "team").split()


def test_add(a, b, sha):
    up = f"https://github.com/acme/tools/tree/{sha}/skills/remote"
    st, j = call(a, "POST", "/artifacts", {"source_type": "github",
                                           "source": "acme/tools/skills/remote@v1.0.0",
                                           "artifact_type": "skill", "tags": ["x"]})
    check(st == 201 and j["id"] == "skill:remote" and j["name"] == "remote"
          and j["type"] == "skill" and j["success"] is True and j["artifact_id"] == "skill:remote"
          and j["source_type"] == "github" and j["origin"] == "github" and j["source"] == up
          and j["upstream"]["current_sha"] == sha and j["upstream"]["tracking_enabled"]
          and j["metadata"]["description"] == "From a remote repository"
          and j["tags"] == ["x", "gh"],
          f"POST /artifacts from GitHub through A -> 201, personal mode's answer ({st} {j})")
    got = rows("default")
    check(got == [f"default|skill:remote|github|v1.0.0|{sha}|v1.0.0|{up}"],
          f"the row in PostgreSQL: the tenant's, github, the spec's version, the sha ({got})")
    st, j = call(b, "GET", "/artifacts/skill:remote")
    check(st == 200 and j["origin"] == "github" and j["upstream"]["current_sha"] == sha
          and j["metadata"]["description"] == "From a remote repository",
          f"instance B at its next request: GET /artifacts/skill:remote -> 200 ({st} {j})")
    st, j = call(b, "GET", "/artifacts/skill:remote/files")
    text = tt.json.dumps(j)
    check(st == 200 and "SKILL.md" in text and "run.sh" in text,
          f"instance B: the files of the fetched skill ({st} {text[:300]})")
    for path, want in (("SKILL.md", SKILL_MD), ("scripts/run.sh", RUN_SH)):
        st, j = call(b, "GET", f"/artifacts/skill:remote/files/{path}")
        check(st == 200 and j["content"] == want,
              f"instance B: files/{path}, the repository's bytes ({st} {j and j.get('content')!r})")
    # a one-file artifact from a file path; the name is the file's stem
    st, j = call(b, "POST", "/artifacts", {"source": "https://github.com/acme/tools/blob/main/"
                                           "commands/ship.md", "artifact_type": "command"})
    check(st == 201 and j["id"] == "command:ship" and j["metadata"]["description"] == "Ship it",
          f"POST a command from a file URL through B -> 201 ({st} {j})")
    st, j = call(a, "GET", "/artifacts/command:ship/files/ship.md")
    check(st == 200 and j["content"] == SHIP_MD, f"A shows the command's file ({st} {j})")


def test_clash(a, b, sha):
    before = rows()
    rev = tt.PG.psql("SELECT revision FROM artifacts WHERE name = 'remote'", "team").strip()
    st, j = call(b, "POST", "/artifacts", {"source": "acme/tools/skills/remote",
                                           "artifact_type": "skill"})
    check(st == 409 and "force" in j["detail"], f"the same name again through B -> 409 ({st} {j})")
    after = tt.PG.psql("SELECT revision FROM artifacts WHERE name = 'remote'", "team").strip()
    check(rows() == before and after == rev, "the clash changed nothing")
    st, j = call(b, "POST", "/artifacts", {"source": "acme/tools/skills/remote",
                                           "artifact_type": "skill", "force": True})
    check(st == 201 and j["id"] == "skill:remote" and j["upstream"]["current_sha"] == sha,
          f"force through B -> 201, replaced ({st} {j})")
    got = rows("default")
    check(f"default|skill:remote|github|latest|{sha}||https://github.com/acme/tools/tree/{sha}/"
          "skills/remote" in got and len(got) == 2, f"replaced in place: version latest ({got})")
    st, j = call(a, "GET", "/artifacts/skill:remote")
    check(st == 200 and j["tags"] == ["gh"], f"A shows the replaced row at its next request ({j})")


def test_bad(a):
    before = rows()
    for body, want in (({"source": "https://gitlab.com/a/b", "source_type": "github",
                         "artifact_type": "skill"}, (400,)),
                       ({"source": "acme/tools/skills/remote", "artifact_type": "skill",
                         "name": "../x"}, (400, 422)),
                       ({"source": "acme/tools/skills/none", "artifact_type": "skill"}, (404,)),
                       ({"source": "acme/tools/skills/remote@nope", "artifact_type": "skill",
                         "name": "r2"}, (404,)),
                       ({"source": "acme/nothere/x", "artifact_type": "skill"}, (404, 502)),
                       ({"source": "acme/tools/commands/ship.md", "artifact_type": "skill",
                         "name": "notaskill"}, (400,)),
                       ({"source": "acme/tools/skills/remote", "artifact_type": "nope"}, (422,)),
                       ({"source": "acme/tools/skills/remote", "artifact_type": "skill",
                         "collection": "work"}, (404,))):
        st, j = call(a, "POST", "/artifacts", body)
        check(st in want and isinstance(j.get("detail"), (str, list)) and j["detail"],
              f"{body['source']} {body.get('name', '')} -> {want} ({st} {j})")
    check(rows() == before, "no bad spec stored anything")
    st, data, _ = a.request("POST", "/api/v1/artifacts", body={"source": "/tmp",
                                                               "artifact_type": "skill"},
                            headers={"Authorization": "Bearer tok-default"})
    check(st == 403 and b"team mode" in data, f"a local path is still 403 ({st})")


def test_tenants(a, b, sha):
    for s in (a, b):
        st, _ = call(s, "GET", "/artifacts/skill:remote", token="tok-acme")
        check(st == 404, f"acme's token: default's skill:remote -> 404 ({st})")
        st, j = call(s, "GET", "/artifacts", token="tok-acme")
        check(st == 200 and not j["items"], f"acme lists nothing ({j['items']})")
    st, _ = call(a, "POST", "/artifacts", {"source": "acme/tools/skills/remote"}, token=None)
    check(st == 401, f"a POST without a token: 401 ({st})")
    st, j = call(a, "POST", "/artifacts", {"source": "acme/tools/skills/remote",
                                           "artifact_type": "skill"}, token="tok-acme")
    check(st == 201, f"acme adds the same spec: its own row, no clash ({st} {j})")
    check(len(rows("acme")) == 1 and len(rows("default")) == 2,
          f"one row of acme's, default's two untouched ({rows()})")
    st, j = call(b, "GET", "/artifacts", token="tok-acme")
    check(st == 200 and [i["id"] for i in j["items"]] == ["skill:remote"],
          f"B lists acme's own skill:remote for acme ({st})")


def main():
    try:
        tt.PG = pgcluster.Cluster()
    except RuntimeError as e:
        tt.fail(f"cannot start PostgreSQL: {e}")
    url = tt.PG.createdb("team")
    p = tt.run(tt.home("seed"), "team", "migrate", "--store", url)
    check(p.returncode == 0, f"migrate the team database ({p.stderr.strip()})")
    sha = make_github()
    env = {"GIT_CONFIG_NOSYSTEM": "1", "HOME": tt.TMP}
    a = tt.Server(tt.home("gh-a", config()), "--store", url, env=env)
    b = tt.Server(tt.home("gh-b", config()), "--store", url, env=env)
    test_add(a, b, sha)
    test_clash(a, b, sha)
    test_bad(a)
    test_tenants(a, b, sha)
    a.stop()
    b.stop()
    tt.cleanup()
    print(f"{tt.CHECKS} passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - any error fails the test, servers stopped
        tt.fail(f"unexpected {type(e).__name__}: {e}")
