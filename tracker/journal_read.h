/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's reader: parses the JSON lines of journal_format.h with
 * jansson, a directory of segments in number order or one segment, and
 * applies them through the restore API to one process table per boot. It
 * reads in bounded memory (a line longer than JOURNAL_LINE_MAX is skipped,
 * never held), and every line it cannot use (torn, not JSON, wrong types,
 * absurd values, duplicated) is counted, never fatal. Only a journal written
 * on another machine is an error, and only when the caller says so (the
 * restore at start-up; a replay reads any machine's journal).
 */
#pragma once

#include <glib.h>

#include "tracker.h"

/* Longest host.id or host.boot.id kept (a machine-id is 32 hex digits, a
 * boot id a 36-character UUID). */
#define JOURNAL_ID_MAX 64
/* Boots one reading holds: each table takes a serial space, and a snapshot
 * inode (fs/fs-private.h) has room for 128 of them; lines of more boots
 * are counted invalid. */
#define JOURNAL_BOOTS_MAX 126

struct journal_read_stats {
	guint64 segments;       /* files read */
	guint64 bytes;          /* bytes read */
	guint64 lines;          /* lines seen, whatever became of them */
	guint64 applied;        /* lines applied to a table */
	guint64 torn;           /* a last line without its newline (crash, copy cut short) */
	guint64 too_long;       /* longer than JOURNAL_LINE_MAX, skipped unread */
	guint64 not_json;       /* garbage, NUL bytes, invalid UTF-8, not one object */
	guint64 invalid;        /* JSON, but wrong types, missing or absurd values */
	guint64 newer_format;   /* lineagefs.v above JOURNAL_FORMAT_VERSION */
	guint64 duplicates;     /* event.sequence not above the one before it */
	guint64 unknown_action; /* an action this reader does not know */
	guint64 after_until;    /* events after --until, left out */
	guint64 gaps;           /* gap lines: the writer lost lines */
	guint64 lost_lines;     /* what the gap lines say was lost */
	guint64 foreign_lines;  /* lines from another machine (replay reads them) */
	guint64 skipped_files;  /* files in the directory that are not segments */
	guint64 read_errors;    /* segments that could not be opened or read */
};

struct journal_read_options {
	/* This machine's id: a line from another machine is then an error
	 * (restore at start-up). NULL reads any machine's lines (replay). */
	const char *expect_host_id;
	/* The boot whose records go to root_tracker (start-up: this boot).
	 * NULL: every boot gets a table of its own (replay). */
	const char *root_boot_id;
	struct tracker *root_tracker;
	/* Settings for the tables made for other boots. */
	guint max_exited;
	guint hz; /* clock ticks per second when the journal does not say */
	/* Show the history as it was at this CLOCK_REALTIME ns; 0: all of it. */
	guint64 until_ns;
	/* What "now" is, for values in the future; 0: the real clock. */
	guint64 now_realtime_ns;
	/* Restore live thread counts (a replay: nothing will correct them). */
	gboolean threads;
	/* Parse on the calling thread only, whatever the segments' size. */
	gboolean one_thread;
};

/* One boot's history, in the table it was restored into. */
struct journal_boot {
	char boot_id[JOURNAL_ID_MAX + 1];
	char host_id[JOURNAL_ID_MAX + 1];
	struct tracker *tracker;   /* owned unless it is the root tracker */
	guint64 first_ns, last_ns; /* @timestamp of its first and last lines */
	guint64 lines;             /* lines applied */
	gboolean clock_known;      /* the boot's wall-clock origin was found */
	guint64 boot_realtime_ns;
	guint hz;
	guint index; /* in the reader's list while it reads */
};

struct journal_reader;

/* The domain of the reader's GErrors. */
GQuark journal_read_error_quark(void);
#define JOURNAL_READ_ERROR journal_read_error_quark()

struct journal_reader *journal_reader_new(const struct journal_read_options *opts);
/* Frees the reader and the tables it made, unless taken with
 * journal_reader_take_boots(). */
void journal_reader_free(struct journal_reader *r);

/* Reads a journal directory (its segments in number order) or one segment
 * file. FALSE with error set only when the path cannot be read at all or
 * the journal is another machine's and opts.expect_host_id is set; a bad
 * line is counted and skipped. */
gboolean journal_reader_read_path(struct journal_reader *r, const char *path, GError **error);

/* Reads one segment's bytes from a file descriptor (not closed). */
gboolean journal_reader_read_fd(struct journal_reader *r, int fd, GError **error);

/* Applies one line (without its newline). FALSE with error set only for
 * another machine's line when that is an error. For tests and fuzzers. */
gboolean journal_reader_feed_line(struct journal_reader *r, const char *line, gsize len,
                                  GError **error);

/* Ends the reading: earlier boots' running records become exited, and the
 * retention limit is applied across every table (the root first, then the
 * newest boots). Call once, after the last read. */
void journal_reader_finish(struct journal_reader *r);

const struct journal_read_stats *journal_reader_stats(const struct journal_reader *r);

/* The boots read, oldest first (by their last line), root's included. */
GPtrArray *journal_reader_boots(struct journal_reader *r);

/* Hands the tables over: the caller frees each boot's tracker (but the
 * root tracker it gave) and the array. */
GPtrArray *journal_reader_take_boots(struct journal_reader *r);

/* Parses "2026-11-22T13:40:34.684123456Z" (the journal's own form: UTC,
 * up to 9 fraction digits) to CLOCK_REALTIME ns. FALSE when malformed. */
gboolean journal_parse_timestamp(const char *text, guint64 *out_ns);

/* Parses --until: ISO 8601 (with a zone or UTC when none is given) or "@"
 * and epoch seconds (with a fraction). FALSE with error set otherwise. */
gboolean journal_parse_until(const char *text, guint64 *out_ns, GError **error);

/* The running system's machine id (/etc/machine-id, or
 * /var/lib/dbus/machine-id) and boot id, for the journal's writer and its
 * restore alike; FALSE with error set (one line, with the fix). */
gboolean journal_read_machine_id(char *out, gsize size, GError **error);
gboolean journal_read_boot_id(char *out, gsize size, GError **error);

/* The number of a segment file name ("lineagefs-0000000042.jsonl" -> 42),
 * or FALSE when name is not one. */
gboolean journal_segment_number(const char *name, guint64 *number);

/* "key value" lines of the stats, for logs and the stats file. */
void journal_read_stats_format(const struct journal_read_stats *stats, GString *out);
