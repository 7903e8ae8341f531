/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event thread: poll() on the cn_proc socket and a stop eventfd, every
 * event begun as it arrives and applied in order (see
 * event_thread_on_event()), a /proc rescan when the kernel says it dropped
 * events, and tracker_tick() about every 100 ms. It is the only thread that
 * feeds the tracker once the daemon runs, and it runs at raised priority:
 * the cmdline of a short-lived process is readable only for a few hundred
 * microseconds after its EXEC event.
 *
 * One thread, not a receiver handing events to an applier: that hand-off
 * was tried and measured, and doubled the daemon's CPU time in a fork
 * storm (a wakeup per event on each side) for 1.6 fewer missed cmdlines in
 * 2000 under the sanitizers, and none fewer in a release build.
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
#include <unistd.h>

#include "cnproc.h"
#include "tracker.h"

/* How often tracker_tick() runs, so also the longest poll() sleep. */
#define EVENT_TICK_US (100 * 1000)
/* Steps (a datagram read, or an event finished) per wakeup before the stop
 * fd and the tick are looked at again: under a fork storm the socket may
 * never run dry. */
#define EVENT_BATCH 256
/* Events received but not yet applied. Each holds at most one /proc
 * directory fd, so this also bounds the fds the thread keeps open. */
#define EVENT_BACKLOG 64
/* After an overflow report, datagrams still read before the rescan at most
 * (see event_thread_drain()); a full 8 MiB queue holds about 11000. */
#define EVENT_OVERFLOW_DRAIN_MAX 65536
/* Back-off after an unexpected receive error, so a persistent one is not a
 * busy loop at real-time priority. */
#define EVENT_ERROR_BACKOFF_MS 10
/* Low real-time priority: above every normal thread (FUSE workers), below
 * the kernel's and other daemons' real-time threads. */
#define EVENT_FIFO_PRIORITY 10
#define EVENT_NICE          (-10)

enum drain_result {
	DRAIN_DRY,    /* the socket and the backlog are empty */
	DRAIN_MORE,   /* the batch is used up, more may be pending */
	DRAIN_FAILED, /* an unexpected error: back off before the next poll */
};

/* An event received, its urgent reads done (tracker_event_begin()), waiting
 * for the rest and its turn to be applied. */
struct queued_event {
	struct cnproc_event ev;
	struct tracker_read rd;
};

struct event_thread {
	struct tracker *tracker; /* not owned */
	struct cnproc *cn;       /* not owned */
	int stop_fd;             /* eventfd, written once by event_thread_stop() */
	pthread_t thread;

	/* Owned by the thread itself from here on. */
	gboolean overflow_pending; /* the kernel dropped events, rescan due */
	guint overflow_drained;    /* datagrams read since the overflow report */
	guint64 receive_errors;
	gint64 next_tick_us; /* g_get_monotonic_time() of the next tracker_tick() */
	/* Ring of received events, oldest at backlog_head. */
	struct queued_event backlog[EVENT_BACKLOG];
	guint backlog_head;
	guint backlog_len;
};

static struct queued_event *backlog_at(struct event_thread *et, guint i)
{
	return &et->backlog[(et->backlog_head + i) % EVENT_BACKLOG];
}

static void backlog_drop_oldest(struct event_thread *et)
{
	et->backlog_head = (et->backlog_head + 1) % EVENT_BACKLOG;
	et->backlog_len--;
}

/*
 * A FORK's finish reads the child's stat for its start time, and a child
 * still in execve() can take milliseconds to answer (4 ms was seen, for
 * vfork from a large process), during which nothing else is read. When
 * the child's EXEC is already queued, its read on arrival found the stat:
 * the FORK takes it from there.
 */
static void event_thread_lend_child_stat(struct event_thread *et)
{
	struct queued_event *fork = backlog_at(et, 0);

	if (fork->ev.type != CNPROC_EV_FORK || fork->ev.pid != fork->ev.tgid)
		return;
	for (guint i = 1; i < et->backlog_len; i++) {
		struct queued_event *later = backlog_at(et, i);

		if (later->ev.tgid != fork->ev.pid)
			continue;
		/* The child's first event after its FORK: only an EXEC has
		 * read anything. */
		if (later->ev.type == CNPROC_EV_EXEC)
			tracker_event_lend_stat(&later->rd, &fork->rd);
		return;
	}
}

static void event_thread_finish_oldest(struct event_thread *et)
{
	struct queued_event *q = backlog_at(et, 0);

	event_thread_lend_child_stat(et);
	tracker_event_finish(et->tracker, &q->ev, &q->rd);
	backlog_drop_oldest(et);
}

static void event_thread_flush(struct event_thread *et)
{
	while (et->backlog_len > 0)
		event_thread_finish_oldest(et);
}

/*
 * Every event is begun the moment it is parsed: for an EXEC that reads the
 * cmdline and exe, which vanish a few hundred microseconds later when a
 * short-lived process exits, and the stat that says whose they were. What
 * can wait (status, a FORK's read of the child, the tracker update) is done
 * once the socket is dry, oldest first, so an EXEC that arrives behind
 * others is read after one event's slow half at most, not after all of
 * them.
 */
static void event_thread_on_event(const struct cnproc_event *ev, void *data)
{
	struct event_thread *et = data;
	struct queued_event *q;

	/* Only a datagram with more events than room gets here full. */
	if (et->backlog_len == EVENT_BACKLOG)
		event_thread_finish_oldest(et);
	q = backlog_at(et, et->backlog_len);
	q->ev = *ev;
	tracker_event_begin(et->tracker, &q->ev, &q->rd);
	et->backlog_len++;
}

/*
 * SCHED_FIFO when the kernel lets us (CAP_SYS_NICE and real-time budget in
 * this cgroup), else a negative nice value for this thread only (nice is per
 * thread on Linux), else nothing. Said once, because a daemon that quietly
 * runs at normal priority misses cmdlines under load and nobody knows why.
 */
static void event_thread_raise_priority(void)
{
	struct sched_param param = {.sched_priority = EVENT_FIFO_PRIORITY};
	int fifo_err;
	int nice_err;

	fifo_err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param);
	if (fifo_err == 0) {
		g_message("event thread: real-time priority (SCHED_FIFO %d)", EVENT_FIFO_PRIORITY);
		return;
	}
	if (setpriority(PRIO_PROCESS, (id_t)gettid(), EVENT_NICE) == 0) {
		g_message("event thread: SCHED_FIFO refused (%s), running at nice %d",
		          g_strerror(fifo_err), EVENT_NICE);
		return;
	}
	nice_err = errno;
	g_warning("event thread: cannot raise its priority (SCHED_FIFO: %s; nice %d: %s); "
	          "cmdlines of short-lived processes may be missed under load "
	          "(run as root or grant CAP_SYS_NICE)",
	          g_strerror(fifo_err), EVENT_NICE, g_strerror(nice_err));
}

static void event_thread_repair(struct event_thread *et)
{
	/* What was received is older than the drop: applied first. */
	event_thread_flush(et);
	et->overflow_pending = FALSE;
	et->overflow_drained = 0;
	tracker_overflow(et->tracker);
}

/*
 * Takes up to EVENT_BATCH steps: reads datagrams while the socket has any,
 * and finishes the oldest received event when it has none. Returns
 * DRAIN_DRY only with both the socket and the backlog empty.
 *
 * An ENOBUFS report does not rescan at once: the kernel reports the drop
 * before the datagrams still queued, and those are older than the drop.
 * Applied after a rescan they would replay stale EXITs onto processes that
 * recycled the pid meanwhile, so the rescan waits until they are read and
 * applied (or until EVENT_OVERFLOW_DRAIN_MAX, when the queue refills as
 * fast as it drains). Several reports before one rescan make one repair.
 */
static enum drain_result event_thread_drain(struct event_thread *et)
{
	for (guint n = 0; n < EVENT_BATCH; n++) {
		int ret;

		if (et->backlog_len == EVENT_BACKLOG) {
			event_thread_finish_oldest(et);
			continue;
		}
		ret = cnproc_receive(et->cn, event_thread_on_event, et);
		if (ret >= 0) {
			if (et->overflow_pending &&
			    ++et->overflow_drained >= EVENT_OVERFLOW_DRAIN_MAX)
				event_thread_repair(et);
			continue;
		}
		switch (-ret) {
		case EAGAIN:
			/* Nothing new: time for the slow half of the oldest. */
			if (et->backlog_len == 0)
				return DRAIN_DRY;
			event_thread_finish_oldest(et);
			break;
		case EINTR:
			break;
		case ENOBUFS:
			if (!et->overflow_pending)
				g_debug("event thread: the kernel dropped events, rescan due");
			et->overflow_pending = TRUE;
			et->overflow_drained = 0;
			break;
		case EBADMSG:
			tracker_count_malformed(et->tracker);
			break;
		default:
			/* Once loudly, then quietly: a broken socket must not
			 * flood the log at real-time priority. What was
			 * received is applied all the same. */
			event_thread_flush(et);
			if (et->receive_errors++ == 0)
				g_warning("event thread: cannot receive process events: %s",
				          g_strerror(-ret));
			else
				g_debug("event thread: receive failed again: %s", g_strerror(-ret));
			return DRAIN_FAILED;
		}
	}
	return DRAIN_MORE;
}

/* A gap in the kernel's numbering of events, with no ENOBUFS to say so:
 * repair the same way. */
static void event_thread_check_lost(struct event_thread *et)
{
	if (!et->overflow_pending && tracker_rescan_wanted(et->tracker)) {
		g_debug("event thread: events missing from the kernel's numbering, rescanning");
		tracker_rescan(et->tracker);
	}
}

static void event_thread_maybe_tick(struct event_thread *et)
{
	gint64 now = g_get_monotonic_time();

	if (now < et->next_tick_us)
		return;
	tracker_tick(et->tracker);
	et->next_tick_us = now + EVENT_TICK_US;
}

static int event_thread_poll_timeout(const struct event_thread *et)
{
	gint64 now = g_get_monotonic_time();

	if (now >= et->next_tick_us || et->backlog_len > 0)
		return 0;
	/* Round up: waking a little early would make a 0 ms poll spin. */
	return (int)((et->next_tick_us - now + 999) / 1000);
}

static void *event_thread_main(void *data)
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
	event_thread_raise_priority();
	et->next_tick_us = g_get_monotonic_time() + EVENT_TICK_US;

	for (;;) {
		enum drain_result drained;
		int timeout = backoff ? EVENT_ERROR_BACKOFF_MS : event_thread_poll_timeout(et);
		int ready = poll(fds, backoff ? 1 : 2, timeout);

		if (ready < 0) {
			if (errno != EINTR) {
				g_warning("event thread: poll: %s", g_strerror(errno));
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
			g_critical("event thread: the cn_proc socket was closed under it; "
			           "no more process events");
			break;
		}
		/* POLLERR too: that is how a pending ENOBUFS shows up. */
		if (fds[1].revents != 0 || et->backlog_len > 0) {
			drained = event_thread_drain(et);
			if (drained == DRAIN_DRY && et->overflow_pending)
				event_thread_repair(et);
			else if (drained == DRAIN_DRY)
				event_thread_check_lost(et);
			backoff = drained == DRAIN_FAILED;
		}
		event_thread_maybe_tick(et);
	}
	/* Stopping: what was received but not applied is dropped. */
	while (et->backlog_len > 0) {
		tracker_event_abandon(&backlog_at(et, 0)->rd);
		backlog_drop_oldest(et);
	}
	return NULL;
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
	 * thread in recv() where it cannot see the stop fd. */
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

	/* The thread starts with every signal blocked: SIGINT/SIGTERM must
	 * reach a FUSE thread, whose interrupted read() ends the session
	 * loop; delivered here they would do nothing until the next request. */
	sigfillset(&all_signals);
	pthread_sigmask(SIG_SETMASK, &all_signals, &old_signals);
	err = pthread_create(&et->thread, NULL, event_thread_main, et);
	pthread_sigmask(SIG_SETMASK, &old_signals, NULL);
	if (err != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot start the event thread: %s", g_strerror(err));
		goto err_close_stop_fd;
	}
	return et;

err_close_stop_fd:
	close(et->stop_fd);
err_free:
	g_free(et);
	return NULL;
}

void event_thread_stop(struct event_thread *et)
{
	uint64_t one = 1;

	if (et == NULL)
		return;
	/* An eventfd write only fails when the counter would overflow, which
	 * one write cannot do; EINTR is the one case to retry. */
	while (write(et->stop_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
	pthread_join(et->thread, NULL);
	close(et->stop_fd);
	g_free(et);
}
