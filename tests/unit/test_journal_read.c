/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the journal reader and the restore API, fed with
 * hand-written journal lines: what each action does to a record (fork,
 * exec, exit, checkpoint, forget), exact cmdline bytes, creators named
 * before and after their children, duplicated lines, several boots, --until,
 * the retention limit across boots, and every kind of bad input the reader
 * must count and skip (torn, garbage, NUL bytes, wrong types, absurd
 * values, a line of megabytes, another machine's journal).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <glib/gstdio.h>

#include "fakeproc.h"
#include "journal_encode.h"
#include "journal_format.h"
#include "journal_parse.h"
#include "journal_read.h"
#include "restore.h"
#include "tracker.h"

#define NS_PER_SEC 1000000000ull
#define HOST       "0123456789abcdef0123456789abcdef"
#define OTHER_HOST "fedcba9876543210fedcba9876543210"
#define BOOT1      "11111111-1111-1111-1111-111111111111"
#define BOOT2      "22222222-2222-2222-2222-222222222222"
/* 2026-11-30T12:00:00Z: "now" for every test. */
#define NOW_NS (1796040000ull * NS_PER_SEC)
/* BOOT2 started at 2026-11-30T10:00:00Z, BOOT1 a day earlier. */
#define BOOT2_NS (NOW_NS - 2 * 3600 * NS_PER_SEC)
#define BOOT1_NS (BOOT2_NS - 24 * 3600 * NS_PER_SEC)

/* ---- fixture lines ---- */

/* "2026-11-30T10:00:05.000000000Z" for BOOT2's second 5. */
static char *iso(guint64 ns)
{
	g_autoptr(GDateTime) dt = g_date_time_new_from_unix_utc((gint64)(ns / NS_PER_SEC));
	g_autofree char *date = g_date_time_format(dt, "%Y-%m-%dT%H:%M:%S");

	return g_strdup_printf("%s.%09lluZ", date, (unsigned long long)(ns % NS_PER_SEC));
}

/* One line: the common fields around a process object and lineagefs
 * fields (each a JSON fragment without braces, may be empty). */
static char *line(guint64 ts_ns, const char *action, guint64 seq, const char *host,
                  const char *boot, const char *process, const char *lineagefs)
{
	g_autofree char *ts = iso(ts_ns);

	return g_strdup_printf(
	    "{\"@timestamp\":\"%s\",\"event\":{\"kind\":\"event\",\"category\":[\"process\"],"
	    "\"type\":[\"info\"],\"action\":\"%s\",\"sequence\":%llu},"
	    "\"host\":{\"id\":\"%s\",\"boot\":{\"id\":\"%s\"}}%s%s%s,"
	    "\"lineagefs\":{\"v\":1%s%s}}",
	    ts, action, (unsigned long long)seq, host, boot, process ? ",\"process\":{" : "",
	    process ? process : "", process ? "}" : "", lineagefs && *lineagefs ? "," : "",
	    lineagefs ? lineagefs : "");
}

/* The process fields of pid with start ticks in a boot starting at
 * boot_ns (100 Hz): identity, start, and extra fields. */
static char *proc(pid_t pid, guint64 start_ticks, guint64 boot_ns, const char *extra)
{
	g_autofree char *start = iso(boot_ns + start_ticks * (NS_PER_SEC / 100));

	return g_strdup_printf("\"entity_id\":\"e%d%llu\",\"pid\":%d,\"start\":\"%s\"%s%s",
	                       (int)pid, (unsigned long long)start_ticks, (int)pid, start,
	                       extra && *extra ? "," : "", extra ? extra : "");
}

static char *ticks(guint64 start_ticks, const char *extra)
{
	return g_strdup_printf("\"start_ticks\":%llu%s%s", (unsigned long long)start_ticks,
	                       extra && *extra ? "," : "", extra ? extra : "");
}

/* ---- the fixture: a reader with a root tracker for BOOT2 ---- */

struct fixture {
	struct tracker *root;
	struct journal_reader *reader;
	struct journal_read_options opts;
	guint64 seq;
	char dir[64];
};

static guint64 fake_realtime(void)
{
	return NOW_NS;
}

static guint64 fake_monotonic(void)
{
	return 2 * 3600 * NS_PER_SEC;
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	struct tracker_config cfg = {
	    .proc_root_fd = -1,
	    .max_exited = 1000,
	    .boot_realtime_ns = BOOT2_NS,
	    .hz = 100,
	    .now_realtime_ns = fake_realtime,
	    .now_monotonic_ns = fake_monotonic,
	};

	f->root = tracker_new(&cfg);
	f->opts = (struct journal_read_options){
	    .expect_host_id = HOST,
	    .root_boot_id = BOOT2,
	    .root_tracker = f->root,
	    .max_exited = 1000,
	    .hz = 100,
	    .now_realtime_ns = NOW_NS,
	};
	f->reader = journal_reader_new(&f->opts);
	*state = f;
	return 0;
}

/* A replay: no root tracker, any machine. */
static void make_replay(struct fixture *f, guint64 until_ns)
{
	journal_reader_free(f->reader);
	f->opts.expect_host_id = NULL;
	f->opts.root_boot_id = NULL;
	f->opts.root_tracker = NULL;
	f->opts.until_ns = until_ns;
	f->opts.threads = TRUE;
	f->reader = journal_reader_new(&f->opts);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	journal_reader_free(f->reader);
	tracker_free(f->root);
	if (f->dir[0]) {
		g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
		const char *name;

		while (dir && (name = g_dir_read_name(dir)) != NULL) {
			g_autofree char *path = g_build_filename(f->dir, name, NULL);

			g_unlink(path);
		}
		g_rmdir(f->dir);
	}
	g_free(f);
	return 0;
}

static void feed(struct fixture *f, char *text)
{
	g_autoptr(GError) error = NULL;

	assert_true(journal_reader_feed_line(f->reader, text, strlen(text), &error));
	assert_null(error);
	g_free(text);
}

/* A process line of BOOT2 on HOST. */
static void feed_proc(struct fixture *f, guint64 at_s, const char *action, pid_t pid, guint64 start,
                      const char *process_extra, const char *lfs_extra)
{
	g_autofree char *p = proc(pid, start, BOOT2_NS, process_extra);
	g_autofree char *l = ticks(start, lfs_extra);

	feed(f, line(BOOT2_NS + at_s * NS_PER_SEC, action, ++f->seq, HOST, BOOT2, p, l));
}

static struct lin_process *find(struct tracker *t, pid_t pid, guint64 start)
{
	return tracker_find(t, pid, start);
}

static void assert_str(const struct lin_str *s, const void *bytes, gsize len)
{
	assert_non_null(s);
	assert_int_equal(s->len, len);
	assert_memory_equal(s->data, bytes, len);
}

/* init 1, a shell 100 it forked, and a child 200 that exec'd and exited 3. */
static void feed_history(struct fixture *f)
{
	feed_proc(f, 1, "found", 1, 5,
	          "\"name\":\"systemd\",\"executable\":\"/usr/lib/systemd/systemd\","
	          "\"args\":[\"/sbin/init\"],\"user\":{\"id\":\"0\"},\"group\":{\"id\":\"0\"}",
	          "\"flags\":[\"from_scan\"]");
	feed_proc(f, 2, "fork", 100, 200,
	          "\"name\":\"bash\",\"executable\":\"/usr/bin/bash\",\"args\":[\"bash\"],"
	          "\"parent\":{\"entity_id\":\"e15\",\"pid\":1},\"user\":{\"id\":\"1000\"},"
	          "\"real_user\":{\"id\":\"1000\"},\"group\":{\"id\":\"100\"}",
	          "\"flags\":[\"fork_seen\"]");
	feed_proc(f, 3, "fork", 200, 300,
	          "\"name\":\"bash\",\"executable\":\"/usr/bin/bash\",\"args\":[\"bash\"],"
	          "\"parent\":{\"entity_id\":\"e100200\",\"pid\":100}",
	          "\"flags\":[\"fork_seen\"]");
	feed_proc(f, 4, "exec", 200, 300,
	          "\"name\":\"sh\",\"executable\":\"/usr/bin/dash\",\"args\":[\"sh\",\"-c\","
	          "\"exit 3\"]",
	          "");
	feed_proc(f, 5, "exit", 200, 300,
	          "\"end\":\"2026-11-30T10:00:05.500000000Z\",\"exit_code\":3",
	          "\"exit\":{\"kind\":\"code\",\"status\":768}");
}

/* ---- tests ---- */

static void test_events_build_records(void **state)
{
	struct fixture *f = *state;
	struct lin_process *init, *shell, *child;
	static const char cmdline[] = "sh\0-c\0exit 3";

	feed_history(f);
	journal_reader_finish(f->reader);
	assert_int_equal(journal_reader_stats(f->reader)->applied, 5);

	init = find(f->root, 1, 5);
	shell = find(f->root, 100, 200);
	child = find(f->root, 200, 300);
	assert_non_null(init);
	assert_non_null(shell);
	assert_non_null(child);
	assert_true(init->flags & LIN_PROC_FROM_SCAN);
	assert_ptr_equal(shell->creator, init);
	assert_ptr_equal(child->creator, shell);
	assert_int_equal(child->creator_pid, 100);
	assert_true(child->flags & LIN_PROC_FORK_SEEN);
	assert_str(child->comm, "sh", 2);
	assert_str(child->exe, "/usr/bin/dash", 13);
	assert_str(child->cmdline, cmdline, sizeof(cmdline));
	assert_int_equal(child->exec_count, 1);
	assert_int_equal(child->exit_kind, LIN_EXIT_CODE);
	assert_int_equal(child->exit_status, 3 << 8);
	assert_int_equal(child->exit_ns, BOOT2_NS + 5 * NS_PER_SEC + 500000000ull);
	assert_true(lin_process_running(shell));
	assert_int_equal(shell->ruid, 1000);
	assert_int_equal(shell->euid, 1000);
	assert_int_equal(shell->rgid, 100);
	assert_int_equal(shell->egid, 100);
}

static void test_exact_bytes(void **state)
{
	struct fixture *f = *state;
	/* "\xff\xfe" is not UTF-8, and the cmdline has no trailing NUL. */
	static const char cmdline[] = "prog\0\xff\xfe-x";
	g_autofree char *b64 = g_base64_encode((const guchar *)cmdline, sizeof(cmdline) - 1);
	g_autofree char *comm64 = g_base64_encode((const guchar *)"a\xc3", 2);
	g_autofree char *lfs =
	    g_strdup_printf("\"cmdline_b64\":\"%s\",\"comm_b64\":\"%s\"", b64, comm64);
	struct lin_process *p;

	feed_proc(f, 1, "fork", 300, 400,
	          "\"name\":\"a\\ufffd\",\"args\":[\"prog\",\"\\ufffd\\ufffd-x\"]", lfs);
	p = find(f->root, 300, 400);
	assert_non_null(p);
	assert_str(p->cmdline, cmdline, sizeof(cmdline) - 1);
	assert_str(p->comm, "a\xc3", 2);
}

static void test_checkpoint_replaces_and_forget_removes(void **state)
{
	struct fixture *f = *state;
	struct lin_process *p;

	feed_history(f);
	/* A checkpoint knows no exe: it is unknown now, not kept. */
	feed_proc(f, 6, "checkpoint", 200, 300,
	          "\"name\":\"renamed\",\"parent\":{\"entity_id\":\"e100200\",\"pid\":100},"
	          "\"end\":\"2026-11-30T10:00:05.500000000Z\",\"exit_code\":3",
	          "\"execs\":7,\"exit\":{\"kind\":\"code\",\"status\":768}");
	p = find(f->root, 200, 300);
	assert_non_null(p);
	assert_str(p->comm, "renamed", 7);
	assert_null(p->exe);
	assert_int_equal(p->exec_count, 7);
	assert_false(p->flags & LIN_PROC_FORK_SEEN);
	assert_int_equal(p->exit_kind, LIN_EXIT_CODE);

	feed_proc(f, 7, "forget", 200, 300, "", "");
	assert_null(find(f->root, 200, 300));
	/* A running record is never forgotten by a line. */
	feed_proc(f, 8, "forget", 100, 200, "", "");
	assert_non_null(find(f->root, 100, 200));
}

static void test_duplicates_change_nothing(void **state)
{
	struct fixture *f = *state;
	char *lines[3];
	struct lin_process *p;
	struct tracker_stats stats;

	lines[0] = line(BOOT2_NS + NS_PER_SEC, "fork", 10, HOST, BOOT2,
	                "\"entity_id\":\"e7\",\"pid\":7,\"name\":\"x\"", "\"start_ticks\":50");
	lines[1] = line(BOOT2_NS + 2 * NS_PER_SEC, "exec", 11, HOST, BOOT2,
	                "\"entity_id\":\"e7\",\"pid\":7,\"name\":\"y\"", "\"start_ticks\":50");
	lines[2] = line(BOOT2_NS + 3 * NS_PER_SEC, "exec", 12, HOST, BOOT2,
	                "\"entity_id\":\"e7\",\"pid\":7,\"name\":\"z\"", "\"start_ticks\":50");
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 3; i++)
			assert_true(
			    journal_reader_feed_line(f->reader, lines[i], strlen(lines[i]), NULL));
	for (int i = 0; i < 3; i++)
		g_free(lines[i]);
	journal_reader_finish(f->reader);
	assert_int_equal(journal_reader_stats(f->reader)->duplicates, 3);
	p = find(f->root, 7, 50);
	assert_non_null(p);
	assert_int_equal(p->exec_count, 2);
	assert_str(p->comm, "z", 1);
	tracker_get_stats(f->root, &stats);
	assert_int_equal(stats.processes_live, 1);
}

static void test_creator_after_child(void **state)
{
	struct fixture *f = *state;
	struct lin_process *child, *creator;

	/* A checkpoint lists records in serial order: a child the table
	 * made before its FORK came (out of order) precedes its creator. */
	feed_proc(f, 10, "checkpoint", 60, 90,
	          "\"name\":\"kid\",\"parent\":{\"entity_id\":\"e5080\",\"pid\":50}",
	          "\"flags\":[\"fork_seen\"]");
	feed_proc(f, 10, "checkpoint", 50, 80, "\"name\":\"mum\"", "");
	child = find(f->root, 60, 90);
	creator = find(f->root, 50, 80);
	assert_non_null(child);
	assert_non_null(creator);
	assert_ptr_equal(child->creator, creator);
	assert_ptr_equal(creator->first_child, child);
}

static void test_bad_lines_are_counted(void **state)
{
	struct fixture *f = *state;
	const struct journal_read_stats *stats = journal_reader_stats(f->reader);
	static const char nul_line[] = "{\"@timestamp\":\0\"x\"}";
	static const char bad_utf8[] = "{\"a\":\"\xff\"}";
	g_autofree char *huge_array = NULL;
	GString *array = g_string_new("[");
	struct tracker_stats tstats;

	feed(f, g_strdup("garbage \x01\x02 not json"));
	feed(f, g_strdup("{\"truncated\":"));
	feed(f, g_strdup("[1,2,3]"));
	feed(f, g_strdup("{} {}"));
	assert_true(journal_reader_feed_line(f->reader, nul_line, sizeof(nul_line) - 1, NULL));
	assert_true(journal_reader_feed_line(f->reader, bad_utf8, sizeof(bad_utf8) - 1, NULL));
	assert_int_equal(stats->not_json, 6);

	/* Wrong types and absurd values. */
	feed_proc(f, 1, "fork", 5, 10, "\"name\":7", "");
	feed_proc(f, 1, "fork", 5, 10, "\"user\":{\"id\":1000}", "");
	feed_proc(f, 1, "fork", 5, 10, "\"user\":{\"id\":\"-1\"}", "");
	feed_proc(f, 1, "fork", 5, 10, "\"args\":[\"a\",3]", "");
	feed_proc(f, 1, "fork", 5, 10, "\"args\":\"a\"", "");
	feed_proc(f, 1, "fork", 5, 10, "", "\"flags\":\"kthread\"");
	feed_proc(f, 1, "fork", 5, 10, "", "\"cmdline_b64\":\"not base64!\"");
	feed_proc(f, 1, "exit", 5, 10, "", "\"exit\":{\"kind\":\"code\",\"status\":-1}");
	feed_proc(f, 1, "exit", 5, 10, "", "\"exit\":{\"kind\":\"code\"}");
	feed(f, line(BOOT2_NS, "fork", ++f->seq, HOST, BOOT2, "\"entity_id\":\"e\",\"pid\":-5",
	             "\"start_ticks\":1"));
	feed(f, line(BOOT2_NS, "fork", ++f->seq, HOST, BOOT2, "\"entity_id\":\"e\",\"pid\":0",
	             "\"start_ticks\":1"));
	feed(f, line(BOOT2_NS, "fork", ++f->seq, HOST, BOOT2, "\"entity_id\":\"e\",\"pid\":4194305",
	             "\"start_ticks\":1"));
	feed(f, line(BOOT2_NS, "fork", ++f->seq, HOST, BOOT2, "\"entity_id\":\"e\",\"pid\":5",
	             "\"start_ticks\":-1"));
	feed(f, line(BOOT2_NS, "fork", ++f->seq, HOST, BOOT2, "\"entity_id\":\"e\",\"pid\":5.5",
	             "\"start_ticks\":1"));
	feed(f, line(BOOT2_NS, "fork", ++f->seq, HOST, BOOT2,
	             "\"entity_id\":\"../../etc\",\"pid\":5", "\"start_ticks\":1"));
	/* Started an hour after the line that reports it. */
	feed(f, line(BOOT2_NS + NS_PER_SEC, "fork", ++f->seq, HOST, BOOT2,
	             "\"entity_id\":\"e\",\"pid\":5", "\"start_ticks\":360000"));
	/* A line from next year. */
	feed(f, line(NOW_NS + 365 * 24 * 3600 * NS_PER_SEC, "fork", ++f->seq, HOST, BOOT2,
	             "\"entity_id\":\"e\",\"pid\":5", "\"start_ticks\":1"));
	/* A boot id that would be a path. */
	feed(f, line(BOOT2_NS, "fork", ++f->seq, HOST, "../..", "\"entity_id\":\"e\",\"pid\":5",
	             "\"start_ticks\":1"));
	/* No host, no version, no action, no timestamp. */
	feed(f, g_strdup("{\"@timestamp\":\"2026-11-30T10:00:00Z\",\"event\":{\"action\":\"fork\"},"
	                 "\"lineagefs\":{\"v\":1},\"process\":{\"pid\":5},\"host\":{}}"));
	feed(f, g_strdup("{\"@timestamp\":\"2026-11-30T10:00:00Z\",\"event\":{\"action\":\"fork\"},"
	                 "\"host\":{\"id\":\"" HOST "\",\"boot\":{\"id\":\"" BOOT2 "\"}}}"));
	feed(f, g_strdup("{\"@timestamp\":\"yesterday\",\"event\":{\"action\":\"fork\"},"
	                 "\"lineagefs\":{\"v\":1},"
	                 "\"host\":{\"id\":\"" HOST "\",\"boot\":{\"id\":\"" BOOT2 "\"}}}"));
	assert_int_equal(stats->invalid, 21);

	/* A huge array, within the line limit. */
	for (int i = 0; i < 1100000; i++)
		g_string_append(array, "0,");
	g_string_append(array, "0]");
	huge_array = g_strdup_printf("\"args\":%s", array->str);
	g_string_free(array, TRUE);
	feed_proc(f, 1, "fork", 5, 10, huge_array, "");
	assert_int_equal(stats->invalid, 22);

	/* Issue 8's fields, wrong. */
	feed_proc(f, 1, "fork", 5, 10, "", "\"instance\":0");
	feed_proc(f, 1, "exec", 5, 10, "\"args\":[\"a\"]", "\"cmdline_sha256\":\"xyz\"");
	feed_proc(f, 1, "exec", 5, 10, "\"args\":[\"a\"]", "\"cmdline_full_len\":-1");
	feed_proc(f, 1, "exec", 5, 10, "",
	          "\"creator_guess\":{\"check\":\"maybe\",\"count\":1,\"candidates\":[]}");
	feed_proc(f, 1, "exec", 5, 10, "",
	          "\"creator_guess\":{\"check\":\"uncertain\",\"count\":1,"
	          "\"candidates\":[[0,1,1]]}");
	feed_proc(f, 1, "exec", 5, 10, "",
	          "\"creator_guess\":{\"check\":\"uncertain\",\"count\":0,"
	          "\"candidates\":[[5,1,1]]}");
	assert_int_equal(stats->invalid, 28);

	/* A newer format, an action from the future: skipped, counted. */
	feed(f, line(BOOT2_NS, "fork", ++f->seq, HOST, BOOT2, "\"entity_id\":\"e\",\"pid\":5",
	             "\"start_ticks\":1,\"v\":3"));
	feed(f, g_strdup("{\"@timestamp\":\"2026-11-30T10:00:00Z\",\"event\":{\"action\":\"fork\"},"
	                 "\"lineagefs\":{\"v\":9},"
	                 "\"host\":{\"id\":\"" HOST "\",\"boot\":{\"id\":\"" BOOT2 "\"}}}"));
	feed(f, line(BOOT2_NS, "teleport", ++f->seq, HOST, BOOT2, "\"entity_id\":\"e\",\"pid\":5",
	             "\"start_ticks\":1"));
	assert_int_equal(stats->unknown_action, 1);
	assert_true(stats->newer_format >= 1);

	tracker_get_stats(f->root, &tstats);
	assert_int_equal(tstats.processes_live + tstats.processes_exited, 0);
	assert_int_equal(stats->applied, 0);
}

/* Feeds the encoder's own line for action on p. */
static void feed_encoded(struct fixture *f, enum journal_action action, guint64 at_ns,
                         const struct journal_proc *p)
{
	static const struct journal_host host = {
	    .machine_id = HOST, .boot_id = BOOT2, .boot_realtime_ns = BOOT2_NS, .hz = 100};
	g_autoptr(GString) out = g_string_new(NULL);

	journal_encode_process(out, &host, action, at_ns, ++f->seq, p);
	g_string_truncate(out, out->len - 1);
	feed(f, g_strdup(out->str));
}

/*
 * The compact lines round-trip: a fork that inherits its creator's image,
 * an exec that folds its fork, an exit whose end is its @timestamp, two
 * holders of one pid within a tick, a cut command line's length and hash,
 * and the creator guess.
 */
static void test_compact_lines_round_trip(void **state)
{
	static const char sha[] =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	static const char shell_cmd[] = "bash\0-i\0";
	static const char true_cmd[] = "/bin/true\0\xff\0";
	struct fixture *f = *state;
	struct journal_proc shell = {
	    .has = JOURNAL_HAS_COMM | JOURNAL_HAS_EXE | JOURNAL_HAS_CMDLINE | JOURNAL_HAS_UIDS |
	           JOURNAL_HAS_GIDS | JOURNAL_HAS_COUNTS,
	    .pid = 100,
	    .instance = 1,
	    .start_ticks = 200,
	    .ruid = 1000,
	    .euid = 1000,
	    .rgid = 100,
	    .egid = 100,
	    .flags = LIN_PROC_FROM_SCAN,
	    .exec_count = 1,
	    .comm = "bash",
	    .comm_len = 4,
	    .exe = "/usr/bin/bash",
	    .exe_len = 13,
	    .cmdline = shell_cmd,
	    .cmdline_len = sizeof(shell_cmd) - 1,
	    .cmdline_full_len = 5000,
	    .cmdline_sha256 = sha,
	};
	struct journal_proc child = {
	    .has = JOURNAL_HAS_COMM | JOURNAL_HAS_CREATOR | JOURNAL_HAS_CREATOR_START |
	           JOURNAL_HAS_INHERITED | JOURNAL_HAS_UIDS | JOURNAL_HAS_GIDS,
	    .pid = 300,
	    .instance = 1,
	    .start_ticks = 300,
	    .creator_pid = 100,
	    .creator_instance = 1,
	    .creator_start_ticks = 200,
	    .flags = LIN_PROC_FORK_SEEN,
	    .comm = "bash",
	    .comm_len = 4,
	};
	struct journal_proc second;
	struct lin_process *sh, *c1, *c2;
	struct lin_name name2 = {.pid = 300, .start_ticks = 300, .instance = 2};

	feed_encoded(f, JOURNAL_FOUND, BOOT2_NS + 3 * NS_PER_SEC, &shell);
	/* The first holder of 300: forked (inherits), exits 7. */
	feed_encoded(f, JOURNAL_FORK, BOOT2_NS + 3 * NS_PER_SEC + 1, &child);
	child.has |= JOURNAL_HAS_EXIT;
	child.exit_kind = LIN_EXIT_CODE;
	child.exit_status = 7 << 8;
	child.exit_ns = BOOT2_NS + 3 * NS_PER_SEC + 2;
	feed_encoded(f, JOURNAL_EXIT, child.exit_ns, &child);
	/* The second holder within the same tick: an exec that folds its
	 * fork, with bytes that are not UTF-8 and a guess; then killed. */
	second = child;
	second.has = JOURNAL_HAS_COMM | JOURNAL_HAS_EXE | JOURNAL_HAS_CMDLINE | JOURNAL_HAS_UIDS |
	             JOURNAL_HAS_GIDS | JOURNAL_HAS_CREATOR | JOURNAL_HAS_CREATOR_START |
	             JOURNAL_HAS_FORK | JOURNAL_HAS_GUESS;
	second.instance = 2;
	second.exit_kind = LIN_EXIT_RUNNING;
	second.comm = "true";
	second.comm_len = 4;
	second.exe = "/usr/bin/true";
	second.exe_len = 13;
	second.cmdline = true_cmd;
	second.cmdline_len = sizeof(true_cmd) - 1;
	second.ruid = second.euid = 0;
	second.guess.check = LIN_PARENT_NOT_CREATOR;
	second.guess.count = 1;
	second.guess.candidates[0] =
	    (struct lin_name){.pid = 100, .start_ticks = 200, .instance = 1};
	feed_encoded(f, JOURNAL_EXEC, BOOT2_NS + 3 * NS_PER_SEC + 3, &second);
	second.has |= JOURNAL_HAS_EXIT;
	second.exit_kind = LIN_EXIT_SIGNAL;
	second.exit_status = SIGKILL;
	second.exit_ns = BOOT2_NS + 3 * NS_PER_SEC + 4;
	feed_encoded(f, JOURNAL_EXIT, second.exit_ns, &second);
	journal_reader_finish(f->reader);
	assert_int_equal(journal_reader_stats(f->reader)->applied, 5);

	sh = find(f->root, 100, 200);
	assert_non_null(sh);
	assert_int_equal(lin_process_cmdline_full_len(sh), 5000);
	assert_non_null(lin_process_cmdline_sha256(sh));
	assert_string_equal(lin_process_cmdline_sha256(sh)->data, sha);

	c1 = tracker_find_name(f->root, &(struct lin_name){300, 1, 300});
	c2 = tracker_find_name(f->root, &name2);
	assert_non_null(c1);
	assert_non_null(c2);
	assert_true(c1 != c2);
	/* The fork's image and ids: its creator's. */
	assert_ptr_equal(c1->creator, sh);
	assert_str(c1->exe, "/usr/bin/bash", 13);
	assert_str(c1->cmdline, shell_cmd, sizeof(shell_cmd) - 1);
	assert_int_equal(lin_process_cmdline_full_len(c1), 5000);
	assert_int_equal(c1->euid, 1000);
	assert_int_equal(c1->exit_kind, LIN_EXIT_CODE);
	assert_int_equal(c1->exit_status, 7 << 8);
	assert_int_equal(c1->exit_ns, BOOT2_NS + 3 * NS_PER_SEC + 2);
	/* The folded exec: its creator, exact bytes, its guess, its end. */
	assert_int_equal(lin_process_instance(c2), 2);
	assert_ptr_equal(c2->creator, sh);
	assert_true(c2->flags & LIN_PROC_FORK_SEEN);
	assert_str(c2->exe, "/usr/bin/true", 13);
	assert_str(c2->cmdline, true_cmd, sizeof(true_cmd) - 1);
	assert_int_equal(c2->exec_count, 1);
	assert_int_equal(c2->euid, 0);
	assert_int_equal(lin_process_cmdline_full_len(c2), 0);
	assert_null(lin_process_cmdline_sha256(c2));
	assert_non_null(lin_process_guess(c2));
	assert_int_equal(lin_process_guess(c2)->check, LIN_PARENT_NOT_CREATOR);
	assert_int_equal(lin_process_guess(c2)->count, 1);
	assert_int_equal(lin_process_guess(c2)->candidates[0].pid, 100);
	assert_int_equal(c2->exit_kind, LIN_EXIT_SIGNAL);
	assert_int_equal(c2->exit_status, SIGKILL);
	assert_int_equal(c2->exit_ns, BOOT2_NS + 3 * NS_PER_SEC + 4);
}

static void write_file(const char *path, const void *data, gsize len)
{
	g_autoptr(GError) error = NULL;

	assert_true(g_file_set_contents(path, data, (gssize)len, &error));
}

static char *segment_path(struct fixture *f, guint number)
{
	if (!f->dir[0]) {
		g_strlcpy(f->dir, "/tmp/lineagefs-test-XXXXXX", sizeof(f->dir));
		assert_non_null(g_mkdtemp(f->dir));
	}
	return g_strdup_printf("%s/" JOURNAL_SEGMENT_PREFIX "%010u" JOURNAL_SEGMENT_SUFFIX, f->dir,
	                       number);
}

static char *history_text(guint64 first_seq, pid_t pid, const char *name)
{
	g_autofree char *p1 =
	    g_strdup_printf("\"entity_id\":\"e%d\",\"pid\":%d,\"name\":\"%s\"", pid, pid, name);
	g_autofree char *fork =
	    line(BOOT2_NS + NS_PER_SEC, "fork", first_seq, HOST, BOOT2, p1, "\"start_ticks\":10");
	g_autofree char *exit =
	    line(BOOT2_NS + 2 * NS_PER_SEC, "exit", first_seq + 1, HOST, BOOT2, p1,
	         "\"start_ticks\":10,\"exit\":{\"kind\":\"code\",\"status\":0}");

	return g_strdup_printf("%s\n%s\n", fork, exit);
}

/* What a replay of path holds: one "pid-start exit cmdline-length" line
 * per record, in serial order, and the reading's counts. */
static char *replay_summary(struct fixture *f, const char *path, gboolean one_thread,
                            struct journal_read_stats *stats)
{
	struct journal_read_options opts = f->opts;
	struct journal_reader *r;
	g_autoptr(GError) error = NULL;
	GString *out = g_string_new(NULL);
	GPtrArray *boots;

	opts.expect_host_id = NULL;
	opts.root_boot_id = NULL;
	opts.root_tracker = NULL;
	opts.one_thread = one_thread;
	r = journal_reader_new(&opts);
	assert_true(journal_reader_read_path(r, path, &error));
	journal_reader_finish(r);
	boots = journal_reader_boots(r);
	assert_int_equal(boots->len, 1);
	for (struct lin_process *p = tracker_first_after(
	         ((struct journal_boot *)g_ptr_array_index(boots, 0))->tracker, 0);
	     p; p = p->all_next)
		g_string_append_printf(
		    out, "%d-%" G_GUINT64_FORMAT ".%u %u %u %u %s\n", (int)p->pid, p->start_ticks,
		    lin_process_instance(p), p->exit_kind, p->exit_status,
		    p->cmdline ? (guint)p->cmdline->len : 0, p->creator ? "linked" : "-");
	*stats = *journal_reader_stats(r);
	journal_reader_free(r);
	return g_string_free(out, FALSE);
}

/* A segment big enough for the parser threads reads exactly as it does on
 * one thread: the same records, in the same order, the same counts, with
 * garbage, a line of megabytes and a torn last line in it. */
static void test_threaded_parse_matches_one_thread(void **state)
{
	static const struct journal_host host = {
	    .machine_id = HOST, .boot_id = BOOT2, .boot_realtime_ns = BOOT2_NS, .hz = 100};
	static const char cmd[] = "/usr/bin/true\0--x\0";
	struct fixture *f = *state;
	g_autoptr(GString) text = g_string_new(NULL);
	g_autofree char *path = segment_path(f, 1);
	g_autofree char *threaded = NULL, *alone = NULL;
	struct journal_read_stats st1, st2;
	struct journal_proc shell = {
	    .has = JOURNAL_HAS_COMM | JOURNAL_HAS_EXE | JOURNAL_HAS_CMDLINE,
	    .pid = 100,
	    .instance = 1,
	    .start_ticks = 50,
	    .comm = "sh",
	    .comm_len = 2,
	    .exe = "/bin/sh",
	    .exe_len = 7,
	    .cmdline = "sh\0",
	    .cmdline_len = 3,
	};
	guint64 seq = 0;

	journal_encode_process(text, &host, JOURNAL_FOUND, BOOT2_NS + 1, seq++, &shell);
	for (guint i = 0; i < 6000; i++) {
		struct journal_proc p = {
		    .has = JOURNAL_HAS_COMM | JOURNAL_HAS_EXE | JOURNAL_HAS_CMDLINE |
		           JOURNAL_HAS_CREATOR | JOURNAL_HAS_CREATOR_START | JOURNAL_HAS_FORK,
		    .pid = (pid_t)(1000 + i),
		    .instance = 1,
		    .start_ticks = 100 + i,
		    .creator_pid = 100,
		    .creator_instance = 1,
		    .creator_start_ticks = 50,
		    .comm = "true",
		    .comm_len = 4,
		    .exe = "/usr/bin/true",
		    .exe_len = 13,
		    .cmdline = cmd,
		    .cmdline_len = sizeof(cmd) - 1 - (i % 3),
		};
		guint64 at = BOOT2_NS + (100 + i) * (NS_PER_SEC / 100);

		journal_encode_process(text, &host, JOURNAL_EXEC, at, seq++, &p);
		p.has |= JOURNAL_HAS_EXIT;
		p.exit_kind = i % 7 ? LIN_EXIT_CODE : LIN_EXIT_SIGNAL;
		p.exit_status = i % 7 ? (i % 256) << 8 : SIGKILL;
		journal_encode_process(text, &host, JOURNAL_EXIT, at + 1000, seq++, &p);
		if (i == 2000)
			g_string_append(text, "garbage\n{\"@timestamp\":1}\n\n");
		if (i == 4000) {
			gsize from = text->len;

			g_string_set_size(text, from + JOURNAL_LINE_MAX + 100);
			memset(text->str + from, 'x', JOURNAL_LINE_MAX + 99);
			text->str[text->len - 1] = '\n';
		}
	}
	g_string_append(text, "{\"torn\":");
	assert_true(text->len > JOURNAL_PARSE_THREADED_ABOVE);
	write_file(path, text->str, text->len);

	threaded = replay_summary(f, path, FALSE, &st1);
	alone = replay_summary(f, path, TRUE, &st2);
	assert_string_equal(threaded, alone);
	assert_memory_equal(&st1, &st2, sizeof(st1));
	assert_int_equal(st1.applied, 1 + 12000);
	assert_int_equal(st1.not_json, 1);
	assert_int_equal(st1.invalid, 1);
	assert_int_equal(st1.too_long, 1);
	assert_int_equal(st1.torn, 1);
	assert_int_equal(st1.lines, 1 + 12000 + 3 + 1 + 1);
	/* The newest 1000 exited are kept (the fixture's limit). */
	assert_non_null(strstr(threaded, "\n6998-6098.1 1 28160 17 linked\n"));
	assert_null(strstr(threaded, "\n2999-"));
}

static void test_segments_in_number_order(void **state)
{
	struct fixture *f = *state;
	g_autofree char *s9 = segment_path(f, 9);
	g_autofree char *s10 = segment_path(f, 10);
	g_autofree char *other = g_build_filename(f->dir, "notes.txt", NULL);
	g_autofree char *t9 = history_text(1, 42, "older");
	g_autofree char *p = g_strdup_printf("\"entity_id\":\"e42\",\"pid\":42,\"name\":\"newer\"");
	g_autofree char *open_line =
	    line(BOOT2_NS + 3 * NS_PER_SEC, "open", 1, HOST, BOOT2, NULL, "\"hz\":100");
	g_autofree char *comm =
	    line(BOOT2_NS + 4 * NS_PER_SEC, "comm", 2, HOST, BOOT2, p, "\"start_ticks\":10");
	g_autofree char *t10 = g_strdup_printf("%s\n%s\n", open_line, comm);
	g_autoptr(GError) error = NULL;
	struct lin_process *rec;

	write_file(s9, t9, strlen(t9));
	write_file(s10, t10, strlen(t10));
	write_file(other, "x", 1);
	assert_true(journal_reader_read_path(f->reader, f->dir, &error));
	journal_reader_finish(f->reader);
	rec = find(f->root, 42, 10);
	assert_non_null(rec);
	/* Lexical order would read "10" before "9". */
	assert_str(rec->comm, "newer", 5);
	assert_int_equal(journal_reader_stats(f->reader)->segments, 2);
	assert_int_equal(journal_reader_stats(f->reader)->skipped_files, 1);
	/* The open line of a new run restarts the numbering. */
	assert_int_equal(journal_reader_stats(f->reader)->duplicates, 0);
}

static void test_torn_and_truncated(void **state)
{
	struct fixture *f = *state;
	g_autofree char *s1 = segment_path(f, 1);
	g_autofree char *s2 = segment_path(f, 2);
	g_autofree char *t1 = history_text(1, 10, "a");
	g_autofree char *t2 = history_text(3, 11, "b");
	g_autoptr(GError) error = NULL;
	const struct journal_read_stats *stats = journal_reader_stats(f->reader);

	/* Segment 1 cut in the middle of its last line (a truncated copy),
	 * segment 2 with a complete last line missing only its newline (a
	 * crash between the write of the line and of its newline). */
	write_file(s1, t1, strlen(t1) - 20);
	write_file(s2, t2, strlen(t2) - 1);
	assert_true(journal_reader_read_path(f->reader, f->dir, &error));
	journal_reader_finish(f->reader);
	assert_int_equal(stats->torn, 2);
	assert_int_equal(stats->applied, 2);
	/* Both forks applied, neither exit: still running. */
	assert_true(lin_process_running(find(f->root, 10, 10)));
	assert_true(lin_process_running(find(f->root, 11, 10)));
}

static void test_line_of_megabytes(void **state)
{
	struct fixture *f = *state;
	g_autofree char *s1 = segment_path(f, 1);
	g_autofree char *t = history_text(5, 12, "after");
	gsize huge = JOURNAL_LINE_MAX + 1024 * 1024;
	g_autofree char *data = g_malloc(huge + 1 + strlen(t));
	g_autoptr(GError) error = NULL;
	const struct journal_read_stats *stats = journal_reader_stats(f->reader);

	/* Garbage bytes (NULs among them) past the line limit, then good
	 * lines: skipped without being held, and the reading goes on. */
	for (gsize i = 0; i < huge; i++)
		data[i] = (char)(i % 7 == 0 ? 0 : 'a' + i % 26);
	data[huge] = '\n';
	memcpy(data + huge + 1, t, strlen(t));
	write_file(s1, data, huge + 1 + strlen(t));
	assert_true(journal_reader_read_path(f->reader, s1, &error));
	journal_reader_finish(f->reader);
	assert_int_equal(stats->too_long, 1);
	assert_int_equal(stats->applied, 2);
	assert_false(lin_process_running(find(f->root, 12, 10)));
}

static void test_foreign_host_is_an_error_at_startup(void **state)
{
	struct fixture *f = *state;
	g_autofree char *p = proc(5, 10, BOOT2_NS, "");
	g_autofree char *text =
	    line(BOOT2_NS + NS_PER_SEC, "fork", 1, OTHER_HOST, BOOT2, p, "\"start_ticks\":10");
	g_autoptr(GError) error = NULL;

	assert_false(journal_reader_feed_line(f->reader, text, strlen(text), &error));
	assert_non_null(error);
	assert_non_null(strstr(error->message, "another machine"));
	assert_non_null(strstr(error->message, "--replay"));

	/* A replay reads it. */
	make_replay(f, 0);
	g_clear_error(&error);
	assert_true(journal_reader_feed_line(f->reader, text, strlen(text), &error));
	assert_int_equal(journal_reader_stats(f->reader)->applied, 1);
}

static void test_boots(void **state)
{
	struct fixture *f = *state;
	g_autofree char *p1 = proc(70, 10, BOOT1_NS, "\"name\":\"old\"");
	g_autofree char *p2 = proc(70, 10, BOOT2_NS, "\"name\":\"new\"");
	GPtrArray *boots;
	struct journal_boot *b1, *b2;
	struct lin_process *rec;

	feed(f, line(BOOT1_NS + NS_PER_SEC, "fork", 1, HOST, BOOT1, p1, "\"start_ticks\":10"));
	feed(f, line(BOOT2_NS + NS_PER_SEC, "open", 1, HOST, BOOT2, NULL, ""));
	feed(f, line(BOOT2_NS + NS_PER_SEC, "fork", 2, HOST, BOOT2, p2, "\"start_ticks\":10"));
	journal_reader_finish(f->reader);
	boots = journal_reader_boots(f->reader);
	assert_int_equal(boots->len, 2);
	b1 = g_ptr_array_index(boots, 0);
	b2 = g_ptr_array_index(boots, 1);
	assert_string_equal(b1->boot_id, BOOT1);
	assert_string_equal(b2->boot_id, BOOT2);
	assert_ptr_equal(b2->tracker, f->root);
	assert_true(b1->clock_known);
	assert_int_equal(b1->boot_realtime_ns, BOOT1_NS);

	/* The machine rebooted: what ran in boot 1 ended, how is unknown. */
	rec = find(b1->tracker, 70, 10);
	assert_non_null(rec);
	assert_str(rec->comm, "old", 3);
	assert_int_equal(rec->exit_kind, LIN_EXIT_UNKNOWN);
	assert_int_equal(rec->exit_ns, 0);
	rec = find(f->root, 70, 10);
	assert_str(rec->comm, "new", 3);
	assert_true(lin_process_running(rec));
}

static void test_replay_root_is_newest_boot(void **state)
{
	struct fixture *f = *state;
	g_autofree char *p1 = proc(70, 10, BOOT1_NS, "");
	g_autofree char *p2 = proc(71, 10, BOOT2_NS, "");
	GPtrArray *boots;

	make_replay(f, 0);
	feed(f, line(BOOT2_NS + NS_PER_SEC, "fork", 1, HOST, BOOT2, p2, "\"start_ticks\":10"));
	feed(f, line(BOOT1_NS + NS_PER_SEC, "fork", 2, HOST, BOOT1, p1, "\"start_ticks\":10"));
	journal_reader_finish(f->reader);
	boots = journal_reader_boots(f->reader);
	assert_int_equal(boots->len, 2);
	/* Oldest first, by their last line, whatever the order read. */
	assert_string_equal(((struct journal_boot *)g_ptr_array_index(boots, 1))->boot_id, BOOT2);
	assert_true(lin_process_running(
	    find(((struct journal_boot *)g_ptr_array_index(boots, 1))->tracker, 71, 10)));
	assert_false(lin_process_running(
	    find(((struct journal_boot *)g_ptr_array_index(boots, 0))->tracker, 70, 10)));
}

static void test_until(void **state)
{
	struct fixture *f = *state;
	struct journal_boot *b;
	struct lin_process *child;

	/* Until second 4.5: the child had exec'd (second 4) but not exited
	 * (second 5). */
	make_replay(f, BOOT2_NS + 4 * NS_PER_SEC + NS_PER_SEC / 2);
	feed_history(f);
	feed_proc(f, 6, "fork", 300, 600, "\"name\":\"late\"", "");
	/* A checkpoint after until of a process that started before it and
	 * ended after it: running at until. */
	feed_proc(f, 7, "checkpoint", 400, 250,
	          "\"name\":\"ckpt\",\"end\":\"2026-11-30T10:00:06.000000000Z\",\"exit_code\":1",
	          "");
	journal_reader_finish(f->reader);
	b = g_ptr_array_index(journal_reader_boots(f->reader), 0);
	child = find(b->tracker, 200, 300);
	assert_non_null(child);
	assert_true(lin_process_running(child));
	assert_str(child->comm, "sh", 2);
	assert_null(find(b->tracker, 300, 600));
	assert_non_null(find(b->tracker, 400, 250));
	assert_true(lin_process_running(find(b->tracker, 400, 250)));
	assert_int_equal(journal_reader_stats(f->reader)->after_until, 2);
}

static void test_retention_across_boots(void **state)
{
	struct fixture *f = *state;
	GPtrArray *boots;
	struct tracker_stats stats;

	f->opts.max_exited = 5;
	make_replay(f, 0);
	f->seq = 0;
	/* 4 exited in boot 1, 4 in boot 2: 5 kept, boot 2's first. */
	for (int boot = 0; boot < 2; boot++) {
		for (int i = 0; i < 4; i++) {
			guint64 base = boot ? BOOT2_NS : BOOT1_NS;
			g_autofree char *p = proc(100 + i, 10, base, "");
			g_autofree char *l = g_strdup_printf(
			    "\"start_ticks\":10,\"exit\":{\"kind\":\"code\",\"status\":0}");

			feed(f, line(base + (guint64)(i + 1) * NS_PER_SEC, "exit", ++f->seq, HOST,
			             boot ? BOOT2 : BOOT1, p, l));
		}
	}
	journal_reader_finish(f->reader);
	boots = journal_reader_boots(f->reader);
	tracker_get_stats(((struct journal_boot *)g_ptr_array_index(boots, 1))->tracker, &stats);
	assert_int_equal(stats.processes_exited, 4);
	tracker_get_stats(((struct journal_boot *)g_ptr_array_index(boots, 0))->tracker, &stats);
	assert_int_equal(stats.processes_exited, 1);
	/* The newest of boot 1 stays. */
	assert_non_null(
	    find(((struct journal_boot *)g_ptr_array_index(boots, 0))->tracker, 103, 10));
}

static void test_restart_reconciles_with_proc(void **state)
{
	struct fixture *f = *state;
	struct fakeproc *fp = fakeproc_new();
	struct fakeproc_proc init = {.pid = 1,
	                             .ppid = 0,
	                             .start_ticks = 5,
	                             .comm = "systemd",
	                             .exe = "/usr/lib/systemd/systemd"};
	struct fakeproc_proc orphan = {
	    .pid = 500, .ppid = 1, .start_ticks = 600, .comm = "sleep", .exe = "/usr/bin/sleep"};
	struct fakeproc_proc zombie = {
	    .pid = 510, .ppid = 1, .start_ticks = 610, .comm = "z", .state = 'Z'};
	struct fakeproc_proc recycled = {.pid = 700, .ppid = 1, .start_ticks = 900, .comm = "new"};
	struct tracker_config cfg = *tracker_get_config(f->root);
	struct lin_process *p, *creator;
	struct tracker_stats stats;
	struct tracker *t;

	fakeproc_add(fp, &init);
	fakeproc_add(fp, &orphan);
	fakeproc_add(fp, &zombie);
	fakeproc_add(fp, &recycled);
	cfg.proc_root_fd = fakeproc_root_fd(fp);
	t = tracker_new(&cfg);
	journal_reader_free(f->reader);
	f->opts.root_tracker = t;
	f->reader = journal_reader_new(&f->opts);

	/* Before the restart: init; 400 forked 500 and exited (500 is an
	 * orphan, reparented to init); 510 and 700 ran. */
	feed_proc(f, 1, "found", 1, 5, "\"name\":\"systemd\"", "\"flags\":[\"from_scan\"]");
	feed_proc(f, 2, "fork", 400, 550,
	          "\"name\":\"sh\",\"parent\":{\"entity_id\":\"e15\",\"pid\":1}",
	          "\"flags\":[\"fork_seen\"]");
	feed_proc(f, 3, "fork", 500, 600,
	          "\"name\":\"sleep\",\"executable\":\"/usr/bin/sleep\","
	          "\"parent\":{\"entity_id\":\"e400550\",\"pid\":400}",
	          "\"flags\":[\"fork_seen\"]");
	feed_proc(f, 4, "exit", 400, 550, "", "\"exit\":{\"kind\":\"code\",\"status\":0}");
	feed_proc(f, 5, "fork", 510, 610, "\"name\":\"z\"", "\"flags\":[\"fork_seen\"]");
	feed_proc(f, 6, "fork", 700, 800, "\"name\":\"old\"", "\"flags\":[\"fork_seen\"]");
	journal_reader_finish(f->reader);
	assert_int_equal(tracker_bootstrap(t), 4);

	p = tracker_find(t, 500, 600);
	creator = tracker_find(t, 400, 550);
	assert_non_null(p);
	assert_non_null(creator);
	assert_true(lin_process_running(p));
	assert_ptr_equal(p->creator, creator);
	assert_int_equal(p->creator_pid, 400);
	assert_true(p->flags & LIN_PROC_FORK_SEEN);
	assert_false(p->flags & LIN_PROC_FROM_SCAN);
	/* Gone while the daemon was down, or exited and not yet reaped. */
	assert_int_equal(tracker_find(t, 700, 800)->exit_kind, LIN_EXIT_UNKNOWN);
	assert_int_equal(tracker_find(t, 510, 610)->exit_kind, LIN_EXIT_UNKNOWN);
	/* The pid's new holder is a new record. */
	assert_true(lin_process_running(tracker_find(t, 700, 900)));
	tracker_get_stats(t, &stats);
	assert_int_equal(stats.exits_while_down, 2);
	/* init, 400, 500, 510, 700 twice: nothing twice. */
	assert_int_equal(stats.processes_live + stats.processes_exited, 6);

	journal_reader_free(f->reader);
	f->reader = NULL;
	tracker_free(t);
	fakeproc_free(fp);
}

static void test_timestamps(void **state)
{
	guint64 ns;
	g_autoptr(GError) error = NULL;

	(void)state;
	assert_true(journal_parse_timestamp("2026-11-30T12:00:00Z", &ns));
	assert_int_equal(ns, NOW_NS);
	assert_true(journal_parse_timestamp("2026-11-30T12:00:00.000000001Z", &ns));
	assert_int_equal(ns, NOW_NS + 1);
	assert_true(journal_parse_timestamp("1970-01-01T00:00:00.5Z", &ns));
	assert_int_equal(ns, 500000000);
	assert_false(journal_parse_timestamp("2026-02-30T12:00:00Z", &ns));
	assert_false(journal_parse_timestamp("2026-11-30T12:00:00", &ns));
	assert_false(journal_parse_timestamp("2026-11-30T12:00:00.Z", &ns));
	assert_false(journal_parse_timestamp("2026-11-30T12:00:00.0000000001Z", &ns));
	assert_false(journal_parse_timestamp("2026-11-30 12:00:00Z", &ns));
	assert_false(journal_parse_timestamp("", &ns));

	assert_true(journal_parse_until("2026-11-30T12:00:00Z", &ns, &error));
	assert_int_equal(ns, NOW_NS);
	assert_true(journal_parse_until("2026-11-30T13:00:00+01:00", &ns, &error));
	assert_int_equal(ns, NOW_NS);
	assert_true(journal_parse_until("2026-11-30T12:00:00", &ns, &error));
	assert_int_equal(ns, NOW_NS);
	assert_true(journal_parse_until("@1796040000", &ns, &error));
	assert_int_equal(ns, NOW_NS);
	assert_true(journal_parse_until("@1796040000.25", &ns, &error));
	assert_int_equal(ns, NOW_NS + 250000000);
	assert_false(journal_parse_until("@", &ns, &error));
	g_clear_error(&error);
	assert_false(journal_parse_until("@12x", &ns, &error));
	g_clear_error(&error);
	assert_false(journal_parse_until("@99999999999999999999", &ns, &error));
	g_clear_error(&error);
	assert_false(journal_parse_until("yesterday", &ns, &error));
	assert_non_null(strstr(error->message, "ISO 8601"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_events_build_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exact_bytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoint_replaces_and_forget_removes, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_duplicates_change_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_creator_after_child, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_lines_are_counted, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_compact_lines_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_threaded_parse_matches_one_thread, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_segments_in_number_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_torn_and_truncated, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_line_of_megabytes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_foreign_host_is_an_error_at_startup, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_boots, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_replay_root_is_newest_boot, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_until, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_retention_across_boots, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_restart_reconciles_with_proc, setup, teardown),
	    cmocka_unit_test(test_timestamps),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
