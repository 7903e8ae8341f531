// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * History entries: two doubly-linked lists per entry, its process's (in
 * time order, for rendering) and the budget's (in the order added, for
 * dropping the oldest), so both adding and dropping cost O(1) besides the
 * short walk that keeps a late-inserted exec entry in time order.
 */
#include "config.h"

#include "proc_history.h"

#include <string.h>

void lin_hist_budget_init(struct lin_hist_budget *budget, struct lin_strpool *strings, guint64 max)
{
	memset(budget, 0, sizeof(*budget));
	budget->strings = strings;
	budget->max = max;
}

static void budget_unlink(struct lin_hist_budget *budget, struct lin_hist_entry *e)
{
	if (e->budget_prev)
		e->budget_prev->budget_next = e->budget_next;
	else
		budget->oldest = e->budget_next;
	if (e->budget_next)
		e->budget_next->budget_prev = e->budget_prev;
	else
		budget->newest = e->budget_prev;
	budget->entries--;
}

static void owner_unlink(struct lin_hist_entry *e)
{
	struct lin_hist *h = e->owner;

	if (e->prev)
		e->prev->next = e->next;
	else
		h->first = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		h->last = e->prev;
	h->count--;
}

static void entry_free(struct lin_hist_budget *budget, struct lin_hist_entry *e)
{
	lin_strpool_unref(budget->strings, e->exe);
	lin_strpool_unref(budget->strings, e->cmdline);
	g_free(e);
}

struct lin_hist *lin_hist_get(struct lin_hist_budget *budget, struct lin_hist **slot,
                              gpointer record)
{
	if (!*slot) {
		*slot = g_new0(struct lin_hist, 1);
		(*slot)->record = record;
		budget->histories++;
	}
	return *slot;
}

void lin_hist_add(struct lin_hist_budget *budget, struct lin_hist **slot, gpointer record,
                  const struct lin_hist_entry *tmpl)
{
	struct lin_hist *h = lin_hist_get(budget, slot, record);
	struct lin_hist_entry *e = g_new(struct lin_hist_entry, 1);
	struct lin_hist_entry *after;

	*e = *tmpl;
	e->owner = h;
	lin_str_ref(e->exe);
	lin_str_ref(e->cmdline);

	/* Almost always the newest: the walk back stops at once. */
	for (after = h->last; after && after->time_ns > e->time_ns; after = after->prev)
		;
	e->prev = after;
	e->next = after ? after->next : h->first;
	if (e->next)
		e->next->prev = e;
	else
		h->last = e;
	if (after)
		after->next = e;
	else
		h->first = e;
	h->count++;

	e->budget_next = NULL;
	e->budget_prev = budget->newest;
	if (budget->newest)
		budget->newest->budget_next = e;
	else
		budget->oldest = e;
	budget->newest = e;
	budget->entries++;

	while (budget->max && budget->entries > budget->max) {
		struct lin_hist_entry *old = budget->oldest;

		budget_unlink(budget, old);
		owner_unlink(old);
		old->owner->dropped++;
		budget->dropped++;
		if (budget->on_drop)
			budget->on_drop(old, budget->on_drop_data);
		entry_free(budget, old);
	}
}

void lin_hist_clear(struct lin_hist_budget *budget, struct lin_hist *h)
{
	if (!h)
		return;
	while (h->first) {
		struct lin_hist_entry *e = h->first;

		budget_unlink(budget, e);
		owner_unlink(e);
		entry_free(budget, e);
	}
	h->dropped = 0;
}

void lin_hist_free(struct lin_hist_budget *budget, struct lin_hist **slot)
{
	struct lin_hist *h = *slot;

	if (!h)
		return;
	lin_hist_clear(budget, h);
	lin_strpool_unref(budget->strings, h->cmdline_sha256);
	g_free(h->guess);
	g_free(h);
	budget->histories--;
	*slot = NULL;
}

void lin_hist_ids_at(const struct lin_hist *h, guint64 time_ns, const guint32 current[4],
                     guint32 out[4])
{
	gboolean uid_found = FALSE, gid_found = FALSE;

	memcpy(out, current, 4 * sizeof(guint32));
	for (const struct lin_hist_entry *e = h ? h->first : NULL; e; e = e->next) {
		if (e->time_ns <= time_ns)
			continue;
		if (e->kind == LIN_HIST_UID && !uid_found) {
			out[0] = e->ids[0];
			out[1] = e->ids[1];
			uid_found = TRUE;
		} else if (e->kind == LIN_HIST_GID && !gid_found) {
			out[2] = e->ids[0];
			out[3] = e->ids[1];
			gid_found = TRUE;
		}
	}
}

gsize lin_hist_budget_bytes(const struct lin_hist_budget *budget)
{
	return budget->entries * sizeof(struct lin_hist_entry) +
	       budget->histories * sizeof(struct lin_hist);
}
