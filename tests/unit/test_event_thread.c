/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The event thread (src/event_thread.c) fed through two socketpairs in
 * place of the kernel's connector sockets, the main one and the one of
 * EXECs alone, against a fake /proc: after an EXEC wakeup took the main
 * socket, the FORKs and EXITs behind it wait there (the deferral) until
 * the deferral ends, the next EXEC wakes the thread, or a reader asks it
 * to catch up; and then they are applied in the kernel's order.
 *
 * Nothing here waits on time: the deferral is stretched to an hour where
 * a test shows that an event waits, and "waits" is checked after the
 * thread provably polled again (event_thread_wakeups()); every other wait
 * is a bounded poll for a condition.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "event_thread.h"
#include "fakeproc.h"
#include "tracker.h"

#define HZ          100
#define NS_PER_TICK (1000000000ull / HZ)
/* Far above anything the thread does for one event, loaded or not. */
#define WAIT_MAX_US (G_GINT64_CONSTANT(30) * G_USEC_PER_SEC)
/* The deferral of a test that shows an event waiting: longer than any run. */
#define DEFER_FOREVER_US (G_GINT64_CONSTANT(3600) * G_USEC_PER_SEC)

#define PARENT 100
#define CHILD  200
#define LATER  300

struct fixture {
	struct fakeproc *fp;
	struct tracker *t;
	int main_fds[2]; /* [0] the thread's end, [1] the "kernel's" */
	int exec_fds[2];
	struct cnproc *main_cn;
	struct cnproc *exec_cn;
	struct event_thread *et;
	guint32 seq; /* the connector's per-CPU numbering, CPU 0 */
};

static void start_thread(struct fixture *f, gint64 defer_us)
{
	struct event_thread_opts opts = {
	    .defer_us = defer_us,
	    .catch_up_max_us = WAIT_MAX_US,
	};
	GError *error = NULL;

	f->et = event_thread_start_with(f->t, f->main_cn, f->exec_cn, &opts, &error);
	g_assert_no_error(error);
	assert_non_null(f->et);
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	struct tracker_config cfg = {0};

	f->fp = fakeproc_new();
	fakeproc_add_simple(f->fp, 1, 0, 1, "systemd", "/sbin/init");
	fakeproc_add_simple(f->fp, PARENT, 1, 50, "bash", "-bash");
	cfg.proc_root_fd = fakeproc_root_fd(f->fp);
	cfg.hz = HZ;
	f->t = tracker_new(&cfg);
	assert_int_equal(tracker_bootstrap(f->t), 2);

	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, f->main_fds), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, f->exec_fds), 0);
	f->main_cn = cnproc_adopt_fd(f->main_fds[0]);
	f->exec_cn = cnproc_adopt_fd(f->exec_fds[0]);
	assert_non_null(f->main_cn);
	assert_non_null(f->exec_cn);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	event_thread_stop(f->et);
	cnproc_close(f->main_cn);
	cnproc_close(f->exec_cn);
	close(f->main_fds[1]);
	close(f->exec_fds[1]);
	tracker_free(f->t);
	fakeproc_free(f->fp);
	g_free(f);
	return 0;
}

/* A proc_event as the kernel stamps it: CPU 0, seq, a timestamp after
 * every start tick the fake processes have. */
static struct proc_event make_event(guint32 what, guint32 seq)
{
	struct proc_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.what = what;
	ev.cpu = 0;
	ev.timestamp_ns = (100000 + seq) * NS_PER_TICK;
	return ev;
}

/* Sends ev to fd framed as the connector does: nlmsghdr, cn_msg, event. */
static void send_event(int fd, const struct proc_event *ev, guint32 seq)
{
	guint8 buf[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(struct proc_event))];
	struct nlmsghdr nlh = {
	    .nlmsg_len = NLMSG_LENGTH(sizeof(struct cn_msg) + sizeof(*ev)),
	    .nlmsg_type = NLMSG_DONE,
	};
	struct cn_msg msg = {
	    .id = {.idx = CN_IDX_PROC, .val = CN_VAL_PROC},
	    .seq = seq,
	    .len = sizeof(*ev),
	};

	memset(buf, 0, sizeof(buf));
	memcpy(buf, &nlh, sizeof(nlh));
	memcpy(buf + NLMSG_HDRLEN, &msg, sizeof(msg));
	memcpy(buf + NLMSG_HDRLEN + sizeof(msg), ev, sizeof(*ev));
	assert_int_equal(send(fd, buf, nlh.nlmsg_len, 0), (ssize_t)nlh.nlmsg_len);
}

static struct proc_event fork_event(struct fixture *f, pid_t parent, pid_t child)
{
	struct proc_event ev = make_event(PROC_EVENT_FORK, ++f->seq);

	ev.event_data.fork.parent_pid = parent;
	ev.event_data.fork.parent_tgid = parent;
	ev.event_data.fork.child_pid = child;
	ev.event_data.fork.child_tgid = child;
	return ev;
}

static struct proc_event exec_event(struct fixture *f, pid_t pid)
{
	struct proc_event ev = make_event(PROC_EVENT_EXEC, ++f->seq);

	ev.event_data.exec.process_pid = pid;
	ev.event_data.exec.process_tgid = pid;
	return ev;
}

static void send_fork(struct fixture *f, pid_t parent, pid_t child)
{
	struct proc_event ev = fork_event(f, parent, child);

	send_event(f->main_fds[1], &ev, f->seq);
}

/* An EXEC, on both sockets as the kernel sends it (same numbering): the
 * main socket's copy first, so that while the main socket is deferred,
 * the EXEC socket's copy wakes a thread that finds the whole sequence. */
static void send_exec(struct fixture *f, pid_t pid)
{
	struct proc_event ev = exec_event(f, pid);

	send_event(f->main_fds[1], &ev, f->seq);
	send_event(f->exec_fds[1], &ev, f->seq);
}

static void send_exit(struct fixture *f, pid_t pid)
{
	struct proc_event ev = make_event(PROC_EVENT_EXIT, ++f->seq);

	ev.event_data.exit.process_pid = pid;
	ev.event_data.exit.process_tgid = pid;
	ev.event_data.exit.exit_code = 3 << 8;
	ev.event_data.exit.exit_signal = SIGCHLD;
	send_event(f->main_fds[1], &ev, f->seq);
}

enum state { ABSENT, RUNNING_EXECD, EXITED };

/* What the table says of pid: no record, running with its exec applied,
 * or exited. */
static enum state state_of(struct fixture *f, pid_t pid, guint64 start)
{
	enum state state = ABSENT;
	struct lin_process *p;

	tracker_read_lock(f->t);
	p = tracker_find(f->t, pid, start);
	if (p && !lin_process_running(p))
		state = EXITED;
	else if (p && p->exec_count == 1 && p->cmdline &&
	         memcmp(p->cmdline->data, "/bin/true", 10) == 0)
		state = RUNNING_EXECD;
	tracker_read_unlock(f->t);
	return state;
}

static void wait_state(struct fixture *f, pid_t pid, guint64 start, enum state want)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_MAX_US;

	while (state_of(f, pid, start) != want) {
		if (g_get_monotonic_time() > deadline)
			fail_msg("pid %d did not reach state %d", pid, want);
		g_usleep(1000);
	}
}

/* Waits until the thread returned from two more poll()s: the second began
 * after this call, so whatever was queued before it was seen by a poll. */
static void wait_polled_again(struct fixture *f)
{
	guint64 from = event_thread_wakeups(f->et);
	gint64 deadline = g_get_monotonic_time() + WAIT_MAX_US;

	/* Its longest sleep is a tick (100 ms). */
	while (event_thread_wakeups(f->et) < from + 2) {
		if (g_get_monotonic_time() > deadline)
			fail_msg("the event thread did not poll again");
		g_usleep(1000);
	}
}

/* Opens the FIFO path for writing once a reader has it open: a bounded
 * poll, so a reader that never comes fails the test (what says which step
 * waited) instead of hanging it. Blocking again for the write. */
static int open_fifo_writer(const char *path, const char *what)
{
	gint64 deadline = g_get_monotonic_time() + WAIT_MAX_US;
	int fd;

	while ((fd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC)) < 0) {
		assert_int_equal(errno, ENXIO);
		if (g_get_monotonic_time() > deadline)
			fail_msg("no reader opened %s: %s", path, what);
		g_usleep(200);
	}
	assert_int_equal(fcntl(fd, F_SETFL, 0), 0);
	return fd;
}

/*
 * Starts CHILD with a FORK and an EXEC that one wakeup takes together,
 * which defers the main socket. Made certain, not likely: CHILD's cmdline
 * is a FIFO, so the thread, woken by the EXEC socket, waits in its read
 * of the cmdline until the main socket holds the FORK and the EXEC; only
 * then does this end write the cmdline.
 */
static void start_child_deferring(struct fixture *f)
{
	g_autofree char *cmdline = NULL;
	struct proc_event fork_ev, exec_ev;
	int fd;

	fakeproc_add_simple(f->fp, CHILD, PARENT, 5000, "true", "/bin/true");
	cmdline = g_strdup_printf("%s/%d/cmdline", fakeproc_path(f->fp), CHILD);
	assert_int_equal(unlink(cmdline), 0);
	assert_int_equal(mkfifo(cmdline, 0600), 0);

	fork_ev = fork_event(f, PARENT, CHILD);
	exec_ev = exec_event(f, CHILD);
	/* The EXEC socket's copy first: whenever the main socket is readable,
	 * so is the EXEC socket, and the thread reads that first. */
	send_event(f->exec_fds[1], &exec_ev, f->seq);
	send_event(f->main_fds[1], &fork_ev, f->seq - 1);
	send_event(f->main_fds[1], &exec_ev, f->seq);

	/* Opens once the thread opened the read end: it is in its EXEC read. */
	fd = open_fifo_writer(cmdline, "the EXEC read of the deferring child");
	assert_int_equal(write(fd, "/bin/true", sizeof("/bin/true")), sizeof("/bin/true"));
	close(fd);
	wait_state(f, CHILD, 5000, RUNNING_EXECD);
}

/* CHILD started with the deferral stretched, and its EXIT sent: it waits
 * on the main socket, however often the thread polls. */
static void defer_an_exit(struct fixture *f)
{
	start_thread(f, DEFER_FOREVER_US);
	start_child_deferring(f);

	send_exit(f, CHILD);
	wait_polled_again(f);
	assert_int_equal(state_of(f, CHILD, 5000), RUNNING_EXECD);
}

/* An EXIT behind a deferring EXEC waits on the main socket, however often
 * the thread wakes meanwhile, and the next EXEC's wakeup applies it before
 * that EXEC: in the kernel's order. */
static void test_exit_waits_for_next_exec(void **state)
{
	struct fixture *f = *state;

	defer_an_exit(f);

	fakeproc_remove(f->fp, CHILD);
	fakeproc_add_simple(f->fp, LATER, PARENT, 5001, "true", "/bin/true");
	send_fork(f, PARENT, LATER);
	send_exec(f, LATER);
	wait_state(f, LATER, 5001, RUNNING_EXECD);
	/* Applied in order: the EXIT came before LATER's FORK. */
	assert_int_equal(state_of(f, CHILD, 5000), EXITED);
}

/* A reader's catch-up (a lookup of self by a thread the table does not
 * know) has the thread take the deferred events: when it returns, they
 * are applied. */
static void test_catch_up_applies_deferred(void **state)
{
	struct fixture *f = *state;

	defer_an_exit(f);

	assert_true(event_thread_catch_up_wait(f->et));
	assert_int_equal(state_of(f, CHILD, 5000), EXITED);
}

/* With the daemon's deferral (10 ms), a deferred EXIT is applied with no
 * other event to wake the thread: the deferral ends by itself. */
static void test_deferral_ends(void **state)
{
	struct fixture *f = *state;

	start_thread(f, 0);
	start_child_deferring(f);

	send_exit(f, CHILD);
	wait_state(f, CHILD, 5000, EXITED);
}

/* An event of this test's own clock: seconds after boot, well before
 * now on any machine that runs it, so before every read the thread makes. */
static void send_at(struct fixture *f, int fd, struct proc_event ev, guint64 ms)
{
	ev.timestamp_ns = ms * 1000000ull;
	send_event(fd, &ev, f->seq);
}

/*
 * A pid handed out again at once (clone3's set_tid): the first holder's
 * EXEC read opens /proc/<pid> only after the second holder's FORK, in the
 * same clock tick as its own start, so the start time cannot tell whose
 * command line it read. The read is dropped, and the first holder's exec
 * counts as missed, never as the second's. Made certain: the read waits
 * on a FIFO until every event is queued.
 */
static void test_exec_read_after_pid_reuse(void **state)
{
	struct fixture *f = *state;
	g_autofree char *cmdline = NULL;
	struct proc_event exec_ev = exec_event(f, CHILD);
	struct proc_event exit_ev = make_event(PROC_EVENT_EXIT, 0);
	struct lin_process *first, *second;
	int fd;

	start_thread(f, 0);
	fakeproc_add_simple(f->fp, CHILD, PARENT, 150, "true", "/bin/true");
	cmdline = g_strdup_printf("%s/%d/cmdline", fakeproc_path(f->fp), CHILD);
	assert_int_equal(unlink(cmdline), 0);
	assert_int_equal(mkfifo(cmdline, 0600), 0);

	f->seq = 1;
	send_at(f, f->exec_fds[1], exec_ev, 2001);
	f->seq = 0;
	send_at(f, f->main_fds[1], fork_event(f, PARENT, CHILD), 2000);
	send_at(f, f->main_fds[1], exec_ev, 2001);
	f->seq++;
	exit_ev.event_data.exit.process_pid = CHILD;
	exit_ev.event_data.exit.process_tgid = CHILD;
	send_at(f, f->main_fds[1], exit_ev, 2002);
	send_at(f, f->main_fds[1], fork_event(f, PARENT, CHILD), 2003);

	/* Opens once the thread is in the first EXEC's read. The second
	 * holder's command line, as /proc would show it by then. */
	fd = open_fifo_writer(cmdline, "the first EXEC's read");
	assert_int_equal(write(fd, "/bin/true", sizeof("/bin/true")), sizeof("/bin/true"));
	close(fd);
	wait_state(f, CHILD, 200, EXITED);

	tracker_read_lock(f->t);
	first = tracker_find(f->t, CHILD, 200);
	second = tracker_find(f->t, CHILD, 150);
	assert_non_null(first);
	assert_true(first->flags & LIN_PROC_CMDLINE_MISSED);
	assert_true(first->flags & LIN_PROC_START_ESTIMATED);
	assert_null(first->cmdline);
	assert_int_equal(first->exec_count, 1);
	/* The second holder: its FORK alone, nothing of the first's exec. */
	assert_true(second == NULL || second->exec_count == 0);
	tracker_read_unlock(f->t);
}

/*
 * A child that exits at once, its pid handed out again within the same
 * clock tick (clone3's set_tid) to a process running another image: the
 * FORK's finish reads the stat at that pid only once the child's EXIT is
 * queued, and finds the later holder, whose start time is the child's and
 * whose stack is not the parent's. That is not the child's image (an
 * exited process has no memory map): the child keeps its parent's, as a
 * fork does, never the later holder's command line.
 */
static void test_fork_read_after_child_exit(void **state)
{
	struct fixture *f = *state;
	struct fakeproc_proc later = {
	    .pid = CHILD,
	    .ppid = PARENT,
	    .start_ticks = 5000,
	    .comm = "true",
	    .cmdline = "/bin/true",
	    .cmdline_len = sizeof("/bin/true"),
	    .exe = "/bin/true",
	    .start_stack = FAKEPROC_START_STACK + 4096,
	};
	struct proc_event fork_ev, exit_ev;
	struct lin_process *child;

	fakeproc_add(f->fp, &later);
	fork_ev = fork_event(f, PARENT, CHILD);
	exit_ev = make_event(PROC_EVENT_EXIT, ++f->seq);
	exit_ev.event_data.exit.process_pid = CHILD;
	exit_ev.event_data.exit.process_tgid = CHILD;
	/* Both queued before the thread runs: the FORK's finish finds the
	 * EXIT behind it, and reads the stat itself. */
	send_event(f->main_fds[1], &fork_ev, f->seq - 1);
	send_event(f->main_fds[1], &exit_ev, f->seq);
	start_thread(f, 0);
	wait_state(f, CHILD, 5000, EXITED);

	tracker_read_lock(f->t);
	child = tracker_find(f->t, CHILD, 5000);
	assert_non_null(child);
	assert_non_null(child->cmdline);
	assert_memory_equal(child->cmdline->data, "-bash", sizeof("-bash"));
	assert_null(lin_process_guess(child));
	tracker_read_unlock(f->t);
}

/*
 * The same, when the child's stat is read by the stat reader after the
 * FORK's grace, while its EXIT still waits in the deferred main socket:
 * the child had exited before the read, and the image found at its pid,
 * not its parent's, is a later holder's. The FORK is finished only once
 * the socket was read after that read, and the EXIT, stamped before it,
 * drops the image. Made certain: the child's stat is a FIFO, so the
 * stat reader waits in its reads until the EXIT is sent.
 */
static void test_fork_read_before_exit_received(void **state)
{
	struct fixture *f = *state;
	struct fakeproc_proc later = {
	    .pid = LATER + 1,
	    .ppid = PARENT,
	    .start_ticks = 6000,
	    .comm = "true",
	    .cmdline = "/bin/true",
	    .cmdline_len = sizeof("/bin/true"),
	    .exe = "/bin/true",
	    .start_stack = FAKEPROC_START_STACK + 4096,
	};
	g_autofree char *stat_path = NULL;
	g_autofree char *stat_text = NULL;
	gsize stat_len;
	struct proc_event fork_ev, exec_ev, exit_ev;
	struct lin_process *child;
	gint64 deadline;
	gboolean applied = FALSE;
	int fd;

	start_thread(f, DEFER_FOREVER_US);
	start_child_deferring(f);

	fakeproc_add(f->fp, &later);
	stat_path = g_strdup_printf("%s/%d/stat", fakeproc_path(f->fp), LATER + 1);
	assert_true(g_file_get_contents(stat_path, &stat_text, &stat_len, NULL));
	assert_int_equal(unlink(stat_path), 0);
	assert_int_equal(mkfifo(stat_path, 0600), 0);
	fakeproc_add_simple(f->fp, LATER, PARENT, 5001, "true", "/bin/true");

	/* The FORK comes with an EXEC's wakeup, which defers the main
	 * socket again: the EXIT sent later stays in it. */
	fork_ev = fork_event(f, PARENT, LATER + 1);
	exec_ev = exec_event(f, LATER);
	send_event(f->main_fds[1], &fork_ev, f->seq - 1);
	send_event(f->main_fds[1], &exec_ev, f->seq);
	send_event(f->exec_fds[1], &exec_ev, f->seq);

	/* Opens once the stat reader is in its read of the child's stat. A
	 * new FIFO takes the path at once, so that the next read, which may
	 * open the path before this one has closed its end, waits for a
	 * writer of its own. */
	fd = open_fifo_writer(stat_path, "the stat reader's read of the child's stat");
	assert_int_equal(unlink(stat_path), 0);
	assert_int_equal(mkfifo(stat_path, 0600), 0);
	assert_int_equal(write(fd, stat_text, stat_len), (ssize_t)stat_len);
	close(fd);
	/* Its stack is not the parent's: the reader reads the stat again,
	 * with the image. */
	fd = open_fifo_writer(stat_path, "the stat reader's second read, with the image");
	/* The EXIT, stamped before that read and sent while it waits: once
	 * the event thread has it queued, it may read the child's stat
	 * itself, which finds a plain file, not the FIFO the stat reader
	 * holds open. */
	assert_int_equal(unlink(stat_path), 0);
	assert_true(g_file_set_contents(stat_path, stat_text, (gssize)stat_len, NULL));
	exit_ev = make_event(PROC_EVENT_EXIT, ++f->seq);
	exit_ev.event_data.exit.process_pid = LATER + 1;
	exit_ev.event_data.exit.process_tgid = LATER + 1;
	send_event(f->main_fds[1], &exit_ev, f->seq);
	assert_int_equal(write(fd, stat_text, stat_len), (ssize_t)stat_len);
	close(fd);

	deadline = g_get_monotonic_time() + WAIT_MAX_US;
	while (!applied) {
		if (g_get_monotonic_time() > deadline)
			fail_msg("the FORK was not applied");
		g_usleep(1000);
		tracker_read_lock(f->t);
		applied = tracker_find(f->t, LATER + 1, 6000) != NULL;
		tracker_read_unlock(f->t);
	}
	tracker_read_lock(f->t);
	child = tracker_find(f->t, LATER + 1, 6000);
	assert_non_null(child->cmdline);
	assert_memory_equal(child->cmdline->data, "-bash", sizeof("-bash"));
	assert_null(lin_process_guess(child));
	tracker_read_unlock(f->t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_exit_waits_for_next_exec, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_catch_up_applies_deferred, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_deferral_ends, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_read_after_pid_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_read_after_child_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_read_before_exit_received, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
