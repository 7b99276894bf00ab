#!/bin/sh
# Runs every benchmark (`make bench`). Each part lives in its own folder and
# script; add a line per part.
set -eu
here=$(cd "$(dirname "$0")" && pwd)

sh "$here/toml/run.sh"
sh "$here/collection/run.sh"
sh "$here/cache/run.sh"
sh "$here/watch/run.sh"
sh "$here/scale/run.sh"
sh "$here/server/run.sh"
sh "$here/loop/run.sh"
sh "$here/startup/run.sh"
sh "$here/deploy/run.sh"
sh "$here/team/run.sh"
