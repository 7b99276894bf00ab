#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Search: full text over name, title, description, tags and every text file
of the artifact, ranked, typo-tolerant, with the same matches from the CLI
(`search`), /artifacts?search= and /user-collections/{id}/artifacts?search=.
The corpus is imported; the expected set for `kubectl` is computed here from
the files themselves.

usage: test_search.py   (SKILLMEAT_BIN and SKILLMEAT_SHARED set)
"""
import json
import os
import re
import sqlite3
import urllib.parse

import apitest
from apitest import Server, check, cli, fail, write

TMP, ENV = apitest.setup("sm-search-", SKILLMEAT_CACHE_COUNT_TTL_SECONDS="3600",
                          SKILLMEAT_GITHUB_URL="file://{tmp}/gh", GIT_CONFIG_NOSYSTEM="1",
                          HOME="{tmp}")

WORD = re.compile(r"(?<![A-Za-z0-9])kubectl", re.I)


def text_files(path):
    """The artifact's files as the index reads them: valid UTF-8 without NUL."""
    paths = [path] if os.path.isfile(path) else [
        os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs]
    for p in paths:
        if os.path.islink(p):
            continue
        with open(p, "rb") as f:
            b = f.read()
        if b"\0" in b:
            continue
        try:
            yield b.decode("utf-8")
        except UnicodeDecodeError:
            continue


def walk_pages(s, path, limit):
    """Every item of a search through its cursors, and each page's total_count."""
    items, totals, after = [], [], None
    for _ in range(200):
        q = f"{path}{'&' if '?' in path else '?'}limit={limit}" + (
            f"&after={urllib.parse.quote(after)}" if after else "")
        st, _, j = s.json("GET", q)
        if st != 200:
            fail(f"GET {q} -> {st} {j}")
        items += j["items"]
        totals.append(j["page_info"]["total_count"])
        if not j["page_info"]["has_next_page"]:
            return items, totals
        after = j["page_info"]["end_cursor"]
    fail(f"{path}: no last page after 200 pages")


def user_collection_pages(s, expected):
    """A search inside a user collection: the matches among its members only,
    in the page order, through cursors (sorts too), each item as the plain
    listing of the collection shows it (membership fields included), and
    the same total on every page; a collection holding every artifact and
    one holding a few give the same answers as their plain listings."""
    items, totals = walk_pages(s, "/user-collections/default/artifacts", 100)
    plain = {i["id"]: i for i in items}
    check(len(plain) == totals[0] and expected <= set(plain),
          f"the default collection lists every artifact ({len(plain)})")
    for sort in ("", "&sort=name", "&sort=added"):
        items, totals = walk_pages(s, f"/user-collections/default/artifacts?search=kubectl{sort}", 3)
        ids = [i["id"] for i in items]
        check(set(ids) == expected and len(ids) == len(expected)
              and totals == [len(expected)] * len(totals),
              f"default collection search{sort} through pages of 3: every match once, "
              f"total {len(expected)} on each page ({totals})")
        check(all(i == plain[i["id"]] for i in items),
              f"each item{sort} is the one the plain listing shows")
    # a user collection of some kubectl matches and some others
    some = sorted(expected)[: max(2, len(expected) // 2)]
    others = [i for i in sorted(plain) if i not in expected][:5]
    st, _, uc = s.json("POST", "/user-collections", {"name": "Search subset"})
    check(st == 201, f"POST /user-collections -> {st}")
    cid = uc["id"]
    st, _, j = s.json("POST", f"/user-collections/{cid}/artifacts", {"artifact_ids": some + others})
    check(st == 201 and j["added_count"] == len(some) + len(others), f"members added {j}")
    sub, _ = walk_pages(s, f"/user-collections/{cid}/artifacts", 100)
    subplain = {i["id"]: i for i in sub}
    check(set(subplain) == set(some + others), "the subset's plain listing")
    items, totals = walk_pages(s, f"/user-collections/{cid}/artifacts?search=kubectl", 2)
    ids = [i["id"] for i in items]
    check(ids == sorted(ids, key=lambda x: (x.split(":")[0], x.split(":", 1)[1]))
          and set(ids) == set(some) and totals == [len(some)] * len(totals),
          f"subset search: only its members that match, in order, total {len(some)} ({ids}, {totals})")
    check(all(i == subplain[i["id"]] for i in items), "subset search items as listed (membership fields)")
    st, _, j = s.json("GET", f"/user-collections/{cid}/artifacts?search=kubectl&artifact_type=agent")
    agents = {i for i in some if i.startswith("agent:")}
    check(st == 200 and {i["id"] for i in j["items"]} == agents
          and j["page_info"]["total_count"] == len(agents), "subset search with a type filter")
    st, _, j = s.json("GET", f"/user-collections/{cid}/artifacts?search=zzqqxxnothing")
    check(st == 200 and j["items"] == [] and j["page_info"]["total_count"] == 0
          and not j["page_info"]["has_next_page"], "no match: empty page, total 0")


def integrity(home):
    """FTS5's own check that the index holds exactly the documents' tokens."""
    db = sqlite3.connect(os.path.join(home, "cache", "metadata.db"))
    try:
        db.execute("INSERT INTO artifact_fts (artifact_fts) VALUES ('integrity-check')")
        return True
    except sqlite3.DatabaseError as e:
        print(f"integrity-check: {e}", flush=True)
        return False
    finally:
        db.close()


def stored_once(home, src):
    """The text is stored once (the index reads the documents: external
    content), and every kind of change keeps the index equal to them."""
    db = sqlite3.connect(f"file:{home}/cache/metadata.db?mode=ro", uri=True)
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master")}
    db.close()
    check("artifact_search" in names and "artifact_fts_content" not in names
          and "artifact_text" not in names, "the text is stored once: no copy inside the index")
    check(integrity(home), "the index matches the documents after the bulk import and the adds")
    cli(home, "edit", "skill:quokkaflux-helper", "--description", "zebrafinchery aid", "--tag", "wombatish")
    got = [a["id"] for a in json.loads(cli(home, "search", "zebrafinchery", "--json").stdout)]
    check(got == ["skill:quokkaflux-helper"], f"an edited description is found ({got})")
    got = [a["id"] for a in json.loads(cli(home, "search", "wombatish", "--json").stdout)]
    check(got == ["skill:quokkaflux-helper"], f"an edited tag is found ({got})")
    got = [a["id"] for a in json.loads(cli(home, "search", "Helps", "--limit", "1000", "--json").stdout)]
    check("skill:quokkaflux-helper" not in got, "the old description is no longer found")
    body = os.path.join(home, "collections", "default", "skills", "aaa-body", "references", "more.md")
    write(body, "shallow marmosetry text\n")
    cli(home, "cache", "refresh")
    got = [a["id"] for a in json.loads(cli(home, "search", "marmosetry", "--json").stdout)]
    check(got == ["skill:aaa-body"], f"changed body text is found after a refresh ({got})")
    got = [a["id"] for a in json.loads(cli(home, "search", "deep", "--limit", "1000", "--json").stdout)]
    check("skill:aaa-body" not in got, "the old body text is no longer found")
    cli(home, "remove", "skill:aaa-body")
    got = [a["id"] for a in json.loads(cli(home, "search", "quokkaflux", "--json").stdout)]
    check(got == ["skill:quokkaflux-helper"], f"a removed artifact is not found ({got})")
    check(integrity(home), "the index matches the documents after an edit, a body change and a remove")
    cli(home, "cache", "rebuild")
    check(integrity(home), "and after a rebuild")


def main():
    shared = os.environ["SKILLMEAT_SHARED"]
    home = os.path.join(TMP, "home")
    p = cli(home, "add", "--all", os.path.join(shared, "corpus", "wshobson-agents"),
            "--on-clash", "rename", "--json")
    added = json.loads(p.stdout)["added"]
    check(added > 300, f"the corpus imported ({added})")
    coll = os.path.join(home, "collections", "default")
    arts = json.loads(cli(home, "list", "--json").stdout)
    expected = set()
    for a in arts:
        if any(WORD.search(t) for t in text_files(os.path.join(coll, a["path"]))):
            expected.add(a["id"])
    check(len(expected) >= 5, f"the corpus has artifacts mentioning kubectl ({len(expected)})")

    got = json.loads(cli(home, "search", "kubectl", "--limit", "1000", "--json").stdout)
    ids = [a["id"] for a in got]
    check(set(ids) == expected and len(ids) == len(expected),
          f"search kubectl finds exactly the artifacts whose text has it "
          f"(missing {sorted(expected - set(ids))[:5]}, extra {sorted(set(ids) - expected)[:5]})")
    got = json.loads(cli(home, "search", "kubectl", "--json").stdout)
    check(len(got) == min(20, len(expected)), "--limit defaults to 20")
    got = json.loads(cli(home, "search", "kubectl", "--limit", "3", "--json").stdout)
    check(len(got) == 3, "--limit 3")
    check(cli(home, "search", "kubectl", "--limit", "0", ok=False).returncode == 2, "--limit 0 is a usage error")
    # prefix and typo tolerance
    got = {a["id"] for a in json.loads(cli(home, "search", "kubect", "--limit", "1000", "--json").stdout)}
    check(expected <= got, "a prefix matches")
    got = {a["id"] for a in json.loads(cli(home, "search", "kubctl", "--limit", "1000", "--json").stdout)}
    check(expected <= got, "a typo (one letter missing) still finds them")

    # ranking: a name match above a body-only match (the body one mentions it more)
    src = os.path.join(TMP, "src")
    write(os.path.join(src, "quokkaflux-helper", "SKILL.md"),
          "---\nname: quokkaflux-helper\ndescription: Helps.\n---\nNothing else.\n")
    write(os.path.join(src, "aaa-body", "SKILL.md"),
          "---\nname: aaa-body\ndescription: Other.\n---\n" + "quokkaflux " * 50 + "\n")
    write(os.path.join(src, "aaa-body", "references", "more.md"), "deep quokkaflux text\n")
    cli(home, "add", os.path.join(src, "quokkaflux-helper"))
    cli(home, "add", os.path.join(src, "aaa-body"))
    got = [a["id"] for a in json.loads(cli(home, "search", "quokkaflux", "--json").stdout)]
    check(got == ["skill:quokkaflux-helper", "skill:aaa-body"], f"the name match ranks first ({got})")
    got = [a["id"] for a in json.loads(cli(home, "search", "deep", "--limit", "1000", "--json").stdout)]
    check("skill:aaa-body" in got, "text of a file under references/ is searched")

    # the same matches through the API, on /artifacts and on a user-collection page
    s = Server(home, "--no-rate-limit", "--threads", "2")
    seen, after = [], None
    while True:
        q = "/artifacts?search=kubectl&limit=7" + (f"&after={urllib.parse.quote(after)}" if after else "")
        st, _, j = s.json("GET", q)
        check(st == 200, f"GET {q}")
        seen += [i["id"] for i in j["items"]]
        total = j["page_info"]["total_count"]
        if not j["page_info"]["has_next_page"]:
            break
        after = j["page_info"]["end_cursor"]
    check(set(seen) == expected and total == len(expected), "/artifacts?search= gives the same set")
    st, _, j = s.json("GET", "/user-collections/default/artifacts?search=kubectl&limit=100")
    check(st == 200 and {i["id"] for i in j["items"]} == expected
          and j["page_info"]["total_count"] == len(expected),
          "/user-collections/default/artifacts?search= gives the same set")
    st, _, j = s.json("GET", "/user-collections/default/artifacts?search=kubctl&limit=100")
    check(st == 200 and expected <= {i["id"] for i in j["items"]}, "typos on the collection page too")
    user_collection_pages(s, expected)
    rc, _, err = s.stop()
    check(rc == 0, "server stops cleanly")
    stored_once(home, src)
    apitest.finish()


if __name__ == "__main__":
    main()
