#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs the toml-test cases listed in files-toml-1.0.0 against our tools.

usage: run_toml_test.py decode|roundtrip|encode [--decoder PATH] [--encoder PATH]
                        [--roundtrip PATH] [--suite DIR] [-v]

decode:    valid cases must decode to the expected tagged JSON (compared as
           values), invalid cases must be rejected.
roundtrip: every valid case must survive decode -> encode -> decode with equal
           values (the C helper checks this with sm_toml_equal).
encode:    each valid case's expected JSON -> encoder -> decoder must give the
           same JSON back.
Prints pass counts; exits 1 if any case fails.
"""
import argparse
import json
import os
import re
import subprocess
import sys

DT_RE = re.compile(
    r"^(?:(\d{4})-(\d{2})-(\d{2}))?(?:[Tt ]?(\d{2}):(\d{2}):(\d{2})(\.\d+)?)?"
    r"([Zz]|[+-]\d{2}:\d{2})?$")


def norm_dt(s):
    m = DT_RE.match(s)
    if not m:
        return ("bad", s)
    y, mo, d, h, mi, sec, frac, off = m.groups()
    if frac:
        frac = frac[1:].rstrip("0")
    if off in ("Z", "z"):
        off = "+00:00"
    return (y, mo, d, h, mi, sec, frac or "", off or "")


def norm_float(s):
    s = s.strip()
    if s.lstrip("+-") == "nan":
        return "nan"
    if s.lstrip("+-") == "inf":
        return "-inf" if s.startswith("-") else "inf"
    return float(s.replace("_", ""))


def is_leaf(v):
    return isinstance(v, dict) and isinstance(v.get("type"), str) and \
        isinstance(v.get("value"), str) and len(v) == 2


def equal(a, b, path="$"):
    """None if equal, else a description of the first difference."""
    if is_leaf(a) and is_leaf(b):
        ta, tb = a["type"], b["type"]
        va, vb = a["value"], b["value"]
        if ta != tb:
            return f"{path}: type {ta} != {tb}"
        if ta == "integer":
            ok = int(va) == int(vb)
        elif ta == "float":
            fa, fb = norm_float(va), norm_float(vb)
            ok = fa == fb
        elif ta in ("datetime", "datetime-local", "date-local", "time-local"):
            ok = norm_dt(va) == norm_dt(vb)
        else:
            ok = va == vb
        return None if ok else f"{path}: {ta} {va!r} != {vb!r}"
    if isinstance(a, dict) and isinstance(b, dict) and not is_leaf(a) and not is_leaf(b):
        if set(a) != set(b):
            return f"{path}: keys {sorted(a)} != {sorted(b)}"
        for k in a:
            d = equal(a[k], b[k], f"{path}.{k}")
            if d:
                return d
        return None
    if isinstance(a, list) and isinstance(b, list):
        if len(a) != len(b):
            return f"{path}: array length {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b)):
            d = equal(x, y, f"{path}[{i}]")
            if d:
                return d
        return None
    return f"{path}: {json.dumps(a)[:80]} != {json.dumps(b)[:80]}"


def run(tool, data):
    p = subprocess.run([tool], input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=60)
    return p.returncode, p.stdout, p.stderr


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mode", choices=["decode", "roundtrip", "encode"])
    ap.add_argument("--decoder", default=os.environ.get("TOML_TEST_DECODER"))
    ap.add_argument("--encoder", default=os.environ.get("TOML_TEST_ENCODER"))
    ap.add_argument("--roundtrip")
    ap.add_argument("--suite", default=os.path.join(
        os.environ.get("SKILLMEAT_SHARED", "../shared"), "conformance", "toml-test"))
    ap.add_argument("-v", "--verbose", action="store_true")
    args = ap.parse_args()

    with open(os.path.join(args.suite, "files-toml-1.0.0")) as f:
        files = [ln.strip() for ln in f if ln.strip()]
    valid = [f for f in files if f.startswith("valid/") and f.endswith(".toml")]
    invalid = [f for f in files if f.startswith("invalid/") and f.endswith(".toml")]
    counts = {}
    failures = []

    def record(kind, name, err):
        ok, total = counts.get(kind, (0, 0))
        counts[kind] = (ok + (err is None), total + 1)
        if err is not None:
            failures.append(f"FAIL {kind} {name}: {err}")

    for name in valid:
        with open(os.path.join(args.suite, name), "rb") as f:
            toml = f.read()
        with open(os.path.join(args.suite, name[:-5] + ".json"), "rb") as f:
            expected = json.loads(f.read())
        if args.mode == "decode":
            rc, out, err = run(args.decoder, toml)
            if rc != 0:
                record("valid", name, f"rejected: {err.decode(errors='replace').strip()}")
                continue
            record("valid", name, equal(json.loads(out), expected))
        elif args.mode == "roundtrip":
            rc, out, err = run(args.roundtrip, toml)
            record("round-trip", name,
                   None if rc == 0 else err.decode(errors="replace").strip() or f"exit {rc}")
        else:
            rc, out, err = run(args.encoder, json.dumps(expected).encode())
            if rc != 0:
                record("encoder", name, f"encoder failed: {err.decode(errors='replace').strip()}")
                continue
            toml2 = out
            rc, out, err = run(args.decoder, toml2)
            if rc != 0:
                record("encoder", name, f"output rejected: {err.decode(errors='replace').strip()}"
                       f"\n--- output ---\n{toml2.decode(errors='replace')}")
                continue
            record("encoder", name, equal(json.loads(out), expected))
    if args.mode == "decode":
        for name in invalid:
            with open(os.path.join(args.suite, name), "rb") as f:
                toml = f.read()
            rc, out, err = run(args.decoder, toml)
            if rc == 1:
                record("invalid", name, None)
            elif rc == 0:
                record("invalid", name, "accepted")
            else:
                record("invalid", name, f"exit {rc} (crash?): {err.decode(errors='replace')}")

    for line in failures:
        print(line)
    failed = 0
    for kind, (ok, total) in counts.items():
        print(f"{kind}: {ok}/{total} passed")
        failed += total - ok
    print(f"{sum(c[0] for c in counts.values())} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
