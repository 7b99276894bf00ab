#!/bin/sh
# The layering is enforced by the build: each library is compiled against an
# include view (BUILD/include-view/<library>/) holding only the src/ folders
# it may use (meson.build, layer_views; docs/architecture.md). This test
# compiles probes with each view and fails when a header outside a view is
# reachable from it, or one inside is not, and when src/cli including a
# private server header compiles.
# usage: layers.sh SRC BUILD CC [CC args...]
set -eu
src=$1 build=$2
shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0

# One private header per folder of src/ (the probe's target).
probe_header() {
	case $1 in
	util) echo util/banned.h ;;
	toml) echo toml/toml_internal.h ;;
	core) echo core/copy.h ;;
	cache) echo cache/db_internal.h ;;
	http) echo http/http.h ;;
	api) echo api/app.h ;;
	cli) echo cli/cli.h ;;
	*) echo "" ;;
	esac
}

# The folders each library may include (keep in step with meson.build).
allowed() {
	case $1 in
	util) echo "util" ;;
	toml) echo "util toml" ;;
	core) echo "util core" ;;
	cache) echo "util cache" ;;
	ops) echo "util ops" ;;
	http) echo "util http" ;;
	api) echo "util http api" ;;
	cli) echo "util cli" ;;
	esac
}

for lib in util toml core cache ops http api cli; do
	view="$build/include-view/$lib"
	[ -d "$view" ] || { echo "no include view for $lib: $view" >&2; fail=1; continue; }
	ok=$(allowed "$lib")
	for folder in util toml core cache http api cli; do
		h=$(probe_header "$folder")
		printf '#if !__has_include("%s")\n#error unreachable\n#endif\n' "$h" >"$tmp/p.c"
		if "$@" -E -I"$src/include" -I"$view" "$tmp/p.c" -o /dev/null 2>/dev/null; then
			reach=yes
		else
			reach=no
		fi
		case " $ok " in
		*" $folder "*) want=yes ;;
		*) want=no ;;
		esac
		if [ "$reach" != "$want" ]; then
			echo "layer $lib: \"$h\" reachable=$reach, expected $want" >&2
			fail=1
		fi
	done
done

# The probe the issue names: src/cli including a private server header.
for h in http/http.h http/server_config.h api/app.h; do
	printf '#include "%s"\nint probe(void);\nint probe(void) { return 0; }\n' "$h" >"$tmp/cli_probe.c"
	if "$@" -fsyntax-only -I"$src/include" -I"$build/include-view/cli" "$tmp/cli_probe.c" \
		>"$tmp/out" 2>&1; then
		echo "src/cli could include \"$h\"" >&2
		fail=1
	elif ! grep -q "$h" "$tmp/out"; then
		echo "probe of \"$h\" failed for another reason:" >&2
		cat "$tmp/out" >&2
		fail=1
	fi
done
# ...while what src/cli may include does compile.
printf '#include "util/banned.h"\n#include "skillmeat/serve.h"\nint probe(void);\nint probe(void) { return 0; }\n' \
	>"$tmp/cli_ok.c"
if ! "$@" -fsyntax-only -I"$src/include" -I"$build/include-view/cli" "$tmp/cli_ok.c"; then
	echo "src/cli cannot include its allowed headers" >&2
	fail=1
fi

[ "$fail" = 0 ] || exit 1
echo "layers: every library sees only its include view"
