/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Decoding one journal line (see journal_decode.h): field access that
 * tells absent from invalid, then the process, its exit, command line,
 * creator guess, context and history, each bounded before it sizes
 * anything: a journal may be copied from a compromised host and replayed
 * by an analyst. Runs on the parser threads: nothing here reads or
 * changes the reading's state.
 */
#include "config.h"
#include "journal_decode.h"

#include <string.h>

#include "journal_format.h"

/* Bounds of the strings a process has (the kernel's are smaller). */
#define COMM_MAX 256
#define EXE_MAX  (4096 + 64)
/* Holders of one pid within one clock tick: far fewer in practice. */
#define INSTANCE_MAX 65535

void journal_line_clear(struct line *l)
{
	if (l->owned)
		g_ptr_array_unref(l->owned);
}

static gpointer line_own(struct line *l, gpointer data)
{
	if (!l->owned)
		l->owned = g_ptr_array_new_with_free_func(g_free);
	g_ptr_array_add(l->owned, data);
	return data;
}

/* ---- field access: each returns 1 present and valid, 0 absent, -1 invalid ---- */

static int get_object(json_t *obj, const char *key, json_t **out)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_object(v))
		return -1;
	*out = v;
	return 1;
}

static int get_string(json_t *obj, const char *key, const char **out, gsize *len)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return -1;
	*out = json_string_value(v);
	if (len)
		*len = json_string_length(v);
	return 1;
}

static int get_uint(json_t *obj, const char *key, guint64 max, guint64 *out)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;
	json_int_t i;

	if (!v || json_is_null(v))
		return 0;
	if (!json_is_integer(v))
		return -1;
	i = json_integer_value(v);
	if (i < 0 || (guint64)i > max)
		return -1;
	*out = (guint64)i;
	return 1;
}

/* An id, as ECS spells them: a string of decimal digits ("1000"). */
static int get_id(json_t *obj, const char *key, guint32 *out)
{
	const char *text;
	guint64 v = 0;
	int ret = get_string(obj, key, &text, NULL);

	if (ret <= 0)
		return ret;
	if (text[0] == '\0' || strlen(text) > 10)
		return -1;
	for (const char *p = text; *p; p++) {
		if (!g_ascii_isdigit(*p))
			return -1;
		v = v * 10 + (guint64)(*p - '0');
	}
	/* (uid_t)-1 means "no change" to the kernel, never an id. */
	if (v >= G_MAXUINT32)
		return -1;
	*out = (guint32)v;
	return 1;
}

static int get_timestamp(json_t *obj, const char *key, guint64 *out)
{
	const char *text;
	int ret = get_string(obj, key, &text, NULL);

	if (ret <= 0)
		return ret;
	return journal_parse_timestamp(text, out) ? 1 : -1;
}

/* host.id, boot ids and entity ids: short, and only what ids are made of,
 * since they become directory names. */
static gboolean valid_id(const char *id)
{
	gsize n = 0;

	for (const char *p = id; *p; p++, n++)
		if (!g_ascii_isxdigit(*p) && *p != '-')
			return FALSE;
	return n > 0 && n <= JOURNAL_ID_MAX;
}

static int get_valid_id(json_t *obj, const char *key, const char **out)
{
	int ret = get_string(obj, key, out, NULL);

	if (ret == 1 && !valid_id(*out))
		return -1;
	return ret;
}

/* Strict base64 (g_base64_decode() skips what is not base64). */
static int get_base64(json_t *obj, const char *key, guchar **out, gsize *len)
{
	const char *text;
	gsize text_len;
	int ret = get_string(obj, key, &text, &text_len);

	if (ret <= 0)
		return ret;
	if (text_len % 4 != 0)
		return -1;
	for (gsize i = 0; i < text_len; i++) {
		char c = text[i];

		if (!g_ascii_isalnum(c) && c != '+' && c != '/' && !(c == '=' && i + 2 >= text_len))
			return -1;
	}
	*out = g_base64_decode(text, len);
	return 1;
}

/* A string of at most max bytes: its exact bytes from key_b64 under
 * lineagefs when present, else the UTF-8 value of key in obj. 1, 0
 * (absent) or -1. */
static int get_exact(struct line *l, json_t *obj, const char *key, json_t *lineagefs,
                     const char *key_b64, gsize max, const char **out, gsize *len)
{
	guchar *bytes = NULL;
	int ret = lineagefs ? get_base64(lineagefs, key_b64, &bytes, len) : 0;

	if (ret == 1)
		*out = line_own(l, bytes);
	else if (ret == 0)
		ret = get_string(obj, key, out, len);
	if (ret == 1 && *len > max)
		return -1;
	return ret;
}

/* ---- one line ---- */

static const struct {
	const char *name;
	guint16 flag;
} flag_names[] = {
    {"kthread", LIN_PROC_KTHREAD},
    {"cmdline_missed", LIN_PROC_CMDLINE_MISSED},
    {"cmdline_truncated", LIN_PROC_CMDLINE_TRUNCATED},
    {"fork_seen", LIN_PROC_FORK_SEEN},
    {"from_scan", LIN_PROC_FROM_SCAN},
    {"start_estimated", LIN_PROC_START_ESTIMATED},
};

static gboolean parse_flags(json_t *array, guint16 *out)
{
	gsize i;
	json_t *v;

	if (!json_is_array(array) || json_array_size(array) > 64)
		return FALSE;
	*out = 0;
	json_array_foreach(array, i, v)
	{
		if (!json_is_string(v))
			return FALSE;
		/* Names this reader does not know are a newer writer's. */
		for (gsize k = 0; k < G_N_ELEMENTS(flag_names); k++)
			if (strcmp(json_string_value(v), flag_names[k].name) == 0)
				*out |= flag_names[k].flag;
	}
	return TRUE;
}

/* process.args joined as /proc/<pid>/cmdline holds them: one argument
 * is its string with the NUL after it (jansson keeps one), more are
 * copied into bytes the line owns. */
static gboolean parse_args(struct line *l, json_t *array, const char **out, gsize *len)
{
	gsize i, total = 0;
	json_t *v;
	char *at;

	if (!json_is_array(array))
		return FALSE;
	json_array_foreach(array, i, v)
	{
		if (!json_is_string(v))
			return FALSE;
		total += json_string_length(v) + 1;
	}
	if (json_array_size(array) == 1) {
		*out = json_string_value(json_array_get(array, 0));
		*len = total;
		return TRUE;
	}
	at = line_own(l, g_malloc(MAX(total, 1)));
	*out = at;
	*len = total;
	json_array_foreach(array, i, v)
	{
		memcpy(at, json_string_value(v), json_string_length(v) + 1);
		at += json_string_length(v) + 1;
	}
	return TRUE;
}

static gboolean parse_exit(json_t *process, json_t *lineagefs, gboolean is_exit, struct line *l)
{
	struct tracker_restore *rs = &l->rs;
	json_t *exit = NULL;
	const char *kind = NULL;
	guint64 status = 0, code = 0, end = 0;
	int has_status, has_code, has_end;

	if (get_object(lineagefs, "exit", &exit) < 0 || get_string(exit, "kind", &kind, NULL) < 0)
		return FALSE;
	has_status = get_uint(exit, "status", 0xffff, &status);
	has_code = get_uint(process, "exit_code", 255, &code);
	has_end = get_timestamp(process, "end", &end);
	if (has_status < 0 || has_code < 0 || has_end < 0)
		return FALSE;
	if (!kind && has_status == 0 && has_code == 0 && has_end == 0)
		return TRUE; /* nothing said of an exit */
	if (kind && strcmp(kind, "unknown") == 0) {
		rs->exit_kind = LIN_EXIT_UNKNOWN;
		status = 0;
	} else if (has_status == 1) {
		/* The raw wait status decides, as WIFSIGNALED() would. */
		rs->exit_kind = (status & 0x7f) ? LIN_EXIT_SIGNAL : LIN_EXIT_CODE;
		if ((status & 0x7f) == 0x7f)
			return FALSE; /* "stopped": never an exit */
	} else if (has_code == 1) {
		rs->exit_kind = LIN_EXIT_CODE;
		status = code << 8;
	} else if (kind && (strcmp(kind, "code") == 0 || strcmp(kind, "signal") == 0)) {
		return FALSE; /* an exit with a kind needs its status */
	} else {
		rs->exit_kind = LIN_EXIT_UNKNOWN;
	}
	rs->exit_status = (guint32)status;
	/* An exit line's end is its @timestamp unless it says otherwise. */
	rs->exit_ns = has_end == 1 ? end : is_exit && l->end_is_timestamp ? l->timestamp_ns : 0;
	rs->has |= TRACKER_RESTORE_EXIT;
	return TRUE;
}

/* lineagefs.cmdline_full_len and cmdline_sha256, with the bytes. */
static gboolean parse_cmdline_meta(json_t *lineagefs, struct tracker_restore *rs)
{
	guint64 full_len;
	gsize len;
	int ret = get_uint(lineagefs, "cmdline_full_len", G_MAXUINT32, &full_len);

	if (ret < 0)
		return FALSE;
	rs->cmdline_full_len = ret == 1 ? (guint32)full_len : 0;
	ret = get_string(lineagefs, "cmdline_sha256", &rs->cmdline_sha256, &len);
	if (ret < 0)
		return FALSE;
	if (ret == 0) {
		rs->cmdline_sha256 = NULL;
		return TRUE;
	}
	if (len != 64)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isxdigit(rs->cmdline_sha256[i]))
			return FALSE;
	return TRUE;
}

/* lineagefs.creator_guess: {"check", "count", "candidates": [[pid,
 * start_ticks, instance], ...]}. */
static gboolean parse_guess(json_t *obj, struct lin_creator_guess *guess)
{
	const char *check;
	json_t *candidates, *c;
	guint64 count;
	gsize i;

	if (!json_is_object(obj) || get_string(obj, "check", &check, NULL) != 1 ||
	    get_uint(obj, "count", LIN_PID_MAX, &count) != 1)
		return FALSE;
	memset(guess, 0, sizeof(*guess));
	if (strcmp(check, "not_creator") == 0)
		guess->check = LIN_PARENT_NOT_CREATOR;
	else if (strcmp(check, "uncertain") == 0)
		guess->check = LIN_PARENT_UNCERTAIN;
	else if (strcmp(check, "creator") == 0)
		guess->check = LIN_PARENT_IS_CREATOR;
	else
		return FALSE;
	guess->count = (guint)count;
	candidates = json_object_get(obj, "candidates");
	if (!json_is_array(candidates) || json_array_size(candidates) > LIN_CANDIDATES_MAX ||
	    json_array_size(candidates) > count)
		return FALSE;
	json_array_foreach(candidates, i, c)
	{
		json_t *pid = json_array_get(c, 0), *start = json_array_get(c, 1),
		       *instance = json_array_get(c, 2);

		if (!json_is_array(c) || json_array_size(c) != 3 || !json_is_integer(pid) ||
		    !json_is_integer(start) || !json_is_integer(instance) ||
		    json_integer_value(pid) <= 0 || json_integer_value(pid) > LIN_PID_MAX ||
		    json_integer_value(start) < 0 || json_integer_value(instance) <= 0 ||
		    json_integer_value(instance) > INSTANCE_MAX)
			return FALSE;
		guess->candidates[i].pid = (pid_t)json_integer_value(pid);
		guess->candidates[i].start_ticks = (guint64)json_integer_value(start);
		guess->candidates[i].instance = (guint32)json_integer_value(instance);
	}
	return TRUE;
}

/* Fills l from a process line's "process" and "lineagefs" objects.
 * FALSE: a wrong type or an absurd value. */
static gboolean parse_context(struct line *l, json_t *process, json_t *lineagefs, gboolean whole);

static gboolean parse_process(const struct journal_read_options *opts, json_t *process,
                              json_t *lineagefs, gboolean is_exit, gboolean whole, struct line *l)
{
	struct tracker_restore *rs = &l->rs;
	json_t *parent = NULL, *user = NULL, *real_user = NULL, *group = NULL, *real_group = NULL;
	json_t *v;
	guint64 pid, start_ticks, value;
	guint32 id, real_id;
	const char *text;
	guchar *bytes = NULL;
	int ret;

	if (get_uint(process, "pid", LIN_PID_MAX, &pid) != 1 || pid == 0 ||
	    get_uint(lineagefs, "start_ticks", G_MAXINT64, &start_ticks) != 1 ||
	    get_valid_id(process, "entity_id", &l->entity_id) < 0)
		return FALSE;
	rs->pid = (pid_t)pid;
	rs->start_ticks = start_ticks;
	ret = get_uint(lineagefs, "instance", INSTANCE_MAX, &value);
	if (ret < 0 || (ret == 1 && value == 0))
		return FALSE;
	rs->instance = ret == 1 ? (guint32)value : 1;

	ret = get_timestamp(process, "start", &l->start_ns);
	if (ret < 0)
		return FALSE;
	l->has_start_ns = ret == 1;
	/* Started after the line that reports it, or before the boot. */
	if (l->has_start_ns && l->start_ns > l->timestamp_ns + START_SLACK_NS)
		return FALSE;

	if (get_object(process, "parent", &parent) < 0 ||
	    get_valid_id(parent, "entity_id", &l->parent_entity_id) < 0)
		return FALSE;
	ret = get_uint(parent, "pid", LIN_PID_MAX, &value);
	if (ret < 0)
		return FALSE;
	if (ret == 1) {
		rs->creator_pid = (pid_t)value;
		rs->has |= TRACKER_RESTORE_CREATOR;
	}

	/* Exact bytes first; the UTF-8 fields only when they are exact. */
	ret = get_exact(l, process, "name", lineagefs, "comm_b64", COMM_MAX, &rs->comm,
	                &rs->comm_len);
	if (ret < 0)
		return FALSE;
	if (ret == 1)
		rs->has |= TRACKER_RESTORE_COMM;

	ret = get_exact(l, process, "executable", lineagefs, "exe_b64", EXE_MAX, &rs->exe,
	                &rs->exe_len);
	if (ret < 0)
		return FALSE;
	if (ret == 1)
		rs->has |= TRACKER_RESTORE_EXE;

	ret = get_base64(lineagefs, "cmdline_b64", &bytes, &rs->cmdline_len);
	if (ret < 0)
		return FALSE;
	if (ret == 1) {
		rs->cmdline = line_own(l, bytes);
		rs->has |= TRACKER_RESTORE_CMDLINE;
	} else if ((v = json_object_get(process, "args")) != NULL && !json_is_null(v)) {
		if (!parse_args(l, v, &rs->cmdline, &rs->cmdline_len))
			return FALSE;
		rs->has |= TRACKER_RESTORE_CMDLINE;
	}
	if (rs->cmdline_len > JOURNAL_LINE_MAX)
		return FALSE;
	if ((rs->has & TRACKER_RESTORE_CMDLINE) && !parse_cmdline_meta(lineagefs, rs))
		return FALSE;
	/* An exec line states the new image: what it leaves out is not known
	 * (an exe or a cmdline missed at the exec), not unchanged. */
	if (l->exec_line) {
		if (!(rs->has & TRACKER_RESTORE_EXE)) {
			rs->exe = NULL;
			rs->exe_len = 0;
		}
		if (!(rs->has & TRACKER_RESTORE_CMDLINE)) {
			rs->cmdline = NULL;
			rs->cmdline_len = 0;
			rs->cmdline_full_len = 0;
			rs->cmdline_sha256 = NULL;
		}
		rs->has |= TRACKER_RESTORE_EXE | TRACKER_RESTORE_CMDLINE;
	}
	ret = get_string(lineagefs, "image", &text, NULL);
	if (ret < 0)
		return FALSE;
	/* A newer writer's other words for an image are ignored. */
	if (ret == 1 && strcmp(text, "inherited") == 0)
		rs->has |= TRACKER_RESTORE_INHERIT;
	if ((v = json_object_get(lineagefs, "creator_guess")) != NULL && !json_is_null(v)) {
		if (!parse_guess(v, &rs->guess))
			return FALSE;
		rs->has |= TRACKER_RESTORE_GUESS;
	}

	if (get_object(process, "user", &user) < 0 ||
	    get_object(process, "real_user", &real_user) < 0 ||
	    get_object(process, "group", &group) < 0 ||
	    get_object(process, "real_group", &real_group) < 0)
		return FALSE;
	ret = get_id(user, "id", &id);
	if (ret < 0)
		return FALSE;
	if (ret == 1) {
		ret = get_id(real_user, "id", &real_id);
		if (ret < 0)
			return FALSE;
		rs->euid = id;
		rs->ruid = ret == 1 ? real_id : id;
		rs->has |= TRACKER_RESTORE_UIDS;
	}
	ret = get_id(group, "id", &id);
	if (ret < 0)
		return FALSE;
	if (ret == 1) {
		ret = get_id(real_group, "id", &real_id);
		if (ret < 0)
			return FALSE;
		rs->egid = id;
		rs->rgid = ret == 1 ? real_id : id;
		rs->has |= TRACKER_RESTORE_GIDS;
	}

	if ((v = json_object_get(lineagefs, "flags")) != NULL && !json_is_null(v)) {
		if (!parse_flags(v, &rs->flags))
			return FALSE;
		rs->has |= TRACKER_RESTORE_FLAGS;
	}
	/* Lines that start a record state all its flags (none written is
	 * none set), a fork, or an exec telling its fork (with its parent),
	 * implying fork_seen; a plain exec states its image's. */
	if (l->states_flags) {
		gboolean forked =
		    l->implies_fork || (l->exec_line && (rs->has & TRACKER_RESTORE_CREATOR));

		rs->has |= TRACKER_RESTORE_FLAGS;
		if (forked)
			rs->flags |= LIN_PROC_FORK_SEEN;
		/* A plain exec states the image's flags, and those it names. */
		if (l->exec_line && !forked)
			rs->flags_mask = TRACKER_RESTORE_IMAGE_FLAGS | rs->flags;
	}
	ret = get_uint(lineagefs, "execs", G_MAXUINT32, &value);
	if (ret < 0)
		return FALSE;
	if (ret == 1) {
		rs->exec_count = (guint32)value;
		rs->has |= TRACKER_RESTORE_EXECS;
	}
	ret = get_uint(lineagefs, "threads", LIN_PID_MAX, &value);
	if (ret < 0)
		return FALSE;
	if (ret == 1 && opts->threads) {
		rs->threads = (guint32)value;
		rs->has |= TRACKER_RESTORE_THREADS;
	}

	if (!parse_exit(process, lineagefs, is_exit, l))
		return FALSE;
	if (is_exit && !(rs->has & TRACKER_RESTORE_EXIT)) {
		rs->exit_kind = LIN_EXIT_UNKNOWN;
		rs->exit_ns = l->end_is_timestamp ? l->timestamp_ns : 0;
		rs->has |= TRACKER_RESTORE_EXIT;
	}
	if ((rs->has & TRACKER_RESTORE_EXIT) && rs->exit_ns > l->timestamp_ns + START_SLACK_NS)
		return FALSE;
	return parse_context(l, process, lineagefs, whole);
}

/* ---- the context and history (context.h) ---- */

/* Bounds of what a line may say of a context (the kernel's are smaller,
 * the writer's copies too: see lin_context_copy_fill()). */
#define CONTEXT_STRING_MAX (64 * 1024)
#define HISTORY_MAX        4096

static gboolean parse_history_entry(struct line *l, json_t *e, struct lin_hist_copy *h)
{
	static const char *const kinds[] = {
	    [LIN_HIST_EXEC] = "exec", [LIN_HIST_FOUND] = "found", [LIN_HIST_COMM] = "comm",
	    [LIN_HIST_UID] = "uid",   [LIN_HIST_GID] = "gid",
	};
	json_t *ids = json_object_get(e, "ids"), *v;
	const char *kind;
	guchar *bytes = NULL;
	guint64 back = 0;
	int ret;

	if (!json_is_object(e) || get_timestamp(e, "@timestamp", &h->time_ns) != 1 ||
	    get_string(e, "kind", &kind, NULL) != 1 || !json_is_array(ids) ||
	    json_array_size(ids) != 4)
		return FALSE;
	h->kind = G_N_ELEMENTS(kinds);
	for (guint k = 0; k < G_N_ELEMENTS(kinds); k++)
		if (strcmp(kind, kinds[k]) == 0)
			h->kind = (guint8)k;
	if (h->kind == G_N_ELEMENTS(kinds))
		return FALSE;
	for (guint i = 0; i < 4; i++) {
		v = json_array_get(ids, i);
		if (!json_is_integer(v) || json_integer_value(v) < 0 ||
		    json_integer_value(v) > G_MAXUINT32)
			return FALSE;
		h->ids[i] = (guint32)json_integer_value(v);
	}
	if (h->kind == LIN_HIST_COMM) {
		ret = get_exact(l, e, "name", e, "name_b64", COMM_MAX, &h->exe, &h->exe_len);
		return ret >= 0;
	}
	if (h->kind != LIN_HIST_EXEC && h->kind != LIN_HIST_FOUND)
		return TRUE;
	ret = get_exact(l, e, "executable", e, "executable_b64", EXE_MAX, &h->exe, &h->exe_len);
	if (ret < 0)
		return FALSE;
	/* The same command line as the entry that many before: the restore
	 * takes it from there. */
	ret = get_uint(e, "args_back", G_MAXUINT32, &back);
	if (ret < 0 || (ret == 1 && back == 0))
		return FALSE;
	h->cmdline_back = (guint32)back;
	if (back == 0) {
		ret = get_base64(e, "cmdline_b64", &bytes, &h->cmdline_len);
		if (ret < 0)
			return FALSE;
		if (ret == 1)
			h->cmdline = line_own(l, bytes);
		else if ((v = json_object_get(e, "args")) != NULL &&
		         !parse_args(l, v, &h->cmdline, &h->cmdline_len))
			return FALSE;
	}
	if (json_is_true(json_object_get(e, "cmdline_missed")))
		h->flags |= LIN_HIST_CMDLINE_MISSED;
	if (json_is_true(json_object_get(e, "cmdline_truncated")))
		h->flags |= LIN_HIST_CMDLINE_TRUNCATED;
	return TRUE;
}

static gboolean parse_history(struct line *l, json_t *lineagefs, struct lin_context_copy *c)
{
	json_t *array = json_object_get(lineagefs, "history"), *e;
	struct lin_hist_copy *entries;
	guint64 value = 0;
	gsize i;

	c->has |= LIN_CTX_COPY_HISTORY;
	if (get_uint(lineagefs, "history_dropped", G_MAXUINT32, &value) < 0)
		return FALSE;
	c->hist_dropped = (guint32)value;
	if (!array || json_is_null(array))
		return TRUE;
	if (!json_is_array(array) || json_array_size(array) > HISTORY_MAX)
		return FALSE;
	entries = line_own(l, g_new0(struct lin_hist_copy, MAX(json_array_size(array), 1)));
	json_array_foreach(array, i, e)
	{
		if (!parse_history_entry(l, e, &entries[i]))
			return FALSE;
	}
	c->hist = entries;
	c->hist_count = (guint)json_array_size(array);
	return TRUE;
}

/* What a line says of the context; whole: a found or checkpoint line,
 * whose history is all there is (none when it says none). */
static gboolean parse_context(struct line *l, json_t *process, json_t *lineagefs, gboolean whole)
{
	struct lin_context_copy *c = &l->rs.ctx;
	json_t *tty = NULL, *device = NULL, *leader = NULL, *group = NULL, *hash = NULL, *v;
	const char *sha;
	guint64 value = 0, major = 0, minor = 0, sid = 0, pgid = 0, login = 0, session = 0;
	int ret, ret2;

	ret = get_exact(l, process, "working_directory", lineagefs, "working_directory_b64",
	                CONTEXT_STRING_MAX, &c->cwd, &c->cwd_len);
	if (ret < 0)
		return FALSE;
	if (ret == 1)
		c->has |= LIN_CTX_COPY_CWD;
	ret = get_exact(l, lineagefs, "cgroup", lineagefs, "cgroup_b64", CONTEXT_STRING_MAX,
	                &c->cgroup, &c->cgroup_len);
	if (ret < 0)
		return FALSE;
	if (ret == 1)
		c->has |= LIN_CTX_COPY_CGROUP;
	ret = get_base64(lineagefs, "env_b64", (guchar **)&c->env, &c->env_len);
	if (ret < 0)
		return FALSE;
	if (ret == 1) {
		line_own(l, (gpointer)c->env);
		c->has |= LIN_CTX_COPY_ENV;
	} else if ((v = json_object_get(process, "env_vars")) != NULL) {
		if (!parse_args(l, v, &c->env, &c->env_len))
			return FALSE;
		c->has |= LIN_CTX_COPY_ENV;
	}
	if (c->env_len > CONTEXT_STRING_MAX)
		return FALSE;

	if (get_object(process, "session_leader", &leader) < 0 ||
	    get_object(process, "group_leader", &group) < 0 ||
	    get_object(process, "tty", &tty) < 0 || get_object(tty, "char_device", &device) < 0 ||
	    get_object(process, "hash", &hash) < 0)
		return FALSE;
	ret = get_uint(leader, "pid", LIN_PID_MAX, &sid);
	ret2 = get_uint(group, "pid", LIN_PID_MAX, &pgid);
	if (ret < 0 || ret2 < 0 || ret != ret2 || get_uint(device, "major", 0xfff, &major) < 0 ||
	    get_uint(device, "minor", 0xfffff, &minor) < 0)
		return FALSE;
	if (ret == 1) {
		c->has |= LIN_CTX_COPY_IDS;
		c->sid = (pid_t)sid;
		c->pgid = (pid_t)pgid;
		c->tty_nr = (guint32)((minor & 0xff) | (major << 8) | ((minor & ~0xffull) << 12));
	}
	ret = get_string(hash, "sha256", &sha, NULL);
	if (ret < 0)
		return FALSE;
	if (ret == 1) {
		if (strlen(sha) != 64 || strspn(sha, "0123456789abcdef") != 64)
			return FALSE;
		memcpy(c->sha256, sha, 65);
		c->has |= LIN_CTX_COPY_HASH;
	}
	ret = get_uint(process, "vpid", LIN_PID_MAX, &value);
	if (ret < 0)
		return FALSE;
	if (ret == 1 && value > 0) {
		c->ns_pid = (pid_t)value;
		c->has |= LIN_CTX_COPY_NS_PID;
	}
	ret = get_uint(lineagefs, "pid_ns", G_MAXUINT32, &value);
	if (ret < 0)
		return FALSE;
	if (ret == 1 && value > 0) {
		c->pidns = (guint32)value;
		c->has |= LIN_CTX_COPY_PIDNS;
	}
	ret = get_uint(lineagefs, "login_uid", G_MAXUINT32, &login);
	ret2 = get_uint(lineagefs, "session_id", G_MAXUINT32, &session);
	if (ret < 0 || ret2 < 0 || ret != ret2)
		return FALSE;
	if (ret == 1) {
		c->loginuid = (guint32)login;
		c->sessionid = (guint32)session;
		c->has |= LIN_CTX_COPY_AUDIT;
	}
	ret = get_timestamp(lineagefs, "exec_time", &c->exec_ns);
	if (ret < 0)
		return FALSE;
	if (ret == 1)
		c->has |= LIN_CTX_COPY_EXEC;
	if (!whole)
		return TRUE;
	/* When the record was first seen; later than the line: absurd. */
	ret = get_timestamp(lineagefs, "seen", &c->seen_ns);
	if (ret < 0 || (ret == 1 && c->seen_ns > l->timestamp_ns + START_SLACK_NS))
		return FALSE;
	if (ret == 1)
		c->has |= LIN_CTX_COPY_SEEN;
	return parse_history(l, lineagefs, c);
}

gboolean journal_is_process_action(const char *action)
{
	static const char *const actions[] = {
	    JOURNAL_ACTION_CHECKPOINT, JOURNAL_ACTION_FOUND, JOURNAL_ACTION_FORK,
	    JOURNAL_ACTION_EXEC,       JOURNAL_ACTION_COMM,  JOURNAL_ACTION_UID,
	    JOURNAL_ACTION_GID,        JOURNAL_ACTION_EXIT,  JOURNAL_ACTION_EXIT_MISSED,
	    JOURNAL_ACTION_FORGET,
	};

	for (gsize i = 0; i < G_N_ELEMENTS(actions); i++)
		if (strcmp(action, actions[i]) == 0)
			return TRUE;
	return FALSE;
}

static const char *const known_actions[] = {
    JOURNAL_ACTION_OPEN,    JOURNAL_ACTION_GAP,  JOURNAL_ACTION_CHECKPOINT,  JOURNAL_ACTION_FOUND,
    JOURNAL_ACTION_FORK,    JOURNAL_ACTION_EXEC, JOURNAL_ACTION_COMM,        JOURNAL_ACTION_UID,
    JOURNAL_ACTION_GID,     JOURNAL_ACTION_EXIT, JOURNAL_ACTION_EXIT_MISSED, JOURNAL_ACTION_FORGET,
    JOURNAL_ACTION_HISTORY,
};

static const char *known_action(const char *action)
{
	for (gsize i = 0; i < G_N_ELEMENTS(known_actions); i++)
		if (strcmp(action, known_actions[i]) == 0)
			return known_actions[i];
	return action;
}

/* A valid id (at most JOURNAL_ID_MAX characters) into l->ids[i]. */
static const char *copy_id(struct line *l, guint i, const char *id)
{
	if (!id)
		return NULL;
	g_strlcpy(l->ids[i], id, sizeof(l->ids[i]));
	return l->ids[i];
}

/* Decodes a parsed line into l: everything a line says, checked for
 * types and absurd values, without the reader's state (see
 * journal_decode_fn: this runs on a parser thread). */
static void decode_json(const struct journal_read_options *opts, json_t *root, struct line *l)
{
	json_t *event = NULL, *host = NULL, *boot = NULL, *lineagefs = NULL, *process = NULL;
	guint64 version;
	const char *action = NULL;

	l->state = LINE_INVALID;
	if (get_timestamp(root, "@timestamp", &l->timestamp_ns) != 1 ||
	    get_object(root, "event", &event) != 1 ||
	    get_string(event, "action", &action, NULL) != 1 ||
	    (l->has_seq = get_uint(event, "sequence", G_MAXINT64, &l->seq)) < 0 ||
	    get_object(root, "host", &host) != 1 || get_valid_id(host, "id", &l->host_id) != 1 ||
	    get_object(host, "boot", &boot) != 1 || get_valid_id(boot, "id", &l->boot_id) != 1 ||
	    get_object(root, "lineagefs", &lineagefs) != 1 ||
	    get_uint(lineagefs, "v", G_MAXINT32, &version) != 1 || version == 0)
		return;
	if (version > JOURNAL_FORMAT_VERSION) {
		l->state = LINE_NEWER;
		return;
	}
	l->state = LINE_DECODED;
	l->action = known_action(action);
	l->end_is_timestamp = strcmp(action, JOURNAL_ACTION_EXIT) == 0;
	l->implies_fork = strcmp(action, JOURNAL_ACTION_FORK) == 0;
	l->exec_line = strcmp(action, JOURNAL_ACTION_EXEC) == 0;
	l->states_flags = l->implies_fork || l->exec_line ||
	                  strcmp(action, JOURNAL_ACTION_FOUND) == 0 ||
	                  strcmp(action, JOURNAL_ACTION_CHECKPOINT) == 0;
	if (strcmp(action, JOURNAL_ACTION_OPEN) == 0) {
		l->has_hz = get_uint(lineagefs, "hz", 100000, &l->hz);
		l->has_boot_realtime =
		    get_uint(lineagefs, "boot_realtime_ns", G_MAXINT64, &l->boot_realtime_ns);
	} else if (strcmp(action, JOURNAL_ACTION_GAP) == 0) {
		l->has_lost_lines = get_uint(lineagefs, "lost_lines", G_MAXINT64, &l->lost_lines);
	} else if (journal_is_process_action(action)) {
		l->process_ok = get_object(root, "process", &process) == 1 &&
		                parse_process(opts, process, lineagefs,
		                              strcmp(action, JOURNAL_ACTION_EXIT) == 0 ||
		                                  strcmp(action, JOURNAL_ACTION_EXIT_MISSED) == 0,
		                              strcmp(action, JOURNAL_ACTION_CHECKPOINT) == 0 ||
		                                  strcmp(action, JOURNAL_ACTION_FOUND) == 0,
		                              l);
		if (l->process_ok && strcmp(action, JOURNAL_ACTION_EXIT_MISSED) == 0)
			l->rs.exit_kind = LIN_EXIT_UNKNOWN;
	} else if (strcmp(action, JOURNAL_ACTION_HISTORY) == 0) {
		/* More history entries of the record whose found or checkpoint
		 * line came just before (the reader checks that it did). */
		l->process_ok = get_object(root, "process", &process) == 1 &&
		                get_valid_id(process, "entity_id", &l->entity_id) == 1 &&
		                parse_history(l, lineagefs, &l->rs.ctx);
	}
	l->host_id = copy_id(l, 0, l->host_id);
	l->boot_id = copy_id(l, 1, l->boot_id);
	l->entity_id = copy_id(l, 2, l->entity_id);
	l->parent_entity_id = copy_id(l, 3, l->parent_entity_id);
}

void journal_decode_line(enum journal_parsed_kind kind, json_t *root, void *slot,
                         const void *decode_data)
{
	struct line *l = slot;

	l->state = LINE_NOT_JSON;
	if (kind == JOURNAL_PARSED_JSON)
		decode_json(decode_data, root, l);
}
