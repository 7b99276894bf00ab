#!/bin/sh
# Installs the Debian packages the build and the tests need, if any is missing.
# Run as root on Debian bookworm (apt-get); prints what it installs.
set -eu

pkgs="gcc make meson ninja-build pkg-config git python3 python3-yaml strace \
libsqlite3-dev libyaml-dev libssl-dev libjansson-dev libgit2-dev \
libcurl4-openssl-dev libh2o-evloop-dev libarchive-dev libcmocka-dev libcmark-dev \
libpq-dev postgresql chromium"
# What the tests call that a Debian image usually has (tests/lint/deps.sh checks
# it): tar, gzip (fixtures), coreutils (mktemp, sha256sum, timeout), findutils,
# diffutils (cmp, diff), sed, mawk, libc-bin (getent), bsdutils (script: the
# progress bar on a terminal), util-linux and mount (unshare, mount: /etc/hosts
# hidden in tests/cli/test_localhost.sh, runuser: the PostgreSQL cluster of
# tests/api/pgcluster.py runs as nobody when the tests run as root). Team mode
# builds against libpq-dev and its tests start a private cluster with
# postgresql's initdb/pg_ctl (found through pg_config --bindir).
pkgs="$pkgs tar gzip coreutils findutils diffutils sed mawk libc-bin bsdutils util-linux mount"

# Chromium is in the default list: the browser suite (tests/web) is part of
# `make test`. Node.js/npm (for axe-core, below) come from Debian when the
# machine has no npm of its own.
# Extra groups: "asan" needs nothing more (gcc's runtime); "fuzz" needs clang.
for extra in "$@"; do
	case "$extra" in
	fuzz) pkgs="$pkgs clang libclang-rt-14-dev" ;;
	bench) pkgs="$pkgs hyperfine wrk nginx-light" ;;
	valgrind) pkgs="$pkgs valgrind" ;;
	web) ;; # kept for old scripts: Chromium is in the default list now
	esac
done

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
command -v npm >/dev/null 2>&1 || missing="$missing nodejs npm"

# axe-core (the accessibility checker of the browser suite) from the npm
# registry, at the version pinned by tests/web/package-lock.json, into the
# git-ignored tests/web/node_modules.
web_dir=$(cd "$(dirname "$0")/../tests/web" && pwd)
npm_tools() {
	want=$(sed -n 's/.*"axe-core": "\([0-9.]*\)".*/\1/p' "$web_dir/package.json")
	have=$(sed -n 's/^  "version": "\([^"]*\)".*/\1/p' \
		"$web_dir/node_modules/axe-core/package.json" 2>/dev/null || true)
	[ -n "$want" ] && [ "$want" = "$have" ] && return 0
	echo "installing: axe-core@$want (npm, tests/web/node_modules)" >&2
	(cd "$web_dir" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
}

if [ -z "$missing" ]; then
	npm_tools
	exit 0
fi

echo "installing:$missing" >&2
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO=sudo
	else
		echo "error: missing packages:$missing (run as root or install them)" >&2
		exit 1
	fi
else
	SUDO=
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
npm_tools
