/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event thread: the one thread that feeds the tracker. It waits on the
 * cn_proc socket, begins every event the moment it arrives (for an EXEC:
 * reads its cmdline, exe and stat) and finishes the events in order when the
 * socket is dry (tracker_event_begin()/_finish()), repairs the table with a /proc rescan when the
 * kernel reports lost events, and runs the tracker's periodic housekeeping. It runs at raised
 * priority because a short-lived process's cmdline can only be read for a few hundred microseconds
 * after its EXEC event, so it must never queue behind FUSE work.
 */
#pragma once

#include <glib.h>

#include "cnproc.h"
#include "tracker.h"

struct event_thread;

/* Makes the cn_proc socket non-blocking and starts the thread. execs, when
 * not NULL, is a socket of EXEC events alone (cnproc_open_execs()): the
 * thread then wakes at once for those and takes cn's events in batches.
 * Neither t, cn nor execs is owned; they must outlive event_thread_stop().
 * The thread is the tracker's only feeder from then on. Returns NULL with
 * error set on failure. */
struct event_thread *event_thread_start(struct tracker *t, struct cnproc *cn, struct cnproc *execs,
                                        GError **error);

/* What the daemon leaves at its defaults; a field of 0 keeps the default.
 * Tests stretch them so that what they check does not hang on timing. */
struct event_thread_opts {
	/* How long the main socket is left unpolled after an EXEC wakeup
	 * took it (10 ms). */
	gint64 defer_us;
	/* How long event_thread_catch_up() waits at most (100 ms). */
	gint64 catch_up_max_us;
};

/* event_thread_start() with opts (NULL: the defaults). */
struct event_thread *event_thread_start_with(struct tracker *t, struct cnproc *cn,
                                             struct cnproc *execs,
                                             const struct event_thread_opts *opts, GError **error);

/* Has the thread take what the main socket holds and apply every event
 * received until then, and waits for that, at most EVENT_CATCH_UP_MAX_US
 * (an fs_catch_up_fn). Called from FUSE threads, never from the thread. */
void event_thread_catch_up(void *data);

/* event_thread_catch_up(): TRUE when the thread answered in time. */
gboolean event_thread_catch_up_wait(struct event_thread *et);

/* How many times the thread has returned from poll(), for tests: two more
 * than a count read before prove that a whole poll() began since. */
guint64 event_thread_wakeups(const struct event_thread *et);

/* Wakes the thread, waits for it to finish the datagram at hand and frees
 * it. NULL is fine. */
void event_thread_stop(struct event_thread *et);
