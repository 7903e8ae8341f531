/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal writer: a thread that appends one journal line per process
 * event to size-rotated segment files (journal_format.h). The feeding
 * thread hands it copies of the records it changes through a bounded
 * lock-free queue and never waits: a full queue drops the line and counts
 * it, and the writer records the loss as a "gap" line when it writes again.
 * Each segment opens with an "open" line and a checkpoint of the whole
 * table, taken in short read-locked chunks, so deleting the oldest segments
 * (to stay under the size limit) never loses a record the table holds. A
 * full or failing disk costs lines, counted, and is retried; it never
 * reaches the event thread.
 */
#pragma once

#include <glib.h>

#include "journal_encode.h"
#include "metrics.h"
#include "tracker.h"

#define JOURNAL_DEFAULT_MAX     (1024ull * 1024 * 1024) /* --journal-max */
#define JOURNAL_MIN_MAX         (1024ull * 1024)
#define JOURNAL_DEFAULT_SYNC_MS 1000u /* --journal-sync */
/* Segments per journal: a segment is max / JOURNAL_SEGMENTS bytes (plus
 * its checkpoint), so deleting the oldest frees about an eighth. */
#define JOURNAL_SEGMENTS 8

struct journal_config {
	const char *dir;
	guint64 max_bytes; /* the segments' total size */
	guint sync_ms;     /* fdatasync() interval; 0 syncs after every write */
	struct journal_host host;
	/* Queue bounds; 0 means the defaults. Tests make them small. */
	guint queue_slots; /* a power of two */
	guint64 queue_bytes;
	/* Clock for @timestamp of lines that are not events; NULL: real. */
	guint64 (*now_realtime_ns)(void);
};

/* Fills host from the running system: /etc/machine-id (or
 * /var/lib/dbus/machine-id), /proc/sys/kernel/random/boot_id, and the
 * tracker's clock. FALSE with error set when an id cannot be read. */
gboolean journal_host_init_system(struct journal_host *host, const struct tracker_config *cfg,
                                  GError **error);

struct journal_writer;

/* Checks DIR (creates it 0750 when missing; refuses one that others may
 * write or that is not a directory) and finds the next segment number.
 * Writes nothing yet. NULL with error set (one line, with the fix). */
struct journal_writer *journal_writer_new(const struct journal_config *cfg, GError **error);

/* Starts the thread: it opens a new segment and writes the checkpoint of
 * t, then the lines journal_writer_record() queues. Call after the
 * bootstrap (and after any fork(): fuse_daemonize), before the feeding
 * thread starts. t must outlive journal_writer_stop(). */
gboolean journal_writer_start(struct journal_writer *jw, struct tracker *t, GError **error);

/* An earlier boot's table (restored from the journal, shown under boots/)
 * that every segment's checkpoint also holds, with its own host.boot.id
 * and clock, so deleting old segments never loses it. Call before
 * journal_writer_start(); t must outlive journal_writer_stop() and must
 * not change meanwhile (nothing feeds an earlier boot's table). */
void journal_writer_add_boot(struct journal_writer *jw, const char *boot_id,
                             guint64 boot_realtime_ns, guint hz, struct tracker *t);

/* Writes what is queued, syncs, and joins the thread. NULL is fine. */
void journal_writer_stop(struct journal_writer *jw);
/* Stops it if needed and frees it. NULL is fine. */
void journal_writer_free(struct journal_writer *jw);

/* Queues the line for an event applied to p: called on the feeding thread
 * under the tracker's write lock (so p is stable), copies what the line
 * needs and returns at once. event_ns: CLOCK_REALTIME of the event, 0 for
 * now. */
void journal_writer_record(struct journal_writer *jw, enum journal_action action,
                           const struct lin_process *p, guint64 event_ns);

/* The tracker's event hook: tracker_set_event_fn(t, journal_writer_on_event,
 * jw). */
void journal_writer_on_event(enum lin_event_kind kind, const struct lin_process *p,
                             guint64 realtime_ns, void *data);

/* A snapshot of the writer's counters; any thread. */
void journal_writer_get_stats(struct journal_writer *jw, struct lin_journal_stats *out);
