/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A journal queue item: what a journal line needs of a record, copied on
 * the feeding thread under the tracker's lock (the string pool's reference
 * counts belong to that thread), to be encoded later by the journal thread.
 * Private to the journal writer (journal_write.c, journal_segment.c).
 */
#ifndef LINEAGEFS_JOURNAL_ITEM_H
#define LINEAGEFS_JOURNAL_ITEM_H

#include <glib.h>

#include "exe_hash.h"
#include "journal_encode.h"
#include "spsc_ring.h"
#include "tracker.h"

struct journal_item_pool;

struct journal_item {
	struct journal_item_pool *pool; /* the block goes back there; NULL: g_free() */
	guint64 serial;                 /* the record's */
	guint64 applied;                /* the writer's applied count after this event */
	guint64 event_ns;               /* CLOCK_REALTIME; 0: when written */
	gsize bytes;                    /* its block's size, counted against the queue's bound */
	gboolean held;                  /* carried over a drain once already */
	enum journal_action action;
	struct journal_proc proc;
	/* The exe hash entry whose hex the line carries once it is done: the
	 * hash thread may finish it after the copy (a reference). */
	struct exe_hash_entry *hash;
	char data[]; /* comm, exe, cmdline, then the context's copy */
};

/* What an item for one action on one record holds, worked out once: its
 * size (checked against the queue's bound before anything is copied) and
 * what goes into it. */
struct journal_item_plan {
	enum journal_action action;
	guint32 fields; /* JOURNAL_HAS_* */
	gboolean ctx;   /* the line carries context */
	gboolean prev_valid;
	const struct lin_context *prev; /* an exec's: the context before it */
	gboolean with_history;
	gsize bytes; /* the item's whole size */
};

/*
 * Spare item blocks, so that the feeding thread does not call malloc per
 * event: the journal thread frees the items, and a block malloc'd on one
 * thread and freed on another takes the allocator's slow path, under the
 * arena's lock both threads share. An item that fits a block of
 * JOURNAL_ITEM_BLOCK bytes (most exec, exit, fork and comm lines) takes a
 * spare one; freeing it hands the block back. A single-producer,
 * single-consumer ring: one thread frees (puts), the feeder allocates
 * (takes); it holds at most its slots' blocks, the rest are freed.
 */
#define JOURNAL_ITEM_BLOCK 1024

struct journal_item_pool {
	struct lin_ring ring; /* the freeing thread puts, the feeder takes */
	guint64 misses;       /* the feeder's: blocks it had to malloc */
};

void journal_item_pool_init(struct journal_item_pool *pool, guint slots);
/* Frees the spare blocks: no thread may take or free items of it now. */
void journal_item_pool_clear(struct journal_item_pool *pool);
/* The block size an item of plan takes, for the queue's byte bound. */
gsize journal_item_size(const struct journal_item_plan *plan, const struct journal_item_pool *pool);

/* Plans the item for action on p, of table t. Caller holds t's lock. */
void journal_item_plan(struct tracker *t, const struct lin_process *p, enum journal_action action,
                       struct journal_item_plan *plan);
/* The item planned; caller holds t's lock, as for the plan. pool: where
 * its block comes from (only the pool's feeder may pass it), or NULL. */
struct journal_item *journal_item_new(struct tracker *t, const struct lin_process *p,
                                      const struct journal_item_plan *plan,
                                      struct journal_item_pool *pool);
/* Takes the exe hash once the hash thread finished it, waiting a little:
 * only the journal thread may call it. */
void journal_item_take_hash(struct journal_item *item);
/* Frees item, or hands its block back to its pool: only the pool's
 * freeing thread (or any thread once the feeder has stopped). */
void journal_item_free(gpointer item);

#endif
