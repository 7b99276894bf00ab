#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Differential test against Python itself, on every valid toml-test case, the
fixture's TOML files and the files in tests/data/toml-regress:

- decode: our decoder's result must equal tomllib.loads (skipped where they
  differ by design: integers beyond 64 bits, fractions beyond microseconds,
  year 0, a leading BOM);
- encode: our encoder's output must equal a small independent Python model of
  tomli_w 1.0.0's dumps layout fed with tomllib's result, where floats and
  date-times are formatted by Python's own repr()/str().

usage: toml_tomllib.py --decoder DEC --encoder ENC --suite DIR [--fixture TARBALL] [--extra DIR]
"""
import argparse
import datetime
import json
import os
import re
import subprocess
import sys
import tarfile
import tempfile
import tomllib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from run_toml_test import equal  # noqa: E402

BARE = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
ESC = {"\b": "\\b", "\n": "\\n", "\f": "\\f", "\r": "\\r", '"': '\\"', "\\": "\\\\"}


# -- the model of tomli_w.dumps (default options) --
def m_str(s):
    out = []
    for ch in s:
        if ch in ESC:
            out.append(ESC[ch])
        elif (ord(ch) < 32 and ch != "\t") or ord(ch) == 127:
            out.append("\\u%04x" % ord(ch))
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def m_key(k):
    return k if k and set(k) <= BARE else m_str(k)


def m_literal(v, nest=0):
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float, datetime.date, datetime.time)):
        return str(v)
    if isinstance(v, str):
        return m_str(v)
    if isinstance(v, list):
        if not v:
            return "[]"
        items = "".join("    " * (nest + 1) + m_literal(i, nest + 1) + ",\n" for i in v)
        return "[\n" + items + "    " * nest + "]"
    if not v:
        return "{}"
    return "{ " + ", ".join(f"{m_key(k)} = {m_literal(x)}" for k, x in v.items()) + " }"


def m_fits(t):
    line = "    " + m_literal(t) + ","
    return len(line) <= 100 and "\n" not in line


def m_table(t, name="", aot=False):
    lits, tabs = [], []
    for k, v in t.items():
        if isinstance(v, dict):
            tabs.append((k, v, False))
        elif isinstance(v, list) and v and all(isinstance(i, dict) for i in v) \
                and not all(m_fits(i) for i in v):
            tabs += [(k, i, True) for i in v]
        else:
            lits.append((k, v))
    out, started = [], False
    if aot or (name and (lits or not tabs)):
        started = True
        out.append(f"[[{name}]]\n" if aot else f"[{name}]\n")
    for k, v in lits:
        started = True
        out.append(f"{m_key(k)} = {m_literal(v)}\n")
    for k, v, in_aot in tabs:
        if started:
            out.append("\n")
        started = True
        out.append(m_table(v, f"{name}.{m_key(k)}" if name else m_key(k), in_aot))
    return "".join(out)


# -- tomllib's result as tagged JSON --
def tag(v):
    if isinstance(v, dict):
        return {k: tag(x) for k, x in v.items()}
    if isinstance(v, list):
        return [tag(x) for x in v]
    if isinstance(v, bool):
        return {"type": "bool", "value": "true" if v else "false"}
    if isinstance(v, int):
        return {"type": "integer", "value": str(v)}
    if isinstance(v, float):
        return {"type": "float", "value": repr(v)}
    if isinstance(v, str):
        return {"type": "string", "value": v}
    if isinstance(v, datetime.datetime):
        return {"type": "datetime" if v.tzinfo else "datetime-local", "value": v.isoformat()}
    if isinstance(v, datetime.date):
        return {"type": "date-local", "value": v.isoformat()}
    return {"type": "time-local", "value": v.isoformat()}


BY_DESIGN = [
    (re.compile(rb"\d{20}"), "integer beyond 64 bits"),
    (re.compile(rb":\d\d\.\d{7}"), "fraction beyond microseconds"),
    (re.compile(rb"(^|[^0-9])0000-\d\d-\d\d"), "year 0"),
]
# Our nesting limit (SM_TOML_MAX_DEPTH): tomllib has none for dotted keys and headers.
MAX_DEPTH = 512


def depth(v):
    """Levels of tables and arrays below the root (the root table is 0)."""
    deepest, todo = 0, [(v, 0)]
    while todo:
        x, d = todo.pop()
        deepest = max(deepest, d)
        if isinstance(x, dict):
            todo.extend((c, d + 1) for c in x.values() if isinstance(c, (dict, list)))
        elif isinstance(x, list):
            todo.extend((c, d + 1) for c in x if isinstance(c, (dict, list)))
    return deepest


def main():
    sys.setrecursionlimit(20000)  # tag()/equal() over trees up to MAX_DEPTH deep
    ap = argparse.ArgumentParser()
    ap.add_argument("--decoder", required=True)
    ap.add_argument("--encoder", required=True)
    ap.add_argument("--suite", required=True)
    ap.add_argument("--fixture")
    ap.add_argument("--extra", action="append", default=[])
    args = ap.parse_args()

    inputs = []
    with open(os.path.join(args.suite, "files-toml-1.0.0")) as f:
        for ln in f:
            ln = ln.strip()
            if ln.startswith("valid/") and ln.endswith(".toml"):
                inputs.append((ln, os.path.join(args.suite, ln)))
    for d in args.extra:
        if os.path.isdir(d):
            for fn in sorted(os.listdir(d)):
                if fn != "README.md":
                    inputs.append((os.path.join(os.path.basename(d), fn), os.path.join(d, fn)))
    tmp = tempfile.TemporaryDirectory(prefix="sm-toml-tomllib-")
    if args.fixture:
        with tarfile.open(args.fixture) as tar:
            tar.extractall(tmp.name)
        for root, _, files in os.walk(tmp.name):
            for fn in sorted(files):
                if fn.endswith((".toml", ".lock")) and fn.startswith(("collection", "config", ".skillmeat")):
                    p = os.path.join(root, fn)
                    inputs.append((os.path.relpath(p, tmp.name), p))

    counts = {"decode": [0, 0], "encode": [0, 0]}
    skipped = 0
    for name, path in inputs:
        with open(path, "rb") as f:
            data = f.read()
        if data.startswith(b"\xef\xbb\xbf") or any(r.search(data) for r, _ in BY_DESIGN):
            skipped += 1
            continue
        try:
            py = tomllib.loads(data.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError, RecursionError):
            py = None
        if py is not None and depth(py) > MAX_DEPTH:
            skipped += 1  # by design: nested deeper than our limit
            continue
        p = subprocess.run([args.decoder], input=data, capture_output=True, timeout=60)
        ours = json.loads(p.stdout) if p.returncode == 0 else None
        counts["decode"][1] += 1
        if (py is None) != (ours is None):
            print(f"FAIL decode {name}: tomllib {'rejects' if py is None else 'accepts'}, "
                  f"we {'reject' if ours is None else 'accept'}")
            continue
        if py is None:
            counts["decode"][0] += 1
            continue
        diff = equal(ours, tag(py))
        if diff:
            print(f"FAIL decode {name}: {diff}")
            continue
        counts["decode"][0] += 1
        counts["encode"][1] += 1
        q = subprocess.run([args.encoder], input=p.stdout, capture_output=True, timeout=60)
        want = m_table(py)
        got = q.stdout.decode(errors="replace")
        if q.returncode != 0 or got != want:
            line = next((i + 1 for i, (a, b) in enumerate(zip(got.split("\n"), want.split("\n")))
                         if a != b), None)
            print(f"FAIL encode {name}: differs from the tomli_w model at line {line}")
            continue
        counts["encode"][0] += 1
    for kind, (ok, total) in counts.items():
        print(f"{kind} vs python: {ok}/{total} passed")
    failed = sum(t - o for o, t in counts.values())
    print(f"({skipped} inputs skipped: differences by design)")
    print(f"{sum(o for o, _ in counts.values())} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
