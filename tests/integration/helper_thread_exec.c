/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration-test helper: exec from a thread that is not the leader.
 * The kernel kills the other threads, gives the exec'ing thread the
 * leader's pid and start time, and reports EXIT(pid=tgid) then EXEC, so the
 * process must stay one directory, with the new cmdline.
 *
 * Usage: helper_thread_exec ARG...
 * Before exec it prints "tid <tid>" (the exec'ing thread) and waits for a
 * line on stdin; the thread then execs itself as
 * "helper_thread_exec --after-exec ARG...", which prints "after-exec" and
 * waits for stdin to close.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static char self_path[PATH_MAX];
static char **saved_argv;
static int saved_argc;

static void *exec_thread(void *arg)
{
	char **new_argv;
	char buf[64];
	int i;

	(void)arg;
	printf("tid %ld\n", (long)syscall(SYS_gettid));
	fflush(stdout);
	if (read(STDIN_FILENO, buf, sizeof(buf)) <= 0)
		exit(2);

	new_argv = calloc((size_t)saved_argc + 2, sizeof(*new_argv));
	if (new_argv == NULL)
		exit(3);
	new_argv[0] = saved_argv[0];
	new_argv[1] = "--after-exec";
	for (i = 1; i < saved_argc; i++)
		new_argv[i + 1] = saved_argv[i];
	/* The real path, not /proc/self/exe: comm is taken from the name. */
	execv(self_path, new_argv);
	perror("execv");
	exit(4);
}

int main(int argc, char **argv)
{
	pthread_t thread;
	char buf[64];

	if (argc > 1 && strcmp(argv[1], "--after-exec") == 0) {
		printf("after-exec %d\n", (int)getpid());
		fflush(stdout);
		while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
			;
		return 0;
	}

	if (readlink("/proc/self/exe", self_path, sizeof(self_path) - 1) < 0) {
		perror("readlink");
		return 1;
	}
	saved_argc = argc;
	saved_argv = argv;
	if (pthread_create(&thread, NULL, exec_thread, NULL) != 0) {
		perror("pthread_create");
		return 1;
	}
	/* The leader idles; the exec replaces it. */
	for (;;)
		pause();
}
