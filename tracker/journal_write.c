/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal writer (see journal_write.h). Two threads meet here: the
 * feeding thread, which copies each changed record into a queue item
 * (journal_item.c) under the tracker's write lock and pushes it onto a
 * single-producer, single-consumer ring without ever waiting, and the
 * journal thread, which takes the items, encodes them (journal_encode.c)
 * and has journal_segment.c write them in batches, rotate and delete
 * segments and sync. The journal thread sleeps while the queue is empty;
 * the feeder wakes it (one eventfd write) only then, and after waking it
 * lingers a little before it looks again, so that a fork storm costs a
 * wakeup per batch, not per event. A fork whose exec follows closely is
 * told by the exec's line alone.
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "lineagefs"
#endif
#include "config.h"
#include "journal_write-private.h"
#include "journal_read.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define JOURNAL_QUEUE_SLOTS (64 * 1024)
#define JOURNAL_QUEUE_BYTES (64ull * 1024 * 1024)
/* Spare item blocks the journal thread hands back to the feeder: a
 * storm's items of one linger (1,500 processes a second, two or three
 * items each, a tenth of a second), and at most 1 MiB kept. */
#define JOURNAL_ITEM_SPARES 1024
/* After a batch, how long the thread waits for more before it looks again
 * (and before it asks the feeder to wake it): each look is a wakeup and a
 * write(), whose cost (a context switch, the filesystem's per-write
 * bookkeeping) was most of the thread's CPU in a storm at 20 ms. Never
 * longer than the sync interval, so that --journal-sync=MS still bounds
 * how old the newest unsynced line is to about MS. */
#define JOURNAL_LINGER_MS     100
#define JOURNAL_LINGER_MIN_MS 20
/* Items popped at once, and how far ahead a fork looks for its exec. */
#define JOURNAL_DRAIN_ITEMS 1024
#define JOURNAL_FOLD_WINDOW 64

/* ---- the host ---- */

gboolean journal_host_init_system(struct journal_host *host, const struct tracker_config *cfg,
                                  GError **error)
{
	memset(host, 0, sizeof(*host));
	if (!journal_read_machine_id(host->machine_id, sizeof(host->machine_id), error) ||
	    !journal_read_boot_id(host->boot_id, sizeof(host->boot_id), error))
		return FALSE;
	host->boot_realtime_ns = cfg->boot_realtime_ns;
	host->hz = cfg->hz;
	return TRUE;
}

/* ---- the queue ---- */

static guint queue_len(const struct journal_writer *jw)
{
	return lin_ring_len(&jw->queue);
}

/* Feeder side, once queue_has_room() said so: only this thread puts, so
 * the ring still has room. The bytes count before the item is visible,
 * so that the journal thread's take never subtracts them first. */
static void queue_push(struct journal_writer *jw, struct journal_item *item)
{
	__atomic_add_fetch(&jw->queued_bytes, item->bytes, __ATOMIC_RELAXED);
	lin_ring_put(&jw->queue, item);
	lin_gauge_raise(&jw->stats.queue_high_water, lin_ring_len(&jw->queue));
	/* Pairs with the thread's store of sleeping then load of the tail
	 * (lin_ring_put() stores it sequentially consistent). */
	if (__atomic_load_n(&jw->sleeping, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&jw->sleeping, 0, __ATOMIC_SEQ_CST))
		eventfd_write(jw->wake_fd, 1);
}

static gboolean queue_has_room(const struct journal_writer *jw, gsize bytes)
{
	return lin_ring_len(&jw->queue) < jw->queue.size &&
	       __atomic_load_n(&jw->queued_bytes, __ATOMIC_RELAXED) + bytes <= jw->max_queue_bytes;
}

/* Journal thread side. NULL when empty. */
static struct journal_item *queue_pop(struct journal_writer *jw)
{
	struct journal_item *item = lin_ring_take(&jw->queue);

	if (item)
		__atomic_sub_fetch(&jw->queued_bytes, item->bytes, __ATOMIC_RELAXED);
	return item;
}

void journal_writer_record(struct journal_writer *jw, enum journal_action action,
                           const struct lin_process *p, guint64 event_ns)
{
	struct journal_item_plan plan;
	struct journal_item *item;

	journal_item_plan(jw->tracker, p, action, &plan);
	jw->applied++;
	if (!queue_has_room(jw, journal_item_size(&plan, &jw->pool))) {
		__atomic_add_fetch(&jw->dropped, 1, __ATOMIC_RELAXED);
		journal_writer_stat_add(&jw->stats.lines_lost, 1);
		return;
	}
	item = journal_item_new(jw->tracker, p, &plan, &jw->pool);
	item->applied = jw->applied;
	item->event_ns = event_ns;
	queue_push(jw, item);
}

/* The tracker's events are the journal's process actions, in one order. */
G_STATIC_ASSERT((int)LIN_EVENT_FOUND == (int)JOURNAL_FOUND);
G_STATIC_ASSERT((int)LIN_EVENT_FORK == (int)JOURNAL_FORK);
G_STATIC_ASSERT((int)LIN_EVENT_EXEC == (int)JOURNAL_EXEC);
G_STATIC_ASSERT((int)LIN_EVENT_COMM == (int)JOURNAL_COMM);
G_STATIC_ASSERT((int)LIN_EVENT_UID == (int)JOURNAL_UID);
G_STATIC_ASSERT((int)LIN_EVENT_GID == (int)JOURNAL_GID);
G_STATIC_ASSERT((int)LIN_EVENT_EXIT == (int)JOURNAL_EXIT);
G_STATIC_ASSERT((int)LIN_EVENT_EXIT_MISSED == (int)JOURNAL_EXIT_MISSED);
G_STATIC_ASSERT((int)LIN_EVENT_FORGET == (int)JOURNAL_FORGET);

void journal_writer_on_event(enum lin_event_kind kind, const struct lin_process *p,
                             guint64 realtime_ns, void *data)
{
	journal_writer_record(data, (enum journal_action)kind, p, realtime_ns);
}

/* ---- the thread ---- */

enum fold {
	FOLD_NO,      /* write the fork's line */
	FOLD_DONE,    /* its exec's line tells it */
	FOLD_UNKNOWN, /* nothing of the child after it yet */
};

/* Whether item is an exec of the fork's creator: it may change the
 * creator's context (cwd, cgroup...). */
static gboolean is_creator_exec(const struct journal_item *fork, const struct journal_item *item)
{
	const struct journal_proc *child = &fork->proc;

	return item->action == JOURNAL_EXEC && (child->has & JOURNAL_HAS_CREATOR_START) &&
	       item->proc.pid == child->creator_pid &&
	       item->proc.start_ticks == child->creator_start_ticks &&
	       item->proc.instance == child->creator_instance;
}

/* If the next line of a forked child within a few items is its exec, the
 * exec line tells the fork too (its creator and start), and the fork's own
 * line is left out: a short process costs two lines, not three. Not when
 * its creator exec'd in between: a reader gives a folded child its
 * creator's context as of the exec line, and the exec line carries only
 * what the child's exec changed, so the child would take the context the
 * creator's exec read (a shell that forks, cds and execs) instead of the
 * one it had at the fork. */
static enum fold fold_fork(struct journal_item **items, guint i, guint n)
{
	struct journal_item *fork = items[i];

	if (fork->action != JOURNAL_FORK)
		return FOLD_NO;
	for (guint j = i + 1; j < n && j <= i + JOURNAL_FOLD_WINDOW; j++) {
		struct journal_item *next = items[j];

		if (is_creator_exec(fork, next))
			return FOLD_NO;
		if (next->serial != fork->serial)
			continue;
		if (next->action != JOURNAL_EXEC)
			return FOLD_NO;
		next->proc.has |= JOURNAL_HAS_FORK;
		return FOLD_DONE;
	}
	return i + JOURNAL_FOLD_WINDOW >= n ? FOLD_UNKNOWN : FOLD_NO;
}

/*
 * Encodes what is queued. Returns whether there was anything. A fork near
 * the end of what is queued, with nothing of its child after it, is held
 * with what follows it until the next drain (once, a linger later: its
 * exec usually comes within a millisecond), so that lines keep their
 * order and a short process still costs two lines. final: hold nothing.
 */
static gboolean drain(struct journal_writer *jw, gboolean final)
{
	struct journal_item *items[JOURNAL_DRAIN_ITEMS];
	gboolean any = FALSE;
	guint n;

	do {
		n = 0;
		for (guint i = 0; i < jw->held->len; i++)
			items[n++] = g_ptr_array_index(jw->held, i);
		g_ptr_array_set_size(jw->held, 0);
		while (n < G_N_ELEMENTS(items) && (items[n] = queue_pop(jw)) != NULL)
			n++;
		for (guint i = 0; i < n; i++) {
			struct journal_item *item = items[i];
			enum fold fold = FOLD_NO;

			any = TRUE;
			if (jw->failed || jw->start_pending) {
				jw->unreported++;
				journal_writer_stat_add(&jw->stats.lines_lost, 1);
				journal_item_free(item);
				continue;
			}
			fold = fold_fork(items, i, n);
			if (fold == FOLD_UNKNOWN && !final && !item->held) {
				item->held = TRUE;
				for (guint k = i; k < n; k++)
					g_ptr_array_add(jw->held, items[k]);
				break;
			}
			if (fold != FOLD_DONE && !journal_segment_in_checkpoint(jw, item)) {
				journal_item_take_hash(item);
				journal_segment_encode_item(jw, &jw->cfg.host, item->action,
				                            item->event_ns
				                                ? item->event_ns
				                                : journal_writer_now_realtime(jw),
				                            item);
			}
			journal_item_free(item);
		}
	} while (n == G_N_ELEMENTS(items) && jw->held->len == 0);
	__atomic_store_n(&jw->held_items, jw->held->len, __ATOMIC_RELAXED);
	journal_segment_flush(jw);
	return any;
}

static int linger_ms(const struct journal_writer *jw)
{
	return (int)CLAMP(jw->cfg.sync_ms, JOURNAL_LINGER_MIN_MS, JOURNAL_LINGER_MS);
}

/* How long the thread may sleep: until the next sync, retry or resync. */
static int sleep_ms(const struct journal_writer *jw)
{
	gint64 now = g_get_monotonic_time();
	gint64 until = G_MAXINT64;

	if (jw->dirty)
		until = MIN(until, jw->next_sync_us);
	if (jw->failed)
		until = MIN(until, jw->retry_us);
	if (jw->resync_wanted)
		until = MIN(until, jw->last_start_us + JOURNAL_RESYNC_US);
	if (__atomic_load_n(&jw->dropped, __ATOMIC_RELAXED) > 0 || jw->unreported > 0 ||
	    jw->held->len > 0)
		until = MIN(until, now + (gint64)linger_ms(jw) * 1000);
	if (until == G_MAXINT64)
		return -1;
	return until <= now ? 0 : (int)MIN((until - now + 999) / 1000, G_MAXINT);
}

static void wait_for(struct journal_writer *jw, int timeout_ms)
{
	struct pollfd pfd = {.fd = jw->wake_fd, .events = POLLIN};
	eventfd_t value;

	if (poll(&pfd, 1, timeout_ms) > 0)
		eventfd_read(jw->wake_fd, &value);
}

static void *journal_thread(void *data)
{
	struct journal_writer *jw = data;

	/* The name the metrics file's per-thread CPU goes by (self_usage.c). */
	pthread_setname_np(pthread_self(), "lin-journal");
	if (journal_segment_create(jw))
		journal_segment_start(jw);
	else
		jw->start_pending = TRUE;
	while (!__atomic_load_n(&jw->stop, __ATOMIC_ACQUIRE)) {
		gboolean worked = drain(jw, FALSE);

		journal_segment_maintain(jw);
		if (worked) {
			/* More is probably coming: gather it for one write. */
			int due = sleep_ms(jw);

			wait_for(jw, due >= 0 && due < linger_ms(jw) ? due : linger_ms(jw));
			continue;
		}
		__atomic_store_n(&jw->sleeping, 1, __ATOMIC_SEQ_CST);
		if (queue_len(jw) == 0 && !__atomic_load_n(&jw->stop, __ATOMIC_SEQ_CST))
			wait_for(jw, sleep_ms(jw));
		__atomic_store_n(&jw->sleeping, 0, __ATOMIC_SEQ_CST);
	}
	drain(jw, TRUE);
	if (jw->failed)
		jw->retry_us = 0;
	journal_segment_maintain(jw);
	drain(jw, TRUE);
	journal_segment_sync(jw);
	return NULL;
}

/* ---- life cycle ---- */

struct journal_writer *journal_writer_new(const struct journal_config *cfg, GError **error)
{
	g_autofree struct journal_writer *jw = g_new0(struct journal_writer, 1);
	guint slots = cfg->queue_slots ? cfg->queue_slots : JOURNAL_QUEUE_SLOTS;

	g_return_val_if_fail((slots & (slots - 1)) == 0, NULL);
	jw->cfg = *cfg;
	if (jw->cfg.max_bytes == 0)
		jw->cfg.max_bytes = JOURNAL_DEFAULT_MAX;
	jw->max_queue_bytes = cfg->queue_bytes ? cfg->queue_bytes : JOURNAL_QUEUE_BYTES;
	jw->dir_fd = journal_segment_open_dir(cfg->dir, error);
	if (jw->dir_fd < 0)
		return NULL;
	jw->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (jw->wake_fd < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
		            "cannot create an eventfd for the journal: %s", g_strerror(errno));
		close(jw->dir_fd);
		return NULL;
	}
	jw->dir = g_strdup(cfg->dir);
	jw->cfg.dir = jw->dir;
	jw->seg_fd = -1;
	jw->segments = g_array_new(FALSE, FALSE, sizeof(struct segment));
	jw->marks = g_array_new(FALSE, FALSE, sizeof(struct chunk_mark));
	jw->held = g_ptr_array_new();
	jw->boots = g_array_new(FALSE, TRUE, sizeof(struct earlier_boot));
	jw->buf = g_string_sized_new(JOURNAL_BATCH_BYTES + 64 * 1024);
	lin_ring_init(&jw->queue, slots);
	journal_item_pool_init(&jw->pool, JOURNAL_ITEM_SPARES);
	if (journal_segment_list(jw) < 0) {
		int err = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "journal directory %s cannot be listed: %s (check its permissions)",
		            cfg->dir, g_strerror(err));
		journal_writer_free(g_steal_pointer(&jw));
		return NULL;
	}
	if (jw->segments->len > 0)
		jw->seg_number =
		    g_array_index(jw->segments, struct segment, jw->segments->len - 1).number;
	__atomic_store_n(&jw->stats.segments, jw->segments->len, __ATOMIC_RELAXED);
	return g_steal_pointer(&jw);
}

void journal_writer_add_boot(struct journal_writer *jw, const char *boot_id,
                             guint64 boot_realtime_ns, guint hz, struct tracker *t)
{
	struct earlier_boot b = {.host = jw->cfg.host, .tracker = t};

	g_return_if_fail(!jw->started);
	g_strlcpy(b.host.boot_id, boot_id, sizeof(b.host.boot_id));
	b.host.boot_realtime_ns = boot_realtime_ns;
	if (hz)
		b.host.hz = hz;
	g_array_append_val(jw->boots, b);
}

gboolean journal_writer_start(struct journal_writer *jw, struct tracker *t, GError **error)
{
	sigset_t all, old;
	int err;

	jw->tracker = t;
	jw->metrics = tracker_get_metrics(t);
	if (!jw->metrics->enabled)
		jw->metrics = NULL;
	/* The thread takes no signal: they are the FUSE loop's. But SIGSYS,
	 * which the seccomp filter sends to name a call it refused, must
	 * reach it (a blocked one kills the process silently). */
	sigfillset(&all);
	sigdelset(&all, SIGSYS);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&jw->thread, NULL, journal_thread, jw);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot start the journal thread: %s", g_strerror(err));
		return FALSE;
	}
	jw->started = TRUE;
	return TRUE;
}

void journal_writer_stop(struct journal_writer *jw)
{
	if (!jw || !jw->started)
		return;
	__atomic_store_n(&jw->stop, 1, __ATOMIC_SEQ_CST);
	eventfd_write(jw->wake_fd, 1);
	pthread_join(jw->thread, NULL);
	jw->started = FALSE;
}

void journal_writer_free(struct journal_writer *jw)
{
	struct journal_item *item;

	if (!jw)
		return;
	journal_writer_stop(jw);
	while ((item = queue_pop(jw)) != NULL)
		journal_item_free(item);
	if (jw->seg_fd >= 0)
		close(jw->seg_fd);
	if (jw->wake_fd >= 0)
		close(jw->wake_fd);
	if (jw->dir_fd >= 0)
		close(jw->dir_fd);
	lin_ring_clear(&jw->queue);
	if (jw->buf)
		g_string_free(jw->buf, TRUE);
	if (jw->segments)
		g_array_unref(jw->segments);
	if (jw->marks)
		g_array_unref(jw->marks);
	if (jw->boots)
		g_array_unref(jw->boots);
	if (jw->held) {
		for (guint i = 0; i < jw->held->len; i++)
			journal_item_free(g_ptr_array_index(jw->held, i));
		g_ptr_array_unref(jw->held);
	}
	journal_item_pool_clear(&jw->pool);
	g_free(jw->dir);
	g_free(jw);
}

void journal_writer_get_stats(struct journal_writer *jw, struct lin_journal_stats *out)
{
	out->lines = __atomic_load_n(&jw->stats.lines, __ATOMIC_RELAXED);
	out->lines_lost = __atomic_load_n(&jw->stats.lines_lost, __ATOMIC_RELAXED);
	out->write_errors = __atomic_load_n(&jw->stats.write_errors, __ATOMIC_RELAXED);
	out->bytes = __atomic_load_n(&jw->stats.bytes, __ATOMIC_RELAXED);
	out->segments = __atomic_load_n(&jw->stats.segments, __ATOMIC_RELAXED);
	out->segments_deleted = __atomic_load_n(&jw->stats.segments_deleted, __ATOMIC_RELAXED);
	out->checkpoints = __atomic_load_n(&jw->stats.checkpoints, __ATOMIC_RELAXED);
	out->syncs = __atomic_load_n(&jw->stats.syncs, __ATOMIC_RELAXED);
	out->queue_depth = queue_len(jw) + __atomic_load_n(&jw->held_items, __ATOMIC_RELAXED);
	out->queue_high_water = __atomic_load_n(&jw->stats.queue_high_water, __ATOMIC_RELAXED);
}
