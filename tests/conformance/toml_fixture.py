#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Byte-identical decode -> encode of the files the real SkillMeat 0.9.1 wrote
(collection.toml, collection.lock and every other .toml in the fixture), and
a generated 5000-artifact collection.toml.

usage: toml_fixture.py --roundtrip TOOL --fixture TARBALL --generator GEN_PY
"""
import argparse
import os
import subprocess
import sys
import tarfile
import tempfile


def check(tool, path, same=True):
    with open(path, "rb") as f:
        data = f.read()
    args = [tool, "--same"] if same else [tool]
    p = subprocess.run(args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=300)
    return None if p.returncode == 0 else p.stderr.decode(errors="replace").strip()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--roundtrip", required=True)
    ap.add_argument("--fixture", required=True)
    ap.add_argument("--generator", required=True)
    args = ap.parse_args()
    passed = failed = 0

    def record(name, err):
        nonlocal passed, failed
        if err is None:
            passed += 1
            print(f"ok   {name}")
        else:
            failed += 1
            print(f"FAIL {name}: {err}")

    with tempfile.TemporaryDirectory(prefix="sm-toml-fixture-") as tmp:
        with tarfile.open(args.fixture) as tar:
            tar.extractall(tmp)
        coll = os.path.join(tmp, "skillmeat-home", "collections", "default")
        for name in ("collection.toml", "collection.lock"):
            path = os.path.join(coll, name)
            record(name, check(args.roundtrip, path) if os.path.exists(path)
                   else "missing from the fixture")
        for root, _, files in os.walk(tmp):
            for fn in sorted(files):
                if fn.endswith(".toml") and not (root == coll and fn == "collection.toml"):
                    path = os.path.join(root, fn)
                    record(os.path.relpath(path, tmp), check(args.roundtrip, path))
        big = os.path.join(tmp, "collection-5000.toml")
        p = subprocess.run([sys.executable, args.generator,
                            os.path.join(coll, "collection.toml"), big, "5000"])
        if p.returncode != 0:
            record("5000-artifact collection.toml", "generator failed")
        else:
            record(f"5000-artifact collection.toml ({os.path.getsize(big)} bytes)",
                   check(args.roundtrip, big))
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
