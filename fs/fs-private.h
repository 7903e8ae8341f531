/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the rooms of fs/ share, private to them. Every node is named by its
 * inode number alone: per-process nodes are (record serial << 4 | kind),
 * so a request is answered by looking the serial up under the tracker's
 * read lock, and nothing is allocated per inode (FORGET has nothing to
 * free). Contents are rendered into a buffer, the lock is dropped, then the
 * reply is sent.
 *
 * Caching: the kernel is told to keep entries and attributes for an hour
 * (CACHE_LONG_S). That is only correct because a notifier thread turns
 * every tracker change into fuse_lowlevel_notify_inval_* calls; the
 * notifier runs on its own thread because the kernel may need a FUSE
 * callback to finish before it can apply an invalidation (libfuse
 * doc/README.notifications). Files whose content changes without a tracker
 * change (stats, metrics, ancestry) are rendered once per lookup into a
 * snapshot inode of their own (FS_INO_SNAPSHOT), which never changes. A
 * running process's files are read with direct_io, an exited one's with
 * keep_cache: an exited record never changes again except through EXEC (a
 * revived leader), whose invalidation drops the pages.
 *
 * The rooms: nodes.c (inodes, resolve, render, attributes, entries,
 * versions), dirs.c (lookup and readdir per kind of directory), notify.c
 * (the change hook and the notifier thread), ops.c (the FUSE operations
 * table, fs_new/fs_free).
 */
#pragma once

#include <sys/stat.h>

#include "fs.h"
#include "index.h"
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
	FS_KIND_HISTORY,     /* <pid>-<start>/history */
	FS_KIND_ENVIRON,     /* <pid>-<start>/environ, with --env */
	/* The index directories (fs/index.c): a by-exe/ directory by its
	 * node id in place of a serial, a by-uid/<uid>/ by uid + 1; their
	 * links by the record's serial, a by-exe link with its directory's
	 * depth in the generation bits (its target climbs that many). */
	FS_KIND_BY_EXE_DIR,
	FS_KIND_BY_EXE_LINK,
	FS_KIND_BY_UID_DIR,
	FS_KIND_BY_UID_LINK,
	/* An earlier boot's nodes, at its table's serial_base (no record's). */
	FS_KIND_BOOT_DIR,    /* boots/<boot-id>/ */
	FS_KIND_BOOT_BY_PID, /* boots/<boot-id>/by-pid/ */
	FS_KIND_COUNT,
	/* Fixed nodes: not encoded in a per-process inode. */
	FS_KIND_ROOT,
	FS_KIND_BY_PID_DIR,
	FS_KIND_STATS,
	FS_KIND_BY_UID_ROOT,
	FS_KIND_BOOTS_DIR, /* boots/ */
	FS_KIND_METRICS,
};

#define FS_KIND_BITS 5
#define FS_KIND_MASK ((1u << FS_KIND_BITS) - 1)
/* Versions of a file told apart in its inode (wraps: an open file would
 * have to outlive 4096 changes of its process to be confused). */
#define FS_GEN_BITS     12
#define FS_GEN_MASK     ((1u << FS_GEN_BITS) - 1)
#define FS_SERIAL_SHIFT (FS_KIND_BITS + FS_GEN_BITS)

/* Snapshot inodes: stats, metrics and ancestry change with every look, so
 * each lookup renders them once into an inode of its own, whose size and
 * times never change (tar compares them before and after reading). Top bit
 * set, then the record's serial (0 at the root), a snapshot counter, the
 * kind. The counter wraps after 2^15 lookups of one record's file: a snapshot is kept for
 * seconds, not for that many looks at one file. */
#define FS_INO_SNAPSHOT   (G_GUINT64_CONSTANT(1) << 63)
#define FS_SNAPSHOT_BITS  15
#define FS_SNAPSHOT_MASK  ((G_GUINT64_CONSTANT(1) << FS_SNAPSHOT_BITS) - 1)
#define FS_SNAPSHOT_SHIFT (FS_KIND_BITS + FS_SNAPSHOT_BITS)
/* Readers of stats or metrics whose unread snapshot is remembered. */
#define FS_SNAPSHOT_READERS 16
#define FS_SNAPSHOT_SERIALS ((G_GUINT64_CONSTANT(1) << (63 - FS_SNAPSHOT_SHIFT)) - 1)
G_STATIC_ASSERT(FS_KIND_COUNT <= (1u << FS_KIND_BITS));
/* Snapshot inodes carry fixed kinds (stats, metrics) in the same bits,
 * and the serials of 127 earlier boots' tables (see boots.c). */
G_STATIC_ASSERT(63 - FS_SNAPSHOT_SHIFT >= TRACKER_SERIAL_SPACE_BITS + 7);
G_STATIC_ASSERT(FS_KIND_METRICS <= FS_KIND_MASK && FS_KIND_STATS <= FS_KIND_MASK);

/* Fixed inodes sit below 1 << FS_KIND_BITS; serials start at 1, so no
 * per-process inode can collide with them. */
#define FS_INO_ROOT    FUSE_ROOT_ID
#define FS_INO_BY_PID  2
#define FS_INO_STATS   3
#define FS_INO_BOOTS   4
#define FS_INO_METRICS 5
#define FS_INO_BY_UID  6

/* Cache timeouts (seconds). Long ones are safe only while the notifier
 * runs; before it starts, a changed record is stale for at most SHORT. */
#define CACHE_LONG_S  3600.0
#define CACHE_SHORT_S 1.0
/* stats and ancestry: fresh at every look after this, consistent within. */
#define CACHE_LOOK_ANEW_S 0.01

#define NS_PER_SEC G_GUINT64_CONSTANT(1000000000)

struct lin_fs {
	struct tracker *tracker;     /* not owned: the root's table */
	struct lin_metrics *metrics; /* the tracker's; FUSE workers record their requests */
	guint64 started_realtime_ns; /* the time of root and by-pid/ */
	/* Earlier boots (struct fs_boot *, by boot id): set before the
	 * session serves and never changed after, like their tables, which
	 * nothing writes once the mount serves: read without a lock. */
	GPtrArray *boots;
	gboolean replay; /* a replayed history: no self */

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
	/* Index directories (by-exe/..., by-uid/...) listed since the last
	 * change that may alter them: their inodes, invalidated together. */
	GMutex index_listed_lock;
	GHashTable *index_listed; /* set of fuse_ino_t; protected by index_listed_lock */
	gint index_listed_any;    /* atomic: index_listed is not empty */

	/* Versions of versioned files the kernel knows (ino -> struct
	 * fs_version), kept so that reads of an outdated one still get its
	 * own bytes. */
	GMutex versions_lock;
	GHashTable *versions; /* protected by versions_lock */
	/* The last snapshots of stats and metrics, each handed again to its
	 * reader until that reader reads it (see snapshot_reused()), a ring
	 * per kind so that readers taking turns keep theirs. Protected by
	 * versions_lock. */
	struct fs_snapshot_last {
		pid_t reader;
		fuse_ino_t ino;
		guint64 made_ns; /* CLOCK_MONOTONIC */
		gboolean read;
	} last_snapshot[2][FS_SNAPSHOT_READERS];
	guint last_snapshot_next[2];
	guint64 next_snapshot; /* atomic: counter of snapshot inodes */

	struct fs_counters counters; /* each field updated with __atomic builtins */

	struct fs_access_config access; /* set before the session starts, then read-only */

	/* More "key value" lines for stats (the journal's); set before the
	 * session serves. */
	fs_journal_stats_fn journal_stats_fn;
	void *journal_stats_data;
	fs_catch_up_fn catch_up_fn; /* set before the session serves */
	void *catch_up_data;
};

/* A node resolved under the tracker's read lock. */
struct fs_node {
	fuse_ino_t ino;
	enum fs_kind kind;
	struct lin_process *process;   /* NULL for fixed nodes and index directories */
	struct tracker *tracker;       /* the table of process (or of a boot's node) */
	gboolean outdated;             /* an older version of a versioned file, or a snapshot */
	guint64 snapshot_realtime_ns;  /* a snapshot's: when it was taken; 0 otherwise */
	struct index_exe_dir *exe_dir; /* FS_KIND_BY_EXE_DIR, and the link's depth */
	guint32 uid;                   /* FS_KIND_BY_UID_DIR */
};

/* An earlier boot under boots/<id>/. */
struct fs_boot {
	char *id;
	struct tracker *tracker; /* not owned */
};

/* Bits of lin_process.fs_seen. */
enum {
	FS_SEEN_NODES = 1 << 0,    /* a node of the record was in a lookup or readdirplus reply */
	FS_SEEN_CHILDREN = 1 << 1, /* its children/ was listed since the last invalidation */
};

/* A readdir reply being filled. */
struct fs_dir_fill {
	fuse_req_t req;
	gboolean plus;
	char *buf;
	size_t size, len;
};

/* The process that sent a request, from fuse_req_ctx(); its supplementary
 * groups are fetched only when a decision needs them. */
struct fs_reader {
	fuse_req_t req; /* NULL in unit tests: no supplementary groups */
	uid_t uid;
	gid_t gid;
	pid_t pid;
	int ngroups; /* -1 until fetched */
	gid_t groups[64];
};

/* ---- access.c ---- */

void fs_reader_init(struct fs_reader *reader, fuse_req_t req);
/* Fetches the reader's groups when -o gid= may need them. Call before
 * taking the tracker's lock: it reads /proc/<reader>/status. */
void fs_reader_prepare(struct lin_fs *fs, struct fs_reader *reader);
/* The reader may see all of p: root, p's own user, or the gid= group. */
gboolean fs_access_full(struct lin_fs *fs, const struct fs_reader *reader,
                        const struct lin_process *p);
/* p is listed and found for the reader (hidepid=invisible hides it). */
gboolean fs_access_visible(struct lin_fs *fs, const struct fs_reader *reader,
                           const struct lin_process *p);
/* 0, or -EACCES when the reader may not read this node's link target. */
int fs_access_readlink(struct lin_fs *fs, const struct fs_reader *reader,
                       const struct fs_node *node);
/* Lookups of process directories must reach the daemon every time. */
gboolean fs_access_per_reader_entries(struct lin_fs *fs);
/* Lookups of p's exe must reach the daemon every time: others may search
 * p's directory but not read exe's cached target. */
gboolean fs_access_per_reader_exe(struct lin_fs *fs, const struct lin_process *p);
/* 0, or -EACCES when the reader may not reach this node by name (exe). */
int fs_access_lookup(struct lin_fs *fs, const struct fs_reader *reader, const struct fs_node *node);
/* How long the kernel may keep a node's attributes under the policy. */
double fs_access_attr_timeout(struct lin_fs *fs, const struct fs_node *node, double timeout);
/* This directory's listing is the same for every reader, and may be cached. */
gboolean fs_access_listing_shared(struct lin_fs *fs, const struct fs_node *dir);
/* Sets the mode and group of a per-process node so that the kernel
 * (default_permissions) enforces the policy on what it caches. */
void fs_access_fill_attr(struct lin_fs *fs, const struct fs_node *node, struct stat *st);

/* ---- nodes.c ---- */

fuse_ino_t fs_serial_ino(guint64 serial, enum fs_kind kind);
/* The current inode of a record's node (with its generation if versioned). */
fuse_ino_t fs_process_ino(const struct lin_process *p, enum fs_kind kind);
/* The tracker's clocks (the fake ones of its config in tests). */
guint64 fs_now_realtime_ns(struct lin_fs *fs);
guint64 fs_now_monotonic_ns(struct lin_fs *fs);
gboolean fs_kind_is_dir(enum fs_kind kind);
/* stats, metrics, ancestry: one snapshot inode per lookup. */
gboolean fs_kind_is_snapshot(enum fs_kind kind);
gboolean fs_kind_is_link(enum fs_kind kind);
/* Caller holds the tracker's read lock for all of these. */
int fs_node_resolve(struct lin_fs *fs, fuse_ino_t ino, struct fs_node *node);
double fs_process_timeout(struct lin_fs *fs);
double fs_node_attr_timeout(struct lin_fs *fs, const struct fs_node *node);
int fs_node_render(struct lin_fs *fs, const struct fs_node *node, GString *out);
void fs_node_fill_attr(struct lin_fs *fs, const struct fs_node *node, struct stat *st,
                       GString *content);
void fs_mark_seen(struct lin_process *p, guint8 bits);
void fs_node_fill_entry(struct lin_fs *fs, const struct fs_node *node, struct fuse_entry_param *e);
/* The lookup of stats or metrics by reader (a thread id). */
void fs_node_fill_snapshot_entry(struct lin_fs *fs, const struct fs_node *node, pid_t reader,
                                 struct fuse_entry_param *e);
/* A read of a snapshot inode: its reader is done with it. */
void fs_snapshot_read(struct lin_fs *fs, fuse_ino_t ino);
/* The kept versions (fs->versions): free function, FORGET, periodic sweep. */
void fs_version_free(gpointer data);
void fs_version_forget(struct lin_fs *fs, fuse_ino_t ino, guint64 lookups);
void fs_versions_sweep(struct lin_fs *fs);

/* ---- dirs.c: each takes the tracker's read lock ---- */

int fs_do_lookup(struct lin_fs *fs, const struct fs_reader *reader, fuse_ino_t parent,
                 const char *name, struct fuse_entry_param *e);
int fs_do_readdir(struct lin_fs *fs, struct fs_dir_fill *fill, const struct fs_reader *reader,
                  fuse_ino_t ino, off_t off);

/* Readdir helpers of dirs.c, for the other directories' rooms. */
gboolean fs_dir_add_node(struct lin_fs *fs, struct fs_dir_fill *fill, const char *name,
                         const struct fs_node *node, off_t next_off);
gboolean fs_dir_add_dot(struct fs_dir_fill *fill, const char *name, fuse_ino_t ino, off_t next_off);

/* ---- index.c: by-exe/ and by-uid/; caller holds the read lock ---- */

/* The inode of by-exe/ itself. */
fuse_ino_t fs_index_exe_root_ino(void);
/* Resolves an index directory or link inode of kind. 0 or -ENOENT. */
int fs_index_resolve(struct lin_fs *fs, fuse_ino_t ino, enum fs_kind kind, struct fs_node *node);
int fs_index_lookup(struct lin_fs *fs, const struct fs_reader *reader, const struct fs_node *dir,
                    const char *name, struct fuse_entry_param *e);
void fs_index_readdir(struct lin_fs *fs, const struct fs_reader *reader, struct fs_dir_fill *fill,
                      const struct fs_node *dir, off_t off);
/* The modes of an index directory: under allow_other, root's and the
 * gid= group's only (they tell what other users ran). */
void fs_index_fill_attr(struct lin_fs *fs, struct stat *st);
/* A by-exe or by-uid link's target. */
void fs_index_render_link(const struct fs_node *node, GString *out);
/* The notifier: a change may alter listed index directories. */
gboolean fs_index_change_matters(struct lin_fs *fs, const struct lin_change *change);
void fs_index_inval_listed(struct lin_fs *fs, void (*inval)(struct lin_fs *, fuse_ino_t));

/* ---- boots.c: earlier boots, each a table of its own ---- */

/* The table whose serial space holds serial: the root's or a boot's. */
struct tracker *fs_table_of(struct lin_fs *fs, guint64 serial);
/* The inode of a boot's directory (kind FS_KIND_BOOT_DIR or _BY_PID). */
fuse_ino_t fs_boot_ino(struct tracker *t, enum fs_kind kind);
/* The directory that holds a table's process directories. */
fuse_ino_t fs_table_dir_ino(struct lin_fs *fs, struct tracker *t);
int fs_lookup_in_boots(struct lin_fs *fs, const char *name, struct fuse_entry_param *e);
void fs_readdir_boots(struct lin_fs *fs, struct fs_dir_fill *fill, off_t off);
void fs_boots_free(struct lin_fs *fs);

/* ---- self_usage.c ---- */

/* The daemon's CPU time per thread group and its RSS, from /proc/self. */
struct fs_self_usage {
	struct fs_thread_cpu cpu[FS_THREAD_GROUPS_MAX];
	gsize count;
	guint64 rss_bytes;
};

/* 0 or -errno (out is then partly filled). */
int fs_self_usage_read(struct fs_self_usage *out);

/* ---- notify.c ---- */

/* Frees the changes still queued for the notifier. */
void fs_drain_changes(struct lin_fs *fs);
