// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Pure renderers of a record's forensic context: the context lines of
 * status (working directory, cgroup and container, pid namespace and the
 * pid inside it, audit login uid and session, terminal, session and
 * process-group leaders, the executable's identity), the history file (one
 * line per event, oldest first, escaped like ancestry so any argv stays on
 * its line) and the environ file (the --env variables, NUL-separated as in
 * /proc/<pid>/environ). The caller holds tracker_read_lock().
 */
#include "render.h"

#include <string.h>

#include "container.h"
#include "exe_hash.h"

static void append_u32_or_dash(GString *out, const char *key, gboolean known, guint32 value)
{
	if (known)
		g_string_append_printf(out, "%s:\t%u\n", key, value);
	else
		g_string_append_printf(out, "%s:\t-\n", key);
}

/* The terminal of stat's tty_nr (a device number) as ps names it. */
void fs_append_tty(GString *out, guint32 tty_nr)
{
	guint major = (tty_nr >> 8) & 0xfff;
	guint minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);

	if (tty_nr == 0)
		g_string_append(out, "-");
	else if (major >= 136 && major <= 143)
		g_string_append_printf(out, "pts/%u", (major - 136) * 256 + minor);
	else if (major == 4 && minor < 64)
		g_string_append_printf(out, "tty%u", minor);
	else if (major == 4)
		g_string_append_printf(out, "ttyS%u", minor - 64);
	else if (major == 5 && minor == 1)
		g_string_append(out, "console");
	else
		g_string_append_printf(out, "%u:%u", major, minor);
}

static void append_str_line(GString *out, const char *key, const struct lin_str *s)
{
	g_string_append_printf(out, "%s:\t", key);
	if (s)
		fs_append_escaped(out, s->data, s->len);
	else
		g_string_append_c(out, '-');
	g_string_append_c(out, '\n');
}

void fs_render_status_context(GString *out, const struct lin_process *p,
                              const struct tracker_config *cfg)
{
	const struct lin_context *c = p->ctx;
	gboolean audit = c && (c->known & LIN_CTX_KNOWN_AUDIT);
	gboolean ids = c && (c->known & LIN_CTX_KNOWN_IDS);
	struct container_id container;
	gboolean host_ns = c && c->pidns && c->pidns == cfg->host_pidns;

	append_str_line(out, "Cwd", c ? c->cwd : NULL);
	append_str_line(out, "Cgroup", c ? c->cgroup : NULL);
	if (c && c->cgroup && container_parse(c->cgroup->data, c->cgroup->len, &container))
		g_string_append_printf(out, "Container:\t%s\nContainerRuntime:\t%s\n", container.id,
		                       container_runtime_name(container.runtime));
	else
		g_string_append(out, "Container:\t-\nContainerRuntime:\t-\n");
	append_u32_or_dash(out, "PidNs", c && c->pidns, c ? c->pidns : 0);
	/* In the daemon's own namespace, the pid inside is the pid. */
	if (lin_process_ns_pid(p) > 0)
		g_string_append_printf(out, "NsPid:\t%d\n", (int)lin_process_ns_pid(p));
	else
		append_u32_or_dash(out, "NsPid", host_ns, (guint32)p->pid);
	append_u32_or_dash(out, "LoginUid", audit && c->loginuid != LIN_AUDIT_UNSET,
	                   c ? c->loginuid : 0);
	append_u32_or_dash(out, "SessionId", audit && c->sessionid != LIN_AUDIT_UNSET,
	                   c ? c->sessionid : 0);
	g_string_append(out, "Tty:\t");
	if (ids)
		fs_append_tty(out, c->tty_nr);
	else
		g_string_append_c(out, '-');
	g_string_append_c(out, '\n');
	append_u32_or_dash(out, "Sid", ids && c->sid > 0, ids ? (guint32)c->sid : 0);
	append_u32_or_dash(out, "Pgid", ids && c->pgid > 0, ids ? (guint32)c->pgid : 0);
	g_string_append_printf(out, "ExeDeleted:\t%s\nExeMemfd:\t%s\n",
	                       (p->flags & LIN_PROC_EXE_DELETED) ? "yes" : "no",
	                       (p->flags & LIN_PROC_EXE_MEMFD) ? "yes" : "no");
	g_string_append(out, "ExeHash:\t");
	if ((!c || !c->exe_hash) && cfg->hash_exe && p->exe && !(p->flags & LIN_PROC_KTHREAD))
		/* Gone before its executable could be opened. */
		g_string_append(out, "unknown");
	else if (!c || !c->exe_hash)
		g_string_append_c(out, '-');
	else if (exe_hash_entry_state(c->exe_hash) == EXE_HASH_DONE)
		g_string_append_printf(out, "sha256:%s", c->exe_hash->hex);
	else if (exe_hash_entry_state(c->exe_hash) == EXE_HASH_FAILED)
		g_string_append_printf(out, "failed (%s)", g_strerror(-c->exe_hash->err));
	else
		g_string_append(out, "pending");
	g_string_append_c(out, '\n');
}

/* argv as one field: each argument escaped, a space escaped too, so the
 * arguments are the field split on single spaces. */
static void append_argv(GString *out, const struct lin_str *cmdline, guint8 hist_flags)
{
	if (hist_flags & LIN_HIST_CMDLINE_MISSED) {
		g_string_append(out, "\tcmdline missed");
		return;
	}
	g_string_append(out, "\targv ");
	if (cmdline) {
		gsize len = cmdline->len;

		/* The last argument's NUL ends it, not a next one. */
		if (len > 0 && cmdline->data[len - 1] == '\0')
			len--;
		for (gsize start = 0, i = 0; i <= len; i++) {
			if (i < len && cmdline->data[i] != '\0')
				continue;
			if (start > 0)
				g_string_append_c(out, ' ');
			for (gsize j = start; j < i; j++) {
				if (cmdline->data[j] == ' ')
					g_string_append(out, "\\040");
				else
					fs_append_escaped(out, cmdline->data + j, 1);
			}
			start = i + 1;
		}
	}
	if (hist_flags & LIN_HIST_CMDLINE_TRUNCATED)
		g_string_append(out, "\ttruncated");
}

static void append_time(GString *out, guint64 realtime_ns)
{
	char when[64];

	fs_format_iso8601(realtime_ns, when, sizeof(when));
	g_string_append(out, when);
}

static void append_image(GString *out, const struct lin_str *exe, const struct lin_str *cmdline,
                         const guint32 ids[4], guint8 hist_flags)
{
	g_string_append_c(out, '\t');
	if (exe)
		fs_append_escaped(out, exe->data, exe->len);
	else
		g_string_append_c(out, '-');
	g_string_append_printf(out, "\tuid %u %u\tgid %u %u", ids[0], ids[1], ids[2], ids[3]);
	append_argv(out, cmdline, hist_flags);
}

static void render_entry(GString *out, const struct lin_hist_entry *e)
{
	append_time(out, e->time_ns);
	switch ((enum lin_hist_kind)e->kind) {
	case LIN_HIST_EXEC:
	case LIN_HIST_FOUND:
		g_string_append(out, e->kind == LIN_HIST_EXEC ? "\texec" : "\tfound");
		append_image(out, e->exe, e->cmdline, e->ids, e->flags);
		break;
	case LIN_HIST_COMM:
		g_string_append(out, "\tcomm\t");
		if (e->exe)
			fs_append_escaped(out, e->exe->data, e->exe->len);
		break;
	case LIN_HIST_UID:
	case LIN_HIST_GID:
		g_string_append_printf(out, "\t%s\t%u %u -> %u %u",
		                       e->kind == LIN_HIST_UID ? "uid" : "gid", e->ids[0],
		                       e->ids[1], e->ids[2], e->ids[3]);
		break;
	}
	g_string_append_c(out, '\n');
}

static guint8 record_hist_flags(const struct lin_process *p)
{
	guint8 flags = 0;

	if (p->flags & LIN_PROC_CMDLINE_MISSED)
		flags |= LIN_HIST_CMDLINE_MISSED;
	if (p->flags & LIN_PROC_CMDLINE_TRUNCATED)
		flags |= LIN_HIST_CMDLINE_TRUNCATED;
	return flags;
}

/* The line of the record's current image: its last exec, or the image it
 * was found with. */
static void render_current_image(GString *out, const struct lin_process *p, const char *what,
                                 guint64 time_ns)
{
	guint32 current[4] = {p->ruid, p->euid, p->rgid, p->egid};
	guint32 ids[4];

	lin_hist_ids_at(p->history, time_ns, current, ids);
	append_time(out, time_ns);
	g_string_append_printf(out, "\t%s", what);
	append_image(out, p->exe, p->cmdline, ids, record_hist_flags(p));
	g_string_append_c(out, '\n');
}

void fs_render_history(GString *out, const struct lin_process *p, const struct tracker_config *cfg)
{
	const struct lin_hist_entry *e = p->history ? p->history->first : NULL;
	guint64 seen_realtime = cfg->boot_realtime_ns + cfg->boot_offset_ns + p->seen_ns;
	gboolean from_scan = (p->flags & LIN_PROC_FROM_SCAN) != 0;
	gboolean exec_shown = p->exec_ns == 0;
	char name[FS_NAME_MAX];

	/* How it came to be. */
	if (from_scan) {
		/* Found running: its start, then the image it had when found
		 * (kept as an entry once an exec replaced it). */
		append_time(out, fs_start_realtime_ns(p, cfg));
		g_string_append(out, "\tstart\tfound in /proc\n");
		if (p->exec_count == 0 && p->exec_ns == 0 && !(e && e->kind == LIN_HIST_FOUND))
			render_current_image(out, p, "found", seen_realtime);
	} else {
		/* Its start (stat's, in clock ticks): the kernel's own time of
		 * the fork, which a journal brings back exactly. */
		append_time(out, fs_start_realtime_ns(p, cfg));
		g_string_append(out, "\tfork\tby ");
		if (p->creator) {
			fs_record_name(p->creator, name, sizeof(name));
			g_string_append(out, name);
			g_string_append_c(out, ' ');
			if (p->creator->comm)
				fs_append_escaped(out, p->creator->comm->data,
				                  p->creator->comm->len);
		} else if (p->creator_pid > 0) {
			g_string_append_printf(out, "pid %d (forgotten)", (int)p->creator_pid);
		} else {
			g_string_append(out, "-");
		}
		g_string_append_c(out, '\n');
	}
	if (p->history && p->history->dropped)
		g_string_append_printf(out, "-\tdropped\t%u earlier events (history budget)\n",
		                       p->history->dropped);
	for (; e; e = e->next) {
		/* The current exec goes before what happened after it, and
		 * before an id change made by that very exec (same time). */
		if (!exec_shown && e->time_ns >= p->exec_ns) {
			render_current_image(out, p, "exec", p->exec_ns);
			exec_shown = TRUE;
		}
		render_entry(out, e);
	}
	if (!exec_shown)
		render_current_image(out, p, "exec", p->exec_ns);
	if (!lin_process_running(p)) {
		if (p->exit_ns)
			append_time(out, p->exit_ns);
		else
			g_string_append_c(out, '-');
		g_string_append(out, "\texit\t");
		fs_append_exit_code(out, p);
		g_string_append_c(out, '\n');
	}
}

void fs_render_environ(GString *out, const struct lin_process *p)
{
	if (p->ctx && p->ctx->env)
		g_string_append_len(out, p->ctx->env->data, p->ctx->env->len);
}
