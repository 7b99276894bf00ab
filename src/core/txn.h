/* SPDX-License-Identifier: MIT */
#ifndef SM_CORE_TXN_H
#define SM_CORE_TXN_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf;
struct sm_manifest;
struct sm_lock;

/*
 * One write of a collection as a crash-safe sequence (ARCHITECTURE §2.2).
 * Artifact files are staged beside their destination and only moved at
 * commit, together with collection.toml and collection.lock:
 *
 *   1. the next manifest and lock are written beside the real ones
 *      (.collection.toml.sm-next, .collection.lock.sm-next, fsynced);
 *   2. when files move: the journal .collection.journal, state "prepared",
 *      lists the renames (old copy set aside, staged copy into place);
 *      the renames are done, then synced; a replace is done as an exchange
 *      of the staged copy with the old one (renameat2 RENAME_EXCHANGE, where
 *      the file system has it) and a rename of the staged name, now holding
 *      the old copy, to its set-aside name, so the artifact is never missing;
 *      the journal keeps the staged copy's inode, which tells recovery
 *      whether the exchange happened (a home copied between a crash and
 *      its recovery has other inodes: a replace stopped right after its
 *      exchange then keeps the new copy under the old lock entry, which
 *      shows as locally modified);
 *   3. the journal is rewritten with state "committed": the commit point;
 *   4. the next files are renamed over the real ones, the set-aside copies
 *      deleted, the journal removed.
 *
 * A crash before 3 leaves the old state (recovery undoes the renames), after
 * it the new one (recovery redoes what is missing). Recovery is a write: it
 * runs only under the home lock, at the start of the next write
 * (sm_txn_recover from sm_collection_open when the caller holds the lock).
 * A reader that finds a committed journal reads the next files instead, so it
 * sees the committed state without changing anything.
 *
 * Paths are relative to the collection folder.
 */
struct sm_txn;

int sm_txn_new(struct sm_txn **ret);
/* Remove the staged copies that were never committed, then free. NULL is fine. */
void sm_txn_abort(const char *dir, struct sm_txn *t);
/* A copy staged for this write (deleted if it is never committed). */
int sm_txn_staged(struct sm_txn *t, const char *rel);
/* A rename done at commit, in order. */
int sm_txn_move(struct sm_txn *t, const char *from, const char *to);
/* A set-aside tree deleted after the commit; its name holds ".sm-old-". */
int sm_txn_trash(struct sm_txn *t, const char *rel);

/*
 * What this write will do to rel at commit, so that a later step of the same
 * operation sees it: the staged copy (relative) that moves onto rel, or NULL;
 * whether rel is set aside; whether rel is one of the staged copies.
 */
const char *sm_txn_incoming(const struct sm_txn *t, const char *rel);
bool sm_txn_outgoing(const struct sm_txn *t, const char *rel);
bool sm_txn_is_staged(const struct sm_txn *t, const char *rel);
/*
 * A later step replaced or removed what an earlier one staged for rel: the
 * move onto rel is forgotten and its staged copy deleted (nothing when there
 * is none).
 */
void sm_txn_drop_incoming(const char *dir, struct sm_txn *t, const char *rel);

/*
 * Commit: steps 1-4 above. Before the commit point a failure undoes the
 * renames and returns it (the staged copies stay for sm_txn_abort); after it,
 * the write stands and what is left is finished by the next recovery.
 * uc_text: when not NULL, the new user-collections.toml of the home, written
 * in the same step (.user-collections.toml.sm-next, renamed after the lock).
 * Empties t.
 */
int sm_txn_commit(const char *dir, struct sm_txn *t, struct sm_manifest *m, struct sm_lock *l,
		  const struct strbuf *uc_text, struct strbuf *err);

/*
 * Finish or undo an interrupted write of the collection in dir and remove the
 * leftovers of dead writers (.collection.*.tmp, .collection.*.sm-next,
 * .NAME.sm-new-PID and .NAME.sm-old-PID in its folders). The caller holds the
 * home lock. A journal that cannot be read is -EBADMSG.
 */
int sm_txn_recover(const char *dir, struct strbuf *err);

/*
 * For readers: true when dir holds a committed journal whose next files are
 * still to be renamed; *manifest / *lock (heap) name the files to read then
 * (NULL when that one was already renamed).
 */
bool sm_txn_committed(const char *dir, char **manifest, char **lock);

/*
 * Interrupted writes of every collection that has a journal are finished or
 * undone, then the leftovers of dead writers at the top of a home (temp files of
 * user-collections.toml, server.json, config.toml, collections set aside by
 * an interrupted delete). The caller holds the home lock.
 */
void sm_txn_clean_home(const char *root);

/* Leftovers of interrupted writes in dir itself (names of ours only); best effort. */
void sm_txn_clean_dir(const char *dir, const char *const *prefixes);

#endif
