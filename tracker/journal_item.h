/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A journal queue item: what a journal line needs of a record, copied on
 * the feeding thread under the tracker's lock (the string pool's reference
 * counts belong to that thread), to be encoded later by the journal thread.
 * Private to the journal writer (journal_write.c).
 */
#ifndef LINEAGEFS_JOURNAL_ITEM_H
#define LINEAGEFS_JOURNAL_ITEM_H

#include <glib.h>

#include "exe_hash.h"
#include "journal_encode.h"
#include "tracker.h"

struct journal_item {
	guint64 serial;   /* the record's */
	guint64 applied;  /* the writer's applied count after this event */
	guint64 event_ns; /* CLOCK_REALTIME; 0: when written */
	gsize bytes;      /* counted against the queue's byte bound */
	gboolean held;    /* carried over a drain once already */
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

/* Plans the item for action on p, of table t. Caller holds t's lock. */
void journal_item_plan(struct tracker *t, const struct lin_process *p, enum journal_action action,
                       struct journal_item_plan *plan);
/* The item planned; caller holds t's lock, as for the plan. */
struct journal_item *journal_item_new(struct tracker *t, const struct lin_process *p,
                                      const struct journal_item_plan *plan);
/* Takes the exe hash once the hash thread finished it, waiting a little:
 * only the journal thread may call it. */
void journal_item_take_hash(struct journal_item *item);
void journal_item_free(gpointer item);

#endif
