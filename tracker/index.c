// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The indexes. A record joins a list once per path or uid however often it
 * runs it; lists stay sorted by serial. A record joins almost always at the
 * end (the newest records are the ones that exec) and leaves almost always
 * at the start (the oldest are forgotten first), so a list is an array
 * with room at both ends, and either is a binary search and a short move. by-exe nodes live while
 * some record ran their path or a path below; each has an id, never reused, that the fs turns into
 * the directory's inode.
 */
#include "config.h"

#include "index.h"

#include <string.h>

#include "tracker.h"

#define DELETED_SUFFIX " (deleted)"

struct lin_index {
	struct index_exe_dir *exe_root;
	GHashTable *exe_dirs; /* id -> struct index_exe_dir * */
	guint64 next_dir_id;
	guint64 exe_dir_count;
	GTree *uids; /* GUINT_TO_POINTER(uid) -> struct index_list * */
};

static void list_free(struct index_list *list)
{
	if (!list)
		return;
	g_free(list->base);
	g_free(list);
}

static gint name_cmp(gconstpointer a, gconstpointer b, gpointer data)
{
	(void)data;
	return strcmp(a, b);
}

static gint uid_cmp(gconstpointer a, gconstpointer b, gpointer data)
{
	guint x = GPOINTER_TO_UINT(a), y = GPOINTER_TO_UINT(b);

	(void)data;
	return x < y ? -1 : x > y;
}

static struct index_exe_dir *dir_new(struct lin_index *idx, struct index_exe_dir *parent,
                                     const char *name, gsize len)
{
	struct index_exe_dir *dir = g_new0(struct index_exe_dir, 1);

	dir->id = idx->next_dir_id++;
	dir->name = g_strndup(name, len);
	dir->parent = parent;
	dir->children = g_tree_new_full(name_cmp, NULL, NULL, NULL);
	dir->depth = parent ? parent->depth + 1 : 0;
	g_hash_table_insert(idx->exe_dirs, &dir->id, dir);
	idx->exe_dir_count++;
	if (parent)
		g_tree_insert(parent->children, dir->name, dir);
	return dir;
}

static void dir_free(struct lin_index *idx, struct index_exe_dir *dir)
{
	g_hash_table_remove(idx->exe_dirs, &dir->id);
	idx->exe_dir_count--;
	if (dir->parent)
		g_tree_remove(dir->parent->children, dir->name);
	g_tree_unref(dir->children);
	list_free(dir->records);
	g_free(dir->name);
	g_free(dir);
}

static gboolean free_subtree(gpointer key, gpointer value, gpointer data);

static void dir_free_all(struct lin_index *idx, struct index_exe_dir *dir)
{
	/* Children first; each removes itself from this tree, so collect. */
	GPtrArray *children = g_ptr_array_new();

	g_tree_foreach(dir->children, free_subtree, children);
	for (guint i = 0; i < children->len; i++)
		dir_free_all(idx, g_ptr_array_index(children, i));
	g_ptr_array_unref(children);
	dir_free(idx, dir);
}

static gboolean free_subtree(gpointer key, gpointer value, gpointer data)
{
	(void)key;
	g_ptr_array_add(data, value);
	return FALSE;
}

struct lin_index *lin_index_new(void)
{
	struct lin_index *idx = g_new0(struct lin_index, 1);

	idx->exe_dirs = g_hash_table_new(g_int64_hash, g_int64_equal);
	idx->next_dir_id = 1;
	idx->exe_root = dir_new(idx, NULL, "", 0);
	idx->uids = g_tree_new_full(uid_cmp, NULL, NULL, (GDestroyNotify)list_free);
	return idx;
}

void lin_index_free(struct lin_index *idx)
{
	if (!idx)
		return;
	dir_free_all(idx, idx->exe_root);
	g_hash_table_unref(idx->exe_dirs);
	g_tree_unref(idx->uids);
	g_free(idx);
}

guint lin_index_first_after(const struct index_list *records, guint64 after)
{
	guint lo = 0, hi = records->len;

	while (lo < hi) {
		guint mid = lo + (hi - lo) / 2;

		if (records->items[mid]->serial <= after)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

gboolean lin_index_contains(const struct index_list *records, const struct lin_process *p)
{
	guint i;

	if (!records || p->serial == 0)
		return FALSE;
	i = lin_index_first_after(records, p->serial - 1);
	return i < records->len && records->items[i] == p;
}

static void list_add(struct index_list **slot, struct lin_process *p)
{
	struct index_list *list = *slot;
	guint i;

	if (!list)
		list = *slot = g_new0(struct index_list, 1);
	/* The newest record goes last: no search (each probe of one is a
	 * cache miss on a record). */
	if (list->len == 0 || list->items[list->len - 1]->serial < p->serial) {
		i = list->len;
	} else {
		i = lin_index_first_after(list, p->serial - 1);
		if (i < list->len && list->items[i] == p)
			return;
	}
	if (list->head + list->len == list->cap) {
		/* Full at the end: slide back over the forgotten head if it
		 * is an eighth of the array, else grow by a quarter. A list
		 * the oldest leave as the newest join (retention at its
		 * limit) so stays within 1.14 to 1.43 times its length: every
		 * retained process is in two or more lists, so the slack is
		 * memory per process, while a slide moves at most 7 pointers
		 * per record that left. */
		if (list->head > 0 && list->head >= list->cap / 8) {
			memmove(list->base, list->items, list->len * sizeof(*list->items));
		} else {
			list->cap += MAX(list->cap / 4, 4u);
			list->base = g_renew(struct lin_process *, list->base, list->cap);
			memmove(list->base, list->base + list->head,
			        list->len * sizeof(*list->items));
		}
		list->head = 0;
		list->items = list->base;
	}
	memmove(list->items + i + 1, list->items + i, (list->len - i) * sizeof(*list->items));
	list->items[i] = p;
	list->len++;
}

/* Returns TRUE when the list is now empty. */
static gboolean list_remove(struct index_list *list, struct lin_process *p)
{
	guint i;

	if (!list)
		return TRUE;
	/* The oldest and the newest go without a search. */
	if (list->len > 0 && list->items[0] == p)
		i = 0;
	else if (list->len > 0 && list->items[list->len - 1] == p)
		i = list->len - 1;
	else
		i = lin_index_first_after(list, p->serial - 1);
	if (i < list->len && list->items[i] == p) {
		/* Close the gap from the shorter side. */
		if (i < list->len / 2) {
			memmove(list->items + 1, list->items, i * sizeof(*list->items));
			list->items++;
			list->head++;
		} else {
			memmove(list->items + i, list->items + i + 1,
			        (list->len - i - 1) * sizeof(*list->items));
		}
		list->len--;
	}
	/* Mostly emptied (a burst of processes forgotten): give it back. */
	if (list->len > 0 && list->cap >= 64 && list->len < list->cap / 4) {
		memmove(list->base, list->items, list->len * sizeof(*list->items));
		list->cap = list->len + list->len / 4;
		list->base = g_renew(struct lin_process *, list->base, list->cap);
		list->items = list->base;
		list->head = 0;
	}
	return list->len == 0;
}

gsize lin_index_exe_path_len(const char *exe, gsize len)
{
	gsize suffix = strlen(DELETED_SUFFIX);

	if (len > suffix && memcmp(exe + len - suffix, DELETED_SUFFIX, suffix) == 0)
		return len - suffix;
	return len;
}

/* Walks path's components from by-exe/, creating the missing ones when
 * create; NULL when one is missing (or the path has none). */
static struct index_exe_dir *exe_walk(struct lin_index *idx, const char *path, gsize len,
                                      gboolean create)
{
	struct index_exe_dir *dir = idx->exe_root;
	gsize pos = 0;

	len = lin_index_exe_path_len(path, len);
	while (pos < len) {
		const char *slash;
		gsize n;
		char name[256];
		struct index_exe_dir *child;

		if (path[pos] == '/') {
			pos++;
			continue;
		}
		slash = memchr(path + pos, '/', len - pos);
		n = slash ? (gsize)(slash - (path + pos)) : len - pos;
		/* A component is at most NAME_MAX bytes; anything longer (or
		 * holding a NUL) cannot be a file name. */
		if (n >= sizeof(name) || memchr(path + pos, '\0', n))
			return NULL;
		memcpy(name, path + pos, n);
		name[n] = '\0';
		child = g_tree_lookup(dir->children, name);
		if (!child) {
			if (!create)
				return NULL;
			child = dir_new(idx, dir, name, n);
		}
		dir = child;
		pos += n;
	}
	return dir == idx->exe_root ? NULL : dir;
}

void lin_index_exe_add(struct lin_index *idx, const char *path, gsize len, struct lin_process *p)
{
	struct index_exe_dir *dir = exe_walk(idx, path, len, TRUE);

	if (dir)
		list_add(&dir->records, p);
}

void lin_index_exe_remove(struct lin_index *idx, const char *path, gsize len, struct lin_process *p)
{
	struct index_exe_dir *dir = exe_walk(idx, path, len, FALSE);

	if (!dir || !list_remove(dir->records, p))
		return;
	g_clear_pointer(&dir->records, list_free);
	/* Nodes nobody ran anything below go. */
	while (dir && dir != idx->exe_root && !dir->records && g_tree_nnodes(dir->children) == 0) {
		struct index_exe_dir *parent = dir->parent;

		dir_free(idx, dir);
		dir = parent;
	}
}

void lin_index_uid_add(struct lin_index *idx, uid_t uid, struct lin_process *p)
{
	struct index_list *list = g_tree_lookup(idx->uids, GUINT_TO_POINTER(uid));
	gboolean is_new = list == NULL;

	list_add(&list, p);
	if (is_new)
		g_tree_insert(idx->uids, GUINT_TO_POINTER(uid), list);
}

void lin_index_uid_remove(struct lin_index *idx, uid_t uid, struct lin_process *p)
{
	struct index_list *list = g_tree_lookup(idx->uids, GUINT_TO_POINTER(uid));

	if (list && list_remove(list, p))
		g_tree_remove(idx->uids, GUINT_TO_POINTER(uid));
}

struct index_exe_dir *lin_index_exe_root(struct lin_index *idx)
{
	return idx->exe_root;
}

struct index_exe_dir *lin_index_exe_dir(struct lin_index *idx, guint64 id)
{
	return g_hash_table_lookup(idx->exe_dirs, &id);
}

struct index_exe_dir *lin_index_exe_child(struct index_exe_dir *dir, const char *name)
{
	return g_tree_lookup(dir->children, name);
}

struct index_exe_dir *lin_index_exe_nth_child(struct index_exe_dir *dir, guint n)
{
	GTreeNode *node = g_tree_node_first(dir->children);

	for (guint i = 0; node && i < n; i++)
		node = g_tree_node_next(node);
	return node ? g_tree_node_value(node) : NULL;
}

struct index_list *lin_index_uid_records(struct lin_index *idx, uid_t uid)
{
	return g_tree_lookup(idx->uids, GUINT_TO_POINTER(uid));
}

gboolean lin_index_uid_next(struct lin_index *idx, guint64 from, uid_t *uid)
{
	GTreeNode *node;

	if (from > G_MAXUINT32)
		return FALSE;
	node = g_tree_lower_bound(idx->uids, GUINT_TO_POINTER((guint)from));
	if (!node)
		return FALSE;
	*uid = GPOINTER_TO_UINT(g_tree_node_key(node));
	return TRUE;
}

static gsize array_bytes(const struct index_list *list)
{
	return sizeof(*list) + list->cap * sizeof(*list->items);
}

static gboolean add_uid_bytes(gpointer key, gpointer value, gpointer data)
{
	(void)key;
	/* The list and its GTree node. */
	*(gsize *)data += array_bytes(value) + 5 * sizeof(gpointer);
	return FALSE;
}

gsize lin_index_bytes(const struct lin_index *idx)
{
	/* Each node: itself, its name, its children tree, its id slot. */
	gsize bytes = idx->exe_dir_count * (sizeof(struct index_exe_dir) + 16 + 64 + 24);
	GHashTableIter iter;
	gpointer value;

	g_tree_foreach(idx->uids, add_uid_bytes, &bytes);
	g_hash_table_iter_init(&iter, idx->exe_dirs);
	while (g_hash_table_iter_next(&iter, NULL, &value)) {
		const struct index_exe_dir *dir = value;

		if (dir->records)
			bytes += array_bytes(dir->records);
	}
	return bytes;
}
