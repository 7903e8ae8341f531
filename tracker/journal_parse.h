/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's line parser: splits a segment's bytes into lines and parses
 * each with jansson, on two threads of their own, while the caller's thread
 * applies the lines parsed before (in order). jansson's allocations for a
 * batch of lines come from an arena that is reset, not freed value by
 * value, once the batch is applied. Memory stays bounded: four batches are
 * in flight, a line longer than JOURNAL_LINE_MAX is skipped unread, and a
 * long line (a batch of its own) is scanned for its element count before
 * jansson sees it. Nothing here knows what a line means (journal_read.c
 * does).
 */
#pragma once

#include <glib.h>
#include <jansson.h>

/* What became of one line. */
enum journal_parsed_kind {
	JOURNAL_PARSED_JSON,     /* root holds the object */
	JOURNAL_PARSED_EMPTY,    /* an empty line */
	JOURNAL_PARSED_TOO_LONG, /* longer than JOURNAL_LINE_MAX, skipped unread */
	JOURNAL_PARSED_TOO_MANY, /* too many JSON values to be a process event */
	JOURNAL_PARSED_NOT_JSON, /* garbage, NUL bytes, invalid UTF-8, not one object */
	JOURNAL_PARSED_TORN,     /* the last line, without its newline */
};

/* Classifies and parses one line (without its newline). The root, when
 * JOURNAL_PARSED_JSON, is the caller's to json_decref(). Any thread. */
enum journal_parsed_kind journal_parse_line(const char *line, gsize len, json_t **root);

/* Called in line order on the calling thread; root is valid during the
 * call only (NULL but for JOURNAL_PARSED_JSON). FALSE stops the reading. */
typedef gboolean (*journal_parsed_fn)(enum journal_parsed_kind kind, json_t *root, void *data);

struct journal_parse_counts {
	guint64 bytes;       /* read */
	guint64 read_errors; /* a read() that failed: the rest of the fd is left */
};

/* Segments at least this big are worth the parser threads. */
#define JOURNAL_PARSE_THREADED_ABOVE (512 * 1024)

/* Reads fd to its end (not closed) and hands each line to fn; threaded:
 * parses on threads of their own (a splitter and two parsers) while fn
 * applies, else all on the calling thread. FALSE when fn stopped it. */
gboolean journal_parse_fd(int fd, gboolean threaded, journal_parsed_fn fn, void *data,
                          struct journal_parse_counts *counts);
