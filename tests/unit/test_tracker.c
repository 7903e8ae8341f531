/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for the process table: synthetic cn_proc event sequences
 * against a fake /proc tree, one test per kernel fact the tracker must
 * handle (threads, leader exit, non-leader exec, reparenting, out-of-order
 * delivery, missed exits, pid reuse), plus retention and rescan repair.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakeproc.h"
#include "metrics.h"
#include "tracker.h"

#define HZ          100
#define NS_PER_TICK (1000000000ull / HZ)

struct fixture {
	struct fakeproc *fp;
	struct tracker *t;
	GArray *changes; /* struct lin_change */
	guint64 clock;   /* fake monotonic clock */
};

static struct fixture *current;

static guint64 fake_monotonic(void)
{
	return current->clock;
}

static guint64 fake_realtime(void)
{
	return 1700000000ull * 1000000000ull + current->clock;
}

static void record_change(const struct lin_change *change, void *data)
{
	struct fixture *f = data;

	g_array_append_val(f->changes, *change);
}

/* Adds a fake /proc entry with sensible defaults. */
static void add_proc(struct fixture *f, pid_t pid, pid_t ppid, guint64 start, const char *comm,
                     const char *argv0)
{
	fakeproc_add_simple(f->fp, pid, ppid, start, comm, argv0);
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	struct tracker_config cfg = {0};

	current = f;
	/* Later than every start tick the tests give: a stat that started
	 * after its event belongs to a later holder of the pid. */
	f->clock = 100000 * NS_PER_TICK;
	f->fp = fakeproc_new();
	f->changes = g_array_new(FALSE, FALSE, sizeof(struct lin_change));
	cfg.proc_root_fd = fakeproc_root_fd(f->fp);
	cfg.max_exited = 0;
	cfg.hz = HZ;
	cfg.now_monotonic_ns = fake_monotonic;
	cfg.now_realtime_ns = fake_realtime;
	f->t = tracker_new(&cfg);
	tracker_set_change_fn(f->t, record_change, f);

	/* init, kthreadd, a kernel worker and a shell */
	add_proc(f, 1, 0, 1, "systemd", "/sbin/init");
	add_proc(f, 100, 1, 50, "bash", "-bash");
	{
		struct fakeproc_proc kthreadd = {.pid = 2,
		                                 .ppid = 0,
		                                 .start_ticks = 1,
		                                 .comm = "kthreadd",
		                                 .state = 'S',
		                                 .flags = LIN_PF_KTHREAD,
		                                 .threads = 1};
		struct fakeproc_proc worker = kthreadd;

		fakeproc_add(f->fp, &kthreadd);
		worker.pid = 3;
		worker.ppid = 2;
		worker.comm = "kworker/0:0-events";
		fakeproc_add(f->fp, &worker);
	}
	assert_int_equal(tracker_bootstrap(f->t), 4);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	tracker_free(f->t);
	fakeproc_free(f->fp);
	g_array_unref(f->changes);
	g_free(f);
	current = NULL;
	return 0;
}

/* Timestamp for the next event instead of "now": out-of-order delivery
 * hands the tracker an event stamped before the ones it already saw. */
static guint64 next_timestamp;

static void feed(struct fixture *f, struct cnproc_event ev)
{
	f->clock += NS_PER_TICK;
	ev.timestamp_ns = next_timestamp ? next_timestamp : f->clock;
	next_timestamp = 0;
	tracker_handle_event(f->t, &ev);
}

static void ev_fork(struct fixture *f, pid_t parent, pid_t child_pid, pid_t child_tgid)
{
	struct cnproc_event ev = {.type = CNPROC_EV_FORK, .pid = child_pid, .tgid = child_tgid};

	ev.u.fork.parent_pid = parent;
	ev.u.fork.parent_tgid = parent;
	feed(f, ev);
}

static void ev_exec(struct fixture *f, pid_t pid)
{
	feed(f, (struct cnproc_event){.type = CNPROC_EV_EXEC, .pid = pid, .tgid = pid});
}

static void ev_exit(struct fixture *f, pid_t pid, pid_t tgid, guint32 code)
{
	struct cnproc_event ev = {.type = CNPROC_EV_EXIT, .pid = pid, .tgid = tgid};

	ev.u.exit.code = code;
	ev.u.exit.signal = pid == tgid ? SIGCHLD : (guint32)-1;
	feed(f, ev);
}

static struct lin_process *find(struct fixture *f, pid_t pid, guint64 start)
{
	struct lin_process *p;

	tracker_read_lock(f->t);
	p = tracker_find(f->t, pid, start);
	tracker_read_unlock(f->t);
	return p;
}

static guint count_pid(struct fixture *f, pid_t pid)
{
	guint n = 0;

	for (struct lin_process *p = tracker_find_pid(f->t, pid); p; p = p->older_same_pid)
		n++;
	return n;
}

static const char *str(const struct lin_str *s)
{
	return s ? s->data : "";
}

static void test_bootstrap(void **state)
{
	struct fixture *f = *state;
	struct lin_process *init = find(f, 1, 1), *bash = find(f, 100, 50);
	struct lin_process *kthreadd = find(f, 2, 1), *worker = find(f, 3, 1);

	assert_non_null(init);
	assert_non_null(bash);
	assert_ptr_equal(bash->creator, init);
	assert_int_equal(bash->creator_pid, 1);
	assert_null(init->creator);
	assert_string_equal(str(bash->comm), "bash");
	assert_string_equal(str(bash->exe), "/usr/bin/bash");
	assert_int_equal(bash->cmdline->len, strlen("-bash") + 1 + strlen("--flag") + 1);
	assert_memory_equal(bash->cmdline->data, "-bash\0--flag\0", bash->cmdline->len);
	assert_int_equal(bash->euid, 1000);
	assert_true(worker->flags & LIN_PROC_KTHREAD);
	assert_ptr_equal(worker->creator, kthreadd);
	assert_null(worker->exe);
	assert_null(worker->cmdline);
	assert_false(worker->flags & LIN_PROC_CMDLINE_MISSED);
	assert_string_equal(str(worker->comm), "kworker/0:0-events");
	assert_true(lin_process_running(bash));
}

static void test_fork_exec_exit(void **state)
{
	struct fixture *f = *state;
	struct lin_process *bash = find(f, 100, 50), *child;

	add_proc(f, 200, 100, 1010, "bash", "-bash");
	ev_fork(f, 100, 200, 200);
	child = find(f, 200, 1010);
	assert_non_null(child);
	assert_ptr_equal(child->creator, bash);
	assert_ptr_equal(bash->first_child, child);
	/* Before exec a child runs its creator's program. */
	assert_ptr_equal(child->cmdline, bash->cmdline);
	assert_true(child->flags & LIN_PROC_FORK_SEEN);

	add_proc(f, 200, 100, 1010, "sleep", "sleep");
	ev_exec(f, 200);
	assert_ptr_equal(find(f, 200, 1010), child);
	assert_string_equal(str(child->comm), "sleep");
	assert_string_equal(str(child->exe), "/usr/bin/sleep");
	assert_memory_equal(child->cmdline->data, "sleep\0--flag\0", child->cmdline->len);
	assert_int_equal(child->exec_count, 1);

	fakeproc_remove(f->fp, 200);
	ev_exit(f, 200, 200, 3 << 8);
	assert_int_equal(child->exit_kind, LIN_EXIT_CODE);
	assert_int_equal(WEXITSTATUS(child->exit_status), 3);
	assert_true(child->exit_ns > 0);
	assert_ptr_equal(child->creator, bash);
	assert_int_equal(count_pid(f, 200), 1);
}

/* What vanishes at exit in the fake /proc: the cmdline empties, exe goes;
 * stat and status stay until the process is reaped. */
static void vanish_memory(struct fixture *f, pid_t pid)
{
	g_autofree char *cmdline = g_strdup_printf("%s/%d/cmdline", fakeproc_path(f->fp), pid);
	g_autofree char *exe = g_strdup_printf("%s/%d/exe", fakeproc_path(f->fp), pid);

	assert_int_equal(truncate(cmdline, 0), 0);
	assert_int_equal(unlink(exe), 0);
}

/* Four events queued at once, as the event thread holds them: both EXECs'
 * cmdlines are read on arrival, before any event is applied, so both are
 * kept although the processes exit before their turn. Fed one by one,
 * the second EXEC is read too late. */
static void test_exec_read_on_arrival(void **state)
{
	struct fixture *f = *state;
	struct cnproc_event evs[4] = {
	    {.type = CNPROC_EV_FORK, .pid = 210, .tgid = 210},
	    {.type = CNPROC_EV_FORK, .pid = 211, .tgid = 211},
	    {.type = CNPROC_EV_EXEC, .pid = 210, .tgid = 210},
	    {.type = CNPROC_EV_EXEC, .pid = 211, .tgid = 211},
	};
	struct tracker_read rd[4];
	struct tracker_stats stats;
	struct lin_process *a;

	add_proc(f, 210, 100, 1100, "true", "/bin/true");
	add_proc(f, 211, 100, 1101, "true", "/bin/true");
	for (guint i = 0; i < 4; i++) {
		if (evs[i].type == CNPROC_EV_FORK)
			evs[i].u.fork.parent_pid = evs[i].u.fork.parent_tgid = 100;
		f->clock += NS_PER_TICK;
		evs[i].timestamp_ns = f->clock;
		tracker_event_begin(f->t, &evs[i], &rd[i]);
	}
	vanish_memory(f, 210);
	vanish_memory(f, 211);
	for (guint i = 0; i < 4; i++)
		tracker_event_finish(f->t, &evs[i], &rd[i]);
	for (pid_t pid = 210; pid <= 211; pid++) {
		struct lin_process *p = find(f, pid, 1100 + (guint64)(pid - 210));

		assert_non_null(p);
		assert_false(p->flags & LIN_PROC_CMDLINE_MISSED);
		assert_string_equal(str(p->exe), "/usr/bin/true");
		assert_memory_equal(p->cmdline->data, "/bin/true\0--flag\0", p->cmdline->len);
		assert_int_equal(p->exec_count, 1);
	}

	/* The same, one event at a time: the cmdline is gone by the EXEC. */
	add_proc(f, 212, 100, 1102, "true", "/bin/true");
	ev_fork(f, 100, 212, 212);
	vanish_memory(f, 212);
	ev_exec(f, 212);
	a = find(f, 212, 1102);
	assert_true(a->flags & LIN_PROC_CMDLINE_MISSED);
	assert_null(a->cmdline);
	/* Missed because the process was exiting: no read error. */
	tracker_get_stats(f->t, &stats);
	assert_int_equal(stats.exec_read_errors, 0);

	/* A cmdline that cannot be read while the process is there (here a
	 * directory: EISDIR) is missed too, and counted as a read error. */
	add_proc(f, 215, 100, 1105, "true", "/bin/true");
	ev_fork(f, 100, 215, 215);
	{
		g_autofree char *path = g_strdup_printf("%s/215/cmdline", fakeproc_path(f->fp));

		assert_int_equal(unlink(path), 0);
		assert_int_equal(mkdir(path, 0755), 0);
	}
	ev_exec(f, 215);
	a = find(f, 215, 1105);
	assert_true(a->flags & LIN_PROC_CMDLINE_MISSED);
	tracker_get_stats(f->t, &stats);
	assert_int_equal(stats.exec_read_errors, 1);

	/* Reaped before its FORK is finished: the EXEC behind it lends the
	 * stat it read on arrival, so the start time is exact, not estimated
	 * from the event's timestamp, and the cmdline is kept. */
	add_proc(f, 214, 100, 1104, "true", "/bin/true");
	evs[0] = (struct cnproc_event){.type = CNPROC_EV_FORK, .pid = 214, .tgid = 214};
	evs[0].u.fork.parent_pid = evs[0].u.fork.parent_tgid = 100;
	evs[1] = (struct cnproc_event){.type = CNPROC_EV_EXEC, .pid = 214, .tgid = 214};
	for (guint i = 0; i < 2; i++) {
		f->clock += NS_PER_TICK * 7;
		evs[i].timestamp_ns = f->clock;
		tracker_event_begin(f->t, &evs[i], &rd[i]);
	}
	fakeproc_remove(f->fp, 214);
	assert_true(tracker_event_lend_stat(&rd[1], &rd[0]));
	assert_false(tracker_event_lend_stat(&rd[0], &rd[1]));
	tracker_event_finish(f->t, &evs[0], &rd[0]);
	tracker_event_finish(f->t, &evs[1], &rd[1]);
	a = find(f, 214, 1104);
	assert_non_null(a);
	assert_false(a->flags & LIN_PROC_START_ESTIMATED);
	assert_false(a->flags & LIN_PROC_CMDLINE_MISSED);
	assert_memory_equal(a->cmdline->data, "/bin/true\0--flag\0", a->cmdline->len);

	/* A begun event can be abandoned (the daemon stopping). */
	add_proc(f, 213, 100, 1103, "true", "/bin/true");
	evs[0] = (struct cnproc_event){.type = CNPROC_EV_EXEC, .pid = 213, .tgid = 213};
	tracker_event_begin(f->t, &evs[0], &rd[0]);
	assert_true(rd[0].begun);
	assert_non_null(rd[0].proc.info.cmdline);
	tracker_event_abandon(&rd[0]);
	assert_false(rd[0].begun);
	tracker_event_abandon(&rd[0]);
}

/* An EXEC read late is read urgently (its command line first, from the
 * file); one read soon may read stat first. */
static void test_exec_read_late_is_urgent(void **state)
{
	struct fixture *f = *state;
	struct cnproc_event ev = {.type = CNPROC_EV_EXEC, .pid = 216, .tgid = 216};
	struct tracker_read rd;
	guint64 now;

	add_proc(f, 216, 100, 1106, "true", "/bin/true");
	/* Stamped a little ahead: a slow test machine gets to the read
	 * within TRACKER_EXEC_LATE_NS of it all the same. */
	now = lin_metrics_now_ns();
	ev.timestamp_ns = now + TRACKER_EXEC_LATE_NS;
	tracker_event_begin(f->t, &ev, &rd);
	assert_true(rd.begun);
	assert_false(rd.proc.what & PROC_READ_URGENT);
	tracker_event_abandon(&rd);

	ev.timestamp_ns = now > TRACKER_EXEC_LATE_NS * 10 ? now - TRACKER_EXEC_LATE_NS * 10 : 0;
	tracker_event_begin(f->t, &ev, &rd);
	assert_true(rd.proc.what & PROC_READ_URGENT);
	assert_non_null(rd.proc.info.cmdline);
	tracker_event_abandon(&rd);
}

/* The event thread leaves a FORK's read of its child to the stat reader,
 * which hands the answer over: the start time it found names the child,
 * and an answer that the child was gone is final, even if the pid has a
 * new holder by the FORK's turn. */
static void test_fork_child_stat_given(void **state)
{
	struct fixture *f = *state;
	struct cnproc_event fork = {.type = CNPROC_EV_FORK, .pid = 220, .tgid = 220};
	struct cnproc_event thread = {.type = CNPROC_EV_FORK, .pid = 221, .tgid = 100};
	struct cnproc_event exec = {.type = CNPROC_EV_EXEC, .pid = 220, .tgid = 220};
	struct lin_stat given = {0};
	struct tracker_read rd, trd, erd;
	struct lin_process *p;

	fork.u.fork.parent_pid = fork.u.fork.parent_tgid = 100;
	thread.u.fork.parent_pid = thread.u.fork.parent_tgid = 100;
	tracker_event_begin(f->t, &thread, &trd);
	assert_false(tracker_event_wants_child_stat(&thread, &trd));
	tracker_event_finish(f->t, &thread, &trd);

	/* Given: the stat says start 1200; /proc no longer has the child. */
	f->clock += NS_PER_TICK;
	fork.timestamp_ns = f->clock;
	tracker_event_begin(f->t, &fork, &rd);
	assert_true(tracker_event_wants_child_stat(&fork, &rd));
	tracker_event_begin(f->t, &exec, &erd);
	assert_false(tracker_event_wants_child_stat(&exec, &erd));
	tracker_event_abandon(&erd);
	given.pid = 220;
	given.ppid = 100;
	given.start_ticks = 1200;
	g_strlcpy(given.comm, "bash", sizeof(given.comm));
	tracker_event_give_child_stat(&rd, &given);
	assert_false(tracker_event_wants_child_stat(&fork, &rd));
	tracker_event_finish(f->t, &fork, &rd);
	p = find(f, 220, 1200);
	assert_non_null(p);
	assert_false(p->flags & LIN_PROC_START_ESTIMATED);
	assert_ptr_equal(p->creator, find(f, 100, 50));

	/* Gone: the FORK's finish does not read /proc, where another process
	 * now holds pid 222, and estimates the start from the event. */
	add_proc(f, 222, 1, 9999, "other", "other");
	fork.pid = fork.tgid = 222;
	f->clock += NS_PER_TICK;
	fork.timestamp_ns = f->clock;
	tracker_event_begin(f->t, &fork, &rd);
	tracker_event_give_child_stat(&rd, NULL);
	assert_false(tracker_event_wants_child_stat(&fork, &rd));
	tracker_event_finish(f->t, &fork, &rd);
	assert_null(find(f, 222, 9999));
	p = tracker_find_pid(f->t, 222);
	assert_non_null(p);
	assert_true(p->flags & LIN_PROC_START_ESTIMATED);
	assert_ptr_equal(p->creator, find(f, 100, 50));

	/* The child's EXEC, read on arrival, found it reaped: that settles
	 * its FORK the same way, before another process takes the pid. */
	fork.pid = fork.tgid = exec.pid = exec.tgid = 223;
	f->clock += NS_PER_TICK;
	fork.timestamp_ns = exec.timestamp_ns = f->clock;
	tracker_event_begin(f->t, &fork, &rd);
	tracker_event_begin(f->t, &exec, &erd);
	assert_true(tracker_event_lend_stat(&erd, &rd));
	assert_false(tracker_event_wants_child_stat(&fork, &rd));
	add_proc(f, 223, 1, 8888, "other", "other");
	tracker_event_finish(f->t, &fork, &rd);
	tracker_event_finish(f->t, &exec, &erd);
	assert_null(find(f, 223, 8888));
	p = tracker_find_pid(f->t, 223);
	assert_non_null(p);
	assert_true(p->flags & LIN_PROC_START_ESTIMATED);
	assert_true(p->flags & LIN_PROC_CMDLINE_MISSED);
}

static void test_killed_by_signal(void **state)
{
	struct fixture *f = *state;
	struct lin_process *child;

	add_proc(f, 201, 100, 1020, "bash", "-bash");
	ev_fork(f, 100, 201, 201);
	ev_exit(f, 201, 201, SIGKILL);
	child = find(f, 201, 1020);
	assert_int_equal(child->exit_kind, LIN_EXIT_SIGNAL);
	assert_int_equal(WTERMSIG(child->exit_status), SIGKILL);
}

/* Thread creation sends FORK with child_pid != child_tgid: no process. */
static void test_thread_fork_is_not_a_process(void **state)
{
	struct fixture *f = *state;
	struct lin_process *bash = find(f, 100, 50);
	struct tracker_stats stats;

	ev_fork(f, 100, 150, 100);
	ev_fork(f, 100, 151, 100);
	assert_null(tracker_find_pid(f->t, 150));
	assert_int_equal(count_pid(f, 100), 1);
	assert_int_equal(bash->live_threads, 2);
	assert_ptr_equal(tracker_find_tid(f->t, 151), bash);
	ev_exit(f, 150, 100, 0);
	assert_int_equal(bash->live_threads, 1);
	assert_null(tracker_find_tid(f->t, 150));
	assert_true(lin_process_running(bash));
	tracker_get_stats(f->t, &stats);
	assert_int_equal(stats.events_thread_fork, 2);
	assert_int_equal(stats.events_fork, 0);
	assert_int_equal(stats.events_thread_exit, 1);
}

/* The leader calls pthread_exit() while two threads run: the process ends
 * with its last thread, with that thread's status. */
static void test_leader_exits_first(void **state)
{
	struct fixture *f = *state;
	struct lin_process *p;

	add_proc(f, 300, 100, 1030, "worker", "worker");
	ev_fork(f, 100, 300, 300);
	ev_fork(f, 300, 301, 300);
	ev_fork(f, 300, 302, 300);
	p = find(f, 300, 1030);
	ev_exit(f, 300, 300, 0);
	assert_true(lin_process_running(p));
	assert_true(p->flags & LIN_PROC_LEADER_EXITED);
	ev_exit(f, 301, 300, 0);
	assert_true(lin_process_running(p));
	ev_exit(f, 302, 300, 5 << 8);
	assert_false(lin_process_running(p));
	assert_int_equal(p->exit_kind, LIN_EXIT_CODE);
	assert_int_equal(WEXITSTATUS(p->exit_status), 5);
	assert_int_equal(p->live_threads, 0);
}

/* The leader left with pthread_exit() and a thread's EXIT never came: the
 * periodic check ends the process once /proc has no thread left, and not
 * while one is still listed. */
static void test_leader_exited_thread_exit_lost(void **state)
{
	struct fixture *f = *state;
	const pid_t tids[] = {311};
	struct fakeproc_proc proc = {.pid = 310,
	                             .ppid = 100,
	                             .start_ticks = 1031,
	                             .comm = "worker",
	                             .state = 'Z',
	                             .tids = tids,
	                             .ntids = 1};
	struct lin_process *p;

	add_proc(f, 310, 100, 1031, "worker", "worker");
	ev_fork(f, 100, 310, 310);
	ev_fork(f, 310, 311, 310);
	p = find(f, 310, 1031);
	ev_exit(f, 310, 310, 4 << 8);
	fakeproc_add(f->fp, &proc);
	f->clock += 2 * G_GUINT64_CONSTANT(1000000000);
	tracker_tick(f->t);
	assert_true(lin_process_running(p));

	fakeproc_remove(f->fp, 310);
	tracker_tick(f->t);
	assert_false(lin_process_running(p));
	assert_int_equal(p->exit_kind, LIN_EXIT_CODE);
	assert_int_equal(WEXITSTATUS(p->exit_status), 4);
	assert_null(tracker_find_tid(f->t, 311));
}

/* exec from a non-leader thread: EXIT(pid == tgid) then EXEC(tgid). */
static void test_exec_from_thread(void **state)
{
	struct fixture *f = *state;
	struct lin_process *p;

	add_proc(f, 400, 100, 1040, "python3", "python3");
	ev_fork(f, 100, 400, 400);
	ev_fork(f, 400, 401, 400);
	p = find(f, 400, 1040);
	ev_exit(f, 400, 400, 0);
	assert_true(lin_process_running(p));
	add_proc(f, 400, 100, 1040, "ls", "ls");
	ev_exec(f, 400);
	assert_true(lin_process_running(p));
	assert_int_equal(count_pid(f, 400), 1);
	assert_string_equal(str(p->comm), "ls");
	assert_int_equal(p->live_threads, 0);
	assert_false(p->flags & LIN_PROC_LEADER_EXITED);
	assert_int_equal(p->exit_ns, 0);

	/* Same, but the thread's FORK was never seen: the EXIT ends the
	 * record and the EXEC must bring the same record back, not a twin. */
	add_proc(f, 410, 100, 1041, "python3", "python3");
	ev_fork(f, 100, 410, 410);
	p = find(f, 410, 1041);
	ev_exit(f, 410, 410, 0);
	assert_false(lin_process_running(p));
	add_proc(f, 410, 100, 1041, "ls", "ls");
	ev_exec(f, 410);
	assert_true(lin_process_running(p));
	assert_int_equal(count_pid(f, 410), 1);
	assert_string_equal(str(p->comm), "ls");
}

/* The kernel reparents orphans without an event: parent stays the creator,
 * even after a rescan sees the new ppid in /proc. */
static void test_orphan_keeps_creator(void **state)
{
	struct fixture *f = *state;
	struct lin_process *mid, *orphan;

	add_proc(f, 500, 100, 1050, "sh", "sh");
	ev_fork(f, 100, 500, 500);
	add_proc(f, 501, 500, 1051, "sh", "sh");
	ev_fork(f, 500, 501, 501);
	fakeproc_remove(f->fp, 500);
	ev_exit(f, 500, 500, 0);
	add_proc(f, 501, 1, 1051, "sleep", "sleep");
	ev_exec(f, 501);
	mid = find(f, 500, 1050);
	orphan = find(f, 501, 1051);
	assert_ptr_equal(orphan->creator, mid);
	assert_int_equal(orphan->creator_pid, 500);
	assert_int_equal(tracker_rescan(f->t), 0);
	assert_ptr_equal(orphan->creator, mid);
	assert_true(lin_process_running(orphan));
}

/* EXEC delivered before its FORK: the record is made from /proc, then the
 * FORK only corrects the creator. */
static void test_exec_before_fork(void **state)
{
	struct fixture *f = *state;
	struct lin_process *p, *bash = find(f, 100, 50);
	struct tracker_stats stats;

	add_proc(f, 600, 1, 1060, "curl", "curl");
	ev_exec(f, 600);
	p = find(f, 600, 1060);
	assert_non_null(p);
	assert_int_equal(p->creator_pid, 1);
	ev_fork(f, 100, 600, 600);
	assert_int_equal(count_pid(f, 600), 1);
	assert_ptr_equal(p->creator, bash);
	assert_int_equal(p->creator_pid, 100);
	assert_string_equal(str(p->comm), "curl");
	tracker_get_stats(f->t, &stats);
	assert_true(stats.out_of_order >= 1);
}

/* EXIT delivered before its FORK, the process already reaped: the FORK
 * creates the record and the waiting exit is applied to it. */
static void test_exit_before_fork(void **state)
{
	struct fixture *f = *state;
	struct lin_process *p;

	ev_exit(f, 610, 610, 7 << 8);
	assert_null(tracker_find_pid(f->t, 610));
	ev_fork(f, 100, 610, 610);
	p = tracker_find_pid(f->t, 610);
	assert_non_null(p);
	assert_true(p->flags & LIN_PROC_START_ESTIMATED);
	assert_int_equal(p->exit_kind, LIN_EXIT_CODE);
	assert_int_equal(WEXITSTATUS(p->exit_status), 7);
	assert_int_equal(count_pid(f, 610), 1);
}

/* EXEC then EXIT both before the FORK, the process gone by then. */
static void test_exec_exit_before_fork(void **state)
{
	struct fixture *f = *state;
	struct lin_process *p;

	guint64 forked_at = f->clock + NS_PER_TICK / 2;

	add_proc(f, 620, 100, 1062, "true", "/bin/true");
	ev_exec(f, 620);
	fakeproc_remove(f->fp, 620);
	ev_exit(f, 620, 620, 0);
	next_timestamp = forked_at;
	ev_fork(f, 100, 620, 620);
	assert_int_equal(count_pid(f, 620), 1);
	p = tracker_find_pid(f->t, 620);
	assert_int_equal(p->start_ticks, 1062);
	assert_int_equal(p->creator_pid, 100);
	assert_string_equal(str(p->comm), "true");
	assert_int_equal(p->exit_kind, LIN_EXIT_CODE);
}

/* A FORK for a pid whose record still runs: that record's EXIT was lost. */
static void test_missed_exit(void **state)
{
	struct fixture *f = *state;
	struct lin_process *old, *young;
	struct tracker_stats stats;

	add_proc(f, 700, 100, 1070, "a", "a");
	ev_fork(f, 100, 700, 700);
	old = find(f, 700, 1070);
	add_proc(f, 700, 100, 1170, "b", "b");
	ev_fork(f, 100, 700, 700);
	young = find(f, 700, 1170);
	assert_non_null(young);
	assert_ptr_not_equal(old, young);
	assert_int_equal(old->exit_kind, LIN_EXIT_UNKNOWN);
	assert_ptr_equal(tracker_find_pid(f->t, 700), young);
	tracker_get_stats(f->t, &stats);
	assert_int_equal(stats.exits_missed, 1);
}

/* A recycled pid gets a new record; the old one stays reachable. */
static void test_pid_reuse(void **state)
{
	struct fixture *f = *state;
	struct lin_process *first, *second;

	add_proc(f, 800, 100, 1080, "a", "a");
	ev_fork(f, 100, 800, 800);
	ev_exit(f, 800, 800, 0);
	add_proc(f, 800, 100, 1180, "b", "b");
	ev_fork(f, 100, 800, 800);
	first = find(f, 800, 1080);
	second = find(f, 800, 1180);
	assert_non_null(first);
	assert_non_null(second);
	assert_ptr_not_equal(first, second);
	assert_false(lin_process_running(first));
	assert_true(lin_process_running(second));
	assert_ptr_equal(tracker_find_pid(f->t, 800), second);
	assert_true(second->serial > first->serial);
	/* by-pid/800 is the new one; the old one is only reachable by name. */
	{
		gboolean saw_second = FALSE;

		for (struct lin_process *p = tracker_next_newest(f->t, 0); p;
		     p = tracker_next_newest(f->t, p->serial)) {
			assert_ptr_not_equal(p, first);
			saw_second |= p == second;
		}
		assert_true(saw_second);
	}
}

/* The records of one pid, oldest first. */
static GPtrArray *holders(struct fixture *f, pid_t pid)
{
	GPtrArray *all = g_ptr_array_new();

	for (struct lin_process *p = tracker_find_pid(f->t, pid); p; p = p->older_same_pid)
		g_ptr_array_insert(all, 0, p);
	return all;
}

static void ev_comm(struct fixture *f, pid_t pid, const char *comm)
{
	struct cnproc_event ev = {.type = CNPROC_EV_COMM, .pid = pid, .tgid = pid};

	g_strlcpy(ev.u.comm.comm, comm, sizeof(ev.u.comm.comm));
	feed(f, ev);
}

/* One pid handed out five times within one clock tick: five records, named
 * apart by their instance, each with its own comm and exit status. */
static void test_pid_reuse_same_tick(void **state)
{
	struct fixture *f = *state;
	struct lin_process *bash = find(f, 100, 50);
	g_autoptr(GPtrArray) all = NULL;
	g_autoptr(GHashTable) names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	guint children = 0;

	for (int k = 1; k <= 5; k++) {
		g_autofree char *comm = g_strdup_printf("holder-%d", k);

		add_proc(f, 810, 100, 1234, "bash", "-bash");
		ev_fork(f, 100, 810, 810);
		ev_comm(f, 810, comm);
		ev_exit(f, 810, 810, (guint32)k << 8);
	}
	all = holders(f, 810);
	assert_int_equal(all->len, 5);
	for (guint i = 0; i < all->len; i++) {
		struct lin_process *p = g_ptr_array_index(all, i);
		g_autofree char *comm = g_strdup_printf("holder-%u", i + 1);
		struct lin_name name = lin_process_name(p);

		assert_int_equal(p->start_ticks, 1234);
		assert_int_equal(lin_process_instance(p), i + 1);
		assert_string_equal(str(p->comm), comm);
		assert_int_equal(p->exit_kind, LIN_EXIT_CODE);
		assert_int_equal(p->exit_status, (i + 1) << 8);
		assert_ptr_equal(p->creator, bash);
		assert_ptr_equal(tracker_find_name(f->t, &name), p);
	}
	/* by-pid/810 is the last holder; (pid, start) alone finds it too. */
	assert_ptr_equal(tracker_find_pid(f->t, 810), g_ptr_array_index(all, 4));
	assert_ptr_equal(find(f, 810, 1234), g_ptr_array_index(all, 4));
	/* No name twice in the root listing, nor among bash's children. */
	for (struct lin_process *p = tracker_first_after(f->t, 0); p; p = p->all_next) {
		g_autofree char *key = g_strdup_printf("%d-%" G_GUINT64_FORMAT ".%u", (int)p->pid,
		                                       p->start_ticks, lin_process_instance(p));

		assert_true(g_hash_table_add(names, g_steal_pointer(&key)));
	}
	for (struct lin_process *c = bash->first_child; c; c = c->next_sibling)
		children += c->pid == 810;
	assert_int_equal(children, 5);
	assert_null(tracker_find_name(
	    f->t, &(struct lin_name){.pid = 810, .instance = 6, .start_ticks = 1234}));
}

/* The stat a FORK's finish reads may be a later holder's when the pid was
 * recycled before the read: one that started after the FORK is not taken. */
static void test_fork_stat_of_later_holder(void **state)
{
	struct fixture *f = *state;
	struct lin_process *p;
	guint64 later = f->clock / NS_PER_TICK + 500;

	add_proc(f, 820, 100, later, "bash", "-bash");
	ev_fork(f, 100, 820, 820);
	p = tracker_find_pid(f->t, 820);
	assert_non_null(p);
	assert_true(p->start_ticks < later);
	assert_true(p->flags & LIN_PROC_START_ESTIMATED);
}

/* Within one tick the stat cannot tell holders apart: the one read for a
 * FORK's child may be a later holder that renamed itself. A process's name
 * comes from COMM events alone; only a new kernel thread (named by its
 * creator, no COMM event) takes its stat's. */
static void test_fork_stat_name_of_later_holder_same_tick(void **state)
{
	struct fixture *f = *state;
	struct fakeproc_proc kworker = {.pid = 840,
	                                .ppid = 2,
	                                .start_ticks = 1300,
	                                .comm = "kworker/1:2",
	                                .state = 'S',
	                                .flags = LIN_PF_KTHREAD,
	                                .threads = 1};
	struct lin_process *p;

	/* What /proc shows at the read: the pid's next holder, renamed. */
	add_proc(f, 830, 100, 1234, "holder-2", "-bash");
	ev_fork(f, 100, 830, 830);
	p = find(f, 830, 1234);
	assert_non_null(p);
	assert_string_equal(str(p->comm), "bash");
	ev_exit(f, 830, 830, 0);
	ev_fork(f, 100, 830, 830);
	ev_comm(f, 830, "holder-2");
	p = tracker_find_pid(f->t, 830);
	assert_int_equal(lin_process_instance(p), 2);
	assert_string_equal(str(p->comm), "holder-2");
	p = tracker_find_name(f->t,
	                      &(struct lin_name){.pid = 830, .instance = 1, .start_ticks = 1234});
	assert_non_null(p);
	assert_string_equal(str(p->comm), "bash");

	fakeproc_add(f->fp, &kworker);
	ev_fork(f, 2, 840, 840);
	assert_string_equal(str(find(f, 840, 1300)->comm), "kworker/1:2");
}

/* A FORK whose child runs the image of the parent's other child P: made by
 * P with CLONE_PARENT. It shows P's program, read for it, and names P. */
static void test_clone_parent(void **state)
{
	struct fixture *f = *state;
	struct lin_process *bash = find(f, 100, 50), *p, *q, *c;
	static const char p_argv[] = "helper\0once\0";
	struct fakeproc_proc proc = {.pid = 830,
	                             .ppid = 100,
	                             .start_ticks = 1300,
	                             .comm = "helper",
	                             .cmdline = p_argv,
	                             .cmdline_len = sizeof(p_argv) - 1,
	                             .exe = "/opt/helper",
	                             .start_stack = 0x7ffd0000};

	/* P: forked by bash, then its own exec (its own stack). */
	fakeproc_add(f->fp, &proc);
	ev_fork(f, 100, 830, 830);
	ev_exec(f, 830);
	p = find(f, 830, 1300);
	assert_int_equal(p->start_stack, 0x7ffd0000);

	/* An ordinary fork of bash: the same stack as bash, so no read of
	 * its own (its fake cmdline differs and must not show). */
	add_proc(f, 831, 100, 1301, "bash", "not-read");
	ev_fork(f, 100, 831, 831);
	assert_ptr_equal(find(f, 831, 1301)->cmdline, bash->cmdline);
	assert_null(lin_process_guess(find(f, 831, 1301)));

	/* C: reported as bash's child, running P's image. */
	proc.pid = 832;
	proc.start_ticks = 1302;
	fakeproc_add(f->fp, &proc);
	ev_fork(f, 100, 832, 832);
	c = find(f, 832, 1302);
	assert_non_null(c);
	assert_ptr_equal(c->creator, bash);
	assert_int_equal(c->cmdline->len, sizeof(p_argv) - 1);
	assert_memory_equal(c->cmdline->data, p_argv, sizeof(p_argv) - 1);
	assert_string_equal(str(c->exe), "/opt/helper");
	assert_non_null(lin_process_guess(c));
	assert_int_equal(lin_process_guess(c)->check, LIN_PARENT_NOT_CREATOR);
	assert_int_equal(lin_process_guess(c)->count, 1);
	assert_int_equal(lin_process_guess(c)->candidates[0].pid, 830);
	assert_int_equal(lin_process_guess(c)->candidates[0].start_ticks, 1300);

	/* Q, then another: now P and Q (and C) run that image. */
	q = c;
	proc.pid = 833;
	proc.start_ticks = 1303;
	fakeproc_add(f->fp, &proc);
	ev_fork(f, 100, 833, 833);
	c = find(f, 833, 1303);
	assert_int_equal(lin_process_guess(c)->check, LIN_PARENT_NOT_CREATOR);
	assert_int_equal(lin_process_guess(c)->count, 2);
	assert_int_equal(lin_process_guess(c)->candidates[0].pid, 830);
	assert_int_equal(lin_process_guess(c)->candidates[1].pid, q->pid);

	/* A named creator stays after an exec: it made the process. */
	ev_exec(f, 833);
	assert_non_null(lin_process_guess(c));

	/* No running child of bash has the image: open, until its exec. */
	proc.pid = 834;
	proc.start_ticks = 1304;
	proc.start_stack = 0x7ffe1234;
	fakeproc_add(f->fp, &proc);
	ev_fork(f, 100, 834, 834);
	c = find(f, 834, 1304);
	assert_int_equal(lin_process_guess(c)->check, LIN_PARENT_UNCERTAIN);
	assert_string_equal(str(c->exe), "/opt/helper");
	ev_exec(f, 834);
	assert_null(lin_process_guess(c));
}

/* Command lines cut by the cap keep both ends and the digest of the whole;
 * past the string budget, the oldest exited records go first, then new
 * long command lines keep LIN_CMDLINE_SQUEEZED bytes. */
static void exec_long(struct fixture *f, pid_t pid, guint64 start, gsize len, char fill,
                      char **sha256)
{
	g_autofree char *argv = g_malloc(len);
	struct fakeproc_proc proc = {.pid = pid,
	                             .ppid = 100,
	                             .start_ticks = start,
	                             .comm = "long",
	                             .cmdline = argv,
	                             .cmdline_len = len,
	                             .exe = "/usr/bin/long"};

	for (gsize i = 0; i < len; i++)
		argv[i] = (char)(fill + i % 7);
	argv[len - 1] = '\0';
	*sha256 = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)argv, len);
	fakeproc_add(f->fp, &proc);
	ev_fork(f, 100, pid, pid);
	ev_exec(f, pid);
}

static void test_cmdline_cap_and_budget(void **state)
{
	struct fixture *f = *state;
	struct tracker_config cfg = *tracker_get_config(f->t);
	g_autofree char *sha = NULL;
	struct lin_process *p;
	struct tracker_stats stats;

	/* A tracker of its own with a cap and a budget. */
	tracker_free(f->t);
	cfg.max_cmdline = 1000;
	cfg.max_string_bytes = 256 * 1024;
	f->t = tracker_new(&cfg);
	tracker_set_change_fn(f->t, record_change, f);
	assert_int_equal(tracker_bootstrap(f->t), 4);

	exec_long(f, 840, 1400, 5000, 'a', &sha);
	p = find(f, 840, 1400);
	assert_int_equal(p->cmdline->len, 1000);
	assert_true(p->flags & LIN_PROC_CMDLINE_TRUNCATED);
	assert_int_equal(lin_process_cmdline_full_len(p), 5000);
	assert_string_equal(str(lin_process_cmdline_sha256(p)), sha);
	for (gsize i = 0; i < 500; i++) {
		assert_int_equal(p->cmdline->data[i], (char)('a' + i % 7));
		assert_int_equal(p->cmdline->data[999 - i],
		                 i == 0 ? '\0' : (char)('a' + (4999 - i) % 7));
	}
	ev_exit(f, 840, 840, 0);

	/* Unique long lines, each under the cap: whole until the budget. */
	tracker_free(f->t);
	cfg.max_cmdline = 0;
	f->t = tracker_new(&cfg);
	tracker_set_change_fn(f->t, record_change, f);
	assert_true(tracker_bootstrap(f->t) >= 4);
	for (int i = 0; i < 12; i++) {
		g_autofree char *digest = NULL;

		exec_long(f, 850 + i, 1500 + (guint64)i, 60 * 1000, (char)('a' + i), &digest);
		p = find(f, 850 + i, 1500 + (guint64)i);
		assert_string_equal(str(p->comm), "long");
		tracker_get_stats(f->t, &stats);
		assert_true(stats.string_bytes <= cfg.max_string_bytes);
		if (p->cmdline->len == 60 * 1000) {
			assert_false(p->flags & LIN_PROC_CMDLINE_TRUNCATED);
		} else {
			/* Squeezed: still both ends, and the digest of the whole. */
			assert_int_equal(p->cmdline->len, LIN_CMDLINE_SQUEEZED);
			assert_int_equal(lin_process_cmdline_full_len(p), 60 * 1000);
			assert_string_equal(str(lin_process_cmdline_sha256(p)), digest);
		}
		/* Half of them exit: those are forgotten first. */
		if (i % 2 == 0)
			ev_exit(f, 850 + i, 850 + i, 0);
	}
	tracker_get_stats(f->t, &stats);
	assert_true(stats.budget_forgotten > 0);
	assert_true(stats.cmdline_cut > 0);
	/* The running ones are all still there. */
	for (int i = 1; i < 12; i += 2)
		assert_non_null(find(f, 850 + i, 1500 + (guint64)i));
}

/* An EXEC reads no status while the ids are known: the kernel sends a UID
 * or GID event for every change of them (commit_creds()), the exec of a
 * set-user-ID or set-group-ID file included, before its EXEC; a child may
 * send it before its FORK. After lost events status is read again, until
 * a rescan has read every process's ids. Status here says 4242 or 777: a
 * stand-in for "read", since no event gives those ids. */
static void test_exec_takes_ids_from_events(void **state)
{
	struct fixture *f = *state;
	struct fakeproc_proc proc = {.pid = 860,
	                             .ppid = 100,
	                             .start_ticks = 1600,
	                             .comm = "true",
	                             .uid = 1000,
	                             .gid = 1000,
	                             .exe = "/bin/true"};
	struct cnproc_event uid = {.type = CNPROC_EV_UID, .pid = 860, .tgid = 860};
	struct cnproc_event gid = {.type = CNPROC_EV_GID, .pid = 861, .tgid = 861};
	struct cnproc_event lost = {.type = CNPROC_EV_OTHER, .seq_valid = TRUE, .cpu = 3};
	struct lin_process *p, *early;

	fakeproc_add(f->fp, &proc);
	ev_fork(f, 100, 860, 860);
	p = find(f, 860, 1600);
	assert_int_equal(p->euid, 1000);
	/* An ordinary exec: the ids stay the creator's, status unread. */
	proc.uid = 4242;
	fakeproc_add(f->fp, &proc);
	ev_exec(f, 860);
	assert_int_equal(p->euid, 1000);
	assert_int_equal(p->exec_count, 1);
	/* A set-user-ID exec: its UID event first, then the EXEC. */
	proc.exe = "/usr/bin/passwd";
	fakeproc_add(f->fp, &proc);
	uid.u.id.real = 1000;
	uid.u.id.effective = 0;
	feed(f, uid);
	ev_exec(f, 860);
	assert_int_equal(p->ruid, 1000);
	assert_int_equal(p->euid, 0);
	assert_int_equal(p->exec_count, 2);

	/* A set-group-ID exec by a child whose FORK comes after its GID event. */
	proc.pid = 861;
	proc.start_ticks = 1601;
	proc.exe = "/usr/bin/ssh-agent";
	fakeproc_add(f->fp, &proc);
	gid.u.id.real = 1000;
	gid.u.id.effective = 111;
	feed(f, gid);
	ev_fork(f, 100, 861, 861);
	early = find(f, 861, 1601);
	assert_int_equal(early->rgid, 1000);
	assert_int_equal(early->egid, 111);
	assert_int_equal(early->euid, 1000);
	ev_exec(f, 861);
	assert_int_equal(early->egid, 111);
	assert_int_equal(early->euid, 1000);

	/* Events lost: an EXEC reads status (uid 4242, gid 1000), until the
	 * rescan. */
	lost.seq = 10;
	feed(f, lost);
	lost.seq = 12;
	feed(f, lost);
	assert_true(tracker_rescan_wanted(f->t));
	ev_exec(f, 861);
	assert_int_equal(early->euid, 4242);
	assert_int_equal(early->egid, 1000);
	/* The rescan reads every running process's ids: 860's from 0 to 777,
	 * and the next EXEC reads no status again (4242 stays 777). */
	proc.pid = 860;
	proc.start_ticks = 1600;
	proc.uid = 777;
	proc.gid = 777;
	fakeproc_add(f->fp, &proc);
	assert_int_equal(tracker_rescan(f->t), 0);
	assert_int_equal(p->ruid, 777);
	assert_int_equal(p->euid, 777);
	assert_int_equal(p->egid, 777);
	proc.uid = 4242;
	fakeproc_add(f->fp, &proc);
	ev_exec(f, 860);
	assert_int_equal(p->euid, 777);
	assert_int_equal(p->exec_count, 3);
}

static void test_comm_and_ids(void **state)
{
	struct fixture *f = *state;
	struct lin_process *bash = find(f, 100, 50);
	struct cnproc_event comm = {.type = CNPROC_EV_COMM, .pid = 100, .tgid = 100};
	struct cnproc_event thread_comm = {.type = CNPROC_EV_COMM, .pid = 150, .tgid = 100};
	struct cnproc_event uid = {.type = CNPROC_EV_UID, .pid = 100, .tgid = 100};

	memcpy(comm.u.comm.comm, "renamed", 8);
	memcpy(thread_comm.u.comm.comm, "thread-name", 12);
	uid.u.id.real = 1000;
	uid.u.id.effective = 0;
	feed(f, comm);
	feed(f, thread_comm);
	feed(f, uid);
	assert_string_equal(str(bash->comm), "renamed");
	assert_int_equal(bash->ruid, 1000);
	assert_int_equal(bash->euid, 0);
}

/* A vanished process is caught by the rescan after an overflow. */
static void test_rescan_repairs(void **state)
{
	struct fixture *f = *state;
	struct lin_process *gone, *fresh, *fresh_child;
	struct tracker_stats stats;

	add_proc(f, 900, 100, 1090, "a", "a");
	ev_fork(f, 100, 900, 900);
	gone = find(f, 900, 1090);
	fakeproc_remove(f->fp, 900);
	/* Events lost: 910 and its child 911 were born unseen. */
	add_proc(f, 911, 910, 1092, "child", "child");
	add_proc(f, 910, 100, 1091, "parent", "parent");
	tracker_overflow(f->t);
	fresh = find(f, 910, 1091);
	fresh_child = find(f, 911, 1092);
	assert_int_equal(gone->exit_kind, LIN_EXIT_UNKNOWN);
	assert_non_null(fresh);
	assert_non_null(fresh_child);
	assert_ptr_equal(fresh_child->creator, fresh);
	assert_ptr_equal(fresh->creator, find(f, 100, 50));
	tracker_get_stats(f->t, &stats);
	assert_int_equal(stats.overflows, 1);
	assert_int_equal(stats.rescans, 1);
	/* A second rescan duplicates nothing. */
	assert_int_equal(tracker_rescan(f->t), 0);
	assert_int_equal(count_pid(f, 910), 1);
	assert_int_equal(count_pid(f, 100), 1);
	assert_int_equal(count_pid(f, 900), 1);
}

/* A FORK for a process the bootstrap already found (the window between
 * subscribing and scanning) merges and names the creator. */
static void test_fork_after_scan(void **state)
{
	struct fixture *f = *state;
	struct lin_process *p;

	add_proc(f, 950, 1, 995, "daemon", "daemon");
	assert_int_equal(tracker_rescan(f->t), 0);
	p = find(f, 950, 995);
	assert_ptr_equal(p->creator, find(f, 1, 1));
	ev_fork(f, 100, 950, 950);
	assert_int_equal(count_pid(f, 950), 1);
	assert_ptr_equal(p->creator, find(f, 100, 50));
}

/* The kernel numbers each CPU's messages: a gap is a count of lost
 * events, and asks for a rescan. */
static void test_seq_gap_counts_lost_events(void **state)
{
	struct fixture *f = *state;
	struct cnproc_event ev = {.type = CNPROC_EV_OTHER, .seq_valid = TRUE};
	struct tracker_stats stats;

	ev.cpu = 1;
	ev.seq = 100;
	feed(f, ev);
	ev.seq = 101;
	feed(f, ev);
	ev.cpu = 0; /* another CPU has its own numbering */
	ev.seq = 7;
	feed(f, ev);
	tracker_get_stats(f->t, &stats);
	assert_int_equal(stats.events_lost, 0);
	assert_false(tracker_rescan_wanted(f->t));

	ev.cpu = 1;
	ev.seq = 105; /* 102, 103, 104 never came */
	feed(f, ev);
	ev.cpu = 0;
	ev.seq = 8;
	feed(f, ev);
	tracker_get_stats(f->t, &stats);
	assert_int_equal(stats.events_lost, 3);
	assert_true(tracker_rescan_wanted(f->t));
	assert_int_equal(tracker_rescan(f->t), 0);
	assert_false(tracker_rescan_wanted(f->t));

	/* Wrapping around 2^32 is no gap; going backwards is no gap either. */
	ev.cpu = 2;
	ev.seq = G_MAXUINT32;
	feed(f, ev);
	ev.seq = 0;
	feed(f, ev);
	ev.seq = 0;
	feed(f, ev);
	/* Synthetic events carry no numbering. */
	feed(f, (struct cnproc_event){.type = CNPROC_EV_OTHER, .cpu = 1, .seq = 500});
	tracker_get_stats(f->t, &stats);
	assert_int_equal(stats.events_lost, 3);
	assert_false(tracker_rescan_wanted(f->t));
}

static guint count_children(const struct lin_process *p)
{
	guint n = 0;

	for (const struct lin_process *c = p->first_child; c; c = c->next_sibling)
		n++;
	return n;
}

/* Oldest exited first, never an ancestor of a running process. */
static void test_retention(void **state)
{
	struct fixture *f = *state;
	struct tracker_config cfg = *tracker_get_config(f->t);
	struct lin_process *bash, *keeper, *held, *p;
	struct tracker_stats stats;

	tracker_free(f->t);
	cfg.max_exited = 3;
	f->t = tracker_new(&cfg);
	assert_int_equal(tracker_bootstrap(f->t), 4);
	bash = find(f, 100, 50);

	/* keeper (exited) -> held (running): keeper must stay. */
	add_proc(f, 1000, 100, 2000, "keeper", "keeper");
	ev_fork(f, 100, 1000, 1000);
	add_proc(f, 1001, 1000, 2001, "held", "held");
	ev_fork(f, 1000, 1001, 1001);
	ev_exit(f, 1000, 1000, 0);
	keeper = find(f, 1000, 2000);
	held = find(f, 1001, 2001);

	for (pid_t pid = 1100; pid < 1110; pid++) {
		add_proc(f, pid, 100, 2100 + pid, "short", "short");
		ev_fork(f, 100, pid, pid);
		ev_exit(f, pid, pid, 0);
	}
	tracker_get_stats(f->t, &stats);
	assert_ptr_equal(find(f, 1000, 2000), keeper);
	assert_ptr_equal(find(f, 1001, 2001), held);
	assert_int_equal(keeper->keep_children, 1);
	/* The limit counts keeper, which is pinned: the 2 newest short ones stay. */
	assert_int_equal(stats.processes_exited, 3);
	assert_int_equal(stats.processes_forgotten, 8);
	assert_int_equal(stats.processes_pinned, 1);
	assert_null(find(f, 1100, 3200));
	assert_null(find(f, 1107, 3207));
	assert_non_null(find(f, 1108, 3208));
	assert_non_null(find(f, 1109, 3209));
	/* Forgotten children left their creator's list. */
	assert_int_equal(count_children(bash), 3);

	/* Once held exits, keeper is just an old exited process. */
	ev_exit(f, 1001, 1001, 0);
	tracker_get_stats(f->t, &stats);
	assert_int_equal(stats.processes_exited, 3);
	assert_int_equal(stats.processes_pinned, 0);
	assert_null(find(f, 1108, 3208));
	assert_non_null(find(f, 1109, 3209));
	assert_non_null(find(f, 1000, 2000));
	for (pid_t pid = 1200; pid < 1203; pid++) {
		add_proc(f, pid, 100, 2100 + pid, "short", "short");
		ev_fork(f, 100, pid, pid);
		ev_exit(f, pid, pid, 0);
	}
	assert_null(find(f, 1000, 2000));
	assert_null(find(f, 1001, 2001));
	p = find(f, 1202, 3302);
	assert_non_null(p);
	assert_ptr_equal(p->creator, bash);
}

/* Memory stays flat: records are recycled once the limit is reached. */
static void test_retention_is_bounded(void **state)
{
	struct fixture *f = *state;
	struct tracker_config cfg = *tracker_get_config(f->t);
	struct tracker_stats before, after;

	tracker_free(f->t);
	cfg.max_exited = 50;
	f->t = tracker_new(&cfg);
	assert_int_equal(tracker_bootstrap(f->t), 4);
	for (int i = 0; i < 2000; i++) {
		ev_fork(f, 100, 20000 + i % 5000, 20000 + i % 5000);
		ev_exit(f, 20000 + i % 5000, 20000 + i % 5000, 0);
		if (i == 999)
			tracker_get_stats(f->t, &before);
	}
	tracker_get_stats(f->t, &after);
	assert_int_equal(after.processes_exited, 50);
	assert_int_equal(after.record_bytes, before.record_bytes);
	assert_int_equal(after.string_bytes, before.string_bytes);
}

static void test_changes_and_iteration(void **state)
{
	struct fixture *f = *state;
	struct lin_process *child, *p;
	guint news = 0, execs = 0, exits = 0;
	guint64 last = 0;

	g_array_set_size(f->changes, 0);
	add_proc(f, 1300, 100, 2300, "x", "x");
	ev_fork(f, 100, 1300, 1300);
	ev_exec(f, 1300);
	ev_exit(f, 1300, 1300, 0);
	child = find(f, 1300, 2300);
	for (guint i = 0; i < f->changes->len; i++) {
		struct lin_change *c = &g_array_index(f->changes, struct lin_change, i);

		assert_int_equal(c->serial, child->serial);
		assert_int_equal(c->creator_serial, find(f, 100, 50)->serial);
		news += c->kind == LIN_CHANGE_NEW;
		execs += c->kind == LIN_CHANGE_EXEC;
		exits += c->kind == LIN_CHANGE_EXIT;
	}
	assert_int_equal(news, 1);
	assert_int_equal(execs, 1);
	assert_int_equal(exits, 1);

	/* Iteration by serial sees every record once, in order. */
	for (p = tracker_first_after(f->t, 0); p; p = tracker_first_after(f->t, p->serial)) {
		assert_true(p->serial > last);
		last = p->serial;
	}
	assert_int_equal(last, child->serial);
	/* by-pid/ lists each pid's newest record once, in creation order:
	 * the four found by the bootstrap (in /proc's order), then child. */
	{
		guint64 pids = 0;
		guint n = 0;

		for (p = tracker_next_newest(f->t, 0); p != child;
		     p = tracker_next_newest(f->t, p->serial)) {
			assert_non_null(p);
			pids += (guint64)p->pid;
			n++;
		}
		assert_int_equal(n, 4);
		assert_int_equal(pids, 1 + 2 + 3 + 100);
		assert_null(tracker_next_newest(f->t, child->serial));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_bootstrap, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_exec_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_read_on_arrival, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_read_late_is_urgent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_child_stat_given, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_killed_by_signal, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_thread_fork_is_not_a_process, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leader_exits_first, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_leader_exited_thread_exit_lost, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_from_thread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_orphan_keeps_creator, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_before_fork, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exit_before_fork, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_exit_before_fork, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missed_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pid_reuse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_comm_and_ids, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rescan_repairs, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_after_scan, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_seq_gap_counts_lost_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retention, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retention_is_bounded, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_changes_and_iteration, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_pid_reuse_same_tick, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_stat_of_later_holder, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_stat_name_of_later_holder_same_tick, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_clone_parent, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_takes_ids_from_events, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_cmdline_cap_and_budget, setup, teardown),
	};

	return cmocka_run_group_tests_name("tracker", tests, NULL, NULL);
}
