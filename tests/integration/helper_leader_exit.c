/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Integration-test helper: the thread-group leader calls pthread_exit()
 * while other threads keep running. The kernel reports the leader's EXIT
 * right away, yet the process lives on (its leader a zombie in /proc) until
 * the last thread goes. Prints "ready" once the threads run; when stdin
 * reaches EOF a worker calls exit(7), which ends the whole process.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define IDLE_THREADS 2

static void *idle_thread(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static void *stdin_thread(void *arg)
{
	char buf[64];

	(void)arg;
	/* Block until the test closes our stdin, then end the process with a
	 * status the leader never had: the exit must be reported from here. */
	while (read(STDIN_FILENO, buf, sizeof(buf)) > 0)
		;
	exit(7);
}

int main(void)
{
	pthread_t thread;
	int i;

	for (i = 0; i < IDLE_THREADS; i++) {
		if (pthread_create(&thread, NULL, idle_thread, NULL) != 0) {
			perror("pthread_create");
			return 1;
		}
	}
	if (pthread_create(&thread, NULL, stdin_thread, NULL) != 0) {
		perror("pthread_create");
		return 1;
	}
	printf("ready %d\n", (int)getpid());
	fflush(stdout);
	pthread_exit(NULL);
}
