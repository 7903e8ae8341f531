/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Journal queue items (journal_item.h): the feeding thread's copy of what a
 * line needs of a record. A plan works out once what the line carries
 * (a fork that runs its creator's image says "inherited"; an exec carries
 * only the context it read anew) and the item's size, so the queue's bound
 * is checked before anything is copied.
 */
#include "config.h"
#include "journal_item.h"

#include <string.h>

/* A child that still runs its creator's image with its creator's ids: its
 * fork line says "inherited" instead of repeating them. The strings are
 * interned, so the same string is the same pointer. */
static gboolean fork_inherits(const struct lin_process *p)
{
	const struct lin_process *c = p->creator;

	return c && !lin_process_guess(p) && p->exe == c->exe && p->cmdline == c->cmdline &&
	       lin_process_cmdline_sha256(p) == lin_process_cmdline_sha256(c) &&
	       lin_process_cmdline_full_len(p) == lin_process_cmdline_full_len(c) &&
	       p->ruid == c->ruid && p->euid == c->euid && p->rgid == c->rgid && p->egid == c->egid;
}

/* The fields a line for action on p needs copied. */
static guint32 item_fields(const struct lin_process *p, enum journal_action action)
{
	guint32 fields = journal_action_fields(action);

	if (action == JOURNAL_FORK && fork_inherits(p))
		fields =
		    (fields & ~(JOURNAL_HAS_EXE | JOURNAL_HAS_CMDLINE)) | JOURNAL_HAS_INHERITED;
	else
		fields &= ~JOURNAL_HAS_INHERITED;
	return fields;
}

/* What a line of action carries of p's context: nothing, the parts an
 * exec changed, or all of it and the history (found, checkpoint). */
static void plan_context(struct tracker *t, const struct lin_process *p,
                         struct journal_item_plan *plan)
{
	plan->with_history = plan->action == JOURNAL_FOUND || plan->action == JOURNAL_CHECKPOINT;
	if (!(journal_action_fields(plan->action) & JOURNAL_HAS_CONTEXT))
		return;
	if (plan->action == JOURNAL_EXEC) {
		/* Only what the exec read anew: the rest is the creator's
		 * (fork) or the last exec's, which the reader keeps. */
		plan->prev_valid = t && tracker_exec_prev_context(t, p, &plan->prev);
		plan->ctx = plan->prev_valid;
		return;
	}
	plan->ctx = TRUE;
}

void journal_item_plan(struct tracker *t, const struct lin_process *p, enum journal_action action,
                       struct journal_item_plan *plan)
{
	guint32 fields = item_fields(p, action);
	gsize n = sizeof(struct journal_item);

	memset(plan, 0, sizeof(*plan));
	plan->action = action;
	plan->fields = fields;
	plan_context(t, p, plan);
	if (plan->ctx)
		n += lin_context_copy_size(p, plan->with_history);
	if ((fields & JOURNAL_HAS_COMM) && p->comm)
		n += p->comm->len;
	if ((fields & JOURNAL_HAS_EXE) && p->exe)
		n += p->exe->len;
	if ((fields & JOURNAL_HAS_CMDLINE) && p->cmdline)
		n += p->cmdline->len;
	if ((fields & JOURNAL_HAS_CMDLINE) && lin_process_cmdline_sha256(p))
		n += lin_process_cmdline_sha256(p)->len + 1;
	plan->bytes = n;
}

/* ---- spare blocks ---- */

void journal_item_pool_init(struct journal_item_pool *pool, guint slots)
{
	memset(pool, 0, sizeof(*pool));
	lin_ring_init(&pool->ring, slots);
}

void journal_item_pool_clear(struct journal_item_pool *pool)
{
	gpointer block;

	if (!pool->ring.slot)
		return;
	while ((block = lin_ring_take(&pool->ring)) != NULL)
		g_free(block);
	lin_ring_clear(&pool->ring); /* size 0: an item freed later is g_free()d */
}

gsize journal_item_size(const struct journal_item_plan *plan, const struct journal_item_pool *pool)
{
	return pool && plan->bytes <= JOURNAL_ITEM_BLOCK ? JOURNAL_ITEM_BLOCK : plan->bytes;
}

/* ---- items ---- */

static const char *copy_str(char **at, const struct lin_str *s, gsize *len)
{
	const char *start = *at;

	memcpy(*at, s->data, s->len);
	*at += s->len;
	*len = s->len;
	return start;
}

static struct journal_item *item_alloc(const struct journal_item_plan *plan,
                                       struct journal_item_pool *pool)
{
	gsize size = journal_item_size(plan, pool);
	struct journal_item *item = NULL;

	if (size == JOURNAL_ITEM_BLOCK && pool) {
		item = lin_ring_take(&pool->ring);
		if (!item) {
			pool->misses++;
			item = g_malloc(size);
		}
	} else {
		pool = NULL;
		item = g_malloc(size);
	}
	memset(item, 0, sizeof(*item));
	item->pool = pool;
	item->bytes = size;
	return item;
}

struct journal_item *journal_item_new(struct tracker *t, const struct lin_process *p,
                                      const struct journal_item_plan *plan,
                                      struct journal_item_pool *pool)
{
	guint32 fields = plan->fields;
	struct journal_item *item = item_alloc(plan, pool);
	struct journal_proc *proc = &item->proc;
	char *at = item->data;

	item->serial = p->serial;
	item->action = plan->action;
	proc->has = JOURNAL_HAS_UIDS | JOURNAL_HAS_GIDS | JOURNAL_HAS_COUNTS | JOURNAL_HAS_CMDLINE |
	            (fields & JOURNAL_HAS_INHERITED);
	proc->pid = p->pid;
	proc->instance = lin_process_instance(p);
	proc->start_ticks = p->start_ticks;
	if (p->creator) {
		proc->has |= JOURNAL_HAS_CREATOR | JOURNAL_HAS_CREATOR_START;
		proc->creator_pid = p->creator->pid;
		proc->creator_start_ticks = p->creator->start_ticks;
		proc->creator_instance = lin_process_instance(p->creator);
	} else if (p->creator_pid > 0) {
		proc->has |= JOURNAL_HAS_CREATOR;
		proc->creator_pid = p->creator_pid;
	}
	proc->ruid = p->ruid;
	proc->euid = p->euid;
	proc->rgid = p->rgid;
	proc->egid = p->egid;
	proc->flags = p->flags;
	proc->exit_kind = p->exit_kind;
	proc->exit_status = p->exit_status;
	proc->exit_ns = lin_process_running(p) ? 0 : p->exit_ns;
	if (!lin_process_running(p))
		proc->has |= JOURNAL_HAS_EXIT;
	proc->exec_count = p->exec_count;
	proc->threads = p->live_threads;
	if ((fields & JOURNAL_HAS_GUESS) && lin_process_guess(p)) {
		proc->has |= JOURNAL_HAS_GUESS;
		proc->guess = *lin_process_guess(p);
	}
	if ((fields & JOURNAL_HAS_COMM) && p->comm) {
		proc->has |= JOURNAL_HAS_COMM;
		proc->comm = copy_str(&at, p->comm, &proc->comm_len);
	}
	if ((fields & JOURNAL_HAS_EXE) && p->exe) {
		proc->has |= JOURNAL_HAS_EXE;
		proc->exe = copy_str(&at, p->exe, &proc->exe_len);
	}
	if ((fields & JOURNAL_HAS_CMDLINE) && p->cmdline) {
		proc->cmdline = copy_str(&at, p->cmdline, &proc->cmdline_len);
		proc->cmdline_full_len = lin_process_cmdline_full_len(p);
	}
	if ((fields & JOURNAL_HAS_CMDLINE) && lin_process_cmdline_sha256(p)) {
		gsize len;

		proc->cmdline_sha256 = copy_str(&at, lin_process_cmdline_sha256(p), &len);
		*at++ = '\0';
	}
	if (plan->ctx) {
		proc->has |= JOURNAL_HAS_CONTEXT;
		lin_context_copy_fill(p, tracker_get_config(t), plan->prev_valid, plan->prev,
		                      plan->with_history, &at, &proc->ctx, &item->hash);
	}
	return item;
}

void journal_item_free(gpointer data)
{
	struct journal_item *item = data;

	exe_hash_entry_unref(item->hash);
	if (item->pool && lin_ring_put(&item->pool->ring, item))
		return;
	g_free(item);
}

/* The exe hash, once the hash thread finished it: a line waits for it a
 * little (this thread may wait; the event thread never does), so that a
 * binary that ran once, briefly, has its hash in the journal too. */
#define JOURNAL_HASH_WAIT_US (200 * 1000)

void journal_item_take_hash(struct journal_item *item)
{
	for (guint waited = 0; item->hash && waited < JOURNAL_HASH_WAIT_US &&
	                       exe_hash_entry_state(item->hash) == EXE_HASH_PENDING;
	     waited += 1000)
		g_usleep(1000);
	if (item->hash && exe_hash_entry_state(item->hash) == EXE_HASH_DONE) {
		g_strlcpy(item->proc.ctx.sha256, item->hash->hex, sizeof(item->proc.ctx.sha256));
		item->proc.ctx.has |= LIN_CTX_COPY_HASH;
	}
}
