// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Keeping a record's context, history and index entries in step with what
 * the events and /proc reads say. events.c and table.c call these hooks at
 * the points where a record is born (fork, discovery), execs, changes comm
 * or ids, and is forgotten; everything here runs on the feeding thread
 * with the write lock held, except the hash thread's results, which
 * tracker_tick() collects (a status shows "ExeHash: pending" until then).
 *
 * Index membership: a record is listed under every exe it ran (its current
 * one, and those of its EXEC and FOUND history entries) and every uid it
 * ran as (real and effective: current, and those of its history entries).
 * A forked child is listed under its creator's exe until it execs: it runs
 * that code. When the budget drops an entry, or the record is forgotten,
 * it leaves the lists that nothing else of it names.
 */
#include "config.h"
#include "tracker-private.h"

#include <string.h>

#include "index.h"
#include "restore.h"

static void current_ids(const struct lin_process *p, guint32 ids[4])
{
	ids[0] = p->ruid;
	ids[1] = p->euid;
	ids[2] = p->rgid;
	ids[3] = p->egid;
}

/* The pid inside its namespace (0: unknown; see lin_process_ns_pid()). */
static void set_ns_pid(struct tracker *t, struct lin_process *p, pid_t ns_pid)
{
	p->flags &= ~LIN_PROC_NS_PID_IS_PID;
	if (ns_pid == p->pid)
		p->flags |= LIN_PROC_NS_PID_IS_PID;
	if (ns_pid == p->pid || ns_pid == 0) {
		if (p->history)
			p->history->ns_pid = 0;
		return;
	}
	lin_hist_get(&t->history, &p->history, p)->ns_pid = ns_pid;
}

static void index_exe(struct tracker *t, struct lin_process *p, const struct lin_str *exe)
{
	if (exe)
		lin_index_exe_add(t->index, exe->data, exe->len, p);
}

static void index_uids(struct tracker *t, struct lin_process *p)
{
	lin_index_uid_add(t->index, p->ruid, p);
	if (p->euid != p->ruid)
		lin_index_uid_add(t->index, p->euid, p);
}

static gboolean same_exe_path(const struct lin_str *a, const struct lin_str *b)
{
	gsize la, lb;

	if (!a || !b)
		return FALSE;
	if (a == b)
		return TRUE;
	la = lin_index_exe_path_len(a->data, a->len);
	lb = lin_index_exe_path_len(b->data, b->len);
	return la == lb && memcmp(a->data, b->data, la) == 0;
}

/* Whether anything of p still names exe (its current exe if with_current). */
static gboolean ran_exe(const struct lin_process *p, const struct lin_str *exe,
                        gboolean with_current)
{
	if (with_current && same_exe_path(p->exe, exe))
		return TRUE;
	for (const struct lin_hist_entry *e = p->history ? p->history->first : NULL; e; e = e->next)
		if ((e->kind == LIN_HIST_EXEC || e->kind == LIN_HIST_FOUND) &&
		    same_exe_path(e->exe, exe))
			return TRUE;
	return FALSE;
}

static gboolean ran_uid(const struct lin_process *p, guint32 uid)
{
	if (p->ruid == uid || p->euid == uid)
		return TRUE;
	for (const struct lin_hist_entry *e = p->history ? p->history->first : NULL; e;
	     e = e->next) {
		if ((e->kind == LIN_HIST_EXEC || e->kind == LIN_HIST_FOUND) &&
		    (e->ids[0] == uid || e->ids[1] == uid))
			return TRUE;
		if (e->kind == LIN_HIST_UID &&
		    (e->ids[0] == uid || e->ids[1] == uid || e->ids[2] == uid || e->ids[3] == uid))
			return TRUE;
	}
	return FALSE;
}

/* The uids an entry names, as index keys: up to 4, 0 when none. */
static guint entry_uids(const struct lin_hist_entry *e, guint32 uids[4])
{
	switch ((enum lin_hist_kind)e->kind) {
	case LIN_HIST_EXEC:
	case LIN_HIST_FOUND:
		uids[0] = e->ids[0];
		uids[1] = e->ids[1];
		return 2;
	case LIN_HIST_UID:
		memcpy(uids, e->ids, sizeof(e->ids));
		return 4;
	case LIN_HIST_COMM:
	case LIN_HIST_GID:
		break;
	}
	return 0;
}

/* The budget dropped e (already out of its record's list). */
static void on_history_drop(struct lin_hist_entry *e, void *data)
{
	struct tracker *t = data;
	struct lin_process *p = e->owner->record;
	guint32 uids[4];
	guint n = entry_uids(e, uids);

	if ((e->kind == LIN_HIST_EXEC || e->kind == LIN_HIST_FOUND) && e->exe &&
	    !ran_exe(p, e->exe, TRUE))
		lin_index_exe_remove(t->index, e->exe->data, e->exe->len, p);
	for (guint i = 0; i < n; i++)
		if (!ran_uid(p, uids[i]))
			lin_index_uid_remove(t->index, uids[i], p);
}

void tracker_ctx_init(struct tracker *t)
{
	t->contexts = lin_context_pool_new(t->strings);
	lin_hist_budget_init(&t->history, t->strings, t->cfg.history_max);
	t->history.on_drop = on_history_drop;
	t->history.on_drop_data = t;
	t->index = lin_index_new();
	t->restoring_cmdlines = g_ptr_array_new();
	t->ctx_opts.env_names = t->cfg.env_names;
	t->ctx_opts.exe_identity = t->cfg.hash_exe;
	t->ctx_opts.own_pidns = t->cfg.host_pidns;
	t->ctx_opts.argv_in_memory = t->cfg.live_proc;
}

void tracker_ctx_release(struct tracker *t, struct lin_process *p)
{
	lin_hist_free(&t->history, &p->history);
	lin_context_unref(t->contexts, p->ctx);
	p->ctx = NULL;
}

static void restoring_reset(struct tracker *t, guint64 serial)
{
	for (guint i = 0; i < t->restoring_cmdlines->len; i++)
		lin_strpool_unref(t->strings, g_ptr_array_index(t->restoring_cmdlines, i));
	g_ptr_array_set_size(t->restoring_cmdlines, 0);
	t->restoring_serial = serial;
}

void tracker_ctx_cleanup(struct tracker *t)
{
	restoring_reset(t, 0);
	g_ptr_array_unref(t->restoring_cmdlines);
	lin_index_free(t->index);
	lin_context_pool_free(t->contexts);
	exe_hash_free(t->hasher);
}

static void set_exe_flags(struct lin_process *p);

void tracker_ctx_unindex(struct tracker *t, struct lin_process *p)
{
	guint32 uids[4];

	if (p->exe)
		lin_index_exe_remove(t->index, p->exe->data, p->exe->len, p);
	lin_index_uid_remove(t->index, p->ruid, p);
	lin_index_uid_remove(t->index, p->euid, p);
	for (const struct lin_hist_entry *e = p->history ? p->history->first : NULL; e;
	     e = e->next) {
		guint n = entry_uids(e, uids);

		if ((e->kind == LIN_HIST_EXEC || e->kind == LIN_HIST_FOUND) && e->exe)
			lin_index_exe_remove(t->index, e->exe->data, e->exe->len, p);
		for (guint i = 0; i < n; i++)
			lin_index_uid_remove(t->index, uids[i], p);
	}
}

void tracker_ctx_index(struct tracker *t, struct lin_process *p)
{
	guint32 uids[4];

	set_exe_flags(p);
	index_exe(t, p, p->exe);
	for (const struct lin_hist_entry *e = p->history ? p->history->first : NULL; e;
	     e = e->next) {
		guint n = entry_uids(e, uids);

		if (e->kind == LIN_HIST_EXEC || e->kind == LIN_HIST_FOUND)
			index_exe(t, p, e->exe);
		for (guint i = 0; i < n; i++)
			lin_index_uid_add(t->index, uids[i], p);
	}
	index_uids(t, p);
}

void tracker_ctx_forget(struct tracker *t, struct lin_process *p)
{
	tracker_ctx_unindex(t, p);
	tracker_ctx_release(t, p);
}

static void set_exe_flags(struct lin_process *p)
{
	static const char deleted[] = " (deleted)";
	gsize n = strlen(deleted);

	p->flags &= ~(LIN_PROC_EXE_DELETED | LIN_PROC_EXE_MEMFD);
	if (!p->exe)
		return;
	/* memfd_create() files are named "memfd:<name>" and never linked. */
	if (g_str_has_prefix(p->exe->data, "/memfd:"))
		p->flags |= LIN_PROC_EXE_MEMFD;
	else if (p->exe->len > n && memcmp(p->exe->data + p->exe->len - n, deleted, n) == 0)
		p->flags |= LIN_PROC_EXE_DELETED;
}

static struct lin_str *intern_opt(struct tracker *t, const char *s, gsize len)
{
	return s ? lin_strpool_intern(t->strings, s, len) : NULL;
}

/* Replaces p's context by base updated with what info read. exec: the
 * environment and exe hash belong to the new image (unknown when not read),
 * while cwd, cgroup, namespace and audit ids carry over from before. */
static void context_update(struct tracker *t, struct lin_process *p,
                           const struct lin_proc_info *info, gboolean exec,
                           struct exe_hash_entry *hash)
{
	const struct lin_proc_context *c = &info->ctx;
	struct lin_context tmpl = {.loginuid = LIN_AUDIT_UNSET, .sessionid = LIN_AUDIT_UNSET};
	struct lin_str *cwd = NULL, *cgroup = NULL, *env = NULL;
	struct lin_context *old = p->ctx;

	if (old)
		tmpl = *old;
	if (exec) {
		tmpl.env = NULL;
		tmpl.exe_hash = NULL;
		tmpl.known &= ~(guint8)LIN_CTX_KNOWN_ENV;
	}
	if (c->read_ok & PROC_CTX_CWD)
		tmpl.cwd = cwd = intern_opt(t, c->cwd, strlen(c->cwd));
	if (c->read_ok & PROC_CTX_CGROUP)
		tmpl.cgroup = cgroup = intern_opt(t, c->cgroup, strlen(c->cgroup));
	if (c->read_ok & PROC_CTX_ENV) {
		tmpl.env = env = intern_opt(t, c->env, c->env_len);
		tmpl.known |= LIN_CTX_KNOWN_ENV;
	}
	if (c->read_ok & PROC_CTX_PIDNS)
		tmpl.pidns = c->pidns;
	if ((c->read_ok & PROC_CTX_LOGINUID) && (c->read_ok & PROC_CTX_SESSIONID)) {
		tmpl.loginuid = c->loginuid;
		tmpl.sessionid = c->sessionid;
		tmpl.known |= LIN_CTX_KNOWN_AUDIT;
	}
	if (info->read_ok & PROC_READ_STAT) {
		tmpl.tty_nr = info->stat.tty_nr;
		tmpl.sid = info->stat.sid;
		tmpl.pgid = info->stat.pgid;
		tmpl.known |= LIN_CTX_KNOWN_IDS;
	}
	if (hash)
		tmpl.exe_hash = hash;
	p->ctx = lin_context_intern(t->contexts, &tmpl);
	lin_strpool_unref(t->strings, cwd);
	lin_strpool_unref(t->strings, cgroup);
	lin_strpool_unref(t->strings, env);
	lin_context_unref(t->contexts, old);
	if (info->read_ok & PROC_READ_STATUS && info->status.ns_tgid > 0)
		set_ns_pid(t, p, info->status.ns_tgid);

	/* Its status changes when the hash is done. */
	if (hash && exe_hash_entry_state(hash) == EXE_HASH_PENDING) {
		if (!hash->waiters)
			hash->waiters = g_array_new(FALSE, FALSE, sizeof(guint64));
		g_array_append_val(hash->waiters, p->serial);
	}
}

void tracker_ctx_fork(struct tracker *t, struct lin_process *p, struct lin_process *creator)
{
	p->ctx = lin_context_ref(creator->ctx);
	/* Same namespace as its creator (CLONE_NEWPID aside): the pid
	 * inside is known only there, or for the host's namespace. */
	index_exe(t, p, p->exe);
	index_uids(t, p);
	set_exe_flags(p);
}

void tracker_ctx_found(struct tracker *t, struct lin_process *p, const struct lin_proc_info *info)
{
	context_update(t, p, info, FALSE, NULL);
	set_exe_flags(p);
	index_exe(t, p, p->exe);
	index_uids(t, p);
}

static void push_image(struct tracker *t, struct lin_process *p, enum lin_hist_kind kind,
                       guint64 time_ns)
{
	guint32 ids[4];
	struct lin_hist_entry e = {
	    .time_ns = time_ns,
	    .kind = (guint8)kind,
	    .exe = p->exe,
	    .cmdline = p->cmdline,
	};

	current_ids(p, ids);
	lin_hist_ids_at(p->history, time_ns, ids, e.ids);
	if (p->flags & LIN_PROC_CMDLINE_MISSED)
		e.flags |= LIN_HIST_CMDLINE_MISSED;
	if (p->flags & LIN_PROC_CMDLINE_TRUNCATED)
		e.flags |= LIN_HIST_CMDLINE_TRUNCATED;
	lin_hist_add(&t->history, &p->history, p, &e);
}

void tracker_ctx_exec_before(struct tracker *t, struct lin_process *p, guint32 old_ids[4])
{
	current_ids(p, old_ids);
	if (p->exec_ns) {
		push_image(t, p, LIN_HIST_EXEC, p->exec_ns);
	} else if ((p->flags & LIN_PROC_FROM_SCAN) && p->exec_count == 0) {
		push_image(t, p, LIN_HIST_FOUND,
		           t->cfg.boot_realtime_ns + t->cfg.boot_offset_ns + p->seen_ns);
	} else if (p->exe && !ran_exe(p, p->exe, FALSE)) {
		/* The image inherited at fork: it ran its creator's code
		 * until now, not a program of its own. */
		lin_index_exe_remove(t->index, p->exe->data, p->exe->len, p);
	}
}

static void push_ids(struct tracker *t, struct lin_process *p, enum lin_hist_kind kind,
                     guint64 time_ns, guint32 old_real, guint32 old_eff, guint32 new_real,
                     guint32 new_eff)
{
	struct lin_hist_entry e = {
	    .time_ns = time_ns,
	    .kind = (guint8)kind,
	    .ids = {old_real, old_eff, new_real, new_eff},
	};

	lin_hist_add(&t->history, &p->history, p, &e);
}

void tracker_ctx_exec_after(struct tracker *t, struct lin_process *p,
                            const struct lin_proc_info *info, guint64 time_ns,
                            const guint32 old_ids[4])
{
	struct exe_hash_entry *hash = g_steal_pointer(&t->applying_hash);

	p->exec_ns = time_ns;
	lin_context_unref(t->contexts, t->exec_prev_ctx);
	t->exec_prev_ctx = lin_context_ref(p->ctx);
	t->exec_prev_serial = p->serial;
	context_update(t, p, info, TRUE, hash);
	exe_hash_entry_unref(hash);
	set_exe_flags(p);
	index_exe(t, p, p->exe);
	index_uids(t, p);
	/* Ids the exec's read of status found changed (their UID or GID
	 * event was lost, see exec_needs_status()): a line of their own,
	 * at the exec's time. */
	if (old_ids[0] != p->ruid || old_ids[1] != p->euid)
		push_ids(t, p, LIN_HIST_UID, time_ns, old_ids[0], old_ids[1], p->ruid, p->euid);
	if (old_ids[2] != p->rgid || old_ids[3] != p->egid)
		push_ids(t, p, LIN_HIST_GID, time_ns, old_ids[2], old_ids[3], p->rgid, p->egid);
}

void tracker_ctx_comm(struct tracker *t, struct lin_process *p, guint64 time_ns)
{
	struct lin_hist_entry e = {
	    .time_ns = time_ns,
	    .kind = LIN_HIST_COMM,
	    .exe = p->comm,
	};

	lin_hist_add(&t->history, &p->history, p, &e);
}

void tracker_ctx_ids(struct tracker *t, struct lin_process *p, gboolean uid, guint32 old_real,
                     guint32 old_eff, guint64 time_ns)
{
	if (uid) {
		if (old_real == p->ruid && old_eff == p->euid)
			return;
		push_ids(t, p, LIN_HIST_UID, time_ns, old_real, old_eff, p->ruid, p->euid);
		index_uids(t, p);
	} else {
		if (old_real == p->rgid && old_eff == p->egid)
			return;
		push_ids(t, p, LIN_HIST_GID, time_ns, old_real, old_eff, p->rgid, p->egid);
	}
}

/* A hash the worker finished: the status of the records that took it
 * while it was pending changes. */
static void on_hash_done(struct exe_hash_entry *e, void *data)
{
	struct tracker *t = data;

	for (guint i = 0; e->waiters && i < e->waiters->len; i++) {
		struct lin_process *p =
		    tracker_find_serial(t, g_array_index(e->waiters, guint64, i));

		/* LIN_CHANGE_THREADS: the change that makes only status anew. */
		if (p)
			tracker_queue_change(t, LIN_CHANGE_THREADS, p);
	}
	g_clear_pointer(&e->waiters, g_array_unref);
}

gboolean tracker_start_hasher(struct tracker *t, GError **error)
{
	return !t->hasher || exe_hash_start(t->hasher, error);
}

void tracker_ctx_tick(struct tracker *t)
{
	if (!t->hasher)
		return;
	tracker_write_lock(t);
	exe_hash_collect(t->hasher, on_hash_done, t);
	t->stats.exe_hashed = exe_hash_hashed(t->hasher);
	tracker_write_unlock(t);
}

void tracker_ctx_begin(struct tracker *t, struct tracker_read *rd)
{
	const struct lin_proc_info *info = &rd->proc.info;

	rd->exe_hash = NULL;
	if (t->hasher && rd->proc.dirfd >= 0 && (info->ctx.read_ok & PROC_CTX_EXE_ID))
		rd->exe_hash = exe_hash_get(t->hasher, &info->ctx.exe_id, rd->proc.dirfd);
}

gsize tracker_ctx_bytes(const struct tracker *t)
{
	return lin_context_pool_bytes(t->contexts) + lin_hist_budget_bytes(&t->history) +
	       lin_index_bytes(t->index);
}

struct lin_index *tracker_index(struct tracker *t)
{
	return t->index;
}

/* ---- the journal: what a line carries of the context and history ---- */

void tracker_ctx_event_done(struct tracker *t)
{
	lin_context_unref(t->contexts, g_steal_pointer(&t->exec_prev_ctx));
	t->exec_prev_serial = 0;
}

gboolean tracker_exec_prev_context(const struct tracker *t, const struct lin_process *p,
                                   const struct lin_context **prev)
{
	if (t->exec_prev_serial != p->serial)
		return FALSE;
	*prev = t->exec_prev_ctx;
	return TRUE;
}

/*
 * A copy holds every entry's whole command line. A long one that an
 * earlier entry of the same record already holds (a process that exec'd
 * the same long argv again and again) is held once, and the later entries
 * say how far back it is (struct lin_hist_copy.cmdline_back): a copy, and
 * the journal lines written from it, grow with the distinct command lines
 * of a history, which the string budget bounds, and with its entries,
 * which the history budget bounds, never with their product. Shorter ones
 * are copied each time: cheaper than looking them up.
 */
#define LIN_HIST_COPY_SHARE_MIN 1024

static gsize str_size(const struct lin_str *s)
{
	return s ? s->len : 0;
}

/* Whether entry e of a copy holds its command line once more (FALSE: an
 * earlier entry's serves). shared maps the long command lines held so far
 * to the index after their entry's; created when first needed. */
static gboolean hist_cmdline_new(const struct lin_hist_entry *e, guint index, GHashTable **shared,
                                 guint *back)
{
	gpointer before;

	*back = 0;
	if (str_size(e->cmdline) < LIN_HIST_COPY_SHARE_MIN)
		return TRUE;
	if (!*shared)
		*shared = g_hash_table_new(NULL, NULL);
	before = g_hash_table_lookup(*shared, e->cmdline);
	g_hash_table_insert(*shared, e->cmdline, GUINT_TO_POINTER(index + 1));
	if (!before)
		return TRUE;
	*back = index + 1 - GPOINTER_TO_UINT(before);
	return FALSE;
}

gsize lin_context_copy_size(const struct lin_process *p, gboolean with_history)
{
	const struct lin_context *c = p->ctx;
	gsize n = 8; /* the entries' alignment */
	GHashTable *shared = NULL;
	guint index = 0, back;

	if (c)
		n += str_size(c->cwd) + str_size(c->cgroup) + str_size(c->env);
	if (with_history && p->history)
		for (const struct lin_hist_entry *e = p->history->first; e; e = e->next, index++)
			n +=
			    sizeof(struct lin_hist_copy) + str_size(e->exe) +
			    (hist_cmdline_new(e, index, &shared, &back) ? str_size(e->cmdline) : 0);
	if (shared)
		g_hash_table_destroy(shared);
	return n;
}

static const char *copy_bytes(char **at, const struct lin_str *s, gsize *len)
{
	const char *start = *at;

	*len = s ? s->len : 0;
	if (s)
		memcpy(*at, s->data, s->len);
	*at += *len;
	return start;
}

void lin_context_copy_fill(const struct lin_process *p, const struct tracker_config *cfg,
                           gboolean prev_valid, const struct lin_context *prev,
                           gboolean with_history, char **at, struct lin_context_copy *out,
                           struct exe_hash_entry **hash)
{
	guint32 host_pidns = cfg->host_pidns;
	const struct lin_context *c = p->ctx;
	static const struct lin_context none = {.loginuid = LIN_AUDIT_UNSET,
	                                        .sessionid = LIN_AUDIT_UNSET};
	const struct lin_context *was = prev_valid && prev ? prev : &none;
	gboolean all = !prev_valid;

	memset(out, 0, sizeof(*out));
	*hash = NULL;
	/* The entries first, where *at is 8-aligned. */
	*at += (8 - ((guintptr)*at & 7)) & 7;
	if (with_history) {
		struct lin_hist_copy *entries = (struct lin_hist_copy *)(void *)*at;
		GHashTable *shared = NULL;
		guint n = 0;

		const struct lin_hist_entry *from = p->history ? p->history->first : NULL;

		out->has |= LIN_CTX_COPY_HISTORY;
		out->hist_dropped = p->history ? p->history->dropped : 0;
		n = p->history ? p->history->count : 0;
		*at += n * sizeof(struct lin_hist_copy);
		n = 0;
		for (const struct lin_hist_entry *e = from; e; e = e->next, n++) {
			struct lin_hist_copy *h = &entries[n];

			h->time_ns = e->time_ns;
			memcpy(h->ids, e->ids, sizeof(h->ids));
			h->kind = e->kind;
			h->flags = e->flags;
			h->exe = copy_bytes(at, e->exe, &h->exe_len);
			if (hist_cmdline_new(e, n, &shared, &h->cmdline_back)) {
				h->cmdline = copy_bytes(at, e->cmdline, &h->cmdline_len);
			} else {
				h->cmdline = entries[n - h->cmdline_back].cmdline;
				h->cmdline_len = entries[n - h->cmdline_back].cmdline_len;
			}
		}
		if (shared)
			g_hash_table_destroy(shared);
		out->hist = entries;
		out->hist_count = n;
		/* A found record's history shows when it was found: a
		 * checkpoint written later must still say so. */
		if (p->seen_ns && cfg->boot_realtime_ns) {
			out->has |= LIN_CTX_COPY_SEEN;
			out->seen_ns = cfg->boot_realtime_ns + cfg->boot_offset_ns + p->seen_ns;
		}
	}
	if (p->exec_ns && all) {
		out->has |= LIN_CTX_COPY_EXEC;
		out->exec_ns = p->exec_ns;
	}
	/* Inside the daemon's namespace it is the pid (render_context.c).
	 * Written all the same: a replay has no namespace of its own to
	 * compare with. */
	if (lin_process_ns_pid(p) > 0 || (c && c->pidns && c->pidns == host_pidns)) {
		out->has |= LIN_CTX_COPY_NS_PID;
		out->ns_pid = lin_process_ns_pid(p) > 0 ? lin_process_ns_pid(p) : p->pid;
	}
	if (!c)
		return;
	if (c->cwd && (all || c->cwd != was->cwd)) {
		out->has |= LIN_CTX_COPY_CWD;
		out->cwd = copy_bytes(at, c->cwd, &out->cwd_len);
	}
	if (c->cgroup && (all || c->cgroup != was->cgroup)) {
		out->has |= LIN_CTX_COPY_CGROUP;
		out->cgroup = copy_bytes(at, c->cgroup, &out->cgroup_len);
	}
	if ((c->known & LIN_CTX_KNOWN_ENV) &&
	    (all || c->env != was->env || !(was->known & LIN_CTX_KNOWN_ENV))) {
		out->has |= LIN_CTX_COPY_ENV;
		out->env = copy_bytes(at, c->env, &out->env_len);
	}
	if (c->exe_hash && (all || c->exe_hash != was->exe_hash))
		*hash = exe_hash_entry_ref(c->exe_hash);
	if (c->pidns && (all || c->pidns != was->pidns)) {
		out->has |= LIN_CTX_COPY_PIDNS;
		out->pidns = c->pidns;
	}
	if ((c->known & LIN_CTX_KNOWN_AUDIT) &&
	    (all || !(was->known & LIN_CTX_KNOWN_AUDIT) || c->loginuid != was->loginuid ||
	     c->sessionid != was->sessionid)) {
		out->has |= LIN_CTX_COPY_AUDIT;
		out->loginuid = c->loginuid;
		out->sessionid = c->sessionid;
	}
	if ((c->known & LIN_CTX_KNOWN_IDS) &&
	    (all || !(was->known & LIN_CTX_KNOWN_IDS) || c->tty_nr != was->tty_nr ||
	     c->sid != was->sid || c->pgid != was->pgid)) {
		out->has |= LIN_CTX_COPY_IDS;
		out->tty_nr = c->tty_nr;
		out->sid = c->sid;
		out->pgid = c->pgid;
	}
}

/* ---- restore (restore.c): the history and context a line gives ---- */

static struct lin_str *intern_bytes(struct tracker *t, const char *s, gsize len)
{
	return lin_strpool_intern(t->strings, s ? s : "", len);
}

void tracker_ctx_restore_before(struct tracker *t, struct lin_process *p,
                                const struct tracker_restore *r, guint32 old_ids[4])
{
	current_ids(p, old_ids);
	/* A history's "history" lines follow its line at once: any other
	 * line ends it. */
	restoring_reset(t, 0);
	if (r->whole) {
		/* The line describes it from scratch: its history and context
		 * (the rare fields beside the history are restore.c's). */
		lin_hist_clear(&t->history, p->history);
		lin_context_unref(t->contexts, g_steal_pointer(&p->ctx));
		p->exec_ns = 0;
		set_ns_pid(t, p, 0);
		return;
	}
	/* An exec replaces the image: the history keeps the one it had (as
	 * live, see tracker_ctx_exec_before()). */
	if (r->exec && p->exec_ns)
		push_image(t, p, LIN_HIST_EXEC, p->exec_ns);
	else if (r->exec && (p->flags & LIN_PROC_FROM_SCAN) && p->exec_count == 0)
		push_image(t, p, LIN_HIST_FOUND,
		           t->cfg.boot_realtime_ns + t->cfg.boot_offset_ns + p->seen_ns);
}

/* The command line of the entry back entries before the next one of p's
 * history being restored, with a reference; NULL, and the entry flagged
 * as missing it, when that entry is not known here (its line was lost). */
static struct lin_str *restoring_cmdline(struct tracker *t, const struct lin_process *p,
                                         guint32 back, guint8 *flags)
{
	GPtrArray *held = t->restoring_cmdlines;
	struct lin_str *s = NULL;

	if (t->restoring_serial == p->serial && back <= held->len)
		s = g_ptr_array_index(held, held->len - back);
	if (!s)
		*flags |= LIN_HIST_CMDLINE_MISSED;
	return lin_str_ref(s);
}

void tracker_ctx_restore_history(struct tracker *t, struct lin_process *p,
                                 const struct lin_context_copy *c)
{
	for (guint i = 0; i < c->hist_count; i++) {
		const struct lin_hist_copy *h = &c->hist[i];
		struct lin_hist_entry e = {
		    .time_ns = h->time_ns,
		    .kind = h->kind,
		    .flags = h->flags,
		};

		if (h->kind > LIN_HIST_GID)
			continue;
		memcpy(e.ids, h->ids, sizeof(e.ids));
		if (h->kind == LIN_HIST_EXEC || h->kind == LIN_HIST_FOUND ||
		    h->kind == LIN_HIST_COMM)
			e.exe = h->exe_len ? intern_bytes(t, h->exe, h->exe_len) : NULL;
		if ((h->kind == LIN_HIST_EXEC || h->kind == LIN_HIST_FOUND) && h->cmdline_back)
			e.cmdline = restoring_cmdline(t, p, h->cmdline_back, &e.flags);
		else if (h->kind == LIN_HIST_EXEC || h->kind == LIN_HIST_FOUND)
			e.cmdline =
			    h->cmdline_len ? intern_bytes(t, h->cmdline, h->cmdline_len) : NULL;
		lin_hist_add(&t->history, &p->history, p, &e);
		if (t->restoring_serial == p->serial)
			g_ptr_array_add(t->restoring_cmdlines,
			                str_size(e.cmdline) >= LIN_HIST_COPY_SHARE_MIN
			                    ? lin_str_ref(e.cmdline)
			                    : NULL);
		lin_strpool_unref(t->strings, e.exe);
		lin_strpool_unref(t->strings, e.cmdline);
	}
}

/* The context r gives, over base. */
static void restore_context(struct tracker *t, struct lin_process *p,
                            const struct lin_context_copy *c, const struct lin_context *base)
{
	struct lin_context tmpl = {.loginuid = LIN_AUDIT_UNSET, .sessionid = LIN_AUDIT_UNSET};
	struct lin_str *cwd = NULL, *cgroup = NULL, *env = NULL;
	struct exe_hash_entry *hash = NULL;
	struct lin_context *old = p->ctx;

	if (base)
		tmpl = *base;
	if (c->has & LIN_CTX_COPY_CWD)
		tmpl.cwd = cwd = intern_bytes(t, c->cwd, c->cwd_len);
	if (c->has & LIN_CTX_COPY_CGROUP)
		tmpl.cgroup = cgroup = intern_bytes(t, c->cgroup, c->cgroup_len);
	if (c->has & LIN_CTX_COPY_ENV) {
		tmpl.env = env = c->env_len ? intern_bytes(t, c->env, c->env_len) : NULL;
		tmpl.known |= LIN_CTX_KNOWN_ENV;
	}
	if (c->has & LIN_CTX_COPY_HASH)
		tmpl.exe_hash = hash = exe_hash_entry_new_done(c->sha256);
	if (c->has & LIN_CTX_COPY_PIDNS)
		tmpl.pidns = c->pidns;
	if (c->has & LIN_CTX_COPY_AUDIT) {
		tmpl.loginuid = c->loginuid;
		tmpl.sessionid = c->sessionid;
		tmpl.known |= LIN_CTX_KNOWN_AUDIT;
	}
	if (c->has & LIN_CTX_COPY_IDS) {
		tmpl.tty_nr = c->tty_nr;
		tmpl.sid = c->sid;
		tmpl.pgid = c->pgid;
		tmpl.known |= LIN_CTX_KNOWN_IDS;
	}
	p->ctx = lin_context_intern(t->contexts, &tmpl);
	lin_strpool_unref(t->strings, cwd);
	lin_strpool_unref(t->strings, cgroup);
	lin_strpool_unref(t->strings, env);
	exe_hash_entry_unref(hash);
	lin_context_unref(t->contexts, old);
}

void tracker_ctx_restore_after(struct tracker *t, struct lin_process *p,
                               const struct tracker_restore *r, const guint32 old_ids[4])
{
	const struct lin_context_copy *c = &r->ctx;
	const struct lin_context *base = p->ctx;
	guint32 ids[4];

	if (r->inherit_context && p->creator)
		base = p->creator->ctx;
	if (c->has & ~(guint32)(LIN_CTX_COPY_HISTORY | LIN_CTX_COPY_EXEC | LIN_CTX_COPY_NS_PID))
		restore_context(t, p, c, base);
	else if (base != p->ctx) {
		lin_context_unref(t->contexts, p->ctx);
		p->ctx = lin_context_ref((struct lin_context *)base);
	}
	if (c->has & LIN_CTX_COPY_EXEC)
		p->exec_ns = c->exec_ns;
	else if (r->exec && r->time_ns)
		p->exec_ns = r->time_ns;
	if (c->has & LIN_CTX_COPY_HISTORY) {
		lin_hist_clear(&t->history, p->history);
		restoring_reset(t, p->serial);
		tracker_ctx_restore_history(t, p, c);
		if (p->history)
			p->history->dropped = c->hist_dropped;
	}
	/* After the history, whose holder keeps it. */
	if (c->has & LIN_CTX_COPY_NS_PID)
		set_ns_pid(t, p, c->ns_pid);
	else if (r->inherit_context && p->creator &&
	         lin_process_ns_pid(p->creator) == p->creator->pid && p->ctx == p->creator->ctx)
		/* A fork line tells no pid namespace: the child is in its
		 * creator's, where (as the creator's says) a pid is itself. */
		set_ns_pid(t, p, p->pid);
	if (r->whole)
		return;
	/* The event's own line in the history, as live. */
	current_ids(p, ids);
	switch ((enum tracker_restore_change)r->change) {
	case TRACKER_RESTORE_CHANGE_COMM:
		tracker_ctx_comm(t, p, r->time_ns);
		break;
	case TRACKER_RESTORE_CHANGE_UID:
		tracker_ctx_ids(t, p, TRUE, old_ids[0], old_ids[1], r->time_ns);
		break;
	case TRACKER_RESTORE_CHANGE_GID:
		tracker_ctx_ids(t, p, FALSE, old_ids[2], old_ids[3], r->time_ns);
		break;
	case TRACKER_RESTORE_CHANGE_NONE:
		/* A set-user-ID exec changes the ids with no event of its own. */
		if (r->exec && (old_ids[0] != ids[0] || old_ids[1] != ids[1]))
			push_ids(t, p, LIN_HIST_UID, r->time_ns, old_ids[0], old_ids[1], ids[0],
			         ids[1]);
		if (r->exec && (old_ids[2] != ids[2] || old_ids[3] != ids[3]))
			push_ids(t, p, LIN_HIST_GID, r->time_ns, old_ids[2], old_ids[3], ids[2],
			         ids[3]);
		break;
	}
}
