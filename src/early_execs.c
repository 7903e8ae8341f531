// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * EXECs read from the EXEC socket before the main socket brings them (see
 * early_execs.h): a short list searched by the message's identity.
 */
#include "config.h"

#include "early_execs.h"

#include <string.h>

/* Whether a and b are the one message the kernel sent both sockets. */
static gboolean same_message(const struct cnproc_event *a, const struct cnproc_event *b)
{
	return a->cpu == b->cpu && a->seq == b->seq && a->timestamp_ns == b->timestamp_ns &&
	       a->tgid == b->tgid;
}

static void drop(struct early_execs *x, guint i)
{
	x->len--;
	memmove(&x->early[i], &x->early[i + 1], (x->len - i) * sizeof(x->early[0]));
}

struct tracker_read *early_execs_add(struct early_execs *x, const struct cnproc_event *ev)
{
	struct early_exec *e;

	for (guint i = 0; i < EARLY_EXECS_MET_MAX; i++)
		if (same_message(&x->met[i], ev))
			return NULL;
	if (x->len == EARLY_EXECS_MAX) {
		tracker_event_abandon(&x->early[0].rd);
		drop(x, 0);
	}
	e = &x->early[x->len++];
	e->ev = *ev;
	e->at_us = g_get_monotonic_time();
	return &e->rd;
}

gboolean early_execs_take(struct early_execs *x, const struct cnproc_event *ev, gboolean remember,
                          struct tracker_read *rd)
{
	if (ev->type != CNPROC_EV_EXEC)
		return FALSE;
	for (guint i = 0; i < x->len; i++) {
		if (!same_message(&x->early[i].ev, ev))
			continue;
		*rd = x->early[i].rd;
		drop(x, i);
		return TRUE;
	}
	if (remember) {
		x->met[x->met_next] = *ev;
		x->met_next = (x->met_next + 1) % EARLY_EXECS_MET_MAX;
	}
	return FALSE;
}

void early_execs_expire(struct early_execs *x, gboolean all)
{
	gint64 now = g_get_monotonic_time();

	while (x->len > 0 && (all || now - x->early[0].at_us > EARLY_EXECS_MAX_AGE_US)) {
		tracker_event_abandon(&x->early[0].rd);
		drop(x, 0);
	}
}
