// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The string pool: a hash set of struct lin_str keyed by content, so that the
 * thousands of records sharing an exe, a comm or a cmdline hold one copy.
 * Each string is one allocation (header, bytes, NUL) and the set holds the
 * strings themselves as keys, with no separate value or key copy. Lookups
 * build their probe in a scratch string owned by the pool so that a hit,
 * the common case, allocates nothing.
 */
#include "config.h"

#include "strpool.h"

#include <stddef.h>
#include <string.h>

struct lin_strpool {
	GHashTable *set;       /* struct lin_str * -> itself */
	gsize bytes;           /* sum of str_size() over the set */
	struct lin_str *probe; /* scratch key for lookups; never in the set */
	gsize probe_cap;       /* bytes of data probe can hold, NUL included */
};

static gsize str_size(guint32 len)
{
	return sizeof(struct lin_str) + (gsize)len + 1;
}

/* FNV-1a: cheap, and good enough for paths and argv that differ in a few bytes. */
static guint32 str_hash_bytes(const void *data, gsize len)
{
	const guint8 *p = data;
	guint32 h = 2166136261u;

	for (gsize i = 0; i < len; i++) {
		h ^= p[i];
		h *= 16777619u;
	}
	return h;
}

static guint str_hash(gconstpointer key)
{
	const struct lin_str *s = key;

	return s->hash;
}

static gboolean str_equal(gconstpointer a, gconstpointer b)
{
	const struct lin_str *sa = a, *sb = b;

	return sa->hash == sb->hash && sa->len == sb->len &&
	       memcmp(sa->data, sb->data, sa->len) == 0;
}

struct lin_strpool *lin_strpool_new(void)
{
	struct lin_strpool *pool = g_new0(struct lin_strpool, 1);

	pool->set = g_hash_table_new_full(str_hash, str_equal, g_free, NULL);
	return pool;
}

void lin_strpool_free(struct lin_strpool *pool)
{
	if (!pool)
		return;
	g_hash_table_destroy(pool->set);
	g_free(pool->probe);
	g_free(pool);
}

struct lin_str *lin_strpool_intern(struct lin_strpool *pool, const void *data, gsize len)
{
	struct lin_str *found, *s;

	g_return_val_if_fail(pool != NULL, NULL);
	g_return_val_if_fail(data != NULL || len == 0, NULL);
	g_return_val_if_fail(len < G_MAXUINT32, NULL);

	if (pool->probe_cap < len + 1) {
		pool->probe_cap = MAX(len + 1, 256);
		g_free(pool->probe);
		pool->probe = g_malloc(sizeof(struct lin_str) + pool->probe_cap);
	}
	pool->probe->refs = 0;
	pool->probe->len = (guint32)len;
	pool->probe->hash = str_hash_bytes(data, len);
	if (len)
		memcpy(pool->probe->data, data, len);

	found = g_hash_table_lookup(pool->set, pool->probe);
	if (found) {
		g_return_val_if_fail(found->refs < G_MAXUINT, found);
		found->refs++;
		return found;
	}

	s = g_malloc(str_size((guint32)len));
	s->refs = 1;
	s->len = (guint32)len;
	s->hash = pool->probe->hash;
	if (len)
		memcpy(s->data, data, len);
	s->data[len] = '\0';
	g_hash_table_add(pool->set, s);
	pool->bytes += str_size(s->len);
	return s;
}

struct lin_str *lin_str_ref(struct lin_str *s)
{
	if (s) {
		g_return_val_if_fail(s->refs > 0 && s->refs < G_MAXUINT, s);
		s->refs++;
	}
	return s;
}

void lin_strpool_unref(struct lin_strpool *pool, struct lin_str *s)
{
	if (!s)
		return;
	g_return_if_fail(pool != NULL);
	g_return_if_fail(s->refs > 0);
	if (--s->refs > 0)
		return;
	pool->bytes -= str_size(s->len);
	/* The set owns the key: removing it frees s. */
	if (!g_hash_table_remove(pool->set, s))
		g_critical("lin_strpool_unref: string %p is not in pool %p", (void *)s,
		           (void *)pool);
}

guint lin_strpool_count(const struct lin_strpool *pool)
{
	return g_hash_table_size(pool->set);
}

gsize lin_strpool_bytes(const struct lin_strpool *pool)
{
	return pool->bytes;
}
