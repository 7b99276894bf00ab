#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Runs every input in tests/data/toml-regress (crashes and slow inputs found
by fuzzing) through the round-trip helper: valid TOML must round-trip (exit 0),
invalid TOML must be rejected cleanly (exit 2); anything else (a crash, a
sanitizer report, a timeout) fails.

usage: toml_regress.py --roundtrip TOOL --dir DIR
"""
import argparse
import os
import subprocess
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--roundtrip", required=True)
    ap.add_argument("--dir", required=True)
    args = ap.parse_args()
    passed = failed = 0
    names = sorted(n for n in os.listdir(args.dir) if not n.startswith(".")
                   and n != "README.md") if os.path.isdir(args.dir) else []
    for name in names:
        with open(os.path.join(args.dir, name), "rb") as f:
            data = f.read()
        try:
            p = subprocess.run([args.roundtrip], input=data, stdout=subprocess.DEVNULL,
                               stderr=subprocess.PIPE, timeout=60)
            rc, err = p.returncode, p.stderr.decode(errors="replace").strip()
        except subprocess.TimeoutExpired:
            rc, err = -1, "timeout"
        if rc in (0, 2):
            passed += 1
        else:
            failed += 1
            print(f"FAIL {name}: exit {rc}: {err[-2000:]}")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
