#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Makes a large collection.toml by replicating the [[artifacts]] entries of a
real one (as tomli_w wrote it) under new names.

usage: gen_collection.py SOURCE_COLLECTION_TOML OUTPUT [COUNT]   (COUNT: 5000)

The [[artifacts]] blocks are copied in a cycle; copy k of artifact "x" is named
"x-k". The result has the same layout as the source, so it is what tomli_w
would write for that data (decode -> encode gives it back byte for byte).
"""
import sys


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    src, dst = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else 5000
    with open(src, encoding="utf-8") as f:
        text = f.read()
    marker = "\n[[artifacts]]\n"
    first = text.index(marker)
    head = text[:first]
    blocks = [marker[1:] + b for b in text[first + len(marker):].split(marker)]
    # every block but the last ends with the blank line separating it from the next
    blocks = [b if b.endswith("\n\n") else b + "\n" for b in blocks]
    out = [head, "\n"]
    for i in range(count):
        b = blocks[i % len(blocks)]
        k = i // len(blocks)
        if k:
            lines = b.split("\n")
            assert lines[1].startswith('name = "'), lines[1]
            lines[1] = lines[1][:-1] + f'-{k}"'
            b = "\n".join(lines)
        out.append(b)
    data = "".join(out)
    data = data[:-1] if data.endswith("\n\n") else data
    with open(dst, "w", encoding="utf-8") as f:
        f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
