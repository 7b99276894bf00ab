#!/usr/bin/env python3
"""The frontmatter writer read back with PyYAML (the original's reader).

Every artifact file of the shared corpus, LF and CRLF: each field set in turn
to values YAML would read as something else unless quoted, then all at once;
PyYAML's safe_load must give back exactly what was set, the untouched keys
must load to the same values in the same order, and the body is byte-identical.
Usage: test_frontmatter_pyyaml.py FM_EDIT_TOOL
"""
import json
import os
import re
import subprocess
import sys
import tempfile

import yaml

TRICKY = ["yes", "null", "1.0", "a: b", "x #y", "- leading dash", "Ünïcode — dash",
          "q \" ' \\ end", "~", "[not a list]", "{x}", "@at", "%pct", "line\nbreak",
          "tab\there", "  padded  ", "010", "2024-01-01", "on", "plain words", "colon:",
          "&anchor", "*alias", "!tag", "|pipe", ">fold", "`tick", "0x1F", ".inf", "<<",
          "=", "NO", "#hash", "'single'", "\"double\"", "bell\x07x", "nel\x85x",
          "ls\u2028x", "?q", "Off", "1_000", "12:30:00", "+1", "-.5e3", "\u00a0nbsp"]
TAGS = [["python", "yes"], ["a: b", "1.0", "x, y"], ["kubernetes"], ["[x]", "null", "#c"]]
TOOLS = [["Read", "Write", "Bash"], ["Grep"], ["WebFetch", "Task"]]
FIELDS = ["title", "description", "author", "license", "version", "tags", "tools"]
TOOL_KEYS = ["tools", "allowed-tools", "allowedTools"]
FM = re.compile(rb"^(?:\xef\xbb\xbf)?---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|$)", re.S)


def artifacts(root):
    for dirpath, _, files in os.walk(root):
        for f in sorted(files):
            p = os.path.join(dirpath, f)
            parts = os.path.relpath(p, root).split(os.sep)
            if len(parts) >= 3 and parts[-3] == "skills" and f == "SKILL.md":
                yield p, "skill"
            elif len(parts) >= 2 and parts[-2] == "agents" and f.endswith(".md"):
                yield p, "agent"
            elif len(parts) >= 2 and parts[-2] == "commands" and f.endswith(".md"):
                yield p, "command"


def load(raw):
    m = FM.match(raw)
    if not m:
        return {}, raw
    text = m.group(1).decode("utf-8").replace("\r\n", "\n")
    return yaml.safe_load(text) or {}, raw[m.end():]


def edited(key, fields):
    return key in fields or (key in TOOL_KEYS and "tools" in fields)


def main():
    tool = sys.argv[1]
    corpus = os.path.join(os.environ["SKILLMEAT_SHARED"], "corpus", "wshobson-agents", "plugins")
    jobs = []
    with tempfile.TemporaryDirectory(prefix="sm-fm-pyyaml-") as tmp:
        k = 0
        for n, (path, typ) in enumerate(artifacts(corpus)):
            for crlf in (False, True):
                for which in FIELDS + ["*"]:
                    k += 1
                    chosen = FIELDS if which == "*" else [which]
                    setv = {}
                    for i, f in enumerate(chosen):
                        if f == "tags":
                            setv[f] = TAGS[k % len(TAGS)]
                        elif f == "tools":
                            setv[f] = TOOLS[k % len(TOOLS)]
                        else:
                            setv[f] = TRICKY[(k + i) % len(TRICKY)]
                    jobs.append({"in": path, "type": typ, "crlf": crlf, "set": setv,
                                 "out": os.path.join(tmp, "%d.md" % len(jobs))})
        jf = os.path.join(tmp, "jobs.json")
        with open(jf, "w") as f:
            json.dump(jobs, f)
        subprocess.run([tool, jf], check=True)

        failures = 0
        for job in jobs:
            with open(job["in"], "rb") as f:
                before = f.read()
            if job["crlf"]:
                before = re.sub(rb"(?<!\r)\n", b"\r\n", before)
            with open(job["out"], "rb") as f:
                after = f.read()
            old, old_body = load(before)
            new, new_body = load(after)
            problems = []
            if old_body != new_body:
                problems.append("body changed")
            if job["crlf"] and re.search(rb"(?<!\r)\n", after):
                problems.append("a bare LF in a CRLF file")
            fields = job["set"]
            keep_old = [(k2, v) for k2, v in old.items() if not edited(k2, fields)]
            keep_new = [(k2, v) for k2, v in new.items() if not edited(k2, fields)]
            if keep_old != keep_new:
                problems.append("untouched keys differ")
            for f, want in fields.items():
                if f == "tools":
                    got = next((new[t] for t in TOOL_KEYS if t in new), None)
                else:
                    got = new.get(f)
                if isinstance(want, list) and isinstance(got, str):
                    got = [s.strip() for s in got.split(",")]
                if got != want:
                    problems.append("%s: got %r, want %r" % (f, got, want))
            if problems:
                failures += 1
                if failures <= 10:
                    print("FAIL %s%s: %s" % (job["in"], " (CRLF)" if job["crlf"] else "",
                                             "; ".join(problems)))
        print("pyyaml read-back: %d edits, %d failed" % (len(jobs), failures))
        assert len(jobs) > 3000
        return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
