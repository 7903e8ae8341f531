/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's history from a journal: the restore at start-up (--journal,
 * this machine's journal, this boot into the live table, earlier boots into
 * tables of their own) and the replay (--replay, any machine's journal,
 * the newest boot at the root, optionally as it was at --until). Both read
 * through journal_read.c and end with the tables the mount shows; this
 * file only decides which table is which and words the errors.
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "lineagefs"
#endif
#include "config.h"
#include "history.h"

#include <errno.h>
#include <stdio.h>

#include "journal_read.h"
#include "restore.h"

struct lin_history {
	GPtrArray *boots;     /* struct journal_boot *, oldest first */
	struct tracker *root; /* the table at the mount's root */
	gboolean root_owned;  /* a replay's: freed with the history */
	struct journal_read_stats stats;
};

/* What was skipped, on stderr in one line, when anything was: a user must
 * learn that the history shown is not all the journal held. */
static void report_skipped(const char *what, const char *path, const struct journal_read_stats *st)
{
	guint64 skipped = st->torn + st->too_long + st->not_json + st->invalid + st->duplicates +
	                  st->newer_format + st->unknown_action + st->read_errors;

	g_debug("%s %s: %" G_GUINT64_FORMAT " segments, %" G_GUINT64_FORMAT
	        " lines, %" G_GUINT64_FORMAT " applied",
	        what, path, st->segments, st->lines, st->applied);
	if (skipped == 0 && st->gaps == 0)
		return;
	fprintf(stderr,
	        "lineagefs: %s %s: %" G_GUINT64_FORMAT " lines applied; skipped %" G_GUINT64_FORMAT
	        " torn, %" G_GUINT64_FORMAT " too long, %" G_GUINT64_FORMAT
	        " not JSON, %" G_GUINT64_FORMAT " invalid, %" G_GUINT64_FORMAT
	        " duplicated, %" G_GUINT64_FORMAT " of a newer format, %" G_GUINT64_FORMAT
	        " unknown actions, %" G_GUINT64_FORMAT
	        " unreadable segments; the writer lost %" G_GUINT64_FORMAT " lines\n",
	        what, path, st->applied, st->torn, st->too_long, st->not_json, st->invalid,
	        st->duplicates, st->newer_format, st->unknown_action, st->read_errors,
	        st->lost_lines);
}

/* Takes the reader's tables: the root's and the earlier boots'. */
static struct lin_history *history_take(struct journal_reader *r, struct tracker *root,
                                        gboolean root_owned)
{
	struct lin_history *h = g_new0(struct lin_history, 1);

	h->boots = journal_reader_take_boots(r);
	h->root = root;
	h->root_owned = root_owned;
	h->stats = *journal_reader_stats(r);
	return h;
}

gboolean lin_history_restore(struct tracker *root, const char *dir, guint max_exited,
                             struct lin_history **out, GError **error)
{
	char machine_id[JOURNAL_ID_MAX + 1], boot_id[JOURNAL_ID_MAX + 1];
	struct journal_read_options opts = {0};
	struct journal_reader *r;
	guint64 earlier = 0;
	struct lin_history *h;

	/* A first start: the writer makes the directory. */
	if (!g_file_test(dir, G_FILE_TEST_EXISTS)) {
		*out = NULL;
		return TRUE;
	}
	if (!journal_read_machine_id(machine_id, sizeof(machine_id), error) ||
	    !journal_read_boot_id(boot_id, sizeof(boot_id), error)) {
		g_prefix_error(error, "cannot restore the journal %s: ", dir);
		return FALSE;
	}
	opts.expect_host_id = machine_id;
	opts.root_boot_id = boot_id;
	opts.root_tracker = root;
	opts.max_exited = max_exited;
	opts.hz = tracker_get_config(root)->hz;
	r = journal_reader_new(&opts);
	if (!journal_reader_read_path(r, dir, error)) {
		journal_reader_free(r);
		g_prefix_error(error, "cannot restore the journal: ");
		return FALSE;
	}
	journal_reader_finish(r);
	report_skipped("restored", dir, journal_reader_stats(r));
	h = history_take(r, root, FALSE);
	journal_reader_free(r);

	/* One limit for everything held: the live table keeps the share the
	 * earlier boots left it. */
	for (guint i = 0; i < h->boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(h->boots, i);

		if (b->tracker != root)
			earlier += tracker_restore_count_exited(b->tracker);
	}
	if (max_exited > 0 && earlier > 0)
		tracker_restore_set_max_exited(
		    root, earlier < max_exited ? max_exited - (guint)earlier : 1);
	*out = h;
	return TRUE;
}

struct tracker *lin_history_replay(const char *path, guint64 until_ns, guint max_exited,
                                   struct lin_history **out, GError **error)
{
	struct journal_read_options opts = {
	    .max_exited = max_exited,
	    .until_ns = until_ns,
	    .threads = TRUE,
	};
	struct journal_reader *r = journal_reader_new(&opts);
	const struct journal_read_stats *stats;
	struct journal_boot *newest;
	struct lin_history *h;
	GPtrArray *boots;

	if (!journal_reader_read_path(r, path, error)) {
		journal_reader_free(r);
		g_prefix_error(error, "--replay: ");
		return NULL;
	}
	journal_reader_finish(r);
	stats = journal_reader_stats(r);
	boots = journal_reader_boots(r);
	if (boots->len == 0) {
		if (stats->segments == 0)
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOENT,
			            "--replay: %s holds no journal segments (lineagefs-*.jsonl)",
			            path);
		else if (until_ns && stats->after_until > 0)
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			            "--replay: nothing in %s had started by --until", path);
		else
			g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_INVAL,
			            "--replay: %s holds no process line lineagefs can read "
			            "(%" G_GUINT64_FORMAT " lines: %" G_GUINT64_FORMAT
			            " not JSON, %" G_GUINT64_FORMAT " invalid, %" G_GUINT64_FORMAT
			            " of a newer format, %" G_GUINT64_FORMAT " torn or too long)",
			            path, stats->lines, stats->not_json, stats->invalid,
			            stats->newer_format, stats->torn + stats->too_long);
		journal_reader_free(r);
		return NULL;
	}
	report_skipped("replaying", path, stats);
	newest = g_ptr_array_index(boots, boots->len - 1);
	h = history_take(r, newest->tracker, TRUE);
	journal_reader_free(r);
	*out = h;
	return h->root;
}

void lin_history_show(struct lin_history *h, struct lin_fs *fs)
{
	for (guint i = 0; i < h->boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(h->boots, i);

		if (b->tracker != h->root)
			fs_add_boot(fs, b->boot_id, b->tracker);
	}
}

GPtrArray *lin_history_boots(struct lin_history *h)
{
	return h ? h->boots : NULL;
}

void lin_history_checkpoint_boots(struct lin_history *h, struct journal_writer *jw)
{
	for (guint i = 0; h && i < h->boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(h->boots, i);

		if (b->tracker != h->root)
			journal_writer_add_boot(jw, b->boot_id, b->boot_realtime_ns, b->hz,
			                        b->tracker);
	}
}

const struct journal_read_stats *lin_history_stats(struct lin_history *h)
{
	return &h->stats;
}

void lin_history_free(struct lin_history *h)
{
	if (!h)
		return;
	for (guint i = 0; i < h->boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(h->boots, i);

		if (b->tracker != h->root || h->root_owned)
			tracker_free(b->tracker);
	}
	g_ptr_array_unref(h->boots);
	g_free(h);
}
