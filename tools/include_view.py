#!/usr/bin/env python3
"""Make an include view: OUT/<layer> -> SRC/<layer> symlinks for the given layers.

Used by meson.build at configure time. A library compiled with -IOUT can
`#include "<layer>/x.h"` only for the layers named here, so an upward or
private include fails to compile (docs/architecture.md). Standard library only.
"""
import os
import sys


def main(argv):
    if len(argv) < 3:
        sys.stderr.write('usage: include_view.py OUT SRC LAYER...\n')
        return 2
    out, src, layers = argv[0], argv[1], argv[2:]
    os.makedirs(out, exist_ok=True)
    for name in os.listdir(out):
        path = os.path.join(out, name)
        if name not in layers and os.path.islink(path):
            os.unlink(path)
    for layer in layers:
        target = os.path.join(src, layer)
        if not os.path.isdir(target):
            sys.stderr.write('include_view.py: no folder %s\n' % target)
            return 1
        link = os.path.join(out, layer)
        if os.path.islink(link):
            if os.readlink(link) == target:
                continue
            os.unlink(link)
        os.symlink(target, link)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
