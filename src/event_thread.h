/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event threads, the tracker's only feeders once the daemon runs: a
 * receiver that reads every cn_proc datagram as it arrives and at once
 * reads what a short-lived process loses within microseconds (its cmdline
 * and exe), and an applier that completes and applies the events in order,
 * repairs the table with a /proc rescan when the kernel reports lost
 * events, and runs the tracker's periodic housekeeping. Both run at raised
 * priority; nothing the applier waits for (a slow /proc read, the tracker's
 * lock, a rescan) can hold up the receiver.
 */
#pragma once

#include <glib.h>

#include "cnproc.h"
#include "tracker.h"

struct event_thread;

/* Makes the cn_proc socket non-blocking and starts the threads. Neither t
 * nor cn is owned; both must outlive event_thread_stop(). The threads are
 * the tracker's only feeders from then on. Returns NULL with error set on
 * failure. */
struct event_thread *event_thread_start(struct tracker *t, struct cnproc *cn, GError **error);

/* Wakes the threads, waits for them to finish the event at hand (events
 * received and not yet applied are dropped) and frees them. NULL is fine. */
void event_thread_stop(struct event_thread *et);
