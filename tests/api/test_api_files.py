#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""API test of an artifact's files: GET /api/v1/artifacts/{id}/files (tree) and
/files/{path} (text, ?format=html rendered Markdown) against the real
`skillmeat serve --port 0` on a temporary home built with the CLI, with a
hostile artifact: script tags, javascript: links, event-handler attributes and
HTML in the frontmatter never come back as markup; paths never leave the
artifact (.., encoded .., symlinks to a file or a folder outside); binary
files are 415, oversized ones 413.

usage: test_api_files.py   (SKILLMEAT_BIN names the program)
"""
import json
import os
import re

import apitest as t
from apitest import check, write

TMP, ENV = t.setup("sm-apif-", HOME="{tmp}")
HOME = os.path.join(TMP, "home")

EVIL_MD = """---
name: evil
description: "<img src=x onerror=alert(1)> <script>alert(2)</script>"
author: <b onmouseover=alert(3)>Mallory</b>
---
# Evil <script>window.__pwned=1</script>

<script>window.__pwned = 2</script>

<img src=x onerror="window.__pwned=3">

[click](javascript:window.__pwned=4) [v](vbscript:x) [d](data:text/html,<script>x</script>)
and [ok](https://example.com) <a href="javascript:x">raw</a> <span onclick="x()">s</span>

<div onmouseover="x()">block html</div>

<iframe src="https://example.com"></iframe>

![pic](javascript:alert(5))

```html
<script>in a fence</script>
```
"""


def cli(*args):
    t.cli(HOME, *args)


def get(s, path):
    st, _, j = s.json("GET", path)
    return st, j


def no_markup(html, what):
    """No element or attribute that can run script survived in html."""
    low = html.lower()
    check("<script" not in low, f"{what}: no <script> element")
    check(re.search(r"<[a-z][^>]*\son[a-z]+\s*=", low) is None, f"{what}: no on* attribute")
    check(re.search(r"""href\s*=\s*["']?\s*(javascript|vbscript|data):""", low) is None
          and re.search(r"""src\s*=\s*["']?\s*(javascript|vbscript|data):""", low) is None,
          f"{what}: no javascript:/vbscript:/data: URL")
    check("<iframe" not in low and "<img src=\"x\"" not in low and "<img src=x" not in low,
          f"{what}: no iframe, no raw img")
    tags = set(re.findall(r"<([a-z][a-z0-9]*)", low))
    allowed = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "code", "a", "em", "strong",
               "ul", "ol", "li", "blockquote", "hr", "br", "img"}
    check(tags <= allowed, f"{what}: only Markdown's own elements ({sorted(tags - allowed)})")


def main():
    src = os.path.join(TMP, "src")
    write(f"{src}/evil/SKILL.md", EVIL_MD)
    write(f"{src}/evil/references/notes.md", "# Notes\n\n*emphasis* and `code`\n")
    write(f"{src}/evil/references/deep/a/b/c.txt", "<b>plain</b> text\n")
    write(f"{src}/evil/blob.bin", b"\x89PNG\r\n\x1a\n\x00\x00binary")
    write(f"{src}/evil/latin1.txt", b"caf\xe9\n")
    write(f"{src}/evil/big.md", "x" * (1024 * 1024 + 1))
    write(f"{src}/reviewer.md", "---\ndescription: Review code\n---\n# Review\n\nCarefully.\n")
    cli("add", "skill", f"{src}/evil")
    cli("add", "agent", f"{src}/reviewer.md")
    art = os.path.join(TMP, "home", "collections", "default", "skills", "evil")
    secret = os.path.join(TMP, "secret.md")
    write(secret, "# secret\n")
    os.symlink(secret, f"{art}/leak.md")
    os.symlink(TMP, f"{art}/outside")
    os.symlink("references/notes.md", f"{art}/inside.md")

    s = t.Server(HOME, "--no-rate-limit")

    # the tree
    st, j = get(s, "/artifacts/skill:evil/files")
    check(st == 200 and j["artifact_id"] == "skill:evil" and j["artifact_name"] == "evil"
          and j["artifact_type"] == "skill" and j["collection_name"] == "default",
          f"GET files -> 200 with the artifact's head ({st})")
    top = {f["name"]: f for f in j["files"]}
    check(set(top) == {"SKILL.md", "blob.bin", "latin1.txt", "big.md", "references", "inside.md"},
          f"the tree's top level, symlinks out of the artifact left out: {sorted(top)}")
    check(top["SKILL.md"] == {"name": "SKILL.md", "path": "SKILL.md", "type": "file",
                              "size": len(EVIL_MD.encode()), "children": None},
          f"a file node: {top['SKILL.md']}")
    ref = top["references"]
    check(ref["type"] == "directory" and ref["path"] == "references"
          and [c["path"] for c in ref["children"]] == ["references/deep", "references/notes.md"],
          f"a folder node with children: {ref}")
    deep = ref["children"][0]["children"][0]["children"][0]["children"][0]
    check(deep["path"] == "references/deep/a/b/c.txt" and deep["type"] == "file",
          "nested folders")
    st, j = get(s, "/artifacts/agent:reviewer/files")
    check(st == 200 and [f["path"] for f in j["files"]] == ["reviewer.md"],
          f"a one-file artifact lists its file ({j})")
    st, j = get(s, "/artifacts/skill:nope/files")
    check(st == 404 and isinstance(j.get("detail"), str), "unknown artifact -> 404")

    # one file as text
    st, j = get(s, "/artifacts/skill:evil/files/SKILL.md")
    check(st == 200 and j["content"] == EVIL_MD and j["path"] == "SKILL.md"
          and j["size"] == len(EVIL_MD.encode()) and j["mime_type"] == "text/markdown"
          and "html" not in j, "GET a file -> its exact text, size, mime_type")
    st, j = get(s, "/artifacts/skill:evil/files/references/deep/a/b/c.txt")
    check(st == 200 and j["content"] == "<b>plain</b> text\n" and j["mime_type"] == "text/plain",
          "a nested path, segment by segment")
    st, j = get(s, "/artifacts/skill:evil/files/references%2Fnotes.md")
    check(st == 200 and j["path"] == "references/notes.md", "an encoded slash")
    st, j = get(s, "/artifacts/skill:evil/files/inside.md")
    check(st == 200 and j["content"].startswith("# Notes"), "a symlink inside the artifact is read")
    st, j = get(s, "/artifacts/agent:reviewer/files/reviewer.md")
    check(st == 200 and j["content"].startswith("---\ndescription: Review code"),
          "a one-file artifact's file")
    st, _ = get(s, "/artifacts/agent:reviewer/files/other.md")
    check(st == 404, "another name in a one-file artifact -> 404")

    # confinement, binary, size
    for path, why in (("%2E%2E/%2E%2E/collection.toml", "encoded .."),
                      ("references/%2E%2E/%2E%2E/evil.md", "encoded .. deeper"),
                      ("..%2F..%2Fcollection.toml", "encoded .. and slash"),
                      ("leak.md", "symlink to a file outside"),
                      ("outside/secret.md", "symlink to a folder outside"),
                      ("%2Fetc%2Fpasswd", "absolute path")):
        st, j = get(s, "/artifacts/skill:evil/files/" + path)
        check(st == 400 and isinstance(j.get("detail"), str) and "# secret" not in json.dumps(j)
              and TMP not in json.dumps(j), f"{why} -> 400 ({st} {j})")
    st, j = get(s, "/artifacts/skill:evil/files/blob.bin")
    check(st == 415 and "binary" in j["detail"], f"binary -> 415 ({st})")
    st, j = get(s, "/artifacts/skill:evil/files/latin1.txt")
    check(st == 415, f"not UTF-8 -> 415 ({st})")
    st, j = get(s, "/artifacts/skill:evil/files/big.md")
    check(st == 413 and isinstance(j.get("detail"), str), f"over 1 MiB -> 413 ({st})")
    st, _ = get(s, "/artifacts/skill:evil/files/none.md")
    check(st == 404, "missing file -> 404")
    st, _ = get(s, "/artifacts/skill:evil/files/references")
    check(st == 404, "a folder is no file -> 404")
    st, _ = get(s, "/artifacts/skill:evil/files/SKILL.md?format=pdf")
    check(st == 400, "unknown format -> 400")

    # rendering
    st, j = get(s, "/artifacts/skill:evil/files/SKILL.md?format=html")
    html = j.get("html", "")
    check(st == 200 and j["content"] == EVIL_MD and isinstance(html, str) and html,
          "format=html adds html beside the text")
    no_markup(html, "hostile SKILL.md")
    check("&lt;script&gt;window.__pwned = 2&lt;/script&gt;" in html,
          "an HTML block is shown as its escaped source")
    check('<a href="https://example.com">ok</a>' in html, "an https link stays a link")
    check("<h1>Evil &lt;script&gt;" in html, "a heading keeps its text, tags escaped")
    check('<pre><code class="language-yaml">name: evil' in html
          and "&lt;b onmouseover=alert(3)&gt;Mallory&lt;/b&gt;" in html
          and not html.lstrip().startswith("<hr"),
          "the frontmatter is a YAML code block, its HTML escaped")
    check("&lt;script&gt;in a fence&lt;/script&gt;" in html, "a fenced block is escaped")
    st, j = get(s, "/artifacts/skill:evil/files/references/notes.md?format=html")
    check(st == 200 and "<em>emphasis</em>" in j["html"] and "<code>code</code>" in j["html"],
          "Markdown is rendered")
    st, j = get(s, "/artifacts/skill:evil/files/references/deep/a/b/c.txt?format=html")
    check(st == 200 and j["html"] == "<pre><code>&lt;b&gt;plain&lt;/b&gt; text\n</code></pre>\n",
          f"other text is an escaped <pre> ({j.get('html')!r})")
    st, j = get(s, "/artifacts/agent:reviewer/files/reviewer.md?format=html")
    check(st == 200 and "<h1>Review</h1>" in j["html"], "an agent's prompt is rendered")

    s.stop()
    t.finish()


if __name__ == "__main__":
    main()
