/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decoding one journal line (journal_decode.c): from jansson's value to a
 * struct line, every field checked against journal_format.h (types,
 * ranges, times that cannot be) and turned into a struct tracker_restore.
 * Decoding knows nothing of the reading so far, so the parser threads
 * run it (journal_parse.h); applying a decoded line to its boot's table,
 * in order, is journal_read.c's. Internal to those two files.
 */
#pragma once

#include <glib.h>
#include <jansson.h>

#include "journal_parse.h"
#include "journal_read.h"
#include "restore.h"

#define NS_PER_SEC G_GUINT64_CONSTANT(1000000000)
/* A process cannot start after the line that reports it (beyond the
 * rounding of ticks and a clock step). */
#define START_SLACK_NS (60 * NS_PER_SEC)

/* What decoding made of a line's JSON (decode_json()). */
enum line_state {
	LINE_NOT_JSON, /* not a parsed object: the parser's kind says what */
	LINE_INVALID,  /* its head (time, event, host, version) is missing or wrong */
	LINE_NEWER,    /* a newer format than this reader's */
	LINE_DECODED,  /* the head is good; process_ok says whether the rest is */
};

/* What one line says, before it is applied. Decoded on a parser thread
 * (decode_json()), applied in order (apply_line()). */
struct line {
	enum line_state state;
	gboolean process_ok; /* a process action whose fields are valid */
	int has_seq;         /* get_uint()'s answer for event.sequence */
	guint64 seq;
	int has_hz; /* an open line's lineagefs.hz, lineagefs.boot_realtime_ns */
	guint64 hz;
	int has_boot_realtime;
	guint64 boot_realtime_ns;
	int has_lost_lines; /* a gap line's lineagefs.lost_lines */
	guint64 lost_lines;
	guint64 timestamp_ns;
	const char *action;
	/* The ids point into ids below (copied there by the decoding thread,
	 * so that the applying thread reads them from the line it is given,
	 * not from scattered values of a tree another CPU built), the action
	 * to its JOURNAL_ACTION_* literal when it is a known one. */
	const char *host_id, *boot_id;
	const char *entity_id, *parent_entity_id;
	char ids[4][JOURNAL_ID_MAX + 1];
	gboolean has_start_ns;
	guint64 start_ns;
	gboolean end_is_timestamp; /* an exit line: process.end defaults to @timestamp */
	gboolean states_flags;     /* fork, exec, found, checkpoint: lineagefs.flags is all */
	gboolean implies_fork;     /* fork: fork_seen goes without saying */
	gboolean exec_line;
	struct tracker_restore rs;
	GPtrArray *owned; /* decoded bytes, joined strings and history entries, g_free'd */
};

/* Fills the zeroed l from a parsed line (root: NULL but for
 * JOURNAL_PARSED_JSON); decode_data is the reading's struct
 * journal_read_options. A journal_decode_fn. */
void journal_decode_line(enum journal_parsed_kind kind, json_t *root, void *l,
                         const void *decode_data);

/* Frees what decoding l allocated. */
void journal_line_clear(struct line *l);

/* Whether action is one of a process line's. */
gboolean journal_is_process_action(const char *action);
