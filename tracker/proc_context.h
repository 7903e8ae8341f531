/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The forensic context of a process read from /proc/<pid> through the same
 * directory fd as its cmdline and exe (see proc_scan.h): the environment
 * variables asked for (read right after the urgent reads: they vanish at
 * exit), then, once the event socket is dry, working directory, pid
 * namespace, cgroup, audit login uid and session. Also the
 * identity of the executable file, for the exe hash cache. Parsers take
 * raw bytes that need not be NUL-terminated, for the fuzzer.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

/* The audit "unset" value of loginuid and sessionid. */
#define LIN_AUDIT_UNSET G_MAXUINT32

enum {
	PROC_CTX_CWD = 1 << 0,
	PROC_CTX_PIDNS = 1 << 1,
	PROC_CTX_ENV = 1 << 2,
	PROC_CTX_CGROUP = 1 << 3,
	PROC_CTX_LOGINUID = 1 << 4,
	PROC_CTX_SESSIONID = 1 << 5,
	PROC_CTX_EXE_ID = 1 << 6,
	PROC_CTX_EARLY = PROC_CTX_CWD | PROC_CTX_PIDNS | PROC_CTX_ENV | PROC_CTX_EXE_ID,
	PROC_CTX_LATE = PROC_CTX_CGROUP | PROC_CTX_LOGINUID | PROC_CTX_SESSIONID,
};

/* What makes an executable file the same file: a new identity means new
 * bytes (or, at worst, bytes rewritten in place with the same size within
 * one timestamp tick: both times are compared to the nanosecond). */
struct lin_exe_identity {
	guint64 dev, ino, size;
	gint64 mtime_ns, ctime_ns;
	guint32 nlink; /* 0: deleted */
};

/* What to read beyond the defaults, fixed at start-up. */
struct proc_context_opts {
	/* --env names, NULL-terminated; NULL or empty: environ is never read. */
	char **env_names;
	/* --hash-exe: stat the exe for its identity. */
	gboolean exe_identity;
	/* The daemon's pid namespace (tracker_config.host_pidns; 0: unknown):
	 * a process in it has NsPid = pid, so status is read for its NStgid
	 * only in another. */
	guint32 own_pidns;
	/* The reads are of the daemon's own live /proc
	 * (tracker_config.live_proc): a short command line is read from the
	 * process's memory (proc_scan.c). */
	gboolean argv_in_memory;
};

/* One process's context. Strings are g_malloc'd; clear with
 * proc_context_clear(). */
struct lin_proc_context {
	char *cwd;    /* readlink of cwd, verbatim; NULL when unread */
	char *cgroup; /* the cgroup v2 path; NULL when unread */
	/* "NAME=value" entries of the asked names, each NUL-terminated, in
	 * environ's order; NULL when none were set. */
	char *env;
	gsize env_len;
	guint32 pidns; /* inode of ns/pid */
	guint32 loginuid, sessionid;
	struct lin_exe_identity exe_id;
	guint read_ok; /* PROC_CTX_* that succeeded */
};

/* A process's audit login uid and session, as the kernel sets them: together. */
struct proc_audit_ids {
	guint32 loginuid, sessionid;
};

/* The opt-in reads that race the exit: environ (when names are asked),
 * the exe's identity (when asked). */
void proc_context_read_early(int dirfd, const struct proc_context_opts *opts,
                             struct lin_proc_context *out);
/* The rest, once the event socket is dry: cwd and ns/pid (gone at exit:
 * a short-lived process keeps what it inherited), cgroup, loginuid,
 * sessionid (until reaped). known: the audit ids the process is known to
 * have had (from its creator, or an earlier read), or NULL; loginuid is
 * read only when its sessionid is not the known one. */
void proc_context_read_late(int dirfd, const struct proc_audit_ids *known,
                            struct lin_proc_context *out);
void proc_context_clear(struct lin_proc_context *ctx);

/* The cgroup v2 path of /proc/<pid>/cgroup text (the "0::" line): 0 with
 * *path and *path_len pointing into buf, or -EINVAL (a v1-only host). */
int proc_context_parse_cgroup(const char *buf, size_t len, const char **path, size_t *path_len);
/* The inode of a namespace link text "pid:[4026531836]": 0 or -EINVAL. */
int proc_context_parse_ns_link(const char *buf, size_t len, guint32 *inode);
/* A decimal number as in loginuid and sessionid ("4294967295" is unset):
 * 0 or -EINVAL. */
int proc_context_parse_u32(const char *buf, size_t len, guint32 *value);
/* Appends to out the NUL-terminated "NAME=value" entries of environ text
 * buf[0..len) whose NAME is in names, each name once (the first wins, as
 * getenv() finds it). */
void proc_context_filter_environ(const char *buf, size_t len, char *const *names, GString *out);
