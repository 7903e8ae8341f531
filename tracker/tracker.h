/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The process table: one record per process ever observed, keyed by
 * (pid, start ticks), with the creator link, the children list, a by-pid
 * index to the newest holder of each pid, and the exited records kept until
 * the retention limit. Fed by one thread (the event thread) through
 * tracker_bootstrap(), tracker_event_finish() and tracker_rescan(); read by
 * any number of threads under tracker_read_lock(). Knows nothing of FUSE.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

#include "cnproc.h"
#include "context.h"
#include "proc_history.h"
#include "metrics.h"
#include "proc_scan.h"
#include "strpool.h"

enum lin_exit_kind {
	LIN_EXIT_RUNNING = 0,
	LIN_EXIT_CODE,    /* exited N: exit_status holds the raw wait status */
	LIN_EXIT_SIGNAL,  /* killed by a signal: exit_status holds the raw wait status */
	LIN_EXIT_UNKNOWN, /* the exit was never reported (missed event, rescan) */
};

enum lin_process_flag {
	LIN_PROC_KTHREAD = 1 << 0,
	LIN_PROC_CMDLINE_MISSED = 1 << 1,    /* could not read cmdline in time */
	LIN_PROC_CMDLINE_TRUNCATED = 1 << 2, /* cut by a cap: both ends kept */
	LIN_PROC_FORK_SEEN = 1 << 3,         /* creator comes from a FORK event */
	LIN_PROC_LEADER_EXITED = 1 << 4,     /* leader gone, other threads still run */
	LIN_PROC_START_ESTIMATED = 1 << 5,   /* start from the event clock, /proc was gone */
	LIN_PROC_FROM_SCAN = 1 << 6,         /* found by a /proc scan, not by an event */
	LIN_PROC_EVICTABLE = 1 << 7,         /* linked in the eviction queue */
	LIN_PROC_IDS_KNOWN = 1 << 8,   /* uids and gids read from status, or its creator's known */
	LIN_PROC_EXE_DELETED = 1 << 9, /* the exe was unlinked when read (" (deleted)") */
	LIN_PROC_EXE_MEMFD = 1 << 10,  /* the exe is a memfd: nothing on disk ran */
	/* Its pid inside its own pid namespace is its pid (the daemon's
	 * namespace): see lin_process_ns_pid(). */
	LIN_PROC_NS_PID_IS_PID = 1 << 11,
};

/* What names a record: "<pid>-<start>", or "<pid>-<start>.<instance>" for
 * the second and later holders of a pid within one clock tick. */
struct lin_name {
	pid_t pid;
	guint32 instance; /* 1, 2, ... */
	guint64 start_ticks;
};

/* Names of candidates kept per record, at most; count says how many matched. */
#define LIN_CANDIDATES_MAX 8

enum lin_parent_check {
	LIN_PARENT_IS_CREATOR = 0, /* the fork event's parent made it (or nothing says otherwise) */
	LIN_PARENT_NOT_CREATOR,    /* its image is another process's: candidates[] made it */
	LIN_PARENT_UNCERTAIN, /* its image is not its parent's, and no child of the parent's matched
	                       */
};

/*
 * A child made with clone(CLONE_PARENT) is reported by the kernel as its
 * caller's parent's child. Until it execs it runs its real creator's
 * program, so its image (the address of its stack, which ASLR makes
 * unique per exec and fork copies) differs from its reported parent's
 * and matches its creator's, a running child of that parent.
 */
struct lin_creator_guess {
	guint8 check; /* enum lin_parent_check */
	guint count;  /* candidates that matched; the first LIN_CANDIDATES_MAX are named */
	struct lin_name candidates[LIN_CANDIDATES_MAX];
};

/*
 * One process. Every field is protected by tracker->lock: written by the
 * feeding thread under the write lock, read under the read lock.
 */
struct lin_process {
	guint64 serial;      /* unique, never reused, increasing: inode numbers derive from it */
	guint64 start_ticks; /* field 22 of /proc/<pid>/stat */
	guint64 exit_ns;     /* CLOCK_REALTIME ns of the exit; 0 while running */
	guint64 seen_ns;     /* CLOCK_MONOTONIC ns of the event or scan that created the record */
	pid_t pid;
	pid_t creator_pid; /* the creator's pid even when no record of it exists (0 for none) */
	uid_t ruid, euid;
	gid_t rgid, egid;
	guint32 exit_status; /* raw wait status from the EXIT event */
	guint16 flags;       /* enum lin_process_flag */
	guint8 exit_kind;    /* enum lin_exit_kind */
	/* Owned by the fs layer, which reads and sets it atomically: what
	 * the kernel was told of this record, so changes nobody looked at
	 * cost no invalidation. The tracker only zeroes it at creation. */
	guint8 fs_seen;
	/* Bumped whenever a change to the record is reported: what a reader
	 * sees of it may differ from what it saw at another generation. */
	guint32 generation;
	guint32 live_threads;  /* threads other than the leader known alive */
	guint32 keep_children; /* children that are running or have keep_children > 0 */
	guint32 exec_count;
	/* Field 28 of its stat (0: unknown): the image it runs, see struct
	 * lin_creator_guess. */
	guint64 start_stack;

	struct lin_process *creator; /* NULL when unknown or forgotten */
	/* Children in serial order. */
	struct lin_process *first_child, *last_child;
	struct lin_process *prev_sibling, *next_sibling;
	/* Older records with the same pid (the by-pid index holds the newest). */
	struct lin_process *older_same_pid;
	/* Every record in serial order (root readdir). */
	struct lin_process *all_prev, *all_next;
	/* Exited records in exit order, oldest first, that may be forgotten. */
	struct lin_process *evict_prev, *evict_next;

	struct lin_str *comm;
	struct lin_str *exe;     /* NULL: no exe (kernel thread) or unreadable */
	struct lin_str *cmdline; /* NULL: empty */

	/* The forensic context, shared with the records that have the same
	 * (a fork inherits its creator's); NULL when nothing is known. */
	struct lin_context *ctx;
	/* What the fields above no longer show (see proc_history.h), and the
	 * rare fields: the pid inside another pid namespace than the
	 * daemon's, the instance, the whole command line's length and digest
	 * when cut, the creator guess (read them with the lin_process_*()
	 * functions below); NULL for most processes. */
	struct lin_hist *history;
	guint64 exec_ns; /* CLOCK_REALTIME of the last exec seen; 0: none */
};

static inline gboolean lin_process_running(const struct lin_process *p)
{
	return p->exit_kind == LIN_EXIT_RUNNING;
}

/* The pid inside its own pid namespace; 0: unknown. Most processes run
 * in the daemon's namespace, where it is the pid: a flag says so, and
 * only the others keep it, out of line. */
static inline pid_t lin_process_ns_pid(const struct lin_process *p)
{
	if (p->flags & LIN_PROC_NS_PID_IS_PID)
		return p->pid;
	return p->history ? p->history->ns_pid : 0;
}

/* 1, or N for the Nth record of (pid, start_ticks): a pid recycled within
 * one clock tick. */
static inline guint32 lin_process_instance(const struct lin_process *p)
{
	return p->history && p->history->instance > 1 ? p->history->instance : 1;
}

/* Bytes of the whole command line when the kept ones are not all of it
 * (LIN_PROC_CMDLINE_TRUNCATED), else 0. */
static inline guint32 lin_process_cmdline_full_len(const struct lin_process *p)
{
	return p->history ? p->history->cmdline_full_len : 0;
}

/* Hex SHA-256 of the whole command line, when it was computed while
 * reading (long or cut); NULL: the kept bytes are the whole. */
static inline struct lin_str *lin_process_cmdline_sha256(const struct lin_process *p)
{
	return p->history ? p->history->cmdline_sha256 : NULL;
}

/* NULL while nothing says the fork event's parent is not the creator. */
static inline const struct lin_creator_guess *lin_process_guess(const struct lin_process *p)
{
	return p->history ? p->history->guess : NULL;
}

struct tracker_config {
	int proc_root_fd;  /* /proc, or a fake tree in tests; not owned */
	guint max_exited;  /* retention limit; 0 means keep everything */
	gsize max_cmdline; /* command line bytes kept; 0: LIN_CMDLINE_KERNEL_MAX */
	/* Bytes of interned strings (command lines, exe paths, comms) past
	 * which the oldest exited records are forgotten and then new command
	 * lines are cut to LIN_CMDLINE_SQUEEZED; 0: no budget. */
	guint64 max_string_bytes;
	guint64 boot_offset_ns;   /* CLOCK_BOOTTIME - CLOCK_MONOTONIC at start */
	guint64 boot_realtime_ns; /* CLOCK_REALTIME of boot (ticks 0) */
	guint hz;                 /* clock ticks per second (sysconf(_SC_CLK_TCK)) */
	guint32 host_pidns;       /* inode of the daemon's pid namespace; 0: unknown */
	gboolean live_proc;       /* proc_root_fd is our own /proc (proc_scan_is_live()) */
	/* --env: the environment variables kept at exec, NULL-terminated;
	 * NULL: none. Not owned, must outlive the tracker. */
	char **env_names;
	gboolean hash_exe; /* --hash-exe: sha256 of every executable */
	/* History entries kept in all (history.h); 0: half of max_exited, at
	 * least 10,000, or unlimited when max_exited is 0. */
	guint64 history_max;
	/* Clock for exit times and seen_ns; NULL means the real clocks. Tests set
	 * it to make records reproducible. */
	guint64 (*now_realtime_ns)(void);
	guint64 (*now_monotonic_ns)(void);
	/* Serials start after this: several tables (one per boot, see
	 * journal_read.h) serve one mount, each in its own space of
	 * TRACKER_SERIAL_SPACE serials, so an inode names its table. */
	guint64 serial_base;
};

/* The serials of one table: serial_base is a multiple of it. */
#define TRACKER_SERIAL_SPACE_BITS 36

/* Fills cfg from the running system (/proc, clocks, CLK_TCK). */
void tracker_config_init_system(struct tracker_config *cfg, int proc_root_fd);

struct tracker_stats {
	guint64 events_fork, events_thread_fork, events_exec, events_exit, events_thread_exit;
	guint64 events_comm, events_uid, events_gid, events_other;
	guint64 events_malformed;
	guint64 overflows;   /* ENOBUFS reports from the kernel */
	guint64 events_lost; /* events missing from the kernel's per-CPU numbering */
	guint64 rescans;
	guint64 exits_missed;     /* records marked exited by a rescan or a pid reuse */
	guint64 exits_while_down; /* restored running records gone at start-up */
	guint64 cmdline_missed;   /* execs whose cmdline could not be read in time */
	/* execs whose cmdline, exe or stat read failed with the process still
	 * there (see lin_proc_info.read_gone): misses its exit does not explain */
	guint64 exec_read_errors;
	guint64 cmdline_cut;      /* command lines cut by --max-cmdline or the string budget */
	guint64 budget_forgotten; /* exited records forgotten for the string budget */
	guint64 out_of_order;     /* EXEC/EXIT that arrived before their FORK */
	guint64 processes_live, processes_exited, processes_forgotten, processes_pinned;
	guint64 threads_live;
	guint64 record_bytes;    /* records and their indexes */
	guint64 string_bytes;    /* interned strings */
	guint64 strings;         /* distinct interned strings */
	guint64 history_entries; /* history lines kept beyond the records' own fields */
	guint64 history_dropped; /* history lines dropped for the budget */
	guint64 exe_hashed;      /* executables hashed (--hash-exe) */
	guint64 started_monotonic_ns;
};

enum lin_change_kind {
	LIN_CHANGE_NEW,  /* a record appeared (its creator's children/ changed) */
	LIN_CHANGE_EXEC, /* cmdline, exe, comm, ids may have changed */
	LIN_CHANGE_COMM,
	LIN_CHANGE_ID,
	LIN_CHANGE_EXIT,
	LIN_CHANGE_THREADS, /* live thread count (status Threads:) changed */
	LIN_CHANGE_CREATOR, /* an out-of-order FORK fixed the creator */
	LIN_CHANGE_FORGET,  /* the record is gone; serial no longer resolves */
};

/* What changed, for kernel cache invalidation. Names are given so the
 * receiver needs no lock to build them. */
struct lin_change {
	enum lin_change_kind kind;
	guint64 serial;
	pid_t pid;
	guint32 instance;
	guint64 start_ticks;
	guint64 creator_serial;     /* 0 when none */
	guint64 old_creator_serial; /* CREATOR: the creator it had before, 0 when none */
	/* fs_seen of the record and its creators when the change was made,
	 * under the write lock: a change to what no reader was ever given
	 * needs no invalidation. */
	guint8 seen, creator_seen, old_creator_seen;
};

typedef void (*tracker_change_fn)(const struct lin_change *change, void *data);

struct tracker;

struct tracker *tracker_new(const struct tracker_config *cfg);
void tracker_free(struct tracker *t);
const struct tracker_config *tracker_get_config(const struct tracker *t);
/* The health instruments every thread records into (metrics.h). */
struct lin_metrics *tracker_get_metrics(struct tracker *t);

/* Receives every change, on the feeding thread, after the write lock is
 * released. It must not block (queue the work). */
void tracker_set_change_fn(struct tracker *t, tracker_change_fn fn, void *data);

/* What an applied event did to a record, for the journal: a record found by
 * the bootstrap or a rescan, a fork, exec, comm, uid or gid change, an
 * exit, an exit found missed, a record forgotten by the retention limit. */
enum lin_event_kind {
	LIN_EVENT_FOUND,
	LIN_EVENT_FORK,
	LIN_EVENT_EXEC,
	LIN_EVENT_COMM,
	LIN_EVENT_UID,
	LIN_EVENT_GID,
	LIN_EVENT_EXIT,
	LIN_EVENT_EXIT_MISSED,
	LIN_EVENT_FORGET,
};

/* realtime_ns: CLOCK_REALTIME of the event (of the exit for an exit; the
 * scan's for a record found). */
typedef void (*tracker_event_fn)(enum lin_event_kind kind, const struct lin_process *p,
                                 guint64 realtime_ns, void *data);

/* Receives every event applied to a record, on the feeding thread with the
 * write lock held, so p and its creator are stable and whole: it must only
 * copy what it needs and return, and must not call the tracker. Set it
 * before the feeding thread starts (NULL: none). */
void tracker_set_event_fn(struct tracker *t, tracker_event_fn fn, void *data);

/* --- Feeding side: one thread only. --- */

/* Adds every process in /proc. Returns the number found, or -errno. */
int tracker_bootstrap(struct tracker *t);

/* Applies one kernel event: tracker_event_begin() then
 * tracker_event_finish(). /proc is read before the lock is taken. */
void tracker_handle_event(struct tracker *t, const struct cnproc_event *ev);

/* tracker_handle_event() in two halves, for a feeder that holds several
 * events at once: tracker_event_begin() only does the reads that cannot
 * wait (an EXEC's cmdline, exe and stat, see proc_scan_begin()), so it can
 * be called for every event as soon as it arrives; tracker_event_finish()
 * does the rest and applies the event. Events must be finished in the
 * order they arrived; a begun event is finished or abandoned. */
enum tracker_child_stat {
	TRACKER_CHILD_UNREAD, /* tracker_event_finish() reads it */
	TRACKER_CHILD_KNOWN,  /* child_stat holds it */
	TRACKER_CHILD_GONE,   /* it was read elsewhere, and the child was gone */
};

struct tracker_read {
	struct proc_read proc;
	gboolean begun;
	/* EXEC: CLOCK_MONOTONIC when its read opened /proc/<pid>, the clock
	 * of the kernel's event timestamps; and whether the pid had a new
	 * holder by then (see tracker_event_superseded()). */
	guint64 read_ns;
	gboolean superseded;
	/* EXEC with --hash-exe: the hash entry of the executable (a reference). */
	struct exe_hash_entry *exe_hash;
	/* FORK: the child's stat, when it was read elsewhere than in the
	 * FORK's finish (see tracker_event_give_child_stat()). */
	enum tracker_child_stat child;
	gboolean child_execd; /* that stat came from the child's EXEC: after execve() */
	/* The child's EXIT, or a FORK handing its pid out again, was received
	 * before the finish reads its stat (see tracker_event_child_gone()). */
	guint64 child_gone_ns; /* its stamp; 0: none */
	guint64 child_read_ns; /* CLOCK_MONOTONIC when child_image was read */
	struct lin_stat child_stat;
	/* The child's own image, read with its stat because it was not its
	 * parent's (see tracker_event_give_child_image()). */
	struct lin_proc_info child_image;
};

/* An EXEC whose reads begin this long after the kernel's stamp is read
 * with PROC_READ_URGENT: its command line before anything else. A
 * short-lived process releases its memory a few hundred microseconds
 * after its EXEC; most EXECs are read sooner than this (4,148 of 5,001
 * in a sequential storm on an idle 2-CPU machine). */
#define TRACKER_EXEC_LATE_NS G_GUINT64_CONSTANT(100000)

void tracker_event_begin(struct tracker *t, const struct cnproc_event *ev, struct tracker_read *rd);
/* Whether a begun EXEC left the rest of a long command line to read:
 * proc_scan_cmdline_finish(&rd->proc), on any thread, before the finish
 * (which otherwise reads it itself). */
gboolean tracker_event_cmdline_pending(const struct tracker_read *rd);
/*
 * A FORK (of a process or a thread) that handed out pid at timestamp_ns,
 * received while rd, a begun EXEC of that pid, waits: if its read opened
 * /proc/<pid> after that, it may have read the new holder, not the
 * process that exec'd. The start time cannot tell them apart when both
 * started in the same clock tick (a pid handed out again at once with
 * clone3's set_tid or ns_last_pid), so the read is dropped and the EXEC
 * counts as missed, never as the other's command line. Returns whether
 * it was.
 */
gboolean tracker_event_superseded(struct tracker_read *rd, const struct cnproc_event *fork);
/* A FORK's finish reads the child's stat; when the child's EXEC, queued
 * behind it, read stat on arrival, this hands that over instead (the same
 * process: nothing else can hold the pid between the two events), or that
 * the child was already reaped. Returns FALSE when the EXEC's read says
 * neither (it failed for another reason, or exec_rd is not begun). */
gboolean tracker_event_lend_stat(const struct tracker_read *exec_rd, struct tracker_read *fork_rd);
/* Whether the finish of this begun event would read the child's stat: a
 * process FORK whose child's stat was neither lent nor given. */
gboolean tracker_event_wants_child_stat(const struct cnproc_event *ev,
                                        const struct tracker_read *rd);
/* Hands a FORK the stat of its child read by someone else (another thread:
 * the read can block while the child is in execve()); NULL when that read
 * found the child already reaped. */
void tracker_event_give_child_stat(struct tracker_read *fork_rd, const struct lin_stat *stat);
/* The child's EXIT, or a FORK that handed its pid out again, stamped
 * timestamp_ns: from then on an image at the child's pid is another
 * process's (in the same clock tick, the start time cannot tell). A stat
 * the finish reads itself is taken for the start time alone, and an image
 * read after timestamp_ns is dropped: the child keeps its parent's. */
void tracker_event_child_gone(struct tracker_read *fork_rd, guint64 timestamp_ns);
/* tracker_event_give_child_stat(), and the child's own image when the
 * reader found its stack address was not its parent's: moved out of
 * image, which is left empty. read_ns: CLOCK_MONOTONIC when the read
 * began; an image read after the child was gone is not taken. */
void tracker_event_give_child_image(struct tracker_read *fork_rd, const struct lin_stat *stat,
                                    struct lin_proc_info *image, guint64 read_ns);
/* The stack address of the image a FORK's parent runs, 0 when unknown:
 * for the reader of the child's stat (stat_reader_ask_child()). On the
 * feeding thread only. */
guint64 tracker_event_parent_image(struct tracker *t, const struct cnproc_event *ev);
void tracker_event_finish(struct tracker *t, const struct cnproc_event *ev,
                          struct tracker_read *rd);
void tracker_event_abandon(struct tracker_read *rd);

/* The second half of tracker_handle_event(): applies an event with what
 * was read of /proc for it (read_ok == 0: nothing could be read). Exposed
 * for benchmarks and fuzzers that synthesize both. */
void tracker_apply_event(struct tracker *t, const struct cnproc_event *ev,
                         const struct lin_proc_info *info);

/* The kernel dropped events: counts it and rescans /proc. */
void tracker_overflow(struct tracker *t);

/* Reconciles the table with /proc: running records that are gone become
 * exited (unknown), new processes are added. Returns 0 or -errno. */
int tracker_rescan(struct tracker *t);

/* Whether events were found missing (a gap in the kernel's numbering)
 * since the last rescan: the feeding thread then calls tracker_rescan(). */
gboolean tracker_rescan_wanted(struct tracker *t);

/* Counts a datagram the parser rejected. */
void tracker_count_malformed(struct tracker *t);

/* Periodic housekeeping (expire out-of-order leftovers); call every ~100 ms. */
void tracker_tick(struct tracker *t);

/* --- Reading side: any thread, between read_lock and read_unlock. --- */

void tracker_read_lock(struct tracker *t);
void tracker_read_unlock(struct tracker *t);

/* The newest record of (pid, start_ticks), whatever its instance. */
struct lin_process *tracker_find(struct tracker *t, pid_t pid, guint64 start_ticks);
/* The record a name names. */
struct lin_process *tracker_find_name(struct tracker *t, const struct lin_name *name);
struct lin_process *tracker_find_serial(struct tracker *t, guint64 serial);
/* The newest record for pid (by-pid/<pid>). */
struct lin_process *tracker_find_pid(struct tracker *t, pid_t pid);
/* The process a thread id belongs to, newest record; NULL when unknown. */
struct lin_process *tracker_find_tid(struct tracker *t, pid_t tid);
/* The first record in serial order whose serial is > after (0: the first). */
struct lin_process *tracker_first_after(struct tracker *t, guint64 after);
/* The first record in serial order after 'after' that is the newest of its
 * pid (by-pid/ readdir, resumable by serial); NULL when none is left. */
struct lin_process *tracker_next_newest(struct tracker *t, guint64 after);

void tracker_get_stats(struct tracker *t, struct tracker_stats *out);

/* Starts the --hash-exe thread (files met before wait for it): after the
 * daemon dropped its capabilities. TRUE without --hash-exe. */
gboolean tracker_start_hasher(struct tracker *t, GError **error);

/* During the event hook of p's exec (the write lock held): TRUE, with the
 * context p had before it in *prev (NULL: none known), when the exec read
 * /proc; FALSE when nothing of the new context was read. */
gboolean tracker_exec_prev_context(const struct tracker *t, const struct lin_process *p,
                                   const struct lin_context **prev);

/* The journal's copy of p's context (context.h): with prev_valid, only
 * the parts that differ from prev; with_history adds the history and the time p was first seen
 * (cfg: p's table's, whose clocks turn it into wall-clock time). The strings and entries are copied
 * at *at, which must have room for lin_context_copy_size() bytes (8-aligned) and is advanced. *hash
 * gets a reference to the exe hash entry (its hex may come later: read it when the line is
 * encoded), NULL when none. Under the read or write lock. */
gsize lin_context_copy_size(const struct lin_process *p, gboolean with_history);
void lin_context_copy_fill(const struct lin_process *p, const struct tracker_config *cfg,
                           gboolean prev_valid, const struct lin_context *prev,
                           gboolean with_history, char **at, struct lin_context_copy *out,
                           struct exe_hash_entry **hash);

/* The by-exe and by-uid indexes (index.h), read under the read lock. */
struct lin_index *tracker_index(struct tracker *t);

/* The name of a record. */
struct lin_name lin_process_name(const struct lin_process *p);
