#!/usr/bin/env python3
"""Make an N-artifact source tree by replicating the corpus under new names.

usage: gen_tree.py CORPUS OUT N

The layout mirrors the corpus (plugins/<p>/{skills/<s>/,agents/<a>.md,
commands/<c>.md}); copy k of an artifact goes to plugin "<p>-<k>" and is named
"<name>-<k>", with its frontmatter name changed to match, so every generated
artifact is distinct (different bytes, different hash) and `add --all`
imports all N without a clash. Deterministic: the same N gives the same tree.
"""
import os
import shutil
import sys


def artifacts(corpus):
    found = []
    for root, dirs, files in os.walk(corpus):
        dirs.sort()
        if "SKILL.md" in files:
            found.append(("skill", root))
            dirs[:] = []
            continue
        base = os.path.basename(root)
        if base in ("agents", "commands"):
            for f in sorted(files):
                if f.endswith(".md"):
                    found.append((base[:-1], os.path.join(root, f)))
    return sorted(found, key=lambda t: t[1])


def rename_frontmatter(text, old, new):
    # only the name: line inside the leading frontmatter block
    if not text.startswith("---"):
        return text + "\n<!-- copy %s -->\n" % new
    end = text.find("\n---", 3)
    head, rest = text[:end], text[end:]
    lines = head.split("\n")
    for i, line in enumerate(lines):
        if line.startswith("name:"):
            lines[i] = "name: " + new
    return "\n".join(lines) + rest + "\n<!-- copy %s -->\n" % new


def main():
    corpus, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    arts = artifacts(corpus)
    if os.path.exists(out):
        shutil.rmtree(out)
    for i in range(n):
        typ, src = arts[i % len(arts)]
        k = i // len(arts)
        rel = os.path.relpath(src, corpus).split(os.sep)
        plugin = rel[1] + "-%d" % k
        if typ == "skill":
            name = rel[-1]
            dst = os.path.join(out, "plugins", plugin, "skills", "%s-%d" % (name, k))
            shutil.copytree(src, dst)
            p = os.path.join(dst, "SKILL.md")
            with open(p) as f:
                text = f.read()
            with open(p, "w") as f:
                f.write(rename_frontmatter(text, name, "%s-%d" % (name, k)))
        else:
            name = rel[-1][:-3]
            d = os.path.join(out, "plugins", plugin, typ + "s")
            os.makedirs(d, exist_ok=True)
            with open(src) as f:
                text = f.read()
            with open(os.path.join(d, "%s-%d.md" % (name, k)), "w") as f:
                f.write(rename_frontmatter(text, name, "%s-%d" % (name, k)))


if __name__ == "__main__":
    main()
