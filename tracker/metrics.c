/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The health instruments' shared parts (see metrics.h): the histogram
 * buckets every latency uses, and the snapshot the renderer reads.
 */
#include "metrics.h"

/* 1 us .. 10 s: an event read in microseconds is healthy, one delayed by
 * milliseconds is about to cost a cmdline (a short-lived process is gone
 * within a few hundred microseconds of its EXEC). */
const guint64 lin_histogram_bounds_ns[LIN_HISTOGRAM_BOUNDS] = {
    1000,      2500,      5000,       10000,      25000,      50000,       100000,   250000,
    500000,    1000000,   2500000,    5000000,    10000000,   25000000,    50000000, 100000000,
    250000000, 500000000, 1000000000, 2500000000, 5000000000, 10000000000,
};

void lin_histogram_snapshot(const struct lin_histogram *h, struct lin_histogram *out)
{
	for (guint i = 0; i <= LIN_HISTOGRAM_BOUNDS; i++)
		out->bucket[i] = __atomic_load_n(&h->bucket[i], __ATOMIC_RELAXED);
	out->sum_ns = __atomic_load_n(&h->sum_ns, __ATOMIC_RELAXED);
}
