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

/* Makes the cn_proc socket non-blocking and starts the thread. Neither t nor
 * cn is owned; both must outlive event_thread_stop(). The thread is the
 * tracker's only feeder from then on. Returns NULL with error set on failure. */
struct event_thread *event_thread_start(struct tracker *t, struct cnproc *cn, GError **error);

/* Wakes the thread, waits for it to finish the datagram at hand and frees
 * it. NULL is fine. */
void event_thread_stop(struct event_thread *et);
