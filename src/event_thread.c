/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event threads. The receiver polls the cn_proc socket and a stop
 * eventfd, parses every datagram as it arrives, does at once the reads that
 * cannot wait (the cmdline and exe of an EXEC, readable only for a few
 * hundred microseconds when the process is short-lived) and queues the
 * event. The applier takes the queue in order: the reads that can wait
 * (stat and status, which last until the process is reaped), the tracker
 * update, the /proc rescan when the kernel dropped events, and
 * tracker_tick() about every 100 ms.
 *
 * Two threads, because what can wait sometimes waits long: reading the stat
 * of a child that is still in execve() was seen to take 4 ms, a rescan takes
 * longer, and the tracker's write lock queues behind readers. None of that
 * may delay the next EXEC's cmdline. Both run at raised priority, the
 * receiver above the applier.
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "lineagefs"
#endif
#include "config.h"
#include "event_thread.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cnproc.h"
#include "tracker.h"

/* How often tracker_tick() runs. */
#define EVENT_TICK_US (100 * 1000)
/* Datagrams read per wakeup before the stop fd is looked at again: under a
 * fork storm the socket may never run dry. */
#define EVENT_BATCH 256
/* Events received and not yet applied, at most. Each holds at most one
 * /proc directory fd, so this also bounds the fds held; when it is full the
 * receiver waits, and the kernel's socket buffer takes what comes. */
#define EVENT_QUEUE 256
/* After an overflow report, datagrams still read before the rescan at most
 * (see event_receiver_drain()); a full 8 MiB queue holds about 11000. */
#define EVENT_OVERFLOW_DRAIN_MAX 65536
/* Back-off after an unexpected receive error, so a persistent one is not a
 * busy loop at real-time priority. */
#define EVENT_ERROR_BACKOFF_MS 10
/* Low real-time priorities: above every normal thread (FUSE workers), below
 * the kernel's and other daemons' real-time threads; the receiver preempts
 * the applier. */
#define RECEIVER_FIFO_PRIORITY 10
#define APPLIER_FIFO_PRIORITY  9
#define EVENT_NICE             (-10)

enum drain_result {
	DRAIN_DRY,    /* the socket has nothing more */
	DRAIN_MORE,   /* the batch is used up, more may be pending */
	DRAIN_FAILED, /* an unexpected error: back off before the next poll */
};

enum queued_kind {
	QUEUED_EVENT,     /* ev, with rd begun */
	QUEUED_MALFORMED, /* a datagram that did not parse: counted */
	QUEUED_OVERFLOW,  /* the kernel dropped events before this point: rescan */
};

struct queued {
	enum queued_kind kind;
	struct cnproc_event ev;
	struct tracker_read rd;
};

struct event_thread {
	struct tracker *tracker; /* not owned */
	struct cnproc *cn;       /* not owned */
	int stop_fd;             /* eventfd, written once by event_thread_stop() */
	pthread_t receiver;
	pthread_t applier;

	/* The queue, from the receiver to the applier. */
	pthread_mutex_t lock;
	pthread_cond_t not_empty; /* on CLOCK_MONOTONIC, for the tick */
	pthread_cond_t not_full;
	struct queued queue[EVENT_QUEUE];
	guint head; /* oldest */
	guint len;
	gboolean stopping;

	/* The receiver's own. */
	gint overflow_pending;  /* atomic: the kernel dropped events, rescan due */
	guint overflow_drained; /* datagrams read since the overflow report */
	guint64 receive_errors;
};

/*
 * SCHED_FIFO when the kernel lets us (CAP_SYS_NICE and real-time budget in
 * this cgroup), else a negative nice value for this thread only (nice is per
 * thread on Linux), else nothing. Said once, because a daemon that quietly
 * runs at normal priority misses cmdlines under load and nobody knows why.
 */
static void raise_priority(const char *who, int fifo_priority)
{
	struct sched_param param = {.sched_priority = fifo_priority};
	int fifo_err;
	int nice_err;

	fifo_err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
	if (fifo_err == 0) {
		g_message("%s: real-time priority (SCHED_FIFO %d)", who, fifo_priority);
		return;
	}
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), EVENT_NICE) == 0) {
		g_message("%s: SCHED_FIFO refused (%s), running at nice %d", who,
		          g_strerror(fifo_err), EVENT_NICE);
		return;
	}
	nice_err = errno;
	g_warning("%s: cannot raise its priority (SCHED_FIFO: %s; nice %d: %s); "
	          "cmdlines of short-lived processes may be missed under load "
	          "(run as root or grant CAP_SYS_NICE)",
	          who, g_strerror(fifo_err), EVENT_NICE, g_strerror(nice_err));
}

static void queued_abandon(struct queued *q)
{
	if (q->kind == QUEUED_EVENT)
		tracker_event_abandon(&q->rd);
}

/* ---- the receiver ---- */

/* Hands q to the applier, waiting for room when the queue is full. Once
 * stopping, q is dropped. */
static void event_queue_push(struct event_thread *et, struct queued *q)
{
	pthread_mutex_lock(&et->lock);
	while (et->len == EVENT_QUEUE && !et->stopping)
		pthread_cond_wait(&et->not_full, &et->lock);
	if (et->stopping) {
		pthread_mutex_unlock(&et->lock);
		queued_abandon(q);
		return;
	}
	et->queue[(et->head + et->len) % EVENT_QUEUE] = *q;
	et->len++;
	pthread_cond_signal(&et->not_empty);
	pthread_mutex_unlock(&et->lock);
}

static void event_queue_push_marker(struct event_thread *et, enum queued_kind kind)
{
	struct queued q = {.kind = kind};

	event_queue_push(et, &q);
}

static void event_receiver_on_event(const struct cnproc_event *ev, void *data)
{
	struct event_thread *et = data;
	struct queued q = {.kind = QUEUED_EVENT, .ev = *ev};

	tracker_event_begin(et->tracker, &q.ev, &q.rd);
	event_queue_push(et, &q);
}

static void event_receiver_overflow_repair(struct event_thread *et)
{
	g_atomic_int_set(&et->overflow_pending, 0);
	et->overflow_drained = 0;
	event_queue_push_marker(et, QUEUED_OVERFLOW);
}

/*
 * Reads up to EVENT_BATCH datagrams. An ENOBUFS report does not ask for the
 * rescan at once: the kernel reports the drop before the datagrams still
 * queued, and those are older than the drop. Applied after a rescan they
 * would replay stale EXITs onto processes that recycled the pid meanwhile,
 * so the rescan is queued once they are read (or after
 * EVENT_OVERFLOW_DRAIN_MAX, when the socket refills as fast as it drains).
 * Several reports before one rescan make one repair.
 */
static enum drain_result event_receiver_drain(struct event_thread *et)
{
	for (guint n = 0; n < EVENT_BATCH; n++) {
		int ret = cnproc_receive(et->cn, event_receiver_on_event, et);

		if (ret >= 0) {
			if (g_atomic_int_get(&et->overflow_pending) &&
			    ++et->overflow_drained >= EVENT_OVERFLOW_DRAIN_MAX)
				event_receiver_overflow_repair(et);
			continue;
		}
		switch (-ret) {
		case EAGAIN:
			if (g_atomic_int_get(&et->overflow_pending))
				event_receiver_overflow_repair(et);
			return DRAIN_DRY;
		case EINTR:
			break;
		case ENOBUFS:
			if (!g_atomic_int_get(&et->overflow_pending))
				g_debug("event receiver: the kernel dropped events, rescan due");
			g_atomic_int_set(&et->overflow_pending, 1);
			et->overflow_drained = 0;
			break;
		case EBADMSG:
			event_queue_push_marker(et, QUEUED_MALFORMED);
			break;
		default:
			/* Once loudly, then quietly: a broken socket must not
			 * flood the log at real-time priority. */
			if (et->receive_errors++ == 0)
				g_warning("event receiver: cannot receive process events: %s",
				          g_strerror(-ret));
			else
				g_debug("event receiver: receive failed again: %s",
				        g_strerror(-ret));
			return DRAIN_FAILED;
		}
	}
	return DRAIN_MORE;
}

static void *event_receiver_main(void *data)
{
	struct event_thread *et = data;
	/* The stop fd first, so a back-off poll can watch it alone. */
	struct pollfd fds[2] = {
	    {.fd = et->stop_fd, .events = POLLIN},
	    {.fd = cnproc_fd(et->cn), .events = POLLIN},
	};
	gboolean backoff = FALSE;

	/* Named, so "ps -L" tells which thread runs at real-time priority. */
	pthread_setname_np(pthread_self(), "lin-events");
	raise_priority("event receiver", RECEIVER_FIFO_PRIORITY);

	for (;;) {
		int timeout = backoff ? EVENT_ERROR_BACKOFF_MS : -1;
		int ready = poll(fds, backoff ? 1 : 2, timeout);

		if (ready < 0) {
			if (errno != EINTR) {
				g_warning("event receiver: poll: %s", g_strerror(errno));
				g_usleep(EVENT_ERROR_BACKOFF_MS * 1000);
			}
			continue;
		}
		if (fds[0].revents != 0)
			break;
		if (backoff) {
			backoff = FALSE;
			fds[1].revents = POLLIN;
		}
		if (fds[1].revents & POLLNVAL) {
			g_critical("event receiver: the cn_proc socket was closed under it; "
			           "no more process events");
			break;
		}
		/* POLLERR too: that is how a pending ENOBUFS shows up. */
		if (fds[1].revents != 0)
			backoff = event_receiver_drain(et) == DRAIN_FAILED;
	}
	return NULL;
}

/* ---- the applier ---- */

static void apply_queued(struct event_thread *et, struct queued *q)
{
	switch (q->kind) {
	case QUEUED_EVENT:
		tracker_event_finish(et->tracker, &q->ev, &q->rd);
		break;
	case QUEUED_MALFORMED:
		tracker_count_malformed(et->tracker);
		break;
	case QUEUED_OVERFLOW:
		tracker_overflow(et->tracker);
		break;
	}
}

/* With the queue empty: a gap in the kernel's numbering of events, with no
 * ENOBUFS to say so, is repaired the same way (unless an overflow repair is
 * on its way anyway). */
static void event_applier_check_lost(struct event_thread *et)
{
	if (!g_atomic_int_get(&et->overflow_pending) && tracker_rescan_wanted(et->tracker)) {
		g_debug("event applier: events missing from the kernel's numbering, rescanning");
		tracker_rescan(et->tracker);
	}
}

static void deadline_from_monotonic_us(gint64 us, struct timespec *ts)
{
	ts->tv_sec = us / G_USEC_PER_SEC;
	ts->tv_nsec = (us % G_USEC_PER_SEC) * 1000;
}

static void *event_applier_main(void *data)
{
	struct event_thread *et = data;
	gint64 next_tick_us = g_get_monotonic_time() + EVENT_TICK_US;
	gboolean caught_up = TRUE;

	pthread_setname_np(pthread_self(), "lin-apply");
	raise_priority("event applier", APPLIER_FIFO_PRIORITY);

	pthread_mutex_lock(&et->lock);
	while (!et->stopping) {
		struct queued q;
		struct timespec deadline;

		if (et->len == 0) {
			if (!caught_up) {
				caught_up = TRUE;
				pthread_mutex_unlock(&et->lock);
				event_applier_check_lost(et);
				pthread_mutex_lock(&et->lock);
				continue;
			}
			deadline_from_monotonic_us(next_tick_us, &deadline);
			if (pthread_cond_timedwait(&et->not_empty, &et->lock, &deadline) !=
			    ETIMEDOUT)
				continue;
		}
		if (g_get_monotonic_time() >= next_tick_us) {
			pthread_mutex_unlock(&et->lock);
			tracker_tick(et->tracker);
			next_tick_us = g_get_monotonic_time() + EVENT_TICK_US;
			pthread_mutex_lock(&et->lock);
			continue;
		}
		if (et->len == 0)
			continue;
		q = et->queue[et->head];
		et->head = (et->head + 1) % EVENT_QUEUE;
		et->len--;
		pthread_cond_signal(&et->not_full);
		pthread_mutex_unlock(&et->lock);

		apply_queued(et, &q);
		caught_up = FALSE;
		pthread_mutex_lock(&et->lock);
	}
	/* Stopping: what was received but not applied is dropped. */
	while (et->len > 0) {
		queued_abandon(&et->queue[et->head]);
		et->head = (et->head + 1) % EVENT_QUEUE;
		et->len--;
	}
	pthread_mutex_unlock(&et->lock);
	return NULL;
}

/* ---- start and stop ---- */

static void event_thread_set_stopping(struct event_thread *et)
{
	uint64_t one = 1;

	pthread_mutex_lock(&et->lock);
	et->stopping = TRUE;
	pthread_cond_broadcast(&et->not_empty);
	pthread_cond_broadcast(&et->not_full);
	pthread_mutex_unlock(&et->lock);
	/* An eventfd write only fails when the counter would overflow, which
	 * one write cannot do; EINTR is the one case to retry. */
	while (write(et->stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static gboolean event_thread_sync_init(struct event_thread *et, GError **error)
{
	pthread_condattr_t attr;
	int err;

	err = pthread_condattr_init(&attr);
	if (err == 0)
		err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	if (err == 0)
		err = pthread_cond_init(&et->not_empty, &attr);
	pthread_condattr_destroy(&attr);
	if (err == 0) {
		err = pthread_cond_init(&et->not_full, NULL);
		if (err != 0)
			pthread_cond_destroy(&et->not_empty);
	}
	if (err != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot set up the event queue: %s", g_strerror(err));
		return FALSE;
	}
	pthread_mutex_init(&et->lock, NULL);
	return TRUE;
}

static void event_thread_sync_destroy(struct event_thread *et)
{
	pthread_cond_destroy(&et->not_empty);
	pthread_cond_destroy(&et->not_full);
	pthread_mutex_destroy(&et->lock);
}

struct event_thread *event_thread_start(struct tracker *t, struct cnproc *cn, GError **error)
{
	struct event_thread *et;
	sigset_t all_signals, old_signals;
	int socket_flags;
	int err;

	et = g_new0(struct event_thread, 1);
	et->tracker = t;
	et->cn = cn;

	/* Draining reads until EAGAIN; a blocking socket would park the
	 * receiver in recv() where it cannot see the stop fd. */
	socket_flags = fcntl(cnproc_fd(cn), F_GETFL);
	if (socket_flags < 0 || fcntl(cnproc_fd(cn), F_SETFL, socket_flags | O_NONBLOCK) < 0) {
		err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot make the cn_proc socket non-blocking: %s", g_strerror(err));
		goto err_free;
	}

	et->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (et->stop_fd < 0) {
		err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot create the event thread's stop eventfd: %s", g_strerror(err));
		goto err_free;
	}
	if (!event_thread_sync_init(et, error))
		goto err_close_stop_fd;

	/* The threads start with every signal blocked: SIGINT/SIGTERM must
	 * reach a FUSE thread, whose interrupted read() ends the session
	 * loop; delivered here they would do nothing until the next request. */
	sigfillset(&all_signals);
	pthread_sigmask(SIG_SETMASK, &all_signals, &old_signals);
	err = pthread_create(&et->applier, NULL, event_applier_main, et);
	if (err == 0) {
		err = pthread_create(&et->receiver, NULL, event_receiver_main, et);
		if (err != 0) {
			event_thread_set_stopping(et);
			pthread_join(et->applier, NULL);
		}
	}
	pthread_sigmask(SIG_SETMASK, &old_signals, NULL);
	if (err != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot start the event threads: %s", g_strerror(err));
		goto err_sync_destroy;
	}
	return et;

err_sync_destroy:
	event_thread_sync_destroy(et);
err_close_stop_fd:
	close(et->stop_fd);
err_free:
	g_free(et);
	return NULL;
}

void event_thread_stop(struct event_thread *et)
{
	if (et == NULL)
		return;
	event_thread_set_stopping(et);
	pthread_join(et->receiver, NULL);
	pthread_join(et->applier, NULL);
	event_thread_sync_destroy(et);
	close(et->stop_fd);
	g_free(et);
}
