/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration-test helper: one pid handed out COUNT times back to back,
 * with clone3()'s set_tid (CAP_SYS_ADMIN in the pid namespace, so root),
 * fast enough that several holders share a start tick. Holder k renames
 * itself "holder-k" (a COMM event) and exits with status k.
 *
 *   helper_pid_reuse COUNT          holder k renames itself, exits k
 *   helper_pid_reuse COUNT exec     holder k execs "/bin/true holder-k"
 *
 * Prints one line per holder, "<pid> <start ticks> <k>", the start read
 * from /proc while the holder is a zombie, then "done". Holder 0 is the
 * plain fork() that found a free pid: it exits 0 under this helper's name. Exits 77 when the
 * kernel refuses set_tid (no clone3, or no privilege).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define HOLDERS_MAX 200

/* Field 22 of /proc/<pid>/stat; 0 when unreadable. */
static unsigned long long start_ticks(pid_t pid)
{
	char path[64], buf[1024];
	unsigned long long start = 0;
	ssize_t n;
	char *p;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL)
		return 0;
	/* After the comm: fields 3..21, then starttime. */
	for (int field = 3; field <= 22 && p; field++)
		p = strchr(p + 1, ' ');
	if (p)
		start = strtoull(p + 1, NULL, 10);
	return start;
}

static pid_t clone_with_tid(pid_t tid)
{
	struct clone_args args;

	memset(&args, 0, sizeof(args));
	args.exit_signal = SIGCHLD;
	args.set_tid = (uint64_t)(uintptr_t)&tid;
	args.set_tid_size = 1;
	return (pid_t)syscall(SYS_clone3, &args, sizeof(args));
}

int main(int argc, char **argv)
{
	int count = argc > 1 ? atoi(argv[1]) : 0;
	int exec_holders = argc > 2 && strcmp(argv[2], "exec") == 0;
	unsigned long long starts[HOLDERS_MAX + 1];
	pid_t pid;

	if (count < 1 || count > HOLDERS_MAX || (argc > 2 && !exec_holders)) {
		fprintf(stderr, "usage: %s COUNT (1..%d) [exec]\n", argv[0], HOLDERS_MAX);
		return 2;
	}
	/* Real-time, inherited by the holders, when allowed: on a busy
	 * machine a normal process is descheduled between two holders, and
	 * they no longer share a tick. */
	struct sched_param param = {.sched_priority = 1};

	sched_setscheduler(0, SCHED_FIFO, &param);
	/* A pid that was free a moment ago: a child's, once reaped. */
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0)
		_exit(0);
	{
		siginfo_t info;

		waitid(P_PID, (id_t)pid, &info, WEXITED | WNOWAIT);
		starts[0] = start_ticks(pid);
		waitpid(pid, NULL, 0);
	}

	for (int k = 1; k <= count; k++) {
		siginfo_t info;
		pid_t got = clone_with_tid(pid);

		if (got < 0) {
			if (k == 1 && (errno == ENOSYS || errno == EPERM || errno == EEXIST)) {
				fprintf(stderr, "helper_pid_reuse: clone3 set_tid: %s\n",
				        strerror(errno));
				return 77;
			}
			perror("clone3");
			return 1;
		}
		if (got == 0) {
			char name[32];

			snprintf(name, sizeof(name), "holder-%d", k);
			if (exec_holders) {
				char *const holder_argv[] = {"/bin/true", name, NULL};

				execv(holder_argv[0], holder_argv);
				_exit(127);
			}
			prctl(PR_SET_NAME, name);
			_exit(k);
		}
		/* A zombie until reaped: its start is still readable. */
		if (waitid(P_PID, (id_t)got, &info, WEXITED | WNOWAIT) < 0) {
			perror("waitid");
			return 1;
		}
		starts[k] = start_ticks(got);
		waitpid(got, NULL, 0);
	}
	for (int k = 0; k <= count; k++)
		printf("%d %llu %d\n", (int)pid, starts[k], k);
	printf("done\n");
	return 0;
}
