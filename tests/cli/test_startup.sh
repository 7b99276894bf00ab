#!/bin/sh
# The start-up floor (issue 8): verbs that never touch the network or serve do
# not load libgit2, libcurl or libh2o; those live in shared modules the
# program loads on first use (skillmeat/module.h). libcrypto is loaded when
# something is hashed (util/crypto.c): not by a read of an unchanged home.
# Checked with the dynamic loader's own trace (LD_DEBUG=libs), which lists
# every object it loads.
. "$(dirname "$0")/lib.sh"

heavy='libgit2|libcurl|libh2o|libssh2|libuv|libpq|libcrypto'

# loaded CMD...: the objects the loader brought in for CMD (one per line).
loaded() {
	LD_DEBUG=libs "$@" 2>"$TMP/.ld" >/dev/null
	rc=$?
	grep -oE 'calling init: [^ ]+' "$TMP/.ld" | sed 's/calling init: //' | sort -u
	return $rc
}

src="$TMP/src"
make_skill "$src/skills/demo" demo "description: a demo"
# an add hashes the files: libcrypto comes in then, and the hash is right
loaded "$SM" add skill "$src/skills/demo" >"$TMP/libs" || fail "add a local skill"
grep -q 'libcrypto' "$TMP/libs" || fail "an add did not load libcrypto: $(cat "$TMP/libs")"
want=$( (printf 'SKILL.md'; cat "$src/skills/demo/SKILL.md") | sha256sum | cut -d' ' -f1)
grep -q "content_hash = \"$want\"" "$SKILLMEAT_HOME/collections/default/collection.lock" ||
	fail "the lock's content hash is not SHA-256 of the files ($want)"
ok

for cmd in "--version" "list" "show demo" "config list" "--help"; do
	# shellcheck disable=SC2086
	loaded "$SM" $cmd >"$TMP/libs" || fail "'skillmeat $cmd' failed: $(tail -3 "$TMP/.ld")"
	# the trace works: the program's own libraries are in it
	grep -q 'libc\.so' "$TMP/libs" || fail "no loader trace for '$cmd': $(head -3 "$TMP/.ld")"
	grep -q 'libsqlite3' "$TMP/libs" || fail "'$cmd' did not load SQLite?"
	if grep -E "$heavy" "$TMP/libs"; then
		fail "'skillmeat $cmd' loads a network/serve/crypto library (above)"
	fi
	ok
done

# A GitHub add loads libgit2 (from skillmeat-git.so) on first use, and fails
# cleanly here: nothing to clone at this address.
"$SM" config set github.api-url "file://$TMP/nowhere" >/dev/null || fail "config set"
loaded "$SM" add acme/tools/skills/demo >"$TMP/libs" && fail "a clone from nowhere succeeded"
grep -q 'skillmeat-git\.so' "$TMP/libs" || fail "the git module was not loaded: $(cat "$TMP/libs")"
grep -q 'libgit2' "$TMP/libs" || fail "libgit2 not loaded by a GitHub add"
grep -q "cannot clone 'acme/tools'" "$TMP/.ld" || fail "no clone error: $(grep error "$TMP/.ld")"
ok

# In an AddressSanitizer build the program itself defines LeakSanitizer's
# default suppressions (libh2o's per-thread recycle caches): LSan binds that
# weak symbol when the program starts, so a copy inside skillmeat-serve.so,
# loaded later by dlopen, is never read and a loop thread's recycled chunk
# failed api-concurrency now and then. The loader's bindings tell who defines
# it; a build without ASan has no libasan to bind.
LD_BIND_NOW=1 LD_DEBUG=bindings "$SM" --version 2>"$TMP/.bind" >/dev/null || fail "--version failed"
if grep -q 'libasan' "$TMP/.bind"; then
	grep "symbol \`__lsan_default_suppressions'" "$TMP/.bind" >"$TMP/.sup" ||
		fail "libasan never asked for __lsan_default_suppressions"
	grep -qE "to (.*/)?$(basename "$SM") \\[0\\]" "$TMP/.sup" ||
		fail "LSan's suppressions are not the program's: $(cat "$TMP/.sup")"
fi
ok

done_ok
