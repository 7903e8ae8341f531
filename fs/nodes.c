/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Nodes: what an inode number means and what the kernel is told about it.
 * Encodes per-process inodes from record serials (with a generation for
 * versioned files), resolves an inode back to its record under the
 * tracker's read lock, renders a file's content or a link's target, fills
 * attributes and lookup entries with their cache timeouts, and keeps the
 * bytes of the versions of cmdline, comm and status the kernel knows, so an
 * open file keeps reading the version it opened.
 */
#include "config.h"
#include "fs-private.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

/* How long an outdated version's bytes are kept for open files. */
#define FS_OUTDATED_KEEP_NS (10 * NS_PER_SEC)

/* The content of one version of a versioned file, kept while the kernel
 * may read it: from the lookup that told the kernel of it until the kernel
 * forgets the inode (or, for an outdated version, FS_OUTDATED_KEEP_NS). */
struct fs_version {
	GBytes *content;
	guint64 lookups;          /* the kernel's count, as FORGET will undo it */
	guint64 outdated_ns;      /* CLOCK_MONOTONIC when found outdated; 0 = current */
	guint64 made_realtime_ns; /* a snapshot's: when it was taken */
};

/* ---- nodes ---- */

/* cmdline, comm, status, history and environ change while a process runs. Each version is
 * an inode of its own (its record's generation in the inode number): an
 * open file keeps reading the version it opened, whole, as on /proc, while
 * a new lookup of the name finds the current one. */
static gboolean kind_is_versioned(enum fs_kind kind)
{
	return kind == FS_KIND_CMDLINE || kind == FS_KIND_COMM || kind == FS_KIND_STATUS ||
	       kind == FS_KIND_HISTORY || kind == FS_KIND_ENVIRON;
}

fuse_ino_t fs_serial_ino(guint64 serial, enum fs_kind kind)
{
	return (fuse_ino_t)(serial << FS_SERIAL_SHIFT) | kind;
}

fuse_ino_t fs_process_ino(const struct lin_process *p, enum fs_kind kind)
{
	fuse_ino_t ino = fs_serial_ino(p->serial, kind);

	if (kind_is_versioned(kind))
		ino |= (fuse_ino_t)(p->generation & FS_GEN_MASK) << FS_KIND_BITS;
	return ino;
}

static guint64 clock_now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (guint64)ts.tv_sec * NS_PER_SEC + (guint64)ts.tv_nsec;
}

guint64 fs_now_realtime_ns(struct lin_fs *fs)
{
	const struct tracker_config *cfg = tracker_get_config(fs->tracker);

	return cfg->now_realtime_ns ? cfg->now_realtime_ns() : clock_now_ns(CLOCK_REALTIME);
}

guint64 fs_now_monotonic_ns(struct lin_fs *fs)
{
	const struct tracker_config *cfg = tracker_get_config(fs->tracker);

	return cfg->now_monotonic_ns ? cfg->now_monotonic_ns() : clock_now_ns(CLOCK_MONOTONIC);
}

gboolean fs_kind_is_dir(enum fs_kind kind)
{
	return kind == FS_KIND_DIR || kind == FS_KIND_CHILDREN || kind == FS_KIND_ROOT ||
	       kind == FS_KIND_BY_PID_DIR || kind == FS_KIND_BY_EXE_DIR ||
	       kind == FS_KIND_BY_UID_DIR || kind == FS_KIND_BY_UID_ROOT ||
	       kind == FS_KIND_BOOT_DIR || kind == FS_KIND_BOOT_BY_PID || kind == FS_KIND_BOOTS_DIR;
}

gboolean fs_kind_is_snapshot(enum fs_kind kind)
{
	return kind == FS_KIND_STATS || kind == FS_KIND_METRICS || kind == FS_KIND_ANCESTRY;
}

gboolean fs_kind_is_link(enum fs_kind kind)
{
	return kind == FS_KIND_EXE || kind == FS_KIND_PARENT || kind == FS_KIND_CHILD_LINK ||
	       kind == FS_KIND_BY_PID_LINK || kind == FS_KIND_SELF_LINK ||
	       kind == FS_KIND_BY_EXE_LINK || kind == FS_KIND_BY_UID_LINK;
}

/* A snapshot inode (FS_INO_SNAPSHOT): its kind and record; outdated, so
 * its kept bytes are what it renders, or the current ones once those are
 * dropped. Caller holds the tracker's read lock, not versions_lock. */
static int snapshot_resolve(struct lin_fs *fs, fuse_ino_t ino, struct fs_node *node)
{
	enum fs_kind kind = (enum fs_kind)(ino & FS_KIND_MASK);
	guint64 serial = (ino & ~FS_INO_SNAPSHOT) >> FS_SNAPSHOT_SHIFT;
	struct fs_version *version;

	if (!fs_kind_is_snapshot(kind) || (serial != 0) != (kind == FS_KIND_ANCESTRY))
		return -ENOENT;
	if (serial) {
		/* An earlier boot's ancestry names a record of its own table. */
		node->tracker = fs_table_of(fs, serial);
		node->process = node->tracker ? tracker_find_serial(node->tracker, serial) : NULL;
		if (!node->process)
			return -ENOENT;
	}
	node->kind = kind;
	node->outdated = TRUE;
	g_mutex_lock(&fs->versions_lock);
	version = g_hash_table_lookup(fs->versions, GSIZE_TO_POINTER(ino));
	if (version)
		node->snapshot_realtime_ns = version->made_realtime_ns;
	g_mutex_unlock(&fs->versions_lock);
	return 0;
}

/* Finds the node of an inode. Caller holds the tracker's read lock. A node
 * whose record was forgotten, or whose link no longer exists (no exe, no
 * creator), is -ENOENT. */
int fs_node_resolve(struct lin_fs *fs, fuse_ino_t ino, struct fs_node *node)
{
	enum fs_kind kind = (enum fs_kind)(ino & FS_KIND_MASK);
	guint64 serial = ino >> FS_SERIAL_SHIFT;
	struct lin_process *p;
	struct tracker *t;

	memset(node, 0, sizeof(*node));
	node->ino = ino;
	node->tracker = fs->tracker;
	if (ino & FS_INO_SNAPSHOT)
		return snapshot_resolve(fs, ino, node);
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
	case FS_INO_BY_UID:
		node->kind = FS_KIND_BY_UID_ROOT;
		return 0;
	case FS_INO_BOOTS:
		node->kind = FS_KIND_BOOTS_DIR;
		return fs->boots->len > 0 ? 0 : -ENOENT;
	case FS_INO_METRICS:
		node->kind = FS_KIND_METRICS;
		return 0;
	default:
		break;
	}
	if (serial == 0 || kind >= FS_KIND_COUNT)
		return -ENOENT;
	if (kind == FS_KIND_BY_EXE_DIR || kind == FS_KIND_BY_UID_DIR || kind == FS_KIND_BY_EXE_LINK)
		return fs_index_resolve(fs, ino, kind, node);
	if (!kind_is_versioned(kind) && (ino >> FS_KIND_BITS & FS_GEN_MASK))
		return -ENOENT;
	t = fs_table_of(fs, serial);
	if (!t)
		return -ENOENT;
	node->tracker = t;
	if (kind == FS_KIND_BOOT_DIR || kind == FS_KIND_BOOT_BY_PID) {
		/* An earlier boot's own directories, at its serial base. */
		if (t == fs->tracker || serial != tracker_get_config(t)->serial_base)
			return -ENOENT;
		node->kind = kind;
		return 0;
	}
	p = tracker_find_serial(t, serial);
	if (!p)
		return -ENOENT;
	if (kind_is_versioned(kind))
		node->outdated = ino != fs_process_ino(p, kind);
	if (kind == FS_KIND_EXE && !p->exe)
		return -ENOENT;
	if ((kind == FS_KIND_PARENT || kind == FS_KIND_CHILD_LINK) && !p->creator)
		return -ENOENT;
	/* environ holds the --env variables: there is none without it. */
	if (kind == FS_KIND_ENVIRON && !tracker_get_config(fs->tracker)->env_names)
		return -ENOENT;
	node->kind = kind;
	node->process = p;
	return 0;
}

/* How long the kernel may trust what it was told about a process's nodes:
 * every change to them is invalidated by the notifier while it runs.
 * Called under the read lock, so a change rendered too late to see is
 * reported by fs_on_change() after this read, and is queued if it said
 * "long". */
double fs_process_timeout(struct lin_fs *fs)
{
	return g_atomic_int_get(&fs->notifier_on) ? CACHE_LONG_S : CACHE_SHORT_S;
}

static double node_entry_timeout(struct lin_fs *fs, const struct fs_node *node)
{
	switch (node->kind) {
	case FS_KIND_ROOT:
	case FS_KIND_BY_PID_DIR:
	case FS_KIND_BOOTS_DIR:
	case FS_KIND_BOOT_DIR:
	case FS_KIND_BOOT_BY_PID:
		return CACHE_LONG_S;
	case FS_KIND_STATS:
	case FS_KIND_METRICS:
	case FS_KIND_ANCESTRY:
	case FS_KIND_BY_PID_LINK:
	case FS_KIND_SELF_LINK:
	case FS_KIND_BY_EXE_LINK:
	case FS_KIND_BY_UID_LINK:
		/* by-pid/<pid> and self resolve to another inode when their
		 * target changes, and every look at a snapshot kind takes a
		 * new one: the kernel must ask every time. An index link goes
		 * when its record leaves the list. */
		return 0;
	case FS_KIND_BY_UID_ROOT:
		return CACHE_LONG_S;
	case FS_KIND_BY_EXE_DIR:
		/* A path's directory goes when nothing below it is retained,
		 * and comes back as another inode: its name must be looked up
		 * anew. by-exe/ itself stays. */
		if (node->exe_dir->parent)
			return 0;
		break;
	case FS_KIND_BY_UID_DIR:
	case FS_KIND_DIR:
		/* hidepid=invisible: whether the name exists depends on
		 * who asks. */
		if (fs_access_per_reader_entries(fs))
			return 0;
		break;
	case FS_KIND_EXE:
		/* allow_other: its target is cached and readlink is never
		 * permission-checked, so the name is checked per reader. */
		if (fs_access_per_reader_exe(fs, node->process))
			return 0;
		break;
	case FS_KIND_CMDLINE:
	case FS_KIND_COMM:
	case FS_KIND_PARENT:
	case FS_KIND_CHILDREN:
	case FS_KIND_STATUS:
	case FS_KIND_HISTORY:
	case FS_KIND_ENVIRON:
	case FS_KIND_CHILD_LINK:
	case FS_KIND_COUNT:
		break;
	}
	return fs_process_timeout(fs);
}

double fs_node_attr_timeout(struct lin_fs *fs, const struct fs_node *node)
{
	/* A snapshot never changes. */
	if (node->ino & FS_INO_SNAPSHOT)
		return CACHE_LONG_S;
	switch (node->kind) {
	case FS_KIND_BY_PID_LINK:
	case FS_KIND_SELF_LINK:
	case FS_KIND_BY_EXE_LINK:
	case FS_KIND_BY_UID_LINK:
		return 0;
	case FS_KIND_BY_UID_ROOT:
		return CACHE_LONG_S;
	case FS_KIND_STATS:
	case FS_KIND_METRICS:
	case FS_KIND_ANCESTRY:
		/* Their plain inode, which no lookup hands out any more (each
		 * gets a snapshot): a fresh size after this short while. */
		return CACHE_LOOK_ANEW_S;
	case FS_KIND_ROOT:
	case FS_KIND_BY_PID_DIR:
	case FS_KIND_BOOTS_DIR:
	case FS_KIND_BOOT_DIR:
	case FS_KIND_BOOT_BY_PID:
		return CACHE_LONG_S;
	case FS_KIND_BY_EXE_DIR:
	case FS_KIND_BY_UID_DIR:
	case FS_KIND_DIR:
	case FS_KIND_CMDLINE:
	case FS_KIND_EXE:
	case FS_KIND_COMM:
	case FS_KIND_PARENT:
	case FS_KIND_CHILDREN:
	case FS_KIND_STATUS:
	case FS_KIND_HISTORY:
	case FS_KIND_ENVIRON:
	case FS_KIND_CHILD_LINK:
	case FS_KIND_COUNT:
		break;
	}
	return fs_access_attr_timeout(fs, node, fs_process_timeout(fs));
}

static void append_link(GString *out, int (*link_fn)(const struct lin_process *, char *, size_t),
                        const struct lin_process *p)
{
	char target[FS_NAME_MAX + 8];

	if (link_fn(p, target, sizeof(target)) > 0)
		g_string_append(out, target);
}

void fs_version_free(gpointer data)
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

void fs_version_forget(struct lin_fs *fs, fuse_ino_t ino, guint64 lookups)
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
void fs_versions_sweep(struct lin_fs *fs)
{
	guint64 now = fs_now_monotonic_ns(fs);
	GHashTableIter iter;
	gpointer key, value;

	tracker_read_lock(fs->tracker);
	g_mutex_lock(&fs->versions_lock);
	g_hash_table_iter_init(&iter, fs->versions);
	while (g_hash_table_iter_next(&iter, &key, &value)) {
		struct fs_version *version = value;
		struct fs_node node;

		/* A snapshot is outdated from birth (and resolving it would
		 * take versions_lock again). */
		if (GPOINTER_TO_SIZE(key) & FS_INO_SNAPSHOT) {
			if (!version->outdated_ns)
				version->outdated_ns = now;
			else if (version->outdated_ns + FS_OUTDATED_KEEP_NS < now)
				g_hash_table_iter_remove(&iter);
			continue;
		}
		if (fs_node_resolve(fs, GPOINTER_TO_SIZE(key), &node) < 0) {
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

static void counters_load(struct lin_fs *fs, struct fs_counters *out)
{
	out->notify_queued = __atomic_load_n(&fs->counters.notify_queued, __ATOMIC_RELAXED);
	out->notify_done = __atomic_load_n(&fs->counters.notify_done, __ATOMIC_RELAXED);
	out->notify_sent = __atomic_load_n(&fs->counters.notify_sent, __ATOMIC_RELAXED);
	out->notify_uncached = __atomic_load_n(&fs->counters.notify_uncached, __ATOMIC_RELAXED);
	out->notify_failed = __atomic_load_n(&fs->counters.notify_failed, __ATOMIC_RELAXED);
	out->notify_skipped = __atomic_load_n(&fs->counters.notify_skipped, __ATOMIC_RELAXED);
}

/* The metrics file. Its CPU and memory figures are read from the daemon's
 * own /proc/self (self_usage.c), never from a traced process's. */
static void render_metrics(struct lin_fs *fs, GString *out)
{
	const struct tracker_config *cfg = tracker_get_config(fs->tracker);
	struct tracker_stats stats;
	struct fs_counters counters;
	struct fs_self_usage usage;
	struct lin_journal_stats journal;
	struct fs_metrics_input in = {
	    .stats = &stats,
	    .counters = &counters,
	    .metrics = tracker_get_metrics(fs->tracker),
	    .cpu = usage.cpu,
	    .hz = cfg->hz,
	    .started_realtime_ns = fs->started_realtime_ns,
	    .version = LINEAGEFS_VERSION,
	    .features = LINEAGEFS_FEATURES,
	};

	tracker_get_stats(fs->tracker, &stats);
	counters_load(fs, &counters);
	fs_self_usage_read(&usage);
	in.cpu_count = usage.count;
	in.rss_bytes = usage.rss_bytes;
	in.now_monotonic_ns = fs_now_monotonic_ns(fs);
	if (fs->journal_stats_fn) {
		fs->journal_stats_fn(&journal, fs->journal_stats_data);
		in.journal = &journal;
	}
	fs_render_metrics(out, &in);
}

/* Renders a file's content or a link's target into out. Caller holds the
 * tracker's read lock. */
int fs_node_render(struct lin_fs *fs, const struct fs_node *node, GString *out)
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
		fs_render_status(out, p, tracker_get_config(node->tracker));
		return 0;
	case FS_KIND_HISTORY:
		fs_render_history(out, p, tracker_get_config(fs->tracker));
		return 0;
	case FS_KIND_ENVIRON:
		fs_render_environ(out, p);
		return 0;
	case FS_KIND_ANCESTRY:
		fs_render_ancestry(out, p);
		return 0;
	case FS_KIND_STATS: {
		struct tracker_stats stats;
		struct fs_counters counters;

		tracker_get_stats(fs->tracker, &stats);
		counters_load(fs, &counters);
		fs_render_stats(out, &stats, &counters, fs_now_monotonic_ns(fs));
		if (fs->journal_stats_fn) {
			struct lin_journal_stats journal;

			fs->journal_stats_fn(&journal, fs->journal_stats_data);
			fs_render_journal_stats(out, &journal);
		}
		return 0;
	}
	case FS_KIND_METRICS:
		render_metrics(fs, out);
		return 0;
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
	case FS_KIND_BY_EXE_LINK:
	case FS_KIND_BY_UID_LINK:
		fs_index_render_link(node, out);
		return 0;
	case FS_KIND_BY_EXE_DIR:
	case FS_KIND_BY_UID_DIR:
	case FS_KIND_BY_UID_ROOT:
	case FS_KIND_DIR:
	case FS_KIND_CHILDREN:
	case FS_KIND_ROOT:
	case FS_KIND_BY_PID_DIR:
	case FS_KIND_BOOTS_DIR:
	case FS_KIND_BOOT_DIR:
	case FS_KIND_BOOT_BY_PID:
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
void fs_node_fill_attr(struct lin_fs *fs, const struct fs_node *node, struct stat *st,
                       GString *content)
{
	const struct lin_process *p = node->process;
	g_autoptr(GString) own_content = NULL;

	memset(st, 0, sizeof(*st));
	st->st_ino = node->ino;
	st->st_blksize = 4096;
	if (fs_kind_is_dir(node->kind)) {
		st->st_mode = S_IFDIR | 0555;
		/* A process dir holds one subdirectory (children/). The root
		 * holds one per record and that count changes all the time:
		 * 1 is the conventional "not counted" value that find(1)
		 * understands, so it does not skip subdirectories. */
		st->st_nlink = node->kind == FS_KIND_DIR                                      ? 3
		               : node->kind == FS_KIND_ROOT || node->kind == FS_KIND_BOOT_DIR ? 1
		                                                                              : 2;
	} else {
		if (!content)
			content = own_content = g_string_new(NULL);
		fs_node_render(fs, node, content);
		st->st_mode = fs_kind_is_link(node->kind) ? S_IFLNK | 0777 : S_IFREG | 0444;
		st->st_nlink = 1;
		st->st_size = (off_t)content->len;
		st->st_blocks = (blkcnt_t)((content->len + 511) / 512);
	}

	switch (node->kind) {
	case FS_KIND_BY_EXE_DIR:
	case FS_KIND_BY_UID_DIR:
	case FS_KIND_BY_UID_ROOT:
		fs_index_fill_attr(fs, st);
		stat_set_time(st, fs->started_realtime_ns);
		return;
	case FS_KIND_ROOT:
	case FS_KIND_BY_PID_DIR:
	case FS_KIND_BOOTS_DIR:
	case FS_KIND_BOOT_DIR:
	case FS_KIND_BOOT_BY_PID:
		stat_set_time(st, fs->started_realtime_ns);
		return;
	case FS_KIND_STATS:
	case FS_KIND_METRICS:
		/* Modified when the snapshot was taken; its ctime is the
		 * daemon's start, the same for every snapshot: tar takes a
		 * changed ctime for a file changed while it read it. */
		stat_set_time(st, node->snapshot_realtime_ns ? node->snapshot_realtime_ns
		                                             : fs_now_realtime_ns(fs));
		st->st_ctim.tv_sec = (time_t)(fs->started_realtime_ns / NS_PER_SEC);
		st->st_ctim.tv_nsec = (long)(fs->started_realtime_ns % NS_PER_SEC);
		return;
	case FS_KIND_BY_PID_LINK:
	case FS_KIND_SELF_LINK:
	case FS_KIND_BY_EXE_LINK:
	case FS_KIND_BY_UID_LINK:
		/* Root-level entries: owned by root, like /proc/self. */
		stat_set_time(st, fs_start_realtime_ns(p, tracker_get_config(node->tracker)));
		return;
	case FS_KIND_DIR:
	case FS_KIND_CMDLINE:
	case FS_KIND_EXE:
	case FS_KIND_COMM:
	case FS_KIND_PARENT:
	case FS_KIND_CHILDREN:
	case FS_KIND_STATUS:
	case FS_KIND_HISTORY:
	case FS_KIND_ENVIRON:
	case FS_KIND_ANCESTRY:
	case FS_KIND_CHILD_LINK:
	case FS_KIND_COUNT:
		break;
	}
	st->st_uid = p->euid;
	st->st_gid = p->egid;
	stat_set_time(st, fs_start_realtime_ns(p, tracker_get_config(node->tracker)));
	fs_access_fill_attr(fs, node, st);
}

/* Called under the tracker's read lock, before the reply that tells the
 * kernel: a change after it is then sure to see the mark. */
void fs_mark_seen(struct lin_process *p, guint8 bits)
{
	if (p)
		__atomic_fetch_or(&p->fs_seen, bits, __ATOMIC_RELAXED);
}

/* How long a reader that has not read its snapshot of stats or metrics
 * yet gets the same one again. */
#define FS_SNAPSHOT_REUSE_NS (5 * NS_PER_SEC)

/* The ring of last snapshots of a kind; NULL for ancestry. */
static struct fs_snapshot_last *snapshot_ring(struct lin_fs *fs, enum fs_kind kind, guint **next)
{
	int k = kind == FS_KIND_STATS ? 0 : kind == FS_KIND_METRICS ? 1 : -1;

	if (k < 0)
		return NULL;
	if (next)
		*next = &fs->last_snapshot_next[k];
	return fs->last_snapshot[k];
}

/*
 * tar stats a file, opens it, reads it and stats it again, and takes a
 * changed size or ctime for a file changed under it; tar cf /dev/null
 * stats it twice and reads nothing. Each stat by name is a lookup here (no
 * entry is cached), so a reader that has not read its last snapshot of
 * stats or metrics yet is handed that one again (for FS_SNAPSHOT_REUSE_NS
 * at most): its stat, open, read and stat all see one snapshot. Once it
 * has read it, its next lookup renders anew, so a reader polling the file
 * sees fresh numbers. Returns the reused inode, 0 for none. Caller holds
 * versions_lock.
 */
static fuse_ino_t snapshot_reused(struct lin_fs *fs, enum fs_kind kind, pid_t reader)
{
	struct fs_snapshot_last *ring = snapshot_ring(fs, kind, NULL);
	guint64 now = fs_now_monotonic_ns(fs);

	for (guint i = 0; ring && reader > 0 && i < FS_SNAPSHOT_READERS; i++) {
		struct fs_version *version;

		if (ring[i].reader != reader || ring[i].read ||
		    now - ring[i].made_ns > FS_SNAPSHOT_REUSE_NS)
			continue;
		version = g_hash_table_lookup(fs->versions, GSIZE_TO_POINTER(ring[i].ino));
		if (!version)
			continue;
		version->lookups++;
		return ring[i].ino;
	}
	return 0;
}

void fs_snapshot_read(struct lin_fs *fs, fuse_ino_t ino)
{
	g_mutex_lock(&fs->versions_lock);
	for (gsize k = 0; k < G_N_ELEMENTS(fs->last_snapshot); k++) {
		for (guint i = 0; i < FS_SNAPSHOT_READERS; i++) {
			if (fs->last_snapshot[k][i].ino == ino)
				fs->last_snapshot[k][i].read = TRUE;
		}
	}
	g_mutex_unlock(&fs->versions_lock);
}

/* Keeps a new snapshot's bytes under its inode, and remembers it as its
 * reader's last (in place of that reader's previous one, else of the
 * oldest). */
static void snapshot_keep(struct lin_fs *fs, const struct fs_node *node, pid_t reader,
                          GString *content)
{
	struct fs_version *version = g_new0(struct fs_version, 1);
	guint *next = NULL;
	struct fs_snapshot_last *ring = snapshot_ring(fs, node->kind, &next);

	version->made_realtime_ns = node->snapshot_realtime_ns;
	version->lookups = 1;
	version->content = g_bytes_new(content->str, content->len);
	g_mutex_lock(&fs->versions_lock);
	/* Replaces (and frees) what a wrapped counter left under this inode. */
	g_hash_table_replace(fs->versions, GSIZE_TO_POINTER(node->ino), version);
	if (ring && reader > 0) {
		struct fs_snapshot_last *slot = NULL;

		for (guint i = 0; i < FS_SNAPSHOT_READERS && !slot; i++) {
			if (ring[i].reader == reader)
				slot = &ring[i];
		}
		if (!slot) {
			slot = &ring[*next];
			*next = (*next + 1) % FS_SNAPSHOT_READERS;
		}
		slot->reader = reader;
		slot->ino = node->ino;
		slot->made_ns = fs_now_monotonic_ns(fs);
		slot->read = FALSE;
	}
	g_mutex_unlock(&fs->versions_lock);
}

/* A lookup of stats, metrics or ancestry: rendered once into an inode of
 * its own, kept until the kernel forgets it (or for FS_OUTDATED_KEEP_NS),
 * so the size the kernel was told and every read of that inode agree,
 * however the content moves on. Caller holds the tracker's read lock. */
void fs_node_fill_snapshot_entry(struct lin_fs *fs, const struct fs_node *base, pid_t reader,
                                 struct fuse_entry_param *e)
{
	struct fs_node node = *base;
	guint64 serial = base->process ? base->process->serial : 0;
	fuse_ino_t reused;

	g_mutex_lock(&fs->versions_lock);
	reused = snapshot_reused(fs, base->kind, reader);
	g_mutex_unlock(&fs->versions_lock);
	if (reused == 0 || fs_node_resolve(fs, reused, &node) < 0) {
		g_autoptr(GString) content = g_string_new(NULL);
		guint64 id = __atomic_add_fetch(&fs->next_snapshot, 1, __ATOMIC_RELAXED);

		fs_node_render(fs, base, content);
		node = *base;
		node.ino = FS_INO_SNAPSHOT | (serial & FS_SNAPSHOT_SERIALS) << FS_SNAPSHOT_SHIFT |
		           (id & FS_SNAPSHOT_MASK) << FS_KIND_BITS | base->kind;
		node.outdated = TRUE;
		node.snapshot_realtime_ns = fs_now_realtime_ns(fs);
		snapshot_keep(fs, &node, reader, content);
	}
	fs_mark_seen(node.process, FS_SEEN_NODES);
	memset(e, 0, sizeof(*e));
	e->ino = node.ino;
	fs_node_fill_attr(fs, &node, &e->attr, NULL);
	e->entry_timeout = node_entry_timeout(fs, &node);
	e->attr_timeout = fs_node_attr_timeout(fs, &node);
}

void fs_node_fill_entry(struct lin_fs *fs, const struct fs_node *node, struct fuse_entry_param *e)
{
	g_autoptr(GString) content = NULL;

	if (fs_kind_is_snapshot(node->kind) && !(node->ino & FS_INO_SNAPSHOT)) {
		fs_node_fill_snapshot_entry(fs, node, 0, e);
		return;
	}
	content = g_string_new(NULL);
	fs_mark_seen(node->process, FS_SEEN_NODES);
	memset(e, 0, sizeof(*e));
	e->ino = node->ino;
	fs_node_fill_attr(fs, node, &e->attr, content);
	if (kind_is_versioned(node->kind) && !node->outdated && lin_process_running(node->process))
		version_told(fs, node, content);
	e->entry_timeout = node_entry_timeout(fs, node);
	e->attr_timeout = fs_node_attr_timeout(fs, node);
}
