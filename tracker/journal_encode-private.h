/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the two rooms of the journal's encoder share, private to them:
 * journal_encode.c writes the process, open and gap lines and the JSON
 * pieces every line is made of (keys, numbers, strings, times, base64,
 * the head each line starts with); journal_encode_context.c the forensic
 * context and history of a process (context.h) with those pieces, in
 * found, checkpoint and exec lines and in the "history" lines that carry
 * the rest of a long history. Every call appends to out; first is the
 * caller's "no key written yet in this object".
 */
#pragma once

#include <string.h>

#include "journal_encode.h"

/* 9999-12-31T23:59:59Z: ISO 8601 without an expanded year. */
#define JOURNAL_ISO_MAX_SECONDS 253402300799ull

/* Appends without a call when the buffer has room, as it nearly always has
 * (the journal thread's is sized for a batch): in this GLib every
 * g_string_append() and g_string_append_len() is a call into
 * g_string_insert_len(), and a line makes dozens of them. */
static inline void journal_append_len(GString *out, const char *s, gsize len)
{
	if (len == 0)
		return;
	if (G_LIKELY(out->len + len < out->allocated_len)) {
		memcpy(out->str + out->len, s, len);
		out->len += len;
		out->str[out->len] = '\0';
		return;
	}
	g_string_append_len(out, s, (gssize)len);
}

static inline void journal_append_str(GString *out, const char *s)
{
	if (s)
		journal_append_len(out, s, strlen(s));
}

/* ---- journal_encode.c ---- */

/* Decimal numbers, without printf. */
void journal_append_u64(GString *out, guint64 v);
void journal_append_int(GString *out, gint64 v);
/* A string that needs no escapes (names from the encoder's tables, hex). */
void journal_append_quoted(GString *out, const char *s);
/* "key": after a comma unless it is the object's first. */
void journal_append_key(GString *out, gboolean *first, const char *key);
/* "key":"<s[0..len) in base64>". */
void journal_append_b64(GString *out, gboolean *first, const char *key, const char *s, gsize len);
/* A quoted ISO 8601 time; FALSE (and nothing appended) beyond year 9999. */
gboolean journal_append_time(GString *out, guint64 seconds, guint32 nanos);
gboolean journal_append_time_ns(GString *out, guint64 ns);
/* The JSON array of the NUL-terminated strings in cmd[0..len); FALSE when
 * it does not give the bytes back. */
gboolean journal_append_string_array(GString *out, const char *cmd, gsize len);
/* What every line starts with: @timestamp, event and host. */
void journal_append_head(GString *out, const struct journal_host *host, guint64 event_ns,
                         const char *kind, const char *type, const char *action, guint64 seq);
/* A command line over JOURNAL_CMDLINE_MAX with its middle cut out, to
 * free; NULL when the bytes serve as they are. *len: what to show. */
char *journal_cut_cmdline(const char *cmdline, gsize cmdline_len, gsize *len);

/* ---- journal_encode_context.c ---- */

/* Into process: working_directory, tty, session_leader, group_leader,
 * hash, env_vars and vpid; inexact[] says which strings were not UTF-8,
 * for journal_append_lineagefs_context(). */
void journal_append_process_context(GString *out, gboolean *first, const struct lin_context_copy *c,
                                    gboolean inexact[3]);
/* After process: container.id and container.runtime, from the cgroup. */
void journal_append_container(GString *out, const struct lin_context_copy *c);
/* Into lineagefs: the rest of the context, the exact bytes of its strings
 * that were not UTF-8, and as much of the history as the line begun at
 * line_start holds (*hist_done: how many entries). */
void journal_append_lineagefs_context(GString *out, gboolean *first,
                                      const struct lin_context_copy *c, const gboolean inexact[3],
                                      guint64 event_ns, gsize line_start, guint *hist_done);
