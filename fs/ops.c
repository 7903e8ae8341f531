/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The FUSE operations: the one fuse_lowlevel_ops table and its callbacks.
 * Each callback does its work in an fs_do_*() that returns 0 or -errno and
 * replies exactly once; the tree is read-only, so every write-side
 * operation answers EROFS. Also the fs's life cycle (fs_new, fs_free) and
 * the session it serves.
 */
#include "fs-private.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>

/* ---- attributes, links, files ---- */

static int fs_do_getattr(struct lin_fs *fs, fuse_ino_t ino, struct stat *st, double *timeout)
{
	struct fs_node node;
	int ret;

	tracker_read_lock(fs->tracker);
	ret = fs_node_resolve(fs, ino, &node);
	if (ret == 0) {
		fs_node_fill_attr(fs, &node, st, NULL);
		*timeout = fs_node_attr_timeout(fs, &node);
	}
	tracker_read_unlock(fs->tracker);
	return ret;
}

static int fs_do_readlink(struct lin_fs *fs, const struct fs_reader *reader, fuse_ino_t ino,
                          GString *target)
{
	struct fs_node node;
	int ret;

	tracker_read_lock(fs->tracker);
	ret = fs_node_resolve(fs, ino, &node);
	if (ret == 0 && !fs_kind_is_link(node.kind))
		ret = -EINVAL;
	if (ret == 0)
		ret = fs_access_readlink(fs, reader, &node);
	if (ret == 0)
		ret = fs_node_render(fs, &node, target);
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
	ret = fs_node_resolve(fs, ino, &node);
	if (ret == 0 && fs_kind_is_dir(node.kind))
		ret = -EISDIR;
	else if (ret == 0 && fs_kind_is_link(node.kind))
		ret = -ELOOP; /* the kernel follows links before opening */
	if (ret == 0)
		ret = fs_node_render(fs, &node, rendered);
	if (ret == 0) {
		if (node.kind == FS_KIND_STATS || node.kind == FS_KIND_METRICS ||
		    node.kind == FS_KIND_ANCESTRY || lin_process_running(node.process)) {
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

static int fs_do_opendir(struct lin_fs *fs, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct fs_node node;
	int ret;

	tracker_read_lock(fs->tracker);
	ret = fs_node_resolve(fs, ino, &node);
	if (ret == 0 && !fs_kind_is_dir(node.kind))
		ret = -ENOTDIR;
	/* A listing every reader sees alike is kept, as without OPENDIR,
	 * until the notifier drops it. */
	if (ret == 0 && fs_access_listing_shared(fs, &node)) {
		fi->cache_readdir = 1;
		fi->keep_cache = 1;
	}
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

/* ---- FUSE callbacks: each does its work in fs_do_*() and replies once ---- */

static void fs_ll_init(void *userdata, struct fuse_conn_info *conn)
{
	struct lin_fs *fs = userdata;

	/* Symlink targets are cached in the page cache; safe because a
	 * link's inode changes whenever its target can (by-pid, self) or
	 * the notifier invalidates it (exe, parent). Under allow_other exe
	 * is not everybody's to read: its name is then looked up anew for
	 * each reader (fs_access_lookup()). */
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
	if ((conn->capable & FUSE_CAP_NO_OPENDIR_SUPPORT) && !fs_access_per_reader_entries(fs)) {
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

/* The service time of each request for the metrics file: from the
 * callback's start to its reply. fs is fetched before the reply, after
 * which req is gone. */
static guint64 op_begin(struct lin_fs *fs)
{
	return fs->metrics->enabled ? lin_metrics_now_ns() : 0;
}

static void op_end(struct lin_fs *fs, enum lin_fuse_op op, guint64 started_ns)
{
	if (fs->metrics->enabled)
		lin_histogram_observe_since(&fs->metrics->fuse[op], started_ns);
}

static void fs_ll_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);
	struct fuse_entry_param e;
	struct fs_reader reader;
	int ret;

	fs_reader_init(&reader, req);
	if (fs_access_per_reader_entries(fs) || strcmp(name, "exe") == 0)
		fs_reader_prepare(fs, &reader);
	ret = fs_do_lookup(fs, &reader, parent, name, &e);

	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_entry(req, &e);
	op_end(fs, LIN_FUSE_OP_LOOKUP, started);
}

/* Nothing is allocated per inode, so lookup counts need no bookkeeping. */
static void fs_ll_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);

	fs_version_forget(fs, ino, nlookup);
	fuse_reply_none(req);
	op_end(fs, LIN_FUSE_OP_FORGET, started);
}

static void fs_ll_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);

	for (size_t i = 0; i < count; i++)
		fs_version_forget(fs, forgets[i].ino, forgets[i].nlookup);
	fuse_reply_none(req);
	op_end(fs, LIN_FUSE_OP_FORGET, started);
}

static void fs_ll_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);
	struct stat st;
	double timeout = 0;
	int ret;

	(void)fi;
	ret = fs_do_getattr(fs, ino, &st, &timeout);
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_attr(req, &st, timeout);
	op_end(fs, LIN_FUSE_OP_GETATTR, started);
}

static void fs_ll_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);
	g_autoptr(GString) target = g_string_new(NULL);
	struct fs_reader reader;
	int ret;

	fs_reader_init(&reader, req);
	fs_reader_prepare(fs, &reader);
	ret = fs_do_readlink(fs, &reader, ino, target);

	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_readlink(req, target->str);
	op_end(fs, LIN_FUSE_OP_READLINK, started);
}

static void reply_open(fuse_req_t req, struct lin_fs *fs, fuse_ino_t ino, struct fuse_file_info *fi)
{
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

static void fs_ll_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);

	reply_open(req, fs, ino, fi);
	op_end(fs, LIN_FUSE_OP_OPEN, started);
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
	ret = fs_node_resolve(fs, ino, &node);
	if (ret == 0 && fs_kind_is_dir(node.kind))
		ret = -EISDIR;
	else if (ret == 0 && fs_kind_is_link(node.kind))
		ret = -EINVAL;
	if (ret == 0)
		ret = fs_node_render(fs, &node, content);
	tracker_read_unlock(fs->tracker);
	if (ret == 0 && (ino & FS_INO_SNAPSHOT))
		fs_snapshot_read(fs, ino);
	return ret;
}

static void fs_ll_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
                       struct fuse_file_info *fi)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);

	if (fi->fh == 0) {
		g_autoptr(GString) content = g_string_new(NULL);
		int ret = fs_do_read(fs, ino, content);

		if (ret < 0)
			fuse_reply_err(req, -ret);
		else if (off < 0 || (gsize)off >= content->len)
			fuse_reply_buf(req, NULL, 0);
		else
			fuse_reply_buf(req, content->str + off,
			               MIN(size, content->len - (gsize)off));
	} else {
		fs_ll_read_snapshot(req, size, off, fi);
	}
	op_end(fs, LIN_FUSE_OP_READ, started);
}

static void fs_ll_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);

	(void)ino;
	if (fi->fh)
		g_bytes_unref((GBytes *)(uintptr_t)fi->fh);
	fuse_reply_err(req, 0);
	op_end(fs, LIN_FUSE_OP_RELEASE, started);
}

static void reply_opendir(fuse_req_t req, struct lin_fs *fs, fuse_ino_t ino,
                          struct fuse_file_info *fi)
{
	int ret;

	/* ENOSYS: the kernel stops asking, and caches listings. */
	if (g_atomic_int_get(&fs->no_opendir)) {
		fuse_reply_err(req, ENOSYS);
		return;
	}
	ret = fs_do_opendir(fs, ino, fi);

	if (ret < 0) {
		fuse_reply_err(req, -ret);
		return;
	}
	fi->fh = 0;
	fuse_reply_open(req, fi);
}

static void fs_ll_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);

	reply_opendir(req, fs, ino, fi);
	op_end(fs, LIN_FUSE_OP_OPENDIR, started);
}

static void reply_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, gboolean plus)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);
	g_autofree char *buf = g_malloc(size);
	struct fs_dir_fill fill = {.req = req, .plus = plus, .buf = buf, .size = size};
	struct fs_reader reader;
	int ret;

	fs_reader_init(&reader, req);
	if (fs_access_per_reader_entries(fs))
		fs_reader_prepare(fs, &reader);
	ret = fs_do_readdir(fs, &fill, &reader, ino, off);

	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_buf(req, buf, fill.len);
	op_end(fs, plus ? LIN_FUSE_OP_READDIRPLUS : LIN_FUSE_OP_READDIR, started);
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
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);

	(void)ino;
	(void)fi;
	fuse_reply_err(req, 0);
	op_end(fs, LIN_FUSE_OP_RELEASEDIR, started);
}

static void fs_ll_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);
	struct statvfs st;
	int ret;

	(void)ino;
	ret = fs_do_statfs(fs, &st);
	if (ret < 0)
		fuse_reply_err(req, -ret);
	else
		fuse_reply_statfs(req, &st);
	op_end(fs, LIN_FUSE_OP_STATFS, started);
}

/* A request answered with an error and nothing else: no extended
 * attributes, and every write-type operation. */
static void reply_error(fuse_req_t req, int err, enum lin_fuse_op op)
{
	struct lin_fs *fs = fuse_req_userdata(req);
	guint64 started = op_begin(fs);

	fuse_reply_err(req, err);
	op_end(fs, op, started);
}

/* No extended attributes. ENOTSUP rather than ENODATA: the kernel then
 * stops asking, so ls -l costs no getxattr round trip per file. */
static void fs_ll_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	(void)ino;
	(void)name;
	(void)size;
	reply_error(req, ENOTSUP, LIN_FUSE_OP_XATTR);
}

static void fs_ll_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	(void)ino;
	(void)size;
	reply_error(req, ENOTSUP, LIN_FUSE_OP_XATTR);
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
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
}

static void fs_ll_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                        dev_t rdev)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)rdev;
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
}

static void fs_ll_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	(void)parent;
	(void)name;
	(void)mode;
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
}

static void fs_ll_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
}

static void fs_ll_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	(void)parent;
	(void)name;
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
}

static void fs_ll_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	(void)link;
	(void)parent;
	(void)name;
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
}

static void fs_ll_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
                         const char *newname, unsigned int flags)
{
	(void)parent;
	(void)name;
	(void)newparent;
	(void)newname;
	(void)flags;
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
}

static void fs_ll_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	(void)ino;
	(void)newparent;
	(void)newname;
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
}

static void fs_ll_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
                         struct fuse_file_info *fi)
{
	(void)parent;
	(void)name;
	(void)mode;
	(void)fi;
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
}

static void fs_ll_write(fuse_req_t req, fuse_ino_t ino, const char *buf, size_t size, off_t off,
                        struct fuse_file_info *fi)
{
	(void)ino;
	(void)buf;
	(void)size;
	(void)off;
	(void)fi;
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
}

static void fs_ll_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
                           size_t size, int flags)
{
	(void)ino;
	(void)name;
	(void)value;
	(void)size;
	(void)flags;
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
}

static void fs_ll_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	(void)ino;
	(void)name;
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
}

static void fs_ll_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
                            struct fuse_file_info *fi)
{
	(void)ino;
	(void)mode;
	(void)offset;
	(void)length;
	(void)fi;
	reply_error(req, EROFS, LIN_FUSE_OP_REFUSED);
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
	fs->boots = g_ptr_array_new();
	fs->metrics = tracker_get_metrics(t);
	fs->changes = g_async_queue_new();
	g_mutex_init(&fs->versions_lock);
	g_mutex_init(&fs->index_listed_lock);
	fs->index_listed = g_hash_table_new(NULL, NULL);
	fs->versions = g_hash_table_new_full(NULL, NULL, NULL, fs_version_free);
	fs->started_realtime_ns = fs_now_realtime_ns(fs);
	return fs;
}

void fs_set_catch_up_fn(struct lin_fs *fs, fs_catch_up_fn fn, void *data)
{
	fs->catch_up_fn = fn;
	fs->catch_up_data = data;
}

void fs_set_journal_stats_fn(struct lin_fs *fs, fs_journal_stats_fn fn, void *data)
{
	fs->journal_stats_fn = fn;
	fs->journal_stats_data = data;
}

void fs_free(struct lin_fs *fs)
{
	if (!fs)
		return;
	fs_stop_notifier(fs);
	fs_drain_changes(fs);
	g_async_queue_unref(fs->changes);
	g_hash_table_unref(fs->versions);
	g_mutex_clear(&fs->versions_lock);
	g_hash_table_unref(fs->index_listed);
	g_mutex_clear(&fs->index_listed_lock);
	fs_boots_free(fs);
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
