/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event hook: tells a listener (the journal) each event applied to a
 * record, with the record itself, while the write lock is held. The table
 * already reports every change for the kernel's caches
 * (tracker_queue_change()); this room turns those changes into events,
 * using the kernel event being applied to tell a fork from a record found
 * by a scan and a uid change from a gid one. Changes that are no event of
 * the record's own (a thread count, a creator's record forgotten) are not
 * told.
 */
#include "config.h"
#include "tracker-private.h"

static void tell(struct tracker *t, enum lin_event_kind kind, const struct lin_process *p,
                 guint64 realtime_ns)
{
	t->event_fn(kind, p, realtime_ns, t->event_data);
}

/* When the event happened: the kernel's timestamp, or now for a scan. */
static guint64 event_time(const struct tracker *t)
{
	if (t->applying)
		return tracker_event_realtime(t, t->applying->timestamp_ns);
	return tracker_now_realtime(t);
}

void tracker_hook_change(struct tracker *t, enum lin_change_kind kind, struct lin_process *p)
{
	const struct cnproc_event *ev = t->applying;

	switch (kind) {
	case LIN_CHANGE_NEW:
		/* A record made while applying its FORK; any other was read
		 * from /proc (a scan, or an EXEC or FORK of another process
		 * that came before its own FORK). */
		if (ev && ev->type == CNPROC_EV_FORK && ev->pid == p->pid)
			tell(t, LIN_EVENT_FORK, p, event_time(t));
		else
			/* Found when it was seen: the time its history shows. */
			tell(t, LIN_EVENT_FOUND, p,
			     p->seen_ns ? tracker_event_realtime(t, p->seen_ns) : event_time(t));
		break;
	case LIN_CHANGE_EXEC:
		tell(t, LIN_EVENT_EXEC, p, event_time(t));
		break;
	case LIN_CHANGE_COMM:
		tell(t, LIN_EVENT_COMM, p, event_time(t));
		break;
	case LIN_CHANGE_ID:
		tell(t, ev && ev->type == CNPROC_EV_GID ? LIN_EVENT_GID : LIN_EVENT_UID, p,
		     event_time(t));
		break;
	case LIN_CHANGE_EXIT:
		tell(t, p->exit_kind == LIN_EXIT_UNKNOWN ? LIN_EVENT_EXIT_MISSED : LIN_EVENT_EXIT,
		     p, p->exit_ns ? p->exit_ns : event_time(t));
		break;
	case LIN_CHANGE_CREATOR:
		/* A FORK that came after its child's EXEC or EXIT names the
		 * creator now. The other creator changes are children losing
		 * a forgotten creator's record: their journal lines keep
		 * naming it. */
		if (ev && ev->type == CNPROC_EV_FORK && ev->pid == p->pid && ev->pid == ev->tgid &&
		    tracker_find_pid(t, p->pid) == p)
			tell(t, LIN_EVENT_FORK, p, event_time(t));
		break;
	case LIN_CHANGE_FORGET:
		tell(t, LIN_EVENT_FORGET, p, tracker_now_realtime(t));
		break;
	case LIN_CHANGE_THREADS:
		break;
	}
}

void tracker_set_event_fn(struct tracker *t, tracker_event_fn fn, void *data)
{
	t->event_fn = fn;
	t->event_data = data;
}
