#!/bin/sh
# Issue 11 point 6: Python SkillMeat writes integers wider than 64 bits from
# frontmatter as bare TOML integers. Such a value in one artifact's metadata
# must not hide the others: it is kept digit for digit (also when we rewrite
# the manifest), with a warning. Frontmatter integers that wide are written
# the same way by `add`.
. "$(dirname "$0")/lib.sh"

unpack_fixture "$TMP/fx"
export SKILLMEAT_HOME="$TMP/fx/skillmeat-home"
M="$SKILLMEAT_HOME/collections/default/collection.toml"
BIG=123456789012345678901234567890
NEG=-98765432109876543210987654321
python3 - "$M" "$BIG" "$NEG" <<'PY' || fail "cannot edit the fixture manifest"
import sys
path, big, neg = sys.argv[1:4]
s = open(path).read()
head = '[artifacts.metadata]\ndescription = "Test web applications with screen readers'
assert s.count(head) == 1
s = s.replace(head, f"[artifacts.metadata]\nbuild = {big}\nsizes = [1, {neg}]\n" + head[len("[artifacts.metadata]\n"):])
open(path, "w").write(s)
PY

"$SM" list --json >"$TMP/l.json" 2>"$TMP/w" || fail "list refused the manifest: $(cat "$TMP/w")"
json_check "$TMP/l.json" 'len(d) == 488'
grep -q "collection.toml.*screen-reader-testing.*wider than 64 bits, kept as written" "$TMP/w" ||
	fail "no warning: $(cat "$TMP/w")"
"$SM" show skill:screen-reader-testing --json >"$TMP/s.json" 2>/dev/null || fail "show the artifact with the wide integer"
json_check "$TMP/s.json" 'd["name"] == "screen-reader-testing"'

# a rewrite of the manifest (remove another artifact) keeps the digits
"$SM" remove skill:wcag-audit-patterns >/dev/null 2>"$TMP/w" || fail "remove: $(cat "$TMP/w")"
grep -qx "build = $BIG" "$M" || fail "the wide integer was not kept: $(grep -n build "$M" | head -3)"
python3 - "$M" "$BIG" "$NEG" <<'PY' || fail "manifest after the rewrite"
import sys, tomllib
m = tomllib.load(open(sys.argv[1], "rb"))
a = [x for x in m["artifacts"] if x["name"] == "screen-reader-testing"][0]
assert a["metadata"]["build"] == int(sys.argv[2]), a["metadata"]
assert a["metadata"]["sizes"] == [1, int(sys.argv[3])], a["metadata"]
assert not any(x["name"] == "wcag-audit-patterns" for x in m["artifacts"])
assert len(m["artifacts"]) == 487
PY
ok
"$SM" list --json >"$TMP/l.json" 2>/dev/null || fail "list after the rewrite"
json_check "$TMP/l.json" 'len(d) == 487'

# add: a frontmatter integer beyond 64 bits is written as a bare integer, like the original
make_skill "$TMP/src/wide" wide "description: wide" "build: $BIG"
"$SM" add "$TMP/src/wide" >/dev/null 2>"$TMP/w" || fail "add: $(cat "$TMP/w")"
python3 - "$M" "$BIG" <<'PY' || fail "frontmatter integer in the manifest"
import sys, tomllib
m = tomllib.load(open(sys.argv[1], "rb"))
a = [x for x in m["artifacts"] if x["name"] == "wide"][0]
assert a["metadata"]["extra"]["build"] == int(sys.argv[2]), a["metadata"]
PY
ok

# the toml-test decoder stays strict: TOML 1.0 lets it refuse them
printf 'a = %s\n' "$BIG" | "$SKILLMEAT_BUILD/toml-test-decoder" >/dev/null 2>"$TMP/e" && fail "strict decoder accepted a wide integer"
grep -q "integer out of range" "$TMP/e" || fail "strict decoder: $(cat "$TMP/e")"
ok
done_ok
