// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Records by serial: a sorted array with holes (see serial_index.h).
 */
#include "config.h"

#include "serial_index.h"

#include <string.h>

#define SERIAL_INDEX_MIN 64

static void set_cap(struct serial_index *ix, gsize cap)
{
	ix->serials = g_renew(guint64, ix->serials, cap);
	ix->records = g_renew(gpointer, ix->records, cap);
	ix->cap = cap;
}

void serial_index_add(struct serial_index *ix, guint64 serial, gpointer record)
{
	g_return_if_fail(ix->len == 0 || serial > ix->serials[ix->len - 1]);
	/* A quarter more each time: the slack stays small at a million. */
	if (ix->len == ix->cap)
		set_cap(ix, MAX(SERIAL_INDEX_MIN, ix->cap + ix->cap / 4));
	ix->serials[ix->len] = serial;
	ix->records[ix->len] = record;
	ix->len++;
}

/* The index of the first slot whose serial is not below serial (len:
 * none). */
static gsize lower_bound(const struct serial_index *ix, guint64 serial)
{
	gsize lo = 0, hi = ix->len;

	while (lo < hi) {
		gsize mid = lo + (hi - lo) / 2;

		if (ix->serials[mid] < serial)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* The index of serial in ix, or -1. */
static gssize position(const struct serial_index *ix, guint64 serial)
{
	gsize at = lower_bound(ix, serial);

	return at < ix->len && ix->serials[at] == serial ? (gssize)at : -1;
}

gpointer serial_index_find(const struct serial_index *ix, guint64 serial)
{
	gssize at = position(ix, serial);

	return at < 0 ? NULL : ix->records[at];
}

gpointer serial_index_first_after(const struct serial_index *ix, guint64 serial)
{
	/* Holes are at most an eighth of the slots: a short walk. */
	for (gsize at = serial == G_MAXUINT64 ? ix->len : lower_bound(ix, serial + 1); at < ix->len;
	     at++)
		if (ix->records[at])
			return ix->records[at];
	return NULL;
}

static void compact(struct serial_index *ix)
{
	gsize kept = 0;

	for (gsize i = 0; i < ix->len; i++) {
		if (!ix->records[i])
			continue;
		ix->serials[kept] = ix->serials[i];
		ix->records[kept] = ix->records[i];
		kept++;
	}
	ix->len = kept;
	ix->holes = 0;
	if (ix->cap > SERIAL_INDEX_MIN && ix->cap > kept + kept / 2)
		set_cap(ix, MAX(SERIAL_INDEX_MIN, kept + kept / 4));
}

void serial_index_remove(struct serial_index *ix, guint64 serial)
{
	gssize at = position(ix, serial);

	if (at < 0 || !ix->records[at])
		return;
	ix->records[at] = NULL;
	ix->holes++;
	if (ix->holes > ix->len / 8)
		compact(ix);
}

void serial_index_clear(struct serial_index *ix)
{
	g_free(ix->serials);
	g_free(ix->records);
	memset(ix, 0, sizeof(*ix));
}

gsize serial_index_bytes(const struct serial_index *ix)
{
	return ix->cap * (sizeof(*ix->serials) + sizeof(*ix->records));
}
