/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A process's forensic context, shared: working directory, cgroup, the
 * --env variables, the exe hash, pid namespace, audit login uid and
 * session, terminal, session and process-group leaders. A fork inherits
 * all of it and most processes never change it, so records hold a pointer
 * to one interned, reference-counted copy per distinct context, the way
 * strings are shared in the strpool: a shell's 10,000 children cost one.
 * Not thread-safe: the tracker calls it under its write lock.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

#include "exe_hash.h"
#include "strpool.h"

struct lin_context {
	guint refs;
	guint32 hash;
	struct lin_str *cwd;             /* NULL: unknown */
	struct lin_str *cgroup;          /* NULL: unknown */
	struct lin_str *env;             /* "NAME=value\0"...; NULL: none of the names were set */
	struct exe_hash_entry *exe_hash; /* NULL: not hashed (no --hash-exe, or no file) */
	guint32 pidns;                   /* 0: unknown */
	guint32 loginuid, sessionid;     /* LIN_AUDIT_UNSET: unset */
	guint32 tty_nr;                  /* 0: none */
	pid_t sid, pgid;                 /* 0: unknown */
	guint8 known;                    /* enum lin_context_known */
};

enum lin_context_known {
	LIN_CTX_KNOWN_AUDIT = 1 << 0, /* loginuid and sessionid were read */
	LIN_CTX_KNOWN_IDS = 1 << 1,   /* tty, sid and pgid were read */
	LIN_CTX_KNOWN_ENV = 1 << 2,   /* environ was read (env may still be NULL) */
};

struct lin_context_pool;

struct lin_context_pool *lin_context_pool_new(struct lin_strpool *strings);
/* Every context must have been released first. */
void lin_context_pool_free(struct lin_context_pool *pool);

/* The interned copy of *tmpl (whose refs and hash are ignored; its
 * strings and hash entry are borrowed, not taken), with one more
 * reference. */
struct lin_context *lin_context_intern(struct lin_context_pool *pool,
                                       const struct lin_context *tmpl);
struct lin_context *lin_context_ref(struct lin_context *ctx);
/* NULL is fine. */
void lin_context_unref(struct lin_context_pool *pool, struct lin_context *ctx);
/* Distinct contexts held, and their bytes. */
guint lin_context_pool_count(const struct lin_context_pool *pool);
gsize lin_context_pool_bytes(const struct lin_context_pool *pool);

/* ---- the context and history as plain bytes ---- */

/* Which parts of a struct lin_context_copy are known. */
enum lin_context_copy_has {
	LIN_CTX_COPY_CWD = 1 << 0,
	LIN_CTX_COPY_CGROUP = 1 << 1,
	LIN_CTX_COPY_ENV = 1 << 2,     /* env may be empty: none of the names were set */
	LIN_CTX_COPY_HASH = 1 << 3,    /* sha256 */
	LIN_CTX_COPY_PIDNS = 1 << 4,   /* pidns */
	LIN_CTX_COPY_AUDIT = 1 << 5,   /* loginuid, sessionid */
	LIN_CTX_COPY_IDS = 1 << 6,     /* tty_nr, sid, pgid */
	LIN_CTX_COPY_NS_PID = 1 << 7,  /* ns_pid */
	LIN_CTX_COPY_EXEC = 1 << 8,    /* exec_ns */
	LIN_CTX_COPY_HISTORY = 1 << 9, /* hist, hist_count, hist_dropped: the whole history */
	LIN_CTX_COPY_SEEN = 1 << 10,   /* seen_ns */
};

/* One history entry (proc_history.h) as bytes. */
struct lin_hist_copy {
	guint64 time_ns; /* CLOCK_REALTIME */
	guint32 ids[4];
	guint8 kind;  /* enum lin_hist_kind */
	guint8 flags; /* enum lin_hist_flag */
	/* EXEC, FOUND: N > 0 when the command line is the one of the entry
	 * N before this one, a long one the copy holds once (cmdline then
	 * points to that entry's bytes; a journal line says so instead of
	 * repeating them, and its reader leaves cmdline NULL: the restore
	 * takes that entry's). */
	guint32 cmdline_back;
	const char *exe, *cmdline; /* exe: the new comm of a COMM entry */
	gsize exe_len, cmdline_len;
};

/*
 * A record's context, pid inside its namespace, last exec time and history
 * as bytes owning nothing: what the journal writes (journal_encode.h) and
 * reads back into a table (restore.h). The strings point into memory the
 * holder keeps alive.
 */
struct lin_context_copy {
	guint32 has; /* enum lin_context_copy_has */
	const char *cwd, *cgroup, *env;
	gsize cwd_len, cgroup_len, env_len;
	char sha256[65]; /* lower-case hex, NUL-terminated */
	guint32 pidns, loginuid, sessionid, tty_nr;
	pid_t sid, pgid, ns_pid;
	guint64 exec_ns; /* CLOCK_REALTIME */
	/* CLOCK_REALTIME when the record was first seen (its event, or the
	 * scan that found it): a found record's history shows it. */
	guint64 seen_ns;
	const struct lin_hist_copy *hist;
	guint hist_count;
	guint32 hist_dropped;
};
