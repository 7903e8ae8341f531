// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the journal encoder: every line is parsed back with
 * jansson and every field checked against the record it came from; the
 * entity id against a sha256 computed here; command lines with bytes that
 * are not UTF-8 (or no final NUL) round-trip through cmdline_b64, those
 * that are through args; control bytes, quotes and U+2028 are escaped;
 * unknown values are left out.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>

#include <cmocka.h>
#include <jansson.h>

#include "journal_encode.h"
#include "tracker.h"

/* 2026-11-30T00:00:00Z */
#define BOOT_NS (1795996800ull * 1000000000ull)

static const struct journal_host host = {
    .machine_id = "0123456789abcdef0123456789abcdef",
    .boot_id = "5e1c0b9a-1111-2222-3333-444455556666",
    .boot_realtime_ns = BOOT_NS,
    .hz = 100,
};

/* Encodes one line, checks it is one line of valid UTF-8 JSON, parses it. */
static json_t *encode(enum journal_action action, guint64 event_ns, guint64 seq,
                      const struct journal_proc *proc)
{
	g_autoptr(GString) out = g_string_new(NULL);
	json_error_t err;
	json_t *root;

	journal_encode_process(out, &host, action, event_ns, seq, proc);
	assert_true(out->len > 2);
	assert_int_equal(out->str[out->len - 1], '\n');
	assert_null(memchr(out->str, '\n', out->len - 1));
	assert_true(g_utf8_validate(out->str, (gssize)out->len, NULL));
	root = json_loadb(out->str, out->len, JSON_REJECT_DUPLICATES, &err);
	if (!root)
		fail_msg("line does not parse: %s: %s", err.text, out->str);
	return root;
}

static const char *str_at(json_t *root, const char *path)
{
	json_t *v = root;
	g_auto(GStrv) parts = g_strsplit(path, ".", -1);

	for (guint i = 0; parts[i] && v; i++)
		v = json_object_get(v, parts[i]);
	return v && json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *at(json_t *root, const char *path)
{
	json_t *v = root;
	g_auto(GStrv) parts = g_strsplit(path, ".", -1);

	for (guint i = 0; parts[i] && v; i++)
		v = json_object_get(v, parts[i]);
	return v;
}

static json_int_t int_at(json_t *root, const char *path)
{
	json_t *v = at(root, path);

	assert_non_null(v);
	assert_true(json_is_integer(v));
	return json_integer_value(v);
}

/* The entity id computed independently of the encoder. */
static char *expected_id(pid_t pid, guint64 start, guint instance)
{
	g_autofree char *key = g_strdup_printf("%s/%s/%d/%" G_GUINT64_FORMAT "/%u", host.machine_id,
	                                       host.boot_id, (int)pid, start, instance);
	g_autofree char *sum = g_compute_checksum_for_string(G_CHECKSUM_SHA256, key, -1);

	return g_strndup(sum, 32);
}

static void assert_str(json_t *root, const char *path, const char *want)
{
	const char *got = str_at(root, path);

	if (!got)
		fail_msg("%s missing", path);
	assert_string_equal(got, want);
}

/* The NUL-joined args plus a final NUL: what a reader rebuilds. */
static GByteArray *join_args(json_t *args)
{
	GByteArray *bytes = g_byte_array_new();
	size_t i;
	json_t *a;

	json_array_foreach(args, i, a)
	{
		assert_true(json_is_string(a));
		g_byte_array_append(bytes, (const guint8 *)json_string_value(a),
		                    (guint)json_string_length(a));
		g_byte_array_append(bytes, (const guint8 *)"", 1);
	}
	return bytes;
}

static GBytes *b64_at(json_t *root, const char *path)
{
	const char *text = str_at(root, path);
	gsize len;
	guchar *raw;

	if (!text)
		return NULL;
	raw = g_base64_decode(text, &len);
	return g_bytes_new_take(raw, len);
}

static const char cmd_ls[] = "ls\0-l\0/tmp\0";

static struct journal_proc proc_ls(void)
{
	struct journal_proc p = {
	    .has = JOURNAL_HAS_CREATOR | JOURNAL_HAS_CREATOR_START | JOURNAL_HAS_COMM |
	           JOURNAL_HAS_EXE | JOURNAL_HAS_CMDLINE | JOURNAL_HAS_UIDS | JOURNAL_HAS_GIDS |
	           JOURNAL_HAS_COUNTS,
	    .pid = 4242,
	    .instance = 1,
	    .start_ticks = 12345, /* 123.45 s after boot */
	    .creator_pid = 4200,
	    .creator_instance = 1,
	    .creator_start_ticks = 12000,
	    .ruid = 1000,
	    .euid = 0,
	    .rgid = 100,
	    .egid = 5,
	    .flags = LIN_PROC_FORK_SEEN | LIN_PROC_EVICTABLE,
	    .exit_kind = LIN_EXIT_RUNNING,
	    .exec_count = 1,
	    .threads = 2,
	    .comm = "ls",
	    .comm_len = 2,
	    .exe = "/usr/bin/ls",
	    .exe_len = 11,
	    .cmdline = cmd_ls,
	    .cmdline_len = sizeof(cmd_ls) - 1,
	};
	return p;
}

static void test_fork_line(void **state)
{
	struct journal_proc p = proc_ls();
	json_t *root = encode(JOURNAL_FORK, BOOT_NS + 123456789012ull, 7, &p);
	g_autofree char *id = expected_id(4242, 12345, 1);
	g_autofree char *parent_id = expected_id(4200, 12000, 1);
	json_t *args, *flags;

	(void)state;
	assert_str(root, "@timestamp", "2026-11-30T00:02:03.456789012Z");
	assert_str(root, "event.kind", "event");
	assert_true(json_is_array(at(root, "event.category")));
	assert_string_equal(json_string_value(json_array_get(at(root, "event.category"), 0)),
	                    "process");
	assert_string_equal(json_string_value(json_array_get(at(root, "event.type"), 0)), "start");
	assert_str(root, "event.action", "fork");
	assert_int_equal(int_at(root, "event.sequence"), 7);
	assert_str(root, "host.id", host.machine_id);
	assert_str(root, "host.boot.id", host.boot_id);
	assert_str(root, "process.entity_id", id);
	assert_int_equal(int_at(root, "process.pid"), 4242);
	assert_str(root, "process.start", "2026-11-30T00:02:03.450000000Z");
	assert_str(root, "process.name", "ls");
	assert_str(root, "process.executable", "/usr/bin/ls");
	args = at(root, "process.args");
	assert_int_equal(json_array_size(args), 3);
	assert_string_equal(json_string_value(json_array_get(args, 0)), "ls");
	assert_string_equal(json_string_value(json_array_get(args, 1)), "-l");
	assert_string_equal(json_string_value(json_array_get(args, 2)), "/tmp");
	assert_str(root, "process.command_line", "ls -l /tmp");
	assert_str(root, "process.parent.entity_id", parent_id);
	assert_int_equal(int_at(root, "process.parent.pid"), 4200);
	assert_str(root, "process.user.id", "0");
	assert_str(root, "process.real_user.id", "1000");
	assert_str(root, "process.group.id", "5");
	assert_str(root, "process.real_group.id", "100");
	assert_null(at(root, "process.end"));
	assert_null(at(root, "process.exit_code"));
	assert_int_equal(int_at(root, "lineagefs.v"), JOURNAL_FORMAT_VERSION);
	assert_int_equal(int_at(root, "lineagefs.start_ticks"), 12345);
	/* Instance 1 is the default, left out. */
	assert_null(at(root, "lineagefs.instance"));
	assert_null(at(root, "lineagefs.image"));
	/* A fork implies fork_seen; the eviction bookkeeping is the table's
	 * own: no flags left to name. */
	assert_null(at(root, "lineagefs.flags"));
	p.flags |= LIN_PROC_START_ESTIMATED;
	json_decref(root);
	root = encode(JOURNAL_FORK, BOOT_NS + 123456789012ull, 7, &p);
	args = at(root, "process.args");
	flags = at(root, "lineagefs.flags");
	assert_int_equal(json_array_size(flags), 1);
	assert_string_equal(json_string_value(json_array_get(flags, 0)), "start_estimated");
	assert_null(at(root, "lineagefs.exit"));
	assert_null(at(root, "lineagefs.cmdline_b64"));
	assert_null(at(root, "lineagefs.comm_b64"));
	assert_null(at(root, "lineagefs.exe_b64"));
	/* A fork carries no counts; an exact cmdline needs no base64. */
	assert_null(at(root, "lineagefs.execs"));
	{
		g_autoptr(GByteArray) bytes = join_args(args);

		assert_int_equal(bytes->len, sizeof(cmd_ls) - 1);
		assert_memory_equal(bytes->data, cmd_ls, bytes->len);
	}
	json_decref(root);
}

static void test_exit_code(void **state)
{
	struct journal_proc p = proc_ls();
	json_t *root;

	(void)state;
	p.exit_kind = LIN_EXIT_CODE;
	p.exit_status = 3 << 8;
	p.exit_ns = BOOT_NS + 200ull * 1000000000ull + 5;
	p.has |= JOURNAL_HAS_EXIT;
	root = encode(JOURNAL_EXIT, p.exit_ns, 9, &p);
	assert_str(root, "event.action", "exit");
	assert_string_equal(json_string_value(json_array_get(at(root, "event.type"), 0)), "end");
	/* The end is the line's @timestamp: not repeated. */
	assert_str(root, "@timestamp", "2026-11-30T00:03:20.000000005Z");
	assert_null(at(root, "process.end"));
	assert_int_equal(int_at(root, "process.exit_code"), 3);
	/* An exit code says it all: no lineagefs.exit. */
	assert_null(at(root, "lineagefs.exit"));
	assert_str(root, "process.name", "ls");
	/* What an exit does not change is not repeated, nor the start. */
	assert_null(at(root, "process.start"));
	assert_null(at(root, "process.args"));
	assert_null(at(root, "process.executable"));
	assert_null(at(root, "process.parent"));
	assert_null(at(root, "process.user"));
	assert_null(at(root, "lineagefs.flags"));
	json_decref(root);

	/* An end that is not the line's time is said. */
	root = encode(JOURNAL_EXIT, p.exit_ns + 1000, 9, &p);
	assert_str(root, "process.end", "2026-11-30T00:03:20.000000005Z");
	json_decref(root);
}

static void test_exit_signal_core(void **state)
{
	struct journal_proc p = proc_ls();
	json_t *root;

	(void)state;
	p.exit_kind = LIN_EXIT_SIGNAL;
	p.exit_status = SIGSEGV | 0x80;
	p.exit_ns = BOOT_NS + 1;
	p.has |= JOURNAL_HAS_EXIT;
	root = encode(JOURNAL_EXIT, p.exit_ns, 1, &p);
	/* Killed: no exit code, rather than a made-up one. */
	assert_null(at(root, "process.exit_code"));
	assert_str(root, "lineagefs.exit.kind", "signal");
	assert_str(root, "lineagefs.exit.signal", "SIGSEGV");
	assert_int_equal(int_at(root, "lineagefs.exit.status"), SIGSEGV | 0x80);
	assert_true(json_is_true(at(root, "lineagefs.exit.core_dumped")));
	json_decref(root);

	p.exit_status = SIGKILL;
	root = encode(JOURNAL_EXIT, p.exit_ns, 1, &p);
	assert_str(root, "lineagefs.exit.signal", "SIGKILL");
	assert_null(at(root, "lineagefs.exit.core_dumped"));
	json_decref(root);
}

static void test_exit_missed(void **state)
{
	struct journal_proc p = proc_ls();
	json_t *root;

	(void)state;
	p.exit_kind = LIN_EXIT_UNKNOWN;
	p.exit_ns = BOOT_NS + 1000;
	p.has |= JOURNAL_HAS_EXIT;
	root = encode(JOURNAL_EXIT_MISSED, p.exit_ns, 1, &p);
	assert_str(root, "event.action", "exit_missed");
	assert_str(root, "lineagefs.exit.kind", "unknown");
	assert_null(at(root, "process.exit_code"));
	assert_non_null(at(root, "process.end"));
	json_decref(root);
}

static void test_non_utf8_argv(void **state)
{
	static const char cmd[] = "printf\0\xff\xfe-\x80\0caf\xc3\xa9\0";
	struct journal_proc p = proc_ls();
	g_autoptr(GBytes) exact = NULL;
	json_t *root, *args;

	(void)state;
	p.cmdline = cmd;
	p.cmdline_len = sizeof(cmd) - 1;
	root = encode(JOURNAL_EXEC, BOOT_NS, 1, &p);
	args = at(root, "process.args");
	assert_int_equal(json_array_size(args), 3);
	assert_string_equal(json_string_value(json_array_get(args, 1)),
	                    "\xef\xbf\xbd\xef\xbf\xbd-\xef\xbf\xbd");
	assert_string_equal(json_string_value(json_array_get(args, 2)), "caf\xc3\xa9");
	exact = b64_at(root, "lineagefs.cmdline_b64");
	assert_non_null(exact);
	assert_int_equal(g_bytes_get_size(exact), sizeof(cmd) - 1);
	assert_memory_equal(g_bytes_get_data(exact, NULL), cmd, sizeof(cmd) - 1);
	/* An exec line adds one exec: no count. */
	assert_null(at(root, "lineagefs.execs"));
	json_decref(root);
}

static void test_cmdline_without_final_nul(void **state)
{
	static const char cmd[] = "nginx: worker process";
	struct journal_proc p = proc_ls();
	g_autoptr(GBytes) exact = NULL;
	json_t *root;

	(void)state;
	p.cmdline = cmd;
	p.cmdline_len = sizeof(cmd) - 1;
	root = encode(JOURNAL_EXEC, BOOT_NS, 1, &p);
	assert_str(root, "process.command_line", "nginx: worker process");
	exact = b64_at(root, "lineagefs.cmdline_b64");
	assert_non_null(exact);
	assert_int_equal(g_bytes_get_size(exact), sizeof(cmd) - 1);
	assert_memory_equal(g_bytes_get_data(exact, NULL), cmd, sizeof(cmd) - 1);
	json_decref(root);
}

static void test_empty_args_round_trip(void **state)
{
	static const char cmd[] = "sh\0\0-c\0\0";
	struct journal_proc p = proc_ls();
	g_autoptr(GByteArray) bytes = NULL;
	json_t *root;

	(void)state;
	p.cmdline = cmd;
	p.cmdline_len = sizeof(cmd) - 1;
	root = encode(JOURNAL_EXEC, BOOT_NS, 1, &p);
	assert_null(at(root, "lineagefs.cmdline_b64"));
	bytes = join_args(at(root, "process.args"));
	assert_int_equal(bytes->len, sizeof(cmd) - 1);
	assert_memory_equal(bytes->data, cmd, bytes->len);
	json_decref(root);
}

static void test_escapes(void **state)
{
	static const char comm[] = "a\"b\\c\n\x01\x1f\x7f\xe2\x80\xa8\xe2\x80\xa9/";
	struct journal_proc p = proc_ls();
	g_autoptr(GString) out = g_string_new(NULL);
	json_t *root;

	(void)state;
	p.comm = comm;
	p.comm_len = sizeof(comm) - 1;
	journal_encode_process(out, &host, JOURNAL_COMM, BOOT_NS, 1, &p);
	/* Raw line terminators never reach the file. */
	assert_null(strstr(out->str, "\xe2\x80\xa8"));
	assert_null(strstr(out->str, "\xe2\x80\xa9"));
	assert_non_null(strstr(out->str, "\\u2028\\u2029"));
	for (gsize i = 0; i + 1 < out->len; i++)
		assert_true((guchar)out->str[i] >= 0x20);
	root = encode(JOURNAL_COMM, BOOT_NS, 1, &p);
	assert_str(root, "process.name", comm);
	assert_null(at(root, "lineagefs.comm_b64"));
	assert_str(root, "event.action", "comm");
	assert_string_equal(json_string_value(json_array_get(at(root, "event.type"), 0)), "change");
	json_decref(root);
}

static void test_non_utf8_comm_exe(void **state)
{
	static const char comm[] = "\xc0\xaf";
	static const char exe[] = "/tmp/\xff";
	struct journal_proc p = proc_ls();
	g_autoptr(GBytes) c = NULL, e = NULL;
	json_t *root;

	(void)state;
	p.comm = comm;
	p.comm_len = sizeof(comm) - 1;
	p.exe = exe;
	p.exe_len = sizeof(exe) - 1;
	root = encode(JOURNAL_EXEC, BOOT_NS, 1, &p);
	assert_str(root, "process.executable", "/tmp/\xef\xbf\xbd");
	c = b64_at(root, "lineagefs.comm_b64");
	e = b64_at(root, "lineagefs.exe_b64");
	assert_non_null(c);
	assert_non_null(e);
	assert_memory_equal(g_bytes_get_data(c, NULL), comm, 2);
	assert_memory_equal(g_bytes_get_data(e, NULL), exe, 6);
	json_decref(root);
}

static void test_unknown_left_out(void **state)
{
	struct journal_proc p = {
	    .has = JOURNAL_HAS_CMDLINE,
	    .pid = 2,
	    .instance = 1,
	    .start_ticks = 0,
	    .flags = LIN_PROC_KTHREAD,
	};
	json_t *root, *proc;

	(void)state;
	root = encode(JOURNAL_FOUND, BOOT_NS, 1, &p);
	assert_str(root, "event.kind", "state");
	proc = at(root, "process");
	/* Known: entity_id, pid, start; nothing else. */
	assert_int_equal(json_object_size(proc), 3);
	assert_str(root, "process.start", "2026-11-30T00:00:00.000000000Z");
	assert_string_equal(json_string_value(json_array_get(at(root, "lineagefs.flags"), 0)),
	                    "kthread");
	json_decref(root);

	/* A forget names the process (entity_id, pid) and nothing more. */
	p = proc_ls();
	root = encode(JOURNAL_FORGET, BOOT_NS, 1, &p);
	proc = at(root, "process");
	assert_int_equal(json_object_size(proc), 2);
	assert_null(at(root, "lineagefs.flags"));
	json_decref(root);

	/* A creator without a record: its pid, no entity id. */
	p = proc_ls();
	p.has &= ~(guint32)JOURNAL_HAS_CREATOR_START;
	root = encode(JOURNAL_FORK, BOOT_NS, 1, &p);
	assert_int_equal(int_at(root, "process.parent.pid"), 4200);
	assert_null(at(root, "process.parent.entity_id"));
	json_decref(root);
}

static void test_checkpoint_whole(void **state)
{
	struct journal_proc p = proc_ls();
	json_t *root;

	(void)state;
	p.exit_kind = LIN_EXIT_CODE;
	p.exit_status = 0;
	p.exit_ns = BOOT_NS + 5;
	p.has |= JOURNAL_HAS_EXIT;
	root = encode(JOURNAL_CHECKPOINT, BOOT_NS + 10, 100, &p);
	assert_str(root, "event.kind", "state");
	assert_str(root, "event.action", "checkpoint");
	assert_string_equal(json_string_value(json_array_get(at(root, "event.type"), 0)), "info");
	assert_str(root, "process.name", "ls");
	assert_str(root, "process.executable", "/usr/bin/ls");
	assert_int_equal(json_array_size(at(root, "process.args")), 3);
	assert_int_equal(int_at(root, "process.parent.pid"), 4200);
	assert_str(root, "process.user.id", "0");
	assert_str(root, "process.group.id", "5");
	assert_int_equal(int_at(root, "process.exit_code"), 0);
	assert_str(root, "process.end", "2026-11-30T00:00:00.000000005Z");
	assert_null(at(root, "lineagefs.exit"));
	assert_int_equal(int_at(root, "lineagefs.execs"), 1);
	assert_int_equal(int_at(root, "lineagefs.threads"), 2);
	json_decref(root);
}

static void test_huge_cmdline_kept_whole(void **state)
{
	/* The longest the daemon keeps, so the bound on a line is checked. */
	gsize len = LIN_CMDLINE_KERNEL_MAX;
	g_autofree char *cmd = g_malloc(len);
	struct journal_proc p = proc_ls();
	g_autoptr(GString) out = g_string_new(NULL);
	json_t *root;
	const char *line;
	gboolean truncated = FALSE;
	g_autofree guchar *whole = NULL;
	gsize whole_len;
	size_t i;
	json_t *f;

	(void)state;
	for (gsize k = 0; k < len; k++)
		cmd[k] = (char)(k % 31 == 0 ? 0x01 : 'a' + k % 26); /* control bytes: worst case */
	cmd[0] = 'S';
	cmd[len - 2] = 'E';
	cmd[len - 1] = '\0';
	p.cmdline = cmd;
	p.cmdline_len = len;
	journal_encode_process(out, &host, JOURNAL_EXEC, BOOT_NS, 1, &p);
	assert_true(out->len < JOURNAL_LINE_MAX);
	root = encode(JOURNAL_EXEC, BOOT_NS, 1, &p);
	/* For the shippers: both ends, the middle cut out, and said so. */
	line = str_at(root, "process.command_line");
	assert_non_null(line);
	assert_int_equal(strlen(line), JOURNAL_CMDLINE_MAX - 1);
	assert_int_equal(line[0], 'S');
	assert_int_equal(line[strlen(line) - 1], 'E');
	assert_true(json_is_true(at(root, "lineagefs.args_cut")));
	/* The record itself was not cut: no flag, and every byte is kept. */
	json_array_foreach(at(root, "lineagefs.flags"), i, f) truncated |=
	    strcmp(json_string_value(f), "cmdline_truncated") == 0;
	assert_false(truncated);
	assert_null(at(root, "lineagefs.cmdline_full_len"));
	whole = g_base64_decode(str_at(root, "lineagefs.cmdline_b64"), &whole_len);
	assert_int_equal(whole_len, len);
	assert_memory_equal(whole, cmd, len);
	json_decref(root);
}

/* A fork running its creator's image says so instead of repeating it; an
 * exec that folds its fork carries the creator and the start. */
static void test_fork_inherited_and_folded(void **state)
{
	struct journal_proc p = proc_ls();
	g_autofree char *parent_id = expected_id(4200, 12000, 1);
	json_t *root;

	(void)state;
	p.has |= JOURNAL_HAS_INHERITED;
	root = encode(JOURNAL_FORK, BOOT_NS + 5, 3, &p);
	assert_str(root, "lineagefs.image", "inherited");
	assert_str(root, "process.name", "ls");
	assert_str(root, "process.parent.entity_id", parent_id);
	assert_non_null(at(root, "process.start"));
	assert_null(at(root, "process.executable"));
	assert_null(at(root, "process.args"));
	assert_null(at(root, "process.command_line"));
	assert_null(at(root, "process.user"));
	assert_null(at(root, "process.group"));
	json_decref(root);

	/* A plain exec: the image and ids, not the creator nor the start. */
	p = proc_ls();
	root = encode(JOURNAL_EXEC, BOOT_NS + 5, 4, &p);
	assert_null(at(root, "process.parent"));
	assert_null(at(root, "process.start"));
	assert_str(root, "process.executable", "/usr/bin/ls");
	assert_null(at(root, "lineagefs.image"));
	json_decref(root);

	p.has |= JOURNAL_HAS_FORK;
	root = encode(JOURNAL_EXEC, BOOT_NS + 5, 4, &p);
	assert_str(root, "event.action", "exec");
	assert_str(root, "process.parent.entity_id", parent_id);
	assert_str(root, "process.start", "2026-11-30T00:02:03.450000000Z");
	assert_str(root, "process.executable", "/usr/bin/ls");
	assert_str(root, "process.user.id", "0");
	json_decref(root);

	/* Equal real and effective ids: one of each. */
	p.ruid = p.euid;
	p.rgid = p.egid;
	root = encode(JOURNAL_EXEC, BOOT_NS + 5, 4, &p);
	assert_null(at(root, "process.real_user"));
	assert_null(at(root, "process.real_group"));
	json_decref(root);
}

/* Issue 8's fields: the instance, a cut command line's length and hash,
 * and the creator guess. */
static void test_instance_cmdline_meta_guess(void **state)
{
	static const char sha[] =
	    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	struct journal_proc p = proc_ls();
	g_autofree char *id = expected_id(4242, 12345, 3);
	json_t *root, *cands;

	(void)state;
	p.instance = 3;
	p.cmdline_full_len = 100000;
	p.cmdline_sha256 = sha;
	p.has |= JOURNAL_HAS_GUESS;
	p.guess.check = LIN_PARENT_NOT_CREATOR;
	p.guess.count = 9;
	for (guint i = 0; i < LIN_CANDIDATES_MAX; i++)
		p.guess.candidates[i] = (struct lin_name){
		    .pid = 10 + (pid_t)i, .start_ticks = 500 + i, .instance = 1 + (i == 2)};
	root = encode(JOURNAL_EXEC, BOOT_NS, 1, &p);
	assert_str(root, "process.entity_id", id);
	assert_int_equal(int_at(root, "lineagefs.instance"), 3);
	assert_int_equal(int_at(root, "lineagefs.cmdline_full_len"), 100000);
	assert_str(root, "lineagefs.cmdline_sha256", sha);
	assert_str(root, "lineagefs.creator_guess.check", "not_creator");
	assert_int_equal(int_at(root, "lineagefs.creator_guess.count"), 9);
	cands = at(root, "lineagefs.creator_guess.candidates");
	assert_int_equal(json_array_size(cands), LIN_CANDIDATES_MAX);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(cands, 2), 0)), 12);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(cands, 2), 1)), 502);
	assert_int_equal(json_integer_value(json_array_get(json_array_get(cands, 2), 2)), 2);
	json_decref(root);

	/* An exit carries none of them. */
	p.exit_kind = LIN_EXIT_CODE;
	p.has |= JOURNAL_HAS_EXIT;
	root = encode(JOURNAL_EXIT, BOOT_NS, 1, &p);
	assert_null(at(root, "lineagefs.creator_guess"));
	assert_null(at(root, "lineagefs.cmdline_sha256"));
	assert_int_equal(int_at(root, "lineagefs.instance"), 3);
	json_decref(root);
}

static void test_open_and_gap(void **state)
{
	g_autoptr(GString) out = g_string_new(NULL);
	json_error_t err;
	json_t *root;

	(void)state;
	journal_encode_open(out, &host, BOOT_NS, 0, 42);
	root = json_loadb(out->str, out->len, 0, &err);
	assert_non_null(root);
	assert_str(root, "event.action", "open");
	assert_str(root, "event.kind", "state");
	assert_int_equal(int_at(root, "lineagefs.segment"), 42);
	assert_int_equal(int_at(root, "lineagefs.hz"), 100);
	assert_str(root, "host.boot.id", host.boot_id);
	assert_null(at(root, "process"));
	json_decref(root);

	g_string_truncate(out, 0);
	journal_encode_gap(out, &host, BOOT_NS, 5, 1234);
	root = json_loadb(out->str, out->len, 0, &err);
	assert_non_null(root);
	assert_str(root, "event.action", "gap");
	assert_str(root, "event.kind", "pipeline_error");
	assert_int_equal(int_at(root, "lineagefs.lost_lines"), 1234);
	assert_int_equal(int_at(root, "event.sequence"), 5);
	json_decref(root);
}

static void test_entity_id_stable(void **state)
{
	char a[JOURNAL_ENTITY_ID_LEN + 1], b[JOURNAL_ENTITY_ID_LEN + 1];
	struct journal_host other = host;

	(void)state;
	journal_entity_id(&host, 7, 99, 1, a);
	journal_entity_id(&host, 7, 99, 1, b);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), JOURNAL_ENTITY_ID_LEN);
	journal_entity_id(&host, 7, 99, 2, b);
	assert_string_not_equal(a, b);
	/* Another boot, another id. */
	other.boot_id[0] = 'f';
	journal_entity_id(&other, 7, 99, 1, b);
	assert_string_not_equal(a, b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_fork_line),
	    cmocka_unit_test(test_exit_code),
	    cmocka_unit_test(test_exit_signal_core),
	    cmocka_unit_test(test_exit_missed),
	    cmocka_unit_test(test_non_utf8_argv),
	    cmocka_unit_test(test_cmdline_without_final_nul),
	    cmocka_unit_test(test_empty_args_round_trip),
	    cmocka_unit_test(test_escapes),
	    cmocka_unit_test(test_non_utf8_comm_exe),
	    cmocka_unit_test(test_unknown_left_out),
	    cmocka_unit_test(test_checkpoint_whole),
	    cmocka_unit_test(test_huge_cmdline_kept_whole),
	    cmocka_unit_test(test_fork_inherited_and_folded),
	    cmocka_unit_test(test_instance_cmdline_meta_guess),
	    cmocka_unit_test(test_open_and_gap),
	    cmocka_unit_test(test_entity_id_stable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
