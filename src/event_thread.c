/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event thread: poll() on the cn_proc socket, a second one subscribed
 * to EXECs alone (Linux 6.6+; its reads wait in early_execs.c for the main
 * socket's copy), the stat reader's answers, the readers'
 * catch-up requests and a stop eventfd, every event begun as it arrives and
 * applied in order (see event_thread_on_event()), a /proc rescan when the
 * kernel says it dropped events, and tracker_tick() about every 100 ms. An
 * EXEC wakes it at once; the other events are taken in batches, at most
 * EVENT_DEFER_US late, unless a reader looking up self asks it to catch up
 * (event_thread_catch_up()). It is the only
 * thread that feeds the tracker once the daemon runs, and it runs at raised
 * priority: the cmdline of a short-lived process is readable only for a few
 * hundred microseconds after its EXEC event. So it never makes a read that
 * can block: the one that can, a FORK's read of its child's stat, is taken
 * from the child's EXEC or left to the stat reader (see
 * event_thread_oldest_ready()).
 *
 * An EXEC whose command line is longer than what is read on arrival has
 * the rest read by the stat reader too, and waits for it in the backlog:
 * a read of megabytes takes milliseconds.
 *
 * One thread, not a receiver handing every event to an applier: that
 * hand-off was tried and measured, and doubled the daemon's CPU time in a
 * fork storm (a wakeup per event on each side). The stat reader is woken
 * only for a FORK whose child has not exec'd within EVENT_FORK_GRACE_US.
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
#include "early_execs.h"
#include "harden.h"
#include "stat_reader.h"
#include "tracker.h"

/* How often tracker_tick() runs, so also the longest poll() sleep. */
#define EVENT_TICK_US (100 * 1000)
/* Steps (a datagram read, or an event finished) per wakeup before the stop
 * fd and the tick are looked at again: under a fork storm the socket may
 * never run dry. */
#define EVENT_BATCH 256
/* How long events are finished one after another, the socket not looked
 * at, once it was found empty: a handful of finishes. An EXEC that comes
 * meanwhile is read that much later (and one slow finish, an EXEC's late
 * reads, at most), racing its process's exit. */
#define EVENT_RECHECK_US 50
/* Events received but not yet applied: a FORK waiting for its child's stat
 * holds back those behind it for a few milliseconds, a few dozen events at
 * a fork storm's rate. Each holds at most one /proc directory fd, so this
 * also bounds the fds the thread keeps open. */
#define EVENT_BACKLOG 512
/* How long a FORK waits for its child's EXEC, whose read on arrival names
 * the child, before the stat reader is asked. In a fork storm only two
 * posix_spawn() children in three exec within 2 ms of their FORK, and all
 * but one in thirty within 5 ms (measured under the sanitizers); on a
 * loaded machine (load 13 on 2 CPUs) a third of them took longer than
 * 5 ms, and each ask costs two wakeups and a dozen system calls. At 15 ms
 * the asks fell from 1,011 and 668 to 330 and 105 per storm of 1,500
 * processes (CPU per exec -9%): events wait that much longer behind a
 * slow child's FORK, on a loaded machine only. */
#define EVENT_FORK_GRACE_US 15000
/* With an EXEC socket (see event_thread_take_execs()), how long the main
 * socket is not polled after it gave events: its FORKs, EXITs and the rest
 * wait that long at most, and are taken in one batch, often when the next
 * EXEC wakes the thread anyway. In a storm that is one wakeup per process
 * instead of one per event. */
#define EVENT_DEFER_US (10 * 1000)
/* How long a reader waits at most for event_thread_catch_up(). */
#define EVENT_CATCH_UP_MAX_US (100 * 1000)
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
	DRAIN_DRY,     /* the socket and the backlog are empty */
	DRAIN_WAITING, /* the socket is empty, the oldest event waits */
	DRAIN_MORE,    /* the batch is used up, more may be pending */
	DRAIN_FAILED,  /* an unexpected error: back off before the next poll */
};

/* An event received, its urgent reads done (tracker_event_begin()), waiting
 * for the rest and its turn to be applied. */
struct queued_event {
	struct cnproc_event ev;
	struct tracker_read rd;
	guint64 tag;         /* its number, to match the stat reader's answer */
	guint64 received_ns; /* CLOCK_MONOTONIC at receipt, when metrics record */
	gint64 due_us;       /* FORK: when the stat reader is asked for the child */
	gboolean asked;
	/* EXEC: the stat reader is reading the rest of a long command line
	 * into rd; nothing touches it until the answer. */
	gboolean cmdline_out;
};

struct event_thread {
	struct tracker *tracker;     /* not owned */
	struct lin_metrics *metrics; /* the tracker's; this thread writes its event fields */
	struct cnproc *cn;           /* not owned */
	struct cnproc *execs;        /* not owned; EXEC events alone, or NULL */
	struct stat_reader *reader;
	int stop_fd; /* eventfd, written once by event_thread_stop() */
	pthread_t thread;
	gint64 defer_us;        /* EVENT_DEFER_US unless a test stretched it */
	gint64 catch_up_max_us; /* EVENT_CATCH_UP_MAX_US, likewise */
	/* poll() returns, for event_thread_wakeups(); atomic. */
	guint64 wakeups;

	/* Owned by the thread itself from here on. */
	gboolean overflow_pending; /* the kernel dropped events, rescan due */
	guint overflow_drained;    /* datagrams read since the overflow report */
	guint64 receive_errors;
	gint64 next_tick_us; /* g_get_monotonic_time() of the next tracker_tick() */
	/* The last receive or poll found the socket empty, at dry_since_us. */
	gboolean socket_dry;
	gint64 dry_since_us;
	/* A receive from the main socket last found it empty at this time:
	 * every event stamped before was received by then. */
	gint64 main_empty_us;
	guint main_datagrams; /* received from the main socket since the wakeup */
	/* With an EXEC socket: the main socket is not polled until then. */
	gint64 main_deferred_until_us;
	/* EXECs begun from the EXEC socket, and those the main socket
	 * brought first. */
	struct early_execs early;

	/* Catch-up requests (event_thread_catch_up()): readers count them
	 * in catch_asked and write catch_fd; the thread answers all asked
	 * when it woke once every event received by then is applied, and
	 * counts them in catch_served. Both under catch_lock, which nobody
	 * holds while waiting for anything else. */
	int catch_fd;
	GMutex catch_lock;
	GCond catch_cond;
	guint64 catch_asked;
	guint64 catch_served;
	/* Owned by the thread: the requests it serves, and the tag of the
	 * first event received after it woke for them. */
	guint64 catch_serving;
	guint64 catch_until_tag;
	/* Ring of received events, oldest at backlog_head. */
	struct queued_event *backlog;
	guint backlog_head;
	guint backlog_len;
	guint64 next_tag;
	guint asks_out; /* asks to the stat reader not yet collected */
	/* The oldest cannot be finished yet (see event_thread_oldest_ready()):
	 * poll() until an answer, an event, or wait_until_us. */
	gboolean oldest_waits;
	gint64 wait_until_us;
};

static struct queued_event *backlog_at(struct event_thread *et, guint i)
{
	return &et->backlog[(et->backlog_head + i) % EVENT_BACKLOG];
}

static void backlog_drop_oldest(struct event_thread *et)
{
	et->backlog_head = (et->backlog_head + 1) % EVENT_BACKLOG;
	et->backlog_len--;
	if (et->metrics->enabled)
		lin_gauge_set(&et->metrics->backlog_depth, et->backlog_len);
}

/* Whether ev says that the child of the queued FORK q is gone: its EXIT,
 * or a FORK (of a process or a thread) handing its pid out again. */
static gboolean event_thread_ends_child(const struct queued_event *q, const struct cnproc_event *ev)
{
	if (q->ev.type != CNPROC_EV_FORK || q->ev.pid != q->ev.tgid || ev->pid != q->ev.pid)
		return FALSE;
	return ev->type == CNPROC_EV_FORK || (ev->type == CNPROC_EV_EXIT && ev->pid == ev->tgid);
}

/*
 * Whether the FORK at index can be finished without a read that may block.
 * Its finish reads the child's stat for its start time, and a child still
 * in execve() can take milliseconds to answer (5 ms was seen), during which
 * nothing else would be read. The child's first event queued after the
 * FORK settles it: an EXEC's read on arrival found the stat, which the
 * FORK takes, or found the child already reaped; after an EXIT the child
 * is past any execve(), and its stat answers at once.
 */
static gboolean event_thread_fork_ready(struct event_thread *et, guint index)
{
	struct queued_event *fork = backlog_at(et, index);

	/* An image read for the child (see tracker_event_give_child_image())
	 * is its own only if the child was still there: its EXIT, or a FORK
	 * handing its pid out again, stamped before the read says otherwise,
	 * and the main socket may still hold it (deferred, or not looked at
	 * since). Rare (the child ran another image than its parent), so the
	 * socket is read now rather than waited for. */
	if (fork->rd.child_read_ns != 0 &&
	    (guint64)et->main_empty_us * 1000 < fork->rd.child_read_ns) {
		et->socket_dry = FALSE;
		return FALSE;
	}
	if (!tracker_event_wants_child_stat(&fork->ev, &fork->rd))
		return TRUE;
	for (guint i = index + 1; i < et->backlog_len; i++) {
		struct queued_event *later = backlog_at(et, i);

		if (later->ev.tgid != fork->ev.pid)
			continue;
		if (later->ev.type == CNPROC_EV_EXEC)
			return tracker_event_lend_stat(&later->rd, &fork->rd);
		if (later->ev.type != CNPROC_EV_EXIT || later->ev.pid != later->ev.tgid)
			return FALSE;
		tracker_event_child_gone(&fork->rd, later->ev.timestamp_ns);
		return TRUE;
	}
	return FALSE;
}

/*
 * Whether the oldest event can be finished now. A FORK whose child's stat
 * is wanted (see event_thread_fork_ready()) waits EVENT_FORK_GRACE_US for
 * the child's EXEC or EXIT, then for the stat reader's answer. While it
 * waits, every FORK queued behind it past its grace is asked for too, and
 * wait_until_us is set to the next grace that ends.
 */
static gboolean event_thread_oldest_ready(struct event_thread *et)
{
	gint64 now;

	if (!backlog_at(et, 0)->cmdline_out && event_thread_fork_ready(et, 0))
		return TRUE;
	now = g_get_monotonic_time();
	et->wait_until_us = G_MAXINT64;
	for (guint i = 0; i < et->backlog_len; i++) {
		struct queued_event *q = backlog_at(et, i);

		if (q->asked || event_thread_fork_ready(et, i))
			continue;
		if (now >= q->due_us) {
			stat_reader_ask_child(et->reader, q->tag, q->ev.pid,
			                      tracker_event_parent_image(et->tracker, &q->ev),
			                      tracker_get_config(et->tracker)->max_cmdline);
			et->asks_out++;
			q->asked = TRUE;
			if (et->metrics->enabled)
				__atomic_fetch_add(&et->metrics->stat_reader_asks, 1,
				                   __ATOMIC_RELAXED);
		} else {
			et->wait_until_us = MIN(et->wait_until_us, q->due_us);
		}
	}
	return FALSE;
}

/* Hands the stat reader's answers to their events: a stat to its FORK (an
 * answer for a FORK already finished, lent meanwhile or flushed, is
 * dropped), a finished command line back to its EXEC. With no ask out,
 * there is nothing to collect: no syscall. */
static void event_thread_collect(struct event_thread *et)
{
	struct stat_reader_answer a;

	if (et->asks_out == 0)
		return;
	while (stat_reader_collect(et->reader, &a)) {
		et->asks_out--;
		for (guint i = 0; i < et->backlog_len; i++) {
			struct queued_event *q = backlog_at(et, i);

			if (q->tag != a.tag)
				continue;
			if (a.job == STAT_READER_CMDLINE)
				q->cmdline_out = FALSE;
			else if (tracker_event_wants_child_stat(&q->ev, &q->rd)) {
				tracker_event_give_child_image(&q->rd, a.err == 0 ? &a.stat : NULL,
				                               &a.image, a.read_ns);
				/* The child's end may be queued already. */
				for (guint j = i + 1; j < et->backlog_len; j++)
					if (event_thread_ends_child(q, &backlog_at(et, j)->ev))
						tracker_event_child_gone(
						    &q->rd, backlog_at(et, j)->ev.timestamp_ns);
			}
			break;
		}
		lin_proc_info_clear(&a.image);
	}
}

/* Waits for the stat reader to hand back the command line of the oldest
 * event: only when the oldest must be finished now. */
static void event_thread_wait_cmdline(struct event_thread *et)
{
	struct pollfd pfd = {.fd = stat_reader_fd(et->reader), .events = POLLIN};

	while (backlog_at(et, 0)->cmdline_out) {
		if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
			break;
		event_thread_collect(et);
	}
}

/* Finishes the oldest event, reading the child's stat of a FORK itself if
 * nobody did: only when waiting is not an option (a full backlog, a
 * repair). */
static void event_thread_finish_oldest(struct event_thread *et)
{
	struct queued_event *q = backlog_at(et, 0);

	event_thread_wait_cmdline(et);
	event_thread_fork_ready(et, 0);
	tracker_event_finish(et->tracker, &q->ev, &q->rd);
	/* Applied: a lookup from now on finds it. */
	if (et->metrics->enabled)
		lin_histogram_observe_since(&et->metrics->event_visible, q->received_ns);
	backlog_drop_oldest(et);
}

static void event_thread_flush(struct event_thread *et)
{
	while (et->backlog_len > 0)
		event_thread_finish_oldest(et);
}

/* An EXEC's read begun: how late after the kernel's timestamp, and how
 * long the reads took. */
static void event_thread_observe_exec(struct event_thread *et, const struct cnproc_event *ev,
                                      const struct tracker_read *rd, guint64 received_ns)
{
	lin_histogram_observe(&et->metrics->exec_delay,
	                      rd->read_ns > ev->timestamp_ns ? rd->read_ns - ev->timestamp_ns : 0);
	lin_histogram_observe_since(&et->metrics->exec_read, received_ns);
}

/* An EXEC from the EXEC socket: its reads begun at once, before it is met
 * on the main socket behind the events before it. */
static void event_thread_on_early(const struct cnproc_event *ev, void *data)
{
	struct event_thread *et = data;
	struct tracker_read *rd;
	guint64 received_ns = 0;

	/* Until the filter was set, it had the rest too. */
	if (ev->type != CNPROC_EV_EXEC)
		return;
	rd = early_execs_add(&et->early, ev);
	if (!rd)
		return;
	if (et->metrics->enabled)
		received_ns = lin_metrics_now_ns();
	tracker_event_begin(et->tracker, ev, rd);
	if (et->metrics->enabled)
		event_thread_observe_exec(et, ev, rd, received_ns);
}

/* Reads what the EXEC socket holds. Its errors need nothing: an EXEC lost
 * there comes on the main socket all the same, only read later. */
static void event_thread_take_execs(struct event_thread *et)
{
	for (guint n = 0; n < EVENT_BATCH; n++) {
		struct cnproc_batch batch;

		if (cnproc_receive_batch(et->execs, event_thread_on_early, et, &batch) < 0 ||
		    batch.dry)
			break;
	}
}

/* A FORK handed out ev->pid: a begun EXEC of that pid still queued may
 * have read the new holder (see tracker_event_superseded()). A FORK or an
 * EXIT ends a queued FORK's child, whose image, if read after that, was
 * another process's (see tracker_event_child_gone()). */
static void event_thread_pid_changed(struct event_thread *et, const struct cnproc_event *ev)
{
	for (guint i = 0; i < et->backlog_len; i++) {
		struct queued_event *q = backlog_at(et, i);

		if (ev->type == CNPROC_EV_FORK && q->ev.type == CNPROC_EV_EXEC &&
		    q->ev.tgid == ev->pid)
			tracker_event_superseded(&q->rd, ev);
		if (event_thread_ends_child(q, ev))
			tracker_event_child_gone(&q->rd, ev->timestamp_ns);
	}
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
	if (ev->type == CNPROC_EV_FORK || ev->type == CNPROC_EV_EXIT)
		event_thread_pid_changed(et, ev);
	q = backlog_at(et, et->backlog_len);
	q->ev = *ev;
	if (et->metrics->enabled) {
		/* The kernel stamps events with ktime_get_ns(), CLOCK_MONOTONIC. */
		q->received_ns = lin_metrics_now_ns();
		lin_histogram_observe(
		    &et->metrics->event_delay,
		    q->received_ns > ev->timestamp_ns ? q->received_ns - ev->timestamp_ns : 0);
	}
	/* An EXEC the EXEC socket brought was read then. */
	if (!early_execs_take(&et->early, ev, et->execs != NULL, &q->rd)) {
		tracker_event_begin(et->tracker, &q->ev, &q->rd);
		if (et->metrics->enabled && ev->type == CNPROC_EV_EXEC)
			event_thread_observe_exec(et, &q->ev, &q->rd, q->received_ns);
	}
	q->tag = et->next_tag++;
	q->asked = FALSE;
	q->cmdline_out = tracker_event_cmdline_pending(&q->rd);
	if (q->cmdline_out) {
		stat_reader_finish_cmdline(et->reader, q->tag, &q->rd.proc);
		et->asks_out++;
	}
	if (tracker_event_wants_child_stat(&q->ev, &q->rd))
		q->due_us = g_get_monotonic_time() + EVENT_FORK_GRACE_US;
	et->backlog_len++;
	if (et->metrics->enabled) {
		lin_gauge_set(&et->metrics->backlog_depth, et->backlog_len);
		lin_gauge_raise(&et->metrics->backlog_high_water, et->backlog_len);
	}
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

/* The kernel says it dropped events: a rescan is due (see
 * event_thread_drain()). */
static void event_thread_overrun(struct event_thread *et)
{
	if (!et->overflow_pending)
		g_debug("event thread: the kernel dropped events, rescan due");
	et->overflow_pending = TRUE;
	et->overflow_drained = 0;
}

static void event_thread_repair(struct event_thread *et)
{
	/* What was received is older than the drop: applied first. */
	event_thread_flush(et);
	et->overflow_pending = FALSE;
	et->overflow_drained = 0;
	tracker_overflow(et->tracker);
}

/* What one receive took (see cnproc_receive_batch()). */
static void event_thread_took(struct event_thread *et, const struct cnproc_batch *batch)
{
	for (guint i = 0; i < batch->malformed; i++)
		tracker_count_malformed(et->tracker);
	if (batch->overrun)
		event_thread_overrun(et);
	if (et->overflow_pending) {
		et->overflow_drained += batch->datagrams;
		if (et->overflow_drained >= EVENT_OVERFLOW_DRAIN_MAX)
			event_thread_repair(et);
	}
	et->main_datagrams += batch->datagrams;
	et->socket_dry = batch->dry;
	if (batch->dry) {
		et->dry_since_us = g_get_monotonic_time();
		et->main_empty_us = et->dry_since_us;
	}
}

/*
 * Takes up to EVENT_BATCH steps: receives what the socket holds, a batch
 * of datagrams per system call, while it has any, and finishes the oldest
 * received event when it has none and the event is ready (see
 * event_thread_oldest_ready()). A batch smaller than asked for says the
 * socket ran dry, so no call is spent to hear EAGAIN; the socket is looked
 * at again once EVENT_RECHECK_US have gone by finishing events, so a new
 * EXEC waits for a few finishes at most. Returns DRAIN_DRY only with both
 * the socket and the backlog empty, DRAIN_WAITING when the socket is empty
 * and the oldest event waits.
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
		struct cnproc_batch batch;
		int ret;

		if (et->backlog_len == EVENT_BACKLOG) {
			/* No room to wait in: the oldest is finished, if need
			 * be with its own read. */
			event_thread_collect(et);
			event_thread_finish_oldest(et);
			continue;
		}
		/* Only before a finish that reads /proc (an EXEC's): the
		 * others take microseconds, and an empty backlog returns
		 * to poll(), which looks anyway. Most rechecks found
		 * nothing: 1.4 receives per exec that heard EAGAIN. */
		if (et->socket_dry && et->backlog_len > 0 && backlog_at(et, 0)->rd.begun &&
		    g_get_monotonic_time() - et->dry_since_us >= EVENT_RECHECK_US)
			et->socket_dry = FALSE;
		if (et->socket_dry) {
			/* Nothing new: time for the slow half of the oldest. */
			if (et->backlog_len == 0)
				return DRAIN_DRY;
			event_thread_collect(et);
			if (!event_thread_oldest_ready(et)) {
				/* It may want the socket read first. */
				if (!et->socket_dry)
					continue;
				return DRAIN_WAITING;
			}
			event_thread_finish_oldest(et);
			continue;
		}
		ret = cnproc_receive_batch(et->cn, event_thread_on_event, et, &batch);
		if (ret == 0) {
			event_thread_took(et, &batch);
			if (batch.error == 0)
				continue;
			ret = batch.error;
		}
		switch (-ret) {
		case EAGAIN:
			et->socket_dry = TRUE;
			et->dry_since_us = g_get_monotonic_time();
			et->main_empty_us = et->dry_since_us;
			break;
		case EINTR:
			break;
		case ENOBUFS:
			event_thread_overrun(et);
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
	early_execs_expire(&et->early, FALSE);
	et->next_tick_us = now + EVENT_TICK_US;
}

/* Answers the readers' catch-up requests once every event received before
 * the thread woke for them is applied. */
static void event_thread_serve_catch_up(struct event_thread *et)
{
	if (et->catch_serving == 0)
		return;
	if (et->backlog_len > 0 && backlog_at(et, 0)->tag < et->catch_until_tag)
		return;
	g_mutex_lock(&et->catch_lock);
	et->catch_served = MAX(et->catch_served, et->catch_serving);
	g_cond_broadcast(&et->catch_cond);
	g_mutex_unlock(&et->catch_lock);
	et->catch_serving = 0;
}

gboolean event_thread_catch_up_wait(struct event_thread *et)
{
	gint64 deadline = g_get_monotonic_time() + et->catch_up_max_us;
	gboolean served;
	guint64 asked;

	g_mutex_lock(&et->catch_lock);
	asked = ++et->catch_asked;
	g_mutex_unlock(&et->catch_lock);
	eventfd_write(et->catch_fd, 1);
	g_mutex_lock(&et->catch_lock);
	while (et->catch_served < asked)
		if (!g_cond_wait_until(&et->catch_cond, &et->catch_lock, deadline))
			break;
	served = et->catch_served >= asked;
	g_mutex_unlock(&et->catch_lock);
	return served;
}

void event_thread_catch_up(void *data)
{
	event_thread_catch_up_wait(data);
}

guint64 event_thread_wakeups(const struct event_thread *et)
{
	return __atomic_load_n(&et->wakeups, __ATOMIC_RELAXED);
}

/* How long the next ppoll() may sleep: until the next tick, the end of
 * the grace the oldest event waits out, or the end of the main socket's
 * deferral; not at all when events are ready to be finished. */
static struct timespec event_thread_poll_timeout(const struct event_thread *et, gboolean waiting,
                                                 gboolean main_polled)
{
	gint64 now = g_get_monotonic_time();
	gint64 until = et->next_tick_us;
	struct timespec ts = {0, 0};

	if (et->backlog_len > 0 && !waiting)
		return ts;
	if (waiting)
		until = MIN(until, et->wait_until_us);
	if (!main_polled)
		until = MIN(until, et->main_deferred_until_us);
	if (until > now) {
		ts.tv_sec = (until - now) / G_USEC_PER_SEC;
		ts.tv_nsec = (until - now) % G_USEC_PER_SEC * 1000;
	}
	return ts;
}

static void *event_thread_main(void *data)
{
	struct event_thread *et = data;
	/* The stop fd first, so a back-off poll can watch it alone. */
	struct pollfd fds[5] = {
	    {.fd = et->stop_fd, .events = POLLIN},
	    {.fd = cnproc_fd(et->cn), .events = POLLIN},
	    {.fd = stat_reader_fd(et->reader), .events = POLLIN},
	    {.fd = et->execs ? cnproc_fd(et->execs) : -1, .events = POLLIN},
	    {.fd = et->catch_fd, .events = POLLIN},
	};
	gboolean backoff = FALSE;
	gboolean waiting = FALSE;

	/* Named, so "ps -L" tells which thread runs at real-time priority. */
	pthread_setname_np(pthread_self(), "lin-events");
	event_thread_raise_priority();
	/* Its priority is set: the one use of CAP_SYS_NICE. */
	harden_drop_nice();
	et->next_tick_us = g_get_monotonic_time() + EVENT_TICK_US;

	for (;;) {
		enum drain_result drained;
		struct timespec timeout = {0, EVENT_ERROR_BACKOFF_MS * 1000 * 1000};
		/* A negative fd is not polled: the main socket waits out its
		 * deferral, the EXEC socket wakes the thread meanwhile. */
		gboolean main_polled =
		    et->execs == NULL || g_get_monotonic_time() >= et->main_deferred_until_us;
		gboolean take_main, deferral_ended;
		gint64 now;
		int ready;

		fds[1].fd = main_polled ? cnproc_fd(et->cn) : -1;
		if (!backoff)
			timeout = event_thread_poll_timeout(et, waiting, main_polled);
		ready = ppoll(fds, backoff ? 1 : G_N_ELEMENTS(fds), &timeout, NULL);
		__atomic_fetch_add(&et->wakeups, 1, __ATOMIC_RELAXED);

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
		if (fds[3].revents & (POLLNVAL | POLLHUP)) {
			/* Never seen; the main socket alone still has it all. */
			g_warning("event thread: the EXEC socket failed; reading every "
			          "event from the main socket");
			et->execs = NULL;
			fds[3].fd = -1;
			fds[3].revents = 0;
		}
		/* An answer can come for a FORK finished meanwhile (its
		 * child's EXEC lent the stat): collected all the same, or
		 * the eventfd stays readable and every ppoll() returns at
		 * once, a busy loop at real-time priority. */
		if (fds[2].revents != 0)
			event_thread_collect(et);
		/* An EXEC: read at once; then the main socket, whose events
		 * come before it, is taken. */
		if (fds[3].revents != 0)
			event_thread_take_execs(et);
		/* A reader asks to catch up: everything the main socket holds
		 * is taken now. */
		if (fds[4].revents != 0) {
			eventfd_t ignored;

			eventfd_read(et->catch_fd, &ignored);
			g_mutex_lock(&et->catch_lock);
			et->catch_serving = et->catch_asked;
			g_mutex_unlock(&et->catch_lock);
		}
		now = g_get_monotonic_time();
		deferral_ended = !main_polled && now >= et->main_deferred_until_us;
		take_main = fds[1].revents != 0 || fds[3].revents != 0 || fds[4].revents != 0 ||
		            deferral_ended;
		/* poll() just looked (or the main socket waits its turn): with
		 * nothing to read, no receive is spent to hear EAGAIN. */
		et->socket_dry = !take_main;
		et->dry_since_us = now;
		et->main_datagrams = 0;
		/* POLLERR too: that is how a pending ENOBUFS shows up. */
		if (take_main || et->backlog_len > 0) {
			drained = event_thread_drain(et);
			waiting = drained == DRAIN_WAITING;
			if ((drained == DRAIN_DRY || waiting) && et->overflow_pending)
				event_thread_repair(et);
			else if (drained == DRAIN_DRY)
				event_thread_check_lost(et);
			backoff = drained == DRAIN_FAILED;
		}
		/* What the main socket held before the request is received. */
		if (fds[4].revents != 0)
			et->catch_until_tag = et->next_tag;
		event_thread_serve_catch_up(et);
		/* Events came with an EXEC, or when the deferral ended: the
		 * next ones wait to be taken together (in a storm slower
		 * than one process per deferral, the EXIT and the next FORK
		 * wake the thread once, not twice). Otherwise the main
		 * socket is polled again, so a lone FORK or EXIT is applied
		 * at once. */
		if (et->main_datagrams > 0 && (fds[3].revents != 0 || deferral_ended))
			et->main_deferred_until_us = now + et->defer_us;
		else if (take_main)
			et->main_deferred_until_us = 0;
		event_thread_maybe_tick(et);
	}
	/* Stopping: what was received but not applied is dropped, once the
	 * stat reader no longer reads into it (event_thread_stop()). */
	return NULL;
}

struct event_thread *event_thread_start_with(struct tracker *t, struct cnproc *cn,
                                             struct cnproc *execs,
                                             const struct event_thread_opts *opts, GError **error)
{
	struct event_thread *et;
	sigset_t all_signals, old_signals;
	int socket_flags;
	int err;

	et = g_new0(struct event_thread, 1);
	et->tracker = t;
	et->defer_us = opts && opts->defer_us > 0 ? opts->defer_us : EVENT_DEFER_US;
	et->catch_up_max_us =
	    opts && opts->catch_up_max_us > 0 ? opts->catch_up_max_us : EVENT_CATCH_UP_MAX_US;
#ifdef LINEAGEFS_DEBUG_HOOKS
	/* Test-only: the deferral stretched, so that an integration test
	 * looks up self while its own event surely waits on the main socket
	 * (test_threads.py). */
	if (!opts && g_getenv("LINEAGEFS_DEBUG_DEFER_US")) {
		gint64 defer_us = g_ascii_strtoll(g_getenv("LINEAGEFS_DEBUG_DEFER_US"), NULL, 10);

		if (defer_us > 0)
			et->defer_us = defer_us;
	}
#endif
	et->metrics = tracker_get_metrics(t);
	/* Before the thread starts: read by the metrics file only. */
	lin_gauge_set(&et->metrics->backlog_capacity, EVENT_BACKLOG);
	et->cn = cn;
	et->execs = execs;
	et->backlog = g_new0(struct queued_event, EVENT_BACKLOG);

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
	et->catch_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (et->catch_fd < 0) {
		err = errno;
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot create the event thread's catch-up eventfd: %s",
		            g_strerror(err));
		close(et->stop_fd);
		goto err_free;
	}
	g_mutex_init(&et->catch_lock);
	g_cond_init(&et->catch_cond);

	/* Both threads start with every signal blocked: SIGINT/SIGTERM must
	 * reach a FUSE thread, whose interrupted read() ends the session
	 * loop; delivered here they would do nothing until the next request. */
	harden_blockable_signals(&all_signals);
	pthread_sigmask(SIG_SETMASK, &all_signals, &old_signals);
	et->reader = stat_reader_start(tracker_get_config(t)->proc_root_fd, error);
	err = et->reader ? pthread_create(&et->thread, NULL, event_thread_main, et) : 0;
	pthread_sigmask(SIG_SETMASK, &old_signals, NULL);
	if (!et->reader)
		goto err_close_stop_fd;
	if (err != 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
		            "cannot start the event thread: %s", g_strerror(err));
		goto err_stop_reader;
	}
	return et;

err_stop_reader:
	stat_reader_stop(et->reader);
err_close_stop_fd:
	g_mutex_clear(&et->catch_lock);
	g_cond_clear(&et->catch_cond);
	close(et->catch_fd);
	close(et->stop_fd);
err_free:
	g_free(et->backlog);
	g_free(et);
	return NULL;
}

struct event_thread *event_thread_start(struct tracker *t, struct cnproc *cn, struct cnproc *execs,
                                        GError **error)
{
	return event_thread_start_with(t, cn, execs, NULL, error);
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
	stat_reader_stop(et->reader);
	early_execs_expire(&et->early, TRUE);
	while (et->backlog_len > 0) {
		tracker_event_abandon(&backlog_at(et, 0)->rd);
		backlog_drop_oldest(et);
	}
	g_mutex_clear(&et->catch_lock);
	g_cond_clear(&et->catch_cond);
	close(et->catch_fd);
	close(et->stop_fd);
	g_free(et->backlog);
	g_free(et);
}
