/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's reader. A segment is read in chunks into a buffer that
 * never grows past one line of JOURNAL_LINE_MAX; each line is parsed by
 * jansson, checked field by field against journal_format.h (types, ranges,
 * times that cannot be), turned into a struct tracker_restore and applied
 * to the table of its boot. The reader keeps one small map, process
 * entity_id to record, only to resolve the creator a line names by entity
 * id; it is dropped when the reading ends. Nothing here trusts the input:
 * a journal may be copied from a compromised host and replayed by an
 * analyst, so every value is bounded before it sizes anything.
 */
#include "config.h"
#include "journal_read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal_format.h"
#include "journal_parse.h"
#include "restore.h"

#define NS_PER_SEC G_GUINT64_CONSTANT(1000000000)
/* A clock that disagrees with the reader's by more than this is wrong,
 * not skewed. */
#define FUTURE_SLACK_NS (24 * 3600 * NS_PER_SEC)
/* A process cannot start after the line that reports it (beyond the
 * rounding of ticks and a clock step). */
#define START_SLACK_NS (60 * NS_PER_SEC)
/* How far a line's process.start may put its boot's origin from the one
 * its daemon run said: rounding, and the drift of a clock being slewed. */
#define ORIGIN_SLACK_NS (10 * NS_PER_SEC)
/* Bounds of the strings a process has (the kernel's are smaller). */
#define COMM_MAX 256
#define EXE_MAX  (4096 + 64)
/* Holders of one pid within one clock tick: far fewer in practice. */
#define INSTANCE_MAX 65535

G_DEFINE_QUARK(journal - read - error - quark, journal_read_error)
#define JOURNAL_READ_ERROR journal_read_error_quark()

/* Where an entity lives: boot index and record serial. */
#define ENTITY_SERIAL_BITS 48
#define ENTITY_PACK(boot, serial)                                                                  \
	GSIZE_TO_POINTER(((gsize)(boot) << ENTITY_SERIAL_BITS) | (gsize)(serial))

struct journal_reader {
	struct journal_read_options opts;
	struct journal_read_stats stats;
	GPtrArray *boots;               /* struct journal_boot *, in order of first line */
	struct journal_boot *last_boot; /* the boot of the line before */
	GHashTable *entities;           /* entity_id -> ENTITY_PACK() */
	GHashTable *pending;            /* creator entity_id -> GArray of ENTITY_PACK() children */
	GStringChunk *entity_ids;       /* the map's keys */
	GByteArray *cmdline;            /* scratch: args joined */
	guint64 last_seq;
	gboolean seq_seen;
	guint hz; /* from the last "open" line, else opts.hz */
	/* The record of the found or checkpoint line just applied, which the
	 * "history" lines after it add to (0: none, another line came). */
	struct journal_boot *more_boot;
	guint64 more_serial;
	char more_entity_id[JOURNAL_ID_MAX + 1];
	gboolean finished;
	gboolean taken;
};

/* What one line says, before it is applied. */
struct line {
	guint64 timestamp_ns;
	const char *action;
	const char *host_id, *boot_id;
	const char *entity_id, *parent_entity_id;
	gboolean has_start_ns;
	guint64 start_ns;
	gboolean end_is_timestamp; /* an exit line: process.end defaults to @timestamp */
	gboolean states_flags;     /* fork, exec, found, checkpoint: lineagefs.flags is all */
	gboolean implies_fork;     /* fork: fork_seen goes without saying */
	gboolean exec_line;
	struct tracker_restore rs;
	guchar *comm_bytes, *exe_bytes, *cmdline_bytes; /* decoded base64, g_free'd */
	GPtrArray *owned; /* the context's decoded bytes and history entries, g_free'd */
};

static void line_clear(struct line *l)
{
	g_free(l->comm_bytes);
	g_free(l->exe_bytes);
	g_free(l->cmdline_bytes);
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

static guint64 now_realtime(const struct journal_reader *r)
{
	struct timespec ts;

	if (r->opts.now_realtime_ns)
		return r->opts.now_realtime_ns;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (guint64)ts.tv_sec * NS_PER_SEC + (guint64)ts.tv_nsec;
}

/* ---- times ---- */

/* Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
 * days_from_civil): no time zone database, no locale. */
static gint64 days_from_civil(gint64 y, guint m, guint d)
{
	gint64 era;
	guint yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (guint)(y - era * 400);
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (gint64)doe - 719468;
}

static gboolean digits(const char *s, guint n, guint *out)
{
	guint v = 0;

	for (guint i = 0; i < n; i++) {
		if (!g_ascii_isdigit(s[i]))
			return FALSE;
		v = v * 10 + (guint)(s[i] - '0');
	}
	*out = v;
	return TRUE;
}

gboolean journal_parse_timestamp(const char *text, guint64 *out_ns)
{
	static const guint8 month_days[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	guint year, month, day, hour, minute, second, frac = 0, frac_digits = 0;
	const char *p = text;
	gint64 days;

	if (!digits(p, 4, &year) || p[4] != '-' || !digits(p + 5, 2, &month) || p[7] != '-' ||
	    !digits(p + 8, 2, &day) || p[10] != 'T' || !digits(p + 11, 2, &hour) || p[13] != ':' ||
	    !digits(p + 14, 2, &minute) || p[16] != ':' || !digits(p + 17, 2, &second))
		return FALSE;
	p += 19;
	if (*p == '.') {
		p++;
		while (g_ascii_isdigit(*p)) {
			if (frac_digits == 9)
				return FALSE;
			frac = frac * 10 + (guint)(*p - '0');
			frac_digits++;
			p++;
		}
		if (frac_digits == 0)
			return FALSE;
	}
	if (p[0] != 'Z' || p[1] != '\0')
		return FALSE;
	if (year < 1970 || month < 1 || month > 12 || day < 1 || day > month_days[month - 1] ||
	    hour > 23 || minute > 59 || second > 60)
		return FALSE;
	for (; frac_digits < 9; frac_digits++)
		frac *= 10;
	days = days_from_civil(year, month, day);
	*out_ns = ((guint64)days * 86400 + hour * 3600 + minute * 60 + second) * NS_PER_SEC + frac;
	return TRUE;
}

gboolean journal_parse_until(const char *text, guint64 *out_ns, GError **error)
{
	g_autoptr(GTimeZone) utc = g_time_zone_new_utc();
	g_autoptr(GDateTime) when = NULL;
	gint64 seconds;

	if (text[0] == '@') {
		const char *p = text + 1;
		guint64 whole = 0, frac = 0, scale = NS_PER_SEC;
		gboolean any = FALSE;

		while (g_ascii_isdigit(*p)) {
			if (whole > G_MAXUINT64 / NS_PER_SEC / 10)
				goto bad_epoch;
			whole = whole * 10 + (guint64)(*p++ - '0');
			any = TRUE;
		}
		if (*p == '.') {
			p++;
			while (g_ascii_isdigit(*p)) {
				if (scale > 1) {
					scale /= 10;
					frac += (guint64)(*p - '0') * scale;
				}
				p++;
			}
		}
		if (!any || *p != '\0')
			goto bad_epoch;
		*out_ns = whole * NS_PER_SEC + frac;
		return TRUE;
	bad_epoch:
		g_set_error(error, JOURNAL_READ_ERROR, 0,
		            "--until: '%s' is not a time (expected ISO 8601 such as "
		            "2026-11-22T13:40:00Z, or @ and epoch seconds such as @1763818800)",
		            text);
		return FALSE;
	}
	when = g_date_time_new_from_iso8601(text, utc);
	if (when == NULL || (seconds = g_date_time_to_unix(when)) < 0) {
		g_set_error(error, JOURNAL_READ_ERROR, 0,
		            "--until: '%s' is not a time (expected ISO 8601 such as "
		            "2026-11-22T13:40:00Z or 2026-11-22T14:40:00+01:00, or @ and epoch "
		            "seconds such as @1763818800)",
		            text);
		return FALSE;
	}
	*out_ns = (guint64)seconds * NS_PER_SEC + (guint64)g_date_time_get_microsecond(when) * 1000;
	return TRUE;
}

/* ---- the machine ---- */

/* A one-line id file (hex digits, and dashes for a uuid) into out; FALSE
 * when missing, empty or odd. */
static gboolean read_id(const char *path, char *out, gsize size, gboolean uuid)
{
	g_autofree char *text = NULL;
	gsize len;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return FALSE;
	g_strstrip(text);
	len = strlen(text);
	if (len == 0 || len >= size)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isxdigit(text[i]) && !(uuid && text[i] == '-'))
			return FALSE;
	memcpy(out, text, len + 1);
	return TRUE;
}

gboolean journal_read_machine_id(char *out, gsize size, GError **error)
{
	if (read_id("/etc/machine-id", out, size, FALSE) ||
	    read_id("/var/lib/dbus/machine-id", out, size, FALSE))
		return TRUE;
	g_set_error(error, JOURNAL_READ_ERROR, 0,
	            "the journal needs the machine id, and neither /etc/machine-id nor "
	            "/var/lib/dbus/machine-id holds one (create it with "
	            "systemd-machine-id-setup or dbus-uuidgen --ensure=/etc/machine-id)");
	return FALSE;
}

gboolean journal_read_boot_id(char *out, gsize size, GError **error)
{
	if (read_id("/proc/sys/kernel/random/boot_id", out, size, TRUE))
		return TRUE;
	g_set_error(error, JOURNAL_READ_ERROR, 0,
	            "the journal needs the boot id, and /proc/sys/kernel/random/boot_id "
	            "cannot be read (is procfs mounted on /proc?)");
	return FALSE;
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

/* process.args joined as /proc/<pid>/cmdline holds them. */
static gboolean parse_args(struct journal_reader *r, json_t *array)
{
	gsize i;
	json_t *v;

	if (!json_is_array(array))
		return FALSE;
	g_byte_array_set_size(r->cmdline, 0);
	json_array_foreach(array, i, v)
	{
		if (!json_is_string(v))
			return FALSE;
		g_byte_array_append(r->cmdline, (const guint8 *)json_string_value(v),
		                    (guint)json_string_length(v) + 1);
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

static gboolean parse_process(struct journal_reader *r, json_t *process, json_t *lineagefs,
                              gboolean is_exit, gboolean whole, struct line *l)
{
	struct tracker_restore *rs = &l->rs;
	json_t *parent = NULL, *user = NULL, *real_user = NULL, *group = NULL, *real_group = NULL;
	json_t *v;
	guint64 pid, start_ticks, value;
	guint32 id, real_id;
	const char *text;
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
	ret = get_base64(lineagefs, "comm_b64", &l->comm_bytes, &rs->comm_len);
	if (ret == 1)
		rs->comm = (const char *)l->comm_bytes;
	else if (ret == 0)
		ret = get_string(process, "name", &rs->comm, &rs->comm_len);
	if (ret < 0 || rs->comm_len > COMM_MAX)
		return FALSE;
	if (ret == 1)
		rs->has |= TRACKER_RESTORE_COMM;

	ret = get_base64(lineagefs, "exe_b64", &l->exe_bytes, &rs->exe_len);
	if (ret == 1)
		rs->exe = (const char *)l->exe_bytes;
	else if (ret == 0)
		ret = get_string(process, "executable", &rs->exe, &rs->exe_len);
	if (ret < 0 || rs->exe_len > EXE_MAX)
		return FALSE;
	if (ret == 1)
		rs->has |= TRACKER_RESTORE_EXE;

	ret = get_base64(lineagefs, "cmdline_b64", &l->cmdline_bytes, &rs->cmdline_len);
	if (ret < 0)
		return FALSE;
	if (ret == 1) {
		rs->cmdline = (const char *)l->cmdline_bytes;
		rs->has |= TRACKER_RESTORE_CMDLINE;
	} else if ((v = json_object_get(process, "args")) != NULL && !json_is_null(v)) {
		if (!parse_args(r, v))
			return FALSE;
		rs->cmdline = (const char *)r->cmdline->data;
		rs->cmdline_len = r->cmdline->len;
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
	if (ret == 1 && r->opts.threads) {
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

/* A string: its exact bytes from key_b64 under lineagefs when present,
 * else the UTF-8 value of key in obj. 1, 0 (absent) or -1. */
static int get_exact(struct line *l, json_t *obj, const char *key, json_t *lineagefs,
                     const char *key_b64, const char **out, gsize *len)
{
	guchar *bytes = NULL;
	int ret = lineagefs ? get_base64(lineagefs, key_b64, &bytes, len) : 0;

	if (ret == 1)
		*out = line_own(l, bytes);
	else if (ret == 0)
		ret = get_string(obj, key, out, len);
	if (ret == 1 && *len > CONTEXT_STRING_MAX)
		return -1;
	return ret;
}

/* The strings of a JSON array, each followed by a NUL, into a buffer the
 * line owns. */
static gboolean join_strings(struct line *l, json_t *array, const char **out, gsize *len)
{
	GByteArray *bytes;
	gsize i;
	json_t *v;

	if (!json_is_array(array))
		return FALSE;
	bytes = g_byte_array_new();
	json_array_foreach(array, i, v)
	{
		if (!json_is_string(v) || bytes->len + json_string_length(v) > JOURNAL_LINE_MAX) {
			g_byte_array_unref(bytes);
			return FALSE;
		}
		g_byte_array_append(bytes, (const guint8 *)json_string_value(v),
		                    (guint)json_string_length(v) + 1);
	}
	*len = bytes->len;
	*out = line_own(l, g_byte_array_free(bytes, FALSE));
	return TRUE;
}

static gboolean parse_history_entry(struct line *l, json_t *e, struct lin_hist_copy *h)
{
	static const char *const kinds[] = {
	    [LIN_HIST_EXEC] = "exec", [LIN_HIST_FOUND] = "found", [LIN_HIST_COMM] = "comm",
	    [LIN_HIST_UID] = "uid",   [LIN_HIST_GID] = "gid",
	};
	json_t *ids = json_object_get(e, "ids"), *v;
	const char *kind;
	guchar *bytes = NULL;
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
		ret = get_exact(l, e, "name", e, "name_b64", &h->exe, &h->exe_len);
		return ret >= 0 && h->exe_len <= COMM_MAX;
	}
	if (h->kind != LIN_HIST_EXEC && h->kind != LIN_HIST_FOUND)
		return TRUE;
	ret = get_exact(l, e, "executable", e, "executable_b64", &h->exe, &h->exe_len);
	if (ret < 0 || h->exe_len > EXE_MAX)
		return FALSE;
	ret = get_base64(e, "cmdline_b64", &bytes, &h->cmdline_len);
	if (ret < 0)
		return FALSE;
	if (ret == 1)
		h->cmdline = line_own(l, bytes);
	else if ((v = json_object_get(e, "args")) != NULL &&
	         !join_strings(l, v, &h->cmdline, &h->cmdline_len))
		return FALSE;
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
	                &c->cwd, &c->cwd_len);
	if (ret < 0)
		return FALSE;
	if (ret == 1)
		c->has |= LIN_CTX_COPY_CWD;
	ret =
	    get_exact(l, lineagefs, "cgroup", lineagefs, "cgroup_b64", &c->cgroup, &c->cgroup_len);
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
		if (!join_strings(l, v, &c->env, &c->env_len))
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

/* ---- boots ---- */

static struct journal_boot *boot_find(struct journal_reader *r, const char *boot_id)
{
	if (r->last_boot && strcmp(r->last_boot->boot_id, boot_id) == 0)
		return r->last_boot;
	for (guint i = 0; i < r->boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(r->boots, i);

		if (strcmp(b->boot_id, boot_id) == 0)
			return r->last_boot = b;
	}
	return NULL;
}

static gboolean is_root_boot(const struct journal_reader *r, const struct journal_boot *b)
{
	return r->opts.root_tracker && b->tracker == r->opts.root_tracker;
}

static struct journal_boot *boot_get(struct journal_reader *r, const char *boot_id,
                                     const char *host_id)
{
	struct journal_boot *b = boot_find(r, boot_id);
	struct tracker_config cfg = {0};

	if (b)
		return b;
	b = g_new0(struct journal_boot, 1);
	g_strlcpy(b->boot_id, boot_id, sizeof(b->boot_id));
	g_strlcpy(b->host_id, host_id, sizeof(b->host_id));
	b->hz = r->hz;
	if (r->opts.root_tracker && r->opts.root_boot_id &&
	    strcmp(boot_id, r->opts.root_boot_id) == 0) {
		const struct tracker_config *root_cfg = tracker_get_config(r->opts.root_tracker);

		b->tracker = r->opts.root_tracker;
		b->clock_known = TRUE;
		b->boot_realtime_ns = root_cfg->boot_realtime_ns;
		b->hz = root_cfg->hz;
	} else {
		cfg.proc_root_fd = -1;
		cfg.max_exited = r->opts.max_exited;
		cfg.hz = b->hz;
		/* A serial space of its own (the root's is the first). */
		cfg.serial_base = (guint64)(r->boots->len + 1) << TRACKER_SERIAL_SPACE_BITS;
		b->tracker = tracker_new(&cfg);
	}
	b->index = r->boots->len;
	g_ptr_array_add(r->boots, b);
	return r->last_boot = b;
}

static void boot_free(gpointer data)
{
	struct journal_boot *b = data;

	g_free(b);
}

/* ---- applying ---- */

static guint64 entity_serial(struct journal_reader *r, const struct journal_boot *b,
                             const char *entity_id)
{
	gpointer packed;
	gsize value;

	if (!entity_id || !g_hash_table_lookup_extended(r->entities, entity_id, NULL, &packed))
		return 0;
	value = GPOINTER_TO_SIZE(packed);
	/* The same id in another boot's lines: not this boot's record. */
	if ((value >> ENTITY_SERIAL_BITS) != b->index)
		return 0;
	return value & (((gsize)1 << ENTITY_SERIAL_BITS) - 1);
}

/* A child whose creator's line has not come yet waits for it by the
 * creator's entity id. */
static void pending_add(struct journal_reader *r, const struct journal_boot *b,
                        const char *creator_id, guint64 child_serial)
{
	GArray *children = g_hash_table_lookup(r->pending, creator_id);
	gsize packed = GPOINTER_TO_SIZE(ENTITY_PACK(b->index, child_serial));

	if (!children) {
		children = g_array_new(FALSE, FALSE, sizeof(gsize));
		g_hash_table_insert(r->pending, g_string_chunk_insert(r->entity_ids, creator_id),
		                    children);
	}
	g_array_append_val(children, packed);
}

static void pending_resolve(struct journal_reader *r, const struct journal_boot *b,
                            const char *creator_id, guint64 creator_serial)
{
	GArray *children = g_hash_table_lookup(r->pending, creator_id);

	if (!children)
		return;
	for (guint i = 0; i < children->len; i++) {
		gsize packed = g_array_index(children, gsize, i);

		if ((packed >> ENTITY_SERIAL_BITS) == b->index)
			tracker_restore_link(b->tracker,
			                     packed & (((gsize)1 << ENTITY_SERIAL_BITS) - 1),
			                     creator_serial);
	}
	g_hash_table_remove(r->pending, creator_id);
}

/* Wall-clock ns of a start in ticks, in a boot whose origin is known. */
static guint64 ticks_realtime(const struct journal_boot *b, guint64 ticks)
{
	guint64 hz = b->hz ? b->hz : 100;

	return b->boot_realtime_ns + ticks / hz * NS_PER_SEC + ticks % hz * NS_PER_SEC / hz;
}

/* Learns the boot's wall-clock origin from a line's start, or checks the
 * start against it. FALSE: a start that cannot be. */
static gboolean boot_check_start(struct journal_reader *r, struct journal_boot *b,
                                 const struct line *l)
{
	guint64 hz = b->hz ? b->hz : 100;
	guint64 since_boot_ns =
	    l->rs.start_ticks / hz * NS_PER_SEC + l->rs.start_ticks % hz * NS_PER_SEC / hz;

	/* The live boot's origin is this machine's, and a restore checks
	 * only that nothing started in the future. Another boot's is the one
	 * its daemon run said in its "open" line (each run's own: the clock
	 * may have been stepped between runs), or the first line's. */
	if (l->has_start_ns && !is_root_boot(r, b)) {
		guint64 origin;

		if (since_boot_ns > l->start_ns)
			return FALSE; /* started before 1970 */
		origin = l->start_ns - since_boot_ns;
		if (!b->clock_known) {
			b->boot_realtime_ns = origin;
			b->clock_known = TRUE;
			tracker_restore_set_clock(b->tracker, origin, b->hz);
		} else if (origin + ORIGIN_SLACK_NS < b->boot_realtime_ns ||
		           origin > b->boot_realtime_ns + ORIGIN_SLACK_NS) {
			return FALSE; /* start and start_ticks disagree */
		}
	}
	/* Started after the line that reports it, or after now. */
	if (b->clock_known && ticks_realtime(b, l->rs.start_ticks) >
	                          MIN(l->timestamp_ns, now_realtime(r)) + START_SLACK_NS)
		return FALSE;
	return TRUE;
}

/* The CLOCK_MONOTONIC of the line's boot at its time (what the live
 * daemon's clock read then: a record's seen time, which its history
 * shows); 0 when the boot's clock is unknown. */
static guint64 line_seen_ns(const struct journal_boot *b, guint64 timestamp_ns)
{
	const struct tracker_config *cfg;

	cfg = tracker_get_config(b->tracker);
	if (cfg->boot_realtime_ns == 0 ||
	    timestamp_ns < cfg->boot_realtime_ns + cfg->boot_offset_ns)
		return 0;
	return timestamp_ns - cfg->boot_realtime_ns - cfg->boot_offset_ns;
}

/* --until: a line after it is left out, unless it is the only record of a
 * process that had started by then (its older lines were rotated away):
 * then it shows the process as it was, running if it had not ended.
 * FALSE: leave the line out. */
static gboolean until_admits(struct journal_reader *r, struct journal_boot *b, struct line *l,
                             gboolean whole)
{
	guint64 until = r->opts.until_ns;
	guint64 start_ns;

	if (until == 0 || l->timestamp_ns <= until)
		return TRUE;
	if (!whole ||
	    (b && tracker_restore_lookup(b->tracker, l->rs.pid, l->rs.start_ticks, l->rs.instance)))
		return FALSE;
	if (l->has_start_ns)
		start_ns = l->start_ns;
	else if (b && b->clock_known)
		start_ns = ticks_realtime(b, l->rs.start_ticks);
	else
		return FALSE;
	if (start_ns > until)
		return FALSE;
	if ((l->rs.has & TRACKER_RESTORE_EXIT) && (l->rs.exit_ns == 0 || l->rs.exit_ns > until)) {
		l->rs.has &= ~TRACKER_RESTORE_EXIT;
		l->rs.exit_kind = LIN_EXIT_RUNNING;
	}
	return TRUE;
}

static void boot_saw_line(struct journal_boot *b, guint64 timestamp_ns)
{
	if (b->lines == 0 || timestamp_ns < b->first_ns)
		b->first_ns = timestamp_ns;
	if (timestamp_ns > b->last_ns)
		b->last_ns = timestamp_ns;
	b->lines++;
}

static void apply_process(struct journal_reader *r, const char *action, const char *host_id,
                          const char *boot_id, struct line *l)
{
	gboolean whole = strcmp(action, JOURNAL_ACTION_CHECKPOINT) == 0 ||
	                 strcmp(action, JOURNAL_ACTION_FOUND) == 0;
	struct journal_boot *b = boot_find(r, boot_id);
	guint64 serial;

	if (!until_admits(r, b, l, whole)) {
		r->stats.after_until++;
		return;
	}
	if (!b) {
		if (r->boots->len >= JOURNAL_BOOTS_MAX) {
			r->stats.invalid++;
			return;
		}
		b = boot_get(r, boot_id, host_id);
	}
	if (!boot_check_start(r, b, l)) {
		r->stats.invalid++;
		return;
	}
	if (strcmp(action, JOURNAL_ACTION_FORGET) == 0) {
		serial = tracker_restore_lookup(b->tracker, l->rs.pid, l->rs.start_ticks,
		                                l->rs.instance);
		if (serial)
			tracker_restore_forget(b->tracker, serial);
		boot_saw_line(b, l->timestamp_ns);
		r->stats.applied++;
		return;
	}
	l->rs.whole = whole;
	l->rs.exec = strcmp(action, JOURNAL_ACTION_EXEC) == 0;
	/* For the history: when, and what the event changed. */
	l->rs.time_ns = l->timestamp_ns;
	/* A fork, or an exec that tells the fork before it (folded): the
	 * child starts with its creator's context. */
	l->rs.inherit_context = strcmp(action, JOURNAL_ACTION_FORK) == 0 ||
	                        (l->rs.exec && (l->rs.has & TRACKER_RESTORE_CREATOR));
	if (strcmp(action, JOURNAL_ACTION_COMM) == 0)
		l->rs.change = TRACKER_RESTORE_CHANGE_COMM;
	else if (strcmp(action, JOURNAL_ACTION_UID) == 0)
		l->rs.change = TRACKER_RESTORE_CHANGE_UID;
	else if (strcmp(action, JOURNAL_ACTION_GID) == 0)
		l->rs.change = TRACKER_RESTORE_CHANGE_GID;
	/* A checkpoint says when its record was first seen. */
	l->rs.seen_ns = line_seen_ns(b, (l->rs.ctx.has & LIN_CTX_COPY_SEEN) ? l->rs.ctx.seen_ns
	                                                                    : l->timestamp_ns);
	if (l->rs.has & TRACKER_RESTORE_CREATOR)
		l->rs.creator_serial = entity_serial(r, b, l->parent_entity_id);
	serial = tracker_restore_put(b->tracker, &l->rs);
	if (serial == 0) {
		r->stats.invalid++;
		return;
	}
	if (whole && l->entity_id) {
		r->more_boot = b;
		r->more_serial = serial;
		g_strlcpy(r->more_entity_id, l->entity_id, sizeof(r->more_entity_id));
	}
	if (l->rs.creator_serial == 0 && l->parent_entity_id)
		pending_add(r, b, l->parent_entity_id, serial);
	if (l->entity_id && !g_hash_table_contains(r->entities, l->entity_id)) {
		g_hash_table_insert(r->entities, g_string_chunk_insert(r->entity_ids, l->entity_id),
		                    ENTITY_PACK(b->index, serial));
		if (g_hash_table_size(r->pending) > 0)
			pending_resolve(r, b, l->entity_id, serial);
	}
	boot_saw_line(b, l->timestamp_ns);
	r->stats.applied++;
}

/* A "history" line: more entries of the record whose found or checkpoint
 * line came just before. */
static void apply_history_more(struct journal_reader *r, json_t *root, json_t *lineagefs,
                               struct line *l)
{
	json_t *process = NULL;
	const char *entity_id = NULL;

	if (get_object(root, "process", &process) != 1 ||
	    get_valid_id(process, "entity_id", &entity_id) != 1 ||
	    !parse_history(l, lineagefs, &l->rs.ctx)) {
		r->stats.invalid++;
		return;
	}
	if (r->more_serial == 0 || strcmp(entity_id, r->more_entity_id) != 0) {
		/* Its line was left out (after --until) or refused. */
		if (r->opts.until_ns && l->timestamp_ns > r->opts.until_ns)
			r->stats.after_until++;
		else
			r->stats.invalid++;
		return;
	}
	if (!tracker_restore_history(r->more_boot->tracker, r->more_serial, &l->rs.ctx)) {
		r->stats.invalid++;
		return;
	}
	boot_saw_line(r->more_boot, l->timestamp_ns);
	r->stats.applied++;
}

/* An "open" line starts a daemon run's segment and says its boot's clock:
 * the origin of another boot's table, should no process line give it. */
static void apply_open(struct journal_reader *r, json_t *lineagefs, const struct line *l)
{
	struct journal_boot *b;
	guint64 boot_realtime_ns;

	r->stats.applied++;
	if (r->opts.until_ns && l->timestamp_ns > r->opts.until_ns)
		return;
	if (get_uint(lineagefs, "boot_realtime_ns", G_MAXINT64, &boot_realtime_ns) != 1 ||
	    boot_realtime_ns > l->timestamp_ns)
		return;
	b = boot_find(r, l->boot_id);
	if (!b && r->boots->len < JOURNAL_BOOTS_MAX)
		b = boot_get(r, l->boot_id, l->host_id);
	if (b && !is_root_boot(r, b)) {
		b->boot_realtime_ns = boot_realtime_ns;
		b->clock_known = TRUE;
		tracker_restore_set_clock(b->tracker, b->boot_realtime_ns, r->hz);
	}
}

static gboolean is_process_action(const char *action)
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

/* Checks and applies a parsed line. FALSE with error set: another
 * machine's line when that is an error. */
static gboolean apply_json(struct journal_reader *r, json_t *root, GError **error)
{
	json_t *event = NULL, *host = NULL, *boot = NULL, *lineagefs = NULL, *process = NULL;
	struct line l = {0};
	const char *action = NULL;
	guint64 version, seq = 0, value;
	int has_seq;
	gboolean ok = TRUE;

	if (get_timestamp(root, "@timestamp", &l.timestamp_ns) != 1 ||
	    get_object(root, "event", &event) != 1 ||
	    get_string(event, "action", &action, NULL) != 1 ||
	    (has_seq = get_uint(event, "sequence", G_MAXINT64, &seq)) < 0 ||
	    get_object(root, "host", &host) != 1 || get_valid_id(host, "id", &l.host_id) != 1 ||
	    get_object(host, "boot", &boot) != 1 || get_valid_id(boot, "id", &l.boot_id) != 1 ||
	    get_object(root, "lineagefs", &lineagefs) != 1 ||
	    get_uint(lineagefs, "v", G_MAXINT32, &version) != 1 || version == 0) {
		r->stats.invalid++;
		return TRUE;
	}
	if (version > JOURNAL_FORMAT_VERSION) {
		r->stats.newer_format++;
		return TRUE;
	}
	if (l.timestamp_ns > now_realtime(r) + FUTURE_SLACK_NS) {
		r->stats.invalid++;
		return TRUE;
	}
	if (r->opts.expect_host_id && strcmp(l.host_id, r->opts.expect_host_id) != 0) {
		g_set_error(error, JOURNAL_READ_ERROR, 0,
		            "the journal holds another machine's history (host.id %s, this machine "
		            "is %s): browse it with --replay, or give --journal an empty directory",
		            l.host_id, r->opts.expect_host_id);
		return FALSE;
	}
	if (!r->opts.expect_host_id && r->boots->len > 0 &&
	    strcmp(l.host_id, ((struct journal_boot *)g_ptr_array_index(r->boots, 0))->host_id))
		r->stats.foreign_lines++;

	/* A segment is written by one daemon run with increasing numbers; a
	 * new run starts a new segment with "open". */
	if (strcmp(action, JOURNAL_ACTION_OPEN) == 0) {
		r->seq_seen = FALSE;
		if (get_uint(lineagefs, "hz", 100000, &value) == 1 && value > 0)
			r->hz = (guint)value;
	}
	if (has_seq == 1) {
		if (r->seq_seen && seq <= r->last_seq) {
			r->stats.duplicates++;
			return TRUE;
		}
		r->last_seq = seq;
		r->seq_seen = TRUE;
	}

	l.end_is_timestamp = strcmp(action, JOURNAL_ACTION_EXIT) == 0;
	l.implies_fork = strcmp(action, JOURNAL_ACTION_FORK) == 0;
	l.exec_line = strcmp(action, JOURNAL_ACTION_EXEC) == 0;
	l.states_flags = l.implies_fork || l.exec_line ||
	                 strcmp(action, JOURNAL_ACTION_FOUND) == 0 ||
	                 strcmp(action, JOURNAL_ACTION_CHECKPOINT) == 0;
	if (strcmp(action, JOURNAL_ACTION_HISTORY) != 0)
		r->more_serial = 0;
	if (strcmp(action, JOURNAL_ACTION_OPEN) == 0) {
		apply_open(r, lineagefs, &l);
	} else if (strcmp(action, JOURNAL_ACTION_HISTORY) == 0) {
		apply_history_more(r, root, lineagefs, &l);
	} else if (strcmp(action, JOURNAL_ACTION_GAP) == 0) {
		r->stats.gaps++;
		if (get_uint(lineagefs, "lost_lines", G_MAXINT64, &value) == 1)
			r->stats.lost_lines += value;
		r->stats.applied++;
	} else if (!is_process_action(action)) {
		r->stats.unknown_action++;
	} else if (get_object(root, "process", &process) != 1 ||
	           !parse_process(r, process, lineagefs,
	                          strcmp(action, JOURNAL_ACTION_EXIT) == 0 ||
	                              strcmp(action, JOURNAL_ACTION_EXIT_MISSED) == 0,
	                          strcmp(action, JOURNAL_ACTION_CHECKPOINT) == 0 ||
	                              strcmp(action, JOURNAL_ACTION_FOUND) == 0,
	                          &l)) {
		r->stats.invalid++;
	} else {
		if (strcmp(action, JOURNAL_ACTION_EXIT_MISSED) == 0)
			l.rs.exit_kind = LIN_EXIT_UNKNOWN;
		apply_process(r, action, l.host_id, l.boot_id, &l);
	}
	line_clear(&l);
	return ok;
}

/* One line, as the parser left it. FALSE with error set: another
 * machine's line when that is an error. */
static gboolean apply_parsed(struct journal_reader *r, enum journal_parsed_kind kind, json_t *root,
                             GError **error)
{
	r->stats.lines++;
	switch (kind) {
	case JOURNAL_PARSED_JSON:
		return apply_json(r, root, error);
	case JOURNAL_PARSED_EMPTY:
		break;
	case JOURNAL_PARSED_TOO_LONG:
		r->stats.too_long++;
		break;
	case JOURNAL_PARSED_TOO_MANY:
		r->stats.invalid++;
		break;
	case JOURNAL_PARSED_NOT_JSON:
		r->stats.not_json++;
		break;
	case JOURNAL_PARSED_TORN:
		r->stats.torn++;
		break;
	}
	return TRUE;
}

gboolean journal_reader_feed_line(struct journal_reader *r, const char *line, gsize len,
                                  GError **error)
{
	json_t *root;
	enum journal_parsed_kind kind;
	gboolean ok;

	g_return_val_if_fail(!r->finished, FALSE);
	kind = journal_parse_line(line, len, &root);
	ok = apply_parsed(r, kind, root, error);
	json_decref(root);
	return ok;
}

/* ---- segments ---- */

struct fd_reading {
	struct journal_reader *r;
	GError **error;
	gboolean failed;
};

static gboolean apply_one(enum journal_parsed_kind kind, json_t *root, void *data)
{
	struct fd_reading *reading = data;

	if (!apply_parsed(reading->r, kind, root, reading->error)) {
		reading->failed = TRUE;
		return FALSE;
	}
	return TRUE;
}

gboolean journal_reader_read_fd(struct journal_reader *r, int fd, GError **error)
{
	struct fd_reading reading = {.r = r, .error = error};
	struct journal_parse_counts counts = {0};
	struct stat st;
	gboolean big;

	g_return_val_if_fail(!r->finished, FALSE);
	r->stats.segments++;
	big = fstat(fd, &st) == 0 && st.st_size >= JOURNAL_PARSE_THREADED_ABOVE;
	journal_parse_fd(fd, big && !r->opts.one_thread, apply_one, &reading, &counts);
	r->stats.bytes += counts.bytes;
	r->stats.read_errors += counts.read_errors;
	return !reading.failed;
}

/* Opens a journal file without following a link or blocking on a FIFO,
 * and only when it is a regular file. -errno. */
static int open_segment(int dir_fd, const char *name, gboolean follow)
{
	struct stat st;
	int fd = openat(dir_fd, name,
	                O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (follow ? 0 : O_NOFOLLOW));

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	fcntl(fd, F_SETFL, 0);
	return fd;
}

struct segment_name {
	guint64 number;
	char *name;
};

static gint segment_compare(gconstpointer a, gconstpointer b)
{
	const struct segment_name *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

static void segment_name_clear(gpointer data)
{
	g_free(((struct segment_name *)data)->name);
}

gboolean journal_segment_number(const char *name, guint64 *number)
{
	const char *p;
	guint64 v = 0;
	gsize n = 0;

	if (!g_str_has_prefix(name, JOURNAL_SEGMENT_PREFIX) ||
	    !g_str_has_suffix(name, JOURNAL_SEGMENT_SUFFIX))
		return FALSE;
	for (p = name + strlen(JOURNAL_SEGMENT_PREFIX); g_ascii_isdigit(*p); p++, n++) {
		if (v > (G_MAXUINT64 - 9) / 10)
			return FALSE;
		v = v * 10 + (guint64)(*p - '0');
	}
	if (n == 0 || strcmp(p, JOURNAL_SEGMENT_SUFFIX) != 0)
		return FALSE;
	*number = v;
	return TRUE;
}

static gboolean read_dir(struct journal_reader *r, const char *path, int dir_fd, GError **error)
{
	g_autoptr(GArray) segments = g_array_new(FALSE, FALSE, sizeof(struct segment_name));
	DIR *dir = fdopendir(dup(dir_fd));
	struct dirent *entry;

	if (!dir) {
		g_set_error(error, JOURNAL_READ_ERROR, 0, "cannot read the journal %s: %s", path,
		            g_strerror(errno));
		return FALSE;
	}
	g_array_set_clear_func(segments, segment_name_clear);
	while ((entry = readdir(dir)) != NULL) {
		struct segment_name s;

		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		if (!journal_segment_number(entry->d_name, &s.number)) {
			r->stats.skipped_files++;
			continue;
		}
		s.name = g_strdup(entry->d_name);
		g_array_append_val(segments, s);
	}
	closedir(dir);
	g_array_sort(segments, segment_compare);

	for (guint i = 0; i < segments->len; i++) {
		const struct segment_name *s = &g_array_index(segments, struct segment_name, i);
		int fd = open_segment(dir_fd, s->name, FALSE);
		gboolean ok;

		if (fd < 0) {
			/* Rotated away meanwhile, or not a plain file. */
			if (fd == -ENOENT || fd == -EINVAL || fd == -ELOOP)
				r->stats.skipped_files++;
			else
				r->stats.read_errors++;
			continue;
		}
		ok = journal_reader_read_fd(r, fd, error);
		close(fd);
		if (!ok) {
			g_prefix_error(error, "%s/%s: ", path, s->name);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean journal_reader_read_path(struct journal_reader *r, const char *path, GError **error)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	gboolean ok;

	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		g_set_error(error, JOURNAL_READ_ERROR, 0, "cannot read the journal %s: %s", path,
		            g_strerror(err));
		return FALSE;
	}
	if (S_ISDIR(st.st_mode)) {
		ok = read_dir(r, path, fd, error);
	} else if (S_ISREG(st.st_mode)) {
		fcntl(fd, F_SETFL, 0);
		ok = journal_reader_read_fd(r, fd, error);
		if (!ok)
			g_prefix_error(error, "%s: ", path);
	} else {
		g_set_error(error, JOURNAL_READ_ERROR, 0,
		            "cannot read the journal %s: not a directory or a segment file", path);
		ok = FALSE;
	}
	close(fd);
	return ok;
}

/* ---- the end ---- */

static gint boot_compare(gconstpointer a, gconstpointer b)
{
	const struct journal_boot *x = *(struct journal_boot *const *)a;
	const struct journal_boot *y = *(struct journal_boot *const *)b;

	return x->last_ns < y->last_ns ? -1 : x->last_ns > y->last_ns;
}

void journal_reader_finish(struct journal_reader *r)
{
	struct journal_boot *current = NULL;
	guint64 budget = r->opts.max_exited;

	g_return_if_fail(!r->finished);
	r->finished = TRUE;
	g_hash_table_remove_all(r->entities);
	g_hash_table_remove_all(r->pending);
	g_string_chunk_clear(r->entity_ids);
	/* A boot of which only "open" lines remain has nothing to show. */
	for (guint i = r->boots->len; i-- > 0;) {
		struct journal_boot *b = g_ptr_array_index(r->boots, i);

		if (!is_root_boot(r, b) && tracker_restore_count_records(b->tracker) == 0) {
			tracker_free(b->tracker);
			g_ptr_array_remove_index(r->boots, i);
		}
	}
	g_ptr_array_sort(r->boots, boot_compare);

	/* The boot that may still run: the live one at start-up, else the
	 * newest in the journal. The others ended with a reboot. */
	for (guint i = 0; i < r->boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(r->boots, i);

		if (is_root_boot(r, b))
			current = b;
	}
	if (!current && !r->opts.root_tracker && r->boots->len > 0)
		current = g_ptr_array_index(r->boots, r->boots->len - 1);
	for (guint i = 0; i < r->boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(r->boots, i);

		if (b != current)
			tracker_restore_end_boot(b->tracker);
	}

	/* One limit for everything held: the current boot keeps what its own
	 * limit keeps, earlier boots share the rest, newest first. */
	if (budget == 0)
		return;
	if (current)
		budget -= MIN(budget, tracker_restore_count_exited(current->tracker));
	for (guint i = r->boots->len; i-- > 0;) {
		struct journal_boot *b = g_ptr_array_index(r->boots, i);

		if (b == current)
			continue;
		tracker_restore_trim(b->tracker, (guint)budget);
		budget -= MIN(budget, tracker_restore_count_exited(b->tracker));
	}
}

/* ---- life cycle ---- */

struct journal_reader *journal_reader_new(const struct journal_read_options *opts)
{
	struct journal_reader *r = g_new0(struct journal_reader, 1);
	long hz = sysconf(_SC_CLK_TCK);

	r->opts = *opts;
	if (r->opts.hz == 0)
		r->opts.hz = hz > 0 ? (guint)hz : 100;
	r->hz = r->opts.hz;
	r->boots = g_ptr_array_new_with_free_func(boot_free);
	r->entities = g_hash_table_new(g_str_hash, g_str_equal);
	r->pending =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_array_unref);
	r->entity_ids = g_string_chunk_new(64 * 1024);
	r->cmdline = g_byte_array_new();
	return r;
}

void journal_reader_free(struct journal_reader *r)
{
	if (!r)
		return;
	for (guint i = 0; !r->taken && i < r->boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(r->boots, i);

		if (!is_root_boot(r, b))
			tracker_free(b->tracker);
	}
	g_ptr_array_unref(r->boots);
	g_hash_table_unref(r->entities);
	g_hash_table_unref(r->pending);
	g_string_chunk_free(r->entity_ids);
	g_byte_array_unref(r->cmdline);
	g_free(r);
}

const struct journal_read_stats *journal_reader_stats(const struct journal_reader *r)
{
	return &r->stats;
}

GPtrArray *journal_reader_boots(struct journal_reader *r)
{
	return r->boots;
}

GPtrArray *journal_reader_take_boots(struct journal_reader *r)
{
	GPtrArray *boots = g_ptr_array_ref(r->boots);

	r->taken = TRUE;
	return boots;
}

void journal_read_stats_format(const struct journal_read_stats *stats, GString *out)
{
#define FIELD(name) g_string_append_printf(out, #name " %" G_GUINT64_FORMAT "\n", stats->name)
	FIELD(segments);
	FIELD(bytes);
	FIELD(lines);
	FIELD(applied);
	FIELD(torn);
	FIELD(too_long);
	FIELD(not_json);
	FIELD(invalid);
	FIELD(newer_format);
	FIELD(duplicates);
	FIELD(unknown_action);
	FIELD(after_until);
	FIELD(gaps);
	FIELD(lost_lines);
	FIELD(foreign_lines);
	FIELD(skipped_files);
	FIELD(read_errors);
#undef FIELD
}
