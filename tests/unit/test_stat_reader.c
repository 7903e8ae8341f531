/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The stat reader thread (src/stat_reader.c) against a fake /proc: answers
 * carry the tag they were asked with, in the order asked; a process that is
 * gone answers -ENOENT; the fd polls readable exactly while answers wait;
 * stopping with asks still queued frees them.
 */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "fakeproc.h"
#include "stat_reader.h"

/* Bound on waiting for the thread's answer: far above a read's cost. */
#define ANSWER_TIMEOUT_MS 10000

struct fixture {
	struct fakeproc *fp;
	struct stat_reader *sr;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	struct fakeproc_proc proc = {.pid = 300, .ppid = 1, .start_ticks = 4242, .comm = "sh"};
	GError *error = NULL;

	f->fp = fakeproc_new();
	fakeproc_add(f->fp, &proc);
	f->sr = stat_reader_start(fakeproc_root_fd(f->fp), &error);
	g_assert_no_error(error);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	stat_reader_stop(f->sr);
	fakeproc_free(f->fp);
	g_free(f);
	return 0;
}

static gboolean fd_readable(struct stat_reader *sr, int timeout_ms)
{
	struct pollfd pfd = {.fd = stat_reader_fd(sr), .events = POLLIN};

	return poll(&pfd, 1, timeout_ms) == 1 && (pfd.revents & POLLIN);
}

/* Waits (bounded) for the next answer. */
static void next_answer(struct stat_reader *sr, struct stat_reader_answer *a)
{
	while (!stat_reader_collect(sr, a))
		assert_true(fd_readable(sr, ANSWER_TIMEOUT_MS));
}

static void test_answers_in_order_with_tags(void **state)
{
	struct fixture *f = *state;
	struct stat_reader_answer a;

	assert_false(fd_readable(f->sr, 0));
	assert_false(stat_reader_collect(f->sr, &a));

	stat_reader_ask(f->sr, 7, 300);
	stat_reader_ask(f->sr, 8, 301);
	stat_reader_ask(f->sr, 9, 300);

	next_answer(f->sr, &a);
	assert_int_equal(a.tag, 7);
	assert_int_equal(a.pid, 300);
	assert_int_equal(a.err, 0);
	assert_int_equal(a.stat.pid, 300);
	assert_int_equal(a.stat.start_ticks, 4242);
	assert_string_equal(a.stat.comm, "sh");

	next_answer(f->sr, &a);
	assert_int_equal(a.tag, 8);
	assert_int_equal(a.err, -ENOENT);

	next_answer(f->sr, &a);
	assert_int_equal(a.tag, 9);
	assert_int_equal(a.stat.start_ticks, 4242);

	/* Nothing left: the fd is cleared. */
	assert_false(stat_reader_collect(f->sr, &a));
	assert_false(fd_readable(f->sr, 0));
}

/* The pid's holder changes between two asks: each answer is what /proc
 * held when it was read. */
static void test_answer_reads_at_ask_time(void **state)
{
	struct fixture *f = *state;
	struct fakeproc_proc again = {.pid = 300, .ppid = 1, .start_ticks = 5000, .comm = "dash"};
	struct stat_reader_answer a;

	stat_reader_ask(f->sr, 1, 300);
	next_answer(f->sr, &a);
	assert_int_equal(a.stat.start_ticks, 4242);

	fakeproc_remove(f->fp, 300);
	stat_reader_ask(f->sr, 2, 300);
	next_answer(f->sr, &a);
	assert_int_equal(a.err, -ENOENT);

	fakeproc_add(f->fp, &again);
	stat_reader_ask(f->sr, 3, 300);
	next_answer(f->sr, &a);
	assert_int_equal(a.err, 0);
	assert_int_equal(a.stat.start_ticks, 5000);
	assert_string_equal(a.stat.comm, "dash");
}

/* Stopping with asks queued and answers uncollected: the sanitizer build
 * fails this on a leak or a use after free. */
static void test_stop_with_work_pending(void **state)
{
	struct fixture *f = *state;

	for (guint64 tag = 0; tag < 1000; tag++)
		stat_reader_ask(f->sr, tag, tag % 2 ? 300 : 301);
	stat_reader_stop(f->sr);
	f->sr = NULL;
}

/* A FORK's child whose stack address is not its parent's runs another
 * image: its cmdline and exe are read with the stat, off the event thread.
 * One with its parent's address is read for the stat alone. */
static void test_child_image(void **state)
{
	struct fixture *f = *state;
	static const char argv[] = "creator\0--x\0";
	struct fakeproc_proc child = {.pid = 310,
	                              .ppid = 1,
	                              .start_ticks = 5000,
	                              .comm = "creator",
	                              .cmdline = argv,
	                              .cmdline_len = sizeof(argv) - 1,
	                              .exe = "/opt/creator",
	                              .start_stack = 0x7fff1000};
	struct stat_reader_answer a;

	fakeproc_add(f->fp, &child);
	stat_reader_ask_child(f->sr, 1, 310, 0x7fff1000, 0);
	next_answer(f->sr, &a);
	assert_int_equal(a.err, 0);
	assert_int_equal(a.stat.start_stack, 0x7fff1000);
	assert_int_equal(a.image.read_ok, 0);
	assert_null(a.image.cmdline);

	stat_reader_ask_child(f->sr, 2, 310, 0x7ffe2000, 0);
	next_answer(f->sr, &a);
	assert_int_equal(a.err, 0);
	assert_true(a.image.read_ok & PROC_READ_CMDLINE);
	assert_true(a.image.read_ok & PROC_READ_EXE);
	assert_int_equal(a.image.cmdline_len, sizeof(argv) - 1);
	assert_memory_equal(a.image.cmdline, argv, sizeof(argv) - 1);
	assert_string_equal(a.image.exe, "/opt/creator");
	lin_proc_info_clear(&a.image);

	/* Asked but never collected: stopping frees the image (the leak
	 * checker would say otherwise). */
	stat_reader_ask_child(f->sr, 3, 310, 0x7ffe2000, 0);
	assert_true(fd_readable(f->sr, ANSWER_TIMEOUT_MS));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_answers_in_order_with_tags, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_answer_reads_at_ask_time, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_stop_with_work_pending, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_child_image, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
