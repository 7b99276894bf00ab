#!/bin/sh
# N processes adding at once all land in the manifest and the lock (home flock).
. "$(dirname "$0")/lib.sh"

N=12
"$SM" init >/dev/null || fail "init"
i=0
while [ $i -lt $N ]; do
	make_skill "$TMP/src/s$i" "s$i" "description: skill $i"
	i=$((i + 1))
done
i=0
while [ $i -lt $N ]; do
	"$SM" add "$TMP/src/s$i" >"$TMP/out$i" 2>&1 &
	i=$((i + 1))
done
wait
i=0
while [ $i -lt $N ]; do
	grep -q "Added skill: s$i" "$TMP/out$i" || fail "add s$i: $(cat "$TMP/out$i")"
	i=$((i + 1))
done
python3 - "$SKILLMEAT_HOME/collections/default" "$N" <<'PY' || fail "parallel adds were lost"
import sys, tomllib
c, n = sys.argv[1], int(sys.argv[2])
m = tomllib.load(open(c + "/collection.toml", "rb"))
names = sorted(a["name"] for a in m["artifacts"])
assert names == sorted("s%d" % i for i in range(n)), names
l = tomllib.load(open(c + "/collection.lock", "rb"))["lock"]["entries"]
assert sorted(l) == sorted("s%d::skill" % i for i in range(n)), sorted(l)
PY
ok
done_ok
