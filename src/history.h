/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's history from a journal: restore at start-up (--journal) and
 * replay (--replay, --until). See history.c.
 */
#pragma once

#include <glib.h>

#include "fs.h"
#include "journal_read.h"
#include "journal_write.h"
#include "tracker.h"

struct lin_history;

/* Restores this machine's journal in dir: this boot's records into root
 * (before tracker_bootstrap(), which reconciles them with /proc), earlier
 * boots into tables of their own. FALSE with error set when dir cannot be
 * read or holds another machine's journal. A dir that does not exist yet
 * restores nothing (*out is NULL). */
gboolean lin_history_restore(struct tracker *root, const char *dir, guint max_exited,
                             struct lin_history **out, GError **error);

/* Reads the journal at path (a directory or one segment, any machine) as
 * it was at until_ns (0: all of it). Returns the table of its newest boot,
 * for the root, or NULL with error set. */
struct tracker *lin_history_replay(const char *path, guint64 until_ns, guint max_exited,
                                   struct lin_history **out, GError **error);

/* Shows the earlier boots under boots/ (before the session serves). */
void lin_history_show(struct lin_history *h, struct lin_fs *fs);

/* The boots read, oldest first (struct journal_boot *), root's included;
 * NULL for NULL. The writer checkpoints them with the live table. */
GPtrArray *lin_history_boots(struct lin_history *h);
const struct journal_read_stats *lin_history_stats(struct lin_history *h);

/* Has the journal writer checkpoint the earlier boots' tables in every
 * segment it opens (before journal_writer_start()). NULL is fine. */
void lin_history_checkpoint_boots(struct lin_history *h, struct journal_writer *jw);

/* Frees the earlier boots' tables (and a replay's root). NULL is fine. */
void lin_history_free(struct lin_history *h);
