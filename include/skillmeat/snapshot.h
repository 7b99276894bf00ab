/* SPDX-License-Identifier: MIT */
#ifndef SKILLMEAT_SNAPSHOT_H
#define SKILLMEAT_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;
struct sm_home;

/*
 * Collection snapshots compatible with SkillMeat (spec/skillmeat-formats.md
 * §1.7): `<home>/snapshots/<collection>/<id>.tar.gz` (gzip tar, pax, the
 * collection folder under the top-level member `<collection>/`) and
 * `snapshots.toml` (`[[snapshots]]` id, timestamp, message, artifact_count,
 * tarball_path), written atomically. Callers hold the home lock.
 */

#define SM_SNAPSHOT_ID_MAX 32
#define SM_SNAPSHOT_AUTO_PREFIX "[auto] "

struct sm_snapshot {
	char id[SM_SNAPSHOT_ID_MAX];
	char *timestamp;
	char *message;
	long artifact_count;
	char *tarball_path;
};

struct sm_snapshot_list {
	struct sm_snapshot *items; /* newest first */
	size_t len;
};
void sm_snapshot_list_release(struct sm_snapshot_list *l);

/*
 * Snapshot the collection now. automatic prefixes the message with
 * "[auto] " and then prunes automatic snapshots beyond keep (the newest
 * keep stay; manual snapshots are never pruned; keep <= 0: no pruning).
 * ret (may be NULL) receives the new snapshot's id.
 */
int sm_snapshot_create(struct sm_home *home, const char *collection, const char *message,
		       bool automatic, long keep, char ret_id[SM_SNAPSHOT_ID_MAX],
		       struct strbuf *err);

/*
 * Under the home lock (sm_home_lock): a tarball that snapshots.toml does not
 * name, left by a snapshot killed between the tarball's rename and the
 * list's write, is listed when it extracts (message "[auto] Recovered
 * snapshot (…)", so pruned like an automatic one; its timestamp from its id,
 * its artifact count from its content) and removed when it does not. Only a
 * tarball not older than snapshots.toml can be unlisted: an ordinary lock
 * stats the tarballs and reads no list.
 */
void sm_snapshot_recover(struct sm_home *home);

/* The snapshots of a collection, newest first (a missing snapshots.toml is none). */
int sm_snapshot_list(struct sm_home *home, const char *collection, struct sm_snapshot_list *ret,
		     struct strbuf *err);

/*
 * Replace the collection folder by the snapshot's content: extracted beside
 * it (members confined: no absolute paths, no "..", no links out), then
 * swapped into place in one rename. -ENOENT for an unknown id.
 */
int sm_snapshot_restore(struct sm_home *home, const char *collection, const char *id,
			struct strbuf *err);

/*
 * Extract one member folder or file of a snapshot (rel, relative to the
 * collection folder, e.g. "skills/x") into dest (which must not exist).
 * -ENOENT when the snapshot does not hold it.
 */
int sm_snapshot_extract(const char *tarball, const char *rel, const char *dest,
			struct strbuf *err);

#endif
