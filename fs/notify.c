/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The notifier: the tracker's change hook queues what changed (dropping,
 * on the event thread, changes to nothing the kernel was given), and a
 * thread of its own turns each queued change into
 * fuse_lowlevel_notify_inval_* calls, then sweeps the kept file versions.
 * Invalidations are never sent from a FUSE callback nor under a lock a
 * callback needs: the kernel may need a callback to finish before it can
 * apply one (libfuse doc/README.notifications).
 */
#include "fs-private.h"

#include <errno.h>
#include <string.h>

/* How often the notifier sweeps the kept versions. */
#define FS_SWEEP_NS (2 * NS_PER_SEC)

/* Marks the end of the notifier's queue; never freed. */
static struct lin_change notifier_stop_marker;

static void counter_add(guint64 *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

/* ---- the notifier ---- */

static void notify_count(struct lin_fs *fs, int ret)
{
	if (ret == 0)
		counter_add(&fs->counters.notify_sent);
	else if (ret == -ENOENT)
		/* The kernel had nothing cached for it: the usual case. */
		counter_add(&fs->counters.notify_uncached);
	else
		counter_add(&fs->counters.notify_failed);
}

static void inval_inode(struct lin_fs *fs, fuse_ino_t ino)
{
	/* Offset 0, length 0: the attributes and every cached page (file
	 * data, or a symlink's cached target). */
	notify_count(fs, fuse_lowlevel_notify_inval_inode(fs->session, ino, 0, 0));
}

static void inval_entry(struct lin_fs *fs, fuse_ino_t parent, const char *name)
{
	notify_count(fs, fuse_lowlevel_notify_inval_entry(fs->session, parent, name, strlen(name)));
}

/* Every inode whose attributes show the process's ids or content. */
static void inval_process_inodes(struct lin_fs *fs, guint64 serial)
{
	static const enum fs_kind kinds[] = {
	    FS_KIND_DIR,      FS_KIND_EXE,      FS_KIND_PARENT,
	    FS_KIND_CHILDREN, FS_KIND_ANCESTRY, FS_KIND_CHILD_LINK,
	};

	for (gsize i = 0; i < G_N_ELEMENTS(kinds); i++)
		inval_inode(fs, fs_serial_ino(serial, kinds[i]));
}

/* A versioned file changed: its name must lead to the new version. The
 * old inode stays as it is for the files open on it. */
static void inval_version(struct lin_fs *fs, fuse_ino_t dir, const char *name)
{
	inval_entry(fs, dir, name);
}

/* A record's seen bits, clearing those in clear; 0 once it is forgotten.
 * The lock is only held to read them, never while notifying. */
static guint8 take_seen(struct lin_fs *fs, guint64 serial, guint8 clear)
{
	struct lin_process *p;
	guint8 seen = 0;

	if (serial == 0)
		return 0;
	tracker_read_lock(fs->tracker);
	p = tracker_find_serial(fs->tracker, serial);
	if (p)
		seen = __atomic_fetch_and(&p->fs_seen, (guint8)~clear, __ATOMIC_RELAXED);
	tracker_read_unlock(fs->tracker);
	return seen;
}

/* The listings a record's birth or forgetting changes, the root, by-pid/
 * and its creator's children/, where the kernel may have cached them:
 * dropping a directory's pages drops its cached listing. */
static void inval_listings(struct lin_fs *fs, guint64 creator_serial)
{
	if (g_atomic_int_exchange(&fs->root_listed, 0))
		inval_inode(fs, FS_INO_ROOT);
	if (g_atomic_int_exchange(&fs->by_pid_listed, 0))
		inval_inode(fs, FS_INO_BY_PID);
	if (take_seen(fs, creator_serial, FS_SEEN_CHILDREN) & FS_SEEN_CHILDREN)
		inval_inode(fs, fs_serial_ino(creator_serial, FS_KIND_CHILDREN));
}

/* The name the changed record had in every listing. */
static void change_name(const struct lin_change *change, char *buf, size_t size)
{
	struct lin_name name = {
	    .pid = change->pid,
	    .instance = change->instance,
	    .start_ticks = change->start_ticks,
	};

	fs_process_name(&name, buf, size);
}

/* by-pid/<pid> and self are never cached (timeout 0, and their inode
 * follows the target), and a new record's name was never cached as absent,
 * so those need nothing here. A record none of whose nodes the kernel was
 * given has nothing cached: a storm nobody reads costs no invalidation. */
static void notify_change(struct lin_fs *fs, const struct lin_change *change)
{
	fuse_ino_t dir = fs_serial_ino(change->serial, FS_KIND_DIR);
	char name[FS_NAME_MAX];

	/* by-exe/ and by-uid/ listings a record's birth, exec, uid change or
	 * forgetting may change. */
	if (fs_index_change_matters(fs, change))
		fs_index_inval_listed(fs, inval_inode);
	switch (change->kind) {
	case LIN_CHANGE_NEW:
		/* The listings that now hold one more name. */
		inval_listings(fs, change->creator_serial);
		return;
	case LIN_CHANGE_FORGET:
		/* Dropping the directory's dentry drops everything below. */
		change_name(change, name, sizeof(name));
		inval_entry(fs, FS_INO_ROOT, name);
		if (change->creator_serial)
			inval_entry(fs, fs_serial_ino(change->creator_serial, FS_KIND_CHILDREN),
			            name);
		inval_listings(fs, change->creator_serial);
		return;
	case LIN_CHANGE_CREATOR:
		/* Both creators' children/ listings changed. */
		if (take_seen(fs, change->creator_serial, FS_SEEN_CHILDREN) & FS_SEEN_CHILDREN)
			inval_inode(fs, fs_serial_ino(change->creator_serial, FS_KIND_CHILDREN));
		if (take_seen(fs, change->old_creator_serial, FS_SEEN_CHILDREN) & FS_SEEN_CHILDREN)
			inval_inode(fs,
			            fs_serial_ino(change->old_creator_serial, FS_KIND_CHILDREN));
		break;
	case LIN_CHANGE_EXEC:
	case LIN_CHANGE_COMM:
	case LIN_CHANGE_ID:
	case LIN_CHANGE_EXIT:
	case LIN_CHANGE_THREADS:
		break;
	}
	if (!(take_seen(fs, change->serial, 0) & FS_SEEN_NODES))
		return;

	switch (change->kind) {
	case LIN_CHANGE_EXEC:
		/* New cmdline, exe, comm, maybe ids; exe may appear or go. */
		inval_process_inodes(fs, change->serial);
		inval_entry(fs, dir, "exe");
		inval_version(fs, dir, "cmdline");
		inval_version(fs, dir, "comm");
		inval_version(fs, dir, "status");
		inval_version(fs, dir, "history");
		inval_version(fs, dir, "environ");
		break;
	case LIN_CHANGE_COMM:
		inval_version(fs, dir, "comm");
		inval_version(fs, dir, "status");
		inval_version(fs, dir, "history");
		break;
	case LIN_CHANGE_ID:
		/* Ownership shows on every node. */
		inval_process_inodes(fs, change->serial);
		inval_version(fs, dir, "cmdline");
		inval_version(fs, dir, "comm");
		inval_version(fs, dir, "status");
		inval_version(fs, dir, "history");
		inval_version(fs, dir, "environ");
		break;
	case LIN_CHANGE_EXIT:
		/* Under allow_other an exited process closes to other users
		 * (fs_access_fill_attr()): every mode changes. */
		if (fs->access.allow_other) {
			inval_process_inodes(fs, change->serial);
			inval_version(fs, dir, "cmdline");
			inval_version(fs, dir, "comm");
		}
		inval_version(fs, dir, "status");
		inval_version(fs, dir, "history");
		break;
	case LIN_CHANGE_THREADS:
		/* Also an exe hash done (record_context.c). */
		inval_version(fs, dir, "status");
		break;
	case LIN_CHANGE_CREATOR:
		/* parent may have appeared in the listing of its directory. */
		inval_inode(fs, dir);
		inval_version(fs, dir, "status");
		inval_version(fs, dir, "history");
		inval_inode(fs, fs_serial_ino(change->serial, FS_KIND_PARENT));
		inval_entry(fs, dir, "parent");
		if (change->old_creator_serial) {
			change_name(change, name, sizeof(name));
			inval_entry(fs, fs_serial_ino(change->old_creator_serial, FS_KIND_CHILDREN),
			            name);
		}
		break;
	case LIN_CHANGE_NEW:
	case LIN_CHANGE_FORGET:
		break;
	}
}

static gpointer notifier_main(gpointer data)
{
	struct lin_fs *fs = data;
	struct lin_change *change;
	guint64 next_sweep = fs_now_monotonic_ns(fs) + FS_SWEEP_NS;

	for (;;) {
		change = g_async_queue_timeout_pop(fs->changes, FS_SWEEP_NS / 1000);
		if (change == &notifier_stop_marker)
			break;
		if (change) {
			notify_change(fs, change);
			g_free(change);
			/* After its invalidations: a reader that sees done
			 * reach queued knows the kernel holds nothing older. */
			__atomic_fetch_add(&fs->counters.notify_done, 1, __ATOMIC_RELEASE);
		}
		if (fs_now_monotonic_ns(fs) >= next_sweep) {
			fs_versions_sweep(fs);
			next_sweep = fs_now_monotonic_ns(fs) + FS_SWEEP_NS;
		}
	}
	return NULL;
}

void fs_drain_changes(struct lin_fs *fs)
{
	struct lin_change *change;

	while ((change = g_async_queue_try_pop(fs->changes)))
		if (change != &notifier_stop_marker)
			g_free(change);
}

/* Whether the kernel may hold something a change makes stale, from what
 * readers were given before it (the change's snapshots of fs_seen). Most
 * changes in a storm nobody reads are dropped here, on the event thread,
 * without waking the notifier. */
static gboolean change_may_be_cached(struct lin_fs *fs, const struct lin_change *change)
{
	gboolean listed = g_atomic_int_get(&fs->root_listed) ||
	                  g_atomic_int_get(&fs->by_pid_listed) ||
	                  (change->creator_seen & FS_SEEN_CHILDREN);

	if (fs_index_change_matters(fs, change))
		return TRUE;
	switch (change->kind) {
	case LIN_CHANGE_NEW:
		return listed;
	case LIN_CHANGE_FORGET:
		return listed || (change->seen & FS_SEEN_NODES);
	case LIN_CHANGE_CREATOR:
		return (change->seen & FS_SEEN_NODES) ||
		       (change->creator_seen & FS_SEEN_CHILDREN) ||
		       (change->old_creator_seen & FS_SEEN_CHILDREN);
	case LIN_CHANGE_EXEC:
	case LIN_CHANGE_COMM:
	case LIN_CHANGE_ID:
	case LIN_CHANGE_EXIT:
	case LIN_CHANGE_THREADS:
		break;
	}
	return (change->seen & FS_SEEN_NODES) != 0;
}

void fs_on_change(const struct lin_change *change, void *data)
{
	struct lin_fs *fs = data;

	/* Before the notifier runs, replies carry short timeouts and there
	 * is nobody to drain the queue. */
	if (!g_atomic_int_get(&fs->notifier_on))
		return;
	if (!change_may_be_cached(fs, change)) {
		counter_add(&fs->counters.notify_skipped);
		return;
	}
	g_async_queue_push(fs->changes, g_memdup2(change, sizeof(*change)));
	counter_add(&fs->counters.notify_queued);
}

gboolean fs_start_notifier(struct lin_fs *fs, struct fuse_session *se, GError **error)
{
	g_autoptr(GError) local_error = NULL;

	if (fs->notifier)
		return TRUE;
	fs->session = se;
	fs->notifier = g_thread_try_new("lin-notify", notifier_main, fs, &local_error);
	if (!fs->notifier) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
		            "cannot start the cache notifier thread: %s", local_error->message);
		return FALSE;
	}
	/* Long timeouts only from now on: a change before this point is
	 * covered by the short timeout the reply carried. */
	g_atomic_int_set(&fs->notifier_on, 1);
	return TRUE;
}

void fs_stop_notifier(struct lin_fs *fs)
{
	if (!fs->notifier)
		return;
	g_atomic_int_set(&fs->notifier_on, 0);
	g_async_queue_push(fs->changes, &notifier_stop_marker);
	g_thread_join(fs->notifier);
	fs->notifier = NULL;
	fs_drain_changes(fs);
}
