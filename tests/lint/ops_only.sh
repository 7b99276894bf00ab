#!/bin/sh
# The front ends (src/cli, src/api) never take the home lock nor write a
# SkillMeat file themselves: every write goes through src/ops
# (include/skillmeat/ops.h, docs/architecture.md). Fails when one of the
# calls that lock the home or write a manifest, lock, user-collections or
# config file appears there.
set -eu
root=${1:-.}
calls='sm_home_lock|sm_home_unlock|sm_collection_commit|sm_collection_init|sm_collection_delete'
calls="$calls|sm_collection_add_local|sm_collection_add_github|sm_collection_remove"
calls="$calls|sm_manifest_save|sm_manifest_replace|sm_manifest_append|sm_manifest_remove"
calls="$calls|sm_lock_save|sm_lock_set|sm_lock_remove|sm_config_set|sm_config_unset"
calls="$calls|sm_user_collections_save|sm_user_collections_create|sm_user_collections_update"
calls="$calls|sm_user_collections_delete|sm_user_collections_add_member"
calls="$calls|sm_user_collections_remove_member|sm_cache_drop_members|sm_fs_write_atomic"
pat="(^|[^_a-zA-Z0-9])($calls)[[:space:]]*\\("
if grep -rnE "$pat" "$root/src/cli" "$root/src/api" --include='*.c' --include='*.h'; then
	echo "a front end locks the home or writes a file itself: call src/ops instead" >&2
	exit 1
fi
echo "src/cli and src/api write only through src/ops"
