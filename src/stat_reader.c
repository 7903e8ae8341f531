/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The stat reader (see stat_reader.h): one thread, a queue of asks in, a
 * queue of answers out and an eventfd that says answers are waiting. It
 * runs just below the event thread's real-time priority when it may, so a
 * fork storm of normal-priority processes cannot starve it, and the event
 * thread still preempts it.
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "lineagefs"
#endif
#include "config.h"
#include "stat_reader.h"

#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "harden.h"
#include "metrics.h"

/* One below the event thread's (event_thread.c), for the reason above. */
#define STAT_READER_FIFO_PRIORITY 9

struct stat_reader {
	int proc_root_fd;     /* not owned */
	int answer_fd;        /* eventfd: answers are waiting */
	GAsyncQueue *asks;    /* struct stat_reader_answer *, to fill */
	GAsyncQueue *answers; /* struct stat_reader_answer *, filled */
	pthread_t thread;
};

/* Pushed as an ask, ends the thread: no real ask has pid 0. */
static struct stat_reader_answer stat_reader_stop_ask;

static void stat_reader_answer_free(gpointer data)
{
	struct stat_reader_answer *a = data;

	lin_proc_info_clear(&a->image);
	g_free(a);
}

static void stat_reader_signal(struct stat_reader *sr)
{
	uint64_t one = 1;

	/* Fails only when the counter would overflow: it is readable then. */
	while (write(sr->answer_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void *stat_reader_main(void *data)
{
	struct stat_reader *sr = data;
	struct sched_param param = {.sched_priority = STAT_READER_FIFO_PRIORITY};

	pthread_setname_np(pthread_self(), "lin-stat");
	/* Quietly: the event thread already said whether real-time
	 * priority is allowed. */
	pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
	harden_drop_nice();

	for (;;) {
		struct stat_reader_answer *a = g_async_queue_pop(sr->asks);
		struct lin_proc_info info;

		if (a == &stat_reader_stop_ask)
			break;
		switch (a->job) {
		case STAT_READER_STAT:
			a->read_ns = lin_metrics_now_ns();
			a->err = proc_scan_read_process(sr->proc_root_fd, a->pid, 0, PROC_READ_STAT,
			                                0, &info);
			if (a->err == 0) {
				a->stat = info.stat;
				lin_proc_info_clear(&info);
			}
			/* A read that can take milliseconds (a child in
			 * execve), here rather than on the event thread. */
			if (a->err == 0 && a->parent_start_stack != 0 && a->stat.start_stack != 0 &&
			    a->stat.start_stack != a->parent_start_stack)
				proc_scan_read_process(
				    sr->proc_root_fd, a->pid, a->stat.start_ticks,
				    PROC_READ_STAT | PROC_READ_CMDLINE | PROC_READ_EXE,
				    a->max_cmdline, &a->image);
			break;
		case STAT_READER_CMDLINE:
			proc_scan_cmdline_finish(a->read);
			break;
		}
		g_async_queue_push(sr->answers, a);
		stat_reader_signal(sr);
	}
	return NULL;
}

struct stat_reader *stat_reader_start(int proc_root_fd, GError **error)
{
	struct stat_reader *sr;
	int err;

	sr = g_new0(struct stat_reader, 1);
	sr->proc_root_fd = proc_root_fd;
	sr->answer_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sr->answer_fd < 0) {
		err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot create the stat reader's eventfd: %s", g_strerror(err));
		g_free(sr);
		return NULL;
	}
	sr->asks = g_async_queue_new_full(stat_reader_answer_free);
	sr->answers = g_async_queue_new_full(stat_reader_answer_free);

	err = pthread_create(&sr->thread, NULL, stat_reader_main, sr);
	if (err != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot start the stat reader thread: %s", g_strerror(err));
		g_async_queue_unref(sr->asks);
		g_async_queue_unref(sr->answers);
		close(sr->answer_fd);
		g_free(sr);
		return NULL;
	}
	return sr;
}

void stat_reader_stop(struct stat_reader *sr)
{
	if (sr == NULL)
		return;
	/* Ahead of every waiting ask: those are dropped. */
	g_async_queue_push_front(sr->asks, &stat_reader_stop_ask);
	pthread_join(sr->thread, NULL);
	/* The queues free what is left in them. */
	g_async_queue_unref(sr->asks);
	g_async_queue_unref(sr->answers);
	close(sr->answer_fd);
	g_free(sr);
}

void stat_reader_ask_child(struct stat_reader *sr, guint64 tag, pid_t pid,
                           guint64 parent_start_stack, gsize max_cmdline)
{
	struct stat_reader_answer *a = g_new0(struct stat_reader_answer, 1);

	a->tag = tag;
	a->job = STAT_READER_STAT;
	a->pid = pid;
	a->parent_start_stack = parent_start_stack;
	a->max_cmdline = max_cmdline;
	g_async_queue_push(sr->asks, a);
}

void stat_reader_ask(struct stat_reader *sr, guint64 tag, pid_t pid)
{
	stat_reader_ask_child(sr, tag, pid, 0, 0);
}

void stat_reader_finish_cmdline(struct stat_reader *sr, guint64 tag, struct proc_read *r)
{
	struct stat_reader_answer *a = g_new0(struct stat_reader_answer, 1);

	a->tag = tag;
	a->job = STAT_READER_CMDLINE;
	a->read = r;
	g_async_queue_push(sr->asks, a);
}

int stat_reader_fd(const struct stat_reader *sr)
{
	return sr->answer_fd;
}

gboolean stat_reader_collect(struct stat_reader *sr, struct stat_reader_answer *out)
{
	struct stat_reader_answer *a = g_async_queue_try_pop(sr->answers);

	if (a == NULL) {
		uint64_t count;

		/* Clear the eventfd, then look again: an answer pushed
		 * between the two looks was signalled after the clear, or is
		 * found by the second look. */
		while (read(sr->answer_fd, &count, sizeof(count)) < 0 && errno == EINTR)
			;
		a = g_async_queue_try_pop(sr->answers);
		if (a == NULL)
			return FALSE;
	}
	*out = *a;
	g_free(a);
	return TRUE;
}
