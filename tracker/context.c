// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The context pool: a hash set of struct lin_context keyed by content.
 * Strings in a context are interned, so comparing their pointers compares
 * their bytes; an interned context holds its own references to its strings
 * and to its exe hash entry, released with its last reference.
 */
#include "config.h"

#include "context.h"

#include <string.h>

struct lin_context_pool {
	struct lin_strpool *strings; /* not owned */
	GHashTable *set;             /* struct lin_context * -> itself */
};

static guint32 mix(guint32 h, guint64 v)
{
	h ^= (guint32)(v ^ (v >> 32));
	return h * 16777619u;
}

static guint32 context_hash_of(const struct lin_context *c)
{
	guint32 h = 2166136261u;

	h = mix(h, GPOINTER_TO_SIZE(c->cwd));
	h = mix(h, GPOINTER_TO_SIZE(c->cgroup));
	h = mix(h, GPOINTER_TO_SIZE(c->env));
	h = mix(h, GPOINTER_TO_SIZE(c->exe_hash));
	h = mix(h, c->pidns);
	h = mix(h, c->loginuid);
	h = mix(h, c->sessionid);
	h = mix(h, c->tty_nr);
	h = mix(h, (guint32)c->sid);
	h = mix(h, (guint32)c->pgid);
	return mix(h, c->known);
}

static guint context_hash(gconstpointer key)
{
	return ((const struct lin_context *)key)->hash;
}

static gboolean context_equal(gconstpointer a, gconstpointer b)
{
	const struct lin_context *x = a, *y = b;

	return x->cwd == y->cwd && x->cgroup == y->cgroup && x->env == y->env &&
	       x->exe_hash == y->exe_hash && x->pidns == y->pidns && x->loginuid == y->loginuid &&
	       x->sessionid == y->sessionid && x->tty_nr == y->tty_nr && x->sid == y->sid &&
	       x->pgid == y->pgid && x->known == y->known;
}

struct lin_context_pool *lin_context_pool_new(struct lin_strpool *strings)
{
	struct lin_context_pool *pool = g_new0(struct lin_context_pool, 1);

	pool->strings = strings;
	pool->set = g_hash_table_new(context_hash, context_equal);
	return pool;
}

void lin_context_pool_free(struct lin_context_pool *pool)
{
	if (!pool)
		return;
	g_warn_if_fail(g_hash_table_size(pool->set) == 0);
	g_hash_table_unref(pool->set);
	g_free(pool);
}

struct lin_context *lin_context_intern(struct lin_context_pool *pool,
                                       const struct lin_context *tmpl)
{
	struct lin_context probe = *tmpl;
	struct lin_context *c;

	probe.hash = context_hash_of(&probe);
	c = g_hash_table_lookup(pool->set, &probe);
	if (c) {
		c->refs++;
		return c;
	}
	c = g_new(struct lin_context, 1);
	*c = probe;
	c->refs = 1;
	lin_str_ref(c->cwd);
	lin_str_ref(c->cgroup);
	lin_str_ref(c->env);
	exe_hash_entry_ref(c->exe_hash);
	g_hash_table_add(pool->set, c);
	return c;
}

struct lin_context *lin_context_ref(struct lin_context *ctx)
{
	if (ctx)
		ctx->refs++;
	return ctx;
}

void lin_context_unref(struct lin_context_pool *pool, struct lin_context *ctx)
{
	if (!ctx || --ctx->refs > 0)
		return;
	g_hash_table_remove(pool->set, ctx);
	lin_strpool_unref(pool->strings, ctx->cwd);
	lin_strpool_unref(pool->strings, ctx->cgroup);
	lin_strpool_unref(pool->strings, ctx->env);
	exe_hash_entry_unref(ctx->exe_hash);
	g_free(ctx);
}

guint lin_context_pool_count(const struct lin_context_pool *pool)
{
	return g_hash_table_size(pool->set);
}

gsize lin_context_pool_bytes(const struct lin_context_pool *pool)
{
	/* Each context and its slot in the set (key, hash; at most half full). */
	return g_hash_table_size(pool->set) *
	       (sizeof(struct lin_context) + 2 * (sizeof(gpointer) + 4));
}
