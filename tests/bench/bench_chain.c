/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Benchmark helper: a chain of DEPTH nested processes, each the child of
 * the one before, for timing ancestry walks. The leaf prints its pid on
 * stdout and waits; it leaves after SECONDS (default 600) or on SIGTERM.
 * Every level waits for its child and asks the kernel to signal it when its
 * own parent dies, so killing any level (or the process group) takes the
 * whole chain down and nothing outlives a crashed benchmark for long.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long depth = argc > 1 ? strtol(argv[1], NULL, 10) : 100;
	long seconds = argc > 2 ? strtol(argv[2], NULL, 10) : 600;
	pid_t top = getpid();

	if (depth < 1 || depth > 10000 || seconds < 1) {
		fprintf(stderr, "usage: %s [DEPTH (1..10000)] [SECONDS]\n", argv[0]);
		return 2;
	}
	/* The first process counts as level 1. */
	for (long level = 1; level < depth; level++) {
		pid_t child;
		int status;

		fflush(stdout);
		child = fork();
		if (child < 0) {
			perror("bench_chain: fork");
			return 1;
		}
		if (child == 0) {
			/* Die with the parent; it may already be gone. */
			prctl(PR_SET_PDEATHSIG, SIGTERM);
			if (getppid() == 1 || (level == 1 && getppid() != top))
				return 1;
			continue;
		}
		while (waitpid(child, &status, 0) < 0)
			if (errno != EINTR)
				return 1;
		return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	}
	printf("%d\n", (int)getpid());
	fflush(stdout);
	alarm((unsigned int)seconds);
	for (;;)
		pause();
}
