/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FUSE low-level filesystem: the mount's tree ("<pid>-<start>/" per
 * record, by-pid/, self, stats) answered from the tracker's records under
 * its read lock, with inode numbers derived from record serials so no
 * per-inode state is kept. Replies carry long cache timeouts; a notifier
 * thread invalidates the kernel's caches when the tracker reports a change.
 */
#pragma once

#include <fuse_lowlevel.h>
#include <glib.h>

#include "metrics.h"
#include "tracker.h"

struct lin_fs;

/* -o hidepid=, as procfs: what other users' processes look like. */
enum fs_hidepid {
	FS_HIDEPID_OFF,       /* listed, public files readable */
	FS_HIDEPID_NOACCESS,  /* listed, nothing inside readable */
	FS_HIDEPID_INVISIBLE, /* not listed, not found */
};

/* Who may read what (fs/access.c). Only enforced with allow_other: without
 * it the kernel lets the mounting user alone in. */
struct fs_access_config {
	gboolean allow_other; /* -o allow_other: the policy applies */
	gboolean has_gid;     /* -o gid= was given */
	gid_t gid;            /* its group: sees every process, as root does */
	enum fs_hidepid hidepid;
};

/* t is not owned and must outlive the fs. */
struct lin_fs *fs_new(struct tracker *t);
/* The policy for readers; call before fs_session_new(). The session must
 * then be mounted with -o default_permissions when allow_other is set:
 * the kernel checks the modes that encode the policy. */
void fs_set_access(struct lin_fs *fs, const struct fs_access_config *access);
/* Stops the notifier if it still runs. NULL is fine. */
void fs_free(struct lin_fs *fs);

/* Shows an earlier boot's table as boots/<boot_id>/, in the root's layout.
 * Call before the session serves; t is not owned, outlives the fs, and is
 * never written once the session serves. */
void fs_add_boot(struct lin_fs *fs, const char *boot_id, struct tracker *t);
/* The mount shows a replayed history: there is no self (the reader is no
 * process of it). */
void fs_set_replay(struct lin_fs *fs);

/* fuse_session_new() with this fs's operations and the fs as userdata.
 * Returns NULL with error set on failure. */
struct fuse_session *fs_session_new(struct lin_fs *fs, struct fuse_args *args, GError **error);

/* Fills a snapshot of the journal writer's counters, which the stats and
 * metrics files show; called from FUSE threads, so it must be thread-safe
 * and must not block. */
typedef void (*fs_journal_stats_fn)(struct lin_journal_stats *out, void *data);
/* Set before the session serves; unset: there is no journal. */
void fs_set_journal_stats_fn(struct lin_fs *fs, fs_journal_stats_fn fn, void *data);

/* Brings the table up to the events the kernel has sent so far, waiting a
 * bounded time; called from FUSE threads, without the tracker's lock. The
 * event thread takes some events in batches, a few milliseconds late: a
 * thread that looks up self the moment it starts must find itself. */
typedef void (*fs_catch_up_fn)(void *data);
/* Set before the session serves; unset: events are applied as they come. */
void fs_set_catch_up_fn(struct lin_fs *fs, fs_catch_up_fn fn, void *data);

/* The tracker's change hook: tracker_set_change_fn(t, fs_on_change, fs).
 * Runs on the tracker's feeding thread; never blocks, only queues. */
void fs_on_change(const struct lin_change *change, void *data);

/* Starts the thread that sends the kernel cache invalidations for queued
 * changes. Call once the session is mounted; until then (and after
 * fs_stop_notifier()) replies use short cache timeouts instead. */
gboolean fs_start_notifier(struct lin_fs *fs, struct fuse_session *se, GError **error);
/* Stops and joins the notifier thread. Call before unmounting. */
void fs_stop_notifier(struct lin_fs *fs);
