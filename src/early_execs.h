/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The EXECs the event thread read from the EXEC socket (see
 * event_thread.c), each with its /proc reads begun on arrival, waiting for
 * the same message from the main socket, which brings it behind the events
 * before it; and the EXECs the main socket brought first, so that the EXEC
 * socket's late copy is not read again. Owned by the event thread alone.
 */
#pragma once

#include <glib.h>

#include "cnproc.h"
#include "tracker.h"

/* EXECs read from the EXEC socket and not yet met on the main socket;
 * one met by none within EARLY_EXECS_MAX_AGE_US was lost there (an
 * overflow): its read is dropped. */
#define EARLY_EXECS_MAX        64
#define EARLY_EXECS_MAX_AGE_US (1000 * 1000)
/* EXECs the main socket brought first, remembered so that the EXEC
 * socket's copy, read after, is not read again. */
#define EARLY_EXECS_MET_MAX 64

struct early_exec {
	struct cnproc_event ev;
	struct tracker_read rd;
	gint64 at_us; /* g_get_monotonic_time() at receipt */
};

struct early_execs {
	struct early_exec early[EARLY_EXECS_MAX]; /* oldest first */
	guint len;
	struct cnproc_event met[EARLY_EXECS_MET_MAX]; /* a ring */
	guint met_next;
};

/* Where to begin the reads of ev, an EXEC from the EXEC socket, or NULL
 * when the main socket brought it first (it was read then). When full, the
 * oldest waiting read is abandoned. */
struct tracker_read *early_execs_add(struct early_execs *x, const struct cnproc_event *ev);
/* Moves the reads of the EXEC socket's copy of ev, an EXEC from the main
 * socket, into rd and returns TRUE; else, with remember, keeps ev so that
 * its copy is not read when it comes. */
gboolean early_execs_take(struct early_execs *x, const struct cnproc_event *ev, gboolean remember,
                          struct tracker_read *rd);
/* Abandons the reads no main-socket event claimed in time, or all. */
void early_execs_expire(struct early_execs *x, gboolean all);
