// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The exe hash cache and its worker. The cache is a hash table keyed by
 * file identity, touched only by the event thread, holding one reference
 * to each entry; a record holds another. The worker takes (entry, fd) jobs
 * from an async queue, hashes the fd with GLib's GChecksum (sha256), closes
 * it, publishes the digest with a release store of the entry's state, and
 * hands the entry back through a second queue, collected by the event
 * thread, which then tells the records that waited for it. So the event
 * thread never reads a binary, and the worker never touches the tracker.
 * The cache is bounded: past EXE_HASH_CACHE_MAX entries, those no record
 * holds any more are dropped.
 */
#include "config.h"

#include "exe_hash.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#define EXE_HASH_CACHE_MAX 4096
#define EXE_HASH_READ_SIZE (64 * 1024)

struct hash_job {
	struct exe_hash_entry *entry; /* one reference, the job's */
	int fd;
};

struct exe_hash {
	GHashTable *cache; /* identity -> entry (one reference each); event thread only */
	GAsyncQueue *jobs; /* struct hash_job *, to the worker */
	GAsyncQueue *done; /* struct exe_hash_entry * (the job's reference), back */
	GThread *worker;
	guint64 hashed; /* atomic */
};

/* Marks the end of the job queue. */
static struct hash_job stop_job;

static guint identity_hash(gconstpointer key)
{
	const struct lin_exe_identity *id = key;

	return (guint)(id->ino * 2654435761u) ^ (guint)id->dev ^ (guint)id->mtime_ns ^
	       (guint)id->size;
}

static gboolean identity_equal(gconstpointer a, gconstpointer b)
{
	const struct lin_exe_identity *x = a, *y = b;

	return x->dev == y->dev && x->ino == y->ino && x->size == y->size &&
	       x->mtime_ns == y->mtime_ns && x->ctime_ns == y->ctime_ns;
}

int exe_hash_fd(int fd, char hex[65])
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	g_autofree guchar *buf = g_malloc(EXE_HASH_READ_SIZE);

	for (;;) {
		ssize_t n = read(fd, buf, EXE_HASH_READ_SIZE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			break;
		g_checksum_update(sum, buf, n);
	}
	g_strlcpy(hex, g_checksum_get_string(sum), 65);
	return 0;
}

static gpointer worker_main(gpointer data)
{
	struct exe_hash *h = data;
	struct hash_job *job;

	while ((job = g_async_queue_pop(h->jobs)) != &stop_job) {
		struct exe_hash_entry *e = job->entry;
		int err = exe_hash_fd(job->fd, e->hex);

		close(job->fd);
		e->err = err;
		g_atomic_int_set(&e->state, err == 0 ? EXE_HASH_DONE : EXE_HASH_FAILED);
		__atomic_fetch_add(&h->hashed, 1, __ATOMIC_RELAXED);
		g_async_queue_push(h->done, e);
		g_free(job);
	}
	return NULL;
}

struct exe_hash *exe_hash_new(void)
{
	struct exe_hash *h = g_new0(struct exe_hash, 1);

	h->cache = g_hash_table_new_full(identity_hash, identity_equal, NULL,
	                                 (GDestroyNotify)exe_hash_entry_unref);
	h->jobs = g_async_queue_new();
	h->done = g_async_queue_new();
	return h;
}

gboolean exe_hash_start(struct exe_hash *h, GError **error)
{
	g_autoptr(GError) local_error = NULL;
	sigset_t all, old;

	if (h->worker)
		return TRUE;
	/* The thread takes no signal (they are the FUSE loop's), but SIGSYS,
	 * which the seccomp filter sends to name a call it refused. */
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	h->worker = g_thread_try_new("lin-hash", worker_main, h, &local_error);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->worker) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
		            "cannot start the exe hash thread: %s", local_error->message);
		return FALSE;
	}
	return TRUE;
}

void exe_hash_free(struct exe_hash *h)
{
	struct hash_job *job;
	struct exe_hash_entry *e;

	if (!h)
		return;
	/* Jobs still queued are dropped first, so the stop is not behind
	 * a long backlog of binaries. */
	while ((job = g_async_queue_try_pop(h->jobs))) {
		close(job->fd);
		exe_hash_entry_unref(job->entry);
		g_free(job);
	}
	if (h->worker) {
		g_async_queue_push(h->jobs, &stop_job);
		g_thread_join(h->worker);
	}
	while ((e = g_async_queue_try_pop(h->done)))
		exe_hash_entry_unref(e);
	g_async_queue_unref(h->jobs);
	g_async_queue_unref(h->done);
	g_hash_table_unref(h->cache);
	g_free(h);
}

struct exe_hash_entry *exe_hash_entry_ref(struct exe_hash_entry *e)
{
	if (e)
		g_atomic_int_inc(&e->refs);
	return e;
}

void exe_hash_entry_unref(struct exe_hash_entry *e)
{
	if (e && g_atomic_int_dec_and_test(&e->refs)) {
		if (e->waiters)
			g_array_unref(e->waiters);
		g_free(e);
	}
}

enum exe_hash_state exe_hash_entry_state(const struct exe_hash_entry *e)
{
	return (enum exe_hash_state)g_atomic_int_get(&e->state);
}

/* Drops the cached entries nobody else holds. */
static void cache_trim(struct exe_hash *h)
{
	GHashTableIter iter;
	gpointer value;

	g_hash_table_iter_init(&iter, h->cache);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		struct exe_hash_entry *e = value;

		if (g_atomic_int_get(&e->refs) == 1 && exe_hash_entry_state(e) != EXE_HASH_PENDING)
			g_hash_table_iter_remove(&iter);
	}
}

struct exe_hash_entry *exe_hash_get(struct exe_hash *h, const struct lin_exe_identity *id,
                                    int dirfd)
{
	struct exe_hash_entry *e = g_hash_table_lookup(h->cache, id);
	struct hash_job *job;
	int fd;

	if (e)
		return exe_hash_entry_ref(e);
	if (g_hash_table_size(h->cache) >= EXE_HASH_CACHE_MAX)
		cache_trim(h);
	e = g_new0(struct exe_hash_entry, 1);
	e->refs = 2; /* the cache's and the caller's */
	e->id = *id;
	g_hash_table_insert(h->cache, &e->id, e);
	fd = openat(dirfd, "exe", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		/* Not cached as failed: the next run may open it. */
		e->err = -errno;
		g_atomic_int_set(&e->state, EXE_HASH_FAILED);
		g_hash_table_remove(h->cache, &e->id);
		return e;
	}
	job = g_new(struct hash_job, 1);
	job->entry = exe_hash_entry_ref(e);
	job->fd = fd;
	g_async_queue_push(h->jobs, job);
	return e;
}

guint exe_hash_collect(struct exe_hash *h, exe_hash_done_fn fn, void *data)
{
	struct exe_hash_entry *e;
	guint n = 0;

	while ((e = g_async_queue_try_pop(h->done))) {
		fn(e, data);
		exe_hash_entry_unref(e);
		n++;
	}
	return n;
}

guint exe_hash_cached(const struct exe_hash *h)
{
	return g_hash_table_size(h->cache);
}

guint64 exe_hash_hashed(const struct exe_hash *h)
{
	return __atomic_load_n(&h->hashed, __ATOMIC_RELAXED);
}
