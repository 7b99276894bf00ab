# Shared helpers for the CLI tests: a temporary SKILLMEAT_HOME per test,
# removed on exit; fail() prints and exits 1.
set -u
SM=${SKILLMEAT_BIN:?SKILLMEAT_BIN is not set}
SHARED=${SKILLMEAT_SHARED:-}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/sm-test.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
export SKILLMEAT_HOME="$TMP/home"
export NO_COLOR=1
CHECKS=0

fail() {
	echo "FAIL: $*" >&2
	exit 1
}

ok() {
	CHECKS=$((CHECKS + 1))
}

# expect_exit CODE CMD...: run CMD, fail unless it exits with CODE.
expect_exit() {
	want=$1
	shift
	"$@" >"$TMP/.out" 2>"$TMP/.err"
	got=$?
	[ "$got" = "$want" ] || fail "'$*' exited $got, wanted $want: $(cat "$TMP/.err")"
	ok
}

# must CMD...: run CMD (its output goes where the caller sends it); a failed
# command is a failed test, never a skipped check (no `CMD >f && check f`).
must() {
	"$@" || fail "'$*' exited $?"
	ok
}

done_ok() {
	echo "ok ($CHECKS checks)"
	exit 0
}

# json_check FILE PYTHON-EXPR: evaluate a Python expression over the JSON in
# FILE (bound to d); fail with the expression when it is false.
json_check() {
	python3 - "$1" "$2" <<'PY' || fail "json check failed: $2"
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2], {"d": d, "len": len, "set": set, "sorted": sorted, "all": all, "any": any})
sys.exit(0 if ok else 1)
PY
	ok
}

# A tree's content as one line per file "sha256  path", for before/after checks.
tree_sum() {
	(cd "$1" && find . -path ./cache -prune -o -type f -print0 | sort -z | xargs -0 sha256sum)
}

# make_skill DIR NAME [FRONTMATTER-LINES...]: a skill folder with a SKILL.md.
make_skill() {
	mkdir -p "$1"
	{
		echo "---"
		echo "name: $2"
		shift 2
		for l in "$@"; do echo "$l"; done
		echo "---"
		echo
		echo "# Title"
		echo
		echo "Body text."
	} >"$1/SKILL.md"
}

# unpack_fixture DIR: the SkillMeat 0.9.1 sample (skillmeat-home/, project/) into DIR.
unpack_fixture() {
	[ -n "$SHARED" ] || fail "SKILLMEAT_SHARED is not set"
	mkdir -p "$1"
	tar xzf "$SHARED/fixtures/skillmeat-0.9.1-sample.tar.gz" -C "$1" || fail "cannot unpack the fixture"
}
