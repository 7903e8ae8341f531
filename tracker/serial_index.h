/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Records by serial. Serials only grow, so the records in serial order are
 * an array that grows at its end: a lookup is a binary search, and a
 * record costs 16 bytes (its serial and its pointer, plus the array's
 * slack), where a hash table cost 24 to 31 (its buckets at a load of 0.4
 * to 0.75). A forgotten record leaves a hole until holes make an eighth
 * of the array, which is then compacted: retention forgets the oldest
 * first, so the holes gather at its start and compaction is a memmove,
 * once per len / 8 records forgotten. Not thread-safe: the tracker calls
 * it under its lock (lookups under the read lock).
 */
#pragma once

#include <glib.h>

struct serial_index {
	guint64 *serials;
	gpointer *records; /* NULL: a hole, its record forgotten */
	gsize len, cap, holes;
};

/* serial must be above every serial added so far. */
void serial_index_add(struct serial_index *ix, guint64 serial, gpointer record);
/* The record of serial, or NULL. */
gpointer serial_index_find(const struct serial_index *ix, guint64 serial);
/* The record with the smallest serial above serial, or NULL. */
gpointer serial_index_first_after(const struct serial_index *ix, guint64 serial);
/* Forgets serial (added before; a serial not held is ignored). */
void serial_index_remove(struct serial_index *ix, guint64 serial);
void serial_index_clear(struct serial_index *ix);
/* Bytes the arrays take. */
gsize serial_index_bytes(const struct serial_index *ix);
