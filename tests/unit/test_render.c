/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for fs/render.c: the exact text of status, ancestry, stats and
 * symlink targets rendered from records built by hand (a creator chain with
 * a running shell, a child that exited with 3, a grandchild killed by
 * SIGKILL with a core, a kernel thread), and the parsing of names.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "render.h"

/* 2026-11-22T14:33:20Z: the wall-clock time of tick 0. */
#define BOOT_REALTIME_NS G_GUINT64_CONSTANT(1795358000000000000)
#define NS_PER_SEC       G_GUINT64_CONSTANT(1000000000)

/* sha256sum of the shell's cmdline "bash\0-l\0--xyz\0" (14 bytes); of
 * nothing; and a hash the reader gave for the child's cut line. */
#define SHELL_CMDLINE_SHA256 "caa920be4e1a19cffc98a83c7edb34d9263b369c01add0e4bfcde7f2d436b8cd"
#define EMPTY_SHA256         "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define CHILD_CMDLINE_SHA256 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

struct fixture {
	struct lin_strpool *pool;
	/* The records' histories and rare fields (struct lin_hist). */
	struct lin_hist_budget budget;
	struct tracker_config cfg;
	struct lin_process init, shell, child, grandchild, kthread;
};

static struct lin_str *intern(struct fixture *f, const char *s)
{
	return lin_strpool_intern(f->pool, s, strlen(s));
}

static void process_init(struct lin_process *p, guint64 serial, pid_t pid, guint64 start_ticks,
                         struct lin_process *creator)
{
	memset(p, 0, sizeof(*p));
	p->serial = serial;
	p->pid = pid;
	p->start_ticks = start_ticks;
	p->creator = creator;
	p->creator_pid = creator ? creator->pid : 0;
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);

	f->pool = lin_strpool_new();
	lin_hist_budget_init(&f->budget, f->pool, 0);
	f->cfg.hz = 100;
	f->cfg.boot_realtime_ns = BOOT_REALTIME_NS;

	/* Found by the bootstrap scan: no FORK seen. */
	process_init(&f->init, 1, 1, 2, NULL);
	f->init.comm = intern(f, "systemd");
	f->init.exe = intern(f, "/usr/lib/systemd/systemd");
	f->init.exec_count = 1;
	f->init.flags = LIN_PROC_FROM_SCAN;

	process_init(&f->shell, 2, 100, 5012, &f->init);
	f->shell.comm = intern(f, "bash");
	f->shell.cmdline = lin_strpool_intern(f->pool, "bash\0-l\0--xyz\0", 14);
	f->shell.exe = intern(f, "/usr/bin/bash");
	f->shell.ruid = f->shell.euid = 1000;
	f->shell.rgid = f->shell.egid = 100;
	f->shell.live_threads = 2;
	f->shell.exec_count = 1;
	f->shell.flags = LIN_PROC_FORK_SEEN;

	process_init(&f->child, 3, 200, 6000, &f->shell);
	f->child.comm = intern(f, "make");
	f->child.exe = intern(f, "/usr/bin/make");
	f->child.ruid = 1000;
	f->child.euid = 0;
	f->child.rgid = 100;
	f->child.egid = 0;
	f->child.exec_count = 2;
	f->child.flags = LIN_PROC_FORK_SEEN | LIN_PROC_CMDLINE_TRUNCATED;
	f->child.cmdline = intern(f, "make -j8 [...] all");
	lin_hist_get(&f->budget, &f->child.history, &f->child)->cmdline_full_len = 2000000;
	f->child.history->cmdline_sha256 = intern(f, CHILD_CMDLINE_SHA256);
	f->child.exit_kind = LIN_EXIT_CODE;
	f->child.exit_status = 3 << 8;
	/* Sub-millisecond digits are cut, not rounded. */
	f->child.exit_ns = BOOT_REALTIME_NS + 70 * NS_PER_SEC + 999999999;
	f->child.live_threads = 4; /* stale: an exited process shows 0 */

	process_init(&f->grandchild, 4, 300, 6500, &f->child);
	f->grandchild.comm = intern(f, "cc1");
	f->grandchild.flags = LIN_PROC_FORK_SEEN | LIN_PROC_CMDLINE_MISSED;
	f->grandchild.exit_kind = LIN_EXIT_SIGNAL;
	f->grandchild.exit_status = 9 | 0x80;
	f->grandchild.exit_ns = BOOT_REALTIME_NS + 66 * NS_PER_SEC + 5000000;

	process_init(&f->kthread, 5, 2, 0, NULL);
	f->kthread.comm = intern(f, "kthreadd");
	f->kthread.flags = LIN_PROC_KTHREAD | LIN_PROC_FROM_SCAN;

	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	struct lin_process *all[] = {&f->init, &f->shell, &f->child, &f->grandchild, &f->kthread};

	for (gsize i = 0; i < G_N_ELEMENTS(all); i++) {
		lin_strpool_unref(f->pool, all[i]->comm);
		lin_strpool_unref(f->pool, all[i]->exe);
		lin_strpool_unref(f->pool, all[i]->cmdline);
		lin_hist_free(&f->budget, &all[i]->history);
	}
	assert_int_equal(lin_strpool_count(f->pool), 0);
	lin_strpool_free(f->pool);
	g_free(f);
	return 0;
}

/* The context lines of a record of which nothing is known. */
#define NO_CONTEXT                                                                                 \
	"Cwd:\t-\nCgroup:\t-\nContainer:\t-\nContainerRuntime:\t-\nPidNs:\t-\nNsPid:\t-\n"         \
	"LoginUid:\t-\nSessionId:\t-\nTty:\t-\nSid:\t-\nPgid:\t-\nExeDeleted:\tno\nExeMemfd:"      \
	"\tno\n"                                                                                   \
	"ExeHash:\t-\n"

G_GNUC_PRINTF(3, 4)
static void assert_status(struct fixture *f, const struct lin_process *p, const char *format, ...)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autofree char *expected = NULL;
	va_list ap;

	va_start(ap, format);
	expected = g_strdup_vprintf(format, ap);
	va_end(ap);

	fs_render_status(out, p, &f->cfg);
	assert_string_equal(out->str, expected);
}

static void assert_parses(const char *text, pid_t pid, guint64 start, guint32 instance)
{
	struct lin_name name = {0};
	char again[FS_NAME_MAX];

	assert_int_equal(fs_parse_process_name(text, &name), 0);
	assert_int_equal(name.pid, pid);
	assert_true(name.start_ticks == start);
	assert_int_equal(name.instance, instance);
	/* One spelling: rendering gives the same text back. */
	assert_int_equal(fs_process_name(&name, again, sizeof(again)), (int)strlen(text));
	assert_string_equal(again, text);
}

static void test_parse_valid(void **state)
{
	(void)state;
	assert_parses("123-4567", 123, 4567, 1);
	assert_parses("1-0", 1, 0, 1);
	assert_parses("2147483647-18446744073709551615", G_MAXINT, G_MAXUINT64, 1);
	/* Later holders of a pid within one tick. */
	assert_parses("123-4567.2", 123, 4567, 2);
	assert_parses("123-4567.20", 123, 4567, 20);
	assert_parses("2147483647-18446744073709551615.4294967295", G_MAXINT, G_MAXUINT64,
	              G_MAXUINT32);
	/* Well-formed but never tracked: the lookup, not the parser, says
	 * ENOENT. */
	assert_parses("99999999-1", 99999999, 1, 1);
}

static void test_parse_invalid(void **state)
{
	static const char *const bad[] = {
	    "",
	    "abc",
	    "1-",
	    "-1",
	    "1-2x",
	    "-",
	    "1",
	    "0-5",  /* pid 0 is never a process */
	    "01-5", /* one spelling per name */
	    "1-05",
	    "1-00",
	    "+1-2",
	    "1-+2",
	    "1--2",
	    " 1-2",
	    "1-2 ",
	    "1-2-3",
	    "2147483648-1",           /* pid past INT_MAX */
	    "1-18446744073709551616", /* start past 2^64 - 1 */
	    "99999999999999999999999-1",
	    "by-pid",
	    "self",
	    "1-2.",
	    "1-2.1", /* the first holder has no suffix */
	    "1-2.0",
	    "1-2.02",
	    "1-2.x",
	    "1-2.+3",
	    "1-2.3.4",
	    "1-2.3 ",
	    "1-2..3",
	    "1-2.4294967296", /* past 2^32 - 1 */
	    "1.2-3",
	};
	struct lin_name name = {7, 7, 7};

	(void)state;
	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		if (fs_parse_process_name(bad[i], &name) != -ENOENT)
			fail_msg("\"%s\" parsed as a process name", bad[i]);
	}
	/* Untouched on failure. */
	assert_int_equal(name.pid, 7);
	assert_int_equal(name.start_ticks, 7);
	assert_int_equal(name.instance, 7);
}

static void test_parse_pid(void **state)
{
	pid_t pid = 0;

	(void)state;
	assert_int_equal(fs_parse_pid("4242", &pid), 0);
	assert_int_equal(pid, 4242);
	assert_int_equal(fs_parse_pid("2147483647", &pid), 0);
	assert_int_equal(pid, G_MAXINT);
	assert_int_equal(fs_parse_pid("0", &pid), -ENOENT);
	assert_int_equal(fs_parse_pid("042", &pid), -ENOENT);
	assert_int_equal(fs_parse_pid("2147483648", &pid), -ENOENT);
	assert_int_equal(fs_parse_pid("12-3", &pid), -ENOENT);
	assert_int_equal(fs_parse_pid("", &pid), -ENOENT);
	assert_int_equal(fs_parse_pid("-1", &pid), -ENOENT);
}

static void test_status_running(void **state)
{
	struct fixture *f = *state;

	assert_status(f, &f->shell,
	              "Name:\tbash\n"
	              "Pid:\t100\n"
	              "PPid:\t1\n"
	              "Start:\t5012\n"
	              "StartTime:\t2026-11-22T14:34:10.120Z\n"
	              "State:\trunning\n"
	              "ExitTime:\t-\n"
	              "ExitCode:\t-\n"
	              "Uid:\t1000\t1000\n"
	              "Gid:\t100\t100\n"
	              "Exe:\t/usr/bin/bash\n"
	              "Cmdline:\tok\n"
	              "CmdlineLength:\t14\n"
	              "CmdlineSha256:\t%s\n"
	              "Threads:\t3\n"
	              "Execs:\t1\n"
	              "Creator:\tfork\n"
	              "Kthread:\tno\n"
	              "ParentIsCreator:\tyes\n"
	              "CreatorInferred:\t-\n"
	              "CreatorCandidates:\t-\n" NO_CONTEXT,
	              SHELL_CMDLINE_SHA256);
}

static void test_status_exited_code(void **state)
{
	struct fixture *f = *state;

	assert_status(f, &f->child,
	              "Name:\tmake\n"
	              "Pid:\t200\n"
	              "PPid:\t100\n"
	              "Start:\t6000\n"
	              "StartTime:\t2026-11-22T14:34:20.000Z\n"
	              "State:\texited\n"
	              "ExitTime:\t2026-11-22T14:34:30.999Z\n"
	              "ExitCode:\texited 3\n"
	              "Uid:\t1000\t0\n"
	              "Gid:\t100\t0\n"
	              "Exe:\t/usr/bin/make\n"
	              "Cmdline:\ttruncated\n"
	              "CmdlineLength:\t2000000\n"
	              "CmdlineSha256:\t%s\n"
	              "Threads:\t0\n"
	              "Execs:\t2\n"
	              "Creator:\tfork\n"
	              "Kthread:\tno\n"
	              "ParentIsCreator:\tyes\n"
	              "CreatorInferred:\t-\n"
	              "CreatorCandidates:\t-\n" NO_CONTEXT,
	              CHILD_CMDLINE_SHA256);
}

static void test_status_killed_core(void **state)
{
	struct fixture *f = *state;

	assert_status(f, &f->grandchild,
	              "Name:\tcc1\n"
	              "Pid:\t300\n"
	              "PPid:\t200\n"
	              "Start:\t6500\n"
	              "StartTime:\t2026-11-22T14:34:25.000Z\n"
	              "State:\texited\n"
	              "ExitTime:\t2026-11-22T14:34:26.005Z\n"
	              "ExitCode:\tkilled by SIGKILL (core dumped)\n"
	              "Uid:\t0\t0\n"
	              "Gid:\t0\t0\n"
	              "Exe:\t\n"
	              "Cmdline:\tmissed\n"
	              "CmdlineLength:\t-\n"
	              "CmdlineSha256:\t-\n"
	              "Threads:\t0\n"
	              "Execs:\t0\n"
	              "Creator:\tfork\n"
	              "Kthread:\tno\n"
	              "ParentIsCreator:\tyes\n"
	              "CreatorInferred:\t-\n"
	              "CreatorCandidates:\t-\n" NO_CONTEXT);
}

static void test_status_kthread(void **state)
{
	struct fixture *f = *state;

	assert_status(f, &f->kthread,
	              "Name:\tkthreadd\n"
	              "Pid:\t2\n"
	              "PPid:\t0\n"
	              "Start:\t0\n"
	              "StartTime:\t2026-11-22T14:33:20.000Z\n"
	              "State:\trunning\n"
	              "ExitTime:\t-\n"
	              "ExitCode:\t-\n"
	              "Uid:\t0\t0\n"
	              "Gid:\t0\t0\n"
	              "Exe:\t\n"
	              "Cmdline:\tok\n"
	              "CmdlineLength:\t0\n"
	              "CmdlineSha256:\t%s\n"
	              "Threads:\t1\n"
	              "Execs:\t0\n"
	              "Creator:\tproc\n"
	              "Kthread:\tyes\n"
	              "ParentIsCreator:\tunknown\n"
	              "CreatorInferred:\t-\n"
	              "CreatorCandidates:\t-\n" NO_CONTEXT,
	              EMPTY_SHA256);
}

static void assert_exit_code(struct lin_process *p, guint8 kind, guint32 status,
                             const char *expected)
{
	g_autoptr(GString) out = g_string_new(NULL);

	p->exit_kind = kind;
	p->exit_status = status;
	fs_append_exit_code(out, p);
	assert_string_equal(out->str, expected);
}

static void test_exit_codes(void **state)
{
	struct fixture *f = *state;
	struct lin_process *p = &f->grandchild;

	assert_exit_code(p, LIN_EXIT_CODE, 0, "exited 0");
	assert_exit_code(p, LIN_EXIT_CODE, 255 << 8, "exited 255");
	assert_exit_code(p, LIN_EXIT_SIGNAL, 15, "killed by SIGTERM");
	assert_exit_code(p, LIN_EXIT_SIGNAL, 11 | 0x80, "killed by SIGSEGV (core dumped)");
	/* The raw status decides, whatever the kind says. */
	assert_exit_code(p, LIN_EXIT_CODE, 9, "killed by SIGKILL");
	assert_exit_code(p, LIN_EXIT_SIGNAL, 1 << 8, "exited 1");
	/* A signal number with no name still reads as a number. */
	assert_exit_code(p, LIN_EXIT_SIGNAL, 0x7e, "killed by signal 126");
	assert_exit_code(p, LIN_EXIT_UNKNOWN, 0, "unknown");
	assert_exit_code(p, LIN_EXIT_RUNNING, 0, "-");
}

static void test_status_unknown_exit(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) out = g_string_new(NULL);

	f->child.exit_kind = LIN_EXIT_UNKNOWN;
	f->child.exit_ns = 0;
	fs_render_status(out, &f->child, &f->cfg);
	assert_non_null(strstr(out->str, "\nState:\texited\nExitTime:\tunknown\n"
	                                 "ExitCode:\tunknown\n"));
}

static void test_status_escapes(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) out = g_string_new(NULL);

	/* A comm and a path may hold any byte but NUL: one line per key. */
	lin_strpool_unref(f->pool, f->shell.comm);
	f->shell.comm = intern(f, "a\nb\\c\td\x01");
	lin_strpool_unref(f->pool, f->shell.exe);
	f->shell.exe = intern(f, "/tmp/x\ny");
	fs_render_status(out, &f->shell, &f->cfg);
	assert_true(g_str_has_prefix(out->str, "Name:\ta\\nb\\\\c\\td\\001\nPid:\t100\n"));
	assert_non_null(strstr(out->str, "\nExe:\t/tmp/x\\ny\nCmdline:"));

	/* comm itself is raw, like /proc/<pid>/comm. */
	g_string_truncate(out, 0);
	fs_render_comm(out, &f->shell);
	assert_int_equal(out->len, 9);
	assert_memory_equal(out->str, "a\nb\\c\td\x01\n", 9);
}

static void test_ancestry(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) out = g_string_new(NULL);

	fs_render_ancestry(out, &f->grandchild);
	assert_string_equal(out->str, "300-6500\tcc1\n"
	                              "200-6000\tmake\n"
	                              "100-5012\tbash\n"
	                              "1-2\tsystemd\n");

	g_string_truncate(out, 0);
	fs_render_ancestry(out, &f->init);
	assert_string_equal(out->str, "1-2\tsystemd\n");

	/* A forgotten creator ends the chain. */
	f->child.creator = NULL;
	g_string_truncate(out, 0);
	fs_render_ancestry(out, &f->grandchild);
	assert_string_equal(out->str, "300-6500\tcc1\n"
	                              "200-6000\tmake\n");
}

static void test_ancestry_cycle(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GString) out = g_string_new(NULL);
	gsize lines = 0;

	/* Corrupt table: the walk must still end. */
	f->init.creator = &f->grandchild;
	fs_render_ancestry(out, &f->grandchild);
	for (gsize i = 0; i < out->len; i++)
		lines += out->str[i] == '\n';
	assert_int_equal(lines, 1u << 20);
	assert_true(g_str_has_prefix(out->str, "300-6500\tcc1\n200-6000\tmake\n"));
	f->init.creator = NULL;
}

static void test_stats(void **state)
{
	struct tracker_stats stats;
	struct fs_counters counters = {
	    .notify_queued = 100,
	    .notify_done = 98,
	    .notify_sent = 101,
	    .notify_uncached = 102,
	    .notify_failed = 103,
	    .notify_skipped = 99,
	};
	g_autoptr(GString) out = g_string_new(NULL);
	guint64 *field = (guint64 *)&stats;

	(void)state;
	/* Every field a different value, so a swapped key shows. */
	for (gsize i = 0; i < sizeof(stats) / sizeof(guint64); i++)
		field[i] = i + 1;
	stats.started_monotonic_ns = 5 * NS_PER_SEC;
	fs_render_stats(out, &stats, &counters, 47 * NS_PER_SEC + 700000000);
	assert_string_equal(out->str, "events_fork 1\n"
	                              "events_thread_fork 2\n"
	                              "events_exec 3\n"
	                              "events_exit 4\n"
	                              "events_thread_exit 5\n"
	                              "events_comm 6\n"
	                              "events_uid 7\n"
	                              "events_gid 8\n"
	                              "events_other 9\n"
	                              "events_malformed 10\n"
	                              "overflows 11\n"
	                              "events_lost 12\n"
	                              "rescans 13\n"
	                              "exits_missed 14\n"
	                              "exits_while_down 15\n"
	                              "cmdline_missed 16\n"
	                              "exec_read_errors 17\n"
	                              "cmdline_cut 18\n"
	                              "budget_forgotten 19\n"
	                              "out_of_order 20\n"
	                              "processes_live 21\n"
	                              "processes_exited 22\n"
	                              "processes_forgotten 23\n"
	                              "processes_pinned 24\n"
	                              "threads_live 25\n"
	                              "record_bytes 26\n"
	                              "string_bytes 27\n"
	                              "strings 28\n"
	                              "history_entries 29\n"
	                              "history_dropped 30\n"
	                              "exe_hashed 31\n"
	                              "started_monotonic_ns 5000000000\n"
	                              "uptime_seconds 42\n"
	                              "fs_notify_skipped 99\n"
	                              "fs_notify_queued 100\n"
	                              "fs_notify_done 98\n"
	                              "fs_notify_sent 101\n"
	                              "fs_notify_uncached 102\n"
	                              "fs_notify_failed 103\n");

	/* A clock behind the start must not wrap around. */
	g_string_truncate(out, 0);
	fs_render_stats(out, &stats, &counters, NS_PER_SEC);
	assert_non_null(strstr(out->str, "\nuptime_seconds 0\n"));
}

static void test_links(void **state)
{
	struct fixture *f = *state;
	char buf[64];

	assert_int_equal(fs_link_parent(&f->child, buf, sizeof(buf)), 11);
	assert_string_equal(buf, "../100-5012");
	assert_int_equal(fs_link_parent(&f->init, buf, sizeof(buf)), -ENOENT);
	assert_int_equal(fs_link_parent(&f->kthread, buf, sizeof(buf)), -ENOENT);

	assert_int_equal(fs_link_child(&f->grandchild, buf, sizeof(buf)), 14);
	assert_string_equal(buf, "../../300-6500");

	assert_int_equal(fs_link_by_pid(&f->kthread, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "../2-0");

	assert_int_equal(fs_link_self(&f->shell, buf, sizeof(buf)), 8);
	assert_string_equal(buf, "100-5012");

	/* Too small: an error, never a cut target. */
	assert_int_equal(fs_link_child(&f->grandchild, buf, 14), -ENAMETOOLONG);
	assert_int_equal(fs_process_name(&(struct lin_name){300, 1, 6500}, buf, 8), -ENAMETOOLONG);
	assert_int_equal(fs_process_name(&(struct lin_name){300, 1, 6500}, buf, 9), 8);
	assert_string_equal(buf, "300-6500");
	assert_int_equal(fs_process_name(&(struct lin_name){300, 12, 6500}, buf, 11),
	                 -ENAMETOOLONG);

	/* A later holder of the same pid and tick: every link names it with
	 * its suffix. */
	lin_hist_get(&f->budget, &f->grandchild.history, &f->grandchild)->instance = 12;
	assert_int_equal(fs_link_child(&f->grandchild, buf, sizeof(buf)), 17);
	assert_string_equal(buf, "../../300-6500.12");
	assert_int_equal(fs_link_by_pid(&f->grandchild, buf, sizeof(buf)), 14);
	assert_string_equal(buf, "../300-6500.12");
	assert_int_equal(fs_link_child(&f->grandchild, buf, 17), -ENAMETOOLONG);
	f->child.history->instance = 2;
	assert_int_equal(fs_link_parent(&f->grandchild, buf, sizeof(buf)), 13);
	assert_string_equal(buf, "../200-6000.2");
}

/* The creator check of a child made with CLONE_PARENT. */
static void assert_creator_lines(struct fixture *f, const char *expected)
{
	g_autoptr(GString) out = g_string_new(NULL);
	const char *lines;

	fs_render_status(out, &f->grandchild, &f->cfg);
	lines = strstr(out->str, "ParentIsCreator:");
	assert_non_null(lines);
	/* The context lines that follow are another test's. */
	g_string_truncate(out, (gsize)(strstr(lines, "Cwd:\t") - out->str));
	assert_string_equal(lines, expected);
}

static void test_status_creator_guess(void **state)
{
	struct fixture *f = *state;
	struct lin_creator_guess *guess = g_new0(struct lin_creator_guess, 1);

	lin_hist_get(&f->budget, &f->grandchild.history, &f->grandchild)->guess = guess;
	guess->check = LIN_PARENT_NOT_CREATOR;
	guess->count = 1;
	guess->candidates[0] = (struct lin_name){201, 1, 6100};
	assert_creator_lines(f, "ParentIsCreator:\tno\n"
	                        "CreatorInferred:\t201-6100\n"
	                        "CreatorCandidates:\t-\n");

	guess->count = 2;
	guess->candidates[1] = (struct lin_name){202, 3, 6100};
	assert_creator_lines(f, "ParentIsCreator:\tno\n"
	                        "CreatorInferred:\t-\n"
	                        "CreatorCandidates:\t201-6100 202-6100.3\n");

	/* More than are named: the count of the rest. */
	guess->count = LIN_CANDIDATES_MAX + 5;
	for (guint i = 0; i < LIN_CANDIDATES_MAX; i++)
		guess->candidates[i] = (struct lin_name){(pid_t)(400 + i), 1, 7};
	assert_creator_lines(f, "ParentIsCreator:\tno\n"
	                        "CreatorInferred:\t-\n"
	                        "CreatorCandidates:\t400-7 401-7 402-7 403-7 404-7 405-7 406-7 "
	                        "407-7 (+5)\n");

	guess->check = LIN_PARENT_UNCERTAIN;
	guess->count = 0;
	assert_creator_lines(f, "ParentIsCreator:\tunknown\n"
	                        "CreatorInferred:\t-\n"
	                        "CreatorCandidates:\t-\n");
}

static void test_times(void **state)
{
	struct fixture *f = *state;
	char buf[64];

	/* ticks * 1e9 would overflow 64 bits here (~63 years at 100 Hz). */
	f->shell.start_ticks = G_GUINT64_CONSTANT(200000000000);
	assert_true(fs_start_realtime_ns(&f->shell, &f->cfg) ==
	            BOOT_REALTIME_NS + G_GUINT64_CONSTANT(2000000000) * NS_PER_SEC);
	fs_format_iso8601(fs_start_realtime_ns(&f->shell, &f->cfg), buf, sizeof(buf));
	assert_string_equal(buf, "2090-04-08T18:06:40.000Z");

	/* A fractional tick at a HZ that does not divide 1e9. */
	f->cfg.hz = 300;
	f->shell.start_ticks = 1;
	assert_true(fs_start_realtime_ns(&f->shell, &f->cfg) == BOOT_REALTIME_NS + 3333333);

	fs_format_iso8601(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
}

/* The context lines and the history of a process that exec'd twice in a
 * docker container, changed uid and comm, and exited. */
static void test_context_and_history(void **state)
{
	struct fixture *f = *state;
	struct lin_process *p = &f->child;
	struct lin_context ctx = {
	    .cwd = intern(f, "/srv/a\tb"),
	    .cgroup = intern(f, "/system.slice/docker-0123456789abcdef0123456789abcdef0123456789abc"
	                        "def0123456789abcdef.scope"),
	    .pidns = 4026531836u,
	    .loginuid = 1000,
	    .sessionid = LIN_AUDIT_UNSET,
	    .tty_nr = (136 << 8) | 3,
	    .sid = 2,
	    .pgid = 3,
	    .known = LIN_CTX_KNOWN_AUDIT | LIN_CTX_KNOWN_IDS,
	};
	static const char argv0[] = "sh\0-c\0echo a b\0";
	struct lin_hist_entry first = {
	    .time_ns = BOOT_REALTIME_NS + 61 * NS_PER_SEC,
	    .kind = LIN_HIST_EXEC,
	    .ids = {1000, 1000, 100, 100},
	    .exe = intern(f, "/usr/bin/dash"),
	    .cmdline = lin_strpool_intern(f->pool, argv0, sizeof(argv0) - 1),
	};
	struct lin_hist_entry uid = {
	    .time_ns = BOOT_REALTIME_NS + 63 * NS_PER_SEC,
	    .kind = LIN_HIST_UID,
	    .ids = {1000, 1000, 1000, 0},
	};
	struct lin_hist_entry comm = {
	    .time_ns = BOOT_REALTIME_NS + 64 * NS_PER_SEC,
	    .kind = LIN_HIST_COMM,
	    .exe = intern(f, "new\nname"),
	};
	g_autoptr(GString) out = g_string_new(NULL);

	(void)state;
	f->cfg.host_pidns = 4026531836u;
	lin_hist_add(&f->budget, &p->history, p, &first);
	lin_hist_add(&f->budget, &p->history, p, &uid);
	lin_hist_add(&f->budget, &p->history, p, &comm);
	p->ctx = &ctx;
	p->exec_ns = BOOT_REALTIME_NS + 62 * NS_PER_SEC + 500000000;
	lin_strpool_unref(f->pool, p->cmdline);
	p->cmdline = lin_strpool_intern(f->pool, "make\0-j\0", 8);
	p->flags |= LIN_PROC_EXE_DELETED;
	p->seen_ns = 60 * NS_PER_SEC; /* the FORK's monotonic time */

	fs_render_status_context(out, p, &f->cfg);
	assert_string_equal(out->str,
	                    "Cwd:\t/srv/a\\tb\n"
	                    "Cgroup:\t/system.slice/docker-0123456789abcdef0123456789abcdef"
	                    "0123456789abcdef0123456789abcdef.scope\n"
	                    "Container:\t0123456789abcdef0123456789abcdef0123456789abcdef"
	                    "0123456789abcdef\n"
	                    "ContainerRuntime:\tdocker\n"
	                    "PidNs:\t4026531836\n"
	                    "NsPid:\t200\n"
	                    "LoginUid:\t1000\n"
	                    "SessionId:\t-\n"
	                    "Tty:\tpts/3\n"
	                    "Sid:\t2\n"
	                    "Pgid:\t3\n"
	                    "ExeDeleted:\tyes\n"
	                    "ExeMemfd:\tno\n"
	                    "ExeHash:\t-\n");

	g_string_truncate(out, 0);
	fs_render_history(out, p, &f->cfg);
	/* The current exec at its time, with the uids it had then (before
	 * the uid change), then the later lines, then the exit. */
	assert_string_equal(
	    out->str, "2026-11-22T14:34:20.000Z\tfork\tby 100-5012 bash\n"
	              "2026-11-22T14:34:21.000Z\texec\t/usr/bin/dash\tuid 1000 1000\tgid 100 100"
	              "\targv sh -c echo\\040a\\040b\n"
	              "2026-11-22T14:34:22.500Z\texec\t/usr/bin/make\tuid 1000 1000\tgid 100 0"
	              "\targv make -j\ttruncated\n"
	              "2026-11-22T14:34:23.000Z\tuid\t1000 1000 -> 1000 0\n"
	              "2026-11-22T14:34:24.000Z\tcomm\tnew\\nname\n"
	              "2026-11-22T14:34:30.999Z\texit\texited 3\n");

	/* Budget drops are said, once, after the first line. */
	p->history->dropped = 7;
	g_string_truncate(out, 0);
	fs_render_history(out, p, &f->cfg);
	assert_non_null(strstr(out->str, "bash\n-\tdropped\t7 earlier events (history budget)\n"
	                                 "2026-11-22T14:34:21.000Z\texec"));

	p->ctx = NULL;
	lin_strpool_unref(f->pool, ctx.cwd);
	lin_strpool_unref(f->pool, ctx.cgroup);
	lin_strpool_unref(f->pool, first.exe);
	lin_strpool_unref(f->pool, first.cmdline);
	lin_strpool_unref(f->pool, comm.exe);
}

static void test_tty_names(void **state)
{
	static const struct {
		guint32 tty_nr;
		const char *name;
	} cases[] = {
	    {0, "-"},
	    {(136 << 8) | 0, "pts/0"},
	    {(137 << 8) | 5, "pts/261"},
	    /* Minor numbers past 255 go to bits 20..31. */
	    {(136 << 8) | (0x1 << 20) | 2, "pts/258"},
	    {(4 << 8) | 1, "tty1"},
	    {(4 << 8) | 64, "ttyS0"},
	    {(5 << 8) | 1, "console"},
	    {(204 << 8) | 64, "204:64"},
	};

	(void)state;
	for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
		g_autoptr(GString) out = g_string_new(NULL);

		fs_append_tty(out, cases[i].tty_nr);
		assert_string_equal(out->str, cases[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_valid),
	    cmocka_unit_test(test_parse_invalid),
	    cmocka_unit_test(test_parse_pid),
	    cmocka_unit_test_setup_teardown(test_status_running, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_exited_code, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_killed_core, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_kthread, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_creator_guess, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exit_codes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_unknown_exit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_status_escapes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ancestry, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ancestry_cycle, setup, teardown),
	    cmocka_unit_test(test_stats),
	    cmocka_unit_test_setup_teardown(test_links, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_times, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_context_and_history, setup, teardown),
	    cmocka_unit_test(test_tty_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
