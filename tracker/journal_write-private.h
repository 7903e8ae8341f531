/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the two rooms of the journal writer share, private to them: struct
 * journal_writer and the calls the journal thread makes on its files.
 * journal_write.c holds the queue between the feeding thread and the
 * journal thread, the thread's loop and the writer's life cycle;
 * journal_segment.c the directory, the segment files and what is written
 * into them: batches of lines, gap lines, syncs, the checkpoint each
 * segment opens with, rotation and retention.
 */
#pragma once

#include <pthread.h>
#include <time.h>

#include "journal_item.h"
#include "journal_write.h"

/* Encoded bytes gathered before a write(). */
#define JOURNAL_BATCH_BYTES (256 * 1024)
/* Lines were lost: a new segment with a whole checkpoint makes the journal
 * whole again, but not more often than this. */
#define JOURNAL_RESYNC_US (10 * 1000 * 1000)

/* One step of a checkpoint: records with serial <= last_serial (and above
 * the previous mark's) were copied after applied events. */
struct chunk_mark {
	guint64 last_serial;
	guint64 applied;
};

struct segment {
	guint64 number;
	guint64 size;
};

/* An earlier boot's table, checkpointed with the live one. */
struct earlier_boot {
	struct journal_host host; /* its boot id and clock */
	struct tracker *tracker;
};

struct journal_writer {
	struct journal_config cfg;
	char *dir;
	int dir_fd;
	int wake_fd; /* eventfd: the feeder's wakeup and the stop request */
	struct tracker *tracker;
	pthread_t thread;
	gboolean started;

	/* The queue: the feeder puts items, the journal thread takes them. */
	struct lin_ring queue;
	guint64 max_queue_bytes;
	guint64 queued_bytes;          /* atomic */
	struct journal_item_pool pool; /* the feeder takes, the journal thread puts */
	guint64 dropped;               /* atomic: dropped by the feeder, not yet in a gap line */
	int sleeping;                  /* atomic: the thread waits for a wakeup */
	int stop;                      /* atomic */

	/* protected by the tracker's lock: written under its write lock */
	guint64 applied;

	/* The journal thread's own. */
	int seg_fd; /* -1: none open */
	guint64 seg_number;
	guint64 seg_size;       /* bytes of whole lines in it */
	guint64 seg_cp_size;    /* of which the open line and the checkpoint */
	gboolean start_pending; /* its open line and checkpoint are still to write */
	GArray *segments;       /* struct segment, oldest first, the open one last */
	guint64 next_seq;
	GString *buf;
	guint buf_lines;
	gboolean failed; /* writing failed: lines are dropped until retry_us */
	gint64 retry_us;
	guint64 unreported; /* lines lost by this thread, not yet in a gap line */
	gboolean resync_wanted;
	gint64 last_start_us;
	gboolean dirty; /* written since the last fdatasync() */
	gint64 next_sync_us;
	GArray *marks; /* struct chunk_mark of the last checkpoint, while items it holds may come */
	GPtrArray *held;  /* items carried to the next drain (see drain()) */
	GArray *boots;    /* struct earlier_boot: set before the thread starts */
	guint held_items; /* atomic: held->len, for the stats */

	struct lin_journal_stats stats; /* atomics */
	/* The tracker's instruments, when it records them (--metrics=on):
	 * the write and sync latencies. NULL: not recorded. */
	struct lin_metrics *metrics;
};

static inline void journal_writer_stat_add(guint64 *counter, guint64 n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

static inline guint64 journal_writer_now_realtime(const struct journal_writer *jw)
{
	struct timespec ts;

	if (jw->cfg.now_realtime_ns)
		return jw->cfg.now_realtime_ns();
	clock_gettime(CLOCK_REALTIME, &ts);
	return (guint64)ts.tv_sec * 1000000000ull + (guint64)ts.tv_nsec;
}

/* ---- journal_segment.c ---- */

/* For journal_writer_new(), before the thread starts: opens DIR (-1 with
 * error set when it is unfit), then lists the segments already in it,
 * oldest first (0 or -errno). */
int journal_segment_open_dir(const char *path, GError **error);
int journal_segment_list(struct journal_writer *jw);

/* The rest on the journal thread only. */
/* Writes the gathered lines, or counts them lost. FALSE when they are. */
gboolean journal_segment_flush(struct journal_writer *jw);
/* fdatasync()s the open segment if it was written since the last one. */
void journal_segment_sync(struct journal_writer *jw);
/* Closes the open segment and creates the next one, empty. */
gboolean journal_segment_create(struct journal_writer *jw);
/* Writes the open line and the checkpoint into the new segment. */
void journal_segment_start(struct journal_writer *jw);
/* Adds the lines of an item to the batch. */
void journal_segment_encode_item(struct journal_writer *jw, const struct journal_host *host,
                                 enum journal_action action, guint64 event_ns,
                                 const struct journal_item *item);
/* Whether a queued item's change is already in the last checkpoint. */
gboolean journal_segment_in_checkpoint(struct journal_writer *jw, const struct journal_item *item);
/* Retries a failed disk, rotates, syncs: whatever is due. */
void journal_segment_maintain(struct journal_writer *jw);
