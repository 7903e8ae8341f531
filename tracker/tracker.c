/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The process table. Records are keyed by (pid, start ticks) so a recycled
 * pid never merges two processes; each keeps a pointer to its creator (the
 * process the FORK event named, never the parent the kernel reparents to),
 * its children in creation order, and its exit. Exited records stay until
 * the retention limit, oldest first, except those that are ancestors of a
 * running process. One thread feeds the table from kernel events and /proc
 * scans; it reads /proc before taking the write lock so that readers never
 * delay the capture of a short-lived process's cmdline.
 */
#include "config.h"
#include "tracker.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
};

/* The connector's numbering of one CPU's messages. */
struct cpu_seq {
	guint32 expect; /* the seq the next message should carry */
	gboolean seen;
};

struct tracker {
	/* Writers are preferred: the feeding thread must not starve behind a
	 * stream of readers (find over the whole mount). */
	pthread_rwlock_t lock;
	struct tracker_config cfg;

	/* Everything below is protected by lock, and written only by the
	 * feeding thread. */
	struct lin_strpool *strings;
	GHashTable *by_serial;    /* set of struct lin_process *, hashed by serial */
	GHashTable *by_pid;       /* set of the newest record of each pid, hashed by pid */
	GHashTable *threads;      /* tid -> struct lin_process * (non-leader threads) */
	GHashTable *pending;      /* pid -> struct pending * */
	GPtrArray *leader_exited; /* records with LIN_PROC_LEADER_EXITED */
	struct lin_process *all_head, *all_tail;
	struct lin_process *evict_head, *evict_tail;
	struct lin_process *free_records; /* recycled, linked through all_next */
	guint64 next_serial;
	guint64 records;
	struct tracker_stats stats;
	gboolean rescan_wanted;
	GArray *cpu_seqs; /* struct cpu_seq, indexed by cpu */

	/* Only the feeding thread touches these. */
	tracker_change_fn change_fn;
	void *change_data;
	GArray *changes; /* struct lin_change, delivered after unlock */
};

static guint64 clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (guint64)ts.tv_sec * 1000000000ull + (guint64)ts.tv_nsec;
}

static guint64 real_now_realtime(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static guint64 real_now_monotonic(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

void tracker_config_init_system(struct tracker_config *cfg, int proc_root_fd)
{
	guint64 mono = clock_ns(CLOCK_MONOTONIC);
	guint64 boot = clock_ns(CLOCK_BOOTTIME);
	guint64 real = clock_ns(CLOCK_REALTIME);
	long hz = sysconf(_SC_CLK_TCK);

	memset(cfg, 0, sizeof(*cfg));
	cfg->proc_root_fd = proc_root_fd;
	cfg->max_exited = 100000;
	cfg->boot_offset_ns = boot > mono ? boot - mono : 0;
	cfg->boot_realtime_ns = real > boot ? real - boot : 0;
	cfg->hz = hz > 0 ? (guint)hz : 100;
}

static guint64 now_monotonic(const struct tracker *t)
{
	return t->cfg.now_monotonic_ns ? t->cfg.now_monotonic_ns() : real_now_monotonic();
}

static guint64 now_realtime(const struct tracker *t)
{
	return t->cfg.now_realtime_ns ? t->cfg.now_realtime_ns() : real_now_realtime();
}

/* The kernel stamps events with ktime_get_ns() (monotonic); start times and
 * wall-clock times are derived through the boot offsets taken at start. */
static guint64 event_realtime(const struct tracker *t, guint64 timestamp_ns)
{
	return t->cfg.boot_realtime_ns + t->cfg.boot_offset_ns + timestamp_ns;
}

static guint64 event_start_ticks(const struct tracker *t, guint64 timestamp_ns)
{
	return (t->cfg.boot_offset_ns + timestamp_ns) / (1000000000ull / t->cfg.hz);
}

static void queue_change(struct tracker *t, enum lin_change_kind kind, struct lin_process *p)
{
	struct lin_change change = {
	    .kind = kind,
	    .serial = p->serial,
	    .pid = p->pid,
	    .start_ticks = p->start_ticks,
	    .creator_serial = p->creator ? p->creator->serial : 0,
	    .seen = p->fs_seen,
	    .creator_seen = p->creator ? p->creator->fs_seen : 0,
	};

	p->generation++;
	if (t->change_fn)
		g_array_append_val(t->changes, change);
}

static void queue_creator_change(struct tracker *t, struct lin_process *p,
                                 const struct lin_process *old_creator)
{
	struct lin_change change = {
	    .kind = LIN_CHANGE_CREATOR,
	    .serial = p->serial,
	    .pid = p->pid,
	    .start_ticks = p->start_ticks,
	    .creator_serial = p->creator ? p->creator->serial : 0,
	    .old_creator_serial = old_creator ? old_creator->serial : 0,
	    .seen = p->fs_seen,
	    .creator_seen = p->creator ? p->creator->fs_seen : 0,
	    .old_creator_seen = old_creator ? old_creator->fs_seen : 0,
	};

	p->generation++;
	if (t->change_fn)
		g_array_append_val(t->changes, change);
}

static void write_lock(struct tracker *t)
{
	pthread_rwlock_wrlock(&t->lock);
}

/* Releases the write lock, then tells the listener what changed: it may
 * queue kernel cache invalidations, which must never be sent under a lock
 * that FUSE callbacks take. */
static void write_unlock(struct tracker *t)
{
	pthread_rwlock_unlock(&t->lock);
	for (guint i = 0; i < t->changes->len; i++)
		t->change_fn(&g_array_index(t->changes, struct lin_change, i), t->change_data);
	g_array_set_size(t->changes, 0);
}

/* ---- records and indexes ---- */

static gboolean is_newest(struct tracker *t, const struct lin_process *p)
{
	return tracker_find_pid(t, p->pid) == p;
}

static void by_pid_insert(struct tracker *t, struct lin_process *p)
{
	p->older_same_pid = tracker_find_pid(t, p->pid);
	/* Replaces the older holder, an equal key. */
	g_hash_table_add(t->by_pid, p);
}

static void by_pid_remove(struct tracker *t, struct lin_process *p)
{
	struct lin_process *newest = tracker_find_pid(t, p->pid);

	if (newest == p) {
		if (p->older_same_pid)
			g_hash_table_add(t->by_pid, p->older_same_pid);
		else
			g_hash_table_remove(t->by_pid, p);
	} else {
		struct lin_process **link = &newest;

		while (*link && *link != p)
			link = &(*link)->older_same_pid;
		if (*link)
			*link = p->older_same_pid;
	}
	p->older_same_pid = NULL;
}

static void evict_unlink(struct tracker *t, struct lin_process *p)
{
	if (!(p->flags & LIN_PROC_EVICTABLE))
		return;
	if (p->evict_prev)
		p->evict_prev->evict_next = p->evict_next;
	else
		t->evict_head = p->evict_next;
	if (p->evict_next)
		p->evict_next->evict_prev = p->evict_prev;
	else
		t->evict_tail = p->evict_prev;
	p->evict_prev = p->evict_next = NULL;
	p->flags &= ~LIN_PROC_EVICTABLE;
	t->stats.processes_pinned++;
}

static void evict_append(struct tracker *t, struct lin_process *p)
{
	if (p->flags & LIN_PROC_EVICTABLE)
		return;
	p->evict_prev = t->evict_tail;
	p->evict_next = NULL;
	if (t->evict_tail)
		t->evict_tail->evict_next = p;
	else
		t->evict_head = p;
	t->evict_tail = p;
	p->flags |= LIN_PROC_EVICTABLE;
	t->stats.processes_pinned--;
}

/* A record is kept (never forgotten) while it runs or while one of its
 * descendants runs: keep_children counts the children that are kept. */
static gboolean is_kept(const struct lin_process *p)
{
	return lin_process_running(p) || p->keep_children > 0;
}

/* p became kept (or stopped being kept): walk up the creator chain while
 * that changes whether each ancestor is kept. */
static void propagate_kept(struct tracker *t, struct lin_process *p, gboolean kept)
{
	for (struct lin_process *c = p->creator; c; c = c->creator) {
		gboolean was = is_kept(c);

		if (kept)
			c->keep_children++;
		else
			c->keep_children--;
		if (is_kept(c) == was)
			break;
		if (kept)
			evict_unlink(t, c);
		else
			evict_append(t, c);
	}
}

static void child_link(struct lin_process *creator, struct lin_process *child)
{
	struct lin_process *after = creator->last_child;

	/* Children stay in serial order so readdir can resume by serial. A
	 * record is almost always newer than its siblings: append. */
	while (after && after->serial > child->serial)
		after = after->prev_sibling;
	child->creator = creator;
	child->prev_sibling = after;
	child->next_sibling = after ? after->next_sibling : creator->first_child;
	if (child->next_sibling)
		child->next_sibling->prev_sibling = child;
	else
		creator->last_child = child;
	if (after)
		after->next_sibling = child;
	else
		creator->first_child = child;
}

static void child_unlink(struct lin_process *child)
{
	struct lin_process *creator = child->creator;

	if (!creator)
		return;
	if (child->prev_sibling)
		child->prev_sibling->next_sibling = child->next_sibling;
	else
		creator->first_child = child->next_sibling;
	if (child->next_sibling)
		child->next_sibling->prev_sibling = child->prev_sibling;
	else
		creator->last_child = child->prev_sibling;
	child->prev_sibling = child->next_sibling = NULL;
	child->creator = NULL;
}

static void set_creator(struct tracker *t, struct lin_process *child, struct lin_process *creator)
{
	gboolean kept = is_kept(child);

	if (child->creator == creator)
		return;
	if (child->creator) {
		if (kept)
			propagate_kept(t, child, FALSE);
		child_unlink(child);
	}
	if (!creator || creator == child)
		return;
	/* Refuse a link that would make a cycle (possible only from corrupt or
	 * adversarial input, but a cycle would hang ancestry walks). */
	for (struct lin_process *a = creator; a; a = a->creator)
		if (a == child)
			return;
	child_link(creator, child);
	if (kept)
		propagate_kept(t, child, TRUE);
}

static struct lin_process *process_new(struct tracker *t, pid_t pid, guint64 start_ticks,
                                       guint64 seen_ns)
{
	struct lin_process *p = t->free_records;

	if (p) {
		t->free_records = p->all_next;
		memset(p, 0, sizeof(*p));
	} else {
		p = g_new0(struct lin_process, 1);
	}
	p->serial = ++t->next_serial;
	p->pid = pid;
	p->start_ticks = start_ticks;
	p->seen_ns = seen_ns;

	p->all_prev = t->all_tail;
	if (t->all_tail)
		t->all_tail->all_next = p;
	else
		t->all_head = p;
	t->all_tail = p;
	g_hash_table_add(t->by_serial, p);
	by_pid_insert(t, p);
	t->records++;
	t->stats.processes_live++;
	return p;
}

static void set_str(struct tracker *t, struct lin_str **slot, struct lin_str *value)
{
	lin_strpool_unref(t->strings, *slot);
	*slot = value;
}

static void threads_clear(struct tracker *t, struct lin_process *p)
{
	GHashTableIter iter;
	gpointer value;

	if (p->live_threads == 0)
		return;
	g_hash_table_iter_init(&iter, t->threads);
	while (g_hash_table_iter_next(&iter, NULL, &value))
		if (value == p)
			g_hash_table_iter_remove(&iter);
	t->stats.threads_live -= p->live_threads;
	p->live_threads = 0;
}

static void thread_add(struct tracker *t, struct lin_process *p, pid_t tid)
{
	struct lin_process *owner = g_hash_table_lookup(t->threads, GINT_TO_POINTER(tid));

	if (owner == p)
		return;
	if (owner) {
		/* The tid belonged to another process whose thread exit was lost. */
		owner->live_threads--;
		t->stats.threads_live--;
	}
	g_hash_table_insert(t->threads, GINT_TO_POINTER(tid), p);
	p->live_threads++;
	t->stats.threads_live++;
	queue_change(t, LIN_CHANGE_THREADS, p);
}

static void leader_exited_forget(struct tracker *t, struct lin_process *p)
{
	if (p->flags & LIN_PROC_LEADER_EXITED) {
		g_ptr_array_remove_fast(t->leader_exited, p);
		p->flags &= ~LIN_PROC_LEADER_EXITED;
		p->exit_status = 0;
		p->exit_ns = 0;
	}
}

/* The kind of exit a raw wait status describes. */
static enum lin_exit_kind exit_kind_of(guint32 status)
{
	return WIFSIGNALED(status) ? LIN_EXIT_SIGNAL : LIN_EXIT_CODE;
}

static void process_set_exited(struct tracker *t, struct lin_process *p, enum lin_exit_kind kind,
                               guint32 exit_status, guint64 exit_ns)
{
	if (!lin_process_running(p))
		return;
	threads_clear(t, p);
	leader_exited_forget(t, p);
	p->exit_kind = kind;
	p->exit_status = exit_status;
	p->exit_ns = exit_ns;
	t->stats.processes_live--;
	t->stats.processes_exited++;
	if (kind == LIN_EXIT_UNKNOWN)
		t->stats.exits_missed++;
	if (p->keep_children == 0) {
		/* Counted as pinned until it enters the queue. */
		t->stats.processes_pinned++;
		evict_append(t, p);
		propagate_kept(t, p, FALSE);
	} else {
		t->stats.processes_pinned++;
	}
	queue_change(t, LIN_CHANGE_EXIT, p);
}

/* An exit was recorded for a process that still runs (an exec from a
 * non-leader thread reports the leader's EXIT first, then the EXEC). */
static void process_revive(struct tracker *t, struct lin_process *p)
{
	gboolean kept = is_kept(p);

	if (lin_process_running(p))
		return;
	if (p->flags & LIN_PROC_EVICTABLE)
		evict_unlink(t, p);
	t->stats.processes_pinned--;
	if (p->exit_kind == LIN_EXIT_UNKNOWN)
		t->stats.exits_missed--;
	p->exit_kind = LIN_EXIT_RUNNING;
	p->exit_status = 0;
	p->exit_ns = 0;
	t->stats.processes_live++;
	t->stats.processes_exited--;
	if (!kept)
		propagate_kept(t, p, TRUE);
}

static void process_forget(struct tracker *t, struct lin_process *p)
{
	queue_change(t, LIN_CHANGE_FORGET, p);
	evict_unlink(t, p);
	t->stats.processes_pinned--;
	/* The children outlive their creator's record: their parent link
	 * must go from the kernel's cache too. */
	while (p->first_child) {
		struct lin_process *child = p->first_child;

		child_unlink(child);
		queue_creator_change(t, child, p);
	}
	child_unlink(p);
	by_pid_remove(t, p);
	g_hash_table_remove(t->by_serial, p);
	if (p->all_prev)
		p->all_prev->all_next = p->all_next;
	else
		t->all_head = p->all_next;
	if (p->all_next)
		p->all_next->all_prev = p->all_prev;
	else
		t->all_tail = p->all_prev;
	set_str(t, &p->comm, NULL);
	set_str(t, &p->exe, NULL);
	set_str(t, &p->cmdline, NULL);
	t->records--;
	t->stats.processes_exited--;
	t->stats.processes_forgotten++;
	p->all_next = t->free_records;
	t->free_records = p;
}

static void enforce_retention(struct tracker *t)
{
	if (t->cfg.max_exited == 0)
		return;
	while (t->stats.processes_exited > t->cfg.max_exited && t->evict_head)
		process_forget(t, t->evict_head);
}

/* Fills a record's descriptive fields from a /proc read. */
static void apply_info(struct tracker *t, struct lin_process *p, const struct lin_proc_info *info)
{
	if (info->read_ok & PROC_READ_STAT) {
		set_str(t, &p->comm,
		        lin_strpool_intern(t->strings, info->stat.comm, strlen(info->stat.comm)));
		if (info->stat.flags & LIN_PF_KTHREAD)
			p->flags |= LIN_PROC_KTHREAD;
	}
	if (info->read_ok & PROC_READ_STATUS) {
		p->ruid = info->status.ruid;
		p->euid = info->status.euid;
		p->rgid = info->status.rgid;
		p->egid = info->status.egid;
	}
	if (info->read_ok & PROC_READ_CMDLINE) {
		set_str(t, &p->cmdline,
		        info->cmdline_len
		            ? lin_strpool_intern(t->strings, info->cmdline, info->cmdline_len)
		            : NULL);
		p->flags &= ~LIN_PROC_CMDLINE_MISSED;
		if (info->cmdline_truncated)
			p->flags |= LIN_PROC_CMDLINE_TRUNCATED;
		else
			p->flags &= ~LIN_PROC_CMDLINE_TRUNCATED;
	} else if (!(p->flags & LIN_PROC_KTHREAD)) {
		set_str(t, &p->cmdline, NULL);
		p->flags |= LIN_PROC_CMDLINE_MISSED;
	}
	if (info->read_ok & PROC_READ_EXE)
		set_str(t, &p->exe,
		        info->exe ? lin_strpool_intern(t->strings, info->exe, strlen(info->exe))
		                  : NULL);
	else
		set_str(t, &p->exe, NULL);
}

/* The running record the kernel means by pid, or NULL. */
static struct lin_process *running_pid(struct tracker *t, pid_t pid)
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
	struct lin_process *old = running_pid(t, info->stat.pid);

	if (p) {
		process_revive(t, p);
		return p;
	}
	if (old)
		process_set_exited(t, old, LIN_EXIT_UNKNOWN, 0, now_realtime(t));
	p = process_new(t, info->stat.pid, info->stat.start_ticks, seen_ns);
	p->flags |= extra_flags;
	p->creator_pid = info->stat.ppid;
	apply_info(t, p, info);
	set_creator(t, p, running_pid(t, info->stat.ppid));
	queue_change(t, LIN_CHANGE_NEW, p);
	return p;
}

static void apply_pending(struct tracker *t, struct lin_process *p)
{
	struct pending *pending = g_hash_table_lookup(t->pending, GINT_TO_POINTER(p->pid));

	if (!pending)
		return;
	if (pending->exec_missed) {
		set_str(t, &p->cmdline, NULL);
		set_str(t, &p->exe, NULL);
		p->flags |= LIN_PROC_CMDLINE_MISSED;
		p->exec_count++;
		t->stats.cmdline_missed++;
		queue_change(t, LIN_CHANGE_EXEC, p);
	}
	if (pending->exited)
		process_set_exited(t, p, exit_kind_of(pending->exit_status), pending->exit_status,
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
	p = running_pid(t, ev->tgid);
	if (p)
		thread_add(t, p, ev->pid);
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

static void handle_fork(struct tracker *t, const struct cnproc_event *ev,
                        const struct lin_proc_info *child)
{
	struct lin_process *p = tracker_find_pid(t, ev->pid);
	struct lin_process *creator = running_pid(t, ev->u.fork.parent_tgid);
	struct lin_process *old_creator;

	t->stats.events_fork++;
	if (!(p && fork_is_for(p, child, ev->timestamp_ns)) && (child->read_ok & PROC_READ_STAT))
		p = tracker_find(t, ev->pid, child->stat.start_ticks);
	if (p &&
	    (fork_is_for(p, child, ev->timestamp_ns) ||
	     ((child->read_ok & PROC_READ_STAT) && p->start_ticks == child->stat.start_ticks))) {
		/* The EXEC, EXIT or scan came first: the FORK only names the creator. */
		if (!(p->flags & LIN_PROC_FROM_SCAN))
			t->stats.out_of_order++;
		p->flags |= LIN_PROC_FORK_SEEN;
		p->creator_pid = ev->u.fork.parent_tgid;
		old_creator = p->creator;
		if (creator && p->creator != creator)
			set_creator(t, p, creator);
		/* PPid and Creator of its status changed, if nothing else. */
		queue_creator_change(t, p, old_creator);
		return;
	}
	p = running_pid(t, ev->pid);
	if (p)
		process_set_exited(t, p, LIN_EXIT_UNKNOWN, 0, event_realtime(t, ev->timestamp_ns));

	if (child->read_ok & PROC_READ_STAT) {
		p = process_new(t, ev->pid, child->stat.start_ticks, ev->timestamp_ns);
	} else {
		p = process_new(t, ev->pid, event_start_ticks(t, ev->timestamp_ns),
		                ev->timestamp_ns);
		p->flags |= LIN_PROC_START_ESTIMATED;
	}
	p->flags |= LIN_PROC_FORK_SEEN;
	p->creator_pid = ev->u.fork.parent_tgid;
	if (creator) {
		/* Until it execs, a child runs its creator's program. */
		p->comm = lin_str_ref(creator->comm);
		p->exe = lin_str_ref(creator->exe);
		p->cmdline = lin_str_ref(creator->cmdline);
		p->flags |= creator->flags & (LIN_PROC_CMDLINE_MISSED | LIN_PROC_CMDLINE_TRUNCATED |
		                              LIN_PROC_KTHREAD);
		p->ruid = creator->ruid;
		p->euid = creator->euid;
		p->rgid = creator->rgid;
		p->egid = creator->egid;
		/* A new kernel thread is named by its creator without a COMM
		 * event: the child's own stat has the truth when we caught it. */
		if (child->read_ok & PROC_READ_STAT)
			set_str(t, &p->comm,
			        lin_strpool_intern(t->strings, child->stat.comm,
			                           strlen(child->stat.comm)));
	} else if (child->read_ok & PROC_READ_STAT) {
		apply_info(t, p, child);
	}
	set_creator(t, p, creator);
	queue_change(t, LIN_CHANGE_NEW, p);
	apply_pending(t, p);
}

static void handle_exec(struct tracker *t, const struct cnproc_event *ev,
                        const struct lin_proc_info *info)
{
	struct lin_process *p = running_pid(t, ev->tgid);

	t->stats.events_exec++;
	if (!(info->read_ok & PROC_READ_STAT)) {
		/* Gone before we could read it. */
		t->stats.cmdline_missed++;
		if (!p) {
			pending_get(t, ev->tgid, ev->timestamp_ns)->exec_missed = TRUE;
			t->stats.out_of_order++;
			return;
		}
		set_str(t, &p->cmdline, NULL);
		set_str(t, &p->exe, NULL);
		p->flags |= LIN_PROC_CMDLINE_MISSED;
		p->exec_count++;
		queue_change(t, LIN_CHANGE_EXEC, p);
		return;
	}
	if (!p || p->start_ticks != info->stat.start_ticks) {
		struct lin_process *same = tracker_find(t, ev->tgid, info->stat.start_ticks);

		if (!same)
			t->stats.out_of_order++;
		p = process_from_info(t, info, ev->timestamp_ns, 0);
	}
	threads_clear(t, p);
	leader_exited_forget(t, p);
	apply_info(t, p, info);
	if (!(info->read_ok & PROC_READ_CMDLINE))
		t->stats.cmdline_missed++;
	p->exec_count++;
	queue_change(t, LIN_CHANGE_EXEC, p);
}

static void handle_exit(struct tracker *t, const struct cnproc_event *ev)
{
	guint32 status = ev->u.exit.code;
	enum lin_exit_kind kind = exit_kind_of(status);
	struct lin_process *p = running_pid(t, ev->tgid);
	guint64 exit_ns = event_realtime(t, ev->timestamp_ns);

	if (ev->pid != ev->tgid) {
		struct lin_process *owner =
		    g_hash_table_lookup(t->threads, GINT_TO_POINTER(ev->pid));

		t->stats.events_thread_exit++;
		if (owner) {
			g_hash_table_remove(t->threads, GINT_TO_POINTER(ev->pid));
			owner->live_threads--;
			t->stats.threads_live--;
			queue_change(t, LIN_CHANGE_THREADS, owner);
		}
		/* A process whose leader left with pthread_exit() ends with
		 * its last thread, whose status is the process's. */
		if (p && (p->flags & LIN_PROC_LEADER_EXITED) && p->live_threads == 0)
			process_set_exited(t, p, kind, status, exit_ns);
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
	process_set_exited(t, p, kind, status, exit_ns);
}

static void handle_comm(struct tracker *t, const struct cnproc_event *ev)
{
	struct lin_process *p = running_pid(t, ev->tgid);

	t->stats.events_comm++;
	/* A thread's name is not the process's: /proc/<pid>/comm is the leader's. */
	if (!p || ev->pid != ev->tgid)
		return;
	set_str(t, &p->comm,
	        lin_strpool_intern(t->strings, ev->u.comm.comm,
	                           strnlen(ev->u.comm.comm, sizeof(ev->u.comm.comm))));
	queue_change(t, LIN_CHANGE_COMM, p);
}

static void handle_id(struct tracker *t, const struct cnproc_event *ev)
{
	struct lin_process *p = running_pid(t, ev->tgid);

	if (ev->type == CNPROC_EV_UID)
		t->stats.events_uid++;
	else
		t->stats.events_gid++;
	if (!p || ev->pid != ev->tgid)
		return;
	if (ev->type == CNPROC_EV_UID) {
		p->ruid = ev->u.id.real;
		p->euid = ev->u.id.effective;
	} else {
		p->rgid = ev->u.id.real;
		p->egid = ev->u.id.effective;
	}
	queue_change(t, LIN_CHANGE_ID, p);
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
		}
	}
	cpu->expect = ev->seq + 1;
	cpu->seen = TRUE;
}

void tracker_apply_event(struct tracker *t, const struct cnproc_event *ev,
                         const struct lin_proc_info *info)
{
	write_lock(t);
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
	enforce_retention(t);
	write_unlock(t);
}

void tracker_event_begin(struct tracker *t, const struct cnproc_event *ev, struct tracker_read *rd)
{
	rd->begun = ev->type == CNPROC_EV_EXEC;
	rd->child = TRACKER_CHILD_UNREAD;
	if (rd->begun)
		proc_scan_begin(t->cfg.proc_root_fd, ev->tgid, PROC_READ_ALL, t->cfg.max_cmdline,
		                &rd->proc);
}

gboolean tracker_event_cmdline_pending(const struct tracker_read *rd)
{
	return rd->begun && proc_scan_cmdline_pending(&rd->proc);
}

gboolean tracker_event_lend_stat(const struct tracker_read *exec_rd, struct tracker_read *fork_rd)
{
	const struct lin_stat *stat;

	if (!exec_rd->begun)
		return FALSE;
	stat = proc_scan_begun_stat(&exec_rd->proc);
	if (stat) {
		tracker_event_give_child_stat(fork_rd, stat);
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

void tracker_event_give_child_stat(struct tracker_read *fork_rd, const struct lin_stat *stat)
{
	if (stat) {
		fork_rd->child_stat = *stat;
		fork_rd->child = TRACKER_CHILD_KNOWN;
	} else {
		fork_rd->child = TRACKER_CHILD_GONE;
	}
}

void tracker_event_finish(struct tracker *t, const struct cnproc_event *ev, struct tracker_read *rd)
{
	struct lin_proc_info info = {0};

	/* Read /proc before locking: readers must not hold up the feeder. */
	if (rd->begun) {
		proc_scan_finish(&rd->proc, 0, &info);
		rd->begun = FALSE;
	} else if (ev->type == CNPROC_EV_FORK && ev->pid == ev->tgid) {
		/* The child's start time names it. */
		switch (rd->child) {
		case TRACKER_CHILD_KNOWN:
			info.stat = rd->child_stat;
			info.read_ok = PROC_READ_STAT;
			break;
		case TRACKER_CHILD_GONE:
			break;
		case TRACKER_CHILD_UNREAD:
			proc_scan_read_process(t->cfg.proc_root_fd, ev->pid, 0, PROC_READ_STAT, 0,
			                       &info);
			break;
		}
	}
	tracker_apply_event(t, ev, &info);
	lin_proc_info_clear(&info);
}

void tracker_event_abandon(struct tracker_read *rd)
{
	if (rd->begun)
		proc_scan_abandon(&rd->proc);
	rd->begun = FALSE;
}

void tracker_handle_event(struct tracker *t, const struct cnproc_event *ev)
{
	struct tracker_read rd;

	tracker_event_begin(t, ev, &rd);
	tracker_event_finish(t, ev, &rd);
}

/* ---- /proc scans ---- */

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
	if (info->status.threads > 1) {
		s.tids = g_array_new(FALSE, FALSE, sizeof(pid_t));
		proc_scan_threads(ctx->t->cfg.proc_root_fd, info->stat.pid, s.tids);
	}
	g_array_append_val(ctx->found, s);
}

/* Reads all of /proc (without the lock), then reconciles. */
static int scan_and_apply(struct tracker *t, gboolean repair)
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
	seen_ns = now_monotonic(t);

	write_lock(t);
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
			if (!s || s->info.stat.start_ticks != p->start_ticks)
				process_set_exited(t, p, LIN_EXIT_UNKNOWN, 0, now_realtime(t));
		}
	}
	/* Two passes so that a parent listed after its child is found. */
	for (guint i = 0; i < found->len; i++) {
		struct scanned *s = &g_array_index(found, struct scanned, i);
		struct lin_process *p = tracker_find(t, s->info.stat.pid, s->info.stat.start_ticks);

		if (p)
			continue;
		p = process_new(t, s->info.stat.pid, s->info.stat.start_ticks, seen_ns);
		p->flags |= LIN_PROC_FROM_SCAN;
		p->creator_pid = s->info.stat.ppid;
		apply_info(t, p, &s->info);
		for (guint j = 0; s->tids && j < s->tids->len; j++)
			thread_add(t, p, g_array_index(s->tids, pid_t, j));
		/* A zombie already sent its EXIT, before we listened. */
		if ((s->info.stat.state == 'Z' || s->info.stat.state == 'X') &&
		    p->live_threads == 0)
			process_set_exited(t, p, LIN_EXIT_UNKNOWN, 0, now_realtime(t));
	}
	for (guint i = 0; i < found->len; i++) {
		struct scanned *s = &g_array_index(found, struct scanned, i);
		struct lin_process *p = tracker_find(t, s->info.stat.pid, s->info.stat.start_ticks);

		if (!p || !(p->flags & LIN_PROC_FROM_SCAN) || p->creator || p->seen_ns != seen_ns)
			continue;
		set_creator(t, p, running_pid(t, s->info.stat.ppid));
		queue_change(t, LIN_CHANGE_NEW, p);
	}
	enforce_retention(t);
	write_unlock(t);
	return n;
}

int tracker_bootstrap(struct tracker *t)
{
	return scan_and_apply(t, FALSE);
}

int tracker_rescan(struct tracker *t)
{
	write_lock(t);
	t->stats.rescans++;
	t->rescan_wanted = FALSE;
	write_unlock(t);
	return MIN(scan_and_apply(t, TRUE), 0);
}

void tracker_overflow(struct tracker *t)
{
	write_lock(t);
	t->stats.overflows++;
	write_unlock(t);
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

void tracker_count_malformed(struct tracker *t)
{
	write_lock(t);
	t->stats.events_malformed++;
	write_unlock(t);
}

void tracker_tick(struct tracker *t)
{
	struct suspect {
		pid_t pid;
		guint64 start_ticks;
	};
	guint64 now = now_monotonic(t);
	g_autoptr(GArray) suspects = g_array_new(FALSE, FALSE, sizeof(struct suspect));
	GHashTableIter iter;
	gpointer value;

	write_lock(t);
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
	write_unlock(t);

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
		write_lock(t);
		p = tracker_find(t, suspect->pid, suspect->start_ticks);
		if (p && (p->flags & LIN_PROC_LEADER_EXITED))
			process_set_exited(t, p, exit_kind_of(p->exit_status), p->exit_status,
			                   now_realtime(t));
		write_unlock(t);
	}
}

/* ---- life cycle ---- */

static guint pid_hash(gconstpointer key)
{
	return (guint)((const struct lin_process *)key)->pid;
}

static gboolean pid_equal(gconstpointer a, gconstpointer b)
{
	return ((const struct lin_process *)a)->pid == ((const struct lin_process *)b)->pid;
}

static guint serial_hash(gconstpointer key)
{
	return g_int64_hash(key);
}

static gboolean serial_equal(gconstpointer a, gconstpointer b)
{
	return g_int64_equal(a, b);
}

struct tracker *tracker_new(const struct tracker_config *cfg)
{
	struct tracker *t = g_new0(struct tracker, 1);
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&t->lock, &attr);
	pthread_rwlockattr_destroy(&attr);

	t->cfg = *cfg;
	if (t->cfg.hz == 0)
		t->cfg.hz = 100;
	t->strings = lin_strpool_new();
	/* A record's serial is its first field, so the record itself is the key. */
	t->by_serial = g_hash_table_new(serial_hash, serial_equal);
	/* The newest record of a pid is its own key, hashed by pid. */
	t->by_pid = g_hash_table_new(pid_hash, pid_equal);
	t->threads = g_hash_table_new(NULL, NULL);
	t->pending = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	t->leader_exited = g_ptr_array_new();
	t->changes = g_array_new(FALSE, FALSE, sizeof(struct lin_change));
	t->cpu_seqs = g_array_new(FALSE, TRUE, sizeof(struct cpu_seq));
	t->stats.started_monotonic_ns = now_monotonic(t);
	return t;
}

void tracker_free(struct tracker *t)
{
	struct lin_process *p, *next;

	if (!t)
		return;
	for (p = t->all_head; p; p = next) {
		next = p->all_next;
		lin_strpool_unref(t->strings, p->comm);
		lin_strpool_unref(t->strings, p->exe);
		lin_strpool_unref(t->strings, p->cmdline);
		g_free(p);
	}
	for (p = t->free_records; p; p = next) {
		next = p->all_next;
		g_free(p);
	}
	g_hash_table_unref(t->by_serial);
	g_hash_table_unref(t->threads);
	g_hash_table_unref(t->pending);
	g_ptr_array_unref(t->leader_exited);
	g_array_unref(t->changes);
	g_array_unref(t->cpu_seqs);
	g_hash_table_unref(t->by_pid);
	lin_strpool_free(t->strings);
	pthread_rwlock_destroy(&t->lock);
	g_free(t);
}

const struct tracker_config *tracker_get_config(const struct tracker *t)
{
	return &t->cfg;
}

void tracker_set_change_fn(struct tracker *t, tracker_change_fn fn, void *data)
{
	t->change_fn = fn;
	t->change_data = data;
}

/* ---- reading side ---- */

void tracker_read_lock(struct tracker *t)
{
	pthread_rwlock_rdlock(&t->lock);
}

void tracker_read_unlock(struct tracker *t)
{
	pthread_rwlock_unlock(&t->lock);
}

struct lin_process *tracker_find_pid(struct tracker *t, pid_t pid)
{
	struct lin_process key = {.pid = pid};

	if (pid <= 0)
		return NULL;
	return g_hash_table_lookup(t->by_pid, &key);
}

struct lin_process *tracker_find(struct tracker *t, pid_t pid, guint64 start_ticks)
{
	for (struct lin_process *p = tracker_find_pid(t, pid); p; p = p->older_same_pid)
		if (p->start_ticks == start_ticks)
			return p;
	return NULL;
}

struct lin_process *tracker_find_serial(struct tracker *t, guint64 serial)
{
	return g_hash_table_lookup(t->by_serial, &serial);
}

struct lin_process *tracker_find_tid(struct tracker *t, pid_t tid)
{
	struct lin_process *p = tracker_find_pid(t, tid);

	if (p && lin_process_running(p))
		return p;
	return g_hash_table_lookup(t->threads, GINT_TO_POINTER(tid));
}

struct lin_process *tracker_first_after(struct tracker *t, guint64 after)
{
	struct lin_process *p;

	if (after == 0)
		return t->all_head;
	p = tracker_find_serial(t, after);
	if (p)
		return p->all_next;
	/* The cursor's record was forgotten meanwhile: serials increase along
	 * the list, so the first larger one is where to resume. */
	for (p = t->all_head; p && p->serial <= after; p = p->all_next)
		;
	return p;
}

struct lin_process *tracker_next_newest(struct tracker *t, guint64 after)
{
	struct lin_process *p;

	for (p = tracker_first_after(t, after); p && !is_newest(t, p); p = p->all_next)
		;
	return p;
}

void tracker_get_stats(struct tracker *t, struct tracker_stats *out)
{
	*out = t->stats;
	/* Each record costs its struct plus a by-serial slot, each pid a
	 * by-pid slot (a key and a hash each, tables at most half full). */
	out->record_bytes = t->records * (sizeof(struct lin_process) + 2 * (sizeof(gpointer) + 4)) +
	                    g_hash_table_size(t->by_pid) * 2 * (sizeof(gpointer) + 4);
	out->string_bytes = lin_strpool_bytes(t->strings);
	out->strings = lin_strpool_count(t->strings);
}

int lin_process_name(const struct lin_process *p, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%d-%" G_GUINT64_FORMAT, (int)p->pid, p->start_ticks);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : n;
}
