/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The executable hash (--hash-exe): a sha256 per executable file, computed
 * by a worker thread of its own from an fd opened while the process ran,
 * so it is the hash of the bytes that were executed even when the file is
 * replaced or deleted afterwards. Entries are cached by file identity
 * (device, inode, size, mtime, ctime): a binary run 10,000 times is hashed
 * once. The event thread looks entries up (exe_hash_get()) and collects
 * finished ones (exe_hash_collect()); the worker only fills in entries it
 * was handed; readers only read an entry's state and digest.
 */
#pragma once

#include <glib.h>

#include "proc_context.h"

enum exe_hash_state {
	EXE_HASH_PENDING = 0,
	EXE_HASH_DONE,
	EXE_HASH_FAILED, /* the fd could not be opened or read: err says why */
};

struct exe_hash_entry {
	gint refs;  /* atomic */
	gint state; /* atomic, enum exe_hash_state: hex and err are set before DONE/FAILED */
	int err;    /* -errno when FAILED */
	struct lin_exe_identity id;
	char hex[65]; /* sha256 in lower-case hex, NUL-terminated, when DONE */
	/* Records that took the entry while it was pending, by serial:
	 * their status changes when it completes. Event thread only. */
	GArray *waiters;
};

struct exe_hash;

/* An empty cache; files queued before exe_hash_start() wait for it. */
struct exe_hash *exe_hash_new(void);
/* Starts the worker thread, once the daemon dropped its capabilities (a
 * thread keeps those it was started with). FALSE with error set when it
 * cannot start. */
gboolean exe_hash_start(struct exe_hash *h, GError **error);
/* Stops the worker (an fd still queued is closed unhashed) and frees the
 * cache. Entries still referenced elsewhere stay valid. NULL is fine. */
void exe_hash_free(struct exe_hash *h);

/* The entry for the file identity id, with one more reference. On a miss
 * the executable is opened through dirfd ("exe") and queued for the
 * worker: the fd holds the very file that was executed. Event thread. */
struct exe_hash_entry *exe_hash_get(struct exe_hash *h, const struct lin_exe_identity *id,
                                    int dirfd);
struct exe_hash_entry *exe_hash_entry_ref(struct exe_hash_entry *e);
/* NULL is fine. Any thread. */
void exe_hash_entry_unref(struct exe_hash_entry *e);
enum exe_hash_state exe_hash_entry_state(const struct exe_hash_entry *e);

/* Calls fn for every entry the worker finished since the last call.
 * Event thread. Returns how many. */
typedef void (*exe_hash_done_fn)(struct exe_hash_entry *e, void *data);
guint exe_hash_collect(struct exe_hash *h, exe_hash_done_fn fn, void *data);

/* Entries cached, and files hashed so far (for stats). */
guint exe_hash_cached(const struct exe_hash *h);
guint64 exe_hash_hashed(const struct exe_hash *h);

/* The sha256 of what fd reads, from its current offset to the end, into
 * hex (65 bytes). 0 or -errno. Exposed for tests. */
int exe_hash_fd(int fd, char hex[65]);
