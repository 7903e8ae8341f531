/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Who may read what, under -o allow_other (without it the kernel lets the
 * mounting user alone in). Two kinds of readers for a process p:
 *  - full: root, p's own user (real and effective uid both the reader's,
 *    as a ptrace check would ask), and members of the -o gid= group;
 *  - others: p's directory, comm, parent and children/ while p runs and
 *    hidepid is off; never its exec-time cmdline, status (Exe and the
 *    other fields a ptrace check guards), ancestry or exe target, and
 *    nothing of it once it has exited.
 * hidepid=noaccess closes running directories too; hidepid=invisible also
 * leaves what a reader may not enter out of listings and lookups.
 *
 * The kernel caches entries, attributes, pages and listings, shared by
 * every reader, so the policy is held where the cache is checked: the
 * modes and group of each node encode it (st_uid p's euid, owner bits only
 * when p's real and effective uids agree; st_gid the gid= group with group
 * bits; other bits only on what others may read) and the session mounts
 * with default_permissions, so the kernel checks every open and every path
 * step against the reader's fsuid, fsgid and groups, cached or not.
 * What modes cannot say is checked here, per request, with nothing cached
 * for it: the exe link of a running process whose directory others may
 * search (readlink is never permission-checked and its target sits in the
 * page cache, so its entry has timeout 0 and each path walk to it asks
 * the daemon, as the walking reader, which refuses others EACCES), and
 * under hidepid=invisible the lookups of process directories
 * (timeout 0 too) and the root and by-pid/ listings (not cached).
 */
#include "fs-private.h"

#include <errno.h>

/* The class of each per-process node. Public ones are readable by others
 * while the directory is; the rest only with full access. */
static gboolean kind_is_public(enum fs_kind kind)
{
	switch (kind) {
	case FS_KIND_DIR:
	case FS_KIND_COMM:
	case FS_KIND_PARENT:
	case FS_KIND_CHILDREN:
	case FS_KIND_CHILD_LINK:
	case FS_KIND_BY_PID_LINK:
	case FS_KIND_SELF_LINK:
		return TRUE;
	case FS_KIND_CMDLINE:     /* exec-time argv: a live process may have scrubbed it */
	case FS_KIND_EXE:         /* /proc/<pid>/exe: a ptrace check */
	case FS_KIND_STATUS:      /* Exe:, and what a ptrace check guards */
	case FS_KIND_ANCESTRY:    /* names exited ancestors of other users */
	case FS_KIND_HISTORY:     /* every argv and executable it ran */
	case FS_KIND_ENVIRON:     /* /proc/<pid>/environ: a ptrace check */
	case FS_KIND_BY_EXE_LINK: /* what it ran; the directories are root's (index.c) */
	case FS_KIND_BY_UID_LINK:
	case FS_KIND_BY_EXE_DIR:
	case FS_KIND_BY_UID_DIR:
	case FS_KIND_BY_UID_ROOT:
	case FS_KIND_COUNT:
	case FS_KIND_ROOT:
	case FS_KIND_BY_PID_DIR:
	case FS_KIND_STATS:
	case FS_KIND_BOOT_DIR:
	case FS_KIND_BOOT_BY_PID:
	case FS_KIND_BOOTS_DIR:
	case FS_KIND_METRICS:
		break;
	}
	return FALSE;
}

static gboolean policy_on(const struct lin_fs *fs)
{
	return fs->access.allow_other;
}

void fs_reader_init(struct fs_reader *reader, fuse_req_t req)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);

	reader->req = req;
	reader->uid = ctx->uid;
	reader->gid = ctx->gid;
	reader->pid = ctx->pid;
	reader->ngroups = -1;
}

void fs_reader_prepare(struct lin_fs *fs, struct fs_reader *reader)
{
	int n;

	if (!policy_on(fs) || !fs->access.has_gid || reader->uid == 0 ||
	    reader->gid == fs->access.gid || reader->ngroups >= 0 || reader->req == NULL)
		return;
	/* libfuse reads them from /proc/<pid>/task/<pid>/status. */
	n = fuse_req_getgroups(reader->req, (int)G_N_ELEMENTS(reader->groups), reader->groups);
	reader->ngroups = CLAMP(n, 0, (int)G_N_ELEMENTS(reader->groups));
}

static gboolean reader_in_group(const struct lin_fs *fs, const struct fs_reader *reader)
{
	if (!fs->access.has_gid)
		return FALSE;
	if (reader->gid == fs->access.gid)
		return TRUE;
	for (int i = 0; i < reader->ngroups; i++)
		if (reader->groups[i] == fs->access.gid)
			return TRUE;
	return FALSE;
}

gboolean fs_access_full(struct lin_fs *fs, const struct fs_reader *reader,
                        const struct lin_process *p)
{
	if (!policy_on(fs) || reader->uid == 0)
		return TRUE;
	if (p->ruid == p->euid && p->euid == reader->uid)
		return TRUE;
	return reader_in_group(fs, reader);
}

gboolean fs_access_visible(struct lin_fs *fs, const struct fs_reader *reader,
                           const struct lin_process *p)
{
	return fs->access.hidepid != FS_HIDEPID_INVISIBLE || fs_access_full(fs, reader, p);
}

int fs_access_readlink(struct lin_fs *fs, const struct fs_reader *reader,
                       const struct fs_node *node)
{
	if (node->process == NULL || kind_is_public(node->kind))
		return 0;
	return fs_access_full(fs, reader, node->process) ? 0 : -EACCES;
}

gboolean fs_access_per_reader_entries(struct lin_fs *fs)
{
	return policy_on(fs) && fs->access.hidepid == FS_HIDEPID_INVISIBLE;
}

gboolean fs_access_per_reader_exe(struct lin_fs *fs, const struct lin_process *p)
{
	/* Otherwise only readers with full access can search p's directory
	 * (fs_access_fill_attr()): the name is the same for all of them. */
	return policy_on(fs) && fs->access.hidepid == FS_HIDEPID_OFF && lin_process_running(p);
}

int fs_access_lookup(struct lin_fs *fs, const struct fs_reader *reader, const struct fs_node *node)
{
	if (node->kind != FS_KIND_EXE || !policy_on(fs))
		return 0;
	return fs_access_full(fs, reader, node->process) ? 0 : -EACCES;
}

double fs_access_attr_timeout(struct lin_fs *fs, const struct fs_node *node, double timeout)
{
	const struct lin_process *p = node->process;

	/* Open to others while p runs, closed once it exits: the exit's
	 * invalidation can reach the kernel before a reply rendered just
	 * before it, whose modes would then stay cached. Kept short, the
	 * modes are fetched again within a second. */
	if (!policy_on(fs) || p == NULL || fs->access.hidepid != FS_HIDEPID_OFF ||
	    !kind_is_public(node->kind) || fs_kind_is_link(node->kind) || !lin_process_running(p))
		return timeout;
	return MIN(timeout, CACHE_SHORT_S);
}

gboolean fs_access_listing_shared(struct lin_fs *fs, const struct fs_node *dir)
{
	if (!fs_access_per_reader_entries(fs))
		return TRUE;
	return dir->kind != FS_KIND_ROOT && dir->kind != FS_KIND_BY_PID_DIR;
}

void fs_access_fill_attr(struct lin_fs *fs, const struct fs_node *node, struct stat *st)
{
	const struct lin_process *p = node->process;
	mode_t perm, mode = 0;
	gboolean others;

	if (!policy_on(fs) || p == NULL || S_ISLNK(st->st_mode))
		return; /* symlink modes mean nothing to the kernel */
	if (node->kind == FS_KIND_BY_PID_LINK || node->kind == FS_KIND_SELF_LINK)
		return;
	perm = S_ISDIR(st->st_mode) ? 05 : 04;
	/* Everything under an exited process, or under any process with
	 * hidepid, closes together: a reader who kept a directory open
	 * from before still finds nothing readable. */
	others = kind_is_public(node->kind) && lin_process_running(p) &&
	         fs->access.hidepid == FS_HIDEPID_OFF;
	if (p->ruid == p->euid)
		mode |= perm << 6;
	if (fs->access.has_gid) {
		mode |= perm << 3;
		st->st_gid = fs->access.gid;
	}
	if (others)
		mode |= perm;
	st->st_mode = (st->st_mode & S_IFMT) | mode;
}

void fs_set_access(struct lin_fs *fs, const struct fs_access_config *access)
{
	fs->access = *access;
}
