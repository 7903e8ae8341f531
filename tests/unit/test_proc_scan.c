// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the /proc reader: the stat and status parsers on real,
 * hostile and truncated text (always in exact-size heap buffers, so ASan
 * catches a read past the length), proc_scan_read_process() and
 * proc_scan_foreach() on a fake tree, and a few checks against the real
 * /proc for this very process.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakeproc.h"
#include "proc_scan.h"

/* A stat line as the kernel prints it for a user process. */
#define REAL_STAT                                                                                  \
	"3208 (cat) R 3203 3203 2402 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 31258 3133440 389 "   \
	"18446744073709551615 94416175292416 94416175312297 140726679759664 0 0 0 0 0 0 0 0 0 17 " \
	"1 0 0 0 0 0 94416175328304 94416175329920 94416336392192 140726679767495 "                \
	"140726679767515 140726679767515 140726679769067 0\n"

#define REAL_STATUS                                                                                \
	"Name:\tcat\nUmask:\t0022\nState:\tR (running)\nTgid:\t3209\nNgid:\t0\nPid:\t3209\n"       \
	"PPid:\t3203\nTracerPid:\t0\nUid:\t1000\t0\t0\t0\nGid:\t100\t5\t5\t5\nFDSize:\t256\n"      \
	"Groups:\t \nNStgid:\t3209\nNSpid:\t3209\nVmPeak:\t    3060 kB\nThreads:\t3\n"             \
	"SigQ:\t0/96365\nCpus_allowed_list:\t0-1\n"

/* Parses text from an exact-size copy: no NUL after it, nothing to overrun into. */
static int parse_stat_exact(const char *text, size_t len, struct lin_stat *out)
{
	g_autofree char *copy = g_memdup2(text, len);

	return proc_scan_parse_stat(copy, len, out);
}

static int parse_stat_str(const char *text, struct lin_stat *out)
{
	return parse_stat_exact(text, strlen(text), out);
}

static int parse_status_str(const char *text, struct lin_status *out)
{
	size_t len = strlen(text);
	g_autofree char *copy = g_memdup2(text, len);

	return proc_scan_parse_status(copy, len, out);
}

/* A stat line for pid 7 with the given comm and the rest of REAL_STAT. */
static char *stat_with_comm(const char *comm)
{
	return g_strdup_printf("7 (%s) S 1 7 7 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 1 0 123456 0 0 "
	                       "18446744073709551615 0 0 0 0 0 0 0 0 0 0 0 0 17 0 0 0 0 0 0\n",
	                       comm);
}

/* --- stat --- */

static void test_stat_real(void **state)
{
	struct lin_stat st;

	(void)state;
	assert_int_equal(parse_stat_str(REAL_STAT, &st), 0);
	assert_int_equal(st.pid, 3208);
	assert_string_equal(st.comm, "cat");
	assert_int_equal(st.state, 'R');
	assert_int_equal(st.ppid, 3203);
	assert_int_equal(st.flags, 4194304);
	assert_int_equal(st.start_ticks, 31258);
	assert_int_equal(st.start_stack, 140726679759664ull);
	assert_int_equal(st.arg_start, 140726679767495ull);
	assert_int_equal(st.arg_end, 140726679767515ull);
}

/* Before 3.5 the line ended earlier: the later fields read as 0. */
static void test_stat_old_kernel(void **state)
{
	struct lin_stat st;

	(void)state;
	assert_int_equal(parse_stat_str("9 (sh) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 100 "
	                                "2 3 4 5 6\n",
	                                &st),
	                 0);
	assert_int_equal(st.start_ticks, 77);
	assert_int_equal(st.start_stack, 6);
	assert_int_equal(st.arg_start, 0);
	assert_int_equal(st.arg_end, 0);
	/* Past field 22 the fields are extras: one that is not a number ends
	 * them, the line still parses. */
	assert_int_equal(parse_stat_str("9 (sh) S 1 9 9 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 77 100 "
	                                "2 3 4 5 x 7\n",
	                                &st),
	                 0);
	assert_int_equal(st.start_ticks, 77);
	assert_int_equal(st.start_stack, 0);
}

/* utime and stime (fields 14, 15), which the metrics file reads for the
 * daemon's own threads. */
static void test_stat_cpu_times(void **state)
{
	struct lin_stat st;

	(void)state;
	assert_int_equal(parse_stat_str("812 (lin-events) S 1 812 812 0 -1 4194368 0 0 0 0 1234 "
	                                "567 0 0 -11 -10 5 0 4242 0 0 18446744073709551615 0\n",
	                                &st),
	                 0);
	assert_string_equal(st.comm, "lin-events");
	assert_int_equal(st.utime_ticks, 1234);
	assert_int_equal(st.stime_ticks, 567);
	assert_int_equal(st.start_ticks, 4242);
	/* A negative time is no time: rejected. */
	assert_int_equal(parse_stat_str("812 (x) S 1 812 812 0 -1 0 0 0 0 0 -1 567 0 0 20 0 1 0 "
	                                "4242 0 0 0 0\n",
	                                &st),
	                 -EINVAL);
}

static void test_stat_hostile_comm(void **state)
{
	static const char *const comms[] = {"a b) (c", ") )",        "",  "(",
	                                    ")",       "x) S 1 2 3", " ", "((("};
	struct lin_stat st;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(comms); i++) {
		g_autofree char *line = stat_with_comm(comms[i]);

		assert_int_equal(parse_stat_str(line, &st), 0);
		assert_string_equal(st.comm, comms[i]);
		assert_int_equal(st.pid, 7);
		assert_int_equal(st.state, 'S');
		assert_int_equal(st.ppid, 1);
		assert_int_equal(st.flags, 4194560);
		assert_int_equal(st.start_ticks, 123456);
	}
}

static void test_stat_long_comm(void **state)
{
	g_autofree char *comm = g_strnfill(200, 'w');
	g_autofree char *line = stat_with_comm(comm);
	struct lin_stat st;

	(void)state;
	assert_int_equal(parse_stat_str(line, &st), 0);
	assert_int_equal(strlen(st.comm), LIN_COMM_MAX - 1);
	assert_int_equal(st.start_ticks, 123456);
}

static void test_stat_kthread(void **state)
{
	static const char line[] =
	    "2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 5 0 0 20 0 1 0 0 0 0 "
	    "18446744073709551615 0 0 0 0 0 0 0 2147483647 0 0 0 0 17 1 0 "
	    "0 0 0 0 0 0 0 0 0 0 0 0\n";
	struct lin_stat st;

	(void)state;
	assert_int_equal(parse_stat_str(line, &st), 0);
	assert_true(st.flags & LIN_PF_KTHREAD);
	assert_int_equal(st.ppid, 0);
	assert_int_equal(st.start_ticks, 0);
}

static void test_stat_truncated(void **state)
{
	static const char line[] = REAL_STAT;
	/* Field 22 ("31258") and the space that proves it was not cut. */
	const char *after_start = strstr(line, " 31258 ") + strlen(" 31258");
	size_t complete = (size_t)(after_start - line) + 1;
	struct lin_stat st;

	(void)state;
	for (size_t len = 0; len < complete; len++)
		assert_int_equal(parse_stat_exact(line, len, &st), -EINVAL);
	for (size_t len = complete; len <= strlen(line); len++) {
		assert_int_equal(parse_stat_exact(line, len, &st), 0);
		assert_int_equal(st.start_ticks, 31258);
	}
}

static void test_stat_garbage(void **state)
{
	static const char *const lines[] = {
	    "",
	    "(",
	    ")",
	    "()",
	    "abc",
	    "\n",
	    "1 (x)",
	    "1 (x) S",
	    "1 x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
	    "(x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
	    "1(x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
	    "0 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
	    "-1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
	    "1a (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
	    "1 (x)  S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
	    "1 (x) SS 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
	    "1 (x) S -1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
	    "1 (x) S 1 1 1 0 -1 -4 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
	    "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 -5 0\n",
	    "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5x 0\n",
	    "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5\t0\n",
	    "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5",
	    "1 (x) S 1 1 1 0 - 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
	    "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 \n",
	    "1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n",
	};
	struct lin_stat st;

	(void)state;
	/* All but the last are malformed. */
	for (size_t i = 0; i + 1 < G_N_ELEMENTS(lines); i++) {
		if (parse_stat_str(lines[i], &st) != -EINVAL)
			fail_msg("accepted: \"%s\"", lines[i]);
	}
	assert_int_equal(parse_stat_str(lines[G_N_ELEMENTS(lines) - 1], &st), 0);
	assert_int_equal(st.start_ticks, 5);

	/* A NUL inside a number is not a digit. */
	{
		static const char nul_line[] =
		    "1 (x) S 1\0 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n";

		assert_int_equal(parse_stat_exact(nul_line, sizeof(nul_line) - 1, &st), -EINVAL);
	}
	assert_int_equal(proc_scan_parse_stat(NULL, 0, &st), -EINVAL);
}

static void test_stat_huge_numbers(void **state)
{
	struct lin_stat st;

	(void)state;
	/* The largest values each field can hold. */
	assert_int_equal(
	    parse_stat_str("2147483647 (x) S 2147483647 1 1 0 -1 4294967295 0 0 0 0 0 0 "
	                   "0 0 20 -20 1 0 18446744073709551615 0\n",
	                   &st),
	    0);
	assert_int_equal(st.pid, G_MAXINT32);
	assert_int_equal(st.ppid, G_MAXINT32);
	assert_int_equal(st.flags, G_MAXUINT32);
	assert_true(st.start_ticks == G_MAXUINT64);

	/* One more than that, field by field. */
	assert_int_equal(
	    parse_stat_str("2147483648 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", &st),
	    -EINVAL);
	assert_int_equal(
	    parse_stat_str("1 (x) S 2147483648 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", &st),
	    -EINVAL);
	assert_int_equal(
	    parse_stat_str("1 (x) S 1 1 1 0 -1 4294967296 0 0 0 0 0 0 0 0 20 0 1 0 5 0\n", &st),
	    -EINVAL);
	assert_int_equal(parse_stat_str("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
	                                "18446744073709551616 0\n",
	                                &st),
	                 -EINVAL);
	assert_int_equal(parse_stat_str("1 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 "
	                                "99999999999999999999999999 0\n",
	                                &st),
	                 -EINVAL);
	/* Fields that are not kept are still numbers that fit 64 bits. */
	assert_int_equal(
	    parse_stat_str("1 (x) S 1 1 1 0 -9223372036854775808 0 0 0 0 0 0 0 0 0 20 0 "
	                   "1 0 5 0\n",
	                   &st),
	    0);
	assert_int_equal(
	    parse_stat_str("1 (x) S 1 1 1 0 -9223372036854775809 0 0 0 0 0 0 0 0 0 20 0 "
	                   "1 0 5 0\n",
	                   &st),
	    -EINVAL);
	assert_int_equal(
	    parse_stat_str("1 (x) S 1 1 1 0 -1 0 99999999999999999999 0 0 0 0 0 0 0 20 "
	                   "0 1 0 5 0\n",
	                   &st),
	    -EINVAL);
}

/* --- status --- */

static void test_status_real(void **state)
{
	struct lin_status st;

	(void)state;
	assert_int_equal(parse_status_str(REAL_STATUS, &st), 0);
	assert_int_equal(st.tgid, 3209);
	assert_int_equal(st.ruid, 1000);
	assert_int_equal(st.euid, 0);
	assert_int_equal(st.rgid, 100);
	assert_int_equal(st.egid, 5);
	assert_int_equal(st.threads, 3);

	/* The last line without its newline is still whole. */
	assert_int_equal(
	    parse_status_str("Tgid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t12", &st), 0);
	assert_int_equal(st.threads, 12);
	/* Largest ids. */
	assert_int_equal(parse_status_str("Tgid:\t2147483647\nUid:\t4294967295\t4294967294\t0\t0\n"
	                                  "Gid:\t65534\t65534\t0\t0\nThreads:\t1\n",
	                                  &st),
	                 0);
	assert_int_equal(st.tgid, G_MAXINT32);
	assert_true(st.ruid == 4294967295u);
	assert_true(st.euid == 4294967294u);
}

static void test_status_malformed(void **state)
{
	static const char *const texts[] = {
	    "",
	    "\n\n\n",
	    /* A required line missing. */
	    "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
	    "Tgid:\t1\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
	    "Tgid:\t1\nUid:\t0\t0\t0\t0\nThreads:\t1\n",
	    "Tgid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n",
	    /* Wrong column counts. */
	    "Tgid:\t1\nUid:\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
	    "Tgid:\t1\nUid:\t0\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
	    "Tgid:\t1 2\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
	    "Tgid:\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
	    /* Not numbers, too large. */
	    "Tgid:\tx\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
	    "Tgid:\t-1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
	    "Tgid:\t2147483648\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
	    "Tgid:\t1\nUid:\t4294967296\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
	    "Tgid:\t1\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1kB\n",
	    /* The same line twice. */
	    "Tgid:\t1\nTgid:\t2\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n",
	};
	struct lin_status st;

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
		if (parse_status_str(texts[i], &st) != -EINVAL)
			fail_msg("accepted: \"%s\"", texts[i]);
	}
}

static void test_status_truncated(void **state)
{
	static const char text[] = REAL_STATUS;
	/* The end of the Threads value, the last needed field. */
	size_t complete = (size_t)(strstr(text, "Threads:\t3") - text) + strlen("Threads:\t3");
	struct lin_status st;

	(void)state;
	for (size_t len = 0; len < complete; len++) {
		g_autofree char *copy = g_memdup2(text, len);

		assert_int_equal(proc_scan_parse_status(copy, len, &st), -EINVAL);
	}
	assert_int_equal(proc_scan_parse_status(text, complete, &st), 0);
	assert_int_equal(st.threads, 3);
}

/* --- read_process on a fake tree --- */

static int setup_fake(void **state)
{
	*state = fakeproc_new();
	return 0;
}

static int teardown_fake(void **state)
{
	fakeproc_free(*state);
	return 0;
}

static void test_read_process(void **state)
{
	static const char argv[] = "sleep\0"
	                           "10\0";
	struct fakeproc *fp = *state;
	struct fakeproc_proc proc = {
	    .pid = 100,
	    .ppid = 1,
	    .start_ticks = 5000,
	    .comm = "sleep",
	    .state = 'S',
	    .uid = 1000,
	    .gid = 100,
	    .cmdline = argv,
	    .cmdline_len = sizeof(argv) - 1,
	    .exe = "/usr/bin/sleep",
	};
	struct lin_proc_info info;

	fakeproc_add(fp, &proc);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 100, 0, PROC_READ_ALL, 0, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_ALL);
	assert_int_equal(info.stat.pid, 100);
	assert_int_equal(info.stat.ppid, 1);
	assert_string_equal(info.stat.comm, "sleep");
	assert_int_equal(info.stat.start_ticks, 5000);
	assert_int_equal(info.status.tgid, 100);
	assert_int_equal(info.status.ruid, 1000);
	assert_int_equal(info.status.egid, 100);
	assert_int_equal(info.status.threads, 1);
	assert_int_equal(info.cmdline_len, sizeof(argv) - 1);
	assert_memory_equal(info.cmdline, argv, sizeof(argv) - 1);
	assert_false(info.cmdline_truncated);
	assert_string_equal(info.exe, "/usr/bin/sleep");
	lin_proc_info_clear(&info);
	assert_null(info.cmdline);
	assert_null(info.exe);

	/* The right start time is accepted. */
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 100, 5000, PROC_READ_ALL, 0, &info), 0);
	lin_proc_info_clear(&info);

	/* Only what was asked (stat always). */
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 100, 0, PROC_READ_STAT, 0, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_STAT);
	assert_null(info.cmdline);
	assert_null(info.exe);
	lin_proc_info_clear(&info);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 100, 0, PROC_READ_EXE, 0, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_STAT | PROC_READ_EXE);
	assert_string_equal(info.exe, "/usr/bin/sleep");
	lin_proc_info_clear(&info);
}

static void test_read_process_recycled(void **state)
{
	struct fakeproc *fp = *state;
	struct fakeproc_proc proc = {.pid = 200, .ppid = 1, .start_ticks = 777, .exe = "/bin/a"};
	struct lin_proc_info info;

	fakeproc_add(fp, &proc);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 200, 777, PROC_READ_ALL, 0, &info), 0);
	lin_proc_info_clear(&info);

	/* pid 200 exits and is reused by another process. */
	proc.start_ticks = 900;
	proc.exe = "/bin/b";
	fakeproc_add(fp, &proc);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 200, 777, PROC_READ_ALL, 0, &info),
	    -ESRCH);
	assert_null(info.exe);
	assert_int_equal(info.read_ok, 0);
	assert_int_equal(info.read_gone, PROC_READ_ALL);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 200, 900, PROC_READ_ALL, 0, &info), 0);
	assert_int_equal(info.read_gone, 0);
	assert_string_equal(info.exe, "/bin/b");
	lin_proc_info_clear(&info);

	/* Gone. */
	fakeproc_remove(fp, 200);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 200, 0, PROC_READ_ALL, 0, &info), -ENOENT);
	assert_int_equal(info.read_gone, PROC_READ_ALL);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 0, 0, PROC_READ_ALL, 0, &info), -EINVAL);
	assert_int_equal(info.read_gone, 0);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), -5, 0, PROC_READ_ALL, 0, &info), -EINVAL);
}

/* The event thread begins a read on EXEC and finishes it later: what the
 * begin read (cmdline, exe, and stat, which says whose they are) survives
 * the process's exit and even its reaping; only status, read at the
 * finish, is then missing. */
static void test_read_in_two_halves(void **state)
{
	static const char argv[] = "/bin/true\0"
	                           "x\0";
	struct fakeproc *fp = *state;
	struct fakeproc_proc proc = {.pid = 400,
	                             .ppid = 1,
	                             .start_ticks = 42,
	                             .comm = "true",
	                             .uid = 7,
	                             .cmdline = argv,
	                             .cmdline_len = sizeof(argv) - 1,
	                             .exe = "/usr/bin/true"};
	g_autofree char *cmdline_path = g_strdup_printf("%s/400/cmdline", fakeproc_path(fp));
	g_autofree char *exe_path = g_strdup_printf("%s/400/exe", fakeproc_path(fp));
	struct lin_proc_info info;
	struct proc_read r;

	/* Begun, then the process exits: empty cmdline, no exe, stat kept. */
	fakeproc_add(fp, &proc);
	proc_scan_begin(fakeproc_root_fd(fp), 400, PROC_READ_ALL, 0, &r);
	assert_non_null(proc_scan_begun_stat(&r));
	assert_int_equal(proc_scan_begun_stat(&r)->start_ticks, 42);
	assert_int_equal(truncate(cmdline_path, 0), 0);
	assert_int_equal(unlink(exe_path), 0);
	assert_int_equal(proc_scan_finish(&r, 42, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_ALL);
	assert_int_equal(info.cmdline_len, sizeof(argv) - 1);
	assert_memory_equal(info.cmdline, argv, sizeof(argv) - 1);
	assert_string_equal(info.exe, "/usr/bin/true");
	assert_string_equal(info.stat.comm, "true");
	assert_int_equal(info.status.ruid, 7);
	assert_int_equal(r.dirfd, -1);
	lin_proc_info_clear(&info);

	/* Begun, then reaped and the pid reused: the begun reads stand (stat
	 * said whose they are), status is missing, nothing of the new holder
	 * leaks in. */
	fakeproc_add(fp, &proc);
	proc_scan_begin(fakeproc_root_fd(fp), 400, PROC_READ_ALL, 0, &r);
	proc.start_ticks = 43;
	proc.exe = "/usr/bin/other";
	proc.uid = 8;
	fakeproc_add(fp, &proc);
	assert_int_equal(proc_scan_finish(&r, 0, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_STAT | PROC_READ_CMDLINE | PROC_READ_EXE);
	assert_int_equal(info.stat.start_ticks, 42);
	assert_string_equal(info.exe, "/usr/bin/true");
	assert_memory_equal(info.cmdline, argv, sizeof(argv) - 1);
	lin_proc_info_clear(&info);

	/* Begun after the exit: the empty cmdline is a miss, not an argv. */
	assert_int_equal(truncate(cmdline_path, 0), 0);
	assert_int_equal(unlink(exe_path), 0);
	proc_scan_begin(fakeproc_root_fd(fp), 400, PROC_READ_ALL, 0, &r);
	assert_int_equal(proc_scan_finish(&r, 43, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_STAT | PROC_READ_STATUS);
	assert_null(info.cmdline);
	lin_proc_info_clear(&info);

	/* The wrong start time. */
	proc_scan_begin(fakeproc_root_fd(fp), 400, PROC_READ_ALL, 0, &r);
	assert_int_equal(proc_scan_finish(&r, 42, &info), -ESRCH);
	assert_int_equal(info.read_ok, 0);

	/* Begun on a pid that is not there, or a bad one. */
	proc_scan_begin(fakeproc_root_fd(fp), 401, PROC_READ_ALL, 0, &r);
	assert_int_equal(r.err, -ENOENT);
	assert_int_equal(proc_scan_finish(&r, 0, &info), -ENOENT);
	proc_scan_begin(fakeproc_root_fd(fp), -1, PROC_READ_ALL, 0, &r);
	assert_int_equal(proc_scan_finish(&r, 0, &info), -EINVAL);

	/* Abandoned: the fd closed and the reads freed (the leak checker
	 * would say otherwise); abandoning twice is harmless. */
	fakeproc_add(fp, &proc);
	proc_scan_begin(fakeproc_root_fd(fp), 400, PROC_READ_ALL, 0, &r);
	assert_true(r.dirfd >= 0);
	assert_non_null(r.info.cmdline);
	proc_scan_abandon(&r);
	assert_int_equal(r.dirfd, -1);
	assert_null(r.info.cmdline);
	proc_scan_abandon(&r);
}

static void test_read_process_no_exe(void **state)
{
	struct fakeproc *fp = *state;
	struct fakeproc_proc proc = {
	    .pid = 300, .ppid = 1, .start_ticks = 1, .cmdline = "x", .cmdline_len = 2};
	struct lin_proc_info info;

	/* A user process whose exe cannot be read: not a success. */
	fakeproc_add(fp, &proc);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 300, 0, PROC_READ_ALL, 0, &info), 0);
	assert_null(info.exe);
	assert_int_equal(info.read_ok, PROC_READ_ALL & ~PROC_READ_EXE);
	/* No exe link: what a user process's exit does. */
	assert_int_equal(info.read_gone, PROC_READ_EXE);
	assert_int_equal(info.cmdline_len, 2);
	lin_proc_info_clear(&info);

	/* A deleted executable keeps the kernel's suffix. */
	proc.exe = "/tmp/build/a.out (deleted)";
	fakeproc_add(fp, &proc);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 300, 0, PROC_READ_ALL, 0, &info), 0);
	assert_string_equal(info.exe, "/tmp/build/a.out (deleted)");
	lin_proc_info_clear(&info);

	/* Exiting: its memory is gone, so cmdline reads empty and exe fails.
	 * That is a missed cmdline, not an empty one. */
	proc.exe = NULL;
	proc.cmdline = "";
	proc.cmdline_len = 0;
	fakeproc_add(fp, &proc);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 300, 0, PROC_READ_ALL, 0, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_STAT | PROC_READ_STATUS);
	assert_int_equal(info.read_gone, PROC_READ_CMDLINE | PROC_READ_EXE);
	lin_proc_info_clear(&info);

	/* An empty argv (execve with argv NULL) with its exe readable is real. */
	proc.exe = "/usr/bin/pkexec";
	fakeproc_add(fp, &proc);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 300, 0, PROC_READ_ALL, 0, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_ALL);
	assert_int_equal(info.cmdline_len, 0);
	lin_proc_info_clear(&info);
}

static void test_read_process_long_exe(void **state)
{
	struct fakeproc *fp = *state;
	/* The longest target a symlink can hold (PATH_MAX - 1). */
	g_autofree char *exe = g_strnfill(4095, 'e');
	struct fakeproc_proc proc = {.pid = 301, .ppid = 1, .start_ticks = 1};
	struct lin_proc_info info;

	exe[0] = '/';
	for (size_t i = 100; i < 4095; i += 100)
		exe[i] = '/';
	proc.exe = exe;
	fakeproc_add(fp, &proc);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 301, 0, PROC_READ_ALL, 0, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_ALL);
	assert_string_equal(info.exe, exe);
	lin_proc_info_clear(&info);
}

static void test_read_process_kthread(void **state)
{
	struct fakeproc *fp = *state;
	struct fakeproc_proc proc = {
	    .pid = 2,
	    .ppid = 0,
	    .start_ticks = 0,
	    .comm = "kthreadd",
	    .flags = 0x00208040,
	};
	struct fakeproc_proc worker = {
	    .pid = 45,
	    .ppid = 2,
	    .start_ticks = 3,
	    .comm = "kworker/0:1-events",
	    .state = 'I',
	    .flags = 0x04208060,
	};
	struct lin_proc_info info;

	fakeproc_add(fp, &proc);
	fakeproc_add(fp, &worker);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 2, 0, PROC_READ_ALL, 0, &info), 0);
	/* No cmdline and no exe is the complete answer for a kernel thread. */
	assert_int_equal(info.read_ok, PROC_READ_ALL);
	assert_true(info.stat.flags & LIN_PF_KTHREAD);
	assert_null(info.cmdline);
	assert_int_equal(info.cmdline_len, 0);
	assert_null(info.exe);
	assert_string_equal(info.stat.comm, "kthreadd");
	lin_proc_info_clear(&info);

	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 45, 0, PROC_READ_ALL, 0, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_ALL);
	assert_string_equal(info.stat.comm, "kworker/0:1-events");
	assert_int_equal(info.stat.state, 'I');
	assert_int_equal(info.stat.ppid, 2);
	lin_proc_info_clear(&info);
}

/* Checks a cmdline of len bytes read with the cap max (0: the default):
 * whole when it fits, else both ends, and the length and SHA-256 of the
 * whole once it is long or cut. */
static void check_cmdline(struct fakeproc *fp, gsize len, gsize max)
{
	g_autofree char *argv = g_malloc(len ? len : 1);
	g_autofree char *sha = NULL;
	struct fakeproc_proc proc = {.pid = 400, .ppid = 1, .start_ticks = 9, .exe = "/bin/sh"};
	gsize cap = max ? MAX(max, LIN_CMDLINE_MIN_CAP) : LIN_CMDLINE_KERNEL_MAX;
	gsize want = MIN(len, cap);
	gsize head = cap - cap / 2;
	struct lin_proc_info info;

	for (gsize i = 0; i < len; i++)
		argv[i] = (i % 7 == 6) ? '\0' : (char)('a' + i % 26 + (i / 4099) % 3);
	sha = g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)argv, len);
	proc.cmdline = argv;
	proc.cmdline_len = len;
	fakeproc_add(fp, &proc);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 400, 9, PROC_READ_ALL, max, &info), 0);
	assert_true(info.read_ok & PROC_READ_CMDLINE);
	assert_int_equal(info.cmdline_len, want);
	assert_int_equal(info.cmdline_truncated, len > cap);
	if (len <= cap) {
		if (want)
			assert_memory_equal(info.cmdline, argv, want);
		else
			assert_null(info.cmdline);
	} else {
		assert_memory_equal(info.cmdline, argv, head);
		assert_memory_equal(info.cmdline + head, argv + len - cap / 2, cap / 2);
	}
	if (len >= LIN_CMDLINE_INLINE || len > cap) {
		assert_int_equal(info.cmdline_full_len, len);
		assert_string_equal(info.cmdline_sha256, sha);
	} else {
		assert_int_equal(info.cmdline_full_len, 0);
		assert_string_equal(info.cmdline_sha256, "");
	}
	lin_proc_info_clear(&info);
}

static void test_read_process_cmdline(void **state)
{
	static const gsize lens[] = {0,
	                             1,
	                             4095,
	                             4096,
	                             4097,
	                             10000,
	                             LIN_CMDLINE_INLINE - 1,
	                             LIN_CMDLINE_INLINE,
	                             LIN_CMDLINE_INLINE + 1,
	                             200 * 1000,
	                             1900 * 1000};
	static const gsize caps[] = {0, 1, 64, 65, 4096, 100 * 1000, 1900 * 1000};

	for (size_t i = 0; i < G_N_ELEMENTS(lens); i++)
		for (size_t j = 0; j < G_N_ELEMENTS(caps); j++)
			check_cmdline(*state, lens[i], caps[j]);
	/* The kernel's own limit, with the default cap: whole. */
	check_cmdline(*state, LIN_CMDLINE_KERNEL_MAX, 0);
	check_cmdline(*state, LIN_CMDLINE_KERNEL_MAX + 1, 0);
}

/* A long command line whose process exits during the read (after the
 * read that begins it): the rest of the file and the exe link go. */
static void vanish_during_read(struct fakeproc *fp, pid_t pid, gsize left)
{
	g_autofree char *cmdline = g_strdup_printf("%s/%d/cmdline", fakeproc_path(fp), pid);
	g_autofree char *exe = g_strdup_printf("%s/%d/exe", fakeproc_path(fp), pid);

	assert_int_equal(truncate(cmdline, (off_t)left), 0);
	assert_int_equal(unlink(exe), 0);
}

/* A long command line whose process exits during the read: the kernel
 * ends the file early. Its stat announced the length: what was read is
 * flagged cut, with that length and no hash, never passed off as whole;
 * its last bytes, where padding pushes a payload, were read first. */
static void test_read_process_cmdline_vanished(void **state)
{
	struct fakeproc *fp = *state;
	gsize len = 300 * 1000;
	gsize tail = LIN_CMDLINE_INLINE;
	g_autofree char *argv = g_malloc0(len);
	g_autofree char *path = NULL;
	struct fakeproc_proc proc = {.pid = 410, .ppid = 1, .start_ticks = 9, .exe = "/bin/sh"};
	struct lin_proc_info info;
	struct proc_read r;

	for (gsize i = 0; i + 1 < len; i++)
		argv[i] = i % 1000 == 999 ? '\0' : (char)('a' + i / 1000 % 26);
	memcpy(argv + len - 9, "payload!", 8);
	proc.cmdline = argv;
	proc.cmdline_len = len;
	fakeproc_add(fp, &proc);
	proc_scan_begin(fakeproc_root_fd(fp), 410, PROC_READ_ALL, 0, &r);
	assert_true(proc_scan_cmdline_pending(&r));
	vanish_during_read(fp, 410, 100 * 1000);
	proc_scan_cmdline_finish(&r);
	assert_false(proc_scan_cmdline_pending(&r));
	assert_int_equal(proc_scan_finish(&r, 9, &info), 0);
	assert_true(info.cmdline_truncated);
	assert_int_equal(info.cmdline_len, 100 * 1000 + tail);
	assert_memory_equal(info.cmdline, argv, 100 * 1000);
	assert_memory_equal(info.cmdline + 100 * 1000, argv + len - tail, tail);
	assert_int_equal(info.cmdline_full_len, len);
	assert_string_equal(info.cmdline_sha256, "");
	lin_proc_info_clear(&info);

	/* Gone after more than the early tail's start: no byte twice, and
	 * every byte read, so whole, with the whole's hash. */
	fakeproc_add(fp, &proc);
	proc_scan_begin(fakeproc_root_fd(fp), 410, PROC_READ_ALL, 0, &r);
	vanish_during_read(fp, 410, len - 1000);
	assert_int_equal(proc_scan_finish(&r, 9, &info), 0);
	assert_false(info.cmdline_truncated);
	assert_int_equal(info.cmdline_len, len);
	assert_memory_equal(info.cmdline, argv, len);
	assert_int_equal(info.cmdline_full_len, len);
	{
		g_autofree char *sum =
		    g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)argv, len);

		assert_string_equal(info.cmdline_sha256, sum);
	}
	lin_proc_info_clear(&info);

	/* With a cap, the two ends of the cap, the early tail's share of it
	 * included. */
	fakeproc_add(fp, &proc);
	proc_scan_begin(fakeproc_root_fd(fp), 410, PROC_READ_ALL, 100 * 1000, &r);
	vanish_during_read(fp, 410, 100 * 1000);
	assert_int_equal(proc_scan_finish(&r, 9, &info), 0);
	assert_true(info.cmdline_truncated);
	assert_int_equal(info.cmdline_len, 100 * 1000);
	assert_memory_equal(info.cmdline, argv, 50 * 1000);
	assert_memory_equal(info.cmdline + 50 * 1000, argv + len - 50 * 1000, 50 * 1000);
	assert_int_equal(info.cmdline_full_len, len);
	lin_proc_info_clear(&info);

	/* Shorter than its argv area (setproctitle), but alive: whole. */
	fakeproc_add(fp, &proc);
	g_free(path);
	path = g_strdup_printf("%s/410/cmdline", fakeproc_path(fp));
	assert_int_equal(truncate(path, 100 * 1000), 0);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 410, 9, PROC_READ_ALL, 0, &info), 0);
	assert_false(info.cmdline_truncated);
	assert_int_equal(info.cmdline_len, 100 * 1000);
	assert_int_equal(info.cmdline_full_len, 100 * 1000);
	assert_int_equal(strlen(info.cmdline_sha256), 64);
	lin_proc_info_clear(&info);

	/* Begun and abandoned with the rest unread: the fd is closed. */
	fakeproc_add(fp, &proc);
	proc_scan_begin(fakeproc_root_fd(fp), 410, PROC_READ_ALL, 0, &r);
	assert_true(proc_scan_cmdline_pending(&r));
	proc_scan_abandon(&r);
	assert_false(proc_scan_cmdline_pending(&r));
}

static void test_read_process_bad_files(void **state)
{
	struct fakeproc *fp = *state;
	struct fakeproc_proc proc = {.pid = 500, .ppid = 1, .start_ticks = 42, .exe = "/bin/x"};
	struct lin_proc_info info;
	g_autofree char *path = NULL;

	/* status missing: the rest still reads. */
	fakeproc_add(fp, &proc);
	path = g_strdup_printf("%s/500/status", fakeproc_path(fp));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 500, 42, PROC_READ_ALL, 0, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_ALL & ~PROC_READ_STATUS);
	assert_string_equal(info.exe, "/bin/x");
	lin_proc_info_clear(&info);

	/* A cmdline that fails to read (EISDIR here; EMFILE, EACCES on a
	 * real /proc) while the process is there: neither read nor gone. */
	g_free(path);
	path = g_strdup_printf("%s/500/cmdline", fakeproc_path(fp));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkdir(path, 0755), 0);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 500, 42, PROC_READ_ALL, 0, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_ALL & ~(PROC_READ_STATUS | PROC_READ_CMDLINE));
	assert_int_equal(info.read_gone, 0);
	lin_proc_info_clear(&info);
	assert_int_equal(rmdir(path), 0);

	/* A malformed stat fails the whole read. */
	g_free(path);
	path = g_strdup_printf("%s/500/stat", fakeproc_path(fp));
	assert_true(g_file_set_contents(path, "500 (x) S 1 garbage\n", -1, NULL));
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 500, 0, PROC_READ_ALL, 0, &info), -EINVAL);
	assert_null(info.exe);
	/* Not a sign of exit: a read error. */
	assert_int_equal(info.read_gone, 0);

	/* No stat at all: the directory of a task being torn down. */
	assert_int_equal(unlink(path), 0);
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 500, 0, PROC_READ_ALL, 0, &info), -ENOENT);
}

/* --- foreach and threads --- */

static void collect_pid(const struct lin_proc_info *info, void *data)
{
	GArray *pids = data;

	/* Everything foreach reports was read whole. */
	assert_true(info->read_ok & PROC_READ_STAT);
	g_array_append_val(pids, info->stat.pid);
}

static gint cmp_pid(gconstpointer a, gconstpointer b)
{
	pid_t pa = *(const pid_t *)a, pb = *(const pid_t *)b;

	return (pa > pb) - (pa < pb);
}

static void mkdir_in(struct fakeproc *fp, const char *name)
{
	g_autofree char *path = g_build_filename(fakeproc_path(fp), name, NULL);

	assert_int_equal(mkdir(path, 0755), 0);
}

static void test_foreach(void **state)
{
	static const pid_t want[] = {1, 2, 17, 4000, 4194304};
	struct fakeproc *fp = *state;
	g_autoptr(GArray) pids = g_array_new(FALSE, FALSE, sizeof(pid_t));
	g_autofree char *self = g_build_filename(fakeproc_path(fp), "self", NULL);

	/* An empty /proc. */
	assert_int_equal(proc_scan_foreach(fakeproc_root_fd(fp), 0, collect_pid, pids), 0);
	assert_int_equal(pids->len, 0);

	for (size_t i = 0; i < G_N_ELEMENTS(want); i++) {
		struct fakeproc_proc proc = {.pid = want[i],
		                             .ppid = 1,
		                             .start_ticks = 10 + i,
		                             .exe = i == 1 ? NULL : "/bin/sh",
		                             .flags = i == 1 ? LIN_PF_KTHREAD : 0};

		fakeproc_add(fp, &proc);
	}
	/* What /proc also holds and must not be taken for processes. */
	assert_int_equal(symlink("4000", self), 0);
	mkdir_in(fp, "sys");
	mkdir_in(fp, "123abc");
	mkdir_in(fp, "00x");
	mkdir_in(fp, "99999999999");
	/* A process that vanished between readdir and the read. */
	mkdir_in(fp, "77");

	assert_int_equal(proc_scan_foreach(fakeproc_root_fd(fp), 0, collect_pid, pids),
	                 G_N_ELEMENTS(want));
	g_array_sort(pids, cmp_pid);
	assert_int_equal(pids->len, G_N_ELEMENTS(want));
	assert_memory_equal(pids->data, want, sizeof(want));

	/* A second scan through the same root fd sees the same. */
	g_array_set_size(pids, 0);
	assert_int_equal(proc_scan_foreach(fakeproc_root_fd(fp), 0, collect_pid, pids),
	                 G_N_ELEMENTS(want));

	fakeproc_remove(fp, 17);
	g_array_set_size(pids, 0);
	assert_int_equal(proc_scan_foreach(fakeproc_root_fd(fp), 0, collect_pid, pids),
	                 G_N_ELEMENTS(want) - 1);
}

static void test_threads(void **state)
{
	static const pid_t tids[] = {601, 650, 602};
	struct fakeproc *fp = *state;
	struct fakeproc_proc proc = {
	    .pid = 600, .ppid = 1, .start_ticks = 1, .tids = tids, .ntids = 3};
	struct fakeproc_proc single = {.pid = 700, .ppid = 1, .start_ticks = 1};
	g_autoptr(GArray) found = g_array_new(FALSE, FALSE, sizeof(pid_t));
	struct lin_proc_info info;

	fakeproc_add(fp, &proc);
	fakeproc_add(fp, &single);
	assert_int_equal(proc_scan_threads(fakeproc_root_fd(fp), 600, found), 0);
	g_array_sort(found, cmp_pid);
	assert_int_equal(found->len, 3);
	assert_int_equal(g_array_index(found, pid_t, 0), 601);
	assert_int_equal(g_array_index(found, pid_t, 1), 602);
	assert_int_equal(g_array_index(found, pid_t, 2), 650);

	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 600, 0, PROC_READ_STATUS, 0, &info), 0);
	assert_int_equal(info.status.threads, 4);
	lin_proc_info_clear(&info);

	/* Appends, and a lone leader adds nothing. */
	assert_int_equal(proc_scan_threads(fakeproc_root_fd(fp), 700, found), 0);
	assert_int_equal(found->len, 3);
	assert_int_equal(proc_scan_threads(fakeproc_root_fd(fp), 701, found), -ENOENT);
	assert_int_equal(found->len, 3);
}

/* --- the real /proc --- */

static void test_real_self(void **state)
{
	g_autofree char *cmdline = NULL, *exe = NULL;
	struct lin_proc_info info;
	gsize cmdline_len;
	int proc_fd;

	(void)state;
	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(proc_fd >= 0);
	assert_true(g_file_get_contents("/proc/self/cmdline", &cmdline, &cmdline_len, NULL));
	exe = g_file_read_link("/proc/self/exe", NULL);
	assert_non_null(exe);

	assert_int_equal(proc_scan_read_process(proc_fd, getpid(), 0, PROC_READ_ALL, 0, &info), 0);
	assert_int_equal(info.read_ok, PROC_READ_ALL);
	assert_int_equal(info.stat.pid, getpid());
	assert_int_equal(info.stat.ppid, getppid());
	assert_int_equal(info.status.tgid, getpid());
	assert_int_equal(info.status.ruid, getuid());
	assert_int_equal(info.status.euid, geteuid());
	assert_int_equal(info.status.rgid, getgid());
	assert_false(info.stat.flags & LIN_PF_KTHREAD);
	assert_int_equal(info.cmdline_len, cmdline_len);
	assert_memory_equal(info.cmdline, cmdline, cmdline_len);
	assert_string_equal(info.exe, exe);

	/* The start time identifies this process and no other. */
	{
		guint64 start = info.stat.start_ticks;

		lin_proc_info_clear(&info);
		assert_int_equal(
		    proc_scan_read_process(proc_fd, getpid(), start, PROC_READ_STAT, 0, &info), 0);
		assert_int_equal(
		    proc_scan_read_process(proc_fd, getpid(), start + 1, PROC_READ_STAT, 0, &info),
		    -ESRCH);
	}
	close(proc_fd);
}

static void find_self(const struct lin_proc_info *info, void *data)
{
	int *seen = data;

	if (info->stat.pid == getpid()) {
		assert_true(info->read_ok & PROC_READ_EXE);
		(*seen)++;
	}
	/* Kernel threads come with nothing to free and no errors. */
	if (info->stat.flags & LIN_PF_KTHREAD) {
		assert_null(info->exe);
		assert_null(info->cmdline);
	}
}

static void test_real_foreach(void **state)
{
	int proc_fd, seen = 0, count;

	(void)state;
	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(proc_fd >= 0);
	count = proc_scan_foreach(proc_fd, 0, find_self, &seen);
	assert_true(count >= 1);
	assert_int_equal(seen, 1);
	close(proc_fd);
}

/* Reads what of pid as the event thread does on the live /proc (argv_in_memory);
 * *from_memory: whether the command line came from process_vm_readv(). */
static int read_as_events_with(int root_fd, pid_t pid, guint what, gboolean *from_memory,
                               struct lin_proc_info *out)
{
	const struct proc_context_opts opts = {.argv_in_memory = TRUE};
	struct proc_read r;

	proc_scan_begin_with(root_fd, pid, what, 0, &opts, &r);
	*from_memory = r.cmdline_from_memory;
	return proc_scan_finish(&r, 0, out);
}

static int read_as_events(int root_fd, pid_t pid, gboolean *from_memory, struct lin_proc_info *out)
{
	return read_as_events_with(root_fd, pid, PROC_READ_ALL, from_memory, out);
}

/* The memory read takes the argv area stat gives, in the process the pid
 * names; a fake tree for this very process points it at a buffer of ours
 * whose bytes differ from the cmdline file's, so the result tells which
 * was read. */
static void test_argv_memory_needs_exe(void **state)
{
	static char memory[] = "memo\0ry";    /* 8 bytes with the last NUL */
	static char retitled[] = "memo\0ryX"; /* no NUL at the end */
	static const char file[] = "file\0xx";
	struct fakeproc *fp = *state;
	struct fakeproc_proc proc = {
	    .pid = getpid(),
	    .ppid = 1,
	    .start_ticks = 5000,
	    .comm = "t",
	    .cmdline = file,
	    .cmdline_len = sizeof(file),
	    .exe = "/usr/bin/t",
	    .arg_start = (guint64)(uintptr_t)memory,
	};
	g_autofree char *long_file = g_malloc0(8192);
	g_autofree char *long_memory = g_malloc0(8192);
	struct lin_proc_info info;
	gboolean from_memory;

	fakeproc_add(fp, &proc);
	assert_int_equal(read_as_events(fakeproc_root_fd(fp), getpid(), &from_memory, &info), 0);
	assert_true(from_memory);
	assert_int_equal(info.read_ok, PROC_READ_ALL);
	assert_int_equal(info.cmdline_len, sizeof(memory));
	assert_memory_equal(info.cmdline, memory, sizeof(memory));
	lin_proc_info_clear(&info);

	/* An urgent read (an EXEC read late): the file, before stat. */
	assert_int_equal(read_as_events_with(fakeproc_root_fd(fp), getpid(),
	                                     PROC_READ_ALL | PROC_READ_URGENT, &from_memory, &info),
	                 0);
	assert_false(from_memory);
	assert_int_equal(info.read_ok, PROC_READ_ALL);
	assert_memory_equal(info.cmdline, file, sizeof(file));
	lin_proc_info_clear(&info);

	/* Without the option (a fake tree, another namespace's /proc), the
	 * file. */
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), getpid(), 0, PROC_READ_ALL, 0, &info), 0);
	assert_memory_equal(info.cmdline, file, sizeof(file));
	lin_proc_info_clear(&info);

	/* No exe: nothing proves the pid was this process at the memory read,
	 * so the file, read through the pinned directory, is taken. */
	proc.exe = NULL;
	fakeproc_add(fp, &proc);
	assert_int_equal(read_as_events(fakeproc_root_fd(fp), getpid(), &from_memory, &info), 0);
	assert_false(from_memory);
	assert_true(info.read_ok & PROC_READ_CMDLINE);
	assert_int_equal(info.cmdline_len, sizeof(file));
	assert_memory_equal(info.cmdline, file, sizeof(file));
	lin_proc_info_clear(&info);
	proc.exe = "/usr/bin/t";

	/* An argv area that does not end in a NUL (setproctitle()): the file,
	 * which the kernel continues into the environment. */
	proc.arg_start = (guint64)(uintptr_t)retitled;
	fakeproc_add(fp, &proc);
	assert_int_equal(read_as_events(fakeproc_root_fd(fp), getpid(), &from_memory, &info), 0);
	assert_false(from_memory);
	assert_memory_equal(info.cmdline, file, sizeof(file));
	lin_proc_info_clear(&info);

	/* An address not mapped: the file. */
	proc.arg_start = 4096;
	fakeproc_add(fp, &proc);
	assert_int_equal(read_as_events(fakeproc_root_fd(fp), getpid(), &from_memory, &info), 0);
	assert_false(from_memory);
	assert_memory_equal(info.cmdline, file, sizeof(file));
	lin_proc_info_clear(&info);

	/* Longer than one page: the file's head-and-tail reading. */
	memset(long_file, 'f', 8191);
	memset(long_memory, 'm', 8191);
	proc.cmdline = long_file;
	proc.cmdline_len = 8192;
	proc.arg_start = (guint64)(uintptr_t)long_memory;
	fakeproc_add(fp, &proc);
	assert_int_equal(read_as_events(fakeproc_root_fd(fp), getpid(), &from_memory, &info), 0);
	assert_false(from_memory);
	assert_int_equal(info.cmdline_len, 8192);
	assert_memory_equal(info.cmdline, long_file, 8192);
	lin_proc_info_clear(&info);
}

/* Forks and execs argv; returns once /proc shows the new image with its
 * arguments (a bounded poll: the exe link changes before the kernel sets
 * the argv area, the cmdline file is empty in between), the pid. */
static pid_t spawn_execd(char *const argv[])
{
	g_autofree char *real = realpath(argv[0], NULL);
	g_autofree char *exe_path = NULL, *cmdline_path = NULL;
	pid_t pid;

	assert_non_null(real);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* Gone with the test program, even when an assertion fails. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execv(argv[0], argv);
		_exit(127);
	}
	exe_path = g_strdup_printf("/proc/%d/exe", pid);
	cmdline_path = g_strdup_printf("/proc/%d/cmdline", pid);
	for (int i = 0; i < 5000; i++) {
		g_autofree char *exe = g_file_read_link(exe_path, NULL);
		g_autofree char *cmdline = NULL;
		gsize len = 0;

		if (exe && strcmp(exe, real) == 0 &&
		    g_file_get_contents(cmdline_path, &cmdline, &len, NULL) && len > 0)
			return pid;
		g_usleep(1000);
	}
	fail_msg("%s did not exec within 5 s", argv[0]);
	return -1;
}

static void reap(pid_t pid)
{
	int status;

	kill(pid, SIGKILL);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
}

/* The same bytes as /proc/<pid>/cmdline, from memory when short. */
static void test_real_argv_memory(void **state)
{
	/* A valid interval for sleep, 5,000 bytes long: "000...01". */
	g_autofree char *big = g_strnfill(5000, '0');
	char *short_argv[] = {"/bin/sleep", "1000", "--", NULL};
	char *long_argv[] = {"/bin/sleep", "1000", big, NULL};
	struct lin_proc_info info;
	gboolean from_memory;
	int proc_fd;
	pid_t pid;

	(void)state;
	big[4999] = '1';
	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(proc_fd >= 0);
	assert_true(proc_scan_is_live(proc_fd));

	pid = spawn_execd(short_argv);
	{
		g_autofree char *path = g_strdup_printf("/proc/%d/cmdline", pid);
		g_autofree char *file = NULL;
		gsize file_len;

		assert_true(g_file_get_contents(path, &file, &file_len, NULL));
		assert_int_equal(read_as_events(proc_fd, pid, &from_memory, &info), 0);
		assert_true(from_memory);
		assert_int_equal(info.read_ok, PROC_READ_ALL);
		assert_int_equal(info.cmdline_len, file_len);
		assert_memory_equal(info.cmdline, file, file_len);
		assert_memory_equal(info.cmdline,
		                    "/bin/sleep\0"
		                    "1000\0--",
		                    file_len);
		lin_proc_info_clear(&info);
	}
	/* A zombie has no memory: nothing read, and said so. */
	kill(pid, SIGKILL);
	{
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		assert_int_equal(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
	}
	assert_int_equal(read_as_events(proc_fd, pid, &from_memory, &info), 0);
	assert_false(from_memory);
	assert_false(info.read_ok & PROC_READ_CMDLINE);
	assert_true(info.read_gone & PROC_READ_CMDLINE);
	lin_proc_info_clear(&info);
	reap(pid);

	pid = spawn_execd(long_argv);
	assert_int_equal(read_as_events(proc_fd, pid, &from_memory, &info), 0);
	assert_false(from_memory);
	assert_int_equal(info.cmdline_len, strlen("/bin/sleep") + 1 + 5 + 5001);
	assert_memory_equal(info.cmdline + info.cmdline_len - 5001, big, 5001);
	lin_proc_info_clear(&info);
	reap(pid);
	close(proc_fd);
}

/* A process that overwrote the NUL ending its argv area (setproctitle()
 * does): what the cmdline file shows, never the raw area. */
static void test_real_argv_retitled(void **state)
{
	g_autofree char *path = NULL, *file = NULL;
	struct lin_proc_info info;
	gboolean from_memory;
	gsize file_len;
	int ready[2], hold[2], proc_fd;
	char byte;
	pid_t pid;

	(void)state;
	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(proc_fd >= 0);
	assert_int_equal(pipe(ready), 0);
	/* The child waits for the end of hold, which comes at the end of
	 * this test or, after a failed assertion, of the test program. */
	assert_int_equal(pipe(hold), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct lin_proc_info self;

		close(ready[0]);
		close(hold[1]);
		if (proc_scan_read_process(proc_fd, getpid(), 0, PROC_READ_STAT, 0, &self) != 0)
			_exit(1);
		*(char *)(uintptr_t)(self.stat.arg_end - 1) = 'X';
		if (write(ready[1], "r", 1) != 1)
			_exit(1);
		while (read(hold[0], &byte, 1) < 0 && errno == EINTR)
			;
		_exit(0);
	}
	close(ready[1]);
	close(hold[0]);
	assert_int_equal(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	path = g_strdup_printf("/proc/%d/cmdline", pid);
	assert_true(g_file_get_contents(path, &file, &file_len, NULL));
	assert_int_equal(read_as_events(proc_fd, pid, &from_memory, &info), 0);
	assert_false(from_memory);
	assert_int_equal(info.cmdline_len, file_len);
	assert_memory_equal(info.cmdline, file, file_len);
	lin_proc_info_clear(&info);
	close(hold[1]);
	reap(pid);
	close(proc_fd);
}

/* Only our own namespace's procfs is live. */
static void test_is_live(void **state)
{
	struct fakeproc *fp = *state;
	int proc_fd, tmp_fd;

	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	tmp_fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(proc_fd >= 0 && tmp_fd >= 0);
	assert_true(proc_scan_is_live(proc_fd));
	assert_false(proc_scan_is_live(tmp_fd));
	assert_false(proc_scan_is_live(fakeproc_root_fd(fp)));
	/* A fake tree whose "self" names us is still not procfs. */
	assert_int_equal(symlinkat("1", fakeproc_root_fd(fp), "self"), 0);
	assert_false(proc_scan_is_live(fakeproc_root_fd(fp)));
	close(proc_fd);
	close(tmp_fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stat_real),
	    cmocka_unit_test(test_stat_old_kernel),
	    cmocka_unit_test(test_stat_cpu_times),
	    cmocka_unit_test(test_stat_hostile_comm),
	    cmocka_unit_test(test_stat_long_comm),
	    cmocka_unit_test(test_stat_kthread),
	    cmocka_unit_test(test_stat_truncated),
	    cmocka_unit_test(test_stat_garbage),
	    cmocka_unit_test(test_stat_huge_numbers),
	    cmocka_unit_test(test_status_real),
	    cmocka_unit_test(test_status_malformed),
	    cmocka_unit_test(test_status_truncated),
	    cmocka_unit_test_setup_teardown(test_read_process, setup_fake, teardown_fake),
	    cmocka_unit_test_setup_teardown(test_read_process_recycled, setup_fake, teardown_fake),
	    cmocka_unit_test_setup_teardown(test_read_process_no_exe, setup_fake, teardown_fake),
	    cmocka_unit_test_setup_teardown(test_read_process_long_exe, setup_fake, teardown_fake),
	    cmocka_unit_test_setup_teardown(test_read_process_kthread, setup_fake, teardown_fake),
	    cmocka_unit_test_setup_teardown(test_read_process_cmdline, setup_fake, teardown_fake),
	    cmocka_unit_test_setup_teardown(test_read_process_cmdline_vanished, setup_fake,
	                                    teardown_fake),
	    cmocka_unit_test_setup_teardown(test_read_process_bad_files, setup_fake, teardown_fake),
	    cmocka_unit_test_setup_teardown(test_read_in_two_halves, setup_fake, teardown_fake),
	    cmocka_unit_test_setup_teardown(test_foreach, setup_fake, teardown_fake),
	    cmocka_unit_test_setup_teardown(test_threads, setup_fake, teardown_fake),
	    cmocka_unit_test(test_real_self),
	    cmocka_unit_test(test_real_foreach),
	    cmocka_unit_test_setup_teardown(test_argv_memory_needs_exe, setup_fake, teardown_fake),
	    cmocka_unit_test(test_real_argv_memory),
	    cmocka_unit_test(test_real_argv_retitled),
	    cmocka_unit_test_setup_teardown(test_is_live, setup_fake, teardown_fake),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
