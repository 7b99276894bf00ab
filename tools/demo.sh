#!/bin/sh
# `make run`: a demo home inside the repository (demo-home/, git-ignored, never
# ~/.skillmeat) built from examples/demo, then served. Extra arguments go to
# `serve` (e.g. `make run ARGS="--port 0"`).
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
SM="$root/build/skillmeat"
home="$root/demo-home"

"$SM" --home "$home" --quiet add --all "$root/examples/demo"
"$SM" --home "$home" user-collection create "Release work" \
	--description "What a release needs" >/dev/null 2>&1 &&
	"$SM" --home "$home" user-collection add "Release work" \
		skill:changelog-writer skill:release-checklist >/dev/null 2>&1 || true
if "$SM" serve --help >/dev/null 2>&1; then
	echo "demo home: $home" >&2
	exec "$SM" --home "$home" serve "$@"
fi
# no server yet in this build: show the collection instead
"$SM" --home "$home" list
