/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's encoding of a process's forensic context and history
 * (context.h, journal_format.h): the ECS fields of the context (working
 * directory, tty, session and group leaders, executable hash, environment,
 * pid in its namespace, container), lineagefs's own (cgroup, pid
 * namespace, audit ids, exec and seen times), and the history entries,
 * as many as a line holds: the rest go to "history" lines of their own,
 * right after the process's line. Built with journal_encode.c's pieces
 * (see journal_encode-private.h).
 */
#include "config.h"
#include "journal_encode-private.h"

#include "container.h"

static const char *const hist_kinds[] = {
    [LIN_HIST_EXEC] = "exec", [LIN_HIST_FOUND] = "found", [LIN_HIST_COMM] = "comm",
    [LIN_HIST_UID] = "uid",   [LIN_HIST_GID] = "gid",
};

/* A string field, and its exact bytes under lineagefs when it is not
 * UTF-8: *inexact says so. */
static void append_str_field(GString *out, gboolean *first, const char *key, const char *s,
                             gsize len, gboolean *inexact)
{
	journal_append_key(out, first, key);
	*inexact = !journal_append_string(out, s, len);
}

/* process.working_directory, tty, session_leader, group_leader, hash,
 * env_vars and vpid. */
void journal_append_process_context(GString *out, gboolean *first, const struct lin_context_copy *c,
                                    gboolean inexact[3])
{
	if (c->has & LIN_CTX_COPY_CWD)
		append_str_field(out, first, "working_directory", c->cwd, c->cwd_len, &inexact[0]);
	if ((c->has & LIN_CTX_COPY_IDS) && c->tty_nr != 0) {
		journal_append_key(out, first, "tty");
		g_string_append_printf(out, "{\"char_device\":{\"major\":%u,\"minor\":%u}}",
		                       (c->tty_nr >> 8) & 0xfff,
		                       (c->tty_nr & 0xff) | ((c->tty_nr >> 12) & 0xfff00));
	}
	if (c->has & LIN_CTX_COPY_IDS) {
		journal_append_key(out, first, "session_leader");
		journal_append_str(out, "{\"pid\":");
		journal_append_int(out, c->sid);
		g_string_append_c(out, '}');
		journal_append_key(out, first, "group_leader");
		journal_append_str(out, "{\"pid\":");
		journal_append_int(out, c->pgid);
		g_string_append_c(out, '}');
	}
	if ((c->has & LIN_CTX_COPY_HASH) && c->sha256[0]) {
		journal_append_key(out, first, "hash");
		journal_append_str(out, "{\"sha256\":");
		journal_append_string(out, c->sha256, strnlen(c->sha256, sizeof(c->sha256)));
		g_string_append_c(out, '}');
	}
	if (c->has & LIN_CTX_COPY_ENV) {
		journal_append_key(out, first, "env_vars");
		inexact[1] = !journal_append_string_array(out, c->env, c->env_len);
	}
	if (c->has & LIN_CTX_COPY_NS_PID) {
		journal_append_key(out, first, "vpid");
		journal_append_int(out, c->ns_pid);
	}
}

/* container.id and container.runtime, from the cgroup path. */
void journal_append_container(GString *out, const struct lin_context_copy *c)
{
	struct container_id container;

	if (!(c->has & LIN_CTX_COPY_CGROUP) ||
	    !container_parse(c->cgroup, c->cgroup_len, &container))
		return;
	journal_append_str(out, ",\"container\":{\"id\":");
	journal_append_string(out, container.id, strlen(container.id));
	g_string_append_printf(out, ",\"runtime\":\"%s\"}",
	                       container_runtime_name(container.runtime));
}

static void append_history_entry(GString *out, const struct lin_hist_copy *h)
{
	gboolean first = TRUE;

	g_string_append_c(out, '{');
	journal_append_key(out, &first, "@timestamp");
	if (!journal_append_time_ns(out, h->time_ns))
		journal_append_time(out, JOURNAL_ISO_MAX_SECONDS, 0);
	journal_append_key(out, &first, "kind");
	journal_append_quoted(out, hist_kinds[h->kind]);
	journal_append_key(out, &first, "ids");
	g_string_append_printf(out, "[%u,%u,%u,%u]", h->ids[0], h->ids[1], h->ids[2], h->ids[3]);
	if (h->kind == LIN_HIST_COMM) {
		journal_append_key(out, &first, "name");
		if (!journal_append_string(out, h->exe, h->exe_len))
			journal_append_b64(out, &first, "name_b64", h->exe, h->exe_len);
	} else if (h->kind == LIN_HIST_EXEC || h->kind == LIN_HIST_FOUND) {
		if (h->exe_len) {
			journal_append_key(out, &first, "executable");
			if (!journal_append_string(out, h->exe, h->exe_len))
				journal_append_b64(out, &first, "executable_b64", h->exe,
				                   h->exe_len);
		}
		if (h->cmdline_back) {
			/* The same long command line as that entry's. */
			journal_append_key(out, &first, "args_back");
			journal_append_u64(out, h->cmdline_back);
		} else if (h->cmdline_len) {
			/* Whole, as an exec line has it: both ends in args
			 * when it is over JOURNAL_CMDLINE_MAX, every byte in
			 * cmdline_b64. */
			gsize len;
			g_autofree char *cut =
			    journal_cut_cmdline(h->cmdline, h->cmdline_len, &len);

			journal_append_key(out, &first, "args");
			if (!journal_append_string_array(out, cut ? cut : h->cmdline, len) || cut)
				journal_append_b64(out, &first, "cmdline_b64", h->cmdline,
				                   h->cmdline_len);
			if (cut) {
				journal_append_key(out, &first, "args_cut");
				journal_append_str(out, "true");
			}
		}
		if (h->flags & LIN_HIST_CMDLINE_MISSED) {
			journal_append_key(out, &first, "cmdline_missed");
			journal_append_str(out, "true");
		}
		if (h->flags & LIN_HIST_CMDLINE_TRUNCATED) {
			journal_append_key(out, &first, "cmdline_truncated");
			journal_append_str(out, "true");
		}
	}
	g_string_append_c(out, '}');
}

/* The entries c->hist[from..) as a JSON array, as many as the line
 * begun at line_start holds (JOURNAL_HISTORY_LINE_ENTRIES, and no more
 * once JOURNAL_HISTORY_LINE_BYTES of it are used; at least one). Returns
 * the index after the last one written. */
static guint append_history(GString *out, const struct lin_context_copy *c, guint from,
                            gsize line_start)
{
	guint i, n = 0;

	g_string_append_c(out, '[');
	for (i = from; i < c->hist_count && n < JOURNAL_HISTORY_LINE_ENTRIES; i++) {
		if (n > 0 && out->len - line_start >= JOURNAL_HISTORY_LINE_BYTES)
			break;
		if (c->hist[i].kind >= G_N_ELEMENTS(hist_kinds))
			continue;
		if (n++ > 0)
			g_string_append_c(out, ',');
		append_history_entry(out, &c->hist[i]);
	}
	g_string_append_c(out, ']');
	return i;
}

/* lineagefs.cgroup, pid_ns, login_uid, session_id, exec_time, history and
 * the exact bytes of the context strings that are not UTF-8. *hist_done:
 * the history entries written (see append_history()). */
void journal_append_lineagefs_context(GString *out, gboolean *first,
                                      const struct lin_context_copy *c, const gboolean inexact[3],
                                      guint64 event_ns, gsize line_start, guint *hist_done)
{
	if (c->has & LIN_CTX_COPY_CGROUP) {
		gboolean cgroup_inexact;

		append_str_field(out, first, "cgroup", c->cgroup, c->cgroup_len, &cgroup_inexact);
		if (cgroup_inexact)
			journal_append_b64(out, first, "cgroup_b64", c->cgroup, c->cgroup_len);
	}
	if (c->has & LIN_CTX_COPY_PIDNS) {
		journal_append_key(out, first, "pid_ns");
		journal_append_u64(out, c->pidns);
	}
	if (c->has & LIN_CTX_COPY_AUDIT) {
		journal_append_key(out, first, "login_uid");
		journal_append_u64(out, c->loginuid);
		journal_append_key(out, first, "session_id");
		journal_append_u64(out, c->sessionid);
	}
	if (c->has & LIN_CTX_COPY_EXEC) {
		gsize before = out->len;

		journal_append_key(out, first, "exec_time");
		if (!journal_append_time_ns(out, c->exec_ns))
			g_string_truncate(out, before);
	}
	/* A found line is written at the time it was seen: said again only
	 * by a checkpoint, written later. */
	if ((c->has & LIN_CTX_COPY_SEEN) && c->seen_ns != event_ns) {
		gsize before = out->len;

		journal_append_key(out, first, "seen");
		if (!journal_append_time_ns(out, c->seen_ns))
			g_string_truncate(out, before);
	}
	if (inexact[0])
		journal_append_b64(out, first, "working_directory_b64", c->cwd, c->cwd_len);
	if (inexact[1])
		journal_append_b64(out, first, "env_b64", c->env, c->env_len);
	if (c->has & LIN_CTX_COPY_HISTORY) {
		/* A line already long (a huge command line) leaves all of it
		 * to the "history" lines. */
		*hist_done = 0;
		if (c->hist_count > 0 && out->len - line_start < JOURNAL_HISTORY_LINE_BYTES) {
			journal_append_key(out, first, "history");
			*hist_done = append_history(out, c, 0, line_start);
		}
		if (c->hist_dropped > 0) {
			journal_append_key(out, first, "history_dropped");
			journal_append_u64(out, c->hist_dropped);
		}
	}
}

guint journal_encode_history(GString *out, const struct journal_host *host, guint64 event_ns,
                             guint64 seq, const struct journal_proc *proc, guint from)
{
	gsize line_start = out->len;
	char id[JOURNAL_ENTITY_ID_LEN + 1];
	guint next;

	journal_append_head(out, host, event_ns, "state", "info", JOURNAL_ACTION_HISTORY, seq);
	journal_entity_id(host, proc->pid, proc->start_ticks, proc->instance, id);
	g_string_append_printf(out, ",\"process\":{\"entity_id\":\"%s\",\"pid\":%d}", id,
	                       (int)proc->pid);
	g_string_append_printf(out, ",\"lineagefs\":{\"v\":%d", JOURNAL_FORMAT_VERSION);
	if (proc->start_ticks <= G_MAXINT64)
		g_string_append_printf(out, ",\"start_ticks\":%" G_GUINT64_FORMAT,
		                       proc->start_ticks);
	if (proc->instance != 1)
		g_string_append_printf(out, ",\"instance\":%u", proc->instance);
	journal_append_str(out, ",\"history\":");
	next = append_history(out, &proc->ctx, from, line_start);
	journal_append_str(out, "}}\n");
	return next;
}
