// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The fake /proc tree. Files are written with the kernel's formats
 * (fs/proc/array.c): a full 52-field stat line with the comm in parentheses,
 * a status with the tab-separated four-column Uid and Gid lines, a raw
 * cmdline, and an exe symlink only when the process has one. It is test
 * code: every failure aborts with the path and the errno.
 */
#include "config.h"

#include "fakeproc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_scan.h"

struct fakeproc {
	char *path;
	int root_fd;
};

static void write_file_at(int dirfd, const char *name, const void *data, gsize len)
{
	const char *p = data;
	int fd;

	fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		g_error("fakeproc: create %s: %s", name, g_strerror(errno));
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			g_error("fakeproc: write %s: %s", name, g_strerror(errno));
		p += n;
		len -= (gsize)n;
	}
	close(fd);
}

static void write_text_at(int dirfd, const char *name, const GString *text)
{
	write_file_at(dirfd, name, text->str, text->len);
}

static void mkdir_at(int dirfd, const char *name)
{
	if (mkdirat(dirfd, name, 0755) < 0 && errno != EEXIST)
		g_error("fakeproc: mkdir %s: %s", name, g_strerror(errno));
}

/* Removes everything inside the directory fd dirfd (which it closes). */
static void remove_contents(int dirfd)
{
	struct dirent *de;
	DIR *dir;

	dir = fdopendir(dirfd);
	if (!dir)
		g_error("fakeproc: fdopendir: %s", g_strerror(errno));
	while ((de = readdir(dir))) {
		int child;

		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (unlinkat(dirfd, de->d_name, 0) == 0)
			continue;
		if (errno != EISDIR && errno != EPERM)
			g_error("fakeproc: unlink %s: %s", de->d_name, g_strerror(errno));
		child = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (child < 0)
			g_error("fakeproc: open %s: %s", de->d_name, g_strerror(errno));
		remove_contents(child);
		if (unlinkat(dirfd, de->d_name, AT_REMOVEDIR) < 0)
			g_error("fakeproc: rmdir %s: %s", de->d_name, g_strerror(errno));
	}
	closedir(dir);
}

struct fakeproc *fakeproc_new(void)
{
	struct fakeproc *fp = g_new0(struct fakeproc, 1);

	fp->path = g_build_filename(g_get_tmp_dir(), "fakeproc-XXXXXX", NULL);
	if (!mkdtemp(fp->path))
		g_error("fakeproc: mkdtemp %s: %s", fp->path, g_strerror(errno));
	fp->root_fd = open(fp->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fp->root_fd < 0)
		g_error("fakeproc: open %s: %s", fp->path, g_strerror(errno));
	return fp;
}

void fakeproc_free(struct fakeproc *fp)
{
	if (!fp)
		return;
	remove_contents(fp->root_fd);
	if (rmdir(fp->path) < 0)
		g_error("fakeproc: rmdir %s: %s", fp->path, g_strerror(errno));
	g_free(fp->path);
	g_free(fp);
}

int fakeproc_root_fd(const struct fakeproc *fp)
{
	return fp->root_fd;
}

const char *fakeproc_path(const struct fakeproc *fp)
{
	return fp->path;
}

static const char *state_name(char state)
{
	switch (state) {
	case 'R':
		return "running";
	case 'S':
		return "sleeping";
	case 'D':
		return "disk sleep";
	case 'T':
		return "stopped";
	case 't':
		return "tracing stop";
	case 'X':
		return "dead";
	case 'Z':
		return "zombie";
	case 'P':
		return "parked";
	case 'I':
		return "idle";
	default:
		return "unknown";
	}
}

static void write_stat(int dirfd, const struct fakeproc_proc *proc, const char *comm, char state,
                       guint threads)
{
	g_autoptr(GString) text = g_string_new(NULL);
	gboolean kthread = (proc->flags & LIN_PF_KTHREAD) != 0;
	guint64 arg_start = proc->arg_start ? proc->arg_start : FAKEPROC_ARG_START;

	/* Fields 1-22: pid comm state ppid pgrp session tty_nr tpgid flags
	 * minflt cminflt majflt cmajflt utime stime cutime cstime priority nice
	 * num_threads itrealvalue starttime. */
	g_string_append_printf(
	    text, "%d (%s) %c %d %d %d %u -1 %u 100 0 0 0 3 1 0 0 20 0 %u 0 %" G_GUINT64_FORMAT,
	    proc->pid, comm, state, proc->ppid, proc->pgid ? proc->pgid : proc->pid,
	    proc->sid ? proc->sid : proc->pid, proc->tty_nr, proc->flags, threads,
	    proc->start_ticks);
	/* Fields 23-52: vsize rss rsslim, then the memory layout, signals,
	 * wchan, exit_signal, processor, policy and the arg/env addresses.
	 * Kernel threads show zeros where a user process has addresses. */
	if (kthread)
		g_string_append(text, " 0 0 18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 "
		                      "17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n");
	else
		g_string_append_printf(
		    text,
		    " 3133440 389 18446744073709551615 94416175292416 94416175312297 "
		    "%" G_GUINT64_FORMAT " 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 94416175328304 "
		    "94416175329920 94416336392192 "
		    "%" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT " %" G_GUINT64_FORMAT
		    " 140726679769067 0\n",
		    proc->start_stack ? proc->start_stack : FAKEPROC_START_STACK, arg_start,
		    arg_start + (guint64)proc->cmdline_len, arg_start + (guint64)proc->cmdline_len);
	write_text_at(dirfd, "stat", text);
}

static void write_status(int dirfd, const struct fakeproc_proc *proc, const char *comm, char state,
                         guint threads)
{
	g_autoptr(GString) text = g_string_new(NULL);
	gboolean kthread = (proc->flags & LIN_PF_KTHREAD) != 0;

	g_string_append_printf(text,
	                       "Name:\t%s\nUmask:\t0022\nState:\t%c (%s)\nTgid:\t%d\nNgid:\t0\n"
	                       "Pid:\t%d\nPPid:\t%d\nTracerPid:\t0\n"
	                       "Uid:\t%u\t%u\t%u\t%u\nGid:\t%u\t%u\t%u\t%u\n"
	                       "FDSize:\t64\nGroups:\t \n",
	                       comm, state, state_name(state), proc->pid, proc->pid, proc->ppid,
	                       proc->uid, proc->uid, proc->uid, proc->uid, proc->gid, proc->gid,
	                       proc->gid, proc->gid);
	/* One number per pid namespace, the host's first. */
	if (proc->ns_pid)
		g_string_append_printf(text, "NStgid:\t%d\t%d\nNSpid:\t%d\t%d\n", proc->pid,
		                       proc->ns_pid, proc->pid, proc->ns_pid);
	else
		g_string_append_printf(text, "NStgid:\t%d\nNSpid:\t%d\n", proc->pid, proc->pid);
	g_string_append_printf(text, "NSpgid:\t%d\nNSsid:\t%d\nKthread:\t%d\n", proc->pid,
	                       proc->pid, kthread ? 1 : 0);
	if (!kthread)
		g_string_append(text, "VmPeak:\t    3060 kB\nVmSize:\t    3060 kB\n"
		                      "VmRSS:\t    1748 kB\nVmSwap:\t       0 kB\n");
	g_string_append_printf(text,
	                       "Threads:\t%u\nSigQ:\t0/96365\nSigPnd:\t0000000000000000\n"
	                       "CapEff:\t000001fffeffffff\nNoNewPrivs:\t0\nSeccomp:\t0\n"
	                       "Cpus_allowed:\t3\nCpus_allowed_list:\t0-1\n"
	                       "Mems_allowed_list:\t0\nvoluntary_ctxt_switches:\t3\n"
	                       "nonvoluntary_ctxt_switches:\t0\n",
	                       threads);
	write_text_at(dirfd, "status", text);
}

static void make_task_dir(int dirfd, pid_t tid)
{
	char name[16];

	g_snprintf(name, sizeof(name), "task/%d", tid);
	mkdir_at(dirfd, name);
}

static void write_context(int dirfd, const struct fakeproc_proc *proc)
{
	g_autofree char *loginuid =
	    g_strdup_printf("%u", proc->audit_set ? proc->loginuid : G_MAXUINT32);
	g_autofree char *sessionid =
	    g_strdup_printf("%u", proc->audit_set ? proc->sessionid : G_MAXUINT32);

	if (proc->cwd && symlinkat(proc->cwd, dirfd, "cwd") < 0)
		g_error("fakeproc: symlink cwd: %s", g_strerror(errno));
	if (proc->cgroup)
		write_file_at(dirfd, "cgroup", proc->cgroup, strlen(proc->cgroup));
	if (proc->environ)
		write_file_at(dirfd, "environ", proc->environ, proc->environ_len);
	write_file_at(dirfd, "loginuid", loginuid, strlen(loginuid));
	write_file_at(dirfd, "sessionid", sessionid, strlen(sessionid));
	if (proc->pidns) {
		g_autofree char *target = g_strdup_printf("pid:[%u]", proc->pidns);

		mkdir_at(dirfd, "ns");
		if (symlinkat(target, dirfd, "ns/pid") < 0)
			g_error("fakeproc: symlink ns/pid: %s", g_strerror(errno));
	}
}

void fakeproc_add(struct fakeproc *fp, const struct fakeproc_proc *proc)
{
	const char *comm = proc->comm ? proc->comm : "fake";
	char state = proc->state ? proc->state : 'S';
	guint threads = proc->threads ? proc->threads : (guint)(1 + proc->ntids);
	g_autofree char *comm_line = g_strconcat(comm, "\n", NULL);
	char name[16];
	int dirfd;

	g_assert(proc->pid > 0);
	fakeproc_remove(fp, proc->pid);
	g_snprintf(name, sizeof(name), "%d", proc->pid);
	mkdir_at(fp->root_fd, name);
	dirfd = openat(fp->root_fd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		g_error("fakeproc: open %s: %s", name, g_strerror(errno));

	write_stat(dirfd, proc, comm, state, threads);
	write_status(dirfd, proc, comm, state, threads);
	write_file_at(dirfd, "cmdline", proc->cmdline, proc->cmdline ? proc->cmdline_len : 0);
	write_file_at(dirfd, "comm", comm_line, strlen(comm_line));
	if (proc->exe && symlinkat(proc->exe, dirfd, "exe") < 0)
		g_error("fakeproc: symlink %s/exe: %s", name, g_strerror(errno));
	write_context(dirfd, proc);
	mkdir_at(dirfd, "task");
	make_task_dir(dirfd, proc->pid);
	for (gsize i = 0; i < proc->ntids; i++)
		make_task_dir(dirfd, proc->tids[i]);
	close(dirfd);
}

void fakeproc_add_simple(struct fakeproc *fp, pid_t pid, pid_t ppid, guint64 start,
                         const char *comm, const char *argv0)
{
	g_autofree char *exe = g_strdup_printf("/usr/bin/%s", comm);
	g_autofree char *cmdline = g_strdup_printf("%s%c--flag%c", argv0, 0, 0);
	struct fakeproc_proc proc = {
	    .pid = pid,
	    .ppid = ppid,
	    .start_ticks = start,
	    .comm = comm,
	    .state = 'S',
	    .uid = 1000,
	    .gid = 1000,
	    .cmdline = cmdline,
	    .cmdline_len = strlen(argv0) + 1 + strlen("--flag") + 1,
	    .exe = exe,
	    .threads = 1,
	};

	fakeproc_add(fp, &proc);
}

void fakeproc_remove(struct fakeproc *fp, pid_t pid)
{
	char name[16];
	int dirfd;

	g_snprintf(name, sizeof(name), "%d", pid);
	dirfd = openat(fp->root_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0) {
		if (errno == ENOENT)
			return;
		g_error("fakeproc: open %s: %s", name, g_strerror(errno));
	}
	remove_contents(dirfd);
	if (unlinkat(fp->root_fd, name, AT_REMOVEDIR) < 0)
		g_error("fakeproc: rmdir %s: %s", name, g_strerror(errno));
}
