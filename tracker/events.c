/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Applying what the sources report: cn_proc events (FORK, EXEC, EXIT,
 * COMM, UID/GID, thread forks and exits, out of order or lost), the
 * begin/finish split that reads /proc before taking the write lock so that
 * readers never delay the capture of a short-lived process's cmdline, and
 * the periodic tick that expires pending events and checks leaders whose
 * threads outlive them. The scans of all of /proc that start the table and
 * repair it after lost events are scan.c's.
 */
#include "config.h"
#include "tracker-private.h"

#include <errno.h>
#include <string.h>
#include <sys/wait.h>

/* How long an EXIT may wait for the FORK that announces its process
 * (events from different CPUs can be delivered out of order). */
#define PENDING_EXPIRE_NS (2 * G_TIME_SPAN_SECOND * 1000)
/* How long a leader that exited while its threads run is trusted before
 * /proc is checked (in case a thread's EXIT was lost). */
#define LEADER_CHECK_NS (1 * G_TIME_SPAN_SECOND * 1000)

/* What a record knows of an event that came before the FORK creating it. */
struct pending {
	guint64 timestamp_ns;
	gboolean exec_missed;
	gboolean exited;
	guint32 exit_status;
	/* A UID or GID event (real, effective), e.g. the exec of a
	 * set-user-ID file by a child whose FORK was not sent yet. */
	gboolean uid_seen, gid_seen;
	guint32 uid[2], gid[2];
	guint64 ids_timestamp_ns;
};

static guint64 event_realtime(const struct tracker *t, guint64 timestamp_ns)
{
	return tracker_event_realtime(t, timestamp_ns);
}

static guint64 event_start_ticks(const struct tracker *t, guint64 timestamp_ns)
{
	return (t->cfg.boot_offset_ns + timestamp_ns) / (1000000000ull / t->cfg.hz);
}

/* The kind of exit a raw wait status describes. */
static enum lin_exit_kind exit_kind_of(guint32 status)
{
	return WIFSIGNALED(status) ? LIN_EXIT_SIGNAL : LIN_EXIT_CODE;
}

struct lin_process *tracker_running_pid(struct tracker *t, pid_t pid)
{
	struct lin_process *p = tracker_find_pid(t, pid);

	return p && lin_process_running(p) ? p : NULL;
}

/* Makes a record for a process read from /proc that no event announced
 * (bootstrap, rescan, or an event whose FORK is late or lost). Returns the
 * existing record when one with the same (pid, start) exists. */
static struct lin_process *process_from_info(struct tracker *t, const struct lin_proc_info *info,
                                             guint64 seen_ns, guint extra_flags)
{
	struct lin_process *p = tracker_find(t, info->stat.pid, info->stat.start_ticks);
	struct lin_process *old = tracker_running_pid(t, info->stat.pid);

	if (p) {
		tracker_process_revive(t, p);
		return p;
	}
	if (old)
		tracker_process_set_exited(t, old, LIN_EXIT_UNKNOWN, 0, tracker_now_realtime(t));
	p = tracker_process_new(t, info->stat.pid, info->stat.start_ticks, seen_ns);
	p->flags |= extra_flags;
	p->creator_pid = info->stat.ppid;
	tracker_apply_info(t, p, info);
	tracker_ctx_found(t, p, info);
	tracker_set_creator(t, p, tracker_running_pid(t, info->stat.ppid));
	tracker_queue_change(t, LIN_CHANGE_NEW, p);
	return p;
}

static void apply_pending(struct tracker *t, struct lin_process *p)
{
	struct pending *pending = g_hash_table_lookup(t->pending, GINT_TO_POINTER(p->pid));

	if (!pending)
		return;
	/* Ids changed by the child before its FORK was sent; not those of an
	 * earlier holder of the pid, which changed before this one started. */
	if ((pending->uid_seen || pending->gid_seen) &&
	    event_start_ticks(t, pending->ids_timestamp_ns) >= p->start_ticks) {
		if (pending->uid_seen)
			tracker_apply_ids(t, p, TRUE, pending->uid[0], pending->uid[1],
			                  pending->ids_timestamp_ns);
		if (pending->gid_seen)
			tracker_apply_ids(t, p, FALSE, pending->gid[0], pending->gid[1],
			                  pending->ids_timestamp_ns);
	}
	if (pending->exec_missed) {
		guint32 old_ids[4];

		tracker_ctx_exec_before(t, p, old_ids);
		p->exec_ns = event_realtime(t, pending->timestamp_ns);
		tracker_clear_cmdline(t, p);
		tracker_set_str(t, &p->exe, NULL);
		p->flags |= LIN_PROC_CMDLINE_MISSED;
		p->exec_count++;
		t->stats.cmdline_missed++;
		tracker_queue_change(t, LIN_CHANGE_EXEC, p);
	}
	if (pending->exited)
		tracker_process_set_exited(t, p, exit_kind_of(pending->exit_status),
		                           pending->exit_status,
		                           event_realtime(t, pending->timestamp_ns));
	g_hash_table_remove(t->pending, GINT_TO_POINTER(p->pid));
}

static struct pending *pending_get(struct tracker *t, pid_t pid, guint64 timestamp_ns)
{
	struct pending *pending = g_hash_table_lookup(t->pending, GINT_TO_POINTER(pid));

	if (!pending) {
		pending = g_new0(struct pending, 1);
		g_hash_table_insert(t->pending, GINT_TO_POINTER(pid), pending);
	}
	pending->timestamp_ns = timestamp_ns;
	return pending;
}

/* ---- events ---- */

static void handle_thread_fork(struct tracker *t, const struct cnproc_event *ev)
{
	struct lin_process *p;

	t->stats.events_thread_fork++;
	p = tracker_running_pid(t, ev->tgid);
	if (p)
		tracker_thread_add(t, p, ev->pid);
}

/* Whether a running record is the very process a FORK announces, rather
 * than an older holder of the pid whose EXIT was lost. */
static gboolean fork_is_for(const struct lin_process *p, const struct lin_proc_info *child,
                            guint64 timestamp_ns)
{
	if (p->flags & LIN_PROC_FORK_SEEN)
		return FALSE;
	if (child->read_ok & PROC_READ_STAT)
		return child->stat.start_ticks == p->start_ticks;
	/* The child is already gone: the record came from an event or scan
	 * that followed this FORK. */
	return timestamp_ns <= p->seen_ns;
}

/*
 * The running children of the reported parent that run the child's image:
 * the processes that may have made it with CLONE_PARENT. None matching
 * leaves the question open (the creator may be gone already).
 */
static void guess_creator(struct tracker *t, struct lin_process *p,
                          const struct lin_process *parent)
{
	struct lin_creator_guess *guess = g_new0(struct lin_creator_guess, 1);

	for (const struct lin_process *c = parent->first_child; c; c = c->next_sibling) {
		if (c == p || !lin_process_running(c) || c->start_stack != p->start_stack)
			continue;
		if (guess->count < LIN_CANDIDATES_MAX)
			guess->candidates[guess->count] = lin_process_name(c);
		guess->count++;
	}
	guess->check = guess->count > 0 ? LIN_PARENT_NOT_CREATOR : LIN_PARENT_UNCERTAIN;
	tracker_set_guess(t, p, guess);
}

static void handle_fork(struct tracker *t, const struct cnproc_event *ev,
                        const struct lin_proc_info *got)
{
	struct lin_process *p = tracker_find_pid(t, ev->pid);
	struct lin_process *creator = tracker_running_pid(t, ev->u.fork.parent_tgid);
	struct lin_process *old_creator;
	struct lin_proc_info gone = {0};
	const struct lin_proc_info *child = got;

	t->stats.events_fork++;
	/* A stat that started after this FORK was sent belongs to a later
	 * holder of the pid (recycled before the read): not this child's. */
	if ((got->read_ok & PROC_READ_STAT) &&
	    got->stat.start_ticks > event_start_ticks(t, ev->timestamp_ns))
		child = &gone;
	if (!(p && fork_is_for(p, child, ev->timestamp_ns)) && (child->read_ok & PROC_READ_STAT))
		p = tracker_find(t, ev->pid, child->stat.start_ticks);
	/* A record of the same start is this child only when no FORK made it
	 * (its EXEC, EXIT or a scan came first): a FORK-made one is an earlier
	 * holder of the pid within the same tick. */
	if (p && (fork_is_for(p, child, ev->timestamp_ns) ||
	          ((child->read_ok & PROC_READ_STAT) && !(p->flags & LIN_PROC_FORK_SEEN) &&
	           p->start_ticks == child->stat.start_ticks))) {
		/* The EXEC, EXIT or scan came first: the FORK only names the creator. */
		if (!(p->flags & LIN_PROC_FROM_SCAN))
			t->stats.out_of_order++;
		p->flags |= LIN_PROC_FORK_SEEN;
		p->creator_pid = ev->u.fork.parent_tgid;
		old_creator = p->creator;
		if (creator && p->creator != creator)
			tracker_set_creator(t, p, creator);
		/* PPid and Creator of its status changed, if nothing else. */
		tracker_queue_creator_change(t, p, old_creator);
		return;
	}
	p = tracker_running_pid(t, ev->pid);
	if (p)
		tracker_process_set_exited(t, p, LIN_EXIT_UNKNOWN, 0,
		                           event_realtime(t, ev->timestamp_ns));

	if (child->read_ok & PROC_READ_STAT) {
		p = tracker_process_new(t, ev->pid, child->stat.start_ticks, ev->timestamp_ns);
	} else {
		p = tracker_process_new(t, ev->pid, event_start_ticks(t, ev->timestamp_ns),
		                        ev->timestamp_ns);
		p->flags |= LIN_PROC_START_ESTIMATED;
	}
	p->flags |= LIN_PROC_FORK_SEEN;
	p->creator_pid = ev->u.fork.parent_tgid;
	if (creator) {
		p->ruid = creator->ruid;
		p->euid = creator->euid;
		p->rgid = creator->rgid;
		p->egid = creator->egid;
		p->flags |= creator->flags & LIN_PROC_IDS_KNOWN;
	}
	if (creator && (child->read_ok & (PROC_READ_CMDLINE | PROC_READ_EXE))) {
		/* Its image is not the parent's (see fork_image_differs()):
		 * its own, read for it, and who may have made it. */
		tracker_apply_info(t, p, child);
		guess_creator(t, p, creator);
	} else if (creator) {
		/* Until it execs, a child runs its creator's program. */
		tracker_copy_image(t, p, creator);
		/* A new kernel thread is named by its creator without a COMM
		 * event: the child's own stat has the truth when we caught it.
		 * Only a kernel thread's: a process's new name comes as a COMM
		 * event, while its stat, read a moment after the FORK, may be
		 * a later holder's when the pid was handed out again within
		 * the tick (the start time cannot tell them apart). */
		if ((child->read_ok & PROC_READ_STAT) && (child->stat.flags & LIN_PF_KTHREAD))
			tracker_set_str(t, &p->comm,
			                lin_strpool_intern(t->strings, child->stat.comm,
			                                   strlen(child->stat.comm)));
		tracker_ctx_fork(t, p, creator);
	} else if (child->read_ok & PROC_READ_STAT) {
		tracker_apply_info(t, p, child);
		tracker_ctx_found(t, p, child);
	}
	tracker_set_creator(t, p, creator);
	tracker_queue_change(t, LIN_CHANGE_NEW, p);
	apply_pending(t, p);
}

/* An image that differed from the parent's with no candidate may have been
 * the child's own exec, read before its EXEC arrived: its first EXEC
 * settles that. A named creator stays: it made the process. */
static void exec_settles_guess(struct tracker *t, struct lin_process *p)
{
	const struct lin_creator_guess *guess = lin_process_guess(p);

	if (guess && guess->check == LIN_PARENT_UNCERTAIN && p->exec_count == 1)
		tracker_set_guess(t, p, NULL);
}

/* An EXEC's read that failed while its process was still there (out of
 * fds, no permission, a refused system call) is a miss its exit does not
 * explain: counted apart, for whoever checks that every miss is honest. */
static void count_read_errors(struct tracker *t, const struct lin_proc_info *info)
{
	guint failed = PROC_READ_STAT | PROC_READ_CMDLINE | PROC_READ_EXE;

	failed &= ~(info->read_ok | info->read_gone);
	if (failed != 0)
		t->stats.exec_read_errors++;
}

static void handle_exec(struct tracker *t, const struct cnproc_event *ev,
                        const struct lin_proc_info *info)
{
	struct lin_process *p = tracker_running_pid(t, ev->tgid);
	guint32 old_ids[4];

	t->stats.events_exec++;
	count_read_errors(t, info);
	/* Gone before we could read it, or what was read started after this
	 * EXEC: a later holder of the recycled pid. */
	if (!(info->read_ok & PROC_READ_STAT) ||
	    info->stat.start_ticks > event_start_ticks(t, ev->timestamp_ns)) {
		t->stats.cmdline_missed++;
		if (!p) {
			pending_get(t, ev->tgid, ev->timestamp_ns)->exec_missed = TRUE;
			t->stats.out_of_order++;
			return;
		}
		tracker_ctx_exec_before(t, p, old_ids);
		p->exec_ns = event_realtime(t, ev->timestamp_ns);
		tracker_clear_cmdline(t, p);
		tracker_set_str(t, &p->exe, NULL);
		p->flags |= LIN_PROC_CMDLINE_MISSED;
		p->exec_count++;
		exec_settles_guess(t, p);
		tracker_queue_change(t, LIN_CHANGE_EXEC, p);
		return;
	}
	if (!p || p->start_ticks != info->stat.start_ticks) {
		struct lin_process *same = tracker_find(t, ev->tgid, info->stat.start_ticks);

		if (!same)
			t->stats.out_of_order++;
		p = process_from_info(t, info, ev->timestamp_ns, 0);
	}
	tracker_threads_clear(t, p);
	tracker_leader_exited_forget(t, p);
	tracker_ctx_exec_before(t, p, old_ids);
	tracker_apply_info(t, p, info);
	tracker_ctx_exec_after(t, p, info, event_realtime(t, ev->timestamp_ns), old_ids);
	if (!(info->read_ok & PROC_READ_CMDLINE))
		t->stats.cmdline_missed++;
	p->exec_count++;
	exec_settles_guess(t, p);
	tracker_queue_change(t, LIN_CHANGE_EXEC, p);
}

static void handle_exit(struct tracker *t, const struct cnproc_event *ev)
{
	guint32 status = ev->u.exit.code;
	enum lin_exit_kind kind = exit_kind_of(status);
	struct lin_process *p = tracker_running_pid(t, ev->tgid);
	guint64 exit_ns = event_realtime(t, ev->timestamp_ns);

	if (ev->pid != ev->tgid) {
		struct lin_process *owner =
		    g_hash_table_lookup(t->threads, GINT_TO_POINTER(ev->pid));

		t->stats.events_thread_exit++;
		if (owner) {
			g_hash_table_remove(t->threads, GINT_TO_POINTER(ev->pid));
			owner->live_threads--;
			t->stats.threads_live--;
			tracker_queue_change(t, LIN_CHANGE_THREADS, owner);
		}
		/* A process whose leader left with pthread_exit() ends with
		 * its last thread, whose status is the process's. */
		if (p && (p->flags & LIN_PROC_LEADER_EXITED) && p->live_threads == 0)
			tracker_process_set_exited(t, p, kind, status, exit_ns);
		return;
	}

	t->stats.events_exit++;
	if (!p) {
		/* No running record: its FORK has not arrived yet. */
		struct pending *pending = pending_get(t, ev->tgid, ev->timestamp_ns);

		pending->exited = TRUE;
		pending->exit_status = status;
		return;
	}
	if (p->live_threads > 0) {
		if (!(p->flags & LIN_PROC_LEADER_EXITED)) {
			p->flags |= LIN_PROC_LEADER_EXITED;
			p->exit_status = status;
			p->exit_ns = ev->timestamp_ns; /* monotonic until it really exits */
			g_ptr_array_add(t->leader_exited, p);
		}
		return;
	}
	tracker_process_set_exited(t, p, kind, status, exit_ns);
}

static void handle_comm(struct tracker *t, const struct cnproc_event *ev)
{
	struct lin_process *p = tracker_running_pid(t, ev->tgid);

	t->stats.events_comm++;
	/* A thread's name is not the process's: /proc/<pid>/comm is the leader's. */
	if (!p || ev->pid != ev->tgid)
		return;
	tracker_set_str(t, &p->comm,
	                lin_strpool_intern(t->strings, ev->u.comm.comm,
	                                   strnlen(ev->u.comm.comm, sizeof(ev->u.comm.comm))));
	tracker_ctx_comm(t, p, event_realtime(t, ev->timestamp_ns));
	tracker_queue_change(t, LIN_CHANGE_COMM, p);
}

void tracker_apply_ids(struct tracker *t, struct lin_process *p, gboolean uid, guint32 real,
                       guint32 effective, guint64 timestamp_ns)
{
	guint32 old_real, old_eff;

	if (uid) {
		old_real = p->ruid;
		old_eff = p->euid;
		p->ruid = real;
		p->euid = effective;
	} else {
		old_real = p->rgid;
		old_eff = p->egid;
		p->rgid = real;
		p->egid = effective;
	}
	tracker_ctx_ids(t, p, uid, old_real, old_eff, event_realtime(t, timestamp_ns));
	tracker_queue_change(t, LIN_CHANGE_ID, p);
}

/*
 * A UID or GID event: every change of a process's credentials sends one
 * (commit_creds()), the exec of a set-user-ID or set-group-ID file
 * included, before its EXEC. That is why an EXEC need not read status
 * (see exec_needs_status()). A child may change its ids before its FORK is
 * sent (the parent sends it after waking the child): kept until the FORK.
 */
static void handle_id(struct tracker *t, const struct cnproc_event *ev)
{
	struct lin_process *p = tracker_running_pid(t, ev->tgid);
	gboolean uid = ev->type == CNPROC_EV_UID;

	if (uid)
		t->stats.events_uid++;
	else
		t->stats.events_gid++;
	if (ev->pid != ev->tgid)
		return;
	if (!p) {
		struct pending *pending =
		    g_hash_table_lookup(t->pending, GINT_TO_POINTER(ev->tgid));

		/* Its own timestamp: an EXEC or EXIT noted there keeps theirs. */
		if (!pending)
			pending = pending_get(t, ev->tgid, ev->timestamp_ns);
		if (uid) {
			pending->uid_seen = TRUE;
			pending->uid[0] = ev->u.id.real;
			pending->uid[1] = ev->u.id.effective;
		} else {
			pending->gid_seen = TRUE;
			pending->gid[0] = ev->u.id.real;
			pending->gid[1] = ev->u.id.effective;
		}
		pending->ids_timestamp_ns = ev->timestamp_ns;
		return;
	}
	tracker_apply_ids(t, p, uid, ev->u.id.real, ev->u.id.effective, ev->timestamp_ns);
}

/* Most machines have few CPUs; a bogus cpu number from a corrupt message
 * must not make the table huge. */
#define SEQ_MAX_CPUS 8192

/* The connector numbers its messages per CPU: a gap means the kernel
 * dropped events (a full socket, or a failed allocation on its side). */
static void check_seq(struct tracker *t, const struct cnproc_event *ev)
{
	struct cpu_seq *cpu;

	if (!ev->seq_valid || ev->cpu >= SEQ_MAX_CPUS)
		return;
	if (ev->cpu >= t->cpu_seqs->len)
		g_array_set_size(t->cpu_seqs, ev->cpu + 1);
	cpu = &g_array_index(t->cpu_seqs, struct cpu_seq, ev->cpu);
	if (cpu->seen) {
		guint32 missing = ev->seq - cpu->expect; /* modulo 2^32: wraps fine */

		/* "Behind" (missing >= 2^31) only happens on corrupt input:
		 * resynchronize without counting. */
		if (missing != 0 && missing < G_MAXINT32) {
			t->stats.events_lost += missing;
			t->rescan_wanted = TRUE;
			t->ids_uncertain = TRUE;
		}
	}
	cpu->expect = ev->seq + 1;
	cpu->seen = TRUE;
}

void tracker_apply_event(struct tracker *t, const struct cnproc_event *ev,
                         const struct lin_proc_info *info)
{
	tracker_write_lock(t);
	t->applying = ev;
	check_seq(t, ev);
	switch (ev->type) {
	case CNPROC_EV_FORK:
		if (ev->pid == ev->tgid)
			handle_fork(t, ev, info);
		else
			handle_thread_fork(t, ev);
		break;
	case CNPROC_EV_EXEC:
		handle_exec(t, ev, info);
		break;
	case CNPROC_EV_EXIT:
		handle_exit(t, ev);
		break;
	case CNPROC_EV_COMM:
		handle_comm(t, ev);
		break;
	case CNPROC_EV_UID:
	case CNPROC_EV_GID:
		handle_id(t, ev);
		break;
	case CNPROC_EV_OTHER:
		t->stats.events_other++;
		break;
	}
	tracker_enforce_retention(t);
	tracker_ctx_event_done(t);
	t->applying = NULL;
	tracker_write_unlock(t);
}

void tracker_event_begin(struct tracker *t, const struct cnproc_event *ev, struct tracker_read *rd)
{
	rd->begun = ev->type == CNPROC_EV_EXEC;
	rd->child = TRACKER_CHILD_UNREAD;
	rd->exe_hash = NULL;
	rd->child_execd = FALSE;
	rd->child_gone_ns = 0;
	rd->child_read_ns = 0;
	memset(&rd->child_image, 0, sizeof(rd->child_image));
	rd->superseded = FALSE;
	if (rd->begun) {
		/* The context after cmdline, exe and stat, never before. */
		guint what = PROC_READ_ALL | PROC_READ_CONTEXT;

		rd->read_ns = lin_metrics_now_ns();
		if (rd->read_ns > ev->timestamp_ns + TRACKER_EXEC_LATE_NS)
			what |= PROC_READ_URGENT;
		proc_scan_begin_with(t->cfg.proc_root_fd, ev->tgid, what, t->cfg.max_cmdline,
		                     &t->ctx_opts, &rd->proc);
		tracker_ctx_begin(t, rd);
	}
}

gboolean tracker_event_cmdline_pending(const struct tracker_read *rd)
{
	return rd->begun && proc_scan_cmdline_pending(&rd->proc);
}

gboolean tracker_event_superseded(struct tracker_read *rd, const struct cnproc_event *fork)
{
	if (!rd->begun || rd->superseded || fork->timestamp_ns >= rd->read_ns)
		return FALSE;
	rd->superseded = TRUE;
	return TRUE;
}

gboolean tracker_event_lend_stat(const struct tracker_read *exec_rd, struct tracker_read *fork_rd)
{
	const struct lin_stat *stat;

	if (!exec_rd->begun)
		return FALSE;
	/* Perhaps the later holder's stat: the child's is unknown. */
	if (exec_rd->superseded) {
		tracker_event_give_child_stat(fork_rd, NULL);
		return TRUE;
	}
	stat = proc_scan_begun_stat(&exec_rd->proc);
	if (stat) {
		tracker_event_give_child_stat(fork_rd, stat);
		fork_rd->child_execd = TRUE;
		return TRUE;
	}
	/* Reaped before the EXEC's read: so it is by the FORK's. Any other
	 * failure (out of fds) says nothing about the child. */
	if (exec_rd->proc.err == -ENOENT || exec_rd->proc.err == -ESRCH) {
		tracker_event_give_child_stat(fork_rd, NULL);
		return TRUE;
	}
	return FALSE;
}

gboolean tracker_event_wants_child_stat(const struct cnproc_event *ev,
                                        const struct tracker_read *rd)
{
	return ev->type == CNPROC_EV_FORK && ev->pid == ev->tgid &&
	       rd->child == TRACKER_CHILD_UNREAD;
}

void tracker_event_child_gone(struct tracker_read *fork_rd, guint64 timestamp_ns)
{
	if (fork_rd->child_gone_ns == 0 || timestamp_ns < fork_rd->child_gone_ns)
		fork_rd->child_gone_ns = timestamp_ns;
	/* Whatever the image was, the child shows its parent's. */
	if (fork_rd->child_read_ns > timestamp_ns) {
		lin_proc_info_clear(&fork_rd->child_image);
		fork_rd->child_read_ns = 0;
	}
}

void tracker_event_give_child_image(struct tracker_read *fork_rd, const struct lin_stat *stat,
                                    struct lin_proc_info *image, guint64 read_ns)
{
	tracker_event_give_child_stat(fork_rd, stat);
	if (stat && (image->read_ok & (PROC_READ_CMDLINE | PROC_READ_EXE)) &&
	    (fork_rd->child_gone_ns == 0 || read_ns < fork_rd->child_gone_ns)) {
		fork_rd->child_read_ns = read_ns;
		lin_proc_info_clear(&fork_rd->child_image);
		fork_rd->child_image = *image;
		memset(image, 0, sizeof(*image));
	}
}

guint64 tracker_event_parent_image(struct tracker *t, const struct cnproc_event *ev)
{
	const struct lin_process *parent = tracker_running_pid(t, ev->u.fork.parent_tgid);

	return parent && ev->type == CNPROC_EV_FORK ? parent->start_stack : 0;
}

void tracker_event_give_child_stat(struct tracker_read *fork_rd, const struct lin_stat *stat)
{
	if (stat) {
		fork_rd->child_stat = *stat;
		fork_rd->child = TRACKER_CHILD_KNOWN;
	} else {
		fork_rd->child = TRACKER_CHILD_GONE;
	}
}

/*
 * Whether a FORK's child, read before any exec of its own, runs another
 * image than its reported parent: the stack address of a forked child is
 * its parent's, while ASLR gives every exec its own. Only then is its own
 * image read: a child made with CLONE_PARENT runs its real creator's
 * program, not the parent's the kernel names. An ordinary fork costs
 * nothing more than the stat it was read for. Reads the table without the
 * lock: only this, the feeding, thread writes it.
 */
static gboolean fork_image_differs(struct tracker *t, const struct cnproc_event *ev,
                                   const struct lin_proc_info *child)
{
	const struct lin_process *parent = tracker_running_pid(t, ev->u.fork.parent_tgid);

	return parent && (child->read_ok & PROC_READ_STAT) && parent->start_stack != 0 &&
	       child->stat.start_stack != 0 && !(child->stat.flags & LIN_PF_KTHREAD) &&
	       child->stat.start_stack != parent->start_stack &&
	       child->stat.start_ticks <= event_start_ticks(t, ev->timestamp_ns);
}

/* The child's own cmdline and exe, through a directory fd checked to be
 * the same process (its start time); on failure the stat alone stays. */
static void read_own_image(struct tracker *t, const struct cnproc_event *ev,
                           struct lin_proc_info *child)
{
	struct lin_proc_info own;

	if (proc_scan_read_process(t->cfg.proc_root_fd, ev->pid, child->stat.start_ticks,
	                           PROC_READ_STAT | PROC_READ_CMDLINE | PROC_READ_EXE,
	                           t->cfg.max_cmdline, &own) < 0)
		return;
	lin_proc_info_clear(child);
	*child = own;
}

/*
 * An EXEC reads status for the process's ids alone. A process has its
 * creator's ids from the fork on, and UID/GID events report every change
 * since, the exec of a set-user-ID or set-group-ID file included (see
 * handle_id()). So status is read only when the table may not know the
 * ids: no record with known ids, or events were lost and no rescan has
 * read every process's ids since (see tracker_rescan()). Reads the table
 * without the lock: only this, the feeding, thread writes it.
 */
static gboolean exec_needs_status(struct tracker *t, const struct cnproc_event *ev)
{
	const struct lin_process *p = tracker_running_pid(t, ev->tgid);

	return !p || !(p->flags & LIN_PROC_IDS_KNOWN) || t->ids_uncertain;
}

void tracker_event_finish(struct tracker *t, const struct cnproc_event *ev, struct tracker_read *rd)
{
	struct lin_proc_info info = {0};

	/* Read /proc before locking: readers must not hold up the feeder. */
	if (rd->begun) {
		const struct lin_process *p = tracker_running_pid(t, ev->tgid);

		if (!exec_needs_status(t, ev))
			rd->proc.what &= ~(guint)PROC_READ_STATUS;
		if (p && p->ctx && (p->ctx->known & LIN_CTX_KNOWN_AUDIT))
			proc_scan_know_audit(&rd->proc, p->ctx->loginuid, p->ctx->sessionid);
		if (rd->superseded) {
			/* As if the process had been gone: a miss. */
			proc_scan_abandon(&rd->proc);
			info.read_gone = rd->proc.what;
		} else {
			proc_scan_finish(&rd->proc, 0, &info);
		}
		rd->begun = FALSE;
	} else if (ev->type == CNPROC_EV_FORK && ev->pid == ev->tgid) {
		/* The child's start time names it. */
		switch (rd->child) {
		case TRACKER_CHILD_KNOWN:
			if (rd->child_image.read_ok & PROC_READ_STAT) {
				/* Read with the stat: its image was not its parent's. */
				info = rd->child_image;
				memset(&rd->child_image, 0, sizeof(rd->child_image));
			} else {
				info.stat = rd->child_stat;
				info.read_ok = PROC_READ_STAT;
			}
			break;
		case TRACKER_CHILD_GONE:
			break;
		case TRACKER_CHILD_UNREAD:
			/* Only once the child's EXIT is queued (it is past any
			 * execve(), nothing here blocks), or when waiting is not
			 * an option. */
			proc_scan_read_process(t->cfg.proc_root_fd, ev->pid, 0, PROC_READ_STAT, 0,
			                       &info);
			/* Once the child has exited, an image at its pid is a
			 * later holder's (in the same tick, the start time
			 * cannot tell): an exited process has no memory map,
			 * its stat shows no stack. */
			if (rd->child_gone_ns == 0 && fork_image_differs(t, ev, &info))
				read_own_image(t, ev, &info);
			break;
		}
	}
	t->applying_hash = g_steal_pointer(&rd->exe_hash);
	tracker_apply_event(t, ev, &info);
	/* Not taken when the EXEC found no process to apply it to. */
	exe_hash_entry_unref(g_steal_pointer(&t->applying_hash));
	lin_proc_info_clear(&info);
}

void tracker_event_abandon(struct tracker_read *rd)
{
	if (rd->begun)
		proc_scan_abandon(&rd->proc);
	rd->begun = FALSE;
	exe_hash_entry_unref(g_steal_pointer(&rd->exe_hash));
	lin_proc_info_clear(&rd->child_image);
}

void tracker_handle_event(struct tracker *t, const struct cnproc_event *ev)
{
	struct tracker_read rd;

	tracker_event_begin(t, ev, &rd);
	tracker_event_finish(t, ev, &rd);
}

void tracker_count_malformed(struct tracker *t)
{
	tracker_write_lock(t);
	t->stats.events_malformed++;
	tracker_write_unlock(t);
}

void tracker_tick(struct tracker *t)
{
	struct suspect {
		pid_t pid;
		guint64 start_ticks;
	};
	guint64 now = tracker_now_monotonic(t);
	g_autoptr(GArray) suspects = g_array_new(FALSE, FALSE, sizeof(struct suspect));
	GHashTableIter iter;
	gpointer value;

	tracker_ctx_tick(t);
	tracker_write_lock(t);
	g_hash_table_iter_init(&iter, t->pending);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		struct pending *pending = value;

		if (pending->timestamp_ns + PENDING_EXPIRE_NS < now)
			g_hash_table_iter_remove(&iter);
	}
	for (guint i = 0; i < t->leader_exited->len; i++) {
		struct lin_process *p = g_ptr_array_index(t->leader_exited, i);
		struct suspect suspect = {p->pid, p->start_ticks};

		if (p->exit_ns + LEADER_CHECK_NS < now)
			g_array_append_val(suspects, suspect);
	}
	tracker_write_unlock(t);

	/* A leader gone for a while with threads "alive": check /proc in case
	 * a thread's EXIT was lost. */
	for (guint i = 0; i < suspects->len; i++) {
		const struct suspect *suspect = &g_array_index(suspects, struct suspect, i);
		struct lin_proc_info info = {0};
		g_autoptr(GArray) tids = g_array_new(FALSE, FALSE, sizeof(pid_t));
		struct lin_process *p;
		int err;

		/* The leader itself is a zombie: the process lives while
		 * /proc/<pid>/task lists another thread. */
		err = proc_scan_read_process(t->cfg.proc_root_fd, suspect->pid,
		                             suspect->start_ticks, PROC_READ_STAT, 0, &info);
		lin_proc_info_clear(&info);
		if (err == 0 && proc_scan_threads(t->cfg.proc_root_fd, suspect->pid, tids) == 0 &&
		    tids->len > 0)
			continue;
		tracker_write_lock(t);
		p = tracker_find(t, suspect->pid, suspect->start_ticks);
		if (p && (p->flags & LIN_PROC_LEADER_EXITED))
			tracker_process_set_exited(t, p, exit_kind_of(p->exit_status),
			                           p->exit_status, tracker_now_realtime(t));
		tracker_write_unlock(t);
	}
}
