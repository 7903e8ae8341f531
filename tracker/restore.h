/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The restore API: how a saved history (the journal) feeds the process
 * table, as the kernel's events and /proc feed it live. A reader turns each
 * journal line into one struct tracker_restore, a description of one
 * process by its (pid, start ticks) and what the line knows of it, and
 * tracker_restore_put() creates or updates that record. Nothing here reads
 * /proc: the bootstrap that follows a restore reconciles the restored
 * running records with the live system (tracker_bootstrap()).
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "context.h"
#include "tracker.h"

/* Which fields of a struct tracker_restore are known. */
enum tracker_restore_has {
	TRACKER_RESTORE_COMM = 1 << 0,
	TRACKER_RESTORE_EXE = 1 << 1, /* exe may be NULL: known to have none */
	TRACKER_RESTORE_CMDLINE = 1 << 2,
	TRACKER_RESTORE_UIDS = 1 << 3,
	TRACKER_RESTORE_GIDS = 1 << 4,
	TRACKER_RESTORE_CREATOR = 1 << 5, /* creator_pid, and creator_serial when known */
	TRACKER_RESTORE_EXIT = 1 << 6,
	TRACKER_RESTORE_FLAGS = 1 << 7,
	TRACKER_RESTORE_EXECS = 1 << 8, /* exec_count as it was after this line */
	TRACKER_RESTORE_THREADS = 1 << 9,
	/* The image (exe, command line with its length and hash) and the ids
	 * are the creator's at this point (a fork line): copied from its
	 * record, before what the line gives itself. */
	TRACKER_RESTORE_INHERIT = 1 << 10,
	TRACKER_RESTORE_GUESS = 1 << 11, /* guess is set (else cleared by a line with the image) */
};

/* The flags a saved history may carry; the others are the table's own. */
#define TRACKER_RESTORE_FLAG_MASK                                                                  \
	(LIN_PROC_KTHREAD | LIN_PROC_CMDLINE_MISSED | LIN_PROC_CMDLINE_TRUNCATED |                 \
	 LIN_PROC_FORK_SEEN | LIN_PROC_START_ESTIMATED | LIN_PROC_FROM_SCAN)
/* The flags of the image: what an exec line states. */
#define TRACKER_RESTORE_IMAGE_FLAGS                                                                \
	(LIN_PROC_KTHREAD | LIN_PROC_CMDLINE_MISSED | LIN_PROC_CMDLINE_TRUNCATED)

struct tracker_restore {
	guint32 has;    /* enum tracker_restore_has */
	gboolean whole; /* a checkpoint: what is not given is unknown, not unchanged */
	gboolean exec;  /* the line is an exec: exec_count grows when not given */
	pid_t pid;      /* 1..LIN_PID_MAX */
	guint64 start_ticks;
	guint32 instance; /* 1, or N of "<pid>-<start>.N"; 0 is taken as 1 */
	guint64 seen_ns;  /* CLOCK_MONOTONIC ns (this boot's clock) of the line, 0 unknown */

	pid_t creator_pid;
	guint64 creator_serial; /* the creator's record in this table, 0 none */

	uid_t ruid, euid;
	gid_t rgid, egid;
	const char *comm, *exe, *cmdline; /* bytes, not C strings */
	gsize comm_len, exe_len, cmdline_len;
	/* With the command line: the whole one's length when cut (0: whole)
	 * and its hex SHA-256 (NULL: none). */
	guint32 cmdline_full_len;
	const char *cmdline_sha256;
	struct lin_creator_guess guess; /* TRACKER_RESTORE_GUESS */
	guint16 flags;                  /* within TRACKER_RESTORE_FLAG_MASK */
	guint16 flags_mask;             /* the flags the line states (0: all of them) */
	guint8 exit_kind;               /* enum lin_exit_kind, not LIN_EXIT_RUNNING */
	guint32 exit_status;
	guint64 exit_ns; /* CLOCK_REALTIME ns, 0 unknown */
	guint32 exec_count;
	guint32 threads; /* live threads other than the leader */

	guint64 time_ns; /* CLOCK_REALTIME of the line's event, for the history; 0 unknown */
	guint8 change;   /* enum tracker_restore_change: the event, for the history */
	/* A fork: the child has its creator's context (then ctx's parts). */
	gboolean inherit_context;
	/* What the line says of the context and history (ctx.has 0: nothing);
	 * a whole line replaces them, another changes the parts it gives. */
	struct lin_context_copy ctx;
};

/* The events a history keeps a line for, besides an exec (exec). */
enum tracker_restore_change {
	TRACKER_RESTORE_CHANGE_NONE,
	TRACKER_RESTORE_CHANGE_COMM,
	TRACKER_RESTORE_CHANGE_UID,
	TRACKER_RESTORE_CHANGE_GID,
};

/* The largest pid Linux hands out (PID_MAX_LIMIT on 64-bit: 2^22). */
#define LIN_PID_MAX (4 * 1024 * 1024)

/* Creates the record (pid, start_ticks) or updates it with what r knows.
 * A whole restore replaces the record (its exit too: a checkpoint of a
 * running process revives one an earlier line ended). Returns the record's
 * serial, or 0 when r is refused (pid out of range). */
guint64 tracker_restore_put(struct tracker *t, const struct tracker_restore *r);

/* Adds the history entries c gives (c->hist, c->hist_count) to the
 * record serial: the rest of a long history that a whole put's line could
 * not hold. FALSE when the record is unknown. */
gboolean tracker_restore_history(struct tracker *t, guint64 serial,
                                 const struct lin_context_copy *c);

/* The serial of the record (pid, start_ticks, instance), or 0. */
guint64 tracker_restore_lookup(struct tracker *t, pid_t pid, guint64 start_ticks, guint32 instance);

/* Links a restored record to its creator when the creator's line came
 * after the child's (a checkpoint lists records in serial order, and an
 * out-of-order FORK can make a creator newer than its child). */
gboolean tracker_restore_link(struct tracker *t, guint64 child_serial, guint64 creator_serial);

/* Removes an exited record no running descendant needs, as the retention
 * limit would. FALSE when unknown or still needed. */
gboolean tracker_restore_forget(struct tracker *t, guint64 serial);

/* Sets the wall-clock origin of the table's boot and its clock ticks per
 * second, when the history says them (another boot's table, a replay). */
void tracker_restore_set_clock(struct tracker *t, guint64 boot_realtime_ns, guint hz);

/* The history of an earlier boot ends with the machine's reboot: every
 * running record becomes exited, exit unknown. Returns how many. */
guint tracker_restore_end_boot(struct tracker *t);

/* Forgets the oldest exited records until at most max_exited remain, even
 * when the table's own limit is larger: the limit across several tables.
 * Returns how many were forgotten. */
guint tracker_restore_trim(struct tracker *t, guint max_exited);

/* Changes the table's retention limit (the share left to it when other
 * tables hold part of the limit), forgetting what is now beyond it. */
void tracker_restore_set_max_exited(struct tracker *t, guint max_exited);

/* Exited records held, and all records held. */
guint64 tracker_restore_count_exited(struct tracker *t);
guint64 tracker_restore_count_records(struct tracker *t);

/* For the bootstrap scan after a restore, with the write lock held: a
 * restored running record that /proc has with the same start is the same
 * process. It keeps its creator and Creator: fork; comm, ids, threads and,
 * after an exec nobody saw, the image are read again. */
void tracker_restore_reconcile(struct tracker *t, struct lin_process *p,
                               const struct lin_proc_info *info, const GArray *tids);
