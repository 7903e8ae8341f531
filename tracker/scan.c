/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Reconciling the table with a scan of all of /proc: the bootstrap, which
 * adds every process running before the connector listened (and, after a
 * journal's restore, settles the restored records against the live
 * system), and the rescans that repair the table when the kernel dropped
 * events: records /proc no longer has exited unseen, processes no event
 * announced are added, and running records' ids are read again. /proc is
 * read whole through proc_scan.c without the lock, then applied under it;
 * single processes read for an event are events.c's.
 */
#include "config.h"
#include "tracker-private.h"

#include "restore.h"

struct scanned {
	struct lin_proc_info info;
	GArray *tids;
};

static void scanned_clear(gpointer data)
{
	struct scanned *s = data;

	lin_proc_info_clear(&s->info);
	if (s->tids)
		g_array_unref(s->tids);
}

struct scan_ctx {
	struct tracker *t;
	GArray *found; /* struct scanned */
};

static void scan_one(const struct lin_proc_info *info, void *data)
{
	struct scan_ctx *ctx = data;
	struct scanned s = {.info = *info};

	s.info.cmdline = g_memdup2(info->cmdline, info->cmdline_len);
	s.info.exe = g_strdup(info->exe);
	s.info.ctx.cwd = g_strdup(info->ctx.cwd);
	s.info.ctx.cgroup = g_strdup(info->ctx.cgroup);
	s.info.ctx.env = g_memdup2(info->ctx.env, info->ctx.env_len);
	if (info->status.threads > 1) {
		s.tids = g_array_new(FALSE, FALSE, sizeof(pid_t));
		proc_scan_threads(ctx->t->cfg.proc_root_fd, info->stat.pid, s.tids);
	}
	g_array_append_val(ctx->found, s);
}

/* A running record's ids, as status says now: a UID or GID event may
 * have been lost. The change is dated now, as /proc cannot tell when. A
 * record whose ids were never known has its status read at its next EXEC
 * (see exec_needs_status() in events.c). */
static void refresh_ids(struct tracker *t, struct lin_process *p, const struct lin_proc_info *info)
{
	guint64 now = tracker_now_monotonic(t);

	if (!(info->read_ok & PROC_READ_STATUS) || !(p->flags & LIN_PROC_IDS_KNOWN))
		return;
	if (p->ruid != info->status.ruid || p->euid != info->status.euid)
		tracker_apply_ids(t, p, TRUE, info->status.ruid, info->status.euid, now);
	if (p->rgid != info->status.rgid || p->egid != info->status.egid)
		tracker_apply_ids(t, p, FALSE, info->status.rgid, info->status.egid, now);
}

/* Reads all of /proc (without the lock), then reconciles. repair: running
 * records /proc no longer has exited unseen. restored: the records come
 * from a journal, and this is the bootstrap after it (see restore.c). */
static int scan_and_apply(struct tracker *t, gboolean repair, gboolean restored)
{
	g_autoptr(GArray) found = g_array_new(FALSE, TRUE, sizeof(struct scanned));
	g_autoptr(GHashTable) alive = g_hash_table_new(NULL, NULL);
	struct scan_ctx ctx = {.t = t, .found = found};
	guint64 seen_ns;
	int n;

	g_array_set_clear_func(found, scanned_clear);
	n = proc_scan_foreach(t->cfg.proc_root_fd, t->cfg.max_cmdline, scan_one, &ctx);
	if (n < 0)
		return n;
	seen_ns = tracker_now_monotonic(t);

	tracker_write_lock(t);
	for (guint i = 0; i < found->len; i++) {
		struct scanned *s = &g_array_index(found, struct scanned, i);

		g_hash_table_insert(alive, GINT_TO_POINTER(s->info.stat.pid), s);
	}
	if (repair) {
		/* Running records that /proc no longer has (or has with another
		 * start) exited while we were not told. */
		for (struct lin_process *p = t->all_head; p; p = p->all_next) {
			struct scanned *s;

			if (!lin_process_running(p))
				continue;
			s = g_hash_table_lookup(alive, GINT_TO_POINTER(p->pid));
			if (s && s->info.stat.start_ticks == p->start_ticks)
				continue;
			tracker_process_set_exited(t, p, LIN_EXIT_UNKNOWN, 0,
			                           tracker_now_realtime(t));
			if (restored)
				t->stats.exits_while_down++;
		}
	}
	/* Two passes so that a parent listed after its child is found. */
	for (guint i = 0; i < found->len; i++) {
		struct scanned *s = &g_array_index(found, struct scanned, i);
		struct lin_process *p = tracker_find(t, s->info.stat.pid, s->info.stat.start_ticks);

		if (p && restored)
			tracker_restore_reconcile(t, p, &s->info, s->tids);
		else if (p && lin_process_running(p))
			refresh_ids(t, p, &s->info);
		if (p)
			continue;
		p = tracker_process_new(t, s->info.stat.pid, s->info.stat.start_ticks, seen_ns);
		p->flags |= LIN_PROC_FROM_SCAN;
		p->creator_pid = s->info.stat.ppid;
		tracker_apply_info(t, p, &s->info);
		tracker_ctx_found(t, p, &s->info);
		for (guint j = 0; s->tids && j < s->tids->len; j++)
			tracker_thread_add(t, p, g_array_index(s->tids, pid_t, j));
		/* A zombie already sent its EXIT, before we listened. */
		if ((s->info.stat.state == 'Z' || s->info.stat.state == 'X') &&
		    p->live_threads == 0)
			tracker_process_set_exited(t, p, LIN_EXIT_UNKNOWN, 0,
			                           tracker_now_realtime(t));
	}
	for (guint i = 0; i < found->len; i++) {
		struct scanned *s = &g_array_index(found, struct scanned, i);
		struct lin_process *p = tracker_find(t, s->info.stat.pid, s->info.stat.start_ticks);

		if (!p || !(p->flags & LIN_PROC_FROM_SCAN) || p->creator || p->seen_ns != seen_ns)
			continue;
		tracker_set_creator(t, p, tracker_running_pid(t, s->info.stat.ppid));
		tracker_queue_change(t, LIN_CHANGE_NEW, p);
	}
	tracker_enforce_retention(t);
	tracker_write_unlock(t);
	return n;
}

int tracker_bootstrap(struct tracker *t)
{
	/* Records before the first scan can only come from a restore. */
	gboolean restored = t->records > 0;

	return scan_and_apply(t, restored, restored);
}

int tracker_rescan(struct tracker *t)
{
	int ret;

	tracker_write_lock(t);
	t->stats.rescans++;
	t->rescan_wanted = FALSE;
	/* The scan reads every running process's ids (see refresh_ids());
	 * a change after its read comes as an event. */
	t->ids_uncertain = FALSE;
	tracker_write_unlock(t);
	ret = scan_and_apply(t, TRUE, FALSE);
	if (ret < 0) {
		tracker_write_lock(t);
		t->ids_uncertain = TRUE;
		tracker_write_unlock(t);
	}
	return MIN(ret, 0);
}

void tracker_overflow(struct tracker *t)
{
	tracker_write_lock(t);
	t->stats.overflows++;
	tracker_write_unlock(t);
	tracker_rescan(t);
}

gboolean tracker_rescan_wanted(struct tracker *t)
{
	gboolean wanted;

	pthread_rwlock_rdlock(&t->lock);
	wanted = t->rescan_wanted;
	pthread_rwlock_unlock(&t->lock);
	return wanted;
}
