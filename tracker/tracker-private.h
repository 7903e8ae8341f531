/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the rooms of tracker/ share, private to them: struct tracker and
 * the helpers one room provides to another. tracker.c holds the tracker's
 * life cycle, clocks, lock, change delivery and reading side; table.c the
 * records, their indexes and retention; events.c applies events and
 * scan.c scans of all of /proc through table.c's primitives. The write-side helpers are called
 * by the feeding thread with the write lock held.
 */
#pragma once

#include <pthread.h>

#include "exe_hash.h"
#include "index.h"
#include "serial_index.h"
#include "tracker.h"

/* The connector's numbering of one CPU's messages. */
struct cpu_seq {
	guint32 expect; /* the seq the next message should carry */
	gboolean seen;
};

struct tracker {
	/* Writers are preferred: the feeding thread must not starve behind a
	 * stream of readers (find over the whole mount). */
	pthread_rwlock_t lock;
	struct tracker_config cfg;

	/* Everything below is protected by lock, and written only by the
	 * feeding thread. */
	struct lin_strpool *strings;
	struct serial_index by_serial; /* struct lin_process * by serial */
	GHashTable *by_pid;            /* set of the newest record of each pid, hashed by pid */
	GHashTable *threads;           /* tid -> struct lin_process * (non-leader threads) */
	GHashTable *pending;           /* pid -> struct pending * */
	GPtrArray *leader_exited;      /* records with LIN_PROC_LEADER_EXITED */
	struct lin_process *all_head, *all_tail;
	struct lin_process *evict_head, *evict_tail;
	struct lin_process *free_records; /* recycled, linked through all_next */
	/* Records are carved from blocks (see tracker_process_new()): the
	 * blocks, and the records left in the newest. */
	GPtrArray *record_blocks;
	struct lin_process *block_next;
	guint block_left;
	guint64 next_serial;
	guint64 records;
	struct tracker_stats stats;
	gboolean rescan_wanted;
	/* Events were lost and no rescan has read the ids since: an EXEC
	 * reads status (see exec_needs_status()). */
	gboolean ids_uncertain;
	GArray *cpu_seqs; /* struct cpu_seq, indexed by cpu */
	struct lin_context_pool *contexts;
	struct lin_hist_budget history;
	/* The restore of one record's history (its whole line, then its
	 * "history" lines): the long command line of each entry added so far
	 * (a reference, or NULL), for the later entries that name one by how
	 * far back it is (struct lin_hist_copy.cmdline_back). */
	GPtrArray *restoring_cmdlines;
	guint64 restoring_serial;
	struct lin_index *index;
	/* --hash-exe: its own worker; the cache is the feeding thread's. */
	struct exe_hash *hasher;
	/* The hash entry of the EXEC being applied (taken by record_context.c). */
	struct exe_hash_entry *applying_hash;
	/* The context of the record the EXEC being applied replaced, and the
	 * record's serial (0: none kept): its journal line tells what changed. */
	struct lin_context *exec_prev_ctx;
	guint64 exec_prev_serial;
	struct proc_context_opts ctx_opts; /* what proc_scan reads beyond the defaults */

	/* Lock-free: each field says who writes it (metrics.h). */
	struct lin_metrics metrics;

	/* Only the feeding thread touches these. */
	tracker_event_fn event_fn;
	void *event_data;
	/* The kernel event being applied (tracker_apply_event()), NULL during
	 * a scan or housekeeping: it names what a change was. */
	const struct cnproc_event *applying;
	tracker_change_fn change_fn;
	void *change_data;
	GArray *changes; /* struct lin_change, delivered after unlock */
};

/* ---- tracker.c ---- */

/* The configured clocks, or the system's. */
guint64 tracker_now_monotonic(const struct tracker *t);
guint64 tracker_now_realtime(const struct tracker *t);
/* Bumps the record's generation and queues the change for the listener. */
void tracker_queue_change(struct tracker *t, enum lin_change_kind kind, struct lin_process *p);
void tracker_queue_creator_change(struct tracker *t, struct lin_process *p,
                                  const struct lin_process *old_creator);
void tracker_write_lock(struct tracker *t);
/* CLOCK_REALTIME of a kernel event's (monotonic) timestamp. */
guint64 tracker_event_realtime(const struct tracker *t, guint64 timestamp_ns);

/* ---- event_hook.c: caller holds the write lock ---- */

/* Tells the event listener what a change to p was, if it was an event. */
void tracker_hook_change(struct tracker *t, enum lin_change_kind kind, struct lin_process *p);
/* Unlocks, then delivers the queued changes. */
void tracker_write_unlock(struct tracker *t);

/* ---- events.c: caller holds the write lock ---- */

/* The running record the kernel means by pid, or NULL. */
struct lin_process *tracker_running_pid(struct tracker *t, pid_t pid);
/* Sets p's real and effective uids (uid) or gids, as a UID or GID event
 * at timestamp_ns (monotonic) does: history entry and change queued. */
void tracker_apply_ids(struct tracker *t, struct lin_process *p, gboolean uid, guint32 real,
                       guint32 effective, guint64 timestamp_ns);

/* ---- table.c: caller holds the write lock ---- */

struct lin_process *tracker_process_new(struct tracker *t, pid_t pid, guint64 start_ticks,
                                        guint64 seen_ns);
void tracker_set_creator(struct tracker *t, struct lin_process *child, struct lin_process *creator);
void tracker_set_str(struct tracker *t, struct lin_str **slot, struct lin_str *value);
/* The rare fields (see struct lin_hist): instance 1, no length or digest
 * of a whole command line (sha256 is taken), no guess (taken, g_free'd)
 * allocate nothing. */
void tracker_set_instance(struct tracker *t, struct lin_process *p, guint32 instance);
void tracker_set_cmdline_whole(struct tracker *t, struct lin_process *p, guint32 full_len,
                               struct lin_str *sha256);
void tracker_set_guess(struct tracker *t, struct lin_process *p, struct lin_creator_guess *guess);
/* Drops the command line, its digest and its cut flag. */
void tracker_clear_cmdline(struct tracker *t, struct lin_process *p);
/* Gives p the program from runs (comm, exe, command line and its digest,
 * the image's stack address, and the flags saying what of it was missed):
 * a child that has not exec'd runs its creator's. */
void tracker_copy_image(struct tracker *t, struct lin_process *p, const struct lin_process *from);
void tracker_apply_info(struct tracker *t, struct lin_process *p, const struct lin_proc_info *info);
void tracker_threads_clear(struct tracker *t, struct lin_process *p);
void tracker_thread_add(struct tracker *t, struct lin_process *p, pid_t tid);
void tracker_leader_exited_forget(struct tracker *t, struct lin_process *p);
void tracker_process_set_exited(struct tracker *t, struct lin_process *p, enum lin_exit_kind kind,
                                guint32 exit_status, guint64 exit_ns);
void tracker_process_revive(struct tracker *t, struct lin_process *p);
/* Removes an evictable record (LIN_PROC_EVICTABLE) from the table. */
void tracker_process_forget(struct tracker *t, struct lin_process *p);
/* Forgets the oldest evictable exited records beyond max_exited, and while
 * the strings take more than max_string_bytes. */
void tracker_enforce_retention(struct tracker *t);

/* ---- record_context.c: the context, history and indexes of records ---- */

void tracker_ctx_init(struct tracker *t);
void tracker_ctx_cleanup(struct tracker *t);
/* Frees a record's context and history (tracker_free). */
void tracker_ctx_release(struct tracker *t, struct lin_process *p);
/* Caller holds the write lock for these. */
void tracker_ctx_forget(struct tracker *t, struct lin_process *p);
/* Takes p out of the indexes, and puts it back under its current exe and
 * ids: around changes made elsewhere (the journal's restore). */
void tracker_ctx_unindex(struct tracker *t, struct lin_process *p);
void tracker_ctx_index(struct tracker *t, struct lin_process *p);
void tracker_ctx_fork(struct tracker *t, struct lin_process *p, struct lin_process *creator);
void tracker_ctx_found(struct tracker *t, struct lin_process *p, const struct lin_proc_info *info);
/* Around tracker_apply_info() for an EXEC: before keeps what it replaces. */
void tracker_ctx_exec_before(struct tracker *t, struct lin_process *p, guint32 old_ids[4]);
void tracker_ctx_exec_after(struct tracker *t, struct lin_process *p,
                            const struct lin_proc_info *info, guint64 time_ns,
                            const guint32 old_ids[4]);
void tracker_ctx_comm(struct tracker *t, struct lin_process *p, guint64 time_ns);
/* After a UID (uid) or GID event changed p's ids from old_real/old_eff. */
void tracker_ctx_ids(struct tracker *t, struct lin_process *p, gboolean uid, guint32 old_real,
                     guint32 old_eff, guint64 time_ns);
/* Takes the write lock: collects finished exe hashes. */
/* restore.c's put, around its changes to p: the history keeps what the
 * line's event replaced (an exec's image, ids, a comm), and the context
 * and history the line gives are set. old_ids: out of before, into after. */
struct tracker_restore;
void tracker_ctx_restore_before(struct tracker *t, struct lin_process *p,
                                const struct tracker_restore *r, guint32 old_ids[4]);
void tracker_ctx_restore_after(struct tracker *t, struct lin_process *p,
                               const struct tracker_restore *r, const guint32 old_ids[4]);
/* Adds the history entries c gives to p's (more of a long history). */
void tracker_ctx_restore_history(struct tracker *t, struct lin_process *p,
                                 const struct lin_context_copy *c);
/* The end of an event's application: drops what the hooks kept for it. */
void tracker_ctx_event_done(struct tracker *t);
void tracker_ctx_tick(struct tracker *t);
/* An EXEC's read was begun: looks up (or starts) its exe hash. */
void tracker_ctx_begin(struct tracker *t, struct tracker_read *rd);
/* Bytes of contexts, history entries and indexes. */
gsize tracker_ctx_bytes(const struct tracker *t);
