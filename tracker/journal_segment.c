/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's files (see journal_write-private.h): the directory,
 * checked and listed for the segments already there when the writer is
 * made; then, on the journal thread, the open segment, which starts with
 * an open line and a checkpoint of the table and into which batches of
 * encoded lines are written (a write that fails midway is cut back to the
 * last whole line; a failing disk costs lines, counted, told later by a
 * gap line, and is retried); fdatasync() at the configured interval;
 * rotation to a new segment when the open one is full or lines were lost;
 * and retention, which deletes the oldest segments only once the new one
 * holds a whole checkpoint.
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
#include "journal_write-private.h"
#include "journal_read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

/* How often a failing disk is tried again. */
#define JOURNAL_RETRY_US (1000 * 1000)
/* Records copied per read-locked step of a checkpoint: the feeder waits at
 * most for one step (tens of microseconds). */
#define JOURNAL_CHUNK 256
/* Segment numbers tried when the next name exists already. */
#define JOURNAL_OPEN_TRIES 16

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
int journal_segment_list(struct journal_writer *jw)
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
int journal_segment_open_dir(const char *path, GError **error)
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

/* ---- writing ---- */

/* Lines in buf are lost: count them, to be told by the next gap line. */
static void buf_drop(struct journal_writer *jw)
{
	jw->unreported += jw->buf_lines;
	journal_writer_stat_add(&jw->stats.lines_lost, jw->buf_lines);
	jw->resync_wanted = TRUE;
	g_string_truncate(jw->buf, 0);
	jw->buf_lines = 0;
}

static void writing_failed(struct journal_writer *jw, int err)
{
	static gboolean told;

	journal_writer_stat_add(&jw->stats.write_errors, 1);
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
	journal_writer_stat_add(&jw->stats.lines, jw->buf_lines);
	journal_writer_stat_add(&jw->stats.bytes, jw->buf->len);
	if (!jw->dirty)
		jw->next_sync_us = g_get_monotonic_time() + (gint64)jw->cfg.sync_ms * 1000;
	jw->dirty = TRUE;
	return 0;
}

/* Writes buf, or counts its lines lost. FALSE when they are. */
gboolean journal_segment_flush(struct journal_writer *jw)
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
		journal_segment_flush(jw);
}

void journal_segment_sync(struct journal_writer *jw)
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
		journal_writer_stat_add(&jw->stats.write_errors, 1);
		jw->resync_wanted = TRUE;
		return;
	}
	journal_writer_stat_add(&jw->stats.syncs, 1);
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
	journal_encode_gap(jw->buf, &jw->cfg.host, journal_writer_now_realtime(jw), jw->next_seq++,
	                   lost);
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
			journal_writer_stat_add(&jw->stats.write_errors, 1);
			break;
		}
		total -= oldest->size;
		journal_writer_stat_add(&jw->stats.segments_deleted, 1);
		g_array_remove_index(jw->segments, 0);
	}
	__atomic_store_n(&jw->stats.segments, jw->segments->len, __ATOMIC_RELAXED);
}

/* Closes the open segment and creates the next one, empty. */
gboolean journal_segment_create(struct journal_writer *jw)
{
	struct segment seg = {0};
	char name[64];
	int fd = -1;

	if (jw->seg_fd >= 0) {
		journal_segment_sync(jw);
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
void journal_segment_encode_item(struct journal_writer *jw, const struct journal_host *host,
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
		guint64 now = journal_writer_now_realtime(jw);

		for (guint i = 0; i < items->len; i++) {
			struct journal_item *item = g_ptr_array_index(items, i);

			journal_item_take_hash(item);
			journal_segment_encode_item(jw, host, JOURNAL_CHECKPOINT, now, item);
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
void journal_segment_start(struct journal_writer *jw)
{
	gboolean ok;

	g_array_set_size(jw->marks, 0);
	journal_encode_open(jw->buf, &jw->cfg.host, journal_writer_now_realtime(jw), jw->next_seq++,
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
		ok = journal_segment_flush(jw);
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
	journal_writer_stat_add(&jw->stats.checkpoints, 1);
	/* Everything up to here is whole on disk before anything is deleted. */
	journal_segment_sync(jw);
	enforce_limit(jw);
}

/* Whether a queued item's change is already in the last checkpoint. */
gboolean journal_segment_in_checkpoint(struct journal_writer *jw, const struct journal_item *item)
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

/* Retries a failed disk, rotates, syncs: whatever is due. */
void journal_segment_maintain(struct journal_writer *jw)
{
	gint64 now = g_get_monotonic_time();

	if (jw->failed) {
		if (now < jw->retry_us)
			return;
		jw->failed = FALSE;
		if (jw->seg_fd < 0 && !journal_segment_create(jw))
			return;
	}
	if (jw->start_pending) {
		journal_segment_start(jw);
		if (jw->failed)
			return;
	}
	write_gap(jw);
	if (jw->failed)
		return;
	if (jw->seg_size >= jw->seg_cp_size + segment_limit(jw) ||
	    (jw->resync_wanted && now >= jw->last_start_us + JOURNAL_RESYNC_US)) {
		if (journal_segment_create(jw))
			journal_segment_start(jw);
		else
			jw->start_pending = TRUE;
		return;
	}
	if (jw->dirty && now >= jw->next_sync_us)
		journal_segment_sync(jw);
}
