/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The process table's records. Records are keyed by (pid, start ticks) so
 * a recycled pid never merges two processes; each keeps a pointer to its
 * creator (the process the FORK event named, never the parent the kernel
 * reparents to), its children in creation order, and its exit. Exited
 * records stay until the retention limit, oldest first, except those that
 * are ancestors of a running process. Here are the primitives the event
 * side uses to change records and keep the indexes, the creator links, the
 * thread map and the eviction queue in step. Caller holds the write lock.
 */
#include "config.h"
#include "tracker-private.h"

#include <string.h>

/* ---- records and indexes ---- */

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

void tracker_set_creator(struct tracker *t, struct lin_process *child, struct lin_process *creator)
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

/* Records per block: a malloc() per record would add its header and
 * rounding, 16 of 256 bytes, to every retained process. A block is never
 * given back before the tracker is freed: forgotten records are reused
 * (free_records), as they were one by one. */
#define TRACKER_RECORD_BLOCK 1024

struct lin_process *tracker_process_new(struct tracker *t, pid_t pid, guint64 start_ticks,
                                        guint64 seen_ns)
{
	struct lin_process *p = t->free_records;
	struct lin_process *same;

	if (p) {
		t->free_records = p->all_next;
	} else {
		if (t->block_left == 0) {
			t->block_next = g_new(struct lin_process, TRACKER_RECORD_BLOCK);
			t->block_left = TRACKER_RECORD_BLOCK;
			g_ptr_array_add(t->record_blocks, t->block_next);
		}
		p = t->block_next++;
		t->block_left--;
	}
	memset(p, 0, sizeof(*p));
	p->serial = ++t->next_serial;
	p->pid = pid;
	p->start_ticks = start_ticks;
	p->seen_ns = seen_ns;
	/* A pid recycled within one clock tick: the later holders are told
	 * apart by their instance, never merged into one name. */
	same = tracker_find(t, pid, start_ticks);
	if (same)
		tracker_set_instance(t, p, lin_process_instance(same) + 1);

	p->all_prev = t->all_tail;
	if (t->all_tail)
		t->all_tail->all_next = p;
	else
		t->all_head = p;
	t->all_tail = p;
	serial_index_add(&t->by_serial, p->serial, p);
	by_pid_insert(t, p);
	t->records++;
	t->stats.processes_live++;
	return p;
}

void tracker_set_str(struct tracker *t, struct lin_str **slot, struct lin_str *value)
{
	lin_strpool_unref(t->strings, *slot);
	*slot = value;
}

void tracker_threads_clear(struct tracker *t, struct lin_process *p)
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

void tracker_thread_add(struct tracker *t, struct lin_process *p, pid_t tid)
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
	tracker_queue_change(t, LIN_CHANGE_THREADS, p);
}

void tracker_leader_exited_forget(struct tracker *t, struct lin_process *p)
{
	if (p->flags & LIN_PROC_LEADER_EXITED) {
		g_ptr_array_remove_fast(t->leader_exited, p);
		p->flags &= ~LIN_PROC_LEADER_EXITED;
		p->exit_status = 0;
		p->exit_ns = 0;
	}
}

void tracker_process_set_exited(struct tracker *t, struct lin_process *p, enum lin_exit_kind kind,
                                guint32 exit_status, guint64 exit_ns)
{
	if (!lin_process_running(p))
		return;
	tracker_threads_clear(t, p);
	tracker_leader_exited_forget(t, p);
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
	tracker_queue_change(t, LIN_CHANGE_EXIT, p);
}

/* An exit was recorded for a process that still runs (an exec from a
 * non-leader thread reports the leader's EXIT first, then the EXEC). */
void tracker_process_revive(struct tracker *t, struct lin_process *p)
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

void tracker_process_forget(struct tracker *t, struct lin_process *p)
{
	tracker_queue_change(t, LIN_CHANGE_FORGET, p);
	evict_unlink(t, p);
	t->stats.processes_pinned--;
	/* The children outlive their creator's record: their parent link
	 * must go from the kernel's cache too. */
	while (p->first_child) {
		struct lin_process *child = p->first_child;

		child_unlink(child);
		tracker_queue_creator_change(t, child, p);
	}
	child_unlink(p);
	by_pid_remove(t, p);
	serial_index_remove(&t->by_serial, p->serial);
	if (p->all_prev)
		p->all_prev->all_next = p->all_next;
	else
		t->all_head = p->all_next;
	if (p->all_next)
		p->all_next->all_prev = p->all_prev;
	else
		t->all_tail = p->all_prev;
	tracker_ctx_forget(t, p);
	tracker_set_str(t, &p->comm, NULL);
	tracker_set_str(t, &p->exe, NULL);
	tracker_clear_cmdline(t, p);
	t->records--;
	t->stats.processes_exited--;
	t->stats.processes_forgotten++;
	p->all_next = t->free_records;
	t->free_records = p;
}

/* Whether interning more bytes of strings keeps within the budget, once
 * the oldest exited records that may go are forgotten to make room. */
static gboolean string_budget_room(struct tracker *t, gsize more)
{
	guint64 budget = t->cfg.max_string_bytes;

	if (budget == 0)
		return TRUE;
	while (lin_strpool_bytes(t->strings) + more > budget && t->evict_head) {
		tracker_process_forget(t, t->evict_head);
		t->stats.budget_forgotten++;
	}
	return lin_strpool_bytes(t->strings) + more <= budget;
}

void tracker_enforce_retention(struct tracker *t)
{
	if (t->cfg.max_exited != 0) {
		while (t->stats.processes_exited > t->cfg.max_exited && t->evict_head)
			tracker_process_forget(t, t->evict_head);
	}
	string_budget_room(t, 0);
}

/* The rare fields live out of line (struct lin_hist), allocated for the
 * first one a record gets: setting one to its usual value allocates
 * nothing. */
static struct lin_hist *rare_fields(struct tracker *t, struct lin_process *p, gboolean usual)
{
	if (usual && !p->history)
		return NULL;
	return lin_hist_get(&t->history, &p->history, p);
}

void tracker_set_instance(struct tracker *t, struct lin_process *p, guint32 instance)
{
	struct lin_hist *h = rare_fields(t, p, instance <= 1);

	if (h)
		h->instance = instance;
}

void tracker_set_cmdline_whole(struct tracker *t, struct lin_process *p, guint32 full_len,
                               struct lin_str *sha256)
{
	struct lin_hist *h = rare_fields(t, p, full_len == 0 && !sha256);

	if (!h)
		return;
	h->cmdline_full_len = full_len;
	tracker_set_str(t, &h->cmdline_sha256, sha256);
}

void tracker_set_guess(struct tracker *t, struct lin_process *p, struct lin_creator_guess *guess)
{
	struct lin_hist *h = rare_fields(t, p, !guess);

	if (!h)
		return;
	g_free(h->guess);
	h->guess = guess;
}

void tracker_clear_cmdline(struct tracker *t, struct lin_process *p)
{
	tracker_set_str(t, &p->cmdline, NULL);
	tracker_set_cmdline_whole(t, p, 0, NULL);
	p->flags &= ~LIN_PROC_CMDLINE_TRUNCATED;
}

void tracker_copy_image(struct tracker *t, struct lin_process *p, const struct lin_process *from)
{
	tracker_set_str(t, &p->comm, lin_str_ref(from->comm));
	tracker_set_str(t, &p->exe, lin_str_ref(from->exe));
	tracker_set_str(t, &p->cmdline, lin_str_ref(from->cmdline));
	tracker_set_cmdline_whole(t, p, lin_process_cmdline_full_len(from),
	                          lin_str_ref(lin_process_cmdline_sha256(from)));
	p->start_stack = from->start_stack;
	p->flags &= ~(LIN_PROC_CMDLINE_MISSED | LIN_PROC_CMDLINE_TRUNCATED | LIN_PROC_KTHREAD);
	p->flags |=
	    from->flags & (LIN_PROC_CMDLINE_MISSED | LIN_PROC_CMDLINE_TRUNCATED | LIN_PROC_KTHREAD);
}

/*
 * Keeps a command line read from /proc: whole, or both ends of it with the
 * length and hash of the whole when the reader cut it. While the string
 * budget is spent even after the oldest exited records are forgotten, a
 * long new one keeps only LIN_CMDLINE_SQUEEZED bytes, its two ends: a
 * flood of huge unique command lines cannot grow the daemon without bound.
 */
static void apply_cmdline(struct tracker *t, struct lin_process *p,
                          const struct lin_proc_info *info)
{
	const char *bytes = info->cmdline;
	gsize len = info->cmdline_len;
	gsize whole = info->cmdline_full_len ? info->cmdline_full_len : len;
	gboolean cut = info->cmdline_truncated;
	const char *sha256 = info->cmdline_sha256;
	g_autofree char *squeezed = NULL;
	g_autofree char *computed = NULL;

	tracker_clear_cmdline(t, p);
	if (len > LIN_CMDLINE_SQUEEZED && !string_budget_room(t, len)) {
		gsize tail = LIN_CMDLINE_SQUEEZED / 2;
		gsize head = LIN_CMDLINE_SQUEEZED - tail;

		/* Both ends of what was kept are both ends of the whole. */
		if (!cut && sha256[0] == '\0')
			sha256 = computed = g_compute_checksum_for_data(G_CHECKSUM_SHA256,
			                                                (const guchar *)bytes, len);
		squeezed = g_malloc(LIN_CMDLINE_SQUEEZED);
		memcpy(squeezed, bytes, head);
		memcpy(squeezed + head, bytes + len - tail, tail);
		bytes = squeezed;
		len = LIN_CMDLINE_SQUEEZED;
		cut = TRUE;
	}
	if (cut) {
		p->flags |= LIN_PROC_CMDLINE_TRUNCATED;
		t->stats.cmdline_cut++;
	}
	if (len > 0)
		p->cmdline = lin_strpool_intern(t->strings, bytes, len);
	tracker_set_cmdline_whole(
	    t, p, cut ? (guint32)MIN(whole, G_MAXUINT32) : 0,
	    sha256[0] != '\0' ? lin_strpool_intern(t->strings, sha256, strlen(sha256)) : NULL);
}

/* Fills a record's descriptive fields from a /proc read. */
void tracker_apply_info(struct tracker *t, struct lin_process *p, const struct lin_proc_info *info)
{
	if (info->read_ok & PROC_READ_STAT) {
		tracker_set_str(
		    t, &p->comm,
		    lin_strpool_intern(t->strings, info->stat.comm, strlen(info->stat.comm)));
		if (info->stat.flags & LIN_PF_KTHREAD)
			p->flags |= LIN_PROC_KTHREAD;
		p->start_stack = info->stat.start_stack;
	}
	if (info->read_ok & PROC_READ_STATUS) {
		p->flags |= LIN_PROC_IDS_KNOWN;
		p->ruid = info->status.ruid;
		p->euid = info->status.euid;
		p->rgid = info->status.rgid;
		p->egid = info->status.egid;
	}
	if (info->read_ok & PROC_READ_CMDLINE) {
		apply_cmdline(t, p, info);
		p->flags &= ~LIN_PROC_CMDLINE_MISSED;
	} else if (!(p->flags & LIN_PROC_KTHREAD)) {
		tracker_clear_cmdline(t, p);
		p->flags |= LIN_PROC_CMDLINE_MISSED;
	}
	if (info->read_ok & PROC_READ_EXE)
		tracker_set_str(t, &p->exe,
		                info->exe
		                    ? lin_strpool_intern(t->strings, info->exe, strlen(info->exe))
		                    : NULL);
	else
		tracker_set_str(t, &p->exe, NULL);
}
