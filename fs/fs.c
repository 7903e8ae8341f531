/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FUSE low-level filesystem. Every node is named by its inode number
 * alone: per-process nodes are (record serial << 4 | kind), so a request is
 * answered by looking the serial up under the tracker's read lock, and
 * nothing is allocated per inode (FORGET has nothing to free). Contents are
 * rendered into a buffer, the lock is dropped, then the reply is sent.
 *
 * Caching: the kernel is told to keep entries and attributes for an hour
 * (CACHE_LONG_S). That is only correct because a notifier thread turns
 * every tracker change into fuse_lowlevel_notify_inval_* calls; the
 * notifier runs on its own thread because the kernel may need a FUSE
 * callback to finish before it can apply an invalidation (libfuse
 * doc/README.notifications). Files whose content changes without a tracker
 * change (stats, ancestry, the Threads line of a running process's status)
 * are never cached. A running process's files are read with direct_io, an
 * exited one's with keep_cache: an exited record never changes again except
 * through EXEC (a revived leader), whose invalidation drops the pages.
 */
#include "fs.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>

#include "render.h"

/* Kinds of per-process nodes: the low FS_KIND_BITS of their inode. */
enum fs_kind {
	FS_KIND_DIR,         /* <pid>-<start>/ */
	FS_KIND_CMDLINE,     /* <pid>-<start>/cmdline */
	FS_KIND_EXE,         /* <pid>-<start>/exe */
	FS_KIND_COMM,        /* <pid>-<start>/comm */
	FS_KIND_PARENT,      /* <pid>-<start>/parent */
	FS_KIND_CHILDREN,    /* <pid>-<start>/children/ */
	FS_KIND_STATUS,      /* <pid>-<start>/status */
	FS_KIND_ANCESTRY,    /* <pid>-<start>/ancestry */
	FS_KIND_CHILD_LINK,  /* <creator>/children/<pid>-<start>: a record has one creator */
	FS_KIND_BY_PID_LINK, /* by-pid/<pid> while this record is the newest */
	FS_KIND_SELF_LINK,   /* self, as seen by a thread of this record */
	FS_KIND_COUNT,
	/* Fixed nodes: not encoded in a per-process inode. */
	FS_KIND_ROOT,
	FS_KIND_BY_PID_DIR,
	FS_KIND_STATS,
};

#define FS_KIND_BITS 4
#define FS_KIND_MASK ((1u << FS_KIND_BITS) - 1)
/* Versions of a file told apart in its inode (wraps: an open file would
 * have to outlive 4096 changes of its process to be confused). */
#define FS_GEN_BITS     12
#define FS_GEN_MASK     ((1u << FS_GEN_BITS) - 1)
#define FS_SERIAL_SHIFT (FS_KIND_BITS + FS_GEN_BITS)
G_STATIC_ASSERT(FS_KIND_COUNT <= (1u << FS_KIND_BITS));

/* Fixed inodes sit below 1 << FS_KIND_BITS; serials start at 1, so no
 * per-process inode can collide with them. */
#define FS_INO_ROOT   FUSE_ROOT_ID
#define FS_INO_BY_PID 2
#define FS_INO_STATS  3

/* Readdir offsets: 1..n for the fixed entries of a directory, then
 * FS_OFF_KEYED + key (a serial or a pid), so a reader resumes after the
 * last key it got even when entries come and go in between. */
#define FS_OFF_KEYED 16

/* Cache timeouts (seconds). Long ones are safe only while the notifier
 * runs; before it starts, a changed record is stale for at most SHORT. */
#define CACHE_LONG_S  3600.0
#define CACHE_SHORT_S 1.0
/* stats and ancestry: fresh at every look after this, consistent within. */
#define CACHE_LOOK_ANEW_S 0.01
/* How long an outdated version's bytes are kept for open files. */
#define FS_OUTDATED_KEEP_NS (10 * NS_PER_SEC)
/* How often the notifier sweeps the kept versions. */
#define FS_SWEEP_NS (2 * NS_PER_SEC)

#define NS_PER_SEC G_GUINT64_CONSTANT(1000000000)

struct lin_fs {
	struct tracker *tracker;     /* not owned */
	guint64 started_realtime_ns; /* the time of root and by-pid/ */

	/* Changes waiting for the notifier; the queue has its own lock, held
	 * only to push or pop, so fs_on_change() never waits for the kernel. */
	GAsyncQueue *changes;         /* struct lin_change *, g_malloc'd */
	GThread *notifier;            /* only touched by start/stop, on the main thread */
	struct fuse_session *session; /* set before the notifier starts */
	gint notifier_on;             /* atomic: changes are queued, long timeouts are given */
	gint no_open;                 /* atomic: the kernel opens files without asking */
	gint no_opendir;              /* atomic: and directories, caching their listings */
	gint root_listed;             /* atomic: the root was listed since its last invalidation */
	gint by_pid_listed;           /* atomic: by-pid/ too */

	/* Versions of versioned files the kernel knows (ino -> struct
	 * fs_version), kept so that reads of an outdated one still get its
	 * own bytes. */
	GMutex versions_lock;
	GHashTable *versions; /* protected by versions_lock */

	struct fs_counters counters; /* each field updated with __atomic builtins */
};

/* A node resolved under the tracker's read lock. */
struct fs_node {
	fuse_ino_t ino;
	enum fs_kind kind;
	struct lin_process *process; /* NULL for fixed nodes */
	gboolean outdated;           /* an older version of a versioned file */
};

/* The content of one version of a versioned file, kept while the kernel
 * may read it: from the lookup that told the kernel of it until the kernel
 * forgets the inode (or, for an outdated version, FS_OUTDATED_KEEP_NS). */
struct fs_version {
	GBytes *content;
	guint64 lookups;     /* the kernel's count, as FORGET will undo it */
	guint64 outdated_ns; /* CLOCK_MONOTONIC when found outdated; 0 = current */
};

/* Bits of lin_process.fs_seen. */
enum {
	FS_SEEN_NODES = 1 << 0,    /* a node of the record was in a lookup or readdirplus reply */
	FS_SEEN_CHILDREN = 1 << 1, /* its children/ was listed since the last invalidation */
};

/* Marks the end of the notifier's queue; never freed. */
static struct lin_change notifier_stop_marker;

/* The entries of a process directory, in readdir order. */
static const struct {
	const char *name;
	enum fs_kind kind;
} process_entries[] = {
    {"cmdline", FS_KIND_CMDLINE},   {"exe", FS_KIND_EXE},           {"comm", FS_KIND_COMM},
    {"parent", FS_KIND_PARENT},     {"children", FS_KIND_CHILDREN}, {"status", FS_KIND_STATUS},
    {"ancestry", FS_KIND_ANCESTRY},
};

/* ---- nodes ---- */

/* cmdline, comm and status change while a process runs. Each version is
 * an inode of its own (its record's generation in the inode number): an
 * open file keeps reading the version it opened, whole, as on /proc, while
 * a new lookup of the name finds the current one. */
static gboolean kind_is_versioned(enum fs_kind kind)
{
	return kind == FS_KIND_CMDLINE || kind == FS_KIND_COMM || kind == FS_KIND_STATUS;
}

static fuse_ino_t serial_ino(guint64 serial, enum fs_kind kind)
{
	return (fuse_ino_t)(serial << FS_SERIAL_SHIFT) | kind;
}

static fuse_ino_t process_ino(const struct lin_process *p, enum fs_kind kind)
{
	fuse_ino_t ino = serial_ino(p->serial, kind);

	if (kind_is_versioned(kind))
		ino |= (fuse_ino_t)(p->generation & FS_GEN_MASK) << FS_KIND_BITS;
	return ino;
}

static void counter_add(guint64 *counter)
{
	__atomic_fetch_add(counter, 1, __ATOMIC_RELAXED);
}

static guint64 clock_now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (guint64)ts.tv_sec * NS_PER_SEC + (guint64)ts.tv_nsec;
}

static guint64 now_realtime_ns(struct lin_fs *fs)
{
	const struct tracker_config *cfg = tracker_get_config(fs->tracker);

	return cfg->now_realtime_ns ? cfg->now_realtime_ns() : clock_now_ns(CLOCK_REALTIME);
}

static guint64 now_monotonic_ns(struct lin_fs *fs)
{
	const struct tracker_config *cfg = tracker_get_config(fs->tracker);

	return cfg->now_monotonic_ns ? cfg->now_monotonic_ns() : clock_now_ns(CLOCK_MONOTONIC);
}

static gboolean kind_is_dir(enum fs_kind kind)
{
	return kind == FS_KIND_DIR || kind == FS_KIND_CHILDREN || kind == FS_KIND_ROOT ||
	       kind == FS_KIND_BY_PID_DIR;
}

static gboolean kind_is_link(enum fs_kind kind)
{
	return kind == FS_KIND_EXE || kind == FS_KIND_PARENT || kind == FS_KIND_CHILD_LINK ||
	       kind == FS_KIND_BY_PID_LINK || kind == FS_KIND_SELF_LINK;
}

/* Finds the node of an inode. Caller holds the tracker's read lock. A node
 * whose record was forgotten, or whose link no longer exists (no exe, no
 * creator), is -ENOENT. */
static int node_resolve(struct lin_fs *fs, fuse_ino_t ino, struct fs_node *node)
{
	enum fs_kind kind = (enum fs_kind)(ino & FS_KIND_MASK);
	struct lin_process *p;

	node->ino = ino;
	node->process = NULL;
	node->outdated = FALSE;
	switch (ino) {
	case FS_INO_ROOT:
		node->kind = FS_KIND_ROOT;
		return 0;
	case FS_INO_BY_PID:
		node->kind = FS_KIND_BY_PID_DIR;
		return 0;
	case FS_INO_STATS:
		node->kind = FS_KIND_STATS;
		return 0;
	default:
		break;
	}
	if (ino >> FS_SERIAL_SHIFT == 0 || kind >= FS_KIND_COUNT)
		return -ENOENT;
	if (!kind_is_versioned(kind) && (ino >> FS_KIND_BITS & FS_GEN_MASK))
		return -ENOENT;
	p = tracker_find_serial(fs->tracker, ino >> FS_SERIAL_SHIFT);
	if (!p)
		return -ENOENT;
	if (kind_is_versioned(kind))
		node->outdated = ino != process_ino(p, kind);
	if (kind == FS_KIND_EXE && !p->exe)
		return -ENOENT;
	if ((kind == FS_KIND_PARENT || kind == FS_KIND_CHILD_LINK) && !p->creator)
		return -ENOENT;
	node->kind = kind;
	node->process = p;
	return 0;
}

static void node_of(struct fs_node *node, struct lin_process *p, enum fs_kind kind)
{
	node->outdated = FALSE;
	node->ino = process_ino(p, kind);
	node->kind = kind;
	node->process = p;
}

/* How long the kernel may trust what it was told about a process's nodes:
 * every change to them is invalidated by the notifier while it runs.
 * Called under the read lock, so a change rendered too late to see is
 * reported by fs_on_change() after this read, and is queued if it said
 * "long". */
static double process_timeout(struct lin_fs *fs)
{
	return g_atomic_int_get(&fs->notifier_on) ? CACHE_LONG_S : CACHE_SHORT_S;
}

static double node_entry_timeout(struct lin_fs *fs, const struct fs_node *node)
{
	switch (node->kind) {
	case FS_KIND_ROOT:
	case FS_KIND_BY_PID_DIR:
		return CACHE_LONG_S;
	case FS_KIND_STATS:
	case FS_KIND_BY_PID_LINK:
	case FS_KIND_SELF_LINK:
		/* by-pid/<pid> and self resolve to another inode when their
		 * target changes: the kernel must ask every time. */
		return 0;
	case FS_KIND_DIR:
	case FS_KIND_CMDLINE:
	case FS_KIND_EXE:
	case FS_KIND_COMM:
	case FS_KIND_PARENT:
	case FS_KIND_CHILDREN:
	case FS_KIND_STATUS:
	case FS_KIND_ANCESTRY:
	case FS_KIND_CHILD_LINK:
	case FS_KIND_COUNT:
		break;
	}
	return process_timeout(fs);
}

static double node_attr_timeout(struct lin_fs *fs, const struct fs_node *node)
{
	switch (node->kind) {
	case FS_KIND_BY_PID_LINK:
	case FS_KIND_SELF_LINK:
		return 0;
	case FS_KIND_STATS:
	case FS_KIND_ANCESTRY:
		/* Their content follows what no change names (the counters;
		 * the comms and the forgetting of ancestors): a fresh size and mtime
		 * after this short while (auto_inval_data then drops the
		 * pages). Not zero: the read() that finds EOF right after the
		 * first must not fetch a newer, longer version's tail. */
		return CACHE_LOOK_ANEW_S;
	case FS_KIND_ROOT:
	case FS_KIND_BY_PID_DIR:
		return CACHE_LONG_S;
	case FS_KIND_DIR:
	case FS_KIND_CMDLINE:
	case FS_KIND_EXE:
	case FS_KIND_COMM:
	case FS_KIND_PARENT:
	case FS_KIND_CHILDREN:
	case FS_KIND_STATUS:
	case FS_KIND_CHILD_LINK:
	case FS_KIND_COUNT:
		break;
	}
	return process_timeout(fs);
}

static void append_link(GString *out, int (*link_fn)(const struct lin_process *, char *, size_t),
                        const struct lin_process *p)
{
	char target[FS_NAME_MAX + 8];

	if (link_fn(p, target, sizeof(target)) > 0)
		g_string_append(out, target);
}

static void version_free(gpointer data)
{
	struct fs_version *version = data;

	g_bytes_unref(version->content);
	g_free(version);
}

/* A lookup reply is telling the kernel of a running process's versioned
 * file: keep these bytes for the inode. Caller holds the tracker's read
 * lock (taken before versions_lock, always). */
static void version_told(struct lin_fs *fs, const struct fs_node *node, const GString *content)
{
	struct fs_version *version;

	g_mutex_lock(&fs->versions_lock);
	version = g_hash_table_lookup(fs->versions, GSIZE_TO_POINTER(node->ino));
	if (!version) {
		version = g_new0(struct fs_version, 1);
		version->content = g_bytes_new(content->str, content->len);
		g_hash_table_insert(fs->versions, GSIZE_TO_POINTER(node->ino), version);
	}
	version->lookups++;
	g_mutex_unlock(&fs->versions_lock);
}

/* Appends the kept bytes of version ino; FALSE when none are kept. */
static gboolean version_append(struct lin_fs *fs, fuse_ino_t ino, GString *out)
{
	struct fs_version *version;

	g_mutex_lock(&fs->versions_lock);
	version = g_hash_table_lookup(fs->versions, GSIZE_TO_POINTER(ino));
	if (version) {
		gsize len;
		const char *data = g_bytes_get_data(version->content, &len);

		g_string_append_len(out, data, (gssize)len);
	}
	g_mutex_unlock(&fs->versions_lock);
	return version != NULL;
}

static void version_forget(struct lin_fs *fs, fuse_ino_t ino, guint64 lookups)
{
	struct fs_version *version;

	g_mutex_lock(&fs->versions_lock);
	version = g_hash_table_lookup(fs->versions, GSIZE_TO_POINTER(ino));
	if (version) {
		version->lookups -= MIN(lookups, version->lookups);
		if (version->lookups == 0)
			g_hash_table_remove(fs->versions, GSIZE_TO_POINTER(ino));
	}
	g_mutex_unlock(&fs->versions_lock);
}

/* The kernel may keep an inode long after its last use, so versions are
 * also dropped once no reader can need them: an outdated one some seconds
 * after it was found outdated (an open file read that late gets the
 * current bytes), a current one once its process is gone or has exited
 * (its bytes are then rendered the same way). */
static void versions_sweep(struct lin_fs *fs)
{
	guint64 now = now_monotonic_ns(fs);
	GHashTableIter iter;
	gpointer key, value;

	tracker_read_lock(fs->tracker);
	g_mutex_lock(&fs->versions_lock);
	g_hash_table_iter_init(&iter, fs->versions);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		struct fs_version *version = value;
		struct fs_node node;

		if (node_resolve(fs, GPOINTER_TO_SIZE(key), &node) < 0) {
			g_hash_table_iter_remove(&iter);
		} else if (node.outdated) {
			if (!version->outdated_ns)
				version->outdated_ns = now;
			else if (version->outdated_ns + FS_OUTDATED_KEEP_NS < now)
				g_hash_table_iter_remove(&iter);
		} else if (!lin_process_running(node.process)) {
			g_hash_table_iter_remove(&iter);
		}
	}
	g_mutex_unlock(&fs->versions_lock);
	tracker_read_unlock(fs->tracker);
}

/* Renders a file's content or a link's target into out. Caller holds the
 * tracker's read lock. */
static int node_render(struct lin_fs *fs, const struct fs_node *node, GString *out)
{
	const struct lin_process *p = node->process;

	/* An older version: its own bytes, while they are kept. */
	if (node->outdated && version_append(fs, node->ino, out))
		return 0;

	switch (node->kind) {
	case FS_KIND_CMDLINE:
		if (p->cmdline)
			g_string_append_len(out, p->cmdline->data, p->cmdline->len);
		return 0;
	case FS_KIND_COMM:
		fs_render_comm(out, p);
		return 0;
	case FS_KIND_STATUS:
		fs_render_status(out, p, tracker_get_config(fs->tracker));
		return 0;
	case FS_KIND_ANCESTRY:
		fs_render_ancestry(out, p);
		return 0;
	case FS_KIND_STATS: {
		struct tracker_stats stats;
		struct fs_counters counters;

		tracker_get_stats(fs->tracker, &stats);
		counters.notify_queued =
		    __atomic_load_n(&fs->counters.notify_queued, __ATOMIC_RELAXED);
		counters.notify_sent = __atomic_load_n(&fs->counters.notify_sent, __ATOMIC_RELAXED);
		counters.notify_uncached =
		    __atomic_load_n(&fs->counters.notify_uncached, __ATOMIC_RELAXED);
		counters.notify_failed =
		    __atomic_load_n(&fs->counters.notify_failed, __ATOMIC_RELAXED);
		counters.notify_skipped =
		    __atomic_load_n(&fs->counters.notify_skipped, __ATOMIC_RELAXED);
		fs_render_stats(out, &stats, &counters, now_monotonic_ns(fs));
		return 0;
	}
	case FS_KIND_EXE:
		g_string_append_len(out, p->exe->data, p->exe->len);
		return 0;
	case FS_KIND_PARENT:
		append_link(out, fs_link_parent, p);
		return 0;
	case FS_KIND_CHILD_LINK:
		append_link(out, fs_link_child, p);
		return 0;
	case FS_KIND_BY_PID_LINK:
		append_link(out, fs_link_by_pid, p);
		return 0;
	case FS_KIND_SELF_LINK:
		append_link(out, fs_link_self, p);
		return 0;
	case FS_KIND_DIR:
	case FS_KIND_CHILDREN:
	case FS_KIND_ROOT:
	case FS_KIND_BY_PID_DIR:
	case FS_KIND_COUNT:
		break;
	}
	return -EISDIR;
}

static void stat_set_time(struct stat *st, guint64 realtime_ns)
{
	st->st_mtim.tv_sec = (time_t)(realtime_ns / NS_PER_SEC);
	st->st_mtim.tv_nsec = (long)(realtime_ns % NS_PER_SEC);
	st->st_ctim = st->st_mtim;
	st->st_atim = st->st_mtim;
}

/* Fills the attributes of a node. Caller holds the tracker's read lock.
 * Files are rendered to learn their exact size: tools that trust st_size
 * (less, some editors, python's read()) must see all of it. The rendered
 * bytes go to content when the caller needs them too (NULL: dropped). */
static void node_fill_attr(struct lin_fs *fs, const struct fs_node *node, struct stat *st,
                           GString *content)
{
	const struct lin_process *p = node->process;
	g_autoptr(GString) own_content = NULL;

	memset(st, 0, sizeof(*st));
	st->st_ino = node->ino;
	st->st_blksize = 4096;
	if (kind_is_dir(node->kind)) {
		st->st_mode = S_IFDIR | 0555;
		/* A process dir holds one subdirectory (children/). The root
		 * holds one per record and that count changes all the time:
		 * 1 is the conventional "not counted" value that find(1)
		 * understands, so it does not skip subdirectories. */
		st->st_nlink = node->kind == FS_KIND_DIR ? 3 : node->kind == FS_KIND_ROOT ? 1 : 2;
	} else {
		if (!content)
			content = own_content = g_string_new(NULL);
		node_render(fs, node, content);
		st->st_mode = kind_is_link(node->kind) ? S_IFLNK | 0777 : S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)content->len;
		st->st_blocks = (blkcnt_t)((content->len + 511) / 512);
	}

	switch (node->kind) {
	case FS_KIND_ROOT:
	case FS_KIND_BY_PID_DIR:
		stat_set_time(st, fs->started_realtime_ns);
		return;
	case FS_KIND_STATS:
		stat_set_time(st, now_realtime_ns(fs));
		return;
	case FS_KIND_ANCESTRY:
		/* Its content follows other records (their comms, their
		 * forgetting): a new mtime at every look makes the kernel
		 * drop its pages (auto_inval_data). */
		st->st_uid = p->euid;
		st->st_gid = p->egid;
		stat_set_time(st, now_realtime_ns(fs));
		return;
	case FS_KIND_BY_PID_LINK:
	case FS_KIND_SELF_LINK:
		/* Root-level entries: owned by root, like /proc/self. */
		stat_set_time(st, fs_start_realtime_ns(p, tracker_get_config(fs->tracker)));
		return;
	case FS_KIND_DIR:
	case FS_KIND_CMDLINE:
	case FS_KIND_EXE:
	case FS_KIND_COMM:
	case FS_KIND_PARENT:
	case FS_KIND_CHILDREN:
	case FS_KIND_STATUS:
	case FS_KIND_CHILD_LINK:
	case FS_KIND_COUNT:
		break;
	}
	st->st_uid = p->euid;
	st->st_gid = p->egid;
	stat_set_time(st, fs_start_realtime_ns(p, tracker_get_config(fs->tracker)));
}

/* Called under the tracker's read lock, before the reply that tells the
 * kernel: a change after it is then sure to see the mark. */
static void mark_seen(struct lin_process *p, guint8 bits)
{
	if (p)
		__atomic_fetch_or(&p->fs_seen, bits, __ATOMIC_RELAXED);
}

static void node_fill_entry(struct lin_fs *fs, const struct fs_node *node,
                            struct fuse_entry_param *e)
{
	g_autoptr(GString) content = g_string_new(NULL);

	mark_seen(node->process, FS_SEEN_NODES);
	memset(e, 0, sizeof(*e));
	e->ino = node->ino;
	node_fill_attr(fs, node, &e->attr, content);
	if (kind_is_versioned(node->kind) && !node->outdated && lin_process_running(node->process))
		version_told(fs, node, content);
	e->entry_timeout = node_entry_timeout(fs, node);
	e->attr_timeout = node_attr_timeout(fs, node);
}

/* A negative entry the kernel may keep for timeout seconds. */
static void negative_entry(struct fuse_entry_param *e, double timeout)
{
	memset(e, 0, sizeof(*e));
	e->entry_timeout = timeout;
}

/* ---- lookup ---- */

/* Names of processes may appear at any moment: never cache their absence.
 * Any other name can never exist in these directories. */
static int lookup_missing(const char *name, struct fuse_entry_param *e)
{
	pid_t pid;
	guint64 start;

	if (fs_parse_process_name(name, &pid, &start) == 0)
		return -ENOENT;
	negative_entry(e, CACHE_LONG_S);
	return 0;
}

static int lookup_in_root(struct lin_fs *fs, pid_t reader, const char *name,
                          struct fuse_entry_param *e)
{
	struct fs_node node = {0};
	struct lin_process *p;
	pid_t pid;
	guint64 start;

	if (strcmp(name, "by-pid") == 0) {
		node_resolve(fs, FS_INO_BY_PID, &node);
	} else if (strcmp(name, "stats") == 0) {
		node_resolve(fs, FS_INO_STATS, &node);
	} else if (strcmp(name, "self") == 0) {
		p = reader > 0 ? tracker_find_tid(fs->tracker, reader) : NULL;
		if (!p)
			return -ENOENT;
		node_of(&node, p, FS_KIND_SELF_LINK);
	} else if (fs_parse_process_name(name, &pid, &start) == 0) {
		p = tracker_find(fs->tracker, pid, start);
		if (!p)
			return -ENOENT;
		node_of(&node, p, FS_KIND_DIR);
	} else {
		return lookup_missing(name, e);
	}
	node_fill_entry(fs, &node, e);
	return 0;
}

static int lookup_in_by_pid(struct lin_fs *fs, const char *name, struct fuse_entry_param *e)
{
	struct fs_node node;
	struct lin_process *p;
	pid_t pid;

	if (fs_parse_pid(name, &pid) < 0) {
		negative_entry(e, CACHE_LONG_S);
		return 0;
	}
	p = tracker_find_pid(fs->tracker, pid);
	if (!p)
		return -ENOENT;
	node_of(&node, p, FS_KIND_BY_PID_LINK);
	node_fill_entry(fs, &node, e);
	return 0;
}

static int lookup_in_process(struct lin_fs *fs, struct lin_process *p, const char *name,
                             struct fuse_entry_param *e)
{
	struct fs_node node;

	for (gsize i = 0; i < G_N_ELEMENTS(process_entries); i++) {
		if (strcmp(name, process_entries[i].name) != 0)
			continue;
		/* exe and parent can appear later (EXEC, a late FORK); the
		 * notifier invalidates the name when they do. */
		if (node_resolve(fs, process_ino(p, process_entries[i].kind), &node) < 0) {
			negative_entry(e, process_timeout(fs));
			return 0;
		}
		node_fill_entry(fs, &node, e);
		return 0;
	}
	negative_entry(e, CACHE_LONG_S);
	return 0;
}

static int lookup_in_children(struct lin_fs *fs, struct lin_process *creator, const char *name,
                              struct fuse_entry_param *e)
{
	struct fs_node node;
	struct lin_process *child;
	pid_t pid;
	guint64 start;

	if (fs_parse_process_name(name, &pid, &start) < 0)
		return lookup_missing(name, e);
	child = tracker_find(fs->tracker, pid, start);
	if (!child || child->creator != creator)
		return -ENOENT;
	node_of(&node, child, FS_KIND_CHILD_LINK);
	node_fill_entry(fs, &node, e);
	return 0;
}

/* Fills e for parent/name. Returns 0 (e->ino == 0 for an absence the kernel
 * may cache) or -errno. */
static int fs_do_lookup(struct lin_fs *fs, pid_t reader, fuse_ino_t parent, const char *name,
                        struct fuse_entry_param *e)
{
	struct fs_node dir;
	int ret;

	tracker_read_lock(fs->tracker);
	ret = node_resolve(fs, parent, &dir);
	if (ret < 0)
		goto out;
	switch (dir.kind) {
	case FS_KIND_ROOT:
		ret = lookup_in_root(fs, reader, name, e);
		break;
	case FS_KIND_BY_PID_DIR:
		ret = lookup_in_by_pid(fs, name, e);
		break;
	case FS_KIND_DIR:
		ret = lookup_in_process(fs, dir.process, name, e);
		break;
	case FS_KIND_CHILDREN:
		ret = lookup_in_children(fs, dir.process, name, e);
		break;
	case FS_KIND_CMDLINE:
	case FS_KIND_EXE:
	case FS_KIND_COMM:
	case FS_KIND_PARENT:
	case FS_KIND_STATUS:
	case FS_KIND_ANCESTRY:
	case FS_KIND_CHILD_LINK:
	case FS_KIND_BY_PID_LINK:
	case FS_KIND_SELF_LINK:
	case FS_KIND_STATS:
	case FS_KIND_COUNT:
		ret = -ENOTDIR;
		break;
	}
out:
	tracker_read_unlock(fs->tracker);
	return ret;
}

/* ---- attributes, links, files ---- */

static int fs_do_getattr(struct lin_fs *fs, fuse_ino_t ino, struct stat *st, double *timeout)
{
	struct fs_node node;
	int ret;

	tracker_read_lock(fs->tracker);
	ret = node_resolve(fs, ino, &node);
	if (ret == 0) {
		node_fill_attr(fs, &node, st, NULL);
		*timeout = node_attr_timeout(fs, &node);
	}
	tracker_read_unlock(fs->tracker);
	return ret;
}

static int fs_do_readlink(struct lin_fs *fs, fuse_ino_t ino, GString *target)
{
	struct fs_node node;
	int ret;

	tracker_read_lock(fs->tracker);
	ret = node_resolve(fs, ino, &node);
	if (ret == 0 && !kind_is_link(node.kind))
		ret = -EINVAL;
	if (ret == 0)
		ret = node_render(fs, &node, target);
	tracker_read_unlock(fs->tracker);
	return ret;
}

/* Renders the whole file at open so every read of this descriptor sees one
 * consistent snapshot, as a read of /proc/<pid>/status does. */
static int fs_do_open(struct lin_fs *fs, fuse_ino_t ino, struct fuse_file_info *fi,
                      GBytes **content)
{
	g_autoptr(GString) rendered = NULL;
	struct fs_node node;
	int ret;

	if ((fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC))
		return -EROFS;
	rendered = g_string_new(NULL);
	tracker_read_lock(fs->tracker);
	ret = node_resolve(fs, ino, &node);
	if (ret == 0 && kind_is_dir(node.kind))
		ret = -EISDIR;
	else if (ret == 0 && kind_is_link(node.kind))
		ret = -ELOOP; /* the kernel follows links before opening */
	if (ret == 0)
		ret = node_render(fs, &node, rendered);
	if (ret == 0) {
		if (node.kind == FS_KIND_STATS || node.kind == FS_KIND_ANCESTRY ||
		    lin_process_running(node.process)) {
			/* Bypass the page cache: pages filled from this
			 * snapshot must not outlive a change. */
			fi->direct_io = 1;
		} else {
			fi->keep_cache = 1;
		}
	}
	tracker_read_unlock(fs->tracker);
	if (ret == 0)
		*content = g_string_free_to_bytes(g_steal_pointer(&rendered));
	return ret;
}

static int fs_do_opendir(struct lin_fs *fs, fuse_ino_t ino)
{
	struct fs_node node;
	int ret;

	tracker_read_lock(fs->tracker);
	ret = node_resolve(fs, ino, &node);
	if (ret == 0 && !kind_is_dir(node.kind))
		ret = -ENOTDIR;
	tracker_read_unlock(fs->tracker);
	return ret;
}

static int fs_do_statfs(struct lin_fs *fs, struct statvfs *st)
{
	struct tracker_stats stats;

	tracker_read_lock(fs->tracker);
	tracker_get_stats(fs->tracker, &stats);
	tracker_read_unlock(fs->tracker);

	memset(st, 0, sizeof(*st));
	st->f_bsize = 4096;
	st->f_frsize = 4096;
	st->f_namemax = 255;
	st->f_files = stats.processes_live + stats.processes_exited;
	st->f_flag = ST_RDONLY;
	return 0;
}

/* ---- readdir ---- */

struct dir_fill {
	fuse_req_t req;
	gboolean plus;
	char *buf;
	size_t size, len;
};

/* Adds one entry whose successor starts at next_off. Returns FALSE when the
 * buffer is full (the entry is then left for the next call). */
static gboolean dir_add(struct dir_fill *fill, const char *name, const struct fuse_entry_param *e,
                        off_t next_off)
{
	size_t room = fill->size - fill->len;
	size_t need;

	if (fill->plus)
		need = fuse_add_direntry_plus(fill->req, fill->buf + fill->len, room, name, e,
		                              next_off);
	else
		need = fuse_add_direntry(fill->req, fill->buf + fill->len, room, name, &e->attr,
		                         next_off);
	if (need > room)
		return FALSE;
	fill->len += need;
	return TRUE;
}

/* Adds a node's entry; the kernel gets its attributes with readdirplus. */
static gboolean dir_add_node(struct lin_fs *fs, struct dir_fill *fill, const char *name,
                             const struct fs_node *node, off_t next_off)
{
	struct fuse_entry_param e;

	node_fill_entry(fs, node, &e);
	/* The kernel must look these up again each time anyway: handing it
	 * an inode here would only cost it a FORGET later. */
	if (e.entry_timeout == 0)
		e.ino = 0;
	return dir_add(fill, name, &e, next_off);
}

/* "." and "..": nodeid 0 so readdirplus does not instantiate them. */
static gboolean dir_add_dot(struct dir_fill *fill, const char *name, fuse_ino_t ino, off_t next_off)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.attr.st_ino = ino;
	e.attr.st_mode = S_IFDIR;
	return dir_add(fill, name, &e, next_off);
}

static void readdir_root(struct lin_fs *fs, struct dir_fill *fill, pid_t reader, off_t off)
{
	char name[FS_NAME_MAX];
	struct fs_node node;
	struct lin_process *p;
	guint64 after;

	g_atomic_int_set(&fs->root_listed, 1);
	/* Offsets 1..5: ".", "..", by-pid, self, stats. */
	switch (off) {
	case 0:
		if (!dir_add_dot(fill, ".", FS_INO_ROOT, 1))
			return;
		/* fall through */
	case 1:
		if (!dir_add_dot(fill, "..", FS_INO_ROOT, 2))
			return;
		/* fall through */
	case 2:
		node_resolve(fs, FS_INO_BY_PID, &node);
		if (!dir_add_node(fs, fill, "by-pid", &node, 3))
			return;
		/* fall through */
	case 3:
		/* A reader the tracker does not know yet has no self. */
		p = reader > 0 ? tracker_find_tid(fs->tracker, reader) : NULL;
		if (p) {
			node_of(&node, p, FS_KIND_SELF_LINK);
			if (!dir_add_node(fs, fill, "self", &node, 4))
				return;
		}
		/* fall through */
	case 4:
		node_resolve(fs, FS_INO_STATS, &node);
		if (!dir_add_node(fs, fill, "stats", &node, 5))
			return;
		break;
	default:
		break;
	}
	after = off > FS_OFF_KEYED ? (guint64)(off - FS_OFF_KEYED) : 0;
	for (p = tracker_first_after(fs->tracker, after); p; p = p->all_next) {
		fs_process_name(p->pid, p->start_ticks, name, sizeof(name));
		node_of(&node, p, FS_KIND_DIR);
		if (!dir_add_node(fs, fill, name, &node, FS_OFF_KEYED + (off_t)p->serial))
			return;
	}
}

static void readdir_by_pid(struct lin_fs *fs, struct dir_fill *fill, off_t off)
{
	char name[16];
	struct fs_node node;
	guint64 after = off > FS_OFF_KEYED ? (guint64)(off - FS_OFF_KEYED) : 0;

	g_atomic_int_set(&fs->by_pid_listed, 1);
	if (off < 1 && !dir_add_dot(fill, ".", FS_INO_BY_PID, 1))
		return;
	if (off < 2 && !dir_add_dot(fill, "..", FS_INO_ROOT, 2))
		return;
	/* In creation order, resumable by serial like the root. */
	for (struct lin_process *p = tracker_next_newest(fs->tracker, after); p;
	     p = tracker_next_newest(fs->tracker, p->serial)) {
		snprintf(name, sizeof(name), "%d", (int)p->pid);
		node_of(&node, p, FS_KIND_BY_PID_LINK);
		if (!dir_add_node(fs, fill, name, &node, FS_OFF_KEYED + (off_t)p->serial))
			return;
	}
}

static void readdir_process(struct lin_fs *fs, struct dir_fill *fill, struct lin_process *p,
                            off_t off)
{
	struct fs_node node;

	if (off < 1 && !dir_add_dot(fill, ".", process_ino(p, FS_KIND_DIR), 1))
		return;
	if (off < 2 && !dir_add_dot(fill, "..", FS_INO_ROOT, 2))
		return;
	for (gsize i = off > 2 ? (gsize)(off - 2) : 0; i < G_N_ELEMENTS(process_entries); i++) {
		/* exe and parent are absent for some processes. */
		if (node_resolve(fs, process_ino(p, process_entries[i].kind), &node) < 0)
			continue;
		if (!dir_add_node(fs, fill, process_entries[i].name, &node, (off_t)i + 3))
			return;
	}
}

static void readdir_children(struct lin_fs *fs, struct dir_fill *fill, struct lin_process *p,
                             off_t off)
{
	char name[FS_NAME_MAX];
	struct fs_node node;
	guint64 after = off > FS_OFF_KEYED ? (guint64)(off - FS_OFF_KEYED) : 0;

	mark_seen(p, FS_SEEN_CHILDREN);
	if (off < 1 && !dir_add_dot(fill, ".", process_ino(p, FS_KIND_CHILDREN), 1))
		return;
	if (off < 2 && !dir_add_dot(fill, "..", process_ino(p, FS_KIND_DIR), 2))
		return;
	/* Children are kept in serial order, so resuming is a skip. */
	for (struct lin_process *child = p->first_child; child; child = child->next_sibling) {
		if (child->serial <= after)
			continue;
		fs_process_name(child->pid, child->start_ticks, name, sizeof(name));
		node_of(&node, child, FS_KIND_CHILD_LINK);
		if (!dir_add_node(fs, fill, name, &node, FS_OFF_KEYED + (off_t)child->serial))
			return;
	}
}

static int fs_do_readdir(struct lin_fs *fs, struct dir_fill *fill, pid_t reader, fuse_ino_t ino,
                         off_t off)
{
	struct fs_node dir;
	int ret;

	tracker_read_lock(fs->tracker);
	ret = node_resolve(fs, ino, &dir);
	if (ret < 0)
		goto out;
	switch (dir.kind) {
	case FS_KIND_ROOT:
		readdir_root(fs, fill, reader, off);
		break;
	case FS_KIND_BY_PID_DIR:
		readdir_by_pid(fs, fill, off);
		break;
	case FS_KIND_DIR:
		readdir_process(fs, fill, dir.process, off);
		break;
	case FS_KIND_CHILDREN:
		readdir_children(fs, fill, dir.process, off);
		break;
	case FS_KIND_CMDLINE:
	case FS_KIND_EXE:
	case FS_KIND_COMM:
	case FS_KIND_PARENT:
	case FS_KIND_STATUS:
	case FS_KIND_ANCESTRY:
	case FS_KIND_CHILD_LINK:
	case FS_KIND_BY_PID_LINK:
	case FS_KIND_SELF_LINK:
	case FS_KIND_STATS:
	case FS_KIND_COUNT:
		ret = -ENOTDIR;
		break;
	}
out:
	tracker_read_unlock(fs->tracker);
	return ret;
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
		inval_inode(fs, serial_ino(serial, kinds[i]));
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
		inval_inode(fs, serial_ino(creator_serial, FS_KIND_CHILDREN));
}

/* by-pid/<pid> and self are never cached (timeout 0, and their inode
 * follows the target), and a new record's name was never cached as absent,
 * so those need nothing here. A record none of whose nodes the kernel was
 * given has nothing cached: a storm nobody reads costs no invalidation. */
static void notify_change(struct lin_fs *fs, const struct lin_change *change)
{
	fuse_ino_t dir = serial_ino(change->serial, FS_KIND_DIR);
	char name[FS_NAME_MAX];

	switch (change->kind) {
	case LIN_CHANGE_NEW:
		/* The listings that now hold one more name. */
		inval_listings(fs, change->creator_serial);
		return;
	case LIN_CHANGE_FORGET:
		/* Dropping the directory's dentry drops everything below. */
		fs_process_name(change->pid, change->start_ticks, name, sizeof(name));
		inval_entry(fs, FS_INO_ROOT, name);
		if (change->creator_serial)
			inval_entry(fs, serial_ino(change->creator_serial, FS_KIND_CHILDREN), name);
		inval_listings(fs, change->creator_serial);
		return;
	case LIN_CHANGE_CREATOR:
		/* Both creators' children/ listings changed. */
		if (take_seen(fs, change->creator_serial, FS_SEEN_CHILDREN) & FS_SEEN_CHILDREN)
			inval_inode(fs, serial_ino(change->creator_serial, FS_KIND_CHILDREN));
		if (take_seen(fs, change->old_creator_serial, FS_SEEN_CHILDREN) & FS_SEEN_CHILDREN)
			inval_inode(fs, serial_ino(change->old_creator_serial, FS_KIND_CHILDREN));
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
		break;
	case LIN_CHANGE_COMM:
		inval_version(fs, dir, "comm");
		inval_version(fs, dir, "status");
		break;
	case LIN_CHANGE_ID:
		/* Ownership shows on every node. */
		inval_process_inodes(fs, change->serial);
		inval_version(fs, dir, "cmdline");
		inval_version(fs, dir, "comm");
		inval_version(fs, dir, "status");
		break;
	case LIN_CHANGE_EXIT:
	case LIN_CHANGE_THREADS:
		inval_version(fs, dir, "status");
		break;
	case LIN_CHANGE_CREATOR:
		/* parent may have appeared in the listing of its directory. */
		inval_inode(fs, dir);
		inval_version(fs, dir, "status");
		inval_inode(fs, serial_ino(change->serial, FS_KIND_PARENT));
		inval_entry(fs, dir, "parent");
		if (change->old_creator_serial) {
			fs_process_name(change->pid, change->start_ticks, name, sizeof(name));
			inval_entry(fs, serial_ino(change->old_creator_serial, FS_KIND_CHILDREN),
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
	guint64 next_sweep = now_monotonic_ns(fs) + FS_SWEEP_NS;

	for (;;) {
		change = g_async_queue_timeout_pop(fs->changes, FS_SWEEP_NS / 1000);
		if (change == &notifier_stop_marker)
			break;
		if (change) {
			notify_change(fs, change);
			g_free(change);
		}
		if (now_monotonic_ns(fs) >= next_sweep) {
			versions_sweep(fs);
			next_sweep = now_monotonic_ns(fs) + FS_SWEEP_NS;
		}
	}
	return NULL;
}

static void drain_changes(struct lin_fs *fs)
{
	struct lin_change *change;

	while ((change = g_async_queue_try_pop(fs->changes)))
		if (change != &notifier_stop_marker)
			g_free(change);
}

/* ---- FUSE callbacks: each does its work in fs_do_*() and replies once ---- */

static void fs_ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct lin_fs *fs = userdata;

	/* Symlink targets are cached in the page cache; safe because a
	 * link's inode changes whenever its target can (by-pid, self) or
	 * the notifier invalidates it (exe, parent). */
	if (conn->capable & FUSE_CAP_CACHE_SYMLINKS)
		conn->want |= FUSE_CAP_CACHE_SYMLINKS;
	/* ls -l of a directory in one round trip per buffer, not per entry. */
	if (conn->capable & FUSE_CAP_READDIRPLUS)
		conn->want |= FUSE_CAP_READDIRPLUS;
	/* No OPEN/RELEASE round trips: the kernel opens files itself and
	 * keeps their pages, which the notifier drops on every change, so
	 * a cat of a cached file costs what it costs on /proc. */
	if (conn->capable & FUSE_CAP_NO_OPEN_SUPPORT) {
		conn->want |= FUSE_CAP_NO_OPEN_SUPPORT;
		g_atomic_int_set(&fs->no_open, 1);
	}
	/* No OPENDIR/RELEASEDIR either: the kernel then keeps each
	 * directory's listing (cache_readdir) until the notifier drops it. */
	if (conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) {
		conn->want |= FUSE_CAP_NO_OPENDIR_SUPPORT;
		g_atomic_int_set(&fs->no_opendir, 1);
	}
	/* Files that change without a tracker change (stats, ancestry) get
	 * a fresh mtime and a zero attribute timeout: with this, the
	 * kernel drops their pages when it sees the new mtime. */
	if (conn->capable & FUSE_CAP_AUTO_INVAL_DATA)
		conn->want |= FUSE_CAP_AUTO_INVAL_DATA;
	conn->want &= ~(unsigned)FUSE_CAP_READDIRPLUS_AUTO;
	/* Inodes are not reconstructible from a file handle across restarts. */
	conn->want &= ~(unsigned)FUSE_CAP_EXPORT_SUPPORT;
}

static void fs_ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	struct fuse_entry_param e;
	int ret = fs_do_lookup(fs, fuse_req_ctx(req)->pid, parent, name, &e);

	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, &e);
}

/* Nothing is allocated per inode, so lookup counts need no bookkeeping. */
static void fs_ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	version_forget(fuse_req_userdata(req), ino, nlookup);
	fuse_reply_none(req);
}

static void fs_ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		version_forget(fuse_req_userdata(req), forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
}

static void fs_ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	struct stat st;
	double timeout = 0;
	int ret;

	(void)fi;
	ret = fs_do_getattr(fs, ino, &st, &timeout);
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st, timeout);
}

static void fs_ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	g_autoptr(GString) target = g_string_new(NULL);
	int ret = fs_do_readlink(fs, ino, target);

	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_readlink(req, target->str);
}

static void fs_ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	GBytes *content = NULL;
	int ret;

	/* ENOSYS makes the kernel stop sending OPEN (and RELEASE) for good;
	 * reads then render what they need (fs_do_read). */
	if ((fi->flags & O_ACCMODE) == O_RDONLY && !(fi->flags & O_TRUNC) &&
	    g_atomic_int_get(&fs->no_open)) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	ret = fs_do_open(fs, ino, fi, &content);

	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)content;
	/* -ENOENT: the open was interrupted and no release will follow. */
	if (fuse_reply_open(req, fi) == -ENOENT)
		g_bytes_unref(content);
}

/* A read of a file opened with fs_do_open(): serves its snapshot. */
static void fs_ll_read_snapshot(fuse_req_t req, size_t size, off_t off, struct fuse_file_info *fi)
{
	/* Our own reference: the kernel may finish with the file as soon as
	 * it has this reply, and the RELEASE it then sends can be handled on
	 * another thread before fuse_reply_buf() has returned here. */
	g_autoptr(GBytes) content = g_bytes_ref((GBytes *)(uintptr_t)fi->fh);
	gsize len;
	const char *data = g_bytes_get_data(content, &len);

	if (off < 0 || (gsize)off >= len)
		fuse_reply_buf(req, NULL, 0);
	else
		fuse_reply_buf(req, data + off, MIN(size, len - (gsize)off));
}

/* A read without an open (no_open): renders the node now. */
static int fs_do_read(struct lin_fs *fs, fuse_ino_t ino, GString *content)
{
	struct fs_node node;
	int ret;

	tracker_read_lock(fs->tracker);
	ret = node_resolve(fs, ino, &node);
	if (ret == 0 && kind_is_dir(node.kind))
		ret = -EISDIR;
	else if (ret == 0 && kind_is_link(node.kind))
		ret = -EINVAL;
	if (ret == 0)
		ret = node_render(fs, &node, content);
	tracker_read_unlock(fs->tracker);
	return ret;
}

static void fs_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
	if (fi->fh == 0) {
		g_autoptr(GString) content = g_string_new(NULL);
		int ret = fs_do_read(fuse_req_userdata(req), ino, content);

		if (ret < 0)
			fuse_reply_err(req, -ret);
		else if (off < 0 || (gsize)off >= content->len)
			fuse_reply_buf(req, NULL, 0);
		else
			fuse_reply_buf(req, content->str + off,
			               MIN(size, content->len - (gsize)off));
		return;
	}
	fs_ll_read_snapshot(req, size, off, fi);
}

static void fs_ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	if (fi->fh)
		g_bytes_unref((GBytes *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
}

static void fs_ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	int ret;

	/* ENOSYS: the kernel stops asking, and caches listings. */
	if (g_atomic_int_get(&fs->no_opendir)) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	ret = fs_do_opendir(fs, ino);

	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	fi->fh = 0;
	fuse_reply_open(req, fi);
}

static void reply_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, gboolean plus)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	g_autofree char *buf = g_malloc(size);
	struct dir_fill fill = {.req = req, .plus = plus, .buf = buf, .size = size};
	int ret = fs_do_readdir(fs, &fill, fuse_req_ctx(req)->pid, ino, off);

	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_buf(req, buf, fill.len);
}

static void fs_ll_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                          struct fuse_file_info *fi)
{
	(void)fi;
	reply_readdir(req, ino, size, off, FALSE);
}

static void fs_ll_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                              struct fuse_file_info *fi)
{
	(void)fi;
	reply_readdir(req, ino, size, off, TRUE);
}

static void fs_ll_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
}

static void fs_ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	struct statvfs st;
	int ret;

	(void)ino;
	ret = fs_do_statfs(fs, &st);
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_statfs(req, &st);
}

/* No extended attributes. ENOTSUP rather than ENODATA: the kernel then
 * stops asking, so ls -l costs no getxattr round trip per file. */
static void fs_ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	(void)ino;
	(void)name;
	(void)size;
	fuse_reply_err(req, ENOTSUP);
}

static void fs_ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	(void)ino;
	(void)size;
	fuse_reply_err(req, ENOTSUP);
}

/* The write side: the tree mirrors the kernel, nothing a reader does may
 * change it. */
static void fs_ll_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
                          struct fuse_file_info *fi)
{
	(void)ino;
	(void)attr;
	(void)to_set;
	(void)fi;
	fuse_reply_err(req, EROFS);
}

static void fs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                        dev_t rdev)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)rdev;
	fuse_reply_err(req, EROFS);
}

static void fs_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent;
	(void)name;
	(void)mode;
	fuse_reply_err(req, EROFS);
}

static void fs_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	fuse_reply_err(req, EROFS);
}

static void fs_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	fuse_reply_err(req, EROFS);
}

static void fs_ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	fuse_reply_err(req, EROFS);
}

static void fs_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                         const char *newname, unsigned int flags)
{
	(void)parent;
	(void)name;
	(void)newparent;
	(void)newname;
	(void)flags;
	fuse_reply_err(req, EROFS);
}

static void fs_ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	fuse_reply_err(req, EROFS);
}

static void fs_ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                         struct fuse_file_info *fi)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)fi;
	fuse_reply_err(req, EROFS);
}

static void fs_ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                        struct fuse_file_info *fi)
{
	(void)ino;
	(void)buf;
	(void)size;
	(void)off;
	(void)fi;
	fuse_reply_err(req, EROFS);
}

static void fs_ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                           size_t size, int flags)
{
	(void)ino;
	(void)name;
	(void)value;
	(void)size;
	(void)flags;
	fuse_reply_err(req, EROFS);
}

static void fs_ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino;
	(void)name;
	fuse_reply_err(req, EROFS);
}

static void fs_ll_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                            struct fuse_file_info *fi)
{
	(void)ino;
	(void)mode;
	(void)offset;
	(void)length;
	(void)fi;
	fuse_reply_err(req, EROFS);
}

static const struct fuse_lowlevel_ops fs_ops = {
    .init = fs_ll_init,
    .lookup = fs_ll_lookup,
    .forget = fs_ll_forget,
    .forget_multi = fs_ll_forget_multi,
    .getattr = fs_ll_getattr,
    .readlink = fs_ll_readlink,
    .open = fs_ll_open,
    .read = fs_ll_read,
    .release = fs_ll_release,
    .opendir = fs_ll_opendir,
    .readdir = fs_ll_readdir,
    .readdirplus = fs_ll_readdirplus,
    .releasedir = fs_ll_releasedir,
    .statfs = fs_ll_statfs,
    .getxattr = fs_ll_getxattr,
    .listxattr = fs_ll_listxattr,
    .setattr = fs_ll_setattr,
    .mknod = fs_ll_mknod,
    .mkdir = fs_ll_mkdir,
    .unlink = fs_ll_unlink,
    .rmdir = fs_ll_rmdir,
    .symlink = fs_ll_symlink,
    .rename = fs_ll_rename,
    .link = fs_ll_link,
    .create = fs_ll_create,
    .write = fs_ll_write,
    .setxattr = fs_ll_setxattr,
    .removexattr = fs_ll_removexattr,
    .fallocate = fs_ll_fallocate,
};

/* ---- public ---- */

struct lin_fs *fs_new(struct tracker *t)
{
	struct lin_fs *fs = g_new0(struct lin_fs, 1);

	fs->tracker = t;
	fs->changes = g_async_queue_new();
	g_mutex_init(&fs->versions_lock);
	fs->versions = g_hash_table_new_full(NULL, NULL, NULL, version_free);
	fs->started_realtime_ns = now_realtime_ns(fs);
	return fs;
}

void fs_free(struct lin_fs *fs)
{
	if (!fs)
		return;
	fs_stop_notifier(fs);
	drain_changes(fs);
	g_async_queue_unref(fs->changes);
	g_hash_table_unref(fs->versions);
	g_mutex_clear(&fs->versions_lock);
	g_free(fs);
}

struct fuse_session *fs_session_new(struct lin_fs *fs, struct fuse_args *args, GError **error)
{
	struct fuse_session *se = fuse_session_new(args, &fs_ops, sizeof(fs_ops), fs);

	if (!se)
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
		            "cannot create the FUSE session: check the -o mount options "
		            "(lineagefs --help lists them)");
	return se;
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
	drain_changes(fs);
}
