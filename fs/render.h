/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Pure functions that turn tracker records into what a reader sees: the
 * making and parsing of "<pid>-<start>[.<instance>]" names, the text of status, ancestry and stats,
 * and symlink targets. They take no lock and touch no global state, so the
 * FUSE layer calls them under tracker_read_lock() and unit tests call them
 * on records built by hand.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "tracker.h"

/* Longest "<pid>-<start>.<instance>" plus its NUL: 10 digits, '-', 20
 * digits, '.', 10 digits. */
#define FS_NAME_MAX 48

/* The fs's own counters, shown in stats after the tracker's. */
struct fs_counters {
	guint64 notify_skipped;  /* changes to nothing a reader was given: no notification */
	guint64 notify_queued;   /* changes handed to the notifier thread */
	guint64 notify_done;     /* of those, the changes it has finished */
	guint64 notify_sent;     /* invalidations the kernel applied */
	guint64 notify_uncached; /* invalidations for nodes the kernel did not cache */
	guint64 notify_failed;   /* invalidations the kernel refused otherwise */
};

/* CPU time of one group of the daemon's threads, for the metrics file. */
#define FS_THREAD_GROUPS_MAX 8
struct fs_thread_cpu {
	const char *thread; /* "events", "stat_reader", "notifier", "journal", "main", "fuse" */
	guint64 user_ticks, system_ticks;
};

/* Everything the metrics file shows. */
struct fs_metrics_input {
	const struct tracker_stats *stats;
	const struct fs_counters *counters;
	const struct lin_metrics *metrics;       /* read with atomic loads */
	const struct lin_journal_stats *journal; /* NULL: no journal */
	const struct fs_thread_cpu *cpu;
	gsize cpu_count;
	guint hz; /* clock ticks per second of the CPU times */
	guint64 rss_bytes;
	guint64 now_monotonic_ns;    /* for the uptime, against stats->started_monotonic_ns */
	guint64 started_realtime_ns; /* the daemon's start */
	const char *version, *features;
};

/* Parses a strict "<pid>-<start>" or "<pid>-<start>.<instance>": decimal
 * digits only, no sign, no leading zero (except "0" itself for start), pid
 * in 1..INT_MAX, start in guint64, instance 2..2^32-1 (the first holder of
 * a tick has no suffix), nothing after. Returns 0 or -ENOENT (a name that
 * cannot be a process). Names are made by fs_process_name() alone. */
int fs_parse_process_name(const char *name, struct lin_name *out);

/* Parses a strict decimal pid (by-pid/<pid>), 1..INT_MAX. 0 or -ENOENT. */
int fs_parse_pid(const char *name, pid_t *pid);

/* "<pid>-<start>", or "<pid>-<start>.<instance>" past the first, into buf.
 * Returns the length, or -ENAMETOOLONG. */
int fs_process_name(const struct lin_name *name, char *buf, size_t size);
/* fs_process_name() of a record's name. */
int fs_record_name(const struct lin_process *p, char *buf, size_t size);

/* Wall-clock time of a process's start: boot_realtime_ns + ticks / hz. */
guint64 fs_start_realtime_ns(const struct lin_process *p, const struct tracker_config *cfg);

/* "2026-11-22T13:15:02.120Z" into buf (at least 32 bytes). */
void fs_format_iso8601(guint64 realtime_ns, char *buf, size_t size);

/* "exited N", "killed by SIGKILL (core dumped)", "unknown", or "-". */
void fs_append_exit_code(GString *out, const struct lin_process *p);

/* The comm file: the comm and a newline, like /proc/<pid>/comm. */
void fs_render_comm(GString *out, const struct lin_process *p);

/* The status file: one "Key:\tvalue" line per field. */
void fs_render_status(GString *out, const struct lin_process *p, const struct tracker_config *cfg);

/* The ancestry file: "<pid>-<start>\t<comm>" for p, its creator, ... */
void fs_render_ancestry(GString *out, const struct lin_process *p);

/* The stats file: "key value" per tracker counter, uptime, fs counters. */
void fs_render_stats(GString *out, const struct tracker_stats *stats,
                     const struct fs_counters *counters, guint64 now_monotonic_ns);

/* Appends bytes escaped so one value stays on one line: backslash, tab and
 * newline as C escapes, other control bytes as octal (as status Name). */
void fs_append_escaped(GString *out, const char *data, gsize len);

/* render_context.c: the forensic context. */
/* The context lines of status (Cwd ... ExeHash), appended after the rest. */
void fs_render_status_context(GString *out, const struct lin_process *p,
                              const struct tracker_config *cfg);
/* A terminal device number (stat's tty_nr) as "pts/3", "tty1", "-". */
void fs_append_tty(GString *out, guint32 tty_nr);
/* The history file: "<time>\t<event>\t..." per event, oldest first. */
void fs_render_history(GString *out, const struct lin_process *p, const struct tracker_config *cfg);
/* The environ file: the --env variables kept at the last exec. */
void fs_render_environ(GString *out, const struct lin_process *p);
/* The journal's "journal_<counter> value" lines of the stats file. */
void fs_render_journal_stats(GString *out, const struct lin_journal_stats *journal);

/* The metrics file: Prometheus text format 0.0.4 (render_metrics.c). */
void fs_render_metrics(GString *out, const struct fs_metrics_input *in);

/* Symlink targets. Each returns the length written to buf (NUL-terminated),
 * or -errno: -ENOENT when the link does not exist (no creator), or
 * -ENAMETOOLONG when buf is too small. */
int fs_link_parent(const struct lin_process *p, char *buf, size_t size);
int fs_link_child(const struct lin_process *child, char *buf, size_t size);
int fs_link_by_pid(const struct lin_process *p, char *buf, size_t size);
int fs_link_self(const struct lin_process *p, char *buf, size_t size);
