/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal writer (see journal_write.h). Two threads meet here: the
 * feeding thread, which copies each changed record into a queue item
 * (journal_item.c) under the tracker's write lock and pushes it onto a
 * single-producer,
 * single-consumer ring without ever waiting, and the journal thread, which
 * encodes the items (journal_encode.c), writes them in batches, rotates and
 * deletes segments and syncs. The journal thread sleeps while the queue is
 * empty; the feeder wakes it (one eventfd write) only then, and after
 * waking it lingers a little before it looks again, so that a fork storm
 * costs a wakeup per batch, not per event.
 *
 * A checkpoint copies the table in chunks under the read lock while events
 * keep flowing: each chunk notes how many events the table had applied
 * when it was copied, and queued lines that chunk already holds are then
 * skipped, so the checkpoint followed by the queue tells every change
 * exactly once.
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "lineagefs"
#endif
#include "config.h"
#include "journal_write.h"
#include "journal_item.h"
#include "journal_read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define JOURNAL_QUEUE_SLOTS (64 * 1024)
#define JOURNAL_QUEUE_BYTES (64ull * 1024 * 1024)
/* Spare item blocks the journal thread hands back to the feeder: a
 * storm's items of one linger (1,500 processes a second, two or three
 * items each, a tenth of a second), and at most 1 MiB kept. */
#define JOURNAL_ITEM_SPARES 1024
/* Records copied per read-locked step of a checkpoint: the feeder waits at
 * most for one step (tens of microseconds). */
#define JOURNAL_CHUNK 256
/* Encoded bytes gathered before a write(). */
#define JOURNAL_BATCH_BYTES (256 * 1024)
/* After a batch, how long the thread waits for more before it looks again
 * (and before it asks the feeder to wake it): each look is a wakeup and a
 * write(), whose cost (a context switch, the filesystem's per-write
 * bookkeeping) was most of the thread's CPU in a storm at 20 ms. Never
 * longer than the sync interval, so that --journal-sync=MS still bounds
 * how old the newest unsynced line is to about MS. */
#define JOURNAL_LINGER_MS     100
#define JOURNAL_LINGER_MIN_MS 20
/* How often a failing disk is tried again. */
#define JOURNAL_RETRY_US (1000 * 1000)
/* Lines were lost: a new segment with a whole checkpoint makes the journal
 * whole again, but not more often than this. */
#define JOURNAL_RESYNC_US (10 * 1000 * 1000)
/* Items popped at once, and how far ahead a fork looks for its exec. */
#define JOURNAL_DRAIN_ITEMS 1024
#define JOURNAL_FOLD_WINDOW 64
/* Segment numbers tried when the next name exists already. */
#define JOURNAL_OPEN_TRIES 16

/* One step of a checkpoint: records with serial <= last_serial (and above
 * the previous mark's) were copied after applied events. */
struct chunk_mark {
	guint64 last_serial;
	guint64 applied;
};

struct segment {
	guint64 number;
	guint64 size;
};

/* An earlier boot's table, checkpointed with the live one. */
struct earlier_boot {
	struct journal_host host; /* its boot id and clock */
	struct tracker *tracker;
};

struct journal_writer {
	struct journal_config cfg;
	char *dir;
	int dir_fd;
	int wake_fd; /* eventfd: the feeder's wakeup and the stop request */
	struct tracker *tracker;
	pthread_t thread;
	gboolean started;

	/* The queue: the feeder puts items, the journal thread takes them. */
	struct lin_ring queue;
	guint64 max_queue_bytes;
	guint64 queued_bytes;          /* atomic */
	struct journal_item_pool pool; /* the feeder takes, the journal thread puts */
	guint64 dropped;               /* atomic: dropped by the feeder, not yet in a gap line */
	int sleeping;                  /* atomic: the thread waits for a wakeup */
	int stop;                      /* atomic */

	/* protected by the tracker's lock: written under its write lock */
	guint64 applied;

	/* The journal thread's own. */
	int seg_fd; /* -1: none open */
	guint64 seg_number;
	guint64 seg_size;       /* bytes of whole lines in it */
	guint64 seg_cp_size;    /* of which the open line and the checkpoint */
	gboolean start_pending; /* its open line and checkpoint are still to write */
	GArray *segments;       /* struct segment, oldest first, the open one last */
	guint64 next_seq;
	GString *buf;
	guint buf_lines;
	gboolean failed; /* writing failed: lines are dropped until retry_us */
	gint64 retry_us;
	guint64 unreported; /* lines lost by this thread, not yet in a gap line */
	gboolean resync_wanted;
	gint64 last_start_us;
	gboolean dirty; /* written since the last fdatasync() */
	gint64 next_sync_us;
	GArray *marks; /* struct chunk_mark of the last checkpoint, while items it holds may come */
	GPtrArray *held;  /* items carried to the next drain (see drain()) */
	GArray *boots;    /* struct earlier_boot: set before the thread starts */
	guint held_items; /* atomic: held->len, for the stats */

	struct lin_journal_stats stats; /* atomics */
	/* The tracker's instruments, when it records them (--metrics=on):
	 * the write and sync latencies. NULL: not recorded. */
	struct lin_metrics *metrics;
};

static void stat_add(guint64 *counter, guint64 n)
{
	__atomic_add_fetch(counter, n, __ATOMIC_RELAXED);
}

static guint64 now_realtime(const struct journal_writer *jw)
{
	struct timespec ts;

	if (jw->cfg.now_realtime_ns)
		return jw->cfg.now_realtime_ns();
	clock_gettime(CLOCK_REALTIME, &ts);
	return (guint64)ts.tv_sec * 1000000000ull + (guint64)ts.tv_nsec;
}

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

/* ---- the directory ---- */

static gint segment_cmp(gconstpointer a, gconstpointer b)
{
	const struct segment *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

static void segment_name(guint64 number, char *buf, gsize size)
{
	snprintf(buf, size, JOURNAL_SEGMENT_PREFIX "%010" G_GUINT64_FORMAT JOURNAL_SEGMENT_SUFFIX,
	         number);
}

/* Lists the segments already in the directory, oldest first. */
static int scan_segments(struct journal_writer *jw)
{
	int fd = openat(jw->dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *dir;
	struct dirent *de;

	if (fd < 0)
		return -errno;
	dir = fdopendir(fd);
	if (!dir) {
		int err = -errno;

		close(fd);
		return err;
	}
	while ((de = readdir(dir)) != NULL) {
		struct segment seg;
		struct stat st;

		if (!journal_segment_number(de->d_name, &seg.number))
			continue;
		if (fstatat(jw->dir_fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode))
			continue;
		seg.size = (guint64)st.st_size;
		g_array_append_val(jw->segments, seg);
	}
	closedir(dir);
	g_array_sort(jw->segments, segment_cmp);
	return 0;
}

/* Opens DIR, creating it when missing, and refuses one whose files others
 * could change: group or others may write, or another user owns it. */
static int open_dir(const char *path, GError **error)
{
	struct stat st;
	int fd;

	if (mkdir(path, 0750) < 0 && errno != EEXIST) {
		int err = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "journal directory %s: cannot create it: %s (create its parent, or "
		            "give another --journal=DIR)",
		            path, g_strerror(err));
		return -1;
	}
	fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "journal directory %s: %s (give a directory: --journal=DIR)", path,
		            g_strerror(err));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		g_set_error(
		    error, G_FILE_ERROR, G_FILE_ERROR_PERM,
		    "journal directory %s is writable by %s (mode %04o): anyone there could "
		    "forge or delete the history (chmod go-w %s)",
		    path, (st.st_mode & S_IWOTH) ? "others" : "its group",
		    (unsigned)(st.st_mode & 07777), path);
		close(fd);
		return -1;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
		            "journal directory %s is owned by uid %u: its owner could forge or "
		            "delete the history (chown root %s)",
		            path, (unsigned)st.st_uid, path);
		close(fd);
		return -1;
	}
	if (faccessat(fd, ".", W_OK, AT_EACCESS) < 0) {
		int err = errno;

		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "journal directory %s is not writable: %s (check its permissions and "
		            "that its filesystem is mounted read-write)",
		            path, g_strerror(err));
		close(fd);
		return -1;
	}
	return fd;
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
		stat_add(&jw->stats.lines_lost, 1);
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

/* ---- writing ---- */

/* Lines in buf are lost: count them, to be told by the next gap line. */
static void buf_drop(struct journal_writer *jw)
{
	jw->unreported += jw->buf_lines;
	stat_add(&jw->stats.lines_lost, jw->buf_lines);
	jw->resync_wanted = TRUE;
	g_string_truncate(jw->buf, 0);
	jw->buf_lines = 0;
}

static void writing_failed(struct journal_writer *jw, int err)
{
	static gboolean told;

	stat_add(&jw->stats.write_errors, 1);
	if (!told)
		g_warning("journal %s: %s; lines are counted as lost until it works again", jw->dir,
		          g_strerror(err));
	told = TRUE;
	jw->failed = TRUE;
	jw->retry_us = g_get_monotonic_time() + JOURNAL_RETRY_US;
}

/* Writes buf to the segment, keeping buf. A write that fails midway is
 * undone (the file cut back to its last whole line), so a segment never
 * holds half a line that a later line would be glued to. 0 or -errno. */
static int buf_write(struct journal_writer *jw)
{
	guint64 began = jw->metrics ? lin_metrics_now_ns() : 0;
	gsize done = 0;

	while (done < jw->buf->len) {
		ssize_t n = write(jw->seg_fd, jw->buf->str + done, jw->buf->len - done);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			int err = n < 0 ? errno : ENOSPC;

			if (ftruncate(jw->seg_fd, (off_t)jw->seg_size) < 0 ||
			    lseek(jw->seg_fd, (off_t)jw->seg_size, SEEK_SET) < 0) {
				/* The segment may end in a torn line, which the
				 * reader skips: start a new one soon. */
				jw->resync_wanted = TRUE;
				jw->last_start_us = 0;
			}
			return -err;
		}
		done += (gsize)n;
	}
	if (jw->metrics)
		lin_histogram_observe_since(&jw->metrics->journal_write, began);
	jw->seg_size += jw->buf->len;
	g_array_index(jw->segments, struct segment, jw->segments->len - 1).size = jw->seg_size;
	stat_add(&jw->stats.lines, jw->buf_lines);
	stat_add(&jw->stats.bytes, jw->buf->len);
	if (!jw->dirty)
		jw->next_sync_us = g_get_monotonic_time() + (gint64)jw->cfg.sync_ms * 1000;
	jw->dirty = TRUE;
	return 0;
}

/* Writes buf, or counts its lines lost. FALSE when they are. */
static gboolean buf_flush(struct journal_writer *jw)
{
	int err;

	if (jw->buf->len == 0)
		return !jw->failed;
	if (jw->failed || jw->seg_fd < 0) {
		buf_drop(jw);
		return FALSE;
	}
	err = buf_write(jw);
	if (err < 0) {
		buf_drop(jw);
		writing_failed(jw, -err);
		return FALSE;
	}
	g_string_truncate(jw->buf, 0);
	jw->buf_lines = 0;
	return TRUE;
}

static void line_done(struct journal_writer *jw)
{
	jw->buf_lines++;
	if (jw->buf->len >= JOURNAL_BATCH_BYTES)
		buf_flush(jw);
}

static void sync_segment(struct journal_writer *jw)
{
	guint64 began;
	int rc;

	if (!jw->dirty || jw->seg_fd < 0)
		return;
	jw->dirty = FALSE;
	began = jw->metrics ? lin_metrics_now_ns() : 0;
	rc = fdatasync(jw->seg_fd);
	if (jw->metrics)
		lin_histogram_observe_since(&jw->metrics->journal_sync, began);
	if (rc < 0) {
		/* What was written may be gone: say so, and write it all again
		 * in a new segment. */
		stat_add(&jw->stats.write_errors, 1);
		jw->resync_wanted = TRUE;
		return;
	}
	stat_add(&jw->stats.syncs, 1);
}

/* Writes a gap line for the lines lost since the last one, if any. */
static void write_gap(struct journal_writer *jw)
{
	guint64 dropped = __atomic_exchange_n(&jw->dropped, 0, __ATOMIC_RELAXED);
	guint64 lost = dropped + jw->unreported;
	int err;

	if (lost == 0)
		return;
	/* Lines the feeder dropped never got a sequence number: skip theirs. */
	jw->next_seq += dropped;
	jw->resync_wanted = TRUE;
	journal_encode_gap(jw->buf, &jw->cfg.host, now_realtime(jw), jw->next_seq++, lost);
	jw->buf_lines = 1;
	err = buf_write(jw);
	g_string_truncate(jw->buf, 0);
	jw->buf_lines = 0;
	if (err < 0) {
		/* Still to be told; the gap line itself is no lost event. */
		jw->unreported = lost;
		writing_failed(jw, -err);
		return;
	}
	jw->unreported = 0;
}

/* ---- segments ---- */

static guint64 segment_limit(const struct journal_writer *jw)
{
	return MAX(jw->cfg.max_bytes / JOURNAL_SEGMENTS, 64 * 1024);
}

/* Deletes the oldest segments while the directory would outgrow the limit
 * once the open one is full. Only after a whole checkpoint: the open
 * segment then holds every record the table has. */
static void enforce_limit(struct journal_writer *jw)
{
	guint64 total = jw->seg_cp_size + segment_limit(jw);

	for (guint i = 0; i + 1 < jw->segments->len; i++)
		total += g_array_index(jw->segments, struct segment, i).size;
	while (jw->segments->len > 1 && total > jw->cfg.max_bytes) {
		struct segment *oldest = &g_array_index(jw->segments, struct segment, 0);
		char name[64];

		segment_name(oldest->number, name, sizeof(name));
		if (unlinkat(jw->dir_fd, name, 0) < 0 && errno != ENOENT) {
			stat_add(&jw->stats.write_errors, 1);
			break;
		}
		total -= oldest->size;
		stat_add(&jw->stats.segments_deleted, 1);
		g_array_remove_index(jw->segments, 0);
	}
	__atomic_store_n(&jw->stats.segments, jw->segments->len, __ATOMIC_RELAXED);
}

/* Closes the open segment and creates the next one, empty. */
static gboolean segment_create(struct journal_writer *jw)
{
	struct segment seg = {0};
	char name[64];
	int fd = -1;

	if (jw->seg_fd >= 0) {
		sync_segment(jw);
		close(jw->seg_fd);
		jw->seg_fd = -1;
	}
	for (int i = 0; i < JOURNAL_OPEN_TRIES && fd < 0; i++) {
		jw->seg_number++;
		segment_name(jw->seg_number, name, sizeof(name));
		fd = openat(jw->dir_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW,
		            0640);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		writing_failed(jw, errno);
		return FALSE;
	}
	/* The umask may have taken more away; never less than 0640 either. */
	if (fchmod(fd, 0640) < 0) {
		close(fd);
		writing_failed(jw, errno);
		return FALSE;
	}
	/* The new name must survive a crash as much as its lines do. */
	fsync(jw->dir_fd);
	jw->seg_fd = fd;
	jw->seg_size = 0;
	jw->dirty = FALSE;
	seg.number = jw->seg_number;
	g_array_append_val(jw->segments, seg);
	__atomic_store_n(&jw->stats.segments, jw->segments->len, __ATOMIC_RELAXED);
	return TRUE;
}

/* The line of an item, then the "history" lines that carry what its
 * history did not fit in it (found and checkpoint lines only). */
static void encode_item(struct journal_writer *jw, const struct journal_host *host,
                        enum journal_action action, guint64 event_ns,
                        const struct journal_item *item)
{
	guint done =
	    journal_encode_process(jw->buf, host, action, event_ns, jw->next_seq++, &item->proc);

	line_done(jw);
	while (done < item->proc.ctx.hist_count) {
		done = journal_encode_history(jw->buf, host, event_ns, jw->next_seq++, &item->proc,
		                              done);
		line_done(jw);
	}
}

/* Copies up to JOURNAL_CHUNK records of t after serial *after under the
 * read lock. Returns how many; marks the chunk when t is the live table. */
static guint checkpoint_chunk(struct journal_writer *jw, struct tracker *t, guint64 *after,
                              GPtrArray *items)
{
	struct chunk_mark mark;
	struct lin_process *p;
	guint n = 0;

	tracker_read_lock(t);
	mark.applied = jw->applied;
	for (p = tracker_first_after(t, *after); p && n < JOURNAL_CHUNK; p = p->all_next, n++) {
		struct journal_item_plan plan;

		journal_item_plan(t, p, JOURNAL_CHECKPOINT, &plan);
		g_ptr_array_add(items, journal_item_new(t, p, &plan, NULL));
		*after = p->serial;
	}
	tracker_read_unlock(t);
	mark.last_serial = *after;
	if (n > 0 && t == jw->tracker)
		g_array_append_val(jw->marks, mark);
	return n;
}

/* Writes the checkpoint lines of table t, described by host. FALSE when
 * writing failed. */
static gboolean checkpoint_table(struct journal_writer *jw, struct tracker *t,
                                 const struct journal_host *host)
{
	g_autoptr(GPtrArray) items = g_ptr_array_new_with_free_func(journal_item_free);
	guint64 after = 0;
	gboolean ok = !jw->failed;

	while (ok && checkpoint_chunk(jw, t, &after, items) > 0) {
		guint64 now = now_realtime(jw);

		for (guint i = 0; i < items->len; i++) {
			struct journal_item *item = g_ptr_array_index(items, i);

			journal_item_take_hash(item);
			encode_item(jw, host, JOURNAL_CHECKPOINT, now, item);
		}
		g_ptr_array_set_size(items, 0);
		ok = !jw->failed;
	}
	return ok;
}

/*
 * Writes the open line and the checkpoint into the open (empty) segment:
 * the earlier boots' tables, then the live one. If writing fails midway
 * the segment is emptied again and start_pending stays set: a partial
 * checkpoint must not be mistaken for a whole one.
 */
static void segment_start(struct journal_writer *jw)
{
	gboolean ok;

	g_array_set_size(jw->marks, 0);
	journal_encode_open(jw->buf, &jw->cfg.host, now_realtime(jw), jw->next_seq++,
	                    jw->seg_number);
	line_done(jw);
	ok = !jw->failed;
	for (guint i = 0; ok && i < jw->boots->len; i++) {
		struct earlier_boot *b = &g_array_index(jw->boots, struct earlier_boot, i);

		ok = checkpoint_table(jw, b->tracker, &b->host);
	}
	if (ok)
		ok = checkpoint_table(jw, jw->tracker, &jw->cfg.host);
	if (ok)
		ok = buf_flush(jw);
	if (!ok) {
		g_array_set_size(jw->marks, 0);
		if (ftruncate(jw->seg_fd, 0) == 0 && lseek(jw->seg_fd, 0, SEEK_SET) == 0)
			jw->seg_size = 0;
		jw->start_pending = TRUE;
		return;
	}
	jw->start_pending = FALSE;
	jw->resync_wanted = FALSE;
	jw->seg_cp_size = jw->seg_size;
	jw->last_start_us = g_get_monotonic_time();
	stat_add(&jw->stats.checkpoints, 1);
	/* Everything up to here is whole on disk before anything is deleted. */
	sync_segment(jw);
	enforce_limit(jw);
}

/* Whether a queued item's change is already in the last checkpoint. */
static gboolean in_checkpoint(struct journal_writer *jw, const struct journal_item *item)
{
	const struct chunk_mark *last;

	if (jw->marks->len == 0)
		return FALSE;
	last = &g_array_index(jw->marks, struct chunk_mark, jw->marks->len - 1);
	if (item->applied > last->applied) {
		/* Newer than every chunk: so is the rest of the queue. */
		g_array_set_size(jw->marks, 0);
		return FALSE;
	}
	/* A forget must reach a reader that knows the record from an older
	 * segment, even when the checkpoint no longer holds it. */
	if (item->action == JOURNAL_FORGET)
		return FALSE;
	for (guint i = 0; i < jw->marks->len; i++) {
		const struct chunk_mark *mark = &g_array_index(jw->marks, struct chunk_mark, i);

		if (item->serial <= mark->last_serial)
			return item->applied <= mark->applied;
	}
	return FALSE; /* created after the checkpoint went by */
}

/* ---- the thread ---- */

enum fold {
	FOLD_NO,      /* write the fork's line */
	FOLD_DONE,    /* its exec's line tells it */
	FOLD_UNKNOWN, /* nothing of the child after it yet */
};

/* If the next line of a forked child within a few items is its exec, the
 * exec line tells the fork too (its creator and start), and the fork's own
 * line is left out: a short process costs two lines, not three. */
static enum fold fold_fork(struct journal_item **items, guint i, guint n)
{
	struct journal_item *fork = items[i];

	if (fork->action != JOURNAL_FORK)
		return FOLD_NO;
	for (guint j = i + 1; j < n && j <= i + JOURNAL_FOLD_WINDOW; j++) {
		struct journal_item *next = items[j];

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
				stat_add(&jw->stats.lines_lost, 1);
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
			if (fold != FOLD_DONE && !in_checkpoint(jw, item)) {
				journal_item_take_hash(item);
				encode_item(jw, &jw->cfg.host, item->action,
				            item->event_ns ? item->event_ns : now_realtime(jw),
				            item);
			}
			journal_item_free(item);
		}
	} while (n == G_N_ELEMENTS(items) && jw->held->len == 0);
	__atomic_store_n(&jw->held_items, jw->held->len, __ATOMIC_RELAXED);
	buf_flush(jw);
	return any;
}

/* Retries a failed disk, rotates, syncs: whatever is due. */
static void maintain(struct journal_writer *jw)
{
	gint64 now = g_get_monotonic_time();

	if (jw->failed) {
		if (now < jw->retry_us)
			return;
		jw->failed = FALSE;
		if (jw->seg_fd < 0 && !segment_create(jw))
			return;
	}
	if (jw->start_pending) {
		segment_start(jw);
		if (jw->failed)
			return;
	}
	write_gap(jw);
	if (jw->failed)
		return;
	if (jw->seg_size >= jw->seg_cp_size + segment_limit(jw) ||
	    (jw->resync_wanted && now >= jw->last_start_us + JOURNAL_RESYNC_US)) {
		if (segment_create(jw))
			segment_start(jw);
		else
			jw->start_pending = TRUE;
		return;
	}
	if (jw->dirty && now >= jw->next_sync_us)
		sync_segment(jw);
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
	if (segment_create(jw))
		segment_start(jw);
	else
		jw->start_pending = TRUE;
	while (!__atomic_load_n(&jw->stop, __ATOMIC_ACQUIRE)) {
		gboolean worked = drain(jw, FALSE);

		maintain(jw);
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
	maintain(jw);
	drain(jw, TRUE);
	sync_segment(jw);
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
	jw->dir_fd = open_dir(cfg->dir, error);
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
	if (scan_segments(jw) < 0) {
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
