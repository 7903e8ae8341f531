/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A single-producer, single-consumer ring of pointers, without locks: one
 * thread puts, one other thread takes, neither ever waits. The journal's
 * queue (items from the feeding thread to the journal thread) and its pool
 * of spare item blocks (back the other way) are such rings.
 *
 * slot and size are fixed while both threads run; tail is written by the
 * producer only, head by the consumer only, and both are read by both
 * (atomics). A put publishes with a sequentially consistent store, so a
 * producer may then load a "consumer sleeps" flag that the consumer
 * stored before it loaded tail (see journal_write.c), and neither misses
 * the other.
 */
#ifndef LINEAGEFS_SPSC_RING_H
#define LINEAGEFS_SPSC_RING_H

#include <glib.h>

struct lin_ring {
	gpointer *slot;
	guint size; /* a power of two */
	guint tail; /* atomic: the producer's */
	guint head; /* atomic: the consumer's */
};

static inline void lin_ring_init(struct lin_ring *r, guint size)
{
	g_return_if_fail(size > 0 && (size & (size - 1)) == 0);
	r->slot = g_new0(gpointer, size);
	r->size = size;
	r->tail = r->head = 0;
}

/* Frees the slots, not what they hold: neither thread may use r now. */
static inline void lin_ring_clear(struct lin_ring *r)
{
	g_clear_pointer(&r->slot, g_free);
	r->size = 0;
}

/* Either side. */
static inline guint lin_ring_len(const struct lin_ring *r)
{
	return __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE) -
	       __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
}

/* The producer's side. FALSE when full (v is not taken). */
static inline gboolean lin_ring_put(struct lin_ring *r, gpointer v)
{
	guint tail = r->tail;

	if (tail - __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) >= r->size)
		return FALSE;
	r->slot[tail & (r->size - 1)] = v;
	__atomic_store_n(&r->tail, tail + 1, __ATOMIC_SEQ_CST);
	return TRUE;
}

/* The consumer's side. NULL when empty. */
static inline gpointer lin_ring_take(struct lin_ring *r)
{
	guint head = r->head;
	gpointer v;

	if (head == __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE))
		return NULL;
	v = r->slot[head & (r->size - 1)];
	__atomic_store_n(&r->head, head + 1, __ATOMIC_RELEASE);
	return v;
}

#endif
