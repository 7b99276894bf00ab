#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Team mode (issue 12): the writes that go through the team truth
(src/ops/truth_team.c) on a real PostgreSQL (pgcluster.py), with three
`serve --store` instances whose caches are warm (test_team.py's harness):

- user collections: create, add members (unknown ids listed, present ones
  counted), rename (a taken name 409), remove a member, delete, each written
  through one instance and shown by both others at their very next request
  (names, counts, members as in the database, read with psql); two instances
  adding members to one collection at once: both land; the default
  collection's members cannot be changed (409);
- the answer cache: an update in place through one instance drops another
  instance's answers that show that artifact (fresh once its listener has
  handled the notification) and keeps the others (an answer-cache hit); an
  update that renames a row (psql) drops every answer;
- PUT /artifacts/{id} (tags, metadata) with If-Match: shown and filtered by
  the others at their next request, an old ETag 409;
- DELETE /artifacts/{id}: the row, its files and memberships gone, the other
  instances answer 404 and the counts as in the database at their next request;
- refresh-cache (all, one collection) and migrate-to-default: the answers'
  shapes of SQLite mode; the rows are the truth (nothing re-read: every
  artifact skipped), and an artifact written without its default membership
  (psql) joins the default collection, shown by the other instances at their
  next request; a second migrate adds nothing and bumps no revision; another
  tenant's collection 404, its default collection untouched;
- tenants: another tenant's token cannot read, rename, delete or change the
  members of a collection (404, the rows untouched); its own collection of the
  same name is its own, and its members resolve among its own artifacts only;
  it cannot delete another tenant's artifact, and deleting its own skill:alpha
  leaves the other tenant's.

usage: test_team_writes.py   (SKILLMEAT_BIN names the program)
"""
import concurrent.futures
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402
import test_team as tt  # noqa: E402  (the harness: Server, check, seed, truth, …)

check = tt.check
TOKENS = '[team.tokens]\ntok-default = "default"\ntok-acme = "acme"\n'


def auth(token):
    return {"Authorization": f"Bearer {token}"} if token else {}


def call(s, method, path, body=None, token=None):
    st, data, _ = s.request(method, "/api/v1" + path, body=body, headers=auth(token))
    return st, (tt.json.loads(data) if data else None)


def members(s, uc, token=None):
    page, _ = s.get(f"/user-collections/{uc}/artifacts?limit=100", token=token)
    return tt.names(page)


def uc_names(s, token=None):
    ucs, _ = s.get("/user-collections", token=token)
    return {c["name"]: c["artifact_count"] for c in ucs["items"]}


def db_members(tenant, uc):
    return tt.PG.psql("SELECT a.type || ':' || a.name FROM collection_artifacts c JOIN artifacts a"
                      " ON a.tenant_id = c.tenant_id AND a.uuid = c.artifact_uuid"
                      f" WHERE c.tenant_id = '{tenant}' AND c.collection_id = '{uc}'"
                      " ORDER BY 1", "team").split()


def others(insts, w):
    return [s for s in insts if s is not w]


def test_user_collections(insts):
    a, b, c = insts
    for s in insts:
        tt.view(s)
        tt.view(s)
    # create through a
    st, body = call(a, "POST", "/user-collections", {"name": "Reviewers", "description": "Eyes"})
    check(st == 201 and body["name"] == "Reviewers", f"create through instance 0: 201 ({st} {body})")
    uc = body["id"]
    rows = tt.PG.psql(f"SELECT name, description FROM user_collections WHERE tenant_id = 'default'"
                      f" AND id = '{uc}'", "team").strip()
    check(rows == "Reviewers|Eyes", f"the row is in PostgreSQL, the tenant's ({rows!r})")
    for s in others(insts, a):
        tt.same_as_truth(s, f"create: instance {insts.index(s)} at its next request")
        got, _ = s.get(f"/user-collections/{uc}")
        check(got["name"] == "Reviewers" and got["description"] == "Eyes",
              f"instance {insts.index(s)} shows the new collection")
    # add members through b
    st, body = call(b, "POST", f"/user-collections/{uc}/artifacts",
                    {"artifact_ids": ["skill:alpha", "command:gamma", "skill:nope"]})
    check(st == 201 and body["added_count"] == 2 and body["not_found"] == ["skill:nope"]
          and body["total_artifacts"] == 2, f"add members through instance 1: 201 ({st} {body})")
    check(db_members("default", uc) == ["command:gamma", "skill:alpha"], "the memberships are rows")
    for s in others(insts, b):
        check(members(s, uc) == ["command:gamma", "skill:alpha"],
              f"add: instance {insts.index(s)} lists the members at its next request")
        tt.same_as_truth(s, f"add: instance {insts.index(s)}, counts")
    st, body = call(c, "POST", f"/user-collections/{uc}/artifacts",
                    {"artifact_ids": ["skill:alpha"]})
    check(st == 200 and body["added_count"] == 0 and body["already_present_count"] == 1,
          f"a member again through instance 2: 200, already present ({st} {body})")
    # rename through c
    st, body = call(c, "PUT", f"/user-collections/{uc}", {"name": "Code reviewers"})
    check(st == 200 and body["name"] == "Code reviewers", f"rename through instance 2 ({st} {body})")
    for s in others(insts, c):
        got = uc_names(s)
        check("Code reviewers" in got and "Reviewers" not in got and got["Code reviewers"] == 2,
              f"rename: instance {insts.index(s)} at its next request ({got})")
    st, body = call(a, "PUT", f"/user-collections/{uc}", {"name": "Team picks"})
    check(st == 409, f"rename onto a taken name: 409 ({st} {body})")
    check(db_members("default", uc) == ["command:gamma", "skill:alpha"]
          and "Code reviewers" in uc_names(b), "the refused rename changed nothing")
    # remove a member through a
    st, _ = call(a, "DELETE", f"/user-collections/{uc}/artifacts/skill:alpha")
    check(st == 204, f"remove a member through instance 0: 204 ({st})")
    for s in others(insts, a):
        check(members(s, uc) == ["command:gamma"],
              f"remove: instance {insts.index(s)} at its next request")
        tt.same_as_truth(s, f"remove: instance {insts.index(s)}, counts")
    # two instances add to one collection at once: the tenant lock orders them, both land
    for rnd, pair in enumerate((("skill:alpha", "skill:beta"), ("skill:delta", "skill:zeta"))):
        with concurrent.futures.ThreadPoolExecutor(2) as ex:
            res = list(ex.map(lambda x: call(x[0], "POST", f"/user-collections/{uc}/artifacts",
                                             {"artifact_ids": [x[1]]}), zip((a, b), pair)))
        check([r[0] for r in res] == [201, 201], f"round {rnd}: concurrent adds through 0 and 1 ({res})")
        want = sorted(db_members("default", uc))
        check(set(pair) <= set(want), f"round {rnd}: both members stored ({want})")
        check(sorted(members(c, uc)) == want, f"round {rnd}: instance 2 lists both at once")
    # the default collection's members are every upload's
    st, _ = call(b, "POST", "/user-collections/default/artifacts", {"artifact_ids": ["skill:alpha"]})
    check(st == 409, f"members of the default collection: 409 ({st})")
    # delete through b
    st, _ = call(b, "DELETE", f"/user-collections/{uc}")
    check(st == 204, f"delete through instance 1: 204 ({st})")
    n = tt.PG.psql(f"SELECT count(*) FROM collection_artifacts WHERE collection_id = '{uc}'", "team").strip()
    check(n == "0", f"its memberships went with it ({n})")
    for s in others(insts, b):
        s.get(f"/user-collections/{uc}", want=404)
        tt.same_as_truth(s, f"delete: instance {insts.index(s)} at its next request")
    st, _ = call(a, "DELETE", f"/user-collections/{uc}")
    check(st == 404, f"deleted again: 404 ({st})")


def put(s, ident, body, if_match=None, token=None):
    h = auth(token)
    if if_match:
        h["If-Match"] = if_match
    st, data, r = s.request("PUT", f"/api/v1/artifacts/{ident}", body=body, headers=h)
    return st, (tt.json.loads(data) if data else None)


def test_put(insts):
    a, b, c = insts
    for s in insts:
        tt.view(s)
    _, r = c.get("/artifacts/skill:beta")
    etag = r.getheader("ETag")
    st, body = put(a, "skill:beta", {"tags": ["Testing", "Security"],
                                     "metadata": {"description": "Beta, put", "author": None}},
                   if_match=etag)
    check(st == 200 and body["tags"] == ["Testing", "Security"],
          f"PUT /artifacts/skill:beta (tags, description) through instance 0 with 2's ETag: 200 ({st} {body})")
    row = tt.PG.psql("SELECT tags_json, description FROM artifacts WHERE tenant_id = 'default'"
                     " AND name = 'beta'", "team").strip()
    check(row == '["Testing", "Security"]|Beta, put' or row == '["Testing","Security"]|Beta, put',
          f"the row in PostgreSQL ({row})")
    for s in others(insts, a):
        d, _ = s.get("/artifacts/skill:beta")
        check(d["tags"] == ["Testing", "Security"] and d["metadata"]["description"] == "Beta, put",
              f"instance {insts.index(s)} shows the tags at its next request")
        page, _ = s.get("/artifacts?tags=security")
        check(tt.names(page) == ["skill:beta"], f"instance {insts.index(s)}: the tags filter finds it")
    st, body = put(b, "skill:beta", {"tags": ["stale"]}, if_match=etag)
    check(st == 409 and body["detail"]["error"] == "conflict",
          f"the old ETag through instance 1: 409 ({st} {body})")
    d, _ = c.get("/artifacts/skill:beta")
    check(d["tags"] == ["Testing", "Security"], "the refused PUT wrote nothing")
    st, _ = put(b, "skill:nothere", {"tags": ["x"]})
    check(st == 404, f"PUT of an unknown artifact: 404 ({st})")
    # the workers' pooled connections killed while idle: the next writes still land
    n = tt.PG.psql("SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE"
                   " datname = 'team' AND pid <> pg_backend_pid() AND"
                   " application_name <> 'skillmeat-listen'", "team").strip()
    for k, s in enumerate(insts):
        st, body = put(s, "skill:beta", {"metadata": {"description": f"after the kill {k}"}})
        check(st == 200 and body["metadata"]["description"] == f"after the kill {k}",
              f"{n} connections killed: a PUT through instance {k} lands ({st})")
    d, _ = a.get("/artifacts/skill:beta")
    check(d["metadata"]["description"] == "after the kill 2", "and is shown")


def test_delete(insts):
    a, b, c = insts
    st, _ = tt.upload(a, {"type": "skill", "name": "omega", "files": tt.skill_files("Omega")})
    check(st == 201, "upload skill:omega")
    st, body = call(a, "POST", f"/user-collections/{tt.PICKS}/artifacts",
                    {"artifact_ids": ["skill:omega"]})
    check(st == 201, f"skill:omega joins Team picks ({st})")
    for s in insts:
        tt.view(s)
        tt.view(s)
    uuid = tt.PG.psql("SELECT uuid FROM artifacts WHERE tenant_id = 'default' AND name = 'omega'",
                      "team").strip()
    had = tt.PG.psql(f"SELECT (SELECT count(*) FROM artifact_files WHERE artifact_uuid = '{uuid}')"
                     f" || ' ' || (SELECT count(*) FROM collection_artifacts WHERE"
                     f" artifact_uuid = '{uuid}')", "team").strip()
    check(had == "2 2", f"skill:omega has 2 files and 2 memberships ({had})")
    st, _ = call(b, "DELETE", "/artifacts/skill:omega")
    check(st == 204, f"DELETE /artifacts/skill:omega through instance 1: 204 ({st})")
    left = tt.PG.psql(f"SELECT (SELECT count(*) FROM artifacts WHERE uuid = '{uuid}') || ' ' ||"
                      f" (SELECT count(*) FROM artifact_files WHERE artifact_uuid = '{uuid}') || ' ' ||"
                      f" (SELECT count(*) FROM collection_artifacts WHERE artifact_uuid = '{uuid}')",
                      "team").strip()
    check(left == "0 0 0", f"its row, files and memberships are gone from PostgreSQL ({left})")
    for s in others(insts, b):
        s.get("/artifacts/skill:omega", want=404)
        tt.same_as_truth(s, f"delete: instance {insts.index(s)} at its next request")
        check("skill:omega" not in members(s, tt.PICKS),
              f"instance {insts.index(s)}: no longer a member of Team picks")
    st, _ = call(c, "DELETE", "/artifacts/skill:omega")
    check(st == 404, f"deleted again: 404 ({st})")


def keys(o):
    """The shape of an answer: its keys, nested."""
    if isinstance(o, dict):
        return {k: keys(v) for k, v in o.items()}
    return type(o).__name__ if not isinstance(o, (int, float)) or isinstance(o, bool) else "num"


def plain_answers():
    """refresh-cache and migrate-to-default of a SQLite-mode server, for their shapes."""
    h = tt.home("plain-uc")
    src = os.path.join(tt.TMP, "plain-src", "one")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "SKILL.md"), "w") as f:
        f.write("---\nname: one\ndescription: one\n---\n")
    p = tt.run(h, "add", "skill", src)
    check(p.returncode == 0, f"a personal home with one skill ({p.stderr.strip()})")
    s = tt.Server(h)
    st, uc = call(s, "POST", "/user-collections", {"name": "Mine"})
    out = {"all": call(s, "POST", "/user-collections/refresh-cache"),
           "one": call(s, "POST", f"/user-collections/{uc['id']}/refresh-cache"),
           "missing": call(s, "POST", f"/user-collections/{'ef' * 16}/refresh-cache"),
           "migrate": call(s, "POST", "/user-collections/migrate-to-default")}
    s.stop()
    return out


def revision(tenant):
    return tt.PG.psql(f"SELECT revision FROM tenants WHERE id = '{tenant}'", "team").strip()


def test_refresh(insts, url):
    a, b, c = insts
    plain = plain_answers()
    for s in insts:
        tt.view(s)
        tt.view(s)
    # an artifact written by another client without its default membership
    tt.PG.psql(tt.artifact("default", "9" * 32, "skill", "orphan", "Orphan row", [],
                           "2026-05-01T00:00:00Z"), "team")
    check("skill:orphan" not in members(b, "default"), "the orphan is in no collection yet")
    total = int(tt.PG.psql("SELECT count(*) FROM artifacts WHERE tenant_id = 'default'", "team"))
    before = len(db_members("default", "default"))
    st, body = call(a, "POST", "/user-collections/migrate-to-default")
    check(st == 200 and keys(body) == keys(plain["migrate"][1]),
          f"migrate-to-default through instance 0: 200, SQLite mode's shape ({st} {body})")
    check(body["success"] is True and body["migrated_count"] == 1
          and body["already_present_count"] == before and body["total_artifacts"] == total
          and body["metadata_cache"]["skipped_count"] == total
          and body["metadata_cache"]["updated_count"] == 0,
          f"one artifact migrated, every row skipped (the rows are the truth) ({body})")
    check("skill:orphan" in db_members("default", "default"), "the membership is a row")
    for s in others(insts, a):
        check("skill:orphan" in members(s, "default"),
              f"instance {insts.index(s)} lists it in the default collection at its next request")
        tt.same_as_truth(s, f"migrate: instance {insts.index(s)}, counts")
    rev = revision("default")
    st, body = call(b, "POST", "/user-collections/migrate-to-default")
    check(st == 200 and body["migrated_count"] == 0 and body["already_present_count"] == total,
          f"migrate again through instance 1: nothing to migrate ({body})")
    check(revision("default") == rev, "and no row changed: the revision did not move")
    st, body = call(c, "POST", "/user-collections/refresh-cache")
    ucs = int(tt.PG.psql("SELECT count(*) FROM user_collections WHERE tenant_id = 'default'", "team"))
    check(st == 200 and keys(body) == keys(plain["all"][1]),
          f"refresh-cache through instance 2: 200, SQLite mode's shape ({st} {body})")
    check(body["success"] is True and body["collections_refreshed"] == ucs
          and body["total_updated"] == 0 and body["total_skipped"] == total and body["errors"] == [],
          f"every collection, nothing re-read ({body})")
    st, body = call(a, "POST", f"/user-collections/{tt.PICKS}/refresh-cache")
    check(st == 200 and keys(body) == keys(plain["one"][1]) and body["collection_id"] == tt.PICKS
          and body["updated_count"] == 0 and body["errors"] == [],
          f"refresh-cache of one collection: SQLite mode's shape ({st} {body})")
    st, body = call(a, "POST", f"/user-collections/{'ef' * 16}/refresh-cache")
    check(st == 404 and st == plain["missing"][0] and keys(body) == keys(plain["missing"][1]),
          f"refresh-cache of an unknown collection: 404 as SQLite mode ({st} {body})")
    # tenants: acme's migrate fills acme's default only; default's collections are not acme's
    t = tt.Server(tt.home("refresh-tokens", TOKENS), "--store", url)
    tt.PG.psql(tt.artifact("acme", "8" * 32, "skill", "acme-orphan", "Acme orphan", [],
                           "2026-05-01T00:00:00Z"), "team")
    tt.PG.psql(tt.artifact("default", "7" * 32, "skill", "orphan2", "Second orphan", [],
                           "2026-05-01T00:00:00Z"), "team")
    st, body = call(t, "POST", f"/user-collections/{tt.PICKS}/refresh-cache", token="tok-acme")
    check(st == 404, f"acme's token: refresh-cache of default's collection -> 404 ({st})")
    st, body = call(t, "POST", "/user-collections/migrate-to-default", token="tok-acme")
    check(st == 200 and body["migrated_count"] == 1 and body["total_artifacts"] == int(
        tt.PG.psql("SELECT count(*) FROM artifacts WHERE tenant_id = 'acme'", "team")),
          f"acme's migrate counts acme's rows ({body})")
    check("skill:acme-orphan" in db_members("acme", "default")
          and "skill:orphan2" not in db_members("default", "default"),
          "acme's migrate filled acme's default collection, not default's")
    st, body = call(t, "POST", "/user-collections/migrate-to-default")
    check(st == 401, f"no token: 401 ({st})")
    t.stop()
    st, body = call(a, "POST", "/user-collections/migrate-to-default")
    check(st == 200 and body["migrated_count"] == 1, "default's own migrate then adds its second orphan")


def answer_hits(s):
    return tt.metrics(s).get('skillmeat_cache_hits_total{cache="answer"}', 0)


def test_answers(insts, base):
    """An update in place drops the answers that show it, and only those."""
    a, b, c = insts
    one, three = "/artifacts?limit=1", "/artifacts?limit=3"
    tt.caught_up(a, base)  # no notification goes by while the answers are made
    first, _ = a.get(one)
    top, _ = a.get(three)
    check(tt.names(first) == ["command:gamma"]
          and tt.names(top) == ["command:gamma", "skill:alpha", "skill:beta"],
          f"instance 0's answers cached ({tt.names(first)} {tt.names(top)})")
    st, body = put(b, "skill:beta", {"metadata": {"description": "Beta, in place"}})
    check(st == 200, f"PUT skill:beta's description through instance 1 ({st})")
    page, _ = c.get(three)
    check([i["metadata"]["description"] for i in page["items"]][2] == "Beta, in place",
          "instance 2 shows it at its next request")
    tt.caught_up(a, base)  # a's listener has handled it: its answers may outlive revisions
    h = answer_hits(a)
    page, _ = a.get(three)
    check([i["metadata"]["description"] for i in page["items"]][2] == "Beta, in place"
          and answer_hits(a) == h,
          "instance 0: the answer that shows skill:beta was dropped, read again (fresh, no hit)")
    page, _ = a.get(one)
    check(page == first and answer_hits(a) == h + 1,
          f"instance 0: the answer that does not show it still serves ({answer_hits(a) - h} hit)")
    # an update that moves a row (psql: another type and name) drops every answer
    tt.PG.psql(f"UPDATE artifacts SET type = 'command', name = 'aaa' WHERE uuid = '{tt.U['alpha']}'",
               "team")
    tt.caught_up(a, base)
    page, _ = a.get(one)
    check(tt.names(page) == ["command:aaa"], f"a renamed row enters the page ({tt.names(page)})")
    tt.PG.psql(f"UPDATE artifacts SET type = 'skill', name = 'alpha' WHERE uuid = '{tt.U['alpha']}'",
               "team")
    tt.caught_up(a, base)
    page, _ = a.get(one)
    check(tt.names(page) == ["command:gamma"], f"and leaves it ({tt.names(page)})")
    # a statement on another artifact's files (a frontmatter rewrite) names that artifact
    n = tt.PG.psql("UPDATE artifact_files SET content = content || '\\x0a'::bytea WHERE"
                   " tenant_id = 'default' AND artifact_uuid = (SELECT uuid FROM artifacts"
                   " WHERE tenant_id = 'default' AND name = 'delta') RETURNING path",
                   "team").split()
    tt.caught_up(a, base)
    h = answer_hits(a)
    page, _ = a.get(one)
    check(n and tt.names(page) == ["command:gamma"] and answer_hits(a) == h + 1,
          f"an update of skill:delta's files ({n}) keeps the answer that does not show it")


def test_tenants(url):
    t = tt.Server(tt.home("writes-tokens", TOKENS), "--store", url)
    before = tt.PG.psql(f"SELECT name FROM user_collections WHERE tenant_id = 'default'"
                        f" AND id = '{tt.PICKS}'", "team").strip()
    mem0 = db_members("default", tt.PICKS)
    for method, path, body in (
            ("GET", f"/user-collections/{tt.PICKS}", None),
            ("GET", f"/user-collections/{tt.PICKS}/artifacts", None),
            ("PUT", f"/user-collections/{tt.PICKS}", {"name": "Stolen"}),
            ("POST", f"/user-collections/{tt.PICKS}/artifacts", {"artifact_ids": ["skill:alpha"]}),
            ("DELETE", f"/user-collections/{tt.PICKS}/artifacts/command:gamma", None),
            ("DELETE", f"/user-collections/{tt.PICKS}", None)):
        st, got = call(t, method, path, body, token="tok-acme")
        check(st == 404, f"acme's token: {method} default's collection{path.split(tt.PICKS)[1]} -> 404 ({st})")
    after = tt.PG.psql(f"SELECT name FROM user_collections WHERE tenant_id = 'default'"
                       f" AND id = '{tt.PICKS}'", "team").strip()
    check(after == before and db_members("default", tt.PICKS) == mem0,
          "default's collection and members untouched by acme's requests")
    st, body = call(t, "POST", "/user-collections", {"name": "Team picks"}, token="tok-acme")
    check(st == 201, f"acme creates its own 'Team picks' (default has one): 201 ({st} {body})")
    uc = body["id"]
    st, body = call(t, "POST", f"/user-collections/{uc}/artifacts",
                    {"artifact_ids": ["skill:alpha", "skill:beta"]}, token="tok-acme")
    check(st == 201 and body["added_count"] == 1 and body["not_found"] == ["skill:beta"],
          f"acme's members resolve among acme's artifacts only (beta is default's) ({st} {body})")
    uuid = tt.PG.psql(f"SELECT artifact_uuid FROM collection_artifacts WHERE collection_id = '{uc}'",
                      "team").strip()
    check(uuid == tt.U["acme-alpha"], f"the member is acme's skill:alpha, not default's ({uuid})")
    got = uc_names(t, token="tok-default")
    check(list(got).count("Team picks") == 1 and got["Team picks"] == len(mem0),
          f"default's token sees its own collections only ({got})")
    st, _ = call(t, "DELETE", f"/user-collections/{uc}", token="tok-default")
    check(st == 404, f"default's token cannot delete acme's collection: 404 ({st})")
    st, _ = put(t, "skill:beta", {"tags": ["stolen"]}, token="tok-acme")
    check(st == 404, f"acme's token: PUT default's skill:beta -> 404 ({st})")
    tags = tt.PG.psql("SELECT tags_json FROM artifacts WHERE name = 'beta'", "team").strip()
    check("stolen" not in tags, f"default's tags untouched ({tags})")
    # an artifact of another tenant cannot be deleted; the same name is its own
    st, _ = call(t, "DELETE", "/artifacts/skill:beta", token="tok-acme")
    check(st == 404, f"acme's token: DELETE default's skill:beta -> 404 ({st})")
    st, _ = call(t, "DELETE", "/artifacts/skill:alpha", token="tok-acme")
    check(st == 204, f"acme deletes its own skill:alpha ({st})")
    rows = tt.PG.psql("SELECT tenant_id FROM artifacts WHERE name IN ('alpha', 'beta')"
                      " ORDER BY 1", "team").split()
    check(rows == ["default", "default"], f"default's alpha and beta stay ({rows})")
    d, _ = t.get("/artifacts/skill:alpha", token="tok-default")
    check(d["name"] == "alpha", "default's token still reads its skill:alpha")
    st, _ = call(t, "POST", "/user-collections", {"name": "x"})
    check(st == 401, f"a write without a token: 401 ({st})")
    t.stop()


def main():
    try:
        tt.PG = pgcluster.Cluster()
    except RuntimeError as e:
        tt.fail(f"cannot start PostgreSQL: {e}")
    url = tt.PG.createdb("team")
    p = tt.run(tt.home("seed"), "team", "migrate", "--store", url)
    check(p.returncode == 0, f"migrate the team database ({p.stderr.strip()})")
    tt.seed()
    base = tt.total_revision()
    insts = [tt.Server(tt.home(f"w-{n}"), "--store", url) for n in "abc"]
    for s in insts:
        tt.wait_until("the listener connected", lambda s=s: tt.listening(s))
    # uploads the members below name (delta, zeta)
    for name in ("delta", "zeta"):
        st, _ = tt.upload(insts[0], {"type": "skill", "name": name,
                                     "files": tt.skill_files(name.title())})
        check(st == 201, f"upload skill:{name}")
    test_answers(insts, base)
    test_user_collections(insts)
    test_put(insts)
    test_delete(insts)
    test_refresh(insts, url)
    for s in insts:
        s.stop()
    test_tenants(url)
    tt.cleanup()
    print(f"{tt.CHECKS} passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - any error fails the test, servers stopped
        tt.fail(f"unexpected {type(e).__name__}: {e}")
