/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A fake /proc for unit tests: a temporary directory holding <pid>/stat,
 * status, cmdline, comm, exe and task/ laid out and formatted the way the
 * kernel does, so the /proc reader and the tracker run against processes a
 * test invents, exits and recycles at will.
 */
#pragma once

#include <glib.h>
#include <sys/types.h>

struct fakeproc;

/* Creates an empty tree (mkdtemp under g_get_tmp_dir()); aborts on failure. */
struct fakeproc *fakeproc_new(void);
/* Removes the tree and closes its fd. NULL is fine. */
void fakeproc_free(struct fakeproc *fp);
/* An O_DIRECTORY fd of the root, owned by fp: pass it as proc_root_fd. */
int fakeproc_root_fd(const struct fakeproc *fp);
const char *fakeproc_path(const struct fakeproc *fp);

#define FAKEPROC_START_STACK G_GUINT64_CONSTANT(140726679759664)
#define FAKEPROC_ARG_START   G_GUINT64_CONSTANT(140726679767495)

struct fakeproc_proc {
	pid_t pid, ppid;
	guint64 start_ticks;
	const char *comm; /* NULL: "fake" */
	char state;       /* 0: 'S' */
	guint32 flags;    /* field 9 of stat; LIN_PF_KTHREAD for a kernel thread */
	uid_t uid;
	gid_t gid;
	const char *cmdline; /* cmdline_len bytes, NUL-separated argv */
	gsize cmdline_len;
	const char *exe; /* NULL: no exe link */
	guint threads;   /* 0: 1 + ntids */
	/* Field 28 of stat; 0: FAKEPROC_START_STACK. Arg start and end
	 * (48, 49) say cmdline_len bytes. */
	guint64 start_stack;
	/* Field 48 of stat, where the argv area starts; 0: FAKEPROC_ARG_START. */
	guint64 arg_start;
	const pid_t *tids;
	gsize ntids;
	/* The context files (proc_context.h): written when set. */
	pid_t pgid, sid;    /* 0: the pid (a group and session leader) */
	guint32 tty_nr;     /* field 7 of stat */
	pid_t ns_pid;       /* 0: NStgid shows the pid alone (host namespace) */
	const char *cwd;    /* symlink target of cwd */
	const char *cgroup; /* the cgroup file's whole text */
	const char *environ;
	gsize environ_len;
	guint32 pidns;      /* ns/pid -> "pid:[pidns]" */
	gboolean audit_set; /* loginuid and sessionid as below, else unset */
	guint32 loginuid, sessionid;
};

/* Writes <pid>/stat, status, cmdline, comm, exe and task/<tid>/ for the
 * process and its tids, replacing whatever pid had. Aborts on failure. */
void fakeproc_add(struct fakeproc *fp, const struct fakeproc_proc *proc);
/* fakeproc_add() of a sleeping process of uid and gid 1000, one thread,
 * exe /usr/bin/<comm> and cmdline "<argv0>\0--flag\0". */
void fakeproc_add_simple(struct fakeproc *fp, pid_t pid, pid_t ppid, guint64 start,
                         const char *comm, const char *argv0);
/* Removes <pid>/ entirely; a missing pid is fine. */
void fakeproc_remove(struct fakeproc *fp, pid_t pid);
