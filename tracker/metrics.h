/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's health instruments: latency histograms, gauges and counters
 * recorded where the work happens (the event thread, the FUSE workers, the
 * journal thread) and read by the renderer of the mount's `metrics` file
 * (fs/render_metrics.c). Recording takes no lock and costs a clock read and
 * a few relaxed atomic additions, so the hot paths pay almost nothing for
 * it; with recording off (--metrics=off) it costs one predictable branch.
 * A reader may see an observation's bucket before its sum: the renderer
 * derives the count from the buckets, so count and +Inf always agree.
 *
 * The struct lives in the tracker (tracker_get_metrics()), the one object
 * every thread already holds. Counters that `stats` shows too stay in
 * struct tracker_stats.
 */
#pragma once

#include <glib.h>
#include <time.h>

/* Upper bounds of the histogram buckets, in nanoseconds: 1 us to 10 s in
 * 1-2.5-5 steps, plus the implicit +Inf. */
#define LIN_HISTOGRAM_BOUNDS 22
extern const guint64 lin_histogram_bounds_ns[LIN_HISTOGRAM_BOUNDS];

/* Every field is updated with relaxed __atomic builtins. */
struct lin_histogram {
	/* Observations in (bounds[i-1], bounds[i]]; the last one: above every
	 * bound. Not cumulative: the renderer sums them. */
	guint64 bucket[LIN_HISTOGRAM_BOUNDS + 1];
	guint64 sum_ns;
};

/* FUSE operations, as the metrics file labels them ("op"). The write-type
 * operations, all refused with EROFS, share one. */
enum lin_fuse_op {
	LIN_FUSE_OP_LOOKUP,
	LIN_FUSE_OP_FORGET,
	LIN_FUSE_OP_GETATTR,
	LIN_FUSE_OP_READLINK,
	LIN_FUSE_OP_OPEN,
	LIN_FUSE_OP_READ,
	LIN_FUSE_OP_RELEASE,
	LIN_FUSE_OP_OPENDIR,
	LIN_FUSE_OP_READDIR,
	LIN_FUSE_OP_READDIRPLUS,
	LIN_FUSE_OP_RELEASEDIR,
	LIN_FUSE_OP_STATFS,
	LIN_FUSE_OP_XATTR,
	LIN_FUSE_OP_REFUSED,
	LIN_FUSE_OP_COUNT,
};

struct lin_metrics {
	/* Set once before any thread starts; FALSE: nothing below is
	 * recorded (the histograms stay empty, the gauges 0). */
	gboolean enabled;

	/* Written by the event thread. */
	struct lin_histogram event_delay;   /* kernel timestamp -> received */
	struct lin_histogram event_visible; /* received -> applied to the table */
	struct lin_histogram exec_read;     /* /proc reads of an EXEC on arrival */
	struct lin_histogram exec_delay;    /* EXEC's kernel timestamp -> its reads begin */
	guint64 backlog_depth;              /* events received, not yet applied */
	guint64 backlog_high_water;         /* the most ever waiting at once */
	guint64 backlog_capacity;           /* set once at start */
	guint64 stat_reader_asks;           /* FORKs whose child stat went to lin-stat */

	/* Written by the FUSE workers. */
	struct lin_histogram fuse[LIN_FUSE_OP_COUNT];

	/* Written by the journal thread, when there is one; its counters
	 * are struct lin_journal_stats, kept by the writer. */
	struct lin_histogram journal_write; /* each write() of a batch */
	struct lin_histogram journal_sync;  /* each fdatasync() */
};

/* The journal writer's counters (journal_write.c, journal_segment.c), one
 * set that both the stats file and the metrics file render. */
struct lin_journal_stats {
	guint64 lines;            /* lines written */
	guint64 lines_lost;       /* dropped (full queue) or not written (disk) */
	guint64 write_errors;     /* failed write(), fdatasync(), open() */
	guint64 bytes;            /* bytes written by this daemon */
	guint64 segments;         /* segment files in DIR now */
	guint64 segments_deleted; /* by the size limit */
	guint64 checkpoints;      /* segments opened with a whole checkpoint */
	guint64 syncs;            /* fdatasync() calls that succeeded */
	guint64 queue_depth;      /* lines waiting in the queue now */
	guint64 queue_high_water; /* the most ever waiting at once */
};

static inline guint64 lin_metrics_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (guint64)ts.tv_sec * G_GUINT64_CONSTANT(1000000000) + (guint64)ts.tv_nsec;
}

/* Counts one observation of ns nanoseconds; any thread. */
static inline void lin_histogram_observe(struct lin_histogram *h, guint64 ns)
{
	guint i = 0;

	while (i < LIN_HISTOGRAM_BOUNDS && ns > lin_histogram_bounds_ns[i])
		i++;
	__atomic_fetch_add(&h->bucket[i], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&h->sum_ns, ns, __ATOMIC_RELAXED);
}

/* The time since start_ns, when start_ns was taken (recording on). */
static inline void lin_histogram_observe_since(struct lin_histogram *h, guint64 start_ns)
{
	guint64 now = lin_metrics_now_ns();

	lin_histogram_observe(h, now > start_ns ? now - start_ns : 0);
}

/* A gauge written by one thread only: a plain store, seen by readers. */
static inline void lin_gauge_set(guint64 *gauge, guint64 value)
{
	__atomic_store_n(gauge, value, __ATOMIC_RELAXED);
}

/* Raises a high-water mark written by one thread only. */
static inline void lin_gauge_raise(guint64 *mark, guint64 value)
{
	if (value > __atomic_load_n(mark, __ATOMIC_RELAXED))
		__atomic_store_n(mark, value, __ATOMIC_RELAXED);
}

static inline guint64 lin_metrics_load(const guint64 *value)
{
	return __atomic_load_n(value, __ATOMIC_RELAXED);
}

/* A copy of h for rendering, each field read atomically. */
void lin_histogram_snapshot(const struct lin_histogram *h, struct lin_histogram *out);
