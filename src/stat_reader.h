/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The stat reader: a helper thread that reads /proc/<pid>/stat for the
 * event thread, which must never wait on a read that can block. Reading the
 * stat of a FORK's child while the child is in execve() takes milliseconds
 * (up to 5 ms measured in a fork storm), and every EXEC that arrives
 * meanwhile is read too late: a short-lived process's cmdline is gone a few
 * hundred microseconds after its EXEC.
 *
 * It also reads the rest of a long command line (stat_reader_finish_cmdline()):
 * megabytes take milliseconds, during which the event thread must go on
 * reading the command lines of short-lived processes.
 *
 * The event thread asks (stat_reader_ask()), goes on receiving, and when
 * stat_reader_fd() polls readable collects the answers
 * (stat_reader_collect()), each tagged as it was asked.
 */
#ifndef LINEAGEFS_STAT_READER_H
#define LINEAGEFS_STAT_READER_H

#include <glib.h>
#include <sys/types.h>

#include "proc_scan.h"

struct stat_reader;

enum stat_reader_job {
	STAT_READER_STAT,    /* read pid's stat into the answer */
	STAT_READER_CMDLINE, /* proc_scan_cmdline_finish() on a begun read */
};

struct stat_reader_answer {
	guint64 tag;
	enum stat_reader_job job;
	pid_t pid;
	int err; /* STAT: 0, or -errno: the process was gone (ENOENT, ESRCH) */
	struct lin_stat stat;
	/* STAT asked with a parent's stack address that the child's stat does
	 * not show: the child's own image, read at once through the same
	 * directory fd (read_ok says what). Owned by the answer; the caller
	 * takes it or clears it. */
	struct lin_proc_info image;
	/* STAT: CLOCK_MONOTONIC, the clock of the kernel's event timestamps,
	 * just before the stat was opened. */
	guint64 read_ns;
	guint64 parent_start_stack;
	gsize max_cmdline;
	struct proc_read *read; /* CMDLINE: finished in place */
};

/* Starts the thread, reading under proc_root_fd (not owned). It inherits
 * the caller's signal mask: block them all first in the daemon, signals
 * are for the FUSE threads (see event_thread_start()). */
struct stat_reader *stat_reader_start(int proc_root_fd, GError **error);
/* Stops the thread; asks not answered yet are dropped. NULL is a no-op. */
void stat_reader_stop(struct stat_reader *sr);

/* Never blocks. */
void stat_reader_ask(struct stat_reader *sr, guint64 tag, pid_t pid);
/* stat_reader_ask() for a FORK's child: when the child's stack address is
 * not parent_start_stack (neither 0), it runs another image than its
 * parent (CLONE_PARENT, or its own exec): its cmdline (max_cmdline bytes)
 * and exe are read too, in the answer's image. */
void stat_reader_ask_child(struct stat_reader *sr, guint64 tag, pid_t pid,
                           guint64 parent_start_stack, gsize max_cmdline);
/* Never blocks. The thread owns r until the answer tagged so is
 * collected: the caller neither reads nor frees its command line meanwhile. */
void stat_reader_finish_cmdline(struct stat_reader *sr, guint64 tag, struct proc_read *r);
/* Readable (POLLIN) when answers may be waiting. */
int stat_reader_fd(const struct stat_reader *sr);
/* Takes the oldest answer waiting, and clears stat_reader_fd() when there
 * is none. Never blocks. */
gboolean stat_reader_collect(struct stat_reader *sr, struct stat_reader_answer *out);

#endif
