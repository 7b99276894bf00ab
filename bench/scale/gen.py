#!/usr/bin/env python3
"""Make the homes of the scale-trap benchmark (issue 11, point 7).

usage: gen.py OUT N_USER_COLLECTIONS N_MISSING

OUT/uc: a home with N_USER_COLLECTIONS user collections (no artifacts);
OUT/missing: a home whose manifest lists N_MISSING skills whose folders are
gone. Deterministic.
"""
import os
import sys

COLL = ('[collection]\nname = "default"\nversion = "1.0.0"\n'
        'created = "2026-01-01T00:00:00"\nupdated = "2026-01-01T00:00:00"\n')


def home(path):
    os.makedirs(os.path.join(path, "collections", "default"), exist_ok=True)
    with open(os.path.join(path, "config.toml"), "w") as f:
        f.write('[settings]\ndefault-collection = "default"\n')


def main():
    out, nuc, nmiss = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    uc = os.path.join(out, "uc")
    home(uc)
    with open(os.path.join(uc, "collections", "default", "collection.toml"), "w") as f:
        f.write(COLL)
    with open(os.path.join(uc, "user-collections.toml"), "w") as f:
        for i in range(nuc):
            f.write('[[collections]]\nid = "%032x"\nname = "c%d"\n'
                    'created_at = "2026-01-01T00:00:00Z"\n'
                    'updated_at = "2026-01-01T00:00:00Z"\nmembers = []\n\n' % (i + 1, i))
    miss = os.path.join(out, "missing")
    home(miss)
    with open(os.path.join(miss, "collections", "default", "collection.toml"), "w") as f:
        for i in range(nmiss):
            f.write('[[artifacts]]\nname = "gone-%d"\ntype = "skill"\npath = "skills/gone-%d"\n'
                    'origin = "local"\nadded = "2026-01-01T00:00:00"\n\n' % (i, i))
        f.write(COLL)


if __name__ == "__main__":
    main()
