/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Rendering of file contents and symlink targets from tracker records, and
 * the parsing of the names a reader looks up. Everything here is a pure
 * function of its arguments: the caller holds tracker_read_lock() while the
 * records are read, and unit tests feed records built by hand.
 */
#include "render.h"

#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#define NS_PER_SEC G_GUINT64_CONSTANT(1000000000)
#define NS_PER_MS  G_GUINT64_CONSTANT(1000000)

/* Bounds the ancestry walk. The tracker refuses creator cycles, but a
 * reader must never hang on a corrupt table. */
#define ANCESTRY_MAX_STEPS (1u << 20)

/* Parses digits from *pos up to a non-digit into *value. Rejects an empty
 * run, a leading zero before more digits (names must have one spelling, so
 * "01-5" and "1-5" cannot both resolve), and overflow past max. */
static int parse_decimal(const char **pos, guint64 max, guint64 *value)
{
	const char *s = *pos;
	guint64 v = 0;

	if (!g_ascii_isdigit(*s))
		return -ENOENT;
	if (s[0] == '0' && g_ascii_isdigit(s[1]))
		return -ENOENT;
	for (; g_ascii_isdigit(*s); s++) {
		guint digit = (guint)(*s - '0');

		if (v > (max - digit) / 10)
			return -ENOENT;
		v = v * 10 + digit;
	}
	*pos = s;
	*value = v;
	return 0;
}

int fs_parse_process_name(const char *name, struct lin_name *out)
{
	const char *pos = name;
	guint64 pid_value, start_value, instance = 1;

	if (parse_decimal(&pos, INT_MAX, &pid_value) < 0 || pid_value == 0)
		return -ENOENT;
	if (*pos++ != '-')
		return -ENOENT;
	if (parse_decimal(&pos, G_MAXUINT64, &start_value) < 0)
		return -ENOENT;
	/* The first holder has no suffix: ".1" would be a second spelling. */
	if (*pos == '.') {
		pos++;
		if (parse_decimal(&pos, G_MAXUINT32, &instance) < 0 || instance < 2)
			return -ENOENT;
	}
	if (*pos != '\0')
		return -ENOENT;
	out->pid = (pid_t)pid_value;
	out->start_ticks = start_value;
	out->instance = (guint32)instance;
	return 0;
}

int fs_record_name(const struct lin_process *p, char *buf, size_t size)
{
	struct lin_name name = lin_process_name(p);

	return fs_process_name(&name, buf, size);
}

int fs_parse_pid(const char *name, pid_t *pid)
{
	const char *pos = name;
	guint64 value;

	if (parse_decimal(&pos, INT_MAX, &value) < 0 || value == 0 || *pos != '\0')
		return -ENOENT;
	*pid = (pid_t)value;
	return 0;
}

int fs_process_name(const struct lin_name *name, char *buf, size_t size)
{
	int n;

	if (name->instance > 1)
		n = snprintf(buf, size, "%d-%" G_GUINT64_FORMAT ".%u", (int)name->pid,
		             name->start_ticks, (guint)name->instance);
	else
		n = snprintf(buf, size, "%d-%" G_GUINT64_FORMAT, (int)name->pid, name->start_ticks);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}

guint64 fs_start_realtime_ns(const struct lin_process *p, const struct tracker_config *cfg)
{
	guint64 hz = cfg->hz ? cfg->hz : 100;

	/* Split so that ticks * 1e9 cannot overflow (it would after ~6 years
	 * of uptime at 100 Hz). */
	return cfg->boot_realtime_ns + p->start_ticks / hz * NS_PER_SEC +
	       p->start_ticks % hz * NS_PER_SEC / hz;
}

void fs_format_iso8601(guint64 realtime_ns, char *buf, size_t size)
{
	time_t seconds = (time_t)(realtime_ns / NS_PER_SEC);
	guint millis = (guint)(realtime_ns % NS_PER_SEC / NS_PER_MS);
	struct tm tm;
	size_t n = 0;

	if (gmtime_r(&seconds, &tm))
		n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	if (n == 0) {
		g_strlcpy(buf, "unknown", size);
		return;
	}
	snprintf(buf + n, size - n, ".%03uZ", millis);
}

/* Appends bytes so that one value stays on one line: a comm or a path may
 * hold any byte but NUL. Backslash, tab and newline get C escapes, other
 * control bytes octal ones, the way /proc/<pid>/status escapes Name. */
void fs_append_escaped(GString *out, const char *data, gsize len)
{
	for (gsize i = 0; i < len; i++) {
		guchar c = (guchar)data[i];

		if (c == '\\')
			g_string_append(out, "\\\\");
		else if (c == '\n')
			g_string_append(out, "\\n");
		else if (c == '\t')
			g_string_append(out, "\\t");
		else if (c < 0x20 || c == 0x7f)
			g_string_append_printf(out, "\\%03o", c);
		else
			g_string_append_c(out, (gchar)c);
	}
}

static void append_str_escaped(GString *out, const struct lin_str *s)
{
	if (s)
		fs_append_escaped(out, s->data, s->len);
}

void fs_append_exit_code(GString *out, const struct lin_process *p)
{
	guint32 status = p->exit_status;
	guint signal;
	const char *abbrev;

	switch ((enum lin_exit_kind)p->exit_kind) {
	case LIN_EXIT_RUNNING:
		g_string_append(out, "-");
		return;
	case LIN_EXIT_UNKNOWN:
		g_string_append(out, "unknown");
		return;
	case LIN_EXIT_CODE:
	case LIN_EXIT_SIGNAL:
		break;
	}
	/* Decoded from the raw wait status, as WIFEXITED/WTERMSIG would. */
	if ((status & 0x7f) == 0) {
		g_string_append_printf(out, "exited %u", (status >> 8) & 0xff);
		return;
	}
	signal = status & 0x7f;
	abbrev = sigabbrev_np((int)signal);
	if (abbrev)
		g_string_append_printf(out, "killed by SIG%s", abbrev);
	else
		g_string_append_printf(out, "killed by signal %u", signal);
	if (status & 0x80)
		g_string_append(out, " (core dumped)");
}

void fs_render_comm(GString *out, const struct lin_process *p)
{
	if (p->comm)
		g_string_append_len(out, p->comm->data, p->comm->len);
	g_string_append_c(out, '\n');
}

static const char *cmdline_state(const struct lin_process *p)
{
	if (p->flags & LIN_PROC_CMDLINE_MISSED)
		return "missed";
	if (p->flags & LIN_PROC_CMDLINE_TRUNCATED)
		return "truncated";
	return "ok";
}

/* CmdlineLength and CmdlineSha256: of the whole command line, also when
 * only its two ends are kept. The hash of a line that was not cut is taken
 * from the kept bytes, the whole, here: the event thread spends nothing on
 * it. A line cut because its process exited during the read has no hash. */
static void append_cmdline_digest(GString *out, const struct lin_process *p)
{
	guint64 length = p->cmdline ? p->cmdline->len : 0;
	const struct lin_str *sha256 = lin_process_cmdline_sha256(p);

	if (p->flags & LIN_PROC_CMDLINE_MISSED) {
		g_string_append(out, "CmdlineLength:\t-\nCmdlineSha256:\t-\n");
		return;
	}
	if (p->flags & LIN_PROC_CMDLINE_TRUNCATED)
		length = lin_process_cmdline_full_len(p);
	g_string_append_printf(out, "CmdlineLength:\t%" G_GUINT64_FORMAT "\nCmdlineSha256:\t",
	                       length);
	if (sha256) {
		g_string_append_len(out, sha256->data, sha256->len);
	} else if (p->flags & LIN_PROC_CMDLINE_TRUNCATED) {
		g_string_append_c(out, '-');
	} else {
		g_autofree char *hex = g_compute_checksum_for_data(
		    G_CHECKSUM_SHA256,
		    p->cmdline ? (const guchar *)p->cmdline->data : (const guchar *)"",
		    p->cmdline ? p->cmdline->len : 0);

		g_string_append(out, hex);
	}
	g_string_append_c(out, '\n');
}

static void append_names(GString *out, const struct lin_name *names, guint count)
{
	char name[FS_NAME_MAX];

	for (guint i = 0; i < count; i++) {
		if (i > 0)
			g_string_append_c(out, ' ');
		fs_process_name(&names[i], name, sizeof(name));
		g_string_append(out, name);
	}
}

/* ParentIsCreator, CreatorInferred, CreatorCandidates: see struct
 * lin_creator_guess. A process found in /proc has only the parent /proc
 * named, which may be a reaper. */
static void append_creator_check(GString *out, const struct lin_process *p)
{
	const struct lin_creator_guess *guess = lin_process_guess(p);
	guint named = guess ? MIN(guess->count, LIN_CANDIDATES_MAX) : 0;

	g_string_append(out, "ParentIsCreator:\t");
	if (guess && guess->check == LIN_PARENT_NOT_CREATOR)
		g_string_append(out, "no");
	else if ((guess && guess->check == LIN_PARENT_UNCERTAIN) ||
	         !(p->flags & LIN_PROC_FORK_SEEN))
		g_string_append(out, "unknown");
	else
		g_string_append(out, "yes");
	g_string_append(out, "\nCreatorInferred:\t");
	if (guess && guess->check == LIN_PARENT_NOT_CREATOR && guess->count == 1)
		append_names(out, guess->candidates, 1);
	else
		g_string_append_c(out, '-');
	g_string_append(out, "\nCreatorCandidates:\t");
	if (guess && guess->check == LIN_PARENT_NOT_CREATOR && guess->count > 1) {
		append_names(out, guess->candidates, named);
		if (guess->count > named)
			g_string_append_printf(out, " (+%u)", guess->count - named);
	} else {
		g_string_append_c(out, '-');
	}
	g_string_append_c(out, '\n');
}

void fs_render_status(GString *out, const struct lin_process *p, const struct tracker_config *cfg)
{
	gboolean running = lin_process_running(p);
	char when[64];

	g_string_append(out, "Name:\t");
	append_str_escaped(out, p->comm);
	g_string_append_printf(out, "\nPid:\t%d\nPPid:\t%d\nStart:\t%" G_GUINT64_FORMAT "\n",
	                       (int)p->pid, (int)p->creator_pid, p->start_ticks);
	fs_format_iso8601(fs_start_realtime_ns(p, cfg), when, sizeof(when));
	g_string_append_printf(out, "StartTime:\t%s\n", when);
	g_string_append_printf(out, "State:\t%s\n", running ? "running" : "exited");

	if (running)
		g_strlcpy(when, "-", sizeof(when));
	else if (p->exit_ns == 0)
		g_strlcpy(when, "unknown", sizeof(when));
	else
		fs_format_iso8601(p->exit_ns, when, sizeof(when));
	g_string_append_printf(out, "ExitTime:\t%s\n", when);

	g_string_append(out, "ExitCode:\t");
	fs_append_exit_code(out, p);
	g_string_append_printf(out, "\nUid:\t%u\t%u\nGid:\t%u\t%u\n", (guint)p->ruid,
	                       (guint)p->euid, (guint)p->rgid, (guint)p->egid);
	g_string_append(out, "Exe:\t");
	append_str_escaped(out, p->exe);
	g_string_append_printf(out, "\nCmdline:\t%s\n", cmdline_state(p));
	append_cmdline_digest(out, p);
	g_string_append_printf(out, "Threads:\t%u\n", running ? 1 + p->live_threads : 0);
	g_string_append_printf(out, "Execs:\t%u\n", p->exec_count);
	g_string_append_printf(out, "Creator:\t%s\n",
	                       (p->flags & LIN_PROC_FORK_SEEN) ? "fork" : "proc");
	g_string_append_printf(out, "Kthread:\t%s\n", (p->flags & LIN_PROC_KTHREAD) ? "yes" : "no");
	append_creator_check(out, p);
	fs_render_status_context(out, p, cfg);
}

void fs_render_ancestry(GString *out, const struct lin_process *p)
{
	char name[FS_NAME_MAX];

	for (guint steps = 0; p && steps < ANCESTRY_MAX_STEPS; p = p->creator, steps++) {
		fs_record_name(p, name, sizeof(name));
		g_string_append(out, name);
		g_string_append_c(out, '\t');
		append_str_escaped(out, p->comm);
		g_string_append_c(out, '\n');
	}
}

struct stat_field {
	const char *key;
	size_t offset;
};

#define TRACKER_FIELD(name)                                                                        \
	{                                                                                          \
#name, offsetof(struct tracker_stats, name)                                        \
	}
#define FS_FIELD(name)                                                                             \
	{                                                                                          \
		"fs_" #name, offsetof(struct fs_counters, name)                                    \
	}

/* In the order of struct tracker_stats, so the file reads like the header. */
static const struct stat_field tracker_fields[] = {
    TRACKER_FIELD(events_fork),
    TRACKER_FIELD(events_thread_fork),
    TRACKER_FIELD(events_exec),
    TRACKER_FIELD(events_exit),
    TRACKER_FIELD(events_thread_exit),
    TRACKER_FIELD(events_comm),
    TRACKER_FIELD(events_uid),
    TRACKER_FIELD(events_gid),
    TRACKER_FIELD(events_other),
    TRACKER_FIELD(events_malformed),
    TRACKER_FIELD(overflows),
    TRACKER_FIELD(events_lost),
    TRACKER_FIELD(rescans),
    TRACKER_FIELD(exits_missed),
    TRACKER_FIELD(exits_while_down),
    TRACKER_FIELD(cmdline_missed),
    TRACKER_FIELD(exec_read_errors),
    TRACKER_FIELD(cmdline_cut),
    TRACKER_FIELD(budget_forgotten),
    TRACKER_FIELD(out_of_order),
    TRACKER_FIELD(processes_live),
    TRACKER_FIELD(processes_exited),
    TRACKER_FIELD(processes_forgotten),
    TRACKER_FIELD(processes_pinned),
    TRACKER_FIELD(threads_live),
    TRACKER_FIELD(record_bytes),
    TRACKER_FIELD(string_bytes),
    TRACKER_FIELD(strings),
    TRACKER_FIELD(history_entries),
    TRACKER_FIELD(history_dropped),
    TRACKER_FIELD(exe_hashed),
    TRACKER_FIELD(started_monotonic_ns),
};

#define JOURNAL_FIELD(name)                                                                        \
	{                                                                                          \
		"journal_" #name, offsetof(struct lin_journal_stats, name)                         \
	}

static const struct stat_field journal_fields[] = {
    JOURNAL_FIELD(lines),        JOURNAL_FIELD(lines_lost),
    JOURNAL_FIELD(write_errors), JOURNAL_FIELD(bytes),
    JOURNAL_FIELD(segments),     JOURNAL_FIELD(segments_deleted),
    JOURNAL_FIELD(checkpoints),  JOURNAL_FIELD(syncs),
    JOURNAL_FIELD(queue_depth),  JOURNAL_FIELD(queue_high_water),
};

static const struct stat_field fs_fields[] = {
    FS_FIELD(notify_skipped), FS_FIELD(notify_queued),   FS_FIELD(notify_done),
    FS_FIELD(notify_sent),    FS_FIELD(notify_uncached), FS_FIELD(notify_failed),
};

/* A compile-time reminder: a field added to either struct must be listed. */
G_STATIC_ASSERT(G_N_ELEMENTS(tracker_fields) * sizeof(guint64) == sizeof(struct tracker_stats));
G_STATIC_ASSERT(G_N_ELEMENTS(fs_fields) * sizeof(guint64) == sizeof(struct fs_counters));
G_STATIC_ASSERT(G_N_ELEMENTS(journal_fields) * sizeof(guint64) == sizeof(struct lin_journal_stats));

static void append_fields(GString *out, const void *base, const struct stat_field *fields,
                          gsize count)
{
	for (gsize i = 0; i < count; i++) {
		guint64 value;

		memcpy(&value, (const char *)base + fields[i].offset, sizeof(value));
		g_string_append_printf(out, "%s %" G_GUINT64_FORMAT "\n", fields[i].key, value);
	}
}

void fs_render_stats(GString *out, const struct tracker_stats *stats,
                     const struct fs_counters *counters, guint64 now_monotonic_ns)
{
	guint64 uptime_ns = now_monotonic_ns > stats->started_monotonic_ns
	                        ? now_monotonic_ns - stats->started_monotonic_ns
	                        : 0;

	append_fields(out, stats, tracker_fields, G_N_ELEMENTS(tracker_fields));
	g_string_append_printf(out, "uptime_seconds %" G_GUINT64_FORMAT "\n",
	                       uptime_ns / NS_PER_SEC);
	append_fields(out, counters, fs_fields, G_N_ELEMENTS(fs_fields));
}

void fs_render_journal_stats(GString *out, const struct lin_journal_stats *journal)
{
	append_fields(out, journal, journal_fields, G_N_ELEMENTS(journal_fields));
}

/* Formats prefix + the target's name into buf. */
static int link_to(const char *prefix, const struct lin_process *target, char *buf, size_t size)
{
	struct lin_name name = lin_process_name(target);
	size_t prefix_len = strlen(prefix);
	int n;

	if (prefix_len >= size)
		return -ENAMETOOLONG;
	memcpy(buf, prefix, prefix_len);
	n = fs_process_name(&name, buf + prefix_len, size - prefix_len);
	return n < 0 ? n : (int)prefix_len + n;
}

int fs_link_parent(const struct lin_process *p, char *buf, size_t size)
{
	if (!p->creator)
		return -ENOENT;
	return link_to("../", p->creator, buf, size);
}

int fs_link_child(const struct lin_process *child, char *buf, size_t size)
{
	return link_to("../../", child, buf, size);
}

int fs_link_by_pid(const struct lin_process *p, char *buf, size_t size)
{
	return link_to("../", p, buf, size);
}

int fs_link_self(const struct lin_process *p, char *buf, size_t size)
{
	return link_to("", p, buf, size);
}
