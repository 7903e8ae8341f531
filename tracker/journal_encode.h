/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's encoder: turns a snapshot of one process record and what
 * happened to it into one line of journal_format.h (an Elastic Common
 * Schema JSON object and its '\n'). Pure: no clock, no I/O, no tracker, so
 * the unit tests and the fuzzer call it directly. The journal thread
 * (journal_write.c) owns the snapshots it encodes; the event thread only
 * copies records into them.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "context.h"
#include "journal_format.h"
#include "tracker.h"

/* process.entity_id: the first 32 hex digits of a sha256. */
#define JOURNAL_ENTITY_ID_LEN 32
/* process.args and process.command_line show at most this much of a
 * command line, its middle cut out (lineagefs.args_cut), for the shippers;
 * lineagefs.cmdline_b64 then holds the whole, so a restart or a replay
 * gets every byte back. The worst line, a 6 MiB command line whose kept
 * ends are all control bytes (\u00XX, in args and command_line), is about
 * 6 + 8 MiB: under JOURNAL_LINE_MAX. */
#define JOURNAL_CMDLINE_MAX (512 * 1024)

/* What every line says of the machine: host.id, host.boot.id, and the
 * clock that turns start ticks into process.start. */
struct journal_host {
	char machine_id[64];      /* /etc/machine-id: 32 hex digits */
	char boot_id[64];         /* /proc/sys/kernel/random/boot_id: a UUID */
	guint64 boot_realtime_ns; /* CLOCK_REALTIME ns at start ticks 0 */
	guint hz;                 /* clock ticks per second */
};

/* event.action of a process line, in the order of journal_format.h. */
enum journal_action {
	JOURNAL_FOUND,
	JOURNAL_FORK,
	JOURNAL_EXEC,
	JOURNAL_COMM,
	JOURNAL_UID,
	JOURNAL_GID,
	JOURNAL_EXIT,
	JOURNAL_EXIT_MISSED,
	JOURNAL_FORGET,
	JOURNAL_CHECKPOINT,
	JOURNAL_ACTION_COUNT,
};

/* Which parts of a struct journal_proc are known. */
enum journal_proc_has {
	JOURNAL_HAS_CREATOR = 1 << 0,       /* creator_pid */
	JOURNAL_HAS_CREATOR_START = 1 << 1, /* creator_start_ticks, creator_instance */
	JOURNAL_HAS_COMM = 1 << 2,
	JOURNAL_HAS_EXE = 1 << 3,
	JOURNAL_HAS_CMDLINE = 1 << 4, /* cmdline (may be empty: kernel thread) */
	JOURNAL_HAS_UIDS = 1 << 5,
	JOURNAL_HAS_GIDS = 1 << 6,
	JOURNAL_HAS_EXIT = 1 << 7,   /* exit_kind is not LIN_EXIT_RUNNING */
	JOURNAL_HAS_COUNTS = 1 << 8, /* exec_count, threads */
	JOURNAL_HAS_FLAGS = 1 << 9,  /* flags (always known: set by the encoder) */
	/* A fork's image (executable, command line, its length and hash) and
	 * ids are its creator's: the line says so instead of repeating them. */
	JOURNAL_HAS_INHERITED = 1 << 10,
	JOURNAL_HAS_GUESS = 1 << 11, /* guess: its parent may not be its creator */
	/* An exec line that also tells the fork before it (the fork's line
	 * was not written): it carries the creator and process.start too. */
	JOURNAL_HAS_FORK = 1 << 12,
	JOURNAL_HAS_CONTEXT = 1 << 13, /* ctx: the parts its has names */
};

/*
 * One process as a line describes it: a copy, owning nothing (the strings
 * point into memory the caller keeps alive until the line is encoded).
 * flags and exit_kind are the tracker's enum lin_process_flag and enum
 * lin_exit_kind.
 */
struct journal_proc {
	guint32 has; /* enum journal_proc_has */
	pid_t pid;
	guint32 instance; /* 1, or N of "<pid>-<start>.N" */
	guint64 start_ticks;
	pid_t creator_pid;
	guint32 creator_instance;
	guint64 creator_start_ticks;
	uid_t ruid, euid;
	gid_t rgid, egid;
	guint32 flags;
	guint32 exit_kind;
	guint32 exit_status; /* raw wait status */
	guint64 exit_ns;     /* CLOCK_REALTIME ns, 0 unknown */
	guint32 exec_count;
	guint32 threads; /* live threads other than the leader */
	const char *comm, *exe, *cmdline;
	gsize comm_len, exe_len, cmdline_len;
	/* With the command line: the whole one's length when the kept bytes
	 * are cut (0: they are whole), and its hex SHA-256 (NULL: unknown). */
	guint32 cmdline_full_len;
	const char *cmdline_sha256;
	struct lin_creator_guess guess; /* JOURNAL_HAS_GUESS */
	/* The forensic context and history: found and checkpoint lines carry
	 * all of it, an exec the parts it changed (the writer decides). */
	struct lin_context_copy ctx;
};

/* The fields a line of this action carries (enum journal_proc_has): the
 * identity always, then what the action changed; found and checkpoint
 * carry everything known. */
guint32 journal_action_fields(enum journal_action action);
const char *journal_action_name(enum journal_action action);

/* process.entity_id of (pid, start_ticks, instance) on host: hex sha256 of
 * "machine-id/boot-id/pid/start_ticks/instance", first 32 digits, in out
 * (JOURNAL_ENTITY_ID_LEN + 1 bytes). */
void journal_entity_id(const struct journal_host *host, pid_t pid, guint64 start_ticks,
                       guint32 instance, char *out);

/* Appends the line for action on proc: event_ns is the CLOCK_REALTIME of
 * the event (@timestamp), seq its event.sequence. Fields of proc that the
 * action does not carry, or that proc->has says are unknown, are left out.
 * Returns how many of proc->ctx.hist the line holds: found and checkpoint
 * lines hold the first ones that fit (journal_format.h), and the rest go
 * to journal_encode_history() lines, right after it; other lines hold
 * none and return proc->ctx.hist_count. */
guint journal_encode_process(GString *out, const struct journal_host *host,
                             enum journal_action action, guint64 event_ns, guint64 seq,
                             const struct journal_proc *proc);

/* Appends a "history" line with the entries proc->ctx.hist[from..) that
 * fit (at least one) and returns the index after the last it holds. */
guint journal_encode_history(GString *out, const struct journal_host *host, guint64 event_ns,
                             guint64 seq, const struct journal_proc *proc, guint from);

/* The first line of a segment: its number, the daemon's version and the
 * boot's clock (lineagefs.hz, lineagefs.boot_realtime_ns). The checkpoint
 * lines follow it. */
void journal_encode_open(GString *out, const struct journal_host *host, guint64 now_ns, guint64 seq,
                         guint64 segment);

/* A gap: lost_lines lines could not be written (a full queue, a failing
 * disk) before this one. */
void journal_encode_gap(GString *out, const struct journal_host *host, guint64 now_ns, guint64 seq,
                        guint64 lost_lines);

/* Appends s[0..len) as a JSON string, quotes included: valid UTF-8 as is
 * (control bytes, quotes, backslashes, U+2028 and U+2029 escaped), else
 * with each invalid sequence as U+FFFD. Returns FALSE when the bytes were
 * not valid UTF-8 (so the line must carry them in a *_b64 field). */
gboolean journal_append_string(GString *out, const char *s, gsize len);
