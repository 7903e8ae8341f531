/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The restore API: a saved history feeding the table. Each put describes
 * one process by (pid, start ticks) and what a journal line knew of it; the
 * record is created or updated through table.c's primitives, so a restored
 * record is linked, kept and forgotten exactly like one built from events.
 * After a restore at start-up, the bootstrap scan calls
 * tracker_restore_reconcile() for each restored record /proc still has.
 */
#include "config.h"
#include "restore.h"

#include <string.h>

#include "tracker-private.h"

static void set_bytes(struct tracker *t, struct lin_str **slot, const char *data, gsize len)
{
	tracker_set_str(t, slot, data && len ? lin_strpool_intern(t->strings, data, len) : NULL);
}

/* A whole line describes the record from scratch: what it leaves out is
 * unknown, not unchanged. */
static void reset_record(struct tracker *t, struct lin_process *p)
{
	tracker_set_str(t, &p->comm, NULL);
	tracker_set_str(t, &p->exe, NULL);
	tracker_clear_cmdline(t, p);
	tracker_set_guess(t, p, NULL);
	p->flags &= ~TRACKER_RESTORE_FLAG_MASK;
	p->ruid = p->euid = 0;
	p->rgid = p->egid = 0;
	p->exec_count = 0;
}

static void set_threads(struct tracker *t, struct lin_process *p, guint32 threads)
{
	/* Counts without tids: only a table nothing else feeds (a replay, an
	 * earlier boot) is given them. */
	t->stats.threads_live -= p->live_threads;
	p->live_threads = lin_process_running(p) ? threads : 0;
	t->stats.threads_live += p->live_threads;
}

static void set_exit(struct tracker *t, struct lin_process *p, const struct tracker_restore *r)
{
	if (lin_process_running(p)) {
		/* The table's own counts of threads, if any, end with it. */
		tracker_process_set_exited(t, p, (enum lin_exit_kind)r->exit_kind, r->exit_status,
		                           r->exit_ns);
		return;
	}
	/* Already ended: a later line knows more of how. */
	if (p->exit_kind == LIN_EXIT_UNKNOWN && r->exit_kind != LIN_EXIT_UNKNOWN)
		t->stats.exits_missed--;
	else if (p->exit_kind != LIN_EXIT_UNKNOWN && r->exit_kind == LIN_EXIT_UNKNOWN)
		t->stats.exits_missed++;
	p->exit_kind = r->exit_kind;
	p->exit_status = r->exit_status;
	if (r->exit_ns)
		p->exit_ns = r->exit_ns;
}

/* The record (pid, start_ticks, instance), made when missing. */
static struct lin_process *restore_record(struct tracker *t, const struct tracker_restore *r,
                                          gboolean *created)
{
	struct lin_name name = {.pid = r->pid,
	                        .start_ticks = r->start_ticks,
	                        .instance = r->instance ? r->instance : 1};
	struct lin_process *p = tracker_find_name(t, &name), *old;

	*created = FALSE;
	if (p)
		return p;
	/* A newer holder of the pid: the older one's exit line is missing (a
	 * gap), so it ended unknown. */
	old = tracker_find_pid(t, r->pid);
	if (old && lin_process_running(old) &&
	    (old->start_ticks < r->start_ticks ||
	     (old->start_ticks == r->start_ticks && lin_process_instance(old) < name.instance)))
		tracker_process_set_exited(t, old, LIN_EXIT_UNKNOWN, 0, 0);
	p = tracker_process_new(t, r->pid, r->start_ticks, r->seen_ns);
	/* The journal names it: its earlier holders may be gone from it. */
	tracker_set_instance(t, p, name.instance);
	*created = TRUE;
	return p;
}

/* A fork's image and ids: its creator's at that point. */
static void inherit(struct tracker *t, struct lin_process *p, const struct lin_process *creator)
{
	struct lin_str *comm = lin_str_ref(p->comm);

	tracker_copy_image(t, p, creator);
	/* The fork line names the child itself (a kernel thread's comm). */
	if (comm)
		tracker_set_str(t, &p->comm, comm);
	p->ruid = creator->ruid;
	p->euid = creator->euid;
	p->rgid = creator->rgid;
	p->egid = creator->egid;
}

guint64 tracker_restore_put(struct tracker *t, const struct tracker_restore *r)
{
	struct lin_process *p;
	gboolean created;
	guint32 old_ids[4];
	guint64 serial;

	if (r->pid <= 0 || r->pid > LIN_PID_MAX)
		return 0;
	if ((r->has & TRACKER_RESTORE_EXIT) &&
	    (r->exit_kind < LIN_EXIT_CODE || r->exit_kind > LIN_EXIT_UNKNOWN))
		return 0;

	tracker_write_lock(t);
	p = restore_record(t, r, &created);
	/* Out of by-exe/ and by-uid/ while its exe and ids change. */
	tracker_ctx_unindex(t, p);
	tracker_ctx_restore_before(t, p, r, old_ids);
	if (r->whole)
		reset_record(t, p);
	/* A whole line that says when the record was first seen: that,
	 * rather than the time of whichever line created it here. */
	if (r->whole && (r->ctx.has & LIN_CTX_COPY_SEEN) && r->seen_ns)
		p->seen_ns = r->seen_ns;
	if (r->has & TRACKER_RESTORE_COMM)
		set_bytes(t, &p->comm, r->comm, r->comm_len);
	if ((r->has & TRACKER_RESTORE_INHERIT) && r->creator_serial) {
		struct lin_process *creator = tracker_find_serial(t, r->creator_serial);

		if (creator && creator != p && creator->pid == r->creator_pid)
			inherit(t, p, creator);
	}
	if (r->has & TRACKER_RESTORE_EXE)
		set_bytes(t, &p->exe, r->exe, r->exe_len);
	if (r->has & TRACKER_RESTORE_CMDLINE) {
		tracker_clear_cmdline(t, p);
		set_bytes(t, &p->cmdline, r->cmdline, r->cmdline_len);
		tracker_set_cmdline_whole(t, p, r->cmdline_full_len,
		                          r->cmdline_sha256 && r->cmdline_sha256[0]
		                              ? lin_strpool_intern(t->strings, r->cmdline_sha256,
		                                                   strlen(r->cmdline_sha256))
		                              : NULL);
	}
	/* A line with the image says whether the parent made it. */
	if (r->has & TRACKER_RESTORE_GUESS)
		tracker_set_guess(t, p, g_memdup2(&r->guess, sizeof(r->guess)));
	else if (r->has & TRACKER_RESTORE_CMDLINE)
		tracker_set_guess(t, p, NULL);
	if (r->has & TRACKER_RESTORE_UIDS) {
		p->ruid = r->ruid;
		p->euid = r->euid;
	}
	if (r->has & TRACKER_RESTORE_GIDS) {
		p->rgid = r->rgid;
		p->egid = r->egid;
	}
	if (r->has & TRACKER_RESTORE_FLAGS) {
		guint16 mask = TRACKER_RESTORE_FLAG_MASK & (r->flags_mask ? r->flags_mask : 0xffff);

		p->flags = (p->flags & ~mask) | (r->flags & mask);
	}
	if (r->has & TRACKER_RESTORE_EXECS)
		p->exec_count = r->exec_count;
	else if (r->exec)
		p->exec_count++;
	if (r->has & TRACKER_RESTORE_CREATOR) {
		struct lin_process *creator =
		    r->creator_serial ? tracker_find_serial(t, r->creator_serial) : NULL;

		/* A line whose parent entity and parent pid disagree names
		 * no creator the table can trust: keep the pid, link none. */
		if (creator && creator->pid != r->creator_pid)
			creator = NULL;
		p->creator_pid = r->creator_pid;
		/* A creator named by pid alone, or forgotten: keep what is
		 * linked when it is that pid. */
		if (creator || r->whole || (p->creator && p->creator->pid != r->creator_pid))
			tracker_set_creator(t, p, creator);
	}
	if (r->has & TRACKER_RESTORE_EXIT)
		set_exit(t, p, r);
	else if (r->whole)
		tracker_process_revive(t, p);
	if (r->has & TRACKER_RESTORE_THREADS)
		set_threads(t, p, r->threads);
	tracker_ctx_restore_after(t, p, r, old_ids);
	tracker_ctx_index(t, p);
	tracker_queue_change(t, created ? LIN_CHANGE_NEW : LIN_CHANGE_EXEC, p);
	serial = p->serial;
	tracker_enforce_retention(t);
	tracker_write_unlock(t);
	return serial;
}

gboolean tracker_restore_history(struct tracker *t, guint64 serial,
                                 const struct lin_context_copy *c)
{
	struct lin_process *p;

	tracker_write_lock(t);
	p = tracker_find_serial(t, serial);
	if (p) {
		tracker_ctx_restore_history(t, p, c);
		/* by-exe/ and by-uid/ know it under what the entries ran. */
		tracker_ctx_index(t, p);
		tracker_queue_change(t, LIN_CHANGE_EXEC, p);
	}
	tracker_write_unlock(t);
	return p != NULL;
}

guint64 tracker_restore_lookup(struct tracker *t, pid_t pid, guint64 start_ticks, guint32 instance)
{
	struct lin_name name = {.pid = pid, .start_ticks = start_ticks, .instance = instance};
	struct lin_process *p;
	guint64 serial;

	if (name.instance == 0)
		name.instance = 1;
	tracker_read_lock(t);
	p = tracker_find_name(t, &name);
	serial = p ? p->serial : 0;
	tracker_read_unlock(t);
	return serial;
}

gboolean tracker_restore_link(struct tracker *t, guint64 child_serial, guint64 creator_serial)
{
	struct lin_process *child, *creator;
	gboolean linked = FALSE;

	tracker_write_lock(t);
	child = tracker_find_serial(t, child_serial);
	creator = tracker_find_serial(t, creator_serial);
	if (child && creator && !child->creator && child->creator_pid == creator->pid) {
		tracker_set_creator(t, child, creator);
		tracker_queue_creator_change(t, child, NULL);
		linked = child->creator == creator;
	}
	tracker_write_unlock(t);
	return linked;
}

gboolean tracker_restore_forget(struct tracker *t, guint64 serial)
{
	struct lin_process *p;
	gboolean forgotten = FALSE;

	tracker_write_lock(t);
	p = tracker_find_serial(t, serial);
	/* Only what retention itself could forget: an exited record no live
	 * descendant needs. */
	if (p && (p->flags & LIN_PROC_EVICTABLE)) {
		tracker_process_forget(t, p);
		forgotten = TRUE;
	}
	tracker_write_unlock(t);
	return forgotten;
}

void tracker_restore_set_clock(struct tracker *t, guint64 boot_realtime_ns, guint hz)
{
	tracker_write_lock(t);
	t->cfg.boot_realtime_ns = boot_realtime_ns;
	if (hz)
		t->cfg.hz = hz;
	tracker_write_unlock(t);
}

void tracker_restore_set_max_exited(struct tracker *t, guint max_exited)
{
	tracker_write_lock(t);
	t->cfg.max_exited = max_exited;
	tracker_enforce_retention(t);
	tracker_write_unlock(t);
}

guint tracker_restore_end_boot(struct tracker *t)
{
	guint ended = 0;

	tracker_write_lock(t);
	for (struct lin_process *p = t->all_head; p; p = p->all_next) {
		if (lin_process_running(p)) {
			tracker_process_set_exited(t, p, LIN_EXIT_UNKNOWN, 0, 0);
			ended++;
		}
	}
	tracker_enforce_retention(t);
	tracker_write_unlock(t);
	return ended;
}

guint tracker_restore_trim(struct tracker *t, guint max_exited)
{
	guint forgotten = 0;

	tracker_write_lock(t);
	while (t->stats.processes_exited > max_exited && t->evict_head) {
		tracker_process_forget(t, t->evict_head);
		forgotten++;
	}
	tracker_write_unlock(t);
	return forgotten;
}

guint64 tracker_restore_count_exited(struct tracker *t)
{
	guint64 exited;

	tracker_read_lock(t);
	exited = t->stats.processes_exited;
	tracker_read_unlock(t);
	return exited;
}

guint64 tracker_restore_count_records(struct tracker *t)
{
	guint64 records;

	tracker_read_lock(t);
	records = t->records;
	tracker_read_unlock(t);
	return records;
}

void tracker_restore_reconcile(struct tracker *t, struct lin_process *p,
                               const struct lin_proc_info *info, const GArray *tids)
{
	/* A restored running record /proc still has with the same start: the
	 * same process. Its creator link and Creator: fork stay; what may have
	 * changed while the daemon was down is read again. */
	if (!lin_process_running(p))
		return;
	tracker_ctx_unindex(t, p);
	if (info->read_ok & PROC_READ_STAT)
		tracker_set_str(
		    t, &p->comm,
		    lin_strpool_intern(t->strings, info->stat.comm, strlen(info->stat.comm)));
	if (info->read_ok & PROC_READ_STATUS) {
		p->ruid = info->status.ruid;
		p->euid = info->status.euid;
		p->rgid = info->status.rgid;
		p->egid = info->status.egid;
	}
	/* An exec while nobody watched: the image changed. */
	if ((info->read_ok & PROC_READ_EXE) && info->exe &&
	    (!p->exe || strcmp(p->exe->data, info->exe) != 0)) {
		tracker_apply_info(t, p, info);
		p->exec_count++;
	}
	tracker_ctx_index(t, p);
	tracker_threads_clear(t, p);
	for (guint j = 0; tids && j < tids->len; j++)
		tracker_thread_add(t, p, g_array_index(tids, pid_t, j));
	tracker_queue_change(t, LIN_CHANGE_EXEC, p);
	/* Exited while the daemon was down, not yet reaped. */
	if ((info->read_ok & PROC_READ_STAT) &&
	    (info->stat.state == 'Z' || info->stat.state == 'X') && p->live_threads == 0) {
		tracker_process_set_exited(t, p, LIN_EXIT_UNKNOWN, 0, tracker_now_realtime(t));
		t->stats.exits_while_down++;
	}
}
