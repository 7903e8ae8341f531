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

/* Called on a parser thread right after the line was parsed, in no
 * particular order: turns root (NULL but for JOURNAL_PARSED_JSON) into the
 * caller's record of the line in slot (slot_size bytes, zeroed). It must
 * not touch state that the apply function changes: lines are decoded while
 * earlier ones are applied. Strings of root stay valid until the line is
 * applied. */
typedef void (*journal_decode_fn)(enum journal_parsed_kind kind, json_t *root, void *slot,
                                  const void *decode_data);

/* Called in line order on the calling thread with the slot the decode
 * function filled; root is valid during the call only. FALSE stops the
 * reading: the lines already decoded are still handed over, for their
 * slots to be released, and their FALSE is expected. */
typedef gboolean (*journal_parsed_fn)(enum journal_parsed_kind kind, json_t *root, void *slot,
                                      void *data);

/* How a reading decodes and applies its lines. */
struct journal_parse_fns {
	journal_decode_fn decode;
	const void *decode_data; /* read-only while the reading runs */
	gsize slot_size;
	journal_parsed_fn apply;
	void *data;
};

struct journal_parse_counts {
	guint64 bytes;       /* read */
	guint64 read_errors; /* a read() that failed: the rest of the fd is left */
};

/* Segments at least this big are worth the parser threads. */
#define JOURNAL_PARSE_THREADED_ABOVE (512 * 1024)

/* Reads fd to its end (not closed) and hands each line to fns->decode,
 * then in order to fns->apply; threaded: parses and decodes on threads of
 * their own (a splitter and two parsers) while apply runs, else all on the
 * calling thread. FALSE when apply stopped it. */
gboolean journal_parse_fd(int fd, gboolean threaded, const struct journal_parse_fns *fns,
                          struct journal_parse_counts *counts);
