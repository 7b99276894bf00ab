#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Deployments over HTTP: POST /api/v1/artifacts/{id}/deploy, /undeploy,
/sync and GET /api/v1/deployments?project_path=P against the real
`skillmeat serve --port 0`; deployments[] and deployment_stats in artifact
answers from the home's projects.toml; the CLI's deploy seen by the server.

usage: test_api_deploy.py   (SKILLMEAT_BIN names the program)
"""
import json
import os
import tomllib
import urllib.parse

import apitest as t
from apitest import check, cli, write

TMP, ENV = t.setup("sm-apid-", HOME="{tmp}")


def tree(root):
    out = {}
    for d, _, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.relpath(p, root)] = fh.read()
    return out


class Server(t.Server):
    """apitest's server without rate limits; json() answers (status, body)."""

    def __init__(self, home):
        super().__init__(home, "--no-rate-limit")

    def json(self, method, path, body=None):
        st, _, j = super().json(method, path, body)
        return st, j


def main():
    home = os.path.join(TMP, "home")
    proj = os.path.join(TMP, "proj")
    os.makedirs(proj)
    write(os.path.join(TMP, "src/canvas/SKILL.md"), "---\nname: canvas\ndescription: c\n---\nbody\n")
    write(os.path.join(TMP, "src/agents/rev.md"), "---\nname: rev\n---\nreview\n")
    cli(home, "add", os.path.join(TMP, "src/canvas"))
    cli(home, "add", "agent", os.path.join(TMP, "src/agents/rev.md"))
    s = Server(home)
    try:
        run(s, home, proj)
    finally:
        s.stop()
    t.finish()


def run(s, home, proj):
    # bad input: nothing written
    outside = os.path.join(TMP, "outside")
    for body, want in (({}, 422), ({"project_path": "relative/dir"}, 400),
                       ({"project_path": outside}, 400),
                       ({"project_path": proj, "bogus": 1}, 422),
                       ({"project_path": proj, "deployment_profile_id": "../x"}, 400),
                       ({"project_path": proj, "deployment_profile_id": "codex",
                         "all_profiles": True}, 400),
                       ({"project_path": proj, "overwrite": "yes"}, 422)):
        st, j = s.json("POST", "/artifacts/skill:canvas/deploy", body)
        check(st == want, f"deploy {body} -> {st} (want {want}): {j}")
    check(os.listdir(proj) == [] and not os.path.exists(outside), "bad deploys wrote nothing")
    st, j = s.json("POST", "/artifacts/skill:nope/deploy", {"project_path": proj})
    check(st == 404, f"unknown artifact -> 404 ({st})")

    st, j = s.json("POST", "/artifacts/skill:canvas/deploy", {"project_path": proj})
    check(st == 200 and j["success"] and j["artifact_name"] == "canvas"
          and j["artifact_type"] == "skill"
          and j["deployed_path"] == os.path.join(os.path.realpath(proj), ".claude/skills/canvas")
          and j["deployed_profiles"] == ["claude_code"] and j["deployment_profile_id"] == "claude_code",
          f"deploy answer: {j}")
    check(set(j) >= {"success", "message", "artifact_name", "artifact_type", "deployed_path",
                     "error_message", "strategy", "merge_details", "deployment_profile_id",
                     "deployed_profiles"}, "deploy answer has the original's keys")
    check(tree(os.path.join(proj, ".claude/skills/canvas")) == tree(os.path.join(TMP, "src/canvas")),
          "deployed files equal the source")
    rec = tomllib.load(open(os.path.join(proj, ".claude/.skillmeat-deployed.toml"), "rb"))["deployed"]
    check([r["artifact_name"] for r in rec] == ["canvas"], "tracking file written")
    reg = tomllib.load(open(os.path.join(home, "projects.toml"), "rb"))["projects"]
    check([p["path"] for p in reg] == [os.path.realpath(proj)], "projects.toml lists the project")

    # deployments[] and deployment_stats in the artifact answer
    st, j = s.json("GET", "/artifacts/skill:canvas")
    check(st == 200 and len(j["deployments"]) == 1
          and j["deployments"][0]["project_path"] == os.path.realpath(proj)
          and j["deployments"][0]["deployment_profile_id"] == "claude_code"
          and j["deployments"][0]["content_hash"] == rec[0]["content_hash"]
          and j["deployment_stats"]["total_deployments"] == 1,
          f"artifact answer carries its deployment: {j.get('deployments')} {j.get('deployment_stats')}")
    st, j = s.json("GET", "/artifacts/agent:rev")
    check(st == 200 and j["deployments"] == [], "an undeployed artifact has none")

    # a CLI deploy is seen by the server
    cli(home, "deploy", "rev", "--project", proj)
    st, j = s.json("GET", "/artifacts/agent:rev")
    check(st == 200 and len(j["deployments"]) == 1, f"CLI deploy seen: {j.get('deployments')}")

    st, j = s.json("GET", "/deployments?project_path=" + urllib.parse.quote(proj))
    check(st == 200 and sorted((d["artifact_id"], d["status"]) for d in j["deployments"])
          == [("agent:rev", "synced"), ("skill:canvas", "synced")], f"deployments: {j}")
    check(set(j["deployments"][0]) >= {"artifact_id", "artifact_name", "artifact_type",
                                       "profile_id", "artifact_path", "deployed_at", "status"},
          "deployment keys")
    st, j = s.json("GET", "/deployments?project_path=" + urllib.parse.quote(outside))
    check(st == 400, f"deployments of a missing folder -> 400 ({st})")

    # sync: modified in the project -> manual keeps it (conflict), theirs restores
    with open(os.path.join(proj, ".claude/skills/canvas/SKILL.md"), "a") as f:
        f.write("local edit\n")
    st, j = s.json("GET", "/deployments?project_path=" + urllib.parse.quote(proj))
    check({d["artifact_id"]: d["status"] for d in j["deployments"]}["skill:canvas"] == "modified",
          "hand edit shows as modified")
    st, j = s.json("POST", "/artifacts/skill:canvas/sync", {"project_path": proj, "strategy": "manual"})
    check(st == 200 and not j["success"] and j["conflicts"], f"sync manual: {j}")
    check("local edit" in open(os.path.join(proj, ".claude/skills/canvas/SKILL.md")).read(),
          "manual sync kept the edit")
    st, j = s.json("POST", "/artifacts/skill:canvas/sync", {"project_path": proj, "strategy": "theirs"})
    check(st == 200 and j["success"] and j["synced_files_count"] == 1, f"sync theirs: {j}")
    check("local edit" not in open(os.path.join(proj, ".claude/skills/canvas/SKILL.md")).read(),
          "theirs restored the collection copy")
    st, j = s.json("POST", "/artifacts/skill:canvas/sync", {"project_path": proj, "strategy": "bogus"})
    check(st == 422, "bad sync strategy -> 422")
    other = os.path.join(TMP, "other")
    os.makedirs(other)
    st, j = s.json("POST", "/artifacts/skill:canvas/sync", {"project_path": other})
    check(st == 404, f"sync of an undeployed artifact -> 404 ({st})")

    # a hostile tracking file is refused, nothing followed
    evil = os.path.join(TMP, "evil")
    write(os.path.join(evil, ".claude/.skillmeat-deployed.toml"),
          '[[deployed]]\nartifact_name = "canvas"\nartifact_type = "skill"\n'
          'from_collection = "default"\ndeployed_at = "2026-01-01T00:00:00"\n'
          f'artifact_path = "{outside}"\ncontent_hash = "00"\n')
    st, j = s.json("POST", "/artifacts/skill:canvas/undeploy", {"project_path": evil})
    check(st == 409 and "outside the project" in json.dumps(j), f"hostile tracking file: {st} {j}")

    # undeploy
    st, j = s.json("POST", "/artifacts/skill:canvas/undeploy", {"project_path": proj})
    check(st == 200 and j["success"], f"undeploy: {j}")
    check(not os.path.exists(os.path.join(proj, ".claude/skills/canvas")), "undeploy removed the files")
    st, j = s.json("GET", "/artifacts/skill:canvas")
    check(j["deployments"] == [] and j["deployment_stats"]["total_deployments"] == 0,
          f"deployments[] follows undeploy: {j['deployments']}")
    cli(home, "undeploy", "rev", "--project", proj)
    reg = tomllib.load(open(os.path.join(home, "projects.toml"), "rb"))["projects"]
    check(reg == [], "projects.toml drops a project with no deployment left")
    # the index is rebuilt from the files
    cli(home, "deploy", "rev", "--project", proj)
    cli(home, "cache", "rebuild")
    st, j = s.json("GET", "/artifacts/agent:rev")
    check(len(j["deployments"]) == 1, "deployments survive a cache rebuild")


if __name__ == "__main__":
    main()
