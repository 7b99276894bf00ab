#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Crash safety of every write (issue 11, point 3).

Each operation runs on a fresh copy of one small home and is stopped:
  - at each of its test points (SIGKILL at the point, and an injected failure
    at the point: the build's -Dtest_hooks=true, src/util/test_hooks.h);
  - by a real SIGKILL after a random delay.
After each stop:
  - collection.toml, collection.lock and user-collections.toml parse (tomllib);
  - a read (list --json) shows the old or the new state and changes no file;
  - the next write (an add of another artifact) leaves no leftovers
    (.sm-new-/.sm-old-/.tmp/.sm-next/journal), manifest and lock agree, and
    the state is the old or the new one — the new one whenever the operation
    was acknowledged (exit 0, or a 2xx answer from the server).

Operations: add, add --force (replace), add --all, remove, remove of a
read-only folder, edit (frontmatter, manifest and lock), collection delete,
user-collection create/add/remove, sync-pull (overwrite and merge, a
read-only folder among the pulled artifacts), rollback (with and without
RENAME_EXCHANGE: its failure injected), and the server's POST, PUT, PUT
metadata and DELETE /artifacts through the real `serve`. After the next
write, every artifact of the default collection hashes to its lock entry
(list --json: locally_modified false); sync-pull and rollback then run again
and reach the new state (convergence).

usage: test_crash.py [--random N] [--seed S] [--only NAME,...] [--quick]
  --random N: random kills per operation (default 24).
  --quick: the suite's short run: the first passage of each test point for
  add --force (every passage of its moves) and remove, a seeded sample of the points for the others
  (`make crash-test` stops at every passage of every point).
Prints one line per operation with its counts; exits 1 on the first failure.
"""
import argparse
import hashlib
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.parse

BIN = os.environ.get("SKILLMEAT_BIN")
# a memory file system when there is one: the loop is hundreds of fsync-heavy runs
TMP = tempfile.mkdtemp(prefix="sm-crash-", dir="/dev/shm" if os.access("/dev/shm", os.W_OK)
                       and not os.environ.get("TMPDIR") else None)
ENV = dict(os.environ, NO_COLOR="1", HOME=TMP)
for k in ("SKILLMEAT_API_TOKEN", "SKILLMEAT_HOST", "SKILLMEAT_PORT", "SKILLMEAT_TEST_KILL_AT",
          "SKILLMEAT_TEST_FAIL_AT", "SKILLMEAT_TEST_TRACE"):
    ENV.pop(k, None)
LIVE = []
COUNTS = {}
LEFTOVER_MARKS = (".sm-new-", ".sm-old-", ".sm-next", ".tmp", ".collection.journal",
                  ".sm-restore-", ".sm-prev-", ".sm-base-", ".sm-stage-")


def fail(msg):
    print(f"FAIL: {msg}", flush=True)
    for p in LIVE:
        if p.poll() is None:
            p.kill()
    sys.exit(1)


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)


def run(home, *args, env=None, timeout=120):
    return subprocess.run([BIN, *args], env=dict(env or ENV, SKILLMEAT_HOME=home), text=True,
                          capture_output=True, timeout=timeout)


def must(home, *args):
    p = run(home, *args)
    if p.returncode != 0:
        fail(f"skillmeat {' '.join(args)} -> {p.returncode}: {p.stderr}")
    return p


# ---------------------------------------------------------------- state

def tree_hash(path):
    h = hashlib.sha256()
    if os.path.isfile(path):
        with open(path, "rb") as f:
            h.update(f.read())
        return h.hexdigest()
    if not os.path.isdir(path):
        return None
    for d, dirs, files in sorted(os.walk(path)):
        dirs.sort()
        for f in sorted(files):
            p = os.path.join(d, f)
            h.update(os.path.relpath(p, path).encode() + b"\0")
            with open(p, "rb") as fh:
                h.update(fh.read())
    return h.hexdigest()


def load_toml(path, what):
    try:
        with open(path, "rb") as f:
            return tomllib.load(f)
    except FileNotFoundError:
        return None
    except Exception as e:  # noqa: BLE001
        fail(f"{what}: {path} does not parse: {e}")


def collection_state(cdir, what):
    """(type, name) -> (path, files hash, lock hash); checks manifest and lock agree."""
    m = load_toml(f"{cdir}/collection.toml", what)
    if m is None:
        return None
    lk = load_toml(f"{cdir}/collection.lock", what) or {}
    entries = lk.get("lock", {}).get("entries", {})
    st = {}
    for a in m.get("artifacts", []):
        key = f"{a['name']}::{a['type']}"
        if key not in entries:
            fail(f"{what}: manifest entry {key} has no lock entry")
        st[(a["type"], a["name"])] = (a["path"], tree_hash(os.path.join(cdir, a["path"])),
                                      entries[key]["content_hash"], tuple(a.get("tags", [])))
    extra = set(entries) - {f"{n}::{t}" for t, n in st}
    if extra:
        fail(f"{what}: lock entries without a manifest entry: {sorted(extra)}")
    return st


def home_state(home, what):
    cols = {}
    cdir = f"{home}/collections"
    for c in sorted(os.listdir(cdir)) if os.path.isdir(cdir) else []:
        if c.startswith("."):
            continue
        s = collection_state(f"{cdir}/{c}", what)
        if s is not None:
            cols[c] = s
    uc = load_toml(f"{home}/user-collections.toml", what) or {}
    ucs = {}
    for u in uc.get("collections", uc.get("collection", [])) if isinstance(uc, dict) else []:
        if isinstance(u, dict):
            ucs[u.get("name")] = tuple(sorted(str(x) for x in u.get("artifacts", u.get("members", []))))
    return {"collections": cols, "user_collections": ucs}


def files_parse(home, what):
    for d, _, files in os.walk(home):
        for f in files:
            if f in ("collection.toml", "collection.lock", "user-collections.toml", "config.toml"):
                load_toml(os.path.join(d, f), what)


def listed_present(home, what):
    """Every artifact the manifest a reader reads lists is on disk: a replace
    (add --force, sync-pull) never leaves a window without the artifact, not
    even between setting the old copy aside and moving the new one in."""
    d = f"{home}/collections/default"
    man = f"{d}/collection.toml"
    jp = f"{d}/.collection.journal"
    if os.path.exists(jp) and (load_toml(jp, what) or {}).get("state") == "committed" \
            and os.path.exists(f"{d}/.collection.toml.sm-next"):
        man = f"{d}/.collection.toml.sm-next"
    for a in (load_toml(man, what) or {}).get("artifacts", []):
        if not os.path.lexists(os.path.join(d, a["path"])):
            fail(f"{what}: {a['type']} {a['name']} is listed but {a['path']} is missing")


def leftovers(home):
    found = []
    for d, dirs, files in os.walk(home):
        # (sync-pull's project: its tracking file's temp copy is no home's to remove)
        if os.path.relpath(d, home).startswith(("cache", "proj")):
            continue
        for n in dirs + files:
            if any(m in n for m in LEFTOVER_MARKS):
                found.append(os.path.relpath(os.path.join(d, n), home))
    return found


def file_snapshot(home):
    snap = {}
    for d, _, files in os.walk(home):
        rel = os.path.relpath(d, home)
        if rel == "cache" or rel.startswith("cache/"):
            continue
        for f in files:
            if rel == "." and f in ("server.json", ".lock"):
                continue
            p = os.path.join(d, f)
            with open(p, "rb") as fh:
                snap[os.path.relpath(p, home)] = hashlib.sha256(fh.read()).hexdigest()
    return snap


# ---------------------------------------------------------------- fixtures

def skill(path, name, body):
    write(f"{path}/SKILL.md", f"---\nname: {name}\ndescription: {body}\n---\n# {name}\n\n{body}\n")
    write(f"{path}/notes/extra.md", f"notes of {name}: {body}\n")


def make_template():
    src = f"{TMP}/src"
    for n in ("alpha", "beta", "gamma"):
        skill(f"{src}/{n}", n, f"the {n} skill")
    write(f"{src}/tool.md", "---\ndescription: a command\n---\nrun it\n")
    skill(f"{src}/v2/alpha", "alpha", "alpha, second version")
    skill(f"{src}/new/delta", "delta", "a new skill")
    skill(f"{src}/probe/probe", "probe", "the next write")
    for i in range(6):
        skill(f"{src}/bulk/skills/bulk{i}", f"bulk{i}", f"bulk skill {i}")
    skill(f"{src}/bulk/skills/alpha", "alpha", "the alpha skill")
    home = f"{TMP}/template"
    must(home, "init")
    for n in ("alpha", "beta"):
        must(home, "add", f"{src}/{n}")
    # rollback's target: alpha and beta only (gamma and tool go, a read-only folder with them)
    must(home, "snapshot", "-m", "crash base")
    must(home, "add", f"{src}/gamma")
    must(home, "add", "command", f"{src}/tool.md")
    must(home, "init", "other")
    must(home, "add", f"{src}/gamma", "-c", "other")
    must(home, "user-collection", "create", "picks")
    must(home, "user-collection", "add", "picks", "skill:alpha", "skill:beta")
    # a read-only subfolder inside an artifact (issue 11: remove left it half deleted)
    ro = f"{home}/collections/default/skills/gamma/notes"
    os.chmod(ro, 0o555)
    # sync-pull's project: alpha, beta and gamma deployed, then changed there
    proj = f"{home}/proj"
    os.makedirs(proj)
    must(home, "deploy", "skill:alpha", "skill:beta", "skill:gamma", "--project", proj)
    for n in ("alpha", "beta", "gamma"):
        d = f"{proj}/.claude/skills/{n}"
        with open(f"{d}/SKILL.md", "a") as f:
            f.write(f"\nchanged in the project: {n}\n")
    with open(f"{proj}/.claude/skills/beta/pulled.md", "w") as f:
        f.write("a file new in the project\n")
    return home, src


def fresh(template, tag):
    home = f"{TMP}/run-{tag}"
    if os.path.exists(home):
        make_writable(home)
        shutil.rmtree(home)
    shutil.copytree(template, home, symlinks=True)
    return home


def make_writable(root):
    for d, dirs, _ in os.walk(root):
        for x in dirs:
            try:
                os.chmod(os.path.join(d, x), 0o755)
            except OSError:
                pass


# ---------------------------------------------------------------- operations

class Server:
    def __init__(self, home, env):
        self.proc = subprocess.Popen([BIN, "serve", "--port", "0"],
                                     env=dict(env, SKILLMEAT_HOME=home),
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        LIVE.append(self.proc)
        line = self.proc.stdout.readline()
        if not line.startswith("http://"):
            self.proc.kill()
            fail(f"serve did not start ({line!r}, {self.proc.stderr.read()!r})")
        u = urllib.parse.urlsplit(line.strip())
        self.host, self.port = u.hostname, u.port

    def request(self, method, path, body=None):
        c = http.client.HTTPConnection(self.host, self.port, timeout=60)
        h = {}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        c.request(method, "/api/v1" + path, body=data, headers=h)
        r = c.getresponse()
        out = r.read()
        c.close()
        return r.status, out

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(30)
        self.proc.stdout.close()
        self.proc.stderr.close()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()
                fail("server did not stop in time")
        self.proc.stdout.close()
        self.proc.stderr.close()


def base_snapshot(home):
    """The id of the template's snapshot 'crash base' (rollback's target)."""
    with open(f"{home}/snapshots/default/snapshots.toml", "rb") as f:
        return next(s["id"] for s in tomllib.load(f)["snapshots"] if s["message"] == "crash base")


def cli_op(*args, env_default=None):
    def start(home, src, env):
        snap = base_snapshot(home) if any("{snap}" in a for a in args) else ""
        argv = [a.format(src=src, home=home, snap=snap) for a in args]
        env = dict(env)
        for k, v in (env_default or {}).items():
            env.setdefault(k, v)
        return subprocess.Popen([BIN, *argv], env=dict(env, SKILLMEAT_HOME=home),
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def finish(proc, timeout=120):
        try:
            _, errtext = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.communicate()
            fail(f"{args} did not finish")
        return proc.returncode == 0, proc.returncode, errtext

    return start, finish


def server_op(method, path, body):
    """Start a server, send one request; the process stopped is the server."""
    class Run:
        def __init__(self, home, src, env):
            self.srv = Server(home, env)
            # test points the server passed while starting (server.json) are not the request's
            trace = env.get("SKILLMEAT_TEST_TRACE")
            self.startup_steps = (len(open(trace).read().split())
                                  if trace and os.path.exists(trace) else 0)
            b = json.loads(json.dumps(body).replace("{src}", src)) if body else None
            self.result = None
            import threading

            def go():
                try:
                    self.result = self.srv.request(method, path, b)
                except (OSError, http.client.HTTPException) as e:
                    self.result = (None, str(e).encode())
            self.t = threading.Thread(target=go)
            self.t.start()
            self.pid = self.srv.proc.pid

        def send_signal(self, sig):
            if self.srv.proc.poll() is None:
                self.srv.proc.send_signal(sig)

        def poll(self):
            return None if self.t.is_alive() else 0

    def start(home, src, env):
        return Run(home, src, env)

    def finish(run, timeout=120):
        run.t.join(timeout)
        if run.t.is_alive():
            run.srv.kill()
            run.t.join(30)
            fail(f"{method} {path} did not finish")
        st, out = run.result
        acked = st is not None and 200 <= st < 300
        if run.srv.proc.poll() is None:
            run.srv.stop()
        else:
            run.srv.kill()
        return acked, st, out.decode(errors="replace")

    return start, finish


OPS = {
    "add": cli_op("add", "{src}/new/delta"),
    "add-force": cli_op("add", "--force", "{src}/v2/alpha"),
    "add-all": cli_op("add", "--all", "{src}/bulk"),
    "remove": cli_op("remove", "-f", "skill:beta"),
    "remove-readonly": cli_op("remove", "-f", "skill:gamma"),
    "edit": cli_op("edit", "skill:alpha", "--description", "edited by the crash test"),
    "collection-delete": cli_op("collection", "delete", "other", "--force"),
    "uc-create": cli_op("user-collection", "create", "fresh"),
    "uc-add": cli_op("user-collection", "add", "picks", "default/skill:gamma"),
    "uc-remove": cli_op("user-collection", "remove", "picks", "skill:alpha"),
    "sync-pull": cli_op("sync-pull", "{home}/proj", "--strategy", "overwrite"),
    "sync-pull-merge": cli_op("sync-pull", "{home}/proj", "--strategy", "merge"),
    "rollback": cli_op("rollback", "{snap}", "-y"),
    # a file system without RENAME_EXCHANGE: the restore's two renames
    "rollback-noexchange": cli_op("rollback", "{snap}", "-y",
                                  env_default={"SKILLMEAT_TEST_FAIL_AT": "restore-no-exchange"}),
    "api-post": server_op("POST", "/artifacts", {"source_type": "local",
                                                 "source": "{src}/new/delta",
                                                 "artifact_type": "skill"}),
    "api-post-force": server_op("POST", "/artifacts", {"source_type": "local",
                                                       "source": "{src}/v2/alpha",
                                                       "artifact_type": "skill",
                                                       "force": True}),
    "api-put": server_op("PUT", "/artifacts/skill:alpha", {"tags": ["edited", "x"]}),
    "api-edit": server_op("PUT", "/artifacts/skill:alpha/metadata",
                          {"description": "edited through the API", "tags": ["api"]}),
    "api-delete": server_op("DELETE", "/artifacts/skill:beta", None),
}


# ---------------------------------------------------------------- one stop

def check_after(name, home, src, old, new, acked, how):
    what = f"{name} ({how})"
    files_parse(home, what)
    if name in ("add-force", "sync-pull", "sync-pull-merge"):
        listed_present(home, what)
    # a read shows old or new and changes nothing
    before = file_snapshot(home)
    p = run(home, "list", "--json")
    # (without RENAME_EXCHANGE the restore has a window between its two renames
    # where the collection is set aside: a read finds none, the next write puts it back)
    gap = name == "rollback-noexchange" and "does not exist" in p.stderr and \
        any(".default.sm-prev-" in x for x in os.listdir(f"{home}/collections"))
    if p.returncode != 0 and not gap:
        fail(f"{what}: list after the stop -> {p.returncode}: {p.stderr}")
    if file_snapshot(home) != before:
        fail(f"{what}: a read changed collection files")
    # the next write recovers
    p = run(home, "add", f"{src}/probe/probe")
    if p.returncode != 0:
        fail(f"{what}: the next write failed: {p.stderr}")
    lo = leftovers(home)
    if lo:
        fail(f"{what}: leftovers after the next write: {lo}")
    agree(home, what)
    st = home_state(home, what)
    del st["collections"]["default"][("skill", "probe")]
    if st == new:
        got = "new"
    elif acked:
        fail(f"{what}: acknowledged, but the new state is lost:\n got {st}\n new {new}")
    elif st != old:
        fail(f"{what}: neither the old nor the new state:\n got {st}\n old {old}\n new {new}")
    else:
        got = "old"
    if name.startswith(("sync-pull", "rollback")):
        # the next run converges: the new state (a rollback drops the probe)
        start, finish = OPS[name]
        ok, rc, errtext = finish(start(home, src, ENV))
        if not ok:
            fail(f"{what}: the next run failed ({rc}): {errtext}")
        st = home_state(home, what)
        st["collections"]["default"].pop(("skill", "probe"), None)
        if st != new:
            fail(f"{what}: the next run did not reach the new state:\n got {st}\n new {new}")
        if leftovers(home):
            fail(f"{what}: leftovers after the next run: {leftovers(home)}")
        agree(home, what)
    return got


def agree(home, what):
    """Every artifact of the default collection hashes to its lock entry."""
    p = run(home, "list", "--json")
    if p.returncode != 0:
        fail(f"{what}: list -> {p.returncode}: {p.stderr}")
    bad = [a["name"] for a in json.loads(p.stdout) if a["locally_modified"]]
    if bad:
        fail(f"{what}: files and lock disagree (locally modified) for {bad}")


def reference(name, template, src):
    """old and new state of an operation run without interruption."""
    start, finish = OPS[name]
    home = fresh(template, "ref")
    old = home_state(home, name)
    trace = f"{TMP}/trace"
    if os.path.exists(trace):
        os.unlink(trace)
    proc = start(home, src, dict(ENV, SKILLMEAT_TEST_TRACE=trace))
    skip = getattr(proc, "startup_steps", 0)
    ok, rc, errtext = finish(proc)
    if not ok:
        fail(f"{name}: the uninterrupted run failed ({rc}): {errtext}")
    if leftovers(home):
        fail(f"{name}: leftovers after an uninterrupted run: {leftovers(home)}")
    new = home_state(home, name)
    if name == "remove-readonly" and os.path.exists(f"{home}/collections/default/skills/gamma"):
        fail("remove of an artifact with a read-only folder left its files")
    if new == old:
        fail(f"{name}: the operation changed nothing")
    steps = []
    seen = {}
    if os.path.exists(trace):
        for i, line in enumerate(open(trace).read().split()):
            seen[line] = seen.get(line, 0) + 1
            if i >= skip:
                steps.append(f"{line}#{seen[line]}")
    return old, new, steps


def one(name, template, src, old, new, env, tag, kill_after=None):
    start, finish = OPS[name]
    home = fresh(template, tag)
    proc = start(home, src, env)
    if kill_after is not None:
        deadline = time.monotonic() + kill_after
        while time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.0005)
        if hasattr(proc, "srv"):
            proc.send_signal(signal.SIGKILL)
        elif proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
    acked, rc, errtext = finish(proc)
    return home, acked, rc, errtext


def duration(name, template, src):
    """Seconds from the start of an uninterrupted run to its end (a server's: its answer)."""
    start, finish = OPS[name]
    proc = start(fresh(template, "t"), src, ENV)
    t0 = time.monotonic()
    while proc.poll() is None:
        time.sleep(0.0005)
    span = time.monotonic() - t0
    finish(proc)
    return span


def run_op(name, template, src, nrandom, rng, quick):
    old, new, steps = reference(name, template, src)
    fails = steps
    if quick:
        # the suite's short run: each test point once (its first passage) for
        # the two longest sequences, a seeded sample of them for the others
        # (and every move of add --force: a kill between two is the window
        # where a replace could leave its artifact missing)
        firsts = {}
        for st in steps:
            key = st if name == "add-force" and st.startswith("commit-move#") else st.split("#")[0]
            firsts.setdefault(key, st)
        steps = fails = list(firsts.values())
        if name not in ("add-force", "remove"):
            steps = rng.sample(steps, min(3, len(steps)))
            fails = rng.sample(fails, min(2, len(fails)))
    counts = {"kill": 0, "fail": 0, "random": 0, "old": 0, "new": 0}
    hooked = bool(steps)
    if not hooked and name not in ("uc-create", "uc-add", "uc-remove"):
        fail(f"{name}: no test points passed: is the build configured with -Dtest_hooks=true?")
    for i, step in enumerate(steps):
        home, acked, rc, _ = one(name, template, src, old, new,
                                 dict(ENV, SKILLMEAT_TEST_KILL_AT=step), f"k{i}")
        if acked and not name.startswith("api-"):
            fail(f"{name}: a kill at {step} did not stop the command")
        counts[check_after(name, home, src, old, new, acked, f"SIGKILL at {step}")] += 1
        counts["kill"] += 1
    for i, step in enumerate(fails):
        home, acked, rc, errtext = one(name, template, src, old, new,
                                       dict(ENV, SKILLMEAT_TEST_FAIL_AT=step), f"f{i}")
        if not acked:
            # a failure reported: nothing changed and nothing left behind, at once
            if leftovers(home):
                fail(f"{name}: failure at {step} left {leftovers(home)}")
            # (a failed fsync of the folder after the rename cannot take the file back)
            if home_state(home, name) != old and not step.startswith("atomic-write-renamed"):
                fail(f"{name}: failure at {step} reported, but the state changed")
        counts[check_after(name, home, src, old, new, acked, f"failure at {step}")] += 1
        counts["fail"] += 1
    # real kills at random times over about the operation's own duration (a
    # server's: from its request sent to the answer, not its start and stop)
    span = max(duration(name, template, src), 0.005)
    for i in range(nrandom):
        delay = rng.uniform(0, span * 1.2)
        home, acked, rc, _ = one(name, template, src, old, new, ENV, f"r{i}", kill_after=delay)
        counts[check_after(name, home, src, old, new, acked, f"random SIGKILL after {delay:.4f}s")] += 1
        counts["random"] += 1
    return counts


def main():
    global BIN
    ap = argparse.ArgumentParser()
    ap.add_argument("--random", type=int, default=24)
    ap.add_argument("--seed", type=int, default=None)
    ap.add_argument("--only", default="")
    ap.add_argument("--quick", action="store_true",
                    help="stop only at the first passage of each test point")
    a = ap.parse_args()
    if not BIN:
        fail("SKILLMEAT_BIN is not set")
    seed = a.seed if a.seed is not None else int(time.time())
    rng = random.Random(seed)
    print(f"seed {seed}", flush=True)
    template, src = make_template()
    names = [n for n in OPS if not a.only or n in a.only.split(",")]
    total = 0
    for name in names:
        c = run_op(name, template, src, a.random, rng, a.quick)
        n = c["kill"] + c["fail"] + c["random"]
        total += n
        print(f"ok - {name}: {n} stops ({c['kill']} kills and {c['fail']} failures at test "
              f"points, {c['random']} random kills): {c['old']} old, {c['new']} new state",
              flush=True)
    print(f"{total} stops, all consistent", flush=True)


if __name__ == "__main__":
    try:
        main()
    finally:
        for p in LIVE:
            if p.poll() is None:
                p.kill()
        make_writable(TMP)
        shutil.rmtree(TMP, ignore_errors=True)
