#!/bin/sh
# Turn the test hooks on in a build folder made before they existed (make
# test, test-asan and test-tsan need them; a fresh folder gets them from the
# Makefile's meson setup). usage: tools/test-hooks.sh BUILD_DIR
set -eu
b=$1
opts="$b/meson-info/intro-buildoptions.json"
if [ -f "$opts" ] && python3 -c 'import json, sys
o = {x["name"]: x["value"] for x in json.load(open(sys.argv[1]))}
sys.exit(0 if o.get("test_hooks") is True else 1)' "$opts"; then
	exit 0
fi
meson setup --reconfigure "$b" -Dtest_hooks=true >/dev/null
ninja -C "$b"
