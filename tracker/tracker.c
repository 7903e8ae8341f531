/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The tracker itself: its life cycle and configuration, the clocks, the
 * lock (the feeding thread writes, any thread reads) and the delivery of
 * changes to the listener after the write lock is released, and the
 * reading side: the lookups by (pid, start), serial, pid and tid, the
 * resumable walks over all records, and the stats.
 */
#include "config.h"
#include "tracker-private.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* The inode of the daemon's own pid namespace: a process in it has the
 * same pid inside as outside. */
static guint32 host_pidns(int proc_root_fd)
{
	char link[64];
	ssize_t n = readlinkat(proc_root_fd, "self/ns/pid", link, sizeof(link));
	guint32 inode = 0;

	if (n > 0 && (size_t)n < sizeof(link))
		proc_context_parse_ns_link(link, (size_t)n, &inode);
	return inode;
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
	cfg->host_pidns = host_pidns(proc_root_fd);
	cfg->live_proc = proc_scan_is_live(proc_root_fd);
}

guint64 tracker_now_monotonic(const struct tracker *t)
{
	return t->cfg.now_monotonic_ns ? t->cfg.now_monotonic_ns() : real_now_monotonic();
}

guint64 tracker_now_realtime(const struct tracker *t)
{
	return t->cfg.now_realtime_ns ? t->cfg.now_realtime_ns() : real_now_realtime();
}

/* The kernel stamps events with ktime_get_ns() (monotonic); start times and
 * wall-clock times are derived through the boot offsets taken at start. */
guint64 tracker_event_realtime(const struct tracker *t, guint64 timestamp_ns)
{
	return t->cfg.boot_realtime_ns + t->cfg.boot_offset_ns + timestamp_ns;
}

void tracker_queue_change(struct tracker *t, enum lin_change_kind kind, struct lin_process *p)
{
	struct lin_change change = {
	    .kind = kind,
	    .serial = p->serial,
	    .pid = p->pid,
	    .instance = lin_process_instance(p),
	    .start_ticks = p->start_ticks,
	    .creator_serial = p->creator ? p->creator->serial : 0,
	    .seen = p->fs_seen,
	    .creator_seen = p->creator ? p->creator->fs_seen : 0,
	};

	p->generation++;
	if (t->change_fn)
		g_array_append_val(t->changes, change);
	if (t->event_fn)
		tracker_hook_change(t, kind, p);
}

void tracker_queue_creator_change(struct tracker *t, struct lin_process *p,
                                  const struct lin_process *old_creator)
{
	struct lin_change change = {
	    .kind = LIN_CHANGE_CREATOR,
	    .serial = p->serial,
	    .pid = p->pid,
	    .instance = lin_process_instance(p),
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
	if (t->event_fn)
		tracker_hook_change(t, LIN_CHANGE_CREATOR, p);
}

void tracker_write_lock(struct tracker *t)
{
	pthread_rwlock_wrlock(&t->lock);
}

/* Releases the write lock, then tells the listener what changed: it may
 * queue kernel cache invalidations, which must never be sent under a lock
 * that FUSE callbacks take. */
void tracker_write_unlock(struct tracker *t)
{
	pthread_rwlock_unlock(&t->lock);
	for (guint i = 0; i < t->changes->len; i++)
		t->change_fn(&g_array_index(t->changes, struct lin_change, i), t->change_data);
	g_array_set_size(t->changes, 0);
}

static gboolean is_newest(struct tracker *t, const struct lin_process *p)
{
	return tracker_find_pid(t, p->pid) == p;
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

struct tracker *tracker_new(const struct tracker_config *cfg)
{
	struct tracker *t = g_new0(struct tracker, 1);
	pthread_rwlockattr_t attr;

	pthread_rwlockattr_init(&attr);
	pthread_rwlockattr_setkind_np(&attr, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&t->lock, &attr);
	pthread_rwlockattr_destroy(&attr);

	t->cfg = *cfg;
	t->next_serial = cfg->serial_base;
	if (t->cfg.hz == 0)
		t->cfg.hz = 100;
	t->strings = lin_strpool_new();
	/* A record's serial is its first field, so the record itself is the key. */
	t->record_blocks = g_ptr_array_new_with_free_func(g_free);
	/* The newest record of a pid is its own key, hashed by pid. */
	t->by_pid = g_hash_table_new(pid_hash, pid_equal);
	t->threads = g_hash_table_new(NULL, NULL);
	t->pending = g_hash_table_new_full(NULL, NULL, NULL, g_free);
	t->leader_exited = g_ptr_array_new();
	t->changes = g_array_new(FALSE, FALSE, sizeof(struct lin_change));
	t->cpu_seqs = g_array_new(FALSE, TRUE, sizeof(struct cpu_seq));
	t->stats.started_monotonic_ns = tracker_now_monotonic(t);
	/* History lines in all: half the retention limit, at least 10,000
	 * (history.h), unlimited when retention is. */
	if (t->cfg.history_max == 0 && t->cfg.max_exited > 0)
		t->cfg.history_max = MAX(t->cfg.max_exited / 2, 10000u);
	tracker_ctx_init(t);
	if (t->cfg.hash_exe)
		t->hasher = exe_hash_new();
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
		tracker_ctx_release(t, p);
	}
	g_ptr_array_unref(t->record_blocks);
	serial_index_clear(&t->by_serial);
	g_hash_table_unref(t->threads);
	g_hash_table_unref(t->pending);
	g_ptr_array_unref(t->leader_exited);
	g_array_unref(t->changes);
	g_array_unref(t->cpu_seqs);
	g_hash_table_unref(t->by_pid);
	tracker_ctx_cleanup(t);
	lin_strpool_free(t->strings);
	pthread_rwlock_destroy(&t->lock);
	g_free(t);
}

const struct tracker_config *tracker_get_config(const struct tracker *t)
{
	return &t->cfg;
}

struct lin_metrics *tracker_get_metrics(struct tracker *t)
{
	return &t->metrics;
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

struct lin_process *tracker_find_name(struct tracker *t, const struct lin_name *name)
{
	for (struct lin_process *p = tracker_find_pid(t, name->pid); p; p = p->older_same_pid)
		if (p->start_ticks == name->start_ticks &&
		    lin_process_instance(p) == name->instance)
			return p;
	return NULL;
}

struct lin_process *tracker_find_serial(struct tracker *t, guint64 serial)
{
	return serial_index_find(&t->by_serial, serial);
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
	/* The cursor's record was forgotten meanwhile: the first larger
	 * serial is where to resume. */
	return serial_index_first_after(&t->by_serial, after);
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
	/* Each record costs its struct and its by-serial slot (the array's
	 * bytes), each pid a by-pid slot (a key and a hash each, the table at
	 * most half full). */
	out->record_bytes =
	    t->records * sizeof(struct lin_process) + serial_index_bytes(&t->by_serial) +
	    g_hash_table_size(t->by_pid) * 2 * (sizeof(gpointer) + 4) + tracker_ctx_bytes(t);
	out->history_entries = t->history.entries;
	out->history_dropped = t->history.dropped;
	out->string_bytes = lin_strpool_bytes(t->strings);
	out->strings = lin_strpool_count(t->strings);
}

struct lin_name lin_process_name(const struct lin_process *p)
{
	struct lin_name name = {
	    .pid = p->pid, .instance = lin_process_instance(p), .start_ticks = p->start_ticks};

	return name;
}
