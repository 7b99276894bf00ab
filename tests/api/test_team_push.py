#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Moving artifacts between a personal home and a team server (issue 12
point 3) on a real PostgreSQL (pgcluster.py) with the real program:

- `team push TYPE:NAME… --server URL --token T` uploads from a temporary
  personal home: the API then lists and shows them, their archive's
  X-Content-Hash is the personal lock hash (a skill with nested files whose
  path order differs from strcmp's, and a one-file command); a second push is
  refused (409) unless --force; an unknown artifact, a bad token and an
  upload whose content hash does not match its files (the server recomputes
  it) are refused and store nothing;
- `team pull` into another personal home: `list`/`show` see normal local
  artifacts, the lock hash is the team's content hash, the files are the
  pushed bytes; an unknown artifact is refused with the home unchanged;
- hostile team servers (a fake server on 127.0.0.1): garbage instead of an
  archive, a member leaving the artifact ('..', absolute), a link member, a
  file over the size limit, a wrong or missing X-Content-Hash: each refused
  with a one-line error, the personal home unchanged, nothing written
  outside it, no staging folder left behind;
- `deploy --from-team URL TYPE:NAME… --project DIR`: the team's files land in
  the project, recorded with from_collection "team:URL"; `status` shows them
  synced, then modified after a hand edit; the personal home is unchanged;
  an unknown artifact, a bad token and a hostile answer deploy nothing.

usage: test_team_push.py   (SKILLMEAT_BIN names the program)
"""
import base64
import hashlib
import http.server
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import threading
import urllib.parse
import http.client

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pgcluster  # noqa: E402

BIN = os.environ.get("SKILLMEAT_BIN") or sys.argv[1]
CHECKS = 0
LIVE = []
TMP = tempfile.mkdtemp(prefix="sm-team-push-")
STAGE = os.path.join(TMP, "tmpdir")  # the TMPDIR of every command: staging folders land here
os.makedirs(STAGE)
ENV = dict(os.environ, NO_COLOR="1", TMPDIR=STAGE)
for k in ("SKILLMEAT_API_TOKEN", "SKILLMEAT_HOST", "SKILLMEAT_PORT", "SKILLMEAT_TEAM_TOKEN"):
    ENV.pop(k, None)
PG = None
FAKE = None
TOKEN = "tok-push"


def cleanup():
    for p in LIVE:
        if p.poll() is None:
            p.kill()
            p.wait()
    if FAKE:
        FAKE.shutdown()
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


def run(home, *args, cwd=None, env=None):
    return subprocess.run([BIN, *args], env=dict(ENV, SKILLMEAT_HOME=home, **(env or {})),
                          text=True, capture_output=True, timeout=120, cwd=cwd)


def home(name, config=""):
    h = os.path.join(TMP, name)
    os.makedirs(h, exist_ok=True)
    with open(os.path.join(h, "config.toml"), "w") as f:
        f.write(config)
    return h


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())


def tree(root, skip=("cache",)):
    """Every file below root (but skip) with its bytes' SHA-256, and every folder."""
    out = {}
    for d, dirs, files in os.walk(root):
        rel = os.path.relpath(d, root)
        if rel.split(os.sep)[0] in skip:
            dirs[:] = []
            continue
        out[rel + "/"] = "dir"
        for f in files:
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                out[os.path.join(rel, f)] = hashlib.sha256(fh.read()).hexdigest()
    return out


class Server:
    def __init__(self, home_dir, *args):
        self.proc = subprocess.Popen([BIN, "serve", "--port", "0", "--threads", "1",
                                      "--no-rate-limit", *args],
                                     env=dict(ENV, SKILLMEAT_HOME=home_dir),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        LIVE.append(self.proc)
        line = self.proc.stdout.readline()
        if not line.startswith("http://"):
            self.proc.wait(30)
            fail(f"serve did not print its URL ({line!r}, {self.proc.stderr.read()!r})")
        self.url = line.strip().rstrip("/")
        u = urllib.parse.urlsplit(self.url)
        self.host, self.port = u.hostname, u.port

    def request(self, method, path, body=None, token=TOKEN):
        c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        h = {"Authorization": f"Bearer {token}"} if token else {}
        if body is not None:
            body = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c.request(method, "/api/v1" + path, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        return r.status, data, r

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            fail("server did not stop in time")
        check(rc == 0, f"server stopped (exit {rc})")


# ---- a personal home with a skill (nested files) and a command ----

SKILL = {
    "SKILL.md": "---\nname: review\ndescription: Reviews code for the team\n"
                "tags: [quality]\n---\n# Review\nLook at the diff.\n",
    # 'a-b.md' sorts before 'a/x.md' by strcmp, after it component by component
    "a-b.md": "dash\n",
    "a/x.md": "nested\n",
    "scripts/run.sh": "#!/bin/sh\necho run\n",
    "bin.dat": bytes(range(256)) * 4,
}
COMMAND = "---\ndescription: Deploys the thing\n---\nRun the deploy.\n"


def personal_home():
    h = home("personal")
    src = os.path.join(TMP, "src")
    for rel, data in SKILL.items():
        write(os.path.join(src, "review", rel), data)
    write(os.path.join(src, "ship.md"), COMMAND)
    for spec, extra in ((os.path.join(src, "review"), ["--tags", "team-pick"]),
                        (os.path.join(src, "ship.md"), ["command", "--tags", "ops-x,Release"])):
        p = run(h, "add", *extra, spec)
        check(p.returncode == 0, f"add {os.path.basename(spec)} to the personal home ({p.stderr.strip()})")
    return h


def show(h, ident):
    p = run(h, "show", ident, "--json")
    if p.returncode != 0:
        fail(f"show {ident}: {p.stderr.strip()}")
    return json.loads(p.stdout)


def lock_hash(h, ident):
    """The hash collection.lock records (and the files still have it)."""
    d = show(h, ident)
    if d["lock"]["content_hash"] != d["content_hash"] or d["locally_modified"]:
        fail(f"{ident}: the files differ from the lock ({d['content_hash']} {d['lock']})")
    return d["lock"]["content_hash"]


def test_push(team, personal):
    base = ["--server", team.url, "--token", TOKEN]
    p = run(personal, "team", "push", "skill:review", "command:ship", *base, "--json")
    check(p.returncode == 0, f"team push skill:review command:ship: exit 0 ({p.stderr.strip()})")
    out = json.loads(p.stdout)
    pushed = {x["id"]: x for x in out["pushed"]}
    check(set(pushed) == {"skill:review", "command:ship"} and out["failed"] == []
          and all(x["status"] == "created" for x in out["pushed"]),
          f"--json lists both as created ({out})")
    for ident in ("skill:review", "command:ship"):
        lh = lock_hash(personal, ident)
        check(pushed[ident]["content_hash"] == lh,
              f"{ident}: the pushed content hash is the personal lock hash ({lh})")
        st, data, r = team.request("GET", f"/artifacts/{ident}/archive")
        check(st == 200 and r.getheader("X-Content-Hash") == lh
              and r.getheader("Content-Type") == "application/gzip",
              f"{ident}: GET …/archive 200 application/gzip, X-Content-Hash = the lock hash "
              f"({st} {r.getheader('X-Content-Hash')})")
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
            got = {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}
        want = ({k: (v if isinstance(v, bytes) else v.encode()) for k, v in SKILL.items()}
                if ident == "skill:review" else {"ship.md": COMMAND.encode()})
        check(got == want, f"{ident}: the archive holds exactly the personal files ({sorted(got)})")
    st, data, _ = team.request("GET", "/artifacts/skill:review")
    d = json.loads(data)
    check(st == 200 and d["metadata"]["description"] == "Reviews code for the team"
          and "quality" in d["tags"], f"the API shows the pushed skill's metadata ({st})")
    check(set(d["tags"]) == set(show(personal, "skill:review")["tags"]) == {"quality", "team-pick"},
          f"the manifest's tags are pushed with the frontmatter's, as the home shows them ({d['tags']})")
    st, data, _ = team.request("GET", "/artifacts/command:ship")
    d = json.loads(data)
    check(st == 200 and set(d["tags"]) == {"ops-x", "Release"}
          and d["metadata"]["description"] == "Deploys the thing",
          f"a command's manifest tags are pushed ({d['tags']})")
    st, data, _ = team.request("GET", "/artifacts?limit=50")
    names = sorted(i["name"] for i in json.loads(data)["items"])
    check(names == ["review", "ship"], f"the team collection lists both ({names})")

    p = run(personal, "team", "push", "skill:review", *base)
    check(p.returncode == 1 and "409" in p.stderr and "--force" in p.stderr
          and len(p.stderr.strip().splitlines()) == 1,
          f"a second push: exit 1, one line naming 409 and --force ({p.stderr.strip()})")
    write(os.path.join(TMP, "src2", "review", "SKILL.md"),
          "---\ndescription: Second take\n---\nbody\n")
    p = run(personal, "add", os.path.join(TMP, "src2", "review"), "--force")
    check(p.returncode == 0, f"the personal skill replaced ({p.stderr.strip()})")
    p = run(personal, "team", "push", "skill:review", *base, "--force", "--json")
    out = json.loads(p.stdout or "{}")
    check(p.returncode == 0 and out["pushed"][0]["status"] == "replaced",
          f"push --force: replaced ({p.stderr.strip()} {out})")
    st, _, r = team.request("GET", "/artifacts/skill:review/archive")
    check(r.getheader("X-Content-Hash") == lock_hash(personal, "skill:review"),
          "the team copy is the new personal copy")

    p = run(personal, "team", "push", "skill:nope", *base)
    check(p.returncode == 1 and "nope" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
          f"an unknown personal artifact: exit 1, one line ({p.stderr.strip()})")
    p = run(personal, "team", "push", "command:ship", "--server", team.url, "--token", "wrong",
            "--force")
    check(p.returncode == 1 and "401" in p.stderr,
          f"a bad token: exit 1, the server's 401 ({p.stderr.strip()})")
    p = run(personal, "team", "push", "command:ship", "--server", "ftp://x")
    check(p.returncode == 1 and "http" in p.stderr, f"a non-http server URL refused ({p.stderr.strip()})")
    p = run(personal, "team", "push", "command:ship")
    check(p.returncode == 1 and "--server" in p.stderr, f"no --server: refused ({p.stderr.strip()})")

    # the server recomputes the hash of what it received
    files = [{"path": "SKILL.md", "content_base64": "LS0tCmRlc2NyaXB0aW9uOiB4Ci0tLQo="}]
    st, data, _ = team.request("POST", "/team/artifacts",
                               {"type": "skill", "name": "tampered", "files": files,
                                "content_hash": "0" * 64})
    check(st == 400 and b"content hash mismatch" in data,
          f"an upload whose files do not hash to its content_hash: 400 ({st} {data[:200]!r})")
    st, _, _ = team.request("GET", "/artifacts/skill:tampered")
    check(st == 404, f"the refused upload stored nothing ({st})")
    good = hashlib.sha256(b"SKILL.md" + b"---\ndescription: x\n---\n").hexdigest()
    st, data, _ = team.request("POST", "/team/artifacts",
                               {"type": "skill", "name": "tampered", "files": files,
                                "content_hash": good})
    check(st == 201 and json.loads(data)["content_hash"] == good,
          f"the same upload with the right content_hash: 201 ({st} {data[:200]!r})")


def test_pull(team):
    base = ["--server", team.url, "--token", TOKEN]
    h = home("pulled")
    p = run(h, "team", "pull", "skill:review", "command:ship", *base, "--json")
    check(p.returncode == 0, f"team pull into another home: exit 0 ({p.stderr.strip()})")
    out = json.loads(p.stdout)
    check(sorted(x["id"] for x in out["pulled"]) == ["command:ship", "skill:review"]
          and all(x["status"] == "added" for x in out["pulled"]), f"--json: both added ({out})")
    p = run(h, "list", "--json")
    rows = json.loads(p.stdout)
    rows = rows.get("items", rows) if isinstance(rows, dict) else rows
    check(p.returncode == 0 and sorted(r["name"] for r in rows) == ["review", "ship"],
          f"list shows both ({p.stdout[:300]})")
    for ident in ("skill:review", "command:ship"):
        st, _, r = team.request("GET", f"/artifacts/{ident}/archive")
        d = show(h, ident)
        check(lock_hash(h, ident) == r.getheader("X-Content-Hash"),
              f"{ident}: the personal lock hash is the team's content hash")
        check(d.get("origin") == "local", f"{ident}: a normal local artifact ({d.get('origin')})")
    for ident in ("skill:review", "command:ship"):
        st, data, _ = team.request("GET", f"/artifacts/{ident}")
        want = set(json.loads(data)["tags"])
        got = set(show(h, ident)["tags"])
        check(got == want, f"{ident}: pulled with the team's tags ({got} vs {want})")
    check(set(show(h, "command:ship")["tags"]) == {"ops-x", "Release"},
          "the tags pushed from the first home came back to the second")
    coll = os.path.join(h, "collections", "default")
    with open(os.path.join(coll, "commands", "ship.md"), "rb") as f:
        check(f.read() == COMMAND.encode(), "the pulled command's bytes are the pushed ones")
    with open(os.path.join(coll, "skills", "review", "SKILL.md"), "rb") as f:
        check(b"Second take" in f.read(), "the pulled skill is the team's current copy")
    st = os.listdir(STAGE)
    check(st == [], f"no staging folder left behind ({st})")

    before = tree(h)
    p = run(h, "team", "pull", "skill:nothere", *base)
    check(p.returncode == 1 and "404" in p.stderr and len(p.stderr.strip().splitlines()) == 1,
          f"pull of an unknown artifact: exit 1, one line with 404 ({p.stderr.strip()})")
    p = run(h, "team", "pull", "skill:review", "--server", team.url, "--token", "wrong")
    check(p.returncode == 1 and "401" in p.stderr, f"pull with a bad token: 401 ({p.stderr.strip()})")
    p = run(h, "team", "pull", "review", *base)
    check(p.returncode == 2, f"pull of a bare name: usage error ({p.returncode} {p.stderr.strip()})")
    check(tree(h) == before, "the refused pulls changed nothing in the home")
    p = run(h, "team", "pull", "skill:review", *base, "--json")
    check(p.returncode == 0 and json.loads(p.stdout)["pulled"][0]["status"] == "unchanged",
          f"pulling it again: unchanged ({p.returncode} {p.stdout.strip()} {p.stderr.strip()})")
    return h


# ---- a hostile team server ----

def targz(members):
    """members: (name, bytes) for files, or a tarfile.TarInfo with its data."""
    bio = io.BytesIO()
    with tarfile.open(fileobj=bio, mode="w:gz", format=tarfile.PAX_FORMAT) as tf:
        for m in members:
            if isinstance(m, tarfile.TarInfo):
                tf.addfile(m)
            else:
                name, data = m
                ti = tarfile.TarInfo(name)
                ti.size = len(data)
                tf.addfile(ti, io.BytesIO(data))
    return bio.getvalue()


def skill_hash(files):
    h = hashlib.sha256()
    for name, data in sorted(files, key=lambda f: f[0].split("/")):
        h.update(name.encode() + data)
    return h.hexdigest()


class Fake(http.server.BaseHTTPRequestHandler):
    answers = {}

    def do_GET(self):
        name = urllib.parse.unquote(self.path.split("/")[4]).split(":")[1]
        body, xhash = Fake.answers[name]
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        if xhash:
            self.send_header("X-Content-Hash", xhash)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *a):
        pass


def test_hostile(pulled):
    global FAKE
    ok_files = [("SKILL.md", b"---\ndescription: fine\n---\n")]
    link = tarfile.TarInfo("SKILL.md")
    link.type = tarfile.SYMTYPE
    link.linkname = "/etc/passwd"
    big = 65 << 20
    cases = {
        "garbage": (b"this is not gzip" * 100, "a" * 64, "not a"),
        "dotdot": (targz(ok_files + [("../../escaped.md", b"x")]), "a" * 64, "leaves the artifact"),
        "absolute": (targz(ok_files + [(os.path.join(TMP, "abs.md"), b"x")]), "a" * 64,
                     "leaves the artifact"),
        "link": (targz([link]), "a" * 64, "not a regular file"),
        "oversized": (targz(ok_files + [("big.bin", bytes(big))]), "a" * 64, "over"),
        "wronghash": (targz(ok_files), "b" * 64, "content hash mismatch"),
        "nohash": (targz(ok_files), None, "no content hash"),
        "good": (targz(ok_files), skill_hash(ok_files), None),
    }
    Fake.answers = {k: (v[0], v[1]) for k, v in cases.items()}
    FAKE = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Fake)
    threading.Thread(target=FAKE.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{FAKE.server_address[1]}"
    before = tree(pulled)
    outside = tree(TMP, skip=("pulled",))
    for name, (_, _, words) in cases.items():
        if words is None:
            continue
        p = run(pulled, "team", "pull", f"skill:{name}", "--server", url)
        check(p.returncode == 1 and words in p.stderr and len(p.stderr.strip().splitlines()) == 1,
              f"hostile answer '{name}': refused in one line naming '{words}' ({p.stderr.strip()[:200]})")
        check(tree(pulled) == before, f"hostile answer '{name}': the home is unchanged")
        check(tree(TMP, skip=("pulled",)) == outside and os.listdir(STAGE) == [],
              f"hostile answer '{name}': nothing written outside the home, no staging left")
    p = run(pulled, "team", "pull", "skill:good", "--server", url)
    check(p.returncode == 0 and lock_hash(pulled, "skill:good") == cases["good"][1],
          f"the same fake server's good answer is pulled, locked at its hash ({p.stderr.strip()})")
    return url


def test_deploy(team, fake_url):
    dh = home("deployer")
    before = tree(dh)
    proj = os.path.join(TMP, "project")
    os.makedirs(proj)
    base = ["--from-team", team.url, "--token", TOKEN, "--project", proj]
    p = run(dh, "deploy", *base, "skill:review", "command:ship", "--json")
    out = json.loads(p.stdout or "{}")
    check(p.returncode == 0 and sorted(out.get("deployed", [])) == ["command:ship", "skill:review"]
          and out["failed"] == [], f"deploy --from-team: both deployed ({p.stderr.strip()} {out})")
    for ident, rel in (("skill:review", ".claude/skills/review"),
                       ("command:ship", ".claude/commands/ship.md")):
        st, data, r = team.request("GET", f"/artifacts/{ident}/archive")
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tf:
            want = {m.name: tf.extractfile(m).read() for m in tf.getmembers() if m.isfile()}
        path = os.path.join(proj, rel)
        if os.path.isdir(path):
            got = {}
            for d, _, files in os.walk(path):
                for f in files:
                    with open(os.path.join(d, f), "rb") as fh:
                        got[os.path.relpath(os.path.join(d, f), path)] = fh.read()
        else:
            with open(path, "rb") as fh:
                got = {os.path.basename(path): fh.read()}
        check(got == want, f"{ident}: the project holds the team's files ({sorted(got)})")
    with open(os.path.join(proj, ".claude", ".skillmeat-deployed.toml")) as f:
        rec = f.read()
    check(f'"team:{team.url}"' in rec, "the records name the team server as from_collection")
    p = run(dh, "status", "--project", proj, "--json")
    st = {d["id"]: d["status"] for d in json.loads(p.stdout)["deployments"]}
    check(p.returncode == 0 and st == {"skill:review": "synced", "command:ship": "synced"},
          f"status: both synced ({st} {p.stderr.strip()})")
    p = run(dh, "deploy", *base, "skill:review", "--json")
    check(p.returncode == 0 and json.loads(p.stdout)["unchanged"] == ["skill:review"],
          f"deploying it again: unchanged ({p.stdout.strip()} {p.stderr.strip()})")
    with open(os.path.join(proj, ".claude", "commands", "ship.md"), "a") as f:
        f.write("hand edit\n")
    p = run(dh, "status", "--project", proj, "--json")
    st = {d["id"]: d["status"] for d in json.loads(p.stdout)["deployments"]}
    check(st == {"skill:review": "synced", "command:ship": "modified"},
          f"status after a hand edit of the command: modified ({st})")
    # the team copy moves on: status asks the team server (SKILLMEAT_TEAM_TOKEN)
    tok = {"SKILLMEAT_TEAM_TOKEN": TOKEN}

    def status(env=tok):
        p = run(dh, "status", "--project", proj, "--json", env=env)
        return p, {d["id"]: d["status"] for d in json.loads(p.stdout or '{"deployments": []}')["deployments"]}
    p, st = status()
    check(p.returncode == 0 and st == {"skill:review": "synced", "command:ship": "modified"}
          and p.stderr == "", f"status asking the team server: the same while it has not moved ({st} {p.stderr.strip()})")
    files = [{"path": "SKILL.md", "content_base64": base64.b64encode(
        b"---\ndescription: Third take\n---\nnew body\n").decode()}]
    code, data, _ = team.request("POST", "/team/artifacts",
                                 {"type": "skill", "name": "review", "files": files, "force": True})
    check(code == 200, f"a new skill:review pushed to the team ({code})")
    p, st = status()
    check(st == {"skill:review": "outdated", "command:ship": "modified"},
          f"status: the team's newer skill:review is outdated ({st} {p.stderr.strip()})")
    with open(os.path.join(proj, ".claude", "skills", "review", "SKILL.md"), "a") as f:
        f.write("project edit\n")
    p, st = status()
    check(st["skill:review"] == "conflict", f"changed on both sides: conflict ({st})")
    code, _, _ = team.request("DELETE", "/artifacts/command:ship")
    p, st = status()
    check(code == 204 and st["command:ship"] == "removed",
          f"gone from the team: removed ({code} {st})")
    p, st = status(env={"SKILLMEAT_TEAM_TOKEN": "wrong"})
    check(p.returncode == 0 and st == {"skill:review": "modified", "command:ship": "modified"}
          and len(p.stderr.strip().splitlines()) == 1 and "401" in p.stderr,
          f"the team server refuses the token: one warning, the states from the baseline ({st} {p.stderr.strip()})")
    check(tree(dh) == before, "the personal home is unchanged by deploy --from-team")
    check(os.listdir(STAGE) == [], "no staging folder left behind")

    empty = os.path.join(TMP, "project2")
    os.makedirs(empty)
    for args, words in ((["--from-team", team.url, "--token", TOKEN, "skill:nothere"], "404"),
                        (["--from-team", team.url, "--token", "wrong", "skill:review"], "401"),
                        (["--from-team", fake_url, "skill:good", "skill:dotdot"], "leaves the artifact"),
                        (["--from-team", fake_url, "skill:wronghash"], "content hash mismatch")):
        p = run(dh, "deploy", *args, "--project", empty)
        check(p.returncode == 1 and words in p.stderr and len(p.stderr.strip().splitlines()) == 1,
              f"deploy {' '.join(args[2:] if args[2] != '--token' else args[4:])}: refused in one line "
              f"naming '{words}' ({p.stderr.strip()[:200]})")
        check(os.listdir(empty) == [] and os.listdir(STAGE) == [],
              "nothing deployed, no staging folder left")
    p = run(dh, "deploy", "--from-team", team.url, "review", "--project", empty)
    check(p.returncode == 2, f"a bare name with --from-team: usage error ({p.stderr.strip()})")
    p = run(dh, "deploy", "--from-team", team.url, "--all", "--project", empty)
    check(p.returncode == 2, f"--all with --from-team: usage error ({p.stderr.strip()})")


def main():
    global PG
    try:
        PG = pgcluster.Cluster()
    except RuntimeError as e:
        fail(f"cannot start PostgreSQL: {e}")
    url = PG.createdb("team")
    team = Server(home("team", f'[team.tokens]\n{TOKEN} = "default"\n'), "--store", url)
    personal = personal_home()
    test_push(team, personal)
    pulled = test_pull(team)
    fake_url = test_hostile(pulled)
    test_deploy(team, fake_url)
    team.stop()
    cleanup()
    print(f"{CHECKS} passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:
        raise
    except BaseException as e:  # noqa: BLE001 - any error fails the test, servers stopped
        fail(f"unexpected {type(e).__name__}: {e}")
