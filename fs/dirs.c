/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Directories: lookup and readdir for each kind of directory (the root,
 * by-pid/, a process directory, its children/). Names are parsed and found
 * in the tracker under its read lock; listings resume by record serial or
 * pid, so a reader never skips or repeats an entry when records come and go
 * between two readdir calls. Entries are filled through the node helpers,
 * which mark what the kernel was told for the notifier.
 */
#include "fs-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Readdir offsets: 1..n for the fixed entries of a directory, then
 * FS_OFF_KEYED + key (a serial or a pid), so a reader resumes after the
 * last key it got even when entries come and go in between. */
#define FS_OFF_KEYED 16

/* The entries of a process directory, in readdir order. */
static const struct {
	const char *name;
	enum fs_kind kind;
} process_entries[] = {
    {"cmdline", FS_KIND_CMDLINE},   {"exe", FS_KIND_EXE},           {"comm", FS_KIND_COMM},
    {"parent", FS_KIND_PARENT},     {"children", FS_KIND_CHILDREN}, {"status", FS_KIND_STATUS},
    {"ancestry", FS_KIND_ANCESTRY}, {"history", FS_KIND_HISTORY},   {"environ", FS_KIND_ENVIRON},
};

static void node_of(struct fs_node *node, struct tracker *t, struct lin_process *p,
                    enum fs_kind kind)
{
	memset(node, 0, sizeof(*node));
	node->ino = fs_process_ino(p, kind);
	node->kind = kind;
	node->process = p;
	node->tracker = t;
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
	struct lin_name parsed;

	if (fs_parse_process_name(name, &parsed) == 0)
		return -ENOENT;
	negative_entry(e, CACHE_LONG_S);
	return 0;
}

/* The process directories of a table: the root's, or an earlier boot's
 * (whose names never come and go: their absence is cached). */
static int lookup_process_dir(struct lin_fs *fs, const struct fs_reader *reader, struct tracker *t,
                              const char *name, struct fuse_entry_param *e)
{
	struct fs_node node;
	struct lin_process *p;
	struct lin_name parsed;

	if (fs_parse_process_name(name, &parsed) < 0)
		return lookup_missing(name, e);
	p = tracker_find_name(t, &parsed);
	if (!p && t != fs->tracker) {
		negative_entry(e, CACHE_LONG_S);
		return 0;
	}
	/* Not cached: the kernel asks again for the next reader. */
	if (!p || !fs_access_visible(fs, reader, p))
		return -ENOENT;
	node_of(&node, t, p, FS_KIND_DIR);
	fs_node_fill_entry(fs, &node, e);
	return 0;
}

static int lookup_in_root(struct lin_fs *fs, const struct fs_reader *reader, const char *name,
                          struct fuse_entry_param *e)
{
	struct fs_node node = {0};
	struct lin_process *p;

	if (strcmp(name, "by-pid") == 0) {
		fs_node_resolve(fs, FS_INO_BY_PID, &node);
	} else if (strcmp(name, "stats") == 0 || strcmp(name, "metrics") == 0) {
		fs_node_resolve(fs, name[0] == 's' ? FS_INO_STATS : FS_INO_METRICS, &node);
		fs_node_fill_snapshot_entry(fs, &node, reader->pid, e);
		return 0;
	} else if (strcmp(name, "boots") == 0) {
		if (fs_node_resolve(fs, FS_INO_BOOTS, &node) < 0) {
			negative_entry(e, CACHE_LONG_S);
			return 0;
		}
	} else if (strcmp(name, "by-exe") == 0) {
		fs_node_resolve(fs, fs_index_exe_root_ino(), &node);
	} else if (strcmp(name, "by-uid") == 0) {
		fs_node_resolve(fs, FS_INO_BY_UID, &node);
	} else if (strcmp(name, "self") == 0) {
		/* In a replay, the reader is no process of the history. */
		p = reader->pid > 0 && !fs->replay ? tracker_find_tid(fs->tracker, reader->pid)
		                                   : NULL;
		if (!p)
			return -ENOENT;
		node_of(&node, fs->tracker, p, FS_KIND_SELF_LINK);
	} else {
		return lookup_process_dir(fs, reader, fs->tracker, name, e);
	}
	fs_node_fill_entry(fs, &node, e);
	return 0;
}

static int lookup_in_boot(struct lin_fs *fs, const struct fs_reader *reader, struct tracker *t,
                          const char *name, struct fuse_entry_param *e)
{
	struct fs_node node;

	if (strcmp(name, "by-pid") == 0) {
		fs_node_resolve(fs, fs_boot_ino(t, FS_KIND_BOOT_BY_PID), &node);
		fs_node_fill_entry(fs, &node, e);
		return 0;
	}
	return lookup_process_dir(fs, reader, t, name, e);
}

static int lookup_in_by_pid(struct lin_fs *fs, const struct fs_reader *reader, struct tracker *t,
                            const char *name, struct fuse_entry_param *e)
{
	struct fs_node node;
	struct lin_process *p;
	pid_t pid;

	if (fs_parse_pid(name, &pid) < 0) {
		negative_entry(e, CACHE_LONG_S);
		return 0;
	}
	p = tracker_find_pid(t, pid);
	if (!p || !fs_access_visible(fs, reader, p))
		return -ENOENT;
	node_of(&node, t, p, FS_KIND_BY_PID_LINK);
	fs_node_fill_entry(fs, &node, e);
	return 0;
}

static int lookup_in_process(struct lin_fs *fs, const struct fs_reader *reader,
                             struct lin_process *p, const char *name, struct fuse_entry_param *e)
{
	struct fs_node node;

	for (gsize i = 0; i < G_N_ELEMENTS(process_entries); i++) {
		if (strcmp(name, process_entries[i].name) != 0)
			continue;
		/* exe and parent can appear later (EXEC, a late FORK); the
		 * notifier invalidates the name when they do. */
		if (fs_node_resolve(fs, fs_process_ino(p, process_entries[i].kind), &node) < 0) {
			negative_entry(e, fs_process_timeout(fs));
			return 0;
		}
		/* Not cached (timeout 0): asked again for the next reader. */
		if (fs_access_lookup(fs, reader, &node) < 0)
			return -EACCES;
		fs_node_fill_entry(fs, &node, e);
		return 0;
	}
	negative_entry(e, CACHE_LONG_S);
	return 0;
}

static int lookup_in_children(struct lin_fs *fs, struct tracker *t, struct lin_process *creator,
                              const char *name, struct fuse_entry_param *e)
{
	struct fs_node node;
	struct lin_process *child;
	struct lin_name parsed;

	if (fs_parse_process_name(name, &parsed) < 0)
		return lookup_missing(name, e);
	child = tracker_find_name(t, &parsed);
	if (!child || child->creator != creator)
		return -ENOENT;
	node_of(&node, t, child, FS_KIND_CHILD_LINK);
	fs_node_fill_entry(fs, &node, e);
	return 0;
}

/* A reader looking up self first has the event thread catch up (a bounded
 * wait), so that self is the reader as of its lookup: a thread started a
 * moment ago, whose clone event waits in a batch, is found, and a process
 * that has just changed its uid, name or image reads its own files with
 * that change applied (a process that dropped root would otherwise be
 * refused its own status while its UID event waits out the deferral). */
static void self_catch_up(struct lin_fs *fs, const struct fs_reader *reader, fuse_ino_t parent,
                          const char *name)
{
	if (parent != FS_INO_ROOT || strcmp(name, "self") != 0 || reader->pid <= 0 || fs->replay ||
	    !fs->catch_up_fn)
		return;
	fs->catch_up_fn(fs->catch_up_data);
}

/* Fills e for parent/name. Returns 0 (e->ino == 0 for an absence the kernel
 * may cache) or -errno. */
int fs_do_lookup(struct lin_fs *fs, const struct fs_reader *reader, fuse_ino_t parent,
                 const char *name, struct fuse_entry_param *e)
{
	struct fs_node dir;
	int ret;

	self_catch_up(fs, reader, parent, name);
	tracker_read_lock(fs->tracker);
	ret = fs_node_resolve(fs, parent, &dir);
	if (ret < 0)
		goto out;
	switch (dir.kind) {
	case FS_KIND_ROOT:
		ret = lookup_in_root(fs, reader, name, e);
		break;
	case FS_KIND_BY_PID_DIR:
	case FS_KIND_BOOT_BY_PID:
		ret = lookup_in_by_pid(fs, reader, dir.tracker, name, e);
		break;
	case FS_KIND_DIR:
		ret = lookup_in_process(fs, reader, dir.process, name, e);
		break;
	case FS_KIND_CHILDREN:
		ret = lookup_in_children(fs, dir.tracker, dir.process, name, e);
		break;
	case FS_KIND_BOOTS_DIR:
		ret = fs_lookup_in_boots(fs, name, e);
		break;
	case FS_KIND_BOOT_DIR:
		ret = lookup_in_boot(fs, reader, dir.tracker, name, e);
		break;
	case FS_KIND_BY_EXE_DIR:
	case FS_KIND_BY_UID_ROOT:
	case FS_KIND_BY_UID_DIR:
		ret = fs_index_lookup(fs, reader, &dir, name, e);
		break;
	case FS_KIND_BY_EXE_LINK:
	case FS_KIND_BY_UID_LINK:
	case FS_KIND_CMDLINE:
	case FS_KIND_EXE:
	case FS_KIND_COMM:
	case FS_KIND_PARENT:
	case FS_KIND_STATUS:
	case FS_KIND_HISTORY:
	case FS_KIND_ENVIRON:
	case FS_KIND_ANCESTRY:
	case FS_KIND_CHILD_LINK:
	case FS_KIND_BY_PID_LINK:
	case FS_KIND_SELF_LINK:
	case FS_KIND_STATS:
	case FS_KIND_METRICS:
	case FS_KIND_COUNT:
		ret = -ENOTDIR;
		break;
	}
out:
	tracker_read_unlock(fs->tracker);
	return ret;
}

/* ---- readdir ---- */

/* Adds one entry whose successor starts at next_off. Returns FALSE when the
 * buffer is full (the entry is then left for the next call). */
static gboolean dir_add(struct fs_dir_fill *fill, const char *name,
                        const struct fuse_entry_param *e, off_t next_off)
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
static gboolean dir_add_node(struct lin_fs *fs, struct fs_dir_fill *fill, const char *name,
                             const struct fs_node *node, off_t next_off)
{
	struct fuse_entry_param e;

	if (fs_kind_is_snapshot(node->kind)) {
		/* Each lookup takes its own snapshot: a listing names the
		 * file and renders nothing. */
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = node->ino;
		e.attr.st_mode = S_IFREG;
		return dir_add(fill, name, &e, next_off);
	}
	fs_node_fill_entry(fs, node, &e);
	/* The kernel must look these up again each time anyway: handing it
	 * an inode here would only cost it a FORGET later. */
	if (e.entry_timeout == 0)
		e.ino = 0;
	return dir_add(fill, name, &e, next_off);
}

/* "." and "..": nodeid 0 so readdirplus does not instantiate them. */
static gboolean dir_add_dot(struct fs_dir_fill *fill, const char *name, fuse_ino_t ino,
                            off_t next_off)
{
	struct fuse_entry_param e;

	memset(&e, 0, sizeof(e));
	e.attr.st_ino = ino;
	e.attr.st_mode = S_IFDIR;
	return dir_add(fill, name, &e, next_off);
}

/* The process directories of a table, resumable by serial. */
static void readdir_processes(struct lin_fs *fs, const struct fs_reader *reader, struct tracker *t,
                              struct fs_dir_fill *fill, off_t off)
{
	char name[FS_NAME_MAX];
	struct fs_node node;
	guint64 after = off > FS_OFF_KEYED ? (guint64)(off - FS_OFF_KEYED) : 0;

	for (struct lin_process *p = tracker_first_after(t, after); p; p = p->all_next) {
		if (!fs_access_visible(fs, reader, p))
			continue;
		fs_record_name(p, name, sizeof(name));
		node_of(&node, t, p, FS_KIND_DIR);
		if (!dir_add_node(fs, fill, name, &node, FS_OFF_KEYED + (off_t)p->serial))
			return;
	}
}

static void readdir_root(struct lin_fs *fs, struct fs_dir_fill *fill,
                         const struct fs_reader *reader, off_t off)
{
	struct fs_node node;
	struct lin_process *p;

	g_atomic_int_set(&fs->root_listed, 1);
	/* Offsets 1..9: ".", "..", by-pid, self, stats, metrics, boots,
	 * by-exe, by-uid (below FS_OFF_KEYED). */
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
		fs_node_resolve(fs, FS_INO_BY_PID, &node);
		if (!dir_add_node(fs, fill, "by-pid", &node, 3))
			return;
		/* fall through */
	case 3:
		/* A reader the tracker does not know yet has no self, nor
		 * has anyone in a replay. */
		p = reader->pid > 0 && !fs->replay ? tracker_find_tid(fs->tracker, reader->pid)
		                                   : NULL;
		if (p) {
			node_of(&node, fs->tracker, p, FS_KIND_SELF_LINK);
			if (!dir_add_node(fs, fill, "self", &node, 4))
				return;
		}
		/* fall through */
	case 4:
		fs_node_resolve(fs, FS_INO_STATS, &node);
		if (!dir_add_node(fs, fill, "stats", &node, 5))
			return;
		/* fall through */
	case 5:
		fs_node_resolve(fs, FS_INO_METRICS, &node);
		if (!dir_add_node(fs, fill, "metrics", &node, 6))
			return;
		/* fall through */
	case 6:
		if (fs_node_resolve(fs, FS_INO_BOOTS, &node) == 0 &&
		    !dir_add_node(fs, fill, "boots", &node, 7))
			return;
		/* fall through */
	case 7:
		fs_node_resolve(fs, fs_index_exe_root_ino(), &node);
		if (!dir_add_node(fs, fill, "by-exe", &node, 8))
			return;
		/* fall through */
	case 8:
		fs_node_resolve(fs, FS_INO_BY_UID, &node);
		if (!dir_add_node(fs, fill, "by-uid", &node, 9))
			return;
		break;
	default:
		break;
	}
	readdir_processes(fs, reader, fs->tracker, fill, off);
}

/* An earlier boot's directory: by-pid/ and its process directories. */
static void readdir_boot(struct lin_fs *fs, const struct fs_reader *reader, struct tracker *t,
                         struct fs_dir_fill *fill, off_t off)
{
	struct fs_node node;

	if (off < 1 && !dir_add_dot(fill, ".", fs_boot_ino(t, FS_KIND_BOOT_DIR), 1))
		return;
	if (off < 2 && !dir_add_dot(fill, "..", FS_INO_BOOTS, 2))
		return;
	if (off < 3) {
		fs_node_resolve(fs, fs_boot_ino(t, FS_KIND_BOOT_BY_PID), &node);
		if (!dir_add_node(fs, fill, "by-pid", &node, 3))
			return;
	}
	readdir_processes(fs, reader, t, fill, off);
}

static void readdir_by_pid(struct lin_fs *fs, const struct fs_reader *reader, struct tracker *t,
                           struct fs_dir_fill *fill, off_t off)
{
	char name[16];
	struct fs_node node;
	guint64 after = off > FS_OFF_KEYED ? (guint64)(off - FS_OFF_KEYED) : 0;
	fuse_ino_t self = t == fs->tracker ? FS_INO_BY_PID : fs_boot_ino(t, FS_KIND_BOOT_BY_PID);

	if (t == fs->tracker)
		g_atomic_int_set(&fs->by_pid_listed, 1);
	if (off < 1 && !dir_add_dot(fill, ".", self, 1))
		return;
	if (off < 2 && !dir_add_dot(fill, "..", fs_table_dir_ino(fs, t), 2))
		return;
	/* In creation order, resumable by serial like the root. */
	for (struct lin_process *p = tracker_next_newest(t, after); p;
	     p = tracker_next_newest(t, p->serial)) {
		if (!fs_access_visible(fs, reader, p))
			continue;
		snprintf(name, sizeof(name), "%d", (int)p->pid);
		node_of(&node, t, p, FS_KIND_BY_PID_LINK);
		if (!dir_add_node(fs, fill, name, &node, FS_OFF_KEYED + (off_t)p->serial))
			return;
	}
}

static void readdir_process(struct lin_fs *fs, struct fs_dir_fill *fill, struct tracker *t,
                            struct lin_process *p, off_t off)
{
	struct fs_node node;

	if (off < 1 && !dir_add_dot(fill, ".", fs_process_ino(p, FS_KIND_DIR), 1))
		return;
	if (off < 2 && !dir_add_dot(fill, "..", fs_table_dir_ino(fs, t), 2))
		return;
	for (gsize i = off > 2 ? (gsize)(off - 2) : 0; i < G_N_ELEMENTS(process_entries); i++) {
		/* exe and parent are absent for some processes. */
		if (fs_node_resolve(fs, fs_process_ino(p, process_entries[i].kind), &node) < 0)
			continue;
		if (!dir_add_node(fs, fill, process_entries[i].name, &node, (off_t)i + 3))
			return;
	}
}

static void readdir_children(struct lin_fs *fs, struct fs_dir_fill *fill, struct tracker *t,
                             struct lin_process *p, off_t off)
{
	char name[FS_NAME_MAX];
	struct fs_node node;
	guint64 after = off > FS_OFF_KEYED ? (guint64)(off - FS_OFF_KEYED) : 0;

	fs_mark_seen(p, FS_SEEN_CHILDREN);
	if (off < 1 && !dir_add_dot(fill, ".", fs_process_ino(p, FS_KIND_CHILDREN), 1))
		return;
	if (off < 2 && !dir_add_dot(fill, "..", fs_process_ino(p, FS_KIND_DIR), 2))
		return;
	/* Children are kept in serial order, so resuming is a skip. */
	for (struct lin_process *child = p->first_child; child; child = child->next_sibling) {
		if (child->serial <= after)
			continue;
		fs_record_name(child, name, sizeof(name));
		node_of(&node, t, child, FS_KIND_CHILD_LINK);
		if (!dir_add_node(fs, fill, name, &node, FS_OFF_KEYED + (off_t)child->serial))
			return;
	}
}

int fs_do_readdir(struct lin_fs *fs, struct fs_dir_fill *fill, const struct fs_reader *reader,
                  fuse_ino_t ino, off_t off)
{
	struct fs_node dir;
	int ret;

	tracker_read_lock(fs->tracker);
	ret = fs_node_resolve(fs, ino, &dir);
	if (ret < 0)
		goto out;
	switch (dir.kind) {
	case FS_KIND_ROOT:
		readdir_root(fs, fill, reader, off);
		break;
	case FS_KIND_BY_PID_DIR:
	case FS_KIND_BOOT_BY_PID:
		readdir_by_pid(fs, reader, dir.tracker, fill, off);
		break;
	case FS_KIND_DIR:
		readdir_process(fs, fill, dir.tracker, dir.process, off);
		break;
	case FS_KIND_CHILDREN:
		readdir_children(fs, fill, dir.tracker, dir.process, off);
		break;
	case FS_KIND_BOOTS_DIR:
		fs_readdir_boots(fs, fill, off);
		break;
	case FS_KIND_BOOT_DIR:
		readdir_boot(fs, reader, dir.tracker, fill, off);
		break;
	case FS_KIND_BY_EXE_DIR:
	case FS_KIND_BY_UID_ROOT:
	case FS_KIND_BY_UID_DIR:
		fs_index_readdir(fs, reader, fill, &dir, off);
		break;
	case FS_KIND_BY_EXE_LINK:
	case FS_KIND_BY_UID_LINK:
	case FS_KIND_CMDLINE:
	case FS_KIND_EXE:
	case FS_KIND_COMM:
	case FS_KIND_PARENT:
	case FS_KIND_STATUS:
	case FS_KIND_HISTORY:
	case FS_KIND_ENVIRON:
	case FS_KIND_ANCESTRY:
	case FS_KIND_CHILD_LINK:
	case FS_KIND_BY_PID_LINK:
	case FS_KIND_SELF_LINK:
	case FS_KIND_STATS:
	case FS_KIND_METRICS:
	case FS_KIND_COUNT:
		ret = -ENOTDIR;
		break;
	}
out:
	tracker_read_unlock(fs->tracker);
	return ret;
}

/* ---- for the other rooms ---- */

gboolean fs_dir_add_node(struct lin_fs *fs, struct fs_dir_fill *fill, const char *name,
                         const struct fs_node *node, off_t next_off)
{
	return dir_add_node(fs, fill, name, node, next_off);
}

gboolean fs_dir_add_dot(struct fs_dir_fill *fill, const char *name, fuse_ino_t ino, off_t next_off)
{
	return dir_add_dot(fill, name, ino, next_off);
}
