#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Team mode (issue 12): GET /api/v1/artifacts/{id}/files (the tree) and
/files/{path} (a file's text, ?format=html) answered from the team store's
artifact_files on a real PostgreSQL (pgcluster.py), compared with the same
artifact served by the SQLite/files mode (`serve` on a personal home):

- the tree, every file's answer and every refusal are the same JSON in both
  modes (paths ordered component by component, as the files' walk: "a/" before
  "a-b/"); hostile paths (.., encoded .. and slashes, absolute, NUL) are 400,
  a missing file or a folder 404, binary 415, over 1 MiB 413, in both;
- an artifact row whose files are gone: 404;
- tenants: two tenants' artifacts of one name each read their own bytes; an
  artifact of another tenant is 404 for the tree and for a file; no token 401;
- a forced re-upload through another instance is read at the next request;
- PUT /artifacts/{id}/metadata rewrites the stored SKILL.md's frontmatter as
  SQLite mode rewrites the file (the same bytes after the same edit) and the
  archive's X-Content-Hash is its files' hash again; an old ETag 409 leaves
  the file as it was; PUT /artifacts/{id} changes the row only, in both modes.

usage: test_team_files.py   (SKILLMEAT_BIN names the program)
"""
import hashlib
import io
import os
import sys
import tarfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402
import test_team as tt  # noqa: E402  (the harness: Server, check, seed, upload, …)

check = tt.check
TOKENS = '[team.tokens]\ntok-default = "default"\ntok-acme = "acme"\n'

EVIL_MD = """---
name: evil
description: "<img src=x onerror=alert(1)> <script>alert(2)</script>"
---
# Evil <script>window.__pwned=1</script>

<div onmouseover="x()">block html</div>

[click](javascript:window.__pwned=4) and [ok](https://example.com)
"""
# path -> bytes: nested folders, names whose byte order is not the walk's
FILES = {
    "SKILL.md": EVIL_MD.encode(),
    "references/notes.md": b"# Notes\n\n*emphasis* and `code`\n",
    "references/deep/a/b/c.txt": b"<b>plain</b> text\n",
    "a/y.md": b"y\n",
    "a-b/x.md": b"x\n",
    "blob.bin": b"\x89PNG\r\n\x1a\n\x00\x00binary",
    "latin1.txt": b"caf\xe9\n",
}
BIG = 1024 * 1024 + 1  # over the 1 MiB cap of one file's text


def get(s, path, token=None):
    h = {"Authorization": f"Bearer {token}"} if token else {}
    st, data, r = s.request("GET", "/api/v1" + path, headers=h)
    return st, (tt.json.loads(data) if data else None)


def personal_server():
    """The same artifact added to a personal home, served in SQLite/files mode."""
    h = tt.home("personal")
    src = os.path.join(tt.TMP, "src", "evil")
    for p, data in list(FILES.items()) + [("big.md", b"x" * BIG)]:
        os.makedirs(os.path.dirname(os.path.join(src, p)), exist_ok=True)
        with open(os.path.join(src, p), "wb") as f:
            f.write(data)
    p = tt.run(h, "add", "skill", src)
    check(p.returncode == 0, f"add skill:evil to a personal home ({p.stderr.strip()})")
    return tt.Server(h)


def upload_evil(s, token, files, force=False):
    body = {"type": "skill", "name": "evil", "force": force,
            "files": [{"path": p, "content_base64": tt.base64.b64encode(d).decode()}
                      for p, d in files.items()]}
    return tt.upload(s, body, token=token)


def test_same_as_files_mode(team, plain):
    st, want = get(plain, "/artifacts/skill:evil/files")
    check(st == 200, f"files mode: the tree ({st})")
    st, got = get(team, "/artifacts/skill:evil/files", "tok-default")
    check(st == 200 and got == want, f"team mode: the same tree as files mode\n{got}\n{want}")
    top = [f["path"] for f in got["files"]]
    check(top.index("a") < top.index("a-b"),
          f"paths in the walk's order, component by component ({top})")
    cases = ["SKILL.md", "SKILL.md?format=html", "references/notes.md?format=html",
             "references/deep/a/b/c.txt", "references%2Fnotes.md", "%2E/SKILL.md",
             "references//notes.md", "a-b/x.md",
             "blob.bin", "latin1.txt", "big.md", "none.md", "references", "references/deep/a",
             "SKILL.md?format=pdf", "%ff.md",
             # hostile: never leaves the artifact
             "%2E%2E/%2E%2E/collection.toml", "references/%2E%2E/%2E%2E/evil.md",
             "..%2F..%2Fcollection.toml", "%2Fetc%2Fpasswd", "references/%2e%2e/SKILL.md",
             "..", "%2e%2e", "SKILL.md%00.txt"]
    for path in cases:
        st_w, want = get(plain, "/artifacts/skill:evil/files/" + path)
        st_g, got = get(team, "/artifacts/skill:evil/files/" + path, "tok-default")
        check(st_g == st_w and got == want,
              f"GET files/{path}: team mode answers as files mode ({st_g} {st_w})\n{got}\n{want}")
    # the statuses themselves (so equal answers cannot both be wrong)
    for path, want in (("SKILL.md", 200), ("references/deep/a/b/c.txt", 200), ("blob.bin", 415),
                       ("latin1.txt", 415), ("big.md", 413), ("none.md", 404),
                       ("references", 404), ("%ff.md", 404),
                       ("%2E%2E/%2E%2E/collection.toml", 400), ("..%2F..%2Fcollection.toml", 400),
                       ("references/%2e%2e/SKILL.md", 400), ("%2Fetc%2Fpasswd", 400),
                       ("SKILL.md%00.txt", 400)):
        st, j = get(team, "/artifacts/skill:evil/files/" + path, "tok-default")
        check(st == want, f"team mode: files/{path} -> {want} ({st} {str(j)[:120]})")
    st, j = get(team, "/artifacts/skill:evil/files/SKILL.md", "tok-default")
    check(j["content"] == EVIL_MD and j["size"] == len(EVIL_MD.encode())
          and j["mime_type"] == "text/markdown" and j["collection_name"] == "default",
          "team mode: a file's exact text from PostgreSQL")
    st, j = get(team, "/artifacts/skill:evil/files/SKILL.md?format=html", "tok-default")
    check("<script" not in j["html"].lower() and "onmouseover=\"" not in j["html"],
          "team mode: rendered HTML keeps no markup of the file")


def put(s, path, body, token=None, if_match=None):
    h = {"Authorization": f"Bearer {token}"} if token else {}
    if if_match:
        h["If-Match"] = if_match
    st, data, r = s.request("PUT", "/api/v1" + path, body=body, headers=h)
    return st, (tt.json.loads(data) if data else None), r


def archive(team):
    st, data, r = team.request("GET", "/api/v1/artifacts/skill:evil/archive",
                               headers={"Authorization": "Bearer tok-default"})
    check(st == 200, f"the archive ({st})")
    files = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
        for m in tf.getmembers():
            files[m.name] = tf.extractfile(m).read()
    h = hashlib.sha256()
    # SkillMeat's order: component by component ('/' first)
    for p in sorted(files, key=lambda p: p.encode().replace(b"/", b"\x01")):
        h.update(p.encode())
        h.update(files[p])
    return files, h.hexdigest(), r.getheader("X-Content-Hash")


def skill_md(s, token=None):
    st, j = get(s, "/artifacts/skill:evil/files/SKILL.md", token)
    check(st == 200, f"SKILL.md ({st})")
    return j["content"]


def test_metadata_edit(team, plain):
    # big.md was written by psql after the upload: the row's hash does not cover it yet
    _, h0, x0 = archive(team)
    check(h0 != x0, "before the edit: X-Content-Hash is the upload's (big.md came later)")
    edit = {"description": "Edited: no markup", "author": "Eve", "tags": ["files", "team"]}
    st, _, _ = put(plain, "/artifacts/skill:evil/metadata", edit)
    check(st == 200, f"files mode: PUT metadata ({st})")
    _, r = team.get("/artifacts/skill:evil", token="tok-default")
    etag = r.getheader("ETag")
    st, body, _ = put(team, "/artifacts/skill:evil/metadata", edit, "tok-default", etag)
    check(st == 200 and body["metadata"]["description"] == "Edited: no markup",
          f"team mode: PUT metadata with If-Match ({st} {body})")
    want = skill_md(plain)
    got = skill_md(team, "tok-default")
    check("description: 'Edited: no markup'" in want or "Edited: no markup" in want,
          f"files mode rewrote SKILL.md's frontmatter ({want!r})")
    check(got == want, f"team mode: SKILL.md is the same bytes as files mode's\n{got!r}\n{want!r}")
    files, h1, x1 = archive(team)
    check(x1 == h1 and x1 != x0, f"the archive's X-Content-Hash is the new files' hash ({x1} {h1} {x0})")
    check(files["SKILL.md"].decode() == got, "the archive holds the rewritten SKILL.md")
    d, _ = team.get("/artifacts/skill:evil", token="tok-default")
    st, body, _ = put(team, "/artifacts/skill:evil/metadata", {"description": "stale"},
                      "tok-default", etag)
    check(st == 409, f"the old ETag: 409 ({st} {body})")
    check(skill_md(team, "tok-default") == got and archive(team)[2] == x1,
          "the refused edit left the file and its hash as they were")
    # PUT /artifacts/{id}: the row only, in both modes
    for s, tok in ((plain, None), (team, "tok-default")):
        st, body, _ = put(s, "/artifacts/skill:evil", {"metadata": {"description": "Row only"}}, tok)
        check(st == 200, f"PUT /artifacts/skill:evil ({st} {body})")
    check(skill_md(team, "tok-default") == skill_md(plain) == got,
          "PUT /artifacts/{id} rewrote no file in either mode")


def test_missing(team):
    st, j = get(team, "/artifacts/skill:alpha/files", "tok-default")
    check(st == 404 and "missing" in j["detail"], f"a row without files: tree 404 ({st} {j})")
    st, _ = get(team, "/artifacts/skill:alpha/files/SKILL.md", "tok-default")
    check(st == 404, f"a row without files: file 404 ({st})")
    st, _ = get(team, "/artifacts/skill:nope/files", "tok-default")
    check(st == 404, f"an unknown artifact: 404 ({st})")


def test_tenants(team):
    acme = {"SKILL.md": b"---\nname: evil\ndescription: acme's own\n---\nAcme body\n",
            "acme-only.md": b"acme\n"}
    ours = skill_md(team, "tok-default")
    st, _ = upload_evil(team, "tok-acme", acme)
    check(st == 201, f"acme uploads its own skill:evil ({st})")
    st, _ = tt.upload(team, {"type": "skill", "name": "hidden", "files": [
        {"path": "SKILL.md", "content_base64": tt.b64("---\nname: hidden\n---\nsecret body\n")}]},
        token="tok-acme")
    check(st == 201, f"acme uploads skill:hidden ({st})")
    st, j = get(team, "/artifacts/skill:evil/files/SKILL.md", "tok-acme")
    check(st == 200 and j["content"].endswith("Acme body\n"), "acme's token reads acme's SKILL.md")
    st, j = get(team, "/artifacts/skill:evil/files/SKILL.md", "tok-default")
    check(st == 200 and j["content"] == ours and "Acme" not in ours,
          "default's token reads default's SKILL.md, unchanged by acme's upload")
    st, j = get(team, "/artifacts/skill:evil/files", "tok-acme")
    check(st == 200 and sorted(f["path"] for f in j["files"]) == ["SKILL.md", "acme-only.md"],
          f"acme's tree is acme's files only ({j})")
    st, j = get(team, "/artifacts/skill:evil/files/acme-only.md", "tok-default")
    check(st == 404 and "content" not in j, f"acme's file through default's token: 404 ({st})")
    st, j = get(team, "/artifacts/skill:evil/files/references/notes.md", "tok-acme")
    check(st == 404 and "content" not in j, f"default's file through acme's token: 404 ({st})")
    for path in ("/artifacts/skill:hidden/files", "/artifacts/skill:hidden/files/SKILL.md"):
        st, j = get(team, path, "tok-default")
        check(st == 404 and "secret" not in str(j) and "files" not in j,
              f"another tenant's artifact: GET {path} -> 404 ({st})")
    st, _ = get(team, "/artifacts/skill:evil/files/SKILL.md")
    check(st == 401, f"no token: 401 ({st})")


def test_next_request(team, other):
    files = dict(FILES, **{"SKILL.md": b"---\nname: evil\n---\nversion two\n"})
    del files["references/notes.md"]
    st, _ = upload_evil(other, "tok-default", files, force=True)
    check(st == 200, f"a forced re-upload through another instance ({st})")
    st, j = get(team, "/artifacts/skill:evil/files/SKILL.md", "tok-default")
    check(st == 200 and j["content"].endswith("version two\n"),
          "the first instance reads the new bytes at its next request")
    st, _ = get(team, "/artifacts/skill:evil/files/references/notes.md", "tok-default")
    check(st == 404, f"and no longer the removed file ({st})")
    st, j = get(team, "/artifacts/skill:evil/files", "tok-default")
    ref = [f for f in j["files"] if f["path"] == "references"][0]
    check(st == 200 and [c["path"] for c in ref["children"]] == ["references/deep"],
          f"nor in the tree ({ref})")


def main():
    try:
        tt.PG = pgcluster.Cluster()
    except RuntimeError as e:
        tt.fail(f"cannot start PostgreSQL: {e}")
    url = tt.PG.createdb("team")
    p = tt.run(tt.home("seed"), "team", "migrate", "--store", url)
    check(p.returncode == 0, f"migrate the team database ({p.stderr.strip()})")
    tt.seed()
    team = tt.Server(tt.home("files-a", TOKENS), "--store", url)
    other = tt.Server(tt.home("files-b", TOKENS), "--store", url)
    st, art = upload_evil(team, "tok-default", FILES)
    check(st == 201, f"upload skill:evil ({st} {art})")
    # over the request body cap: the big file goes in as another client would write it
    uuid = tt.PG.psql("SELECT uuid FROM artifacts WHERE tenant_id = 'default' AND name = 'evil'",
                      "team").strip()
    tt.PG.psql("INSERT INTO artifact_files VALUES ('default', '%s', 'big.md',"
               " convert_to(repeat('x', %d), 'UTF8'))" % (uuid, BIG), "team")
    plain = personal_server()
    test_same_as_files_mode(team, plain)
    test_metadata_edit(team, plain)
    plain.stop()
    test_missing(team)
    test_tenants(team)
    test_next_request(team, other)
    other.stop()
    team.stop()
    tt.cleanup()
    print(f"{tt.CHECKS} passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - any error fails the test, servers stopped
        tt.fail(f"unexpected {type(e).__name__}: {e}")
