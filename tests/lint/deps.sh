#!/bin/sh
# tools/deps.sh names the Debian package of every program the tests call,
# also those a Debian image usually has (a green CI on a fuller image must
# not hide a missing one). Each program found here is mapped to its package
# with dpkg -S; programs not installed from a Debian package (pyenv's python3,
# say) are skipped. And README.md names `make`, the one prerequisite of its
# two commands on a bare Debian.
set -u
SRC=${1:?usage: deps.sh SOURCE_ROOT}
command -v dpkg >/dev/null 2>&1 || { echo "skip: no dpkg"; exit 77; }
# the words of the default list: every pkgs="..." assignment at the top level, with
# its continuation lines
pkgs=$(awk '/^pkgs="/ { on = 1 } on { print; if ($0 !~ /\\$/) on = 0 }' "$SRC/tools/deps.sh" |
	sed 's/^pkgs=//; s/\$pkgs//' | tr -d '"\\' | tr ' \t' '\n\n' | grep .)
# what the shell, Python and browser tests run (tests/cli, tests/api, tests/web, tests/lint)
progs="python3 git tar gzip sha256sum mktemp timeout cmp diff find xargs sed awk strace
unshare mount getent script chromium runuser pg_config"
n=0
missing=""
for p in $progs; do
	path=$(command -v "$p" 2>/dev/null) || continue
	pkg=""
	for cand in "$path" "$(readlink -f "$path")" "/bin/$p" "/usr/bin/$p" "/sbin/$p" "/usr/sbin/$p"; do
		# "diversion by …" lines name no owner; a file two packages ship
		# (pg_config: postgresql-common, libpq-dev) is "a, b: path"
		pkg=$(dpkg -S "$cand" 2>/dev/null | grep -v '^diversion by' | head -n 1 |
			cut -d: -f1 | tr -d ' ' | tr ',' ' ') && [ -n "$pkg" ] && break
	done
	[ -n "$pkg" ] || continue
	n=$((n + 1))
	# python3's binary is in python3-minimal, which python3 pulls in; of the
	# packages of a shared file, one named is enough
	named=""
	for one in $pkg; do
		printf '%s\n' $pkgs | grep -qx -e "$one" -e "${one%-minimal}" && named=1
	done
	[ -n "$named" ] || missing="$missing $p($pkg)"
done
[ -z "$missing" ] || { echo "FAIL: tools/deps.sh does not name:$missing" >&2; exit 1; }
[ $n -ge 10 ] || { echo "FAIL: only $n programs mapped to packages" >&2; exit 1; }
# the README's two commands need make, which a bare Debian lacks: it says how to get it
grep -q 'apt-get install -y make' "$SRC/README.md" ||
	{ echo "FAIL: README.md does not name the prerequisite of its two commands (make)" >&2; exit 1; }
echo "ok ($n programs; README names make)"
