/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration-test helper: processes made with clone(CLONE_PARENT), as
 * runc's nsexec makes them. The kernel makes the caller's parent G the new
 * process's parent, and the FORK event names G; the new process never
 * execs, so it runs this helper's program and /proc shows this helper's
 * exe and argv for it.
 *
 *   helper_clone_parent once   this process P makes C
 *   helper_clone_parent twice  P makes Q, Q makes C: when C is made, G
 *                              has two children running this image (P, Q)
 *
 * Prints "P=<pid> Q=<pid> C=<pid>" (Q=0 with "once") once C exists, then
 * waits for stdin to reach EOF and exits 0. Q and C pause until killed;
 * they are G's children, so G reaps them.
 */
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* clone() without a new stack behaves as fork(): the child continues here
 * on a copy of the caller's stack. SIGCHLD so that G can wait for it. */
static pid_t clone_parent(void)
{
	return (pid_t)syscall(SYS_clone, CLONE_PARENT | SIGCHLD, NULL, NULL, NULL, NULL);
}

/* Made by CLONE_PARENT: tell P its pid through the pipe, then wait to be
 * killed (no exec, so it keeps this image). */
_Noreturn static void report_and_pause(int report_fd)
{
	pid_t me = getpid();

	if (write(report_fd, &me, sizeof(me)) != (ssize_t)sizeof(me))
		_exit(3);
	for (;;)
		pause();
}

_Noreturn static void child_main(int report_fd, int make_another)
{
	if (make_another) {
		pid_t grandchild = clone_parent();

		if (grandchild < 0)
			_exit(2);
		if (grandchild == 0)
			report_and_pause(report_fd);
	}
	report_and_pause(report_fd);
}

int main(int argc, char **argv)
{
	int twice = argc > 1 && strcmp(argv[1], "twice") == 0;
	int pipe_fds[2];
	pid_t first, reported[2] = {0, 0};
	char buf[64];

	if (argc < 2 || (!twice && strcmp(argv[1], "once") != 0)) {
		fprintf(stderr, "usage: %s once|twice\n", argv[0]);
		return 2;
	}
	if (pipe(pipe_fds) < 0) {
		perror("pipe");
		return 1;
	}
	first = clone_parent();
	if (first < 0) {
		perror("clone(CLONE_PARENT)");
		return 1;
	}
	if (first == 0) {
		close(pipe_fds[0]);
		child_main(pipe_fds[1], twice);
	}
	close(pipe_fds[1]);
	/* With "twice", C reports first (Q waits for nothing), then Q; they
	 * are told apart by who made whom: Q is the one P made. */
	for (int i = 0; i < 1 + twice; i++) {
		if (read(pipe_fds[0], &reported[i], sizeof(reported[i])) !=
		    (ssize_t)sizeof(pid_t)) {
			fprintf(stderr, "helper_clone_parent: a child did not report\n");
			return 1;
		}
	}
	if (twice)
		printf("P=%d Q=%d C=%d\n", (int)getpid(), (int)first,
		       (int)(reported[0] == first ? reported[1] : reported[0]));
	else
		printf("P=%d Q=0 C=%d\n", (int)getpid(), (int)first);
	fflush(stdout);
	while (fgets(buf, sizeof(buf), stdin) != NULL)
		;
	return 0;
}
