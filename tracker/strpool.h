/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Interned, reference-counted byte strings. Exe paths, comms and cmdlines
 * repeat across thousands of records (every /bin/true has the same three),
 * so each distinct value is stored once and records hold a pointer.
 * Not thread-safe: the tracker calls it under its write lock.
 */
#pragma once

#include <glib.h>

struct lin_str {
	guint refs;
	guint32 len; /* bytes in data, without the trailing NUL */
	guint32 hash;
	char data[]; /* len bytes, then a NUL so it can be used as a C string */
};

struct lin_strpool;

struct lin_strpool *lin_strpool_new(void);
void lin_strpool_free(struct lin_strpool *pool);

/* Returns the interned copy of data[0..len), with one more reference. */
struct lin_str *lin_strpool_intern(struct lin_strpool *pool, const void *data, gsize len);
/* Adds a reference; NULL is fine. */
struct lin_str *lin_str_ref(struct lin_str *s);
/* Drops a reference, freeing the string with its last one; NULL is fine. */
void lin_strpool_unref(struct lin_strpool *pool, struct lin_str *s);

/* Distinct strings held, and the bytes they take (headers included). */
guint lin_strpool_count(const struct lin_strpool *pool);
gsize lin_strpool_bytes(const struct lin_strpool *pool);
