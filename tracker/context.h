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
