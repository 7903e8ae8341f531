/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's own CPU time per thread group and its resident memory, for
 * the metrics file, read from /proc/self when the file is read. This is the
 * daemon's own /proc, never a traced process's: a reader still causes no
 * read of the processes the mount shows. Threads are told apart by the
 * names the daemon gives them (lin-events, lin-stat, lin-notify,
 * lin-journal...); libfuse's workers keep the process's name, and those
 * that already ended are found in the process's total, so "fuse" is what
 * the total holds beyond the named threads.
 */
#include "fs-private.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "proc_scan.h"

enum {
	GROUP_EVENTS,
	GROUP_STAT_READER,
	GROUP_NOTIFIER,
	GROUP_JOURNAL,
	GROUP_MAIN,
	GROUP_FUSE,
	GROUP_COUNT,
};

static const char *const group_names[GROUP_COUNT] = {
    [GROUP_EVENTS] = "events",     [GROUP_STAT_READER] = "stat_reader",
    [GROUP_NOTIFIER] = "notifier", [GROUP_JOURNAL] = "journal",
    [GROUP_MAIN] = "main",         [GROUP_FUSE] = "fuse",
};

G_STATIC_ASSERT(GROUP_COUNT <= FS_THREAD_GROUPS_MAX);

static int group_of(pid_t tid, const char *comm)
{
	if (tid == getpid())
		return GROUP_MAIN;
	if (strcmp(comm, "lin-events") == 0)
		return GROUP_EVENTS;
	if (strcmp(comm, "lin-stat") == 0)
		return GROUP_STAT_READER;
	if (strcmp(comm, "lin-notify") == 0)
		return GROUP_NOTIFIER;
	if (g_str_has_prefix(comm, "lin-journal"))
		return GROUP_JOURNAL;
	return GROUP_FUSE;
}

/* Reads a whole small /proc file at dirfd/path. 0 or -errno. */
static int read_small(int dirfd, const char *path, char *buf, size_t size, size_t *len)
{
	int fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, size - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	*len = (size_t)n;
	return 0;
}

static int read_stat(int dirfd, const char *path, struct lin_stat *st)
{
	char buf[1024];
	size_t len = 0;
	int ret = read_small(dirfd, path, buf, sizeof(buf), &len);

	return ret < 0 ? ret : proc_scan_parse_stat(buf, len, st);
}

int fs_self_usage_read(struct fs_self_usage *out)
{
	g_autoptr(GString) path = g_string_new(NULL);
	struct lin_stat total, st;
	guint64 named_user = 0, named_system = 0;
	char statm[256];
	size_t len = 0;
	unsigned long long pages_total, pages_resident;
	DIR *tasks;
	struct dirent *de;
	int ret;

	memset(out, 0, sizeof(*out));
	out->count = GROUP_COUNT;
	for (int g = 0; g < GROUP_COUNT; g++)
		out->cpu[g].thread = group_names[g];

	ret = read_stat(AT_FDCWD, "/proc/self/stat", &total);
	if (ret < 0)
		return ret;
	tasks = opendir("/proc/self/task");
	if (!tasks)
		return -errno;
	while ((de = readdir(tasks))) {
		int g;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		g_string_printf(path, "%s/stat", de->d_name);
		/* A thread that ended meanwhile is in the total. */
		if (read_stat(dirfd(tasks), path->str, &st) < 0)
			continue;
		g = group_of(st.pid, st.comm);
		out->cpu[g].user_ticks += st.utime_ticks;
		out->cpu[g].system_ticks += st.stime_ticks;
		if (g != GROUP_FUSE) {
			named_user += st.utime_ticks;
			named_system += st.stime_ticks;
		}
	}
	closedir(tasks);
	/* Ended workers: the total beyond the named threads (never less than
	 * the live workers, as the two reads are not atomic). */
	out->cpu[GROUP_FUSE].user_ticks =
	    MAX(out->cpu[GROUP_FUSE].user_ticks,
	        total.utime_ticks > named_user ? total.utime_ticks - named_user : 0);
	out->cpu[GROUP_FUSE].system_ticks =
	    MAX(out->cpu[GROUP_FUSE].system_ticks,
	        total.stime_ticks > named_system ? total.stime_ticks - named_system : 0);

	ret = read_small(AT_FDCWD, "/proc/self/statm", statm, sizeof(statm), &len);
	if (ret < 0)
		return ret;
	if (sscanf(statm, "%llu %llu", &pages_total, &pages_resident) != 2)
		return -EINVAL;
	out->rss_bytes = (guint64)pages_resident * (guint64)sysconf(_SC_PAGESIZE);
	return 0;
}
