/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The table's indexes by executable and by uid, for by-exe/ and by-uid/:
 * which records ran a path, which ran as a uid. by-exe is a tree of path
 * components (by-exe/usr/bin/curl/), each node holding the records that
 * ran exactly its path; by-uid is a sorted map of uids. Each holds its
 * records in arrays sorted by serial, so a listing resumes after the last
 * serial it gave by binary search, whatever was added or removed between
 * two calls. Modified under the tracker's write lock, read under its read
 * lock; the records are not owned (the tracker removes a record from every
 * list it is in before it frees it).
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

struct lin_process;

/* Records sorted by serial: items[0..len). Both ends are cheap to change
 * (the oldest records are forgotten first, the newest exec). */
struct index_list {
	struct lin_process **items; /* base + head */
	struct lin_process **base;
	guint head, len, cap;
};

/* A directory of by-exe/: one path component. */
struct index_exe_dir {
	guint64 id;                   /* never reused; 1 is by-exe/ itself */
	char *name;                   /* the component ("" for by-exe/) */
	struct index_exe_dir *parent; /* NULL for by-exe/ */
	GTree *children;              /* name -> struct index_exe_dir *, sorted */
	struct index_list *records;   /* that ran exactly this path; NULL when none */
	guint depth;                  /* components from by-exe/ (0 for it) */
};

struct lin_index;

struct lin_index *lin_index_new(void);
void lin_index_free(struct lin_index *idx);

/* Adds p to the records of exe path path[0..len) (" (deleted)" at the end
 * is not part of the path) unless it is there. */
void lin_index_exe_add(struct lin_index *idx, const char *path, gsize len, struct lin_process *p);
void lin_index_exe_remove(struct lin_index *idx, const char *path, gsize len,
                          struct lin_process *p);
void lin_index_uid_add(struct lin_index *idx, uid_t uid, struct lin_process *p);
void lin_index_uid_remove(struct lin_index *idx, uid_t uid, struct lin_process *p);

/* --- Reading --- */
struct index_exe_dir *lin_index_exe_root(struct lin_index *idx);
struct index_exe_dir *lin_index_exe_dir(struct lin_index *idx, guint64 id);
struct index_exe_dir *lin_index_exe_child(struct index_exe_dir *dir, const char *name);
/* The n-th child in name order, or NULL. */
struct index_exe_dir *lin_index_exe_nth_child(struct index_exe_dir *dir, guint n);
/* The records of uid, or NULL when none. */
struct index_list *lin_index_uid_records(struct lin_index *idx, uid_t uid);
/* The first uid >= from that has records; FALSE when none. */
gboolean lin_index_uid_next(struct lin_index *idx, guint64 from, uid_t *uid);
/* The position of the first record in a list whose serial is > after. */
guint lin_index_first_after(const struct index_list *records, guint64 after);
/* Whether p is in records (NULL is an empty list). */
gboolean lin_index_contains(const struct index_list *records, const struct lin_process *p);

/* Bytes the indexes take (arrays at their allocated size, nodes). */
gsize lin_index_bytes(const struct lin_index *idx);

/* The exe path without the " (deleted)" the kernel appends to an unlinked
 * file's name: its length. */
gsize lin_index_exe_path_len(const char *exe, gsize len);
