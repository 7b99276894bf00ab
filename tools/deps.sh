#!/bin/sh
# Installs the Debian packages the build and the tests need, if any is missing.
# Run as root on Debian bookworm (apt-get); prints what it installs.
set -eu

# Every package the build and `make test` use, also those a Debian image
# usually has (a green CI on a fuller image must not hide a missing one):
# the tests call python3 (tomllib, sqlite3: python3.11 stdlib), git, tar and
# gzip (fixtures), coreutils (mktemp, sha256sum, id, timeout), findutils (find,
# xargs), diffutils (cmp, diff), sed, mawk (awk).
# python3-yaml: the frontmatter writer's tests check our output with PyYAML.
# Not needed: PostgreSQL/libpq, Node.js/npm (no test uses them).
pkgs="gcc make meson ninja-build pkg-config git python3 python3-yaml \
libsqlite3-dev libyaml-dev libssl-dev libjansson-dev libgit2-dev \
libcurl4-openssl-dev libh2o-evloop-dev libarchive-dev libcmocka-dev \
coreutils findutils diffutils sed mawk tar gzip"

# Extra groups: "asan" needs nothing more (gcc's runtime); "fuzz" needs clang;
# "web" adds Chromium for the browser test (suite 'web', skipped without it).
for extra in "$@"; do
	case "$extra" in
	fuzz) pkgs="$pkgs clang libclang-rt-14-dev" ;;
	bench) pkgs="$pkgs hyperfine wrk nginx-light" ;;
	valgrind) pkgs="$pkgs valgrind" ;;
	web) pkgs="$pkgs chromium" ;; # browser test of the web page (tests/web)
	esac
done

missing=""
for p in $pkgs; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

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
