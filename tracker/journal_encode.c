/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's encoder (see journal_encode.h and journal_format.h). Lines
 * are built by hand into a GString rather than through a JSON library's
 * object tree: the journal thread encodes several lines per process in a
 * fork storm, and a tree costs an allocation per field. The one delicate
 * part, strings, goes through journal_append_string(), which escapes what
 * JSON requires (quotes, backslashes, control bytes) and what breaks
 * JavaScript-based shippers (U+2028, U+2029), and never writes invalid
 * UTF-8: bytes that are not UTF-8 are written with U+FFFD in the ECS field
 * and exactly, in base64, in a lineagefs.*_b64 field. A process's context
 * and history are journal_encode_context.c's, written with the pieces
 * journal_encode-private.h shares.
 */
#include "config.h"
#include "journal_encode-private.h"

#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "tracker.h"

#define NS_PER_SEC 1000000000ull

static const char *const action_names[JOURNAL_ACTION_COUNT] = {
    [JOURNAL_FOUND] = JOURNAL_ACTION_FOUND,   [JOURNAL_FORK] = JOURNAL_ACTION_FORK,
    [JOURNAL_EXEC] = JOURNAL_ACTION_EXEC,     [JOURNAL_COMM] = JOURNAL_ACTION_COMM,
    [JOURNAL_UID] = JOURNAL_ACTION_UID,       [JOURNAL_GID] = JOURNAL_ACTION_GID,
    [JOURNAL_EXIT] = JOURNAL_ACTION_EXIT,     [JOURNAL_EXIT_MISSED] = JOURNAL_ACTION_EXIT_MISSED,
    [JOURNAL_FORGET] = JOURNAL_ACTION_FORGET, [JOURNAL_CHECKPOINT] = JOURNAL_ACTION_CHECKPOINT,
};

/* ECS event.type per action: a process found by a scan or written whole
 * by a checkpoint did not start then, so it is "info". */
static const char *const action_types[JOURNAL_ACTION_COUNT] = {
    [JOURNAL_FOUND] = "info",      [JOURNAL_FORK] = "start",      [JOURNAL_EXEC] = "start",
    [JOURNAL_COMM] = "change",     [JOURNAL_UID] = "change",      [JOURNAL_GID] = "change",
    [JOURNAL_EXIT] = "end",        [JOURNAL_EXIT_MISSED] = "end", [JOURNAL_FORGET] = "info",
    [JOURNAL_CHECKPOINT] = "info",
};

#define IMAGE  (JOURNAL_HAS_COMM | JOURNAL_HAS_EXE | JOURNAL_HAS_CMDLINE)
#define IDS    (JOURNAL_HAS_UIDS | JOURNAL_HAS_GIDS)
#define PARENT (JOURNAL_HAS_CREATOR | JOURNAL_HAS_CREATOR_START)
#define WHOLE                                                                                      \
	(PARENT | IMAGE | IDS | JOURNAL_HAS_EXIT | JOURNAL_HAS_COUNTS | JOURNAL_HAS_FLAGS |        \
	 JOURNAL_HAS_GUESS)

/* Every process line names the process (process.name) besides its
 * identity: a search for "process.name:curl AND event.action:exit" is what
 * a shipper's user writes. Past that, a line carries what its action
 * changed and no more: the journal is read back line by line, and a short
 * process (fork, exec, exit) should cost well under a kilobyte. */
static const guint32 action_fields[JOURNAL_ACTION_COUNT] = {
    [JOURNAL_FOUND] = WHOLE | JOURNAL_HAS_CONTEXT,
    /* A child runs its creator's image until it execs: the line says
     * "inherited" (JOURNAL_HAS_INHERITED) rather than repeating it. */
    [JOURNAL_FORK] =
        PARENT | IMAGE | IDS | JOURNAL_HAS_FLAGS | JOURNAL_HAS_GUESS | JOURNAL_HAS_INHERITED,
    [JOURNAL_EXEC] = IMAGE | IDS | JOURNAL_HAS_FLAGS | JOURNAL_HAS_GUESS | JOURNAL_HAS_FORK |
                     JOURNAL_HAS_CONTEXT,
    [JOURNAL_COMM] = JOURNAL_HAS_COMM,
    [JOURNAL_UID] = JOURNAL_HAS_COMM | JOURNAL_HAS_UIDS,
    [JOURNAL_GID] = JOURNAL_HAS_COMM | JOURNAL_HAS_GIDS,
    [JOURNAL_EXIT] = JOURNAL_HAS_COMM | JOURNAL_HAS_EXIT,
    [JOURNAL_EXIT_MISSED] = JOURNAL_HAS_COMM | JOURNAL_HAS_EXIT,
    [JOURNAL_FORGET] = 0,
    [JOURNAL_CHECKPOINT] = WHOLE | JOURNAL_HAS_CONTEXT,
};

/* lineagefs.flags: the record's flags that mean something outside the
 * table (not its eviction bookkeeping). */
static const struct {
	guint32 flag;
	const char *name;
} flag_names[] = {
    {LIN_PROC_KTHREAD, "kthread"},
    {LIN_PROC_CMDLINE_MISSED, "cmdline_missed"},
    {LIN_PROC_CMDLINE_TRUNCATED, "cmdline_truncated"},
    {LIN_PROC_FORK_SEEN, "fork_seen"},
    {LIN_PROC_LEADER_EXITED, "leader_exited"},
    {LIN_PROC_START_ESTIMATED, "start_estimated"},
    {LIN_PROC_FROM_SCAN, "from_scan"},
};

/* The flags lineagefs.flags can name. */
static guint32 flags_mask(void)
{
	guint32 mask = 0;

	for (gsize i = 0; i < G_N_ELEMENTS(flag_names); i++)
		mask |= flag_names[i].flag;
	return mask;
}

guint32 journal_action_fields(enum journal_action action)
{
	return (guint)action < JOURNAL_ACTION_COUNT ? action_fields[action] : 0;
}

const char *journal_action_name(enum journal_action action)
{
	return (guint)action < JOURNAL_ACTION_COUNT ? action_names[action] : "unknown";
}

/* The last ids computed on this thread, by pid: a short process's exec
 * and exit lines name it and its creator (the same shell for a whole
 * storm), so most ids were a SHA-256 computed moments before. Per thread,
 * so no lock: the journal thread is the one that encodes in bulk. */
#define ENTITY_CACHE_SLOTS 64

struct entity_cache {
	char machine_id[sizeof(((struct journal_host *)0)->machine_id)];
	char boot_id[sizeof(((struct journal_host *)0)->boot_id)];
	struct {
		guint64 start_ticks;
		pid_t pid; /* 0: empty */
		guint32 instance;
		char id[JOURNAL_ENTITY_ID_LEN];
	} slot[ENTITY_CACHE_SLOTS];
};

static __thread struct entity_cache entity_cache;

static void entity_id_compute(const struct journal_host *host, pid_t pid, guint64 start_ticks,
                              guint32 instance, char *out)
{
	g_autoptr(GChecksum) sum = g_checksum_new(G_CHECKSUM_SHA256);
	char key[256];
	int n = snprintf(key, sizeof(key), "%s/%s/%d/%" G_GUINT64_FORMAT "/%u", host->machine_id,
	                 host->boot_id, (int)pid, start_ticks, instance);

	g_checksum_update(sum, (const guchar *)key, (gssize)MIN((size_t)n, sizeof(key) - 1));
	memcpy(out, g_checksum_get_string(sum), JOURNAL_ENTITY_ID_LEN);
}

void journal_entity_id(const struct journal_host *host, pid_t pid, guint64 start_ticks,
                       guint32 instance, char *out)
{
	struct entity_cache *cache = &entity_cache;
	guint i = (guint)pid % ENTITY_CACHE_SLOTS;

	/* Another host (an earlier boot's checkpoint): start over. */
	if (memcmp(cache->machine_id, host->machine_id, sizeof(cache->machine_id)) != 0 ||
	    memcmp(cache->boot_id, host->boot_id, sizeof(cache->boot_id)) != 0) {
		memset(cache, 0, sizeof(*cache));
		memcpy(cache->machine_id, host->machine_id, sizeof(cache->machine_id));
		memcpy(cache->boot_id, host->boot_id, sizeof(cache->boot_id));
	}
	if (pid == 0 || cache->slot[i].pid != pid || cache->slot[i].start_ticks != start_ticks ||
	    cache->slot[i].instance != instance) {
		entity_id_compute(host, pid, start_ticks, instance, cache->slot[i].id);
		cache->slot[i].pid = pid;
		cache->slot[i].start_ticks = start_ticks;
		cache->slot[i].instance = instance;
	}
	memcpy(out, cache->slot[i].id, JOURNAL_ENTITY_ID_LEN);
	out[JOURNAL_ENTITY_ID_LEN] = '\0';
}

/* ---- numbers ---- */

/* Decimal numbers without printf: a line has a dozen of them, and
 * g_string_append_printf() (vasprintf and a malloc underneath) was a third
 * of the encoder's time. */
void journal_append_u64(GString *out, guint64 v)
{
	char buf[20];
	gsize at = sizeof(buf);

	do {
		buf[--at] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	journal_append_len(out, buf + at, sizeof(buf) - at);
}

void journal_append_int(GString *out, gint64 v)
{
	if (v < 0) {
		g_string_append_c(out, '-');
		journal_append_u64(out, (guint64)0 - (guint64)v);
		return;
	}
	journal_append_u64(out, (guint64)v);
}

/* A string that needs no escapes (names from this file's tables, hex). */
void journal_append_quoted(GString *out, const char *s)
{
	g_string_append_c(out, '"');
	journal_append_str(out, s);
	g_string_append_c(out, '"');
}

/* ---- strings ---- */

/* The bytes a JSON string holds as they are, and that are valid UTF-8 by
 * themselves: printable ASCII but the quote and the backslash. */
static const guint8 plain_ascii[256] = {
    [0x20 ... 0x21] = 1, /* '"' is 0x22 */
    [0x23 ... 0x5b] = 1, /* '\\' is 0x5c */
    [0x5d ... 0x7e] = 1,
};

/* Appends valid UTF-8 with JSON escapes, no quotes. Runs of bytes that
 * need none are copied at once. */
static void append_escaped_valid(GString *out, const char *s, gsize len)
{
	static const char hex[] = "0123456789abcdef";
	gsize run = 0;

	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)s[i];
		const char *esc = NULL;
		char u[7];

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f && c != 0xe2)
			continue;
		if (c == 0xe2) {
			/* U+2028 and U+2029 are JSON but end a JavaScript line. */
			if (i + 2 < len && (guchar)s[i + 1] == 0x80 &&
			    ((guchar)s[i + 2] == 0xa8 || (guchar)s[i + 2] == 0xa9))
				esc = (guchar)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
			else
				continue;
		} else if (c == '"') {
			esc = "\\\"";
		} else if (c == '\\') {
			esc = "\\\\";
		} else if (c == '\n') {
			esc = "\\n";
		} else if (c == '\t') {
			esc = "\\t";
		} else if (c == '\r') {
			esc = "\\r";
		} else {
			u[0] = '\\';
			u[1] = 'u';
			u[2] = '0';
			u[3] = '0';
			u[4] = hex[c >> 4];
			u[5] = hex[c & 0xf];
			u[6] = '\0';
			esc = u;
		}
		journal_append_len(out, s + run, i - run);
		journal_append_str(out, esc);
		if (c == 0xe2)
			i += 2;
		run = i + 1;
	}
	journal_append_len(out, s + run, len - run);
}

/* Appends s as JSON string contents (no quotes); FALSE when it was not
 * valid UTF-8 and U+FFFD stands for the invalid sequences. A NUL byte is
 * not valid here: these are C-level names and arguments, never holding one. */
static gboolean append_escaped(GString *out, const char *s, gsize len)
{
	g_autofree char *valid = NULL;
	gsize plain = 0;

	/* Most names, paths and arguments are printable ASCII: one pass,
	 * no UTF-8 validation, one copy. */
	while (plain < len && plain_ascii[(guchar)s[plain]])
		plain++;
	if (plain == len) {
		journal_append_len(out, s, len);
		return TRUE;
	}
	if (g_utf8_validate_len(s, len, NULL)) {
		append_escaped_valid(out, s, len);
		return TRUE;
	}
	valid = g_utf8_make_valid(s, (gssize)len);
	/* g_utf8_make_valid() replaces a NUL too (it is invalid within a
	 * given length): strlen() is the whole result. */
	append_escaped_valid(out, valid, strlen(valid));
	return FALSE;
}

gboolean journal_append_string(GString *out, const char *s, gsize len)
{
	gboolean valid;

	g_string_append_c(out, '"');
	valid = append_escaped(out, s, len);
	g_string_append_c(out, '"');
	return valid;
}

void journal_append_key(GString *out, gboolean *first, const char *key)
{
	if (!*first)
		g_string_append_c(out, ',');
	*first = FALSE;
	g_string_append_c(out, '"');
	journal_append_str(out, key);
	journal_append_str(out, "\":");
}

void journal_append_b64(GString *out, gboolean *first, const char *key, const char *s, gsize len)
{
	g_autofree char *b64 = g_base64_encode((const guchar *)s, len);

	journal_append_key(out, first, key);
	g_string_append_c(out, '"');
	journal_append_str(out, b64);
	g_string_append_c(out, '"');
}

/* ---- times ---- */

/* width digits of v, zero-padded; returns the end. */
static char *put_digits(char *at, guint v, int width)
{
	for (int i = width - 1; i >= 0; i--) {
		at[i] = (char)('0' + v % 10);
		v /= 10;
	}
	return at + width;
}

/* Appends "YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ" with its quotes; FALSE (and
 * nothing appended) beyond year 9999. */
gboolean journal_append_time(GString *out, guint64 seconds, guint32 nanos)
{
	/* The date and time of the last second formatted on this thread:
	 * the lines of a storm share a handful of seconds. */
	static __thread guint64 cached_seconds = G_MAXUINT64;
	static __thread char cached[sizeof("YYYY-MM-DDThh:mm:ss")];
	char text[sizeof("\"YYYY-MM-DDThh:mm:ss.nnnnnnnnnZ\"")];

	if (seconds > JOURNAL_ISO_MAX_SECONDS)
		return FALSE;
	if (seconds != cached_seconds) {
		time_t t = (time_t)seconds;
		struct tm tm;
		char *at = cached;

		if (gmtime_r(&t, &tm) == NULL)
			return FALSE;
		at = put_digits(at, (guint)tm.tm_year + 1900, 4);
		*at++ = '-';
		at = put_digits(at, (guint)tm.tm_mon + 1, 2);
		*at++ = '-';
		at = put_digits(at, (guint)tm.tm_mday, 2);
		*at++ = 'T';
		at = put_digits(at, (guint)tm.tm_hour, 2);
		*at++ = ':';
		at = put_digits(at, (guint)tm.tm_min, 2);
		*at++ = ':';
		at = put_digits(at, (guint)tm.tm_sec, 2);
		*at = '\0';
		cached_seconds = seconds;
	}
	text[0] = '"';
	memcpy(text + 1, cached, sizeof(cached) - 1);
	text[sizeof(cached)] = '.';
	put_digits(text + sizeof(cached) + 1, nanos % NS_PER_SEC, 9);
	text[sizeof(text) - 3] = 'Z';
	text[sizeof(text) - 2] = '"';
	journal_append_len(out, text, sizeof(text) - 1);
	return TRUE;
}

gboolean journal_append_time_ns(GString *out, guint64 ns)
{
	return journal_append_time(out, ns / NS_PER_SEC, (guint32)(ns % NS_PER_SEC));
}

/* process.start: the boot's wall clock plus the start ticks, without
 * overflow for absurd ticks (they are left out then). */
static void append_start(GString *out, gboolean *first, const struct journal_host *host,
                         guint64 start_ticks)
{
	guint hz = host->hz ? host->hz : 100;
	guint64 boot_s = host->boot_realtime_ns / NS_PER_SEC;
	guint64 ticks_s = start_ticks / hz;
	guint64 nanos = host->boot_realtime_ns % NS_PER_SEC + (start_ticks % hz) * NS_PER_SEC / hz;
	gsize before;

	if (ticks_s > JOURNAL_ISO_MAX_SECONDS || boot_s > JOURNAL_ISO_MAX_SECONDS)
		return;
	/* pid came first: the key's comma is part of what is undone. */
	before = out->len;
	journal_append_key(out, first, "start");
	if (!journal_append_time(out, boot_s + ticks_s + nanos / NS_PER_SEC,
	                         (guint32)(nanos % NS_PER_SEC)))
		g_string_truncate(out, before);
}

/* ---- the line's common parts ---- */

void journal_append_head(GString *out, const struct journal_host *host, guint64 event_ns,
                         const char *kind, const char *type, const char *action, guint64 seq)
{
	journal_append_str(out, "{\"@timestamp\":");
	if (!journal_append_time_ns(out, event_ns))
		journal_append_time(out, JOURNAL_ISO_MAX_SECONDS, 0);
	journal_append_str(out, ",\"event\":{\"kind\":");
	journal_append_quoted(out, kind);
	journal_append_str(out, ",\"category\":[\"process\"],\"type\":[");
	journal_append_quoted(out, type);
	journal_append_str(out, "],\"action\":");
	journal_append_quoted(out, action);
	journal_append_str(out, ",\"sequence\":");
	journal_append_u64(out, seq & G_MAXINT64);
	journal_append_str(out, "},\"host\":{\"id\":");
	journal_append_string(out, host->machine_id,
	                      strnlen(host->machine_id, sizeof(host->machine_id)));
	journal_append_str(out, ",\"boot\":{\"id\":");
	journal_append_string(out, host->boot_id, strnlen(host->boot_id, sizeof(host->boot_id)));
	journal_append_str(out, "}}");
}

/* ---- process lines ---- */

/* The cmdline bytes process.args and process.command_line show: at most
 * JOURNAL_CMDLINE_MAX, the middle cut out (the whole goes to
 * lineagefs.cmdline_b64). Returns a buffer to free, or NULL when proc's own
 * bytes serve. */
char *journal_cut_cmdline(const char *cmdline, gsize cmdline_len, gsize *len)
{
	gsize half = JOURNAL_CMDLINE_MAX / 2;
	char *cut;

	*len = cmdline_len;
	if (cmdline_len <= JOURNAL_CMDLINE_MAX)
		return NULL;
	cut = g_malloc(JOURNAL_CMDLINE_MAX);
	memcpy(cut, cmdline, half);
	memcpy(cut + half, cmdline + cmdline_len - half, half);
	*len = JOURNAL_CMDLINE_MAX;
	return cut;
}

/*
 * process.args and process.command_line from the NUL-separated cmdline.
 * The reader rebuilds the bytes as the args joined by NUL plus one final
 * NUL; when that would not give them back (bytes that are not UTF-8, no
 * final NUL as after a setproctitle()), the exact bytes go to
 * lineagefs.cmdline_b64. Returns whether they must.
 */
/* The JSON array of the NUL-terminated strings in cmd[0..len); FALSE when
 * it does not give the bytes back (see append_args()). */
gboolean journal_append_string_array(GString *out, const char *cmd, gsize len)
{
	gsize body = len > 0 && cmd[len - 1] == '\0' ? len - 1 : len;
	gboolean exact = body < len;
	gsize start = 0;

	g_string_append_c(out, '[');
	for (gsize i = 0; i <= body; i++) {
		if (i < body && cmd[i] != '\0')
			continue;
		if (start > 0)
			g_string_append_c(out, ',');
		if (!journal_append_string(out, cmd + start, i - start))
			exact = FALSE;
		start = i + 1;
	}
	g_string_append_c(out, ']');
	return exact;
}

static gboolean append_args(GString *out, gboolean *first, const char *cmd, gsize len)
{
	gsize body = len > 0 && cmd[len - 1] == '\0' ? len - 1 : len;
	gboolean exact;
	gsize start;

	journal_append_key(out, first, "args");
	exact = journal_append_string_array(out, cmd, len);

	journal_append_key(out, first, "command_line");
	g_string_append_c(out, '"');
	start = 0;
	for (gsize i = 0; i <= body; i++) {
		if (i < body && cmd[i] != '\0')
			continue;
		if (start > 0)
			g_string_append_c(out, ' ');
		append_escaped(out, cmd + start, i - start);
		start = i + 1;
	}
	g_string_append_c(out, '"');
	return !exact;
}

static void append_id(GString *out, gboolean *first, const char *key, guint32 id)
{
	journal_append_key(out, first, key);
	journal_append_str(out, "{\"id\":\"");
	journal_append_u64(out, id);
	journal_append_str(out, "\"}");
}

/* lineagefs.exit, for what process.exit_code cannot say: a signal (with
 * the raw wait status, so core_dumped round-trips) or an unknown end. */
static void append_exit(GString *out, gboolean *first, const struct journal_proc *proc)
{
	guint32 status = proc->exit_status;
	const char *abbrev;

	if (proc->exit_kind == LIN_EXIT_CODE)
		return;
	journal_append_key(out, first, "exit");
	if (proc->exit_kind != LIN_EXIT_SIGNAL) {
		journal_append_str(out, "{\"kind\":\"unknown\"}");
		return;
	}
	g_string_append_printf(out, "{\"kind\":\"signal\",\"status\":%u", status);
	abbrev = sigabbrev_np((int)(status & 0x7f));
	if (abbrev)
		g_string_append_printf(out, ",\"signal\":\"SIG%s\"", abbrev);
	if (WCOREDUMP(status))
		journal_append_str(out, ",\"core_dumped\":true");
	g_string_append_c(out, '}');
}

/* lineagefs.creator_guess: the parent the kernel reported may not have
 * made the process (clone(CLONE_PARENT)); candidates as [pid, start_ticks,
 * instance]. */
static void append_guess(GString *out, gboolean *first, const struct lin_creator_guess *guess)
{
	guint named = MIN(guess->count, LIN_CANDIDATES_MAX);

	journal_append_key(out, first, "creator_guess");
	g_string_append_printf(out, "{\"check\":\"%s\",\"count\":%u,\"candidates\":[",
	                       guess->check == LIN_PARENT_NOT_CREATOR ? "not_creator"
	                       : guess->check == LIN_PARENT_UNCERTAIN ? "uncertain"
	                                                              : "creator",
	                       guess->count);
	for (guint i = 0; i < named; i++)
		g_string_append_printf(out, "%s[%d,%" G_GUINT64_FORMAT ",%u]", i ? "," : "",
		                       (int)guess->candidates[i].pid,
		                       guess->candidates[i].start_ticks & G_MAXINT64,
		                       guess->candidates[i].instance);
	journal_append_str(out, "]}");
}

guint journal_encode_process(GString *out, const struct journal_host *host,
                             enum journal_action action, guint64 event_ns, guint64 seq,
                             const struct journal_proc *proc)
{
	gsize line_start = out->len;
	guint hist_done = proc->ctx.hist_count;
	guint32 fields = journal_action_fields(action) & (proc->has | JOURNAL_HAS_FLAGS);
	gboolean whole = action == JOURNAL_CHECKPOINT || action == JOURNAL_FOUND;
	gboolean exited = (fields & JOURNAL_HAS_EXIT) && proc->exit_kind != LIN_EXIT_RUNNING;
	gboolean inherited = (fields & JOURNAL_HAS_INHERITED) != 0;
	/* A line that starts the process in the reader's eyes. */
	gboolean starts = whole || action == JOURNAL_FORK || (fields & JOURNAL_HAS_FORK);
	char id[JOURNAL_ENTITY_ID_LEN + 1];
	g_autofree char *cut = NULL;
	gboolean comm_inexact = FALSE, exe_inexact = FALSE, cmdline_inexact = FALSE;
	gboolean ctx_inexact[3] = {FALSE, FALSE, FALSE};
	gboolean with_ctx = (fields & JOURNAL_HAS_CONTEXT) != 0;
	const char *cmdline = proc->cmdline;
	gsize cmdline_len = 0;
	guint32 flags = proc->flags;
	gboolean first = TRUE;

	if ((guint)action >= JOURNAL_ACTION_COUNT)
		action = JOURNAL_CHECKPOINT;
	if (fields & JOURNAL_HAS_FORK)
		fields |= PARENT;
	/* Inherited: the image and ids are the creator's, not written. */
	if (inherited)
		fields &= ~(JOURNAL_HAS_EXE | JOURNAL_HAS_CMDLINE | IDS);
	journal_append_head(out, host, event_ns, whole ? "state" : "event", action_types[action],
	                    action_names[action], seq);

	journal_append_str(out, ",\"process\":{");
	journal_entity_id(host, proc->pid, proc->start_ticks, proc->instance, id);
	journal_append_key(out, &first, "entity_id");
	journal_append_quoted(out, id);
	journal_append_key(out, &first, "pid");
	journal_append_int(out, proc->pid);
	if (starts)
		append_start(out, &first, host, proc->start_ticks);
	if ((fields & JOURNAL_HAS_COMM) && proc->comm) {
		journal_append_key(out, &first, "name");
		comm_inexact = !journal_append_string(out, proc->comm, proc->comm_len);
	}
	if ((fields & JOURNAL_HAS_EXE) && proc->exe) {
		journal_append_key(out, &first, "executable");
		exe_inexact = !journal_append_string(out, proc->exe, proc->exe_len);
	}
	if ((fields & JOURNAL_HAS_CMDLINE) && proc->cmdline && proc->cmdline_len > 0) {
		cut = journal_cut_cmdline(proc->cmdline, proc->cmdline_len, &cmdline_len);
		if (cut)
			cmdline = cut;
		/* A cut one's exact bytes, whole, go to cmdline_b64. */
		cmdline_inexact = append_args(out, &first, cmdline, cmdline_len) || cut;
	}
	if ((fields & JOURNAL_HAS_CREATOR) && proc->creator_pid > 0) {
		journal_append_key(out, &first, "parent");
		g_string_append_c(out, '{');
		if (fields & JOURNAL_HAS_CREATOR_START) {
			journal_entity_id(host, proc->creator_pid, proc->creator_start_ticks,
			                  proc->creator_instance, id);
			journal_append_str(out, "\"entity_id\":");
			journal_append_quoted(out, id);
			g_string_append_c(out, ',');
		}
		journal_append_str(out, "\"pid\":");
		journal_append_int(out, proc->creator_pid);
		g_string_append_c(out, '}');
	}
	/* real_user and real_group only when they differ: a reader takes the
	 * effective id for both otherwise. */
	if (fields & JOURNAL_HAS_UIDS) {
		append_id(out, &first, "user", proc->euid);
		if (proc->ruid != proc->euid)
			append_id(out, &first, "real_user", proc->ruid);
	}
	if (fields & JOURNAL_HAS_GIDS) {
		append_id(out, &first, "group", proc->egid);
		if (proc->rgid != proc->egid)
			append_id(out, &first, "real_group", proc->rgid);
	}
	if (exited) {
		/* An exit line's end is its @timestamp; said again only when
		 * they differ (and in checkpoints). */
		if (proc->exit_ns && (action != JOURNAL_EXIT || proc->exit_ns != event_ns)) {
			gsize before = out->len;

			journal_append_key(out, &first, "end");
			if (!journal_append_time_ns(out, proc->exit_ns))
				g_string_truncate(out, before);
		}
		if (proc->exit_kind == LIN_EXIT_CODE) {
			journal_append_key(out, &first, "exit_code");
			journal_append_u64(out, (proc->exit_status >> 8) & 0xff);
		}
	}
	if (with_ctx)
		journal_append_process_context(out, &first, &proc->ctx, ctx_inexact);
	g_string_append_c(out, '}');
	if (with_ctx)
		journal_append_container(out, &proc->ctx);
	journal_append_str(out, ",\"lineagefs\":{");

	first = TRUE;
	journal_append_key(out, &first, "v");
	journal_append_int(out, JOURNAL_FORMAT_VERSION);
	/* JSON readers hold integers in an int64: a larger value (only
	 * from corrupt input) would make the whole line unreadable. */
	if (proc->start_ticks <= G_MAXINT64) {
		journal_append_key(out, &first, "start_ticks");
		journal_append_u64(out, proc->start_ticks);
	}
	if (proc->instance != 1) {
		journal_append_key(out, &first, "instance");
		journal_append_u64(out, proc->instance);
	}
	if (inherited) {
		journal_append_key(out, &first, "image");
		journal_append_str(out, "\"inherited\"");
	}
	/* A fork, or an exec that tells its fork, implies fork_seen; a plain
	 * exec states only its image's flags; no flags: no key. */
	if (action == JOURNAL_FORK || (fields & JOURNAL_HAS_FORK))
		flags &= ~(guint32)LIN_PROC_FORK_SEEN;
	else if (action == JOURNAL_EXEC)
		flags &= LIN_PROC_KTHREAD | LIN_PROC_CMDLINE_MISSED | LIN_PROC_CMDLINE_TRUNCATED;
	if (!(flags & flags_mask()))
		fields &= ~(guint32)JOURNAL_HAS_FLAGS;
	if ((fields & JOURNAL_HAS_FLAGS) && (starts || action == JOURNAL_EXEC)) {
		gboolean first_flag = TRUE;

		journal_append_key(out, &first, "flags");
		g_string_append_c(out, '[');
		for (gsize i = 0; i < G_N_ELEMENTS(flag_names); i++) {
			if (!(flags & flag_names[i].flag))
				continue;
			if (!first_flag)
				g_string_append_c(out, ',');
			first_flag = FALSE;
			journal_append_quoted(out, flag_names[i].name);
		}
		g_string_append_c(out, ']');
	}
	if ((fields & JOURNAL_HAS_COUNTS) && whole) {
		journal_append_key(out, &first, "execs");
		journal_append_u64(out, proc->exec_count);
		if (proc->threads > 0) {
			journal_append_key(out, &first, "threads");
			journal_append_u64(out, proc->threads);
		}
	}
	if (exited)
		append_exit(out, &first, proc);
	if ((fields & JOURNAL_HAS_GUESS) && (proc->has & JOURNAL_HAS_GUESS))
		append_guess(out, &first, &proc->guess);
	if ((fields & JOURNAL_HAS_CMDLINE) && proc->cmdline && proc->cmdline_len > 0) {
		if (proc->cmdline_full_len > 0) {
			journal_append_key(out, &first, "cmdline_full_len");
			journal_append_u64(out, proc->cmdline_full_len);
		}
		if (proc->cmdline_sha256) {
			journal_append_key(out, &first, "cmdline_sha256");
			journal_append_string(out, proc->cmdline_sha256,
			                      strlen(proc->cmdline_sha256));
		}
	}
	if (cut) {
		journal_append_key(out, &first, "args_cut");
		journal_append_str(out, "true");
	}
	if (cmdline_inexact)
		journal_append_b64(out, &first, "cmdline_b64", proc->cmdline, proc->cmdline_len);
	if (comm_inexact)
		journal_append_b64(out, &first, "comm_b64", proc->comm, proc->comm_len);
	if (exe_inexact)
		journal_append_b64(out, &first, "exe_b64", proc->exe, proc->exe_len);
	if (with_ctx)
		journal_append_lineagefs_context(out, &first, &proc->ctx, ctx_inexact, event_ns,
		                                 line_start, &hist_done);
	journal_append_str(out, "}}\n");
	return hist_done;
}

void journal_encode_open(GString *out, const struct journal_host *host, guint64 now_ns, guint64 seq,
                         guint64 segment)
{
	journal_append_head(out, host, now_ns, "state", "info", JOURNAL_ACTION_OPEN, seq);
	g_string_append_printf(
	    out,
	    ",\"lineagefs\":{\"v\":%d,\"segment\":%" G_GUINT64_FORMAT
	    ",\"hz\":%u,\"boot_realtime_ns\":%" G_GUINT64_FORMAT ",\"version\":\"%s\"}}\n",
	    JOURNAL_FORMAT_VERSION, segment & G_MAXINT64, host->hz ? host->hz : 100,
	    host->boot_realtime_ns & G_MAXINT64, LINEAGEFS_VERSION);
}

void journal_encode_gap(GString *out, const struct journal_host *host, guint64 now_ns, guint64 seq,
                        guint64 lost_lines)
{
	journal_append_head(out, host, now_ns, "pipeline_error", "info", JOURNAL_ACTION_GAP, seq);
	g_string_append_printf(out,
	                       ",\"lineagefs\":{\"v\":%d,\"lost_lines\":%" G_GUINT64_FORMAT "}}\n",
	                       JOURNAL_FORMAT_VERSION, lost_lines & G_MAXINT64);
}
