/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Earlier boots: boots/<boot-id>/ shows a boot the journal holds, in the
 * root's layout (process directories and by-pid/), from a table of its own.
 * Each table numbers its records in its own space of serials
 * (tracker_config.serial_base), so an inode names its table as well as its
 * record, and nothing is kept per inode. These tables are filled before the
 * mount serves and never change after, so they are read without a lock.
 */
#include "fs-private.h"

#include <errno.h>
#include <string.h>

/* Readdir offsets of boots/: ".", "..", then FS_BOOTS_OFF + index. */
#define FS_BOOTS_OFF 3

static guint64 table_slot(struct tracker *t)
{
	return tracker_get_config(t)->serial_base >> TRACKER_SERIAL_SPACE_BITS;
}

struct tracker *fs_table_of(struct lin_fs *fs, guint64 serial)
{
	guint64 slot = serial >> TRACKER_SERIAL_SPACE_BITS;

	if (slot == table_slot(fs->tracker))
		return fs->tracker;
	for (guint i = 0; i < fs->boots->len; i++) {
		struct fs_boot *boot = g_ptr_array_index(fs->boots, i);

		if (table_slot(boot->tracker) == slot)
			return boot->tracker;
	}
	return NULL;
}

fuse_ino_t fs_boot_ino(struct tracker *t, enum fs_kind kind)
{
	return fs_serial_ino(tracker_get_config(t)->serial_base, kind);
}

fuse_ino_t fs_table_dir_ino(struct lin_fs *fs, struct tracker *t)
{
	return t == fs->tracker ? FS_INO_ROOT : fs_boot_ino(t, FS_KIND_BOOT_DIR);
}

static void boot_node(struct fs_node *node, struct tracker *t)
{
	memset(node, 0, sizeof(*node));
	node->ino = fs_boot_ino(t, FS_KIND_BOOT_DIR);
	node->kind = FS_KIND_BOOT_DIR;
	node->tracker = t;
}

int fs_lookup_in_boots(struct lin_fs *fs, const char *name, struct fuse_entry_param *e)
{
	struct fs_node node;

	for (guint i = 0; i < fs->boots->len; i++) {
		struct fs_boot *boot = g_ptr_array_index(fs->boots, i);

		if (strcmp(boot->id, name) != 0)
			continue;
		boot_node(&node, boot->tracker);
		fs_node_fill_entry(fs, &node, e);
		return 0;
	}
	/* The set of boots never changes while mounted. */
	memset(e, 0, sizeof(*e));
	e->entry_timeout = CACHE_LONG_S;
	return 0;
}

void fs_readdir_boots(struct lin_fs *fs, struct fs_dir_fill *fill, off_t off)
{
	struct fuse_entry_param e;
	struct fs_node node;

	for (off_t i = off; i < FS_BOOTS_OFF + (off_t)fs->boots->len; i++) {
		struct fs_boot *boot;
		const char *name;
		size_t room = fill->size - fill->len, need;

		memset(&e, 0, sizeof(e));
		if (i < FS_BOOTS_OFF - 1) {
			name = i == 0 ? "." : "..";
			e.attr.st_ino = i == 0 ? FS_INO_BOOTS : FS_INO_ROOT;
			e.attr.st_mode = S_IFDIR;
		} else if (i == FS_BOOTS_OFF - 1) {
			continue;
		} else {
			boot = g_ptr_array_index(fs->boots, (guint)(i - FS_BOOTS_OFF));
			name = boot->id;
			boot_node(&node, boot->tracker);
			fs_node_fill_entry(fs, &node, &e);
		}
		if (fill->plus)
			need = fuse_add_direntry_plus(fill->req, fill->buf + fill->len, room, name,
			                              &e, i + 1);
		else
			need = fuse_add_direntry(fill->req, fill->buf + fill->len, room, name,
			                         &e.attr, i + 1);
		if (need > room)
			return;
		fill->len += need;
	}
}

void fs_add_boot(struct lin_fs *fs, const char *boot_id, struct tracker *t)
{
	struct fs_boot *boot = g_new0(struct fs_boot, 1);

	boot->id = g_strdup(boot_id);
	boot->tracker = t;
	g_ptr_array_add(fs->boots, boot);
}

void fs_set_replay(struct lin_fs *fs)
{
	fs->replay = TRUE;
}

static void boot_free(gpointer data)
{
	struct fs_boot *boot = data;

	g_free(boot->id);
	g_free(boot);
}

void fs_boots_free(struct lin_fs *fs)
{
	g_ptr_array_set_free_func(fs->boots, boot_free);
	g_ptr_array_unref(fs->boots);
}
