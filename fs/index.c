// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The index directories: by-exe/<path components>/ and by-uid/<uid>/, each
 * holding one symlink "<pid>-<start>" per record that ran that path or ran
 * as that uid, pointing back to the record's directory at the root; a
 * by-exe/ directory also lists the next components of the paths below it.
 * Answered from the tracker's indexes (tracker/index.h) under its read
 * lock: a listing costs what it lists, whatever the number of records
 * retained. Listings are cached by the kernel like children/: a directory
 * listed is remembered, and the notifier drops the listed ones whenever a
 * record is born, execs, changes uid or is forgotten.
 *
 * Readdir offsets: 1 and 2 for "." and "..", 3 + i after the i-th child
 * directory (children come first, in name order), then FS_OFF_LINKS +
 * serial after each link, so a listing resumes after the last record it
 * gave even when records come and go between two calls.
 */
#include "fs-private.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define FS_OFF_LINKS (G_GINT64_CONSTANT(1) << 40)
#define FS_OFF_UIDS  16
/* A by-exe link's depth sits in the generation bits of its inode. */
#define FS_DEPTH_MAX FS_GEN_MASK

static fuse_ino_t index_ino(guint64 key, enum fs_kind kind)
{
	return (fuse_ino_t)(key << FS_SERIAL_SHIFT) | kind;
}

fuse_ino_t fs_index_exe_root_ino(void)
{
	/* by-exe/ is the index's node 1. */
	return index_ino(1, FS_KIND_BY_EXE_DIR);
}

static fuse_ino_t exe_link_ino(const struct lin_process *p, guint depth)
{
	return fs_serial_ino(p->serial, FS_KIND_BY_EXE_LINK) |
	       (fuse_ino_t)(MIN(depth, FS_DEPTH_MAX) << FS_KIND_BITS);
}

int fs_index_resolve(struct lin_fs *fs, fuse_ino_t ino, enum fs_kind kind, struct fs_node *node)
{
	struct lin_index *idx = tracker_index(fs->tracker);
	guint64 key = ino >> FS_SERIAL_SHIFT;

	node->kind = kind;
	if (kind == FS_KIND_BY_EXE_DIR) {
		if (ino >> FS_KIND_BITS & FS_GEN_MASK)
			return -ENOENT;
		node->exe_dir = lin_index_exe_dir(idx, key);
		return node->exe_dir ? 0 : -ENOENT;
	}
	if (kind == FS_KIND_BY_UID_DIR) {
		if ((ino >> FS_KIND_BITS & FS_GEN_MASK) || key == 0 || key - 1 > G_MAXUINT32)
			return -ENOENT;
		node->uid = (guint32)(key - 1);
		return lin_index_uid_records(idx, node->uid) ? 0 : -ENOENT;
	}
	if (kind == FS_KIND_BY_EXE_LINK) {
		node->process = tracker_find_serial(fs->tracker, key);
		/* The depth it was given as: see exe_link_ino(). */
		node->uid = (guint32)(ino >> FS_KIND_BITS & FS_GEN_MASK);
		return node->process ? 0 : -ENOENT;
	}
	return -ENOENT;
}

void fs_index_render_link(const struct fs_node *node, GString *out)
{
	char name[FS_NAME_MAX];
	/* From by-exe/a/b/ three levels up to the root; from by-uid/N/ two. */
	guint up = node->kind == FS_KIND_BY_EXE_LINK ? node->uid + 1 : 2;

	for (guint i = 0; i < up; i++)
		g_string_append(out, "../");
	fs_record_name(node->process, name, sizeof(name));
	g_string_append(out, name);
}

void fs_index_fill_attr(struct lin_fs *fs, struct stat *st)
{
	/* Which process ran what, whoever's it is: what /proc shows others
	 * only with a ptrace check. Root and the gid= group read it. */
	if (!fs->access.allow_other)
		return;
	st->st_uid = 0;
	st->st_gid = fs->access.has_gid ? fs->access.gid : 0;
	st->st_mode = S_IFDIR | (fs->access.has_gid ? 0550 : 0500);
}

static void mark_listed(struct lin_fs *fs, fuse_ino_t ino)
{
	g_mutex_lock(&fs->index_listed_lock);
	g_hash_table_add(fs->index_listed, GSIZE_TO_POINTER(ino));
	g_atomic_int_set(&fs->index_listed_any, 1);
	g_mutex_unlock(&fs->index_listed_lock);
}

static void exe_dir_node(struct lin_fs *fs, struct index_exe_dir *dir, struct fs_node *node)
{
	memset(node, 0, sizeof(*node));
	node->tracker = fs->tracker;
	node->ino = index_ino(dir->id, FS_KIND_BY_EXE_DIR);
	node->kind = FS_KIND_BY_EXE_DIR;
	node->exe_dir = dir;
}

static void link_node(struct lin_fs *fs, struct lin_process *p, const struct fs_node *dir,
                      struct fs_node *node)
{
	memset(node, 0, sizeof(*node));
	node->tracker = fs->tracker;
	node->process = p;
	if (dir->kind == FS_KIND_BY_EXE_DIR) {
		node->kind = FS_KIND_BY_EXE_LINK;
		node->uid = MIN(dir->exe_dir->depth, FS_DEPTH_MAX);
		node->ino = exe_link_ino(p, dir->exe_dir->depth);
	} else {
		node->kind = FS_KIND_BY_UID_LINK;
		node->ino = fs_serial_ino(p->serial, FS_KIND_BY_UID_LINK);
	}
}

static void uid_dir_node(struct lin_fs *fs, guint32 uid, struct fs_node *node)
{
	memset(node, 0, sizeof(*node));
	node->tracker = fs->tracker;
	node->ino = index_ino((guint64)uid + 1, FS_KIND_BY_UID_DIR);
	node->kind = FS_KIND_BY_UID_DIR;
	node->uid = uid;
}

static const struct index_list *records_of(struct lin_fs *fs, const struct fs_node *dir)
{
	if (dir->kind == FS_KIND_BY_EXE_DIR)
		return dir->exe_dir->records;
	return lin_index_uid_records(tracker_index(fs->tracker), dir->uid);
}

/* Only root and the gid= group can search an index directory under
 * allow_other (fs_index_fill_attr()), and they see every record; the
 * policy is still asked, so that a listing never shows more than the
 * process directories would. */
static gboolean index_shows(struct lin_fs *fs, const struct fs_reader *reader,
                            const struct lin_process *p)
{
	return fs_access_visible(fs, reader, p) && fs_access_full(fs, reader, p);
}

/*
 * A forked child is listed under its creator's image until its first exec
 * (it runs that code, see record_context.c), and leaves that list then.
 * Its name still resolves there while its creator is listed: a walk that
 * listed the directory just before the exec (tar, find) finds every name
 * it listed, as it does everywhere else in the mount.
 */
static gboolean left_at_first_exec(const struct fs_node *dir, const struct index_list *records,
                                   const struct lin_process *p)
{
	return dir->kind == FS_KIND_BY_EXE_DIR && p->exec_count == 1 &&
	       (p->flags & LIN_PROC_FORK_SEEN) && p->creator &&
	       lin_index_contains(records, p->creator);
}

int fs_index_lookup(struct lin_fs *fs, const struct fs_reader *reader, const struct fs_node *dir,
                    const char *name, struct fuse_entry_param *e)
{
	const struct index_list *records;
	struct lin_process *p;
	struct fs_node node;
	struct lin_name lname;

	if (dir->kind == FS_KIND_BY_UID_ROOT) {
		guint64 uid;
		char *end;

		/* One spelling per uid: plain decimal. */
		if (!g_ascii_isdigit(name[0]) || (name[0] == '0' && name[1]))
			return -ENOENT;
		uid = g_ascii_strtoull(name, &end, 10);
		if (*end || uid > G_MAXUINT32 ||
		    !lin_index_uid_records(tracker_index(fs->tracker), (guint32)uid))
			return -ENOENT;
		uid_dir_node(fs, (guint32)uid, &node);
		fs_node_fill_entry(fs, &node, e);
		return 0;
	}
	if (dir->kind == FS_KIND_BY_EXE_DIR) {
		struct index_exe_dir *child = lin_index_exe_child(dir->exe_dir, name);

		if (child) {
			exe_dir_node(fs, child, &node);
			fs_node_fill_entry(fs, &node, e);
			return 0;
		}
	}
	/* Absences are never cached: a record or path may appear any time. */
	records = records_of(fs, dir);
	if (fs_parse_process_name(name, &lname) < 0 || !records)
		return -ENOENT;
	p = tracker_find_name(fs->tracker, &lname);
	if (!p || !(lin_index_contains(records, p) || left_at_first_exec(dir, records, p)) ||
	    !index_shows(fs, reader, p))
		return -ENOENT;
	link_node(fs, p, dir, &node);
	fs_node_fill_entry(fs, &node, e);
	return 0;
}

static void readdir_links(struct lin_fs *fs, const struct fs_reader *reader,
                          struct fs_dir_fill *fill, const struct fs_node *dir,
                          const struct index_list *records, guint64 after)
{
	char name[FS_NAME_MAX];
	struct fs_node node;

	if (!records)
		return;
	for (guint i = lin_index_first_after(records, after); i < records->len; i++) {
		struct lin_process *p = records->items[i];

		if (!index_shows(fs, reader, p))
			continue;
		fs_record_name(p, name, sizeof(name));
		link_node(fs, p, dir, &node);
		if (!fs_dir_add_node(fs, fill, name, &node, FS_OFF_LINKS + (off_t)p->serial))
			return;
	}
}

static void readdir_uid_root(struct lin_fs *fs, struct fs_dir_fill *fill, off_t off)
{
	struct lin_index *idx = tracker_index(fs->tracker);
	guint64 from = off > FS_OFF_UIDS ? (guint64)(off - FS_OFF_UIDS) : 0;
	struct fs_node node;
	uid_t uid;

	for (; lin_index_uid_next(idx, from, &uid); from = (guint64)uid + 1) {
		char name[16];

		snprintf(name, sizeof(name), "%u", (guint)uid);
		uid_dir_node(fs, uid, &node);
		if (!fs_dir_add_node(fs, fill, name, &node, FS_OFF_UIDS + (off_t)uid + 1))
			return;
	}
}

void fs_index_readdir(struct lin_fs *fs, const struct fs_reader *reader, struct fs_dir_fill *fill,
                      const struct fs_node *dir, off_t off)
{
	fuse_ino_t parent = FS_INO_ROOT;

	mark_listed(fs, dir->ino);
	if (dir->kind == FS_KIND_BY_EXE_DIR && dir->exe_dir->parent)
		parent = index_ino(dir->exe_dir->parent->id, FS_KIND_BY_EXE_DIR);
	else if (dir->kind == FS_KIND_BY_UID_DIR)
		parent = FS_INO_BY_UID;
	if (off < 1 && !fs_dir_add_dot(fill, ".", dir->ino, 1))
		return;
	if (off < 2 && !fs_dir_add_dot(fill, "..", parent, 2))
		return;
	if (dir->kind == FS_KIND_BY_UID_ROOT) {
		readdir_uid_root(fs, fill, off);
		return;
	}
	if (dir->kind == FS_KIND_BY_EXE_DIR && off < FS_OFF_LINKS) {
		guint first = off > 2 ? (guint)(off - 2) : 0;
		struct index_exe_dir *child = lin_index_exe_nth_child(dir->exe_dir, first);
		struct fs_node node;

		for (guint i = first; child; child = lin_index_exe_nth_child(dir->exe_dir, ++i)) {
			exe_dir_node(fs, child, &node);
			if (!fs_dir_add_node(fs, fill, child->name, &node, (off_t)i + 3))
				return;
		}
	}
	readdir_links(fs, reader, fill, dir, records_of(fs, dir),
	              off > FS_OFF_LINKS ? (guint64)(off - FS_OFF_LINKS) : 0);
}

gboolean fs_index_change_matters(struct lin_fs *fs, const struct lin_change *change)
{
	if (!g_atomic_int_get(&fs->index_listed_any))
		return FALSE;
	switch (change->kind) {
	case LIN_CHANGE_NEW:
	case LIN_CHANGE_EXEC:
	case LIN_CHANGE_ID:
	case LIN_CHANGE_FORGET:
		return TRUE;
	case LIN_CHANGE_COMM:
	case LIN_CHANGE_EXIT:
	case LIN_CHANGE_THREADS:
	case LIN_CHANGE_CREATOR:
		break;
	}
	return FALSE;
}

void fs_index_inval_listed(struct lin_fs *fs, void (*inval)(struct lin_fs *, fuse_ino_t))
{
	g_autoptr(GHashTable) listed = NULL;
	GHashTableIter iter;
	gpointer key;

	/* Taken whole, so the lock is never held while the kernel works. */
	g_mutex_lock(&fs->index_listed_lock);
	listed = g_steal_pointer(&fs->index_listed);
	fs->index_listed = g_hash_table_new(NULL, NULL);
	g_atomic_int_set(&fs->index_listed_any, 0);
	g_mutex_unlock(&fs->index_listed_lock);
	g_hash_table_iter_init(&iter, listed);
	while (g_hash_table_iter_next(&iter, &key, NULL))
		inval(fs, GPOINTER_TO_SIZE(key));
}
