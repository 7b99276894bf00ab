#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""SIGKILL at random points of deploy, undeploy, sync-pull and rollback
(the real binary): after every kill the tracking file parses, every deployed
or collection artifact is whole (its old or its new content, never half),
collection.toml and collection.lock parse and agree (once a write has
recovered an interrupted sync-pull: every artifact has its lock entry, whose
hash is its version's), and the next run converges and leaves no temp of the
tracking file.

Runs per operation: SKILLMEAT_KILL_RUNS (default 30). Kill points are drawn
uniformly over the duration of an uninterrupted run measured first, plus a
few immediate kills; the seed is printed (SKILLMEAT_KILL_SEED replays it).
"""
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib

BIN = os.environ["SKILLMEAT_BIN"]
RUNS = int(os.environ.get("SKILLMEAT_KILL_RUNS", "30"))
SEED = int(os.environ.get("SKILLMEAT_KILL_SEED", str(int(time.time()))))
N = 10  # skills per run
TMP = tempfile.mkdtemp(prefix="sm-kill-")
ENV = dict(os.environ, NO_COLOR="1", HOME=TMP)
CHECKS = 0
rng = random.Random(SEED)
print(f"seed {SEED}, {RUNS} runs per operation", flush=True)


def fail(msg):
    print(f"FAIL: {msg} (seed {SEED})", flush=True)
    sys.exit(1)


def cli(home, *args, ok=True):
    p = subprocess.run([BIN, "--home", home, *args], env=ENV, text=True, capture_output=True,
                       timeout=300)
    if ok and p.returncode != 0:
        fail(f"skillmeat {' '.join(args)} -> {p.returncode}: {p.stderr}")
    return p


def content(version, i):
    return {"SKILL.md": f"---\nname: s{i}\n---\n{version} body of s{i}\n" + "x" * 2000 * (i % 5),
            "ref/notes.txt": f"{version} notes {i}\n" * 50,
            "ref/deep/more.txt": f"{version} more {i}\n"}


def write_skill(d, version, i):
    if os.path.exists(d):
        shutil.rmtree(d)
    for rel, text in content(version, i).items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "w") as f:
            f.write(text)


def read_tree(d):
    out = {}
    for root, _, files in os.walk(d):
        for f in files:
            p = os.path.join(root, f)
            with open(p) as fh:
                out[os.path.relpath(p, d)] = fh.read()
    return out


def whole(d, i, versions, what):
    """d holds exactly one version's files (or is absent when None is allowed)."""
    if not os.path.exists(d):
        if None in versions:
            return
        fail(f"{what}: {d} is missing")
    t = read_tree(d)
    if not any(v is not None and t == content(v, i) for v in versions):
        fail(f"{what}: {d} is half-written: {sorted(t)}")


def tracking(proj):
    p = os.path.join(proj, ".claude/.skillmeat-deployed.toml")
    if not os.path.exists(p):
        return []
    try:
        with open(p, "rb") as f:
            return tomllib.load(f)["deployed"]
    except Exception as e:  # noqa: BLE001
        fail(f"tracking file does not parse after a kill: {e}")


def no_temps(proj, what):
    """The next run removed a killed run's temp of the tracking file."""
    left = [x for x in os.listdir(os.path.join(proj, ".claude"))
            if x.startswith("..skillmeat-deployed.toml.")]
    if left:
        fail(f"{what}: the tracking file's temps are left: {left}")


def setup(tag):
    base = os.path.join(TMP, tag)
    home, proj, src = (os.path.join(base, x) for x in ("home", "proj", "src"))
    os.makedirs(proj)
    for i in range(N):
        write_skill(os.path.join(src, f"s{i}"), "A", i)
    cli(home, "add", "--all", src)
    return base, home, proj


def coll(home, i):
    return os.path.join(home, "collections/default/skills", f"s{i}")


def deployed(proj, i):
    return os.path.join(proj, ".claude/skills", f"s{i}")


def timed(home, *args):
    t0 = time.monotonic()
    cli(home, *args)
    return time.monotonic() - t0


def kill_during(home, delay, *args):
    p = subprocess.Popen([BIN, "--home", home, *args], env=ENV, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    time.sleep(delay)
    p.send_signal(signal.SIGKILL)
    p.wait()


def delays(duration):
    d = [0.0, 0.001, 0.003]
    while len(d) < RUNS:
        d.append(rng.uniform(0, duration * 1.2))
    return d[:RUNS]


def status(home, proj):
    import json
    p = cli(home, "--json", "status", "--project", proj)
    return {x["name"]: x["status"] for x in json.loads(p.stdout)["deployments"]}


def op_deploy():
    global CHECKS
    base, home, proj = setup("deploy")
    cli(home, "deploy", "--all", "--project", proj)
    for i in range(N):
        write_skill(coll(home, i), "B", i)
    dur = timed(home, "deploy", "--all", "--project", proj)
    for n, delay in enumerate(delays(dur)):
        # back to A everywhere, then a killed deploy of B
        for i in range(N):
            write_skill(coll(home, i), "A", i)
        cli(home, "deploy", "--all", "--project", proj, "--overwrite")
        for i in range(N):
            write_skill(coll(home, i), "B", i)
        kill_during(home, delay, "deploy", "--all", "--project", proj)
        tracking(proj)
        for i in range(N):
            whole(deployed(proj, i), i, ("A", "B"), f"deploy run {n}")
        cli(home, "deploy", "--all", "--project", proj)
        st = status(home, proj)
        if st != {f"s{i}": "synced" for i in range(N)}:
            fail(f"deploy run {n} did not converge: {st}")
        no_temps(proj, f"deploy run {n}")
        for i in range(N):
            whole(deployed(proj, i), i, ("B",), f"deploy run {n} after the rerun")
        CHECKS += 1
    print(f"ok - deploy: {RUNS} kills", flush=True)


def op_undeploy():
    global CHECKS
    base, home, proj = setup("undeploy")
    names = [f"s{i}" for i in range(N)]
    cli(home, "deploy", "--all", "--project", proj)
    dur = timed(home, "undeploy", *names, "--project", proj)
    for n, delay in enumerate(delays(dur)):
        cli(home, "deploy", "--all", "--project", proj)
        kill_during(home, delay, "undeploy", *names, "--project", proj)
        recs = tracking(proj)
        for i in range(N):
            whole(deployed(proj, i), i, ("A", None), f"undeploy run {n}")
        left = [r["artifact_name"] for r in recs]
        for name in left:
            if not os.path.exists(deployed(proj, int(name[1:]))):
                pass  # removed before the record: status says missing, undeploy drops it
        if left:
            cli(home, "undeploy", *left, "--project", proj)
        if tracking(proj) or any(os.path.exists(deployed(proj, i)) for i in range(N)):
            fail(f"undeploy run {n} did not converge")
        CHECKS += 1
    print(f"ok - undeploy: {RUNS} kills", flush=True)


def lock_hashes(home):
    """name -> content_hash of the lock; every manifest entry has one."""
    d = os.path.join(home, "collections/default")
    try:
        with open(os.path.join(d, "collection.toml"), "rb") as f:
            names = [a["name"] for a in tomllib.load(f)["artifacts"]]
        with open(os.path.join(d, "collection.lock"), "rb") as f:
            entries = tomllib.load(f)["lock"]["entries"]
    except Exception as e:  # noqa: BLE001
        fail(f"collection.toml or collection.lock does not parse after a kill: {e}")
    missing = [n for n in names if f"{n}::skill" not in entries]
    if missing:
        fail(f"lock entries missing after a kill: {missing}")
    return {n: entries[f"{n}::skill"]["content_hash"] for n in names}


def version_of(d, i, versions):
    t = read_tree(d)
    return next(v for v in versions if t == content(v, i))


def op_sync_pull():
    global CHECKS
    base, home, proj = setup("sync")
    cli(home, "config", "set", "snapshot.keep", "3")
    cli(home, "deploy", "--all", "--project", proj)
    for i in range(N):
        write_skill(deployed(proj, i), "P", i)
    dur = timed(home, "sync-pull", proj, "--strategy", "overwrite")
    hashes = {("P", k): h for k, h in lock_hashes(home).items()}
    for n, delay in enumerate(delays(dur)):
        for i in range(N):
            write_skill(coll(home, i), "A", i)
        cli(home, "update")  # the lock follows the hand edit: A under A's hashes
        cli(home, "deploy", "--all", "--project", proj, "--overwrite")
        for i in range(N):
            write_skill(deployed(proj, i), "P", i)
        before = lock_hashes(home)
        kill_during(home, delay, "sync-pull", proj, "--strategy", "overwrite")
        tracking(proj)
        with open(os.path.join(home, "collections/default/collection.lock"), "rb") as f:
            tomllib.load(f)
        for i in range(N):
            whole(coll(home, i), i, ("A", "P"), f"sync-pull run {n}")
            whole(deployed(proj, i), i, ("P",), f"sync-pull run {n} (project)")
        # a write recovers an interrupted one (a dry run opens the collection under the lock)
        cli(home, "sync-pull", proj, "--strategy", "overwrite", "--dry-run")
        lk = lock_hashes(home)
        for i in range(N):
            v = version_of(coll(home, i), i, ("A", "P"))
            want = hashes[("P", f"s{i}")] if v == "P" else before[f"s{i}"]
            if lk[f"s{i}"] != want:
                fail(f"sync-pull run {n}: s{i} holds {v}, its lock entry another version")
        cli(home, "sync-pull", proj, "--strategy", "overwrite")
        st = status(home, proj)
        if st != {f"s{i}": "synced" for i in range(N)}:
            fail(f"sync-pull run {n} did not converge: {st}")
        no_temps(proj, f"sync-pull run {n}")
        for i in range(N):
            whole(coll(home, i), i, ("P",), f"sync-pull run {n} after the rerun")
        CHECKS += 1
    print(f"ok - sync-pull: {RUNS} kills", flush=True)


def op_rollback():
    import json
    global CHECKS
    base, home, proj = setup("rollback")
    cli(home, "config", "set", "snapshot.keep", "3")
    sid = json.loads(cli(home, "--json", "snapshot", "-m", "A").stdout)["id"]
    for i in range(N):
        write_skill(coll(home, i), "B", i)
    base_lock = lock_hashes(home)
    dur = timed(home, "rollback", sid, "-y")
    for n, delay in enumerate(delays(dur)):
        for i in range(N):
            write_skill(coll(home, i), "B", i)
        kill_during(home, delay, "rollback", sid, "-y")
        with open(os.path.join(home, "snapshots/default/snapshots.toml"), "rb") as f:
            tomllib.load(f)
        trees = [read_tree(coll(home, i)) for i in range(N)]
        a = all(t == content("A", i) for i, t in enumerate(trees))
        b = all(t == content("B", i) for i, t in enumerate(trees))
        if not (a or b):
            fail(f"rollback run {n}: the collection is neither the old one nor the restored one")
        # B are hand edits under A's lock: old or restored, the lock is A's, whole
        if lock_hashes(home) != base_lock:
            fail(f"rollback run {n}: the lock is not the snapshot's")
        cli(home, "rollback", sid, "-y")
        for i in range(N):
            whole(coll(home, i), i, ("A",), f"rollback run {n} after the rerun")
        if any(".sm-restore-" in x for x in os.listdir(os.path.join(home, "collections"))):
            fail(f"rollback run {n} left a restore folder behind")
        CHECKS += 1
    print(f"ok - rollback: {RUNS} kills", flush=True)


try:
    op_deploy()
    op_undeploy()
    op_sync_pull()
    op_rollback()
finally:
    shutil.rmtree(TMP, ignore_errors=True)
print(f"{CHECKS} kill runs converged")
