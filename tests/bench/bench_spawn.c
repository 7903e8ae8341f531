/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Benchmark helper: a process storm at the machine's full rate. Runs a
 * program (by default /bin/true) COUNT times, or until SECONDS pass, with
 * INFLIGHT children running at once, through posix_spawn() (glibc's is a
 * vfork-style clone, the cheapest way to start a process). With -p it
 * writes one line per child to a file: "<pid>" or, with -S, "<pid> <start>"
 * where start is field 22 of /proc/<pid>/stat, read while the child is a
 * zombie (waitid(WNOWAIT)) so that the benchmark can name its lineagefs
 * directory exactly even when pids are recycled. With -F the children do
 * not exec at all: fork() and _exit(0), the quickest way to fill the table
 * with exited processes. Prints one summary line:
 * "spawned=N failed=F seconds=S rate=R". SIGTERM or SIGINT stop the storm;
 * the children in flight are still reaped.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static double now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Field 22 (start time in ticks) of /proc/<pid>/stat, or 0. The comm may
 * hold spaces and ')', so fields are counted from the last ')'. */
static unsigned long long read_start_ticks(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long start = 0;
	ssize_t len;
	char *p;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return 0;
	buf[len] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return 0;
	/* p + 1 is the space before field 3; each step moves one field on. */
	p++;
	for (field = 3; field < 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

/* Waits for one child, records it and reaps it. Returns 0, or -1 when no
 * child is left or a stop signal interrupted the wait (and nothing was
 * reaped). */
static int reap_one(FILE *pidfile, int want_start, unsigned long *failed)
{
	siginfo_t info;
	int status;

	memset(&info, 0, sizeof(info));
	/* WNOWAIT leaves the child a zombie, so /proc/<pid>/stat still
	 * answers with its start time. */
	if (waitid(P_ALL, 0, &info, WEXITED | WNOWAIT) < 0)
		return -1;
	if (pidfile) {
		if (want_start)
			fprintf(pidfile, "%d %llu\n", (int)info.si_pid,
			        read_start_ticks(info.si_pid));
		else
			fprintf(pidfile, "%d\n", (int)info.si_pid);
	}
	while (waitpid(info.si_pid, &status, 0) < 0 && errno == EINTR)
		;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		(*failed)++;
	return 0;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
	        "usage: %s [-n COUNT] [-t SECONDS] [-j INFLIGHT] [-p PIDFILE] [-S] [-F] "
	        "[PROGRAM [ARG...]]\n"
	        "  runs PROGRAM (default /bin/true) COUNT times or for SECONDS,\n"
	        "  INFLIGHT (default 4) at a time; at least one of -n and -t is needed;\n"
	        "  -S records start ticks in PIDFILE, -F forks without exec\n",
	        argv0);
}

int main(int argc, char **argv)
{
	static char *default_argv[] = {"/bin/true", NULL};
	unsigned long count = 0, spawned = 0, failed = 0, inflight = 0, max_inflight = 4;
	double seconds = 0, started, deadline, elapsed;
	const char *pidfile_path = NULL;
	FILE *pidfile = NULL;
	struct sigaction sa;
	char **child_argv;
	int want_start = 0, fork_only = 0;
	int opt;

	while ((opt = getopt(argc, argv, "+n:t:j:p:SFh")) != -1) {
		switch (opt) {
		case 'n':
			count = strtoul(optarg, NULL, 10);
			break;
		case 't':
			seconds = strtod(optarg, NULL);
			break;
		case 'j':
			max_inflight = strtoul(optarg, NULL, 10);
			break;
		case 'p':
			pidfile_path = optarg;
			break;
		case 'S':
			want_start = 1;
			break;
		case 'F':
			fork_only = 1;
			break;
		case 'h':
			usage(argv[0]);
			return 0;
		default:
			usage(argv[0]);
			return 2;
		}
	}
	if ((count == 0 && seconds <= 0) || max_inflight == 0 || max_inflight > 4096) {
		usage(argv[0]);
		return 2;
	}
	child_argv = optind < argc ? argv + optind : default_argv;

	if (pidfile_path) {
		pidfile = fopen(pidfile_path, "w");
		if (!pidfile) {
			fprintf(stderr, "bench_spawn: %s: %s\n", pidfile_path, strerror(errno));
			return 1;
		}
	}

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a stop signal must interrupt waitid(). */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);

	started = now_seconds();
	deadline = seconds > 0 ? started + seconds : 0;
	while (!stop_requested && (count == 0 || spawned < count)) {
		pid_t pid;
		int rc;

		if (deadline && (spawned & 63) == 0 && now_seconds() >= deadline)
			break;
		if (inflight >= max_inflight) {
			if (reap_one(pidfile, want_start, &failed) == 0)
				inflight--;
			continue;
		}
		if (fork_only) {
			/* _exit(): the child must not flush the parent's stdio. */
			pid = fork();
			if (pid == 0)
				_exit(0);
			rc = pid < 0 ? errno : 0;
		} else {
			rc = posix_spawn(&pid, child_argv[0], NULL, NULL, child_argv, environ);
		}
		if (rc != 0) {
			fprintf(stderr, "bench_spawn: %s: %s\n", child_argv[0], strerror(rc));
			failed++;
			if (rc != EAGAIN)
				break;
			if (inflight > 0 && reap_one(pidfile, want_start, &failed) == 0)
				inflight--;
			continue;
		}
		spawned++;
		inflight++;
	}
	while (inflight > 0) {
		if (reap_one(pidfile, want_start, &failed) == 0)
			inflight--;
		else if (errno == ECHILD)
			break;
	}
	elapsed = now_seconds() - started;

	if (pidfile && fclose(pidfile) != 0) {
		fprintf(stderr, "bench_spawn: %s: %s\n", pidfile_path, strerror(errno));
		return 1;
	}
	printf("spawned=%lu failed=%lu seconds=%.3f rate=%.1f\n", spawned, failed, elapsed,
	       elapsed > 0 ? (double)spawned / elapsed : 0.0);
	return 0;
}
