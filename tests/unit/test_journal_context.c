// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The context and history of issue 9 through the journal: lines made by
 * journal_encode_process() are read back by the journal reader into a
 * table (encode -> read), and what the records hold afterwards is
 * checked field by field: a checkpoint carries all of it, an exec what it
 * changed (the rest kept, the image it replaced added to the history), a
 * fork inherits its creator's, a uid or comm line adds its history line.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "index.h"
#include "journal_encode.h"
#include "journal_read.h"
#include "restore.h"
#include "tracker.h"

#define NS_PER_SEC 1000000000ull
#define HOST       "0123456789abcdef0123456789abcdef"
#define BOOT       "22222222-2222-2222-2222-222222222222"
#define NOW_NS     (1796040000ull * NS_PER_SEC)
#define BOOT_NS    (NOW_NS - 2 * 3600 * NS_PER_SEC)
#define CGROUP                                                                                     \
	"/system.slice/"                                                                           \
	"docker-0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope"
#define SHA "4add4bb89d8ca0e3b1bd861130ddd7ae0fd9617a8055de0a38c8d2ca1ac95723"

struct fixture {
	struct tracker *root;
	struct journal_reader *reader;
	struct journal_host host;
	guint64 seq;
};

static guint64 fake_realtime(void)
{
	return NOW_NS;
}

static guint64 fake_monotonic(void)
{
	return 2 * 3600 * NS_PER_SEC;
}

/* An empty table on the fake clocks, as the journal's root or a live one. */
static struct tracker *new_table(void)
{
	struct tracker_config cfg = {
	    .proc_root_fd = -1,
	    .max_exited = 1000,
	    .boot_realtime_ns = BOOT_NS,
	    .hz = 100,
	    .now_realtime_ns = fake_realtime,
	    .now_monotonic_ns = fake_monotonic,
	};

	return tracker_new(&cfg);
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	struct journal_read_options opts = {
	    .expect_host_id = HOST,
	    .root_boot_id = BOOT,
	    .max_exited = 1000,
	    .hz = 100,
	    .now_realtime_ns = NOW_NS,
	};

	f->root = new_table();
	opts.root_tracker = f->root;
	f->reader = journal_reader_new(&opts);
	g_strlcpy(f->host.machine_id, HOST, sizeof(f->host.machine_id));
	g_strlcpy(f->host.boot_id, BOOT, sizeof(f->host.boot_id));
	f->host.boot_realtime_ns = BOOT_NS;
	f->host.hz = 100;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	journal_reader_free(f->reader);
	tracker_free(f->root);
	g_free(f);
	return 0;
}

/* Encodes one line and reads it back; returns the line. */
static char *round_trip(struct fixture *f, enum journal_action action, guint64 at_s,
                        const struct journal_proc *proc)
{
	g_autoptr(GString) out = g_string_new(NULL);
	g_autoptr(GError) error = NULL;
	guint64 invalid = journal_reader_stats(f->reader)->invalid;

	journal_encode_process(out, &f->host, action, BOOT_NS + at_s * NS_PER_SEC, ++f->seq, proc);
	assert_true(out->len > 0 && out->str[out->len - 1] == '\n');
	assert_true(journal_reader_feed_line(f->reader, out->str, out->len - 1, &error));
	assert_null(error);
	/* Read as a valid line, not counted as a bad one. */
	assert_int_equal(journal_reader_stats(f->reader)->invalid, invalid);
	return g_strndup(out->str, out->len - 1);
}

static void assert_str(const struct lin_str *s, const void *bytes, gsize len)
{
	assert_non_null(s);
	assert_int_equal(s->len, len);
	assert_memory_equal(s->data, bytes, len);
}

static const char env[] = "LD_PRELOAD=/tmp/x.so\0SSH_CONNECTION=10.0.0.1 51000 10.0.0.2 22\0";
/* Not UTF-8: carried as base64. */
static const char cwd[] = "/srv/a b\xff";
static const char old_argv[] = "sh\0-c\0echo a\tb\0";
static const char comm_bytes[] = "x\ny";

static void make_proc(struct journal_proc *proc, struct lin_hist_copy hist[3])
{
	memset(proc, 0, sizeof(*proc));
	proc->has = JOURNAL_HAS_COMM | JOURNAL_HAS_EXE | JOURNAL_HAS_CMDLINE | JOURNAL_HAS_UIDS |
	            JOURNAL_HAS_GIDS | JOURNAL_HAS_COUNTS | JOURNAL_HAS_CONTEXT;
	proc->pid = 200;
	proc->instance = 1;
	proc->start_ticks = 1000;
	proc->ruid = 1000;
	proc->euid = 0;
	proc->rgid = 100;
	proc->egid = 100;
	proc->exec_count = 2;
	proc->comm = "make";
	proc->comm_len = 4;
	proc->exe = "/usr/bin/make";
	proc->exe_len = 13;
	proc->cmdline = "make\0";
	proc->cmdline_len = 5;
	hist[0] = (struct lin_hist_copy){
	    .time_ns = BOOT_NS + 11 * NS_PER_SEC,
	    .kind = LIN_HIST_EXEC,
	    .ids = {1000, 1000, 100, 100},
	    .exe = "/usr/bin/dash",
	    .exe_len = 13,
	    .cmdline = old_argv,
	    .cmdline_len = sizeof(old_argv) - 1,
	};
	hist[1] = (struct lin_hist_copy){
	    .time_ns = BOOT_NS + 12 * NS_PER_SEC,
	    .kind = LIN_HIST_UID,
	    .ids = {1000, 1000, 1000, 0},
	};
	hist[2] = (struct lin_hist_copy){
	    .time_ns = BOOT_NS + 13 * NS_PER_SEC,
	    .kind = LIN_HIST_COMM,
	    .exe = comm_bytes,
	    .exe_len = sizeof(comm_bytes) - 1,
	};
	proc->ctx = (struct lin_context_copy){
	    .has = LIN_CTX_COPY_CWD | LIN_CTX_COPY_CGROUP | LIN_CTX_COPY_ENV | LIN_CTX_COPY_HASH |
	           LIN_CTX_COPY_PIDNS | LIN_CTX_COPY_AUDIT | LIN_CTX_COPY_IDS |
	           LIN_CTX_COPY_NS_PID | LIN_CTX_COPY_EXEC | LIN_CTX_COPY_HISTORY |
	           LIN_CTX_COPY_SEEN,
	    .cwd = cwd,
	    .cwd_len = sizeof(cwd) - 1,
	    .cgroup = CGROUP,
	    .cgroup_len = strlen(CGROUP),
	    .env = env,
	    .env_len = sizeof(env) - 1,
	    .sha256 = SHA,
	    .pidns = 4026532500u,
	    .loginuid = 1000,
	    .sessionid = LIN_AUDIT_UNSET,
	    /* pts/259: minor 259 spans both minor fields of tty_nr. */
	    .tty_nr = (136 << 8) | 3 | (1 << 20),
	    .sid = 150,
	    .pgid = 200,
	    .ns_pid = 7,
	    .exec_ns = BOOT_NS + 14 * NS_PER_SEC,
	    .seen_ns = BOOT_NS + 5 * NS_PER_SEC,
	    .hist = hist,
	    .hist_count = 3,
	    .hist_dropped = 5,
	};
}

/* The records listed under by-exe/a/b/c/. */
static const struct index_list *exe_records(struct tracker *t, const char *a, const char *b,
                                            const char *c)
{
	struct index_exe_dir *dir = lin_index_exe_root(tracker_index(t));

	dir = dir ? lin_index_exe_child(dir, a) : NULL;
	dir = dir ? lin_index_exe_child(dir, b) : NULL;
	dir = dir ? lin_index_exe_child(dir, c) : NULL;
	assert_non_null(dir);
	return dir->records;
}

static void test_checkpoint_carries_everything(void **state)
{
	struct fixture *f = *state;
	struct lin_hist_copy hist[3];
	struct journal_proc proc;
	g_autofree char *text = NULL;
	const struct lin_hist_entry *e;
	struct lin_process *p;

	make_proc(&proc, hist);
	text = round_trip(f, JOURNAL_CHECKPOINT, 20, &proc);
	/* ECS names where ECS has them. */
	assert_non_null(strstr(text, "\"container\":{\"id\":\"0123456789abcdef0123456789abcdef"
	                             "0123456789abcdef0123456789abcdef\",\"runtime\":\"docker\"}"));
	assert_non_null(strstr(text, "\"tty\":{\"char_device\":{\"major\":136,\"minor\":259}}"));
	assert_non_null(strstr(text, "\"session_leader\":{\"pid\":150}"));
	assert_non_null(strstr(text, "\"hash\":{\"sha256\":\"" SHA "\"}"));
	assert_non_null(strstr(text, "\"env_vars\":[\"LD_PRELOAD=/tmp/x.so\",\"SSH_CONNECTION="));
	assert_non_null(strstr(text, "\"vpid\":7"));
	assert_non_null(strstr(text, "\"working_directory_b64\":"));

	p = tracker_find(f->root, 200, 1000);
	assert_non_null(p);
	assert_non_null(p->ctx);
	assert_str(p->ctx->cwd, cwd, sizeof(cwd) - 1);
	assert_str(p->ctx->cgroup, CGROUP, strlen(CGROUP));
	assert_str(p->ctx->env, env, sizeof(env) - 1);
	assert_non_null(p->ctx->exe_hash);
	assert_string_equal(p->ctx->exe_hash->hex, SHA);
	assert_int_equal(p->ctx->pidns, 4026532500u);
	assert_int_equal(p->ctx->loginuid, 1000);
	assert_int_equal(p->ctx->sessionid, LIN_AUDIT_UNSET);
	assert_int_equal(p->ctx->tty_nr, (136 << 8) | 3 | (1 << 20));
	assert_int_equal(p->ctx->sid, 150);
	assert_int_equal(p->ctx->pgid, 200);
	assert_int_equal(p->ctx->known,
	                 LIN_CTX_KNOWN_AUDIT | LIN_CTX_KNOWN_IDS | LIN_CTX_KNOWN_ENV);
	assert_int_equal(lin_process_ns_pid(p), 7);
	assert_int_equal(p->exec_ns, BOOT_NS + 14 * NS_PER_SEC);
	/* Seen when it was seen (the table's clock: since boot), not at
	 * the checkpoint's time. */
	assert_non_null(strstr(text, "\"seen\":\"2026-"));
	assert_int_equal(p->seen_ns, 5 * NS_PER_SEC);

	assert_non_null(p->history);
	assert_int_equal(p->history->count, 3);
	assert_int_equal(p->history->dropped, 5);
	e = p->history->first;
	assert_int_equal(e->kind, LIN_HIST_EXEC);
	assert_int_equal(e->time_ns, BOOT_NS + 11 * NS_PER_SEC);
	assert_memory_equal(e->ids, ((guint32[]){1000, 1000, 100, 100}), sizeof(e->ids));
	assert_str(e->exe, "/usr/bin/dash", 13);
	assert_str(e->cmdline, old_argv, sizeof(old_argv) - 1);
	e = e->next;
	assert_int_equal(e->kind, LIN_HIST_UID);
	assert_memory_equal(e->ids, ((guint32[]){1000, 1000, 1000, 0}), sizeof(e->ids));
	e = e->next;
	assert_int_equal(e->kind, LIN_HIST_COMM);
	assert_str(e->exe, comm_bytes, sizeof(comm_bytes) - 1);

	/* by-exe/ and by-uid/ know it under everything it ran, history too. */
	assert_true(lin_index_contains(exe_records(f->root, "usr", "bin", "dash"), p));
	assert_true(lin_index_contains(exe_records(f->root, "usr", "bin", "make"), p));
	assert_true(lin_index_contains(lin_index_uid_records(tracker_index(f->root), 1000), p));
	assert_true(lin_index_contains(lin_index_uid_records(tracker_index(f->root), 0), p));

	/* A later checkpoint of the record says it again; one that does not
	 * (an older writer) leaves it. */
	g_free(text);
	proc.ctx.seen_ns = BOOT_NS + 6 * NS_PER_SEC;
	text = round_trip(f, JOURNAL_CHECKPOINT, 30, &proc);
	assert_ptr_equal(tracker_find(f->root, 200, 1000), p);
	assert_int_equal(p->seen_ns, 6 * NS_PER_SEC);
	g_free(text);
	proc.ctx.has &= ~(guint32)LIN_CTX_COPY_SEEN;
	text = round_trip(f, JOURNAL_CHECKPOINT, 40, &proc);
	assert_null(strstr(text, "\"seen\""));
	assert_int_equal(p->seen_ns, 6 * NS_PER_SEC);
	/* A found line is written when it was seen: no need to say it. */
	g_free(text);
	proc.ctx.has |= LIN_CTX_COPY_SEEN;
	proc.ctx.seen_ns = BOOT_NS + 50 * NS_PER_SEC;
	text = round_trip(f, JOURNAL_FOUND, 50, &proc);
	assert_null(strstr(text, "\"seen\""));
	assert_int_equal(p->seen_ns, 6 * NS_PER_SEC);
}

static void test_exec_fork_and_events_keep_the_rest(void **state)
{
	struct fixture *f = *state;
	struct lin_hist_copy hist[3];
	struct journal_proc proc, child;
	g_autofree char *t1 = NULL, *t2 = NULL, *t3 = NULL, *t4 = NULL, *t5 = NULL;
	const struct lin_str *cgroup;
	struct lin_process *p, *c;

	make_proc(&proc, hist);
	t1 = round_trip(f, JOURNAL_CHECKPOINT, 20, &proc);
	p = tracker_find(f->root, 200, 1000);
	cgroup = p->ctx->cgroup;

	/* An exec that changed the working directory only. */
	proc.exe = "/usr/bin/cc";
	proc.exe_len = 11;
	proc.cmdline = "cc\0-c\0";
	proc.cmdline_len = 7;
	proc.exec_count = 3;
	proc.ctx = (struct lin_context_copy){.has = LIN_CTX_COPY_CWD, .cwd = "/tmp", .cwd_len = 4};
	t2 = round_trip(f, JOURNAL_EXEC, 30, &proc);
	assert_null(strstr(t2, "\"cgroup\""));
	assert_null(strstr(t2, "\"history\""));
	assert_str(p->ctx->cwd, "/tmp", 4);
	assert_ptr_equal(p->ctx->cgroup, cgroup);
	assert_int_equal(p->ctx->pidns, 4026532500u);
	assert_int_equal(p->exec_ns, BOOT_NS + 30 * NS_PER_SEC);
	/* The image it replaced, at the time of its exec, joined the history. */
	assert_int_equal(p->history->count, 4);
	assert_int_equal(p->history->last->kind, LIN_HIST_EXEC);
	assert_int_equal(p->history->last->time_ns, BOOT_NS + 14 * NS_PER_SEC);
	assert_str(p->history->last->exe, "/usr/bin/make", 13);

	/* A uid change and a comm change add their lines. */
	proc.has = JOURNAL_HAS_COMM | JOURNAL_HAS_UIDS;
	proc.euid = 65534;
	t3 = round_trip(f, JOURNAL_UID, 31, &proc);
	assert_int_equal(p->history->last->kind, LIN_HIST_UID);
	assert_memory_equal(p->history->last->ids, ((guint32[]){1000, 0, 1000, 65534}),
	                    sizeof(p->history->last->ids));
	proc.has = JOURNAL_HAS_COMM;
	proc.comm = "cc1";
	proc.comm_len = 3;
	t4 = round_trip(f, JOURNAL_COMM, 32, &proc);
	assert_int_equal(p->history->last->kind, LIN_HIST_COMM);
	assert_str(p->history->last->exe, "cc1", 3);
	assert_int_equal(p->history->count, 6);

	/* A fork: the child has its creator's context, and no line of it. */
	memset(&child, 0, sizeof(child));
	child.has = JOURNAL_HAS_COMM | JOURNAL_HAS_EXE | JOURNAL_HAS_UIDS | JOURNAL_HAS_GIDS |
	            JOURNAL_HAS_CREATOR | JOURNAL_HAS_CREATOR_START;
	child.pid = 300;
	child.instance = 1;
	child.start_ticks = 3300;
	child.creator_pid = 200;
	child.creator_instance = 1;
	child.creator_start_ticks = 1000;
	child.comm = "cc1";
	child.comm_len = 3;
	child.exe = "/usr/bin/cc";
	child.exe_len = 11;
	t5 = round_trip(f, JOURNAL_FORK, 33, &child);
	assert_null(strstr(t5, "working_directory"));
	c = tracker_find(f->root, 300, 3300);
	assert_non_null(c);
	assert_ptr_equal(c->creator, p);
	assert_ptr_equal(c->ctx, p->ctx);
	assert_null(c->history);
}

/* Lines whose context is malformed are counted, never applied. */
/* Feeds the one line in out to the reader. */
static void feed(struct fixture *f, const GString *out)
{
	g_autoptr(GError) error = NULL;

	assert_true(out->len > 0 && out->str[out->len - 1] == '\n');
	assert_null(memchr(out->str, '\n', out->len - 1));
	assert_true(journal_reader_feed_line(f->reader, out->str, out->len - 1, &error));
	assert_null(error);
}

#define LONG_HISTORY 3000

/* A history far longer than a line holds (the daemon keeps all of it, as
 * its budget allows): the checkpoint line carries the first entries and
 * "history" lines the rest, each line bounded; read back, the record has
 * every entry, in order, and nothing counted as dropped. */
static void test_long_history_spreads_over_lines(void **state)
{
	struct fixture *f = *state;
	struct lin_hist_copy hist[3];
	g_autofree struct lin_hist_copy *many = g_new0(struct lin_hist_copy, LONG_HISTORY);
	g_autofree char *names = g_malloc0(LONG_HISTORY * 8);
	g_autoptr(GString) out = g_string_new(NULL);
	const struct journal_read_stats *stats = journal_reader_stats(f->reader);
	guint64 invalid = stats->invalid;
	const struct lin_hist_entry *e;
	struct journal_proc proc;
	struct lin_process *p;
	guint done, lines = 0, i;

	make_proc(&proc, hist);
	for (i = 0; i < LONG_HISTORY; i++) {
		char *name = names + i * 8;

		g_snprintf(name, 8, "c%u", i);
		many[i] = (struct lin_hist_copy){
		    .time_ns = BOOT_NS + NS_PER_SEC + i * 1000ull,
		    .kind = LIN_HIST_COMM,
		    .ids = {1000, 0, 100, 100},
		    .exe = name,
		    .exe_len = strlen(name),
		};
	}
	proc.ctx.hist = many;
	proc.ctx.hist_count = LONG_HISTORY;
	proc.ctx.hist_dropped = 0;
	done = journal_encode_process(out, &f->host, JOURNAL_CHECKPOINT, BOOT_NS + 20 * NS_PER_SEC,
	                              ++f->seq, &proc);
	assert_true(done > 0 && done < LONG_HISTORY);
	assert_true(out->len < JOURNAL_HISTORY_LINE_BYTES + 1024);
	feed(f, out);
	while (done < LONG_HISTORY) {
		guint next;

		g_string_truncate(out, 0);
		next = journal_encode_history(out, &f->host, BOOT_NS + 20 * NS_PER_SEC, ++f->seq,
		                              &proc, done);
		assert_true(next > done && next - done <= JOURNAL_HISTORY_LINE_ENTRIES);
		assert_true(out->len < JOURNAL_HISTORY_LINE_BYTES + 1024);
		assert_non_null(strstr(out->str, "\"action\":\"history\""));
		feed(f, out);
		done = next;
		lines++;
	}
	assert_true(lines >= 2);
	assert_int_equal(stats->invalid, invalid);

	p = tracker_find(f->root, 200, 1000);
	assert_non_null(p);
	assert_non_null(p->history);
	assert_int_equal(p->history->count, LONG_HISTORY);
	assert_int_equal(p->history->dropped, 0);
	for (i = 0, e = p->history->first; e; e = e->next, i++)
		assert_str(e->exe, names + i * 8, strlen(names + i * 8));
	assert_int_equal(i, LONG_HISTORY);

	/* A "history" line after another kind of line has no record to
	 * add to: refused, and the history stays as it was. */
	g_free(round_trip(f, JOURNAL_COMM, 30, &proc));
	g_string_truncate(out, 0);
	journal_encode_history(out, &f->host, BOOT_NS + 31 * NS_PER_SEC, ++f->seq, &proc, 0);
	feed(f, out);
	assert_int_equal(stats->invalid, invalid + 1);
	assert_int_equal(p->history->count, LONG_HISTORY + 1); /* the comm line's own */
}

/* An argv as /proc/<pid>/cmdline has it: words of 99 bytes and a NUL,
 * `fill` repeated, `len` bytes in all (a multiple of 100). */
static char *long_argv(char fill, gsize len)
{
	char *argv = g_malloc(len);

	memset(argv, fill, len);
	for (gsize i = 99; i < len; i += 100)
		argv[i] = '\0';
	return argv;
}

/* One EXEC of pid 300 with that argv, at second `at_s` after boot. */
static void exec_argv(struct tracker *t, guint64 at_s, const char *argv, gsize len)
{
	struct cnproc_event ev = {.type = CNPROC_EV_EXEC, .pid = 300, .tgid = 300};
	g_autofree char *bytes = g_memdup2(argv, len);
	char exe[] = "/usr/bin/dash";
	struct lin_proc_info info;

	memset(&info, 0, sizeof(info));
	info.read_ok = PROC_READ_ALL;
	info.stat.pid = 300;
	info.stat.ppid = 1;
	info.stat.state = 'R';
	info.stat.start_ticks = 500;
	g_strlcpy(info.stat.comm, "sh", sizeof(info.stat.comm));
	info.status.tgid = 300;
	info.status.ruid = info.status.euid = 1000;
	info.status.rgid = info.status.egid = 100;
	info.status.threads = 1;
	info.exe = exe;
	info.cmdline = bytes;
	info.cmdline_len = len;
	ev.timestamp_ns = at_s * NS_PER_SEC;
	tracker_apply_event(t, &ev, &info);
}

static guint count_of(const char *text, const char *needle)
{
	guint n = 0;

	for (const char *at = strstr(text, needle); at; at = strstr(at + 1, needle))
		n++;
	return n;
}

#define ARGV_A_LEN 5000         /* over the 1,024 bytes a copy used to keep */
#define ARGV_B_LEN (600 * 1024) /* over JOURNAL_CMDLINE_MAX: args cut, b64 whole */

/* Earlier execs' whole argv survive a checkpoint: a process of the live
 * table exec'd A, B, A, B, then a short one; its checkpoint line (and the
 * "history" lines after it) hold each distinct long argv once, the
 * repeats as "args_back", and the table read back from them has every
 * entry's argv, byte for byte, none flagged cut. */
static void test_history_keeps_whole_argv(void **state)
{
	struct fixture *f = *state;
	struct tracker *live = new_table();
	g_autofree char *a = long_argv('a', ARGV_A_LEN);
	g_autofree char *b = long_argv('b', ARGV_B_LEN);
	const char *argvs[] = {"true", a, b, a, b};
	const gsize lens[] = {5, ARGV_A_LEN, ARGV_B_LEN, ARGV_A_LEN, ARGV_B_LEN};
	const struct journal_read_stats *stats = journal_reader_stats(f->reader);
	guint64 invalid = stats->invalid;
	g_autoptr(GString) out = g_string_new(NULL);
	g_autofree char *copy = NULL;
	struct lin_hist_copy hist[3];
	const struct lin_hist_entry *e;
	struct exe_hash_entry *hash;
	struct journal_proc proc;
	struct lin_process *p;
	gsize written = 0;
	guint done, i, backs;
	char *at;

	for (i = 0; i < G_N_ELEMENTS(argvs); i++)
		exec_argv(live, 10 + i, argvs[i], lens[i]);
	exec_argv(live, 20, "ls\0", 3);
	p = tracker_find(live, 300, 500);
	assert_non_null(p);
	assert_int_equal(p->history->count, G_N_ELEMENTS(argvs));

	/* The copy holds A and B once: the repeats point to them. */
	at = copy = g_malloc(lin_context_copy_size(p, TRUE));
	make_proc(&proc, hist);
	lin_context_copy_fill(p, tracker_get_config(live), FALSE, NULL, TRUE, &at, &proc.ctx,
	                      &hash);
	assert_null(hash);
	assert_true((gsize)(at - copy) <= lin_context_copy_size(p, TRUE));
	assert_true((gsize)(at - copy) < ARGV_A_LEN + ARGV_B_LEN + 4096);
	assert_int_equal(proc.ctx.hist_count, G_N_ELEMENTS(argvs));
	assert_int_equal(proc.ctx.hist[1].cmdline_back, 0);
	assert_int_equal(proc.ctx.hist[3].cmdline_back, 2);
	assert_int_equal(proc.ctx.hist[4].cmdline_back, 2);
	assert_ptr_equal(proc.ctx.hist[4].cmdline, proc.ctx.hist[2].cmdline);
	assert_int_equal(proc.ctx.hist[4].cmdline_len, ARGV_B_LEN);

	/* Written once each: B's cut args and its base64, A's args. */
	done = journal_encode_process(out, &f->host, JOURNAL_CHECKPOINT, BOOT_NS + 30 * NS_PER_SEC,
	                              ++f->seq, &proc);
	backs = count_of(out->str, "\"args_back\":2");
	written += out->len;
	feed(f, out);
	while (done < proc.ctx.hist_count) {
		g_string_truncate(out, 0);
		done = journal_encode_history(out, &f->host, BOOT_NS + 30 * NS_PER_SEC, ++f->seq,
		                              &proc, done);
		assert_non_null(strstr(out->str, "\"action\":\"history\""));
		backs += count_of(out->str, "\"args_back\":2");
		written += out->len;
		feed(f, out);
	}
	assert_int_equal(backs, 2);
	assert_true(written > ARGV_B_LEN * 4 / 3 + JOURNAL_CMDLINE_MAX);
	assert_true(written < 2 * (ARGV_B_LEN * 4 / 3 + JOURNAL_CMDLINE_MAX));
	assert_int_equal(stats->invalid, invalid);

	p = tracker_find(f->root, 200, 1000);
	assert_non_null(p);
	assert_int_equal(p->history->count, G_N_ELEMENTS(argvs));
	for (i = 0, e = p->history->first; e; e = e->next, i++) {
		assert_true(e->kind == LIN_HIST_EXEC || (i == 0 && e->kind == LIN_HIST_FOUND));
		assert_str(e->cmdline, argvs[i], lens[i]);
		assert_int_equal(e->flags, 0);
	}
	tracker_free(live);
}

/* An "args_back" that names no entry of the history read so far: that
 * entry's command line is flagged missing, never taken from elsewhere. */
static void test_history_args_back_out_of_range(void **state)
{
	struct fixture *f = *state;
	struct lin_hist_copy hist[3];
	struct journal_proc proc;
	struct lin_process *p;

	make_proc(&proc, hist);
	hist[1] = hist[0];
	hist[1].time_ns += NS_PER_SEC / 2;
	hist[1].cmdline_back = 5;
	hist[1].cmdline = NULL;
	hist[1].cmdline_len = 0;
	g_free(round_trip(f, JOURNAL_CHECKPOINT, 20, &proc));
	p = tracker_find(f->root, 200, 1000);
	assert_non_null(p);
	assert_int_equal(p->history->count, 3);
	assert_null(p->history->first->next->cmdline);
	assert_true(p->history->first->next->flags & LIN_HIST_CMDLINE_MISSED);
}

static void test_bad_context_is_invalid(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
	    "\"process\":{\"entity_id\":\"e1\",\"pid\":5,\"hash\":{\"sha256\":\"xyz\"}}",
	    "\"process\":{\"entity_id\":\"e1\",\"pid\":5,\"session_leader\":{\"pid\":1}}",
	    "\"process\":{\"entity_id\":\"e1\",\"pid\":5,\"env_vars\":[1]}",
	    "\"process\":{\"entity_id\":\"e1\",\"pid\":5},\"lineagefs\":{\"v\":1,\"start_ticks\":9,"
	    "\"history\":[{\"kind\":\"exec\"}]}",
	    "\"process\":{\"entity_id\":\"e1\",\"pid\":5},\"lineagefs\":{\"v\":1,\"start_ticks\":9,"
	    "\"history\":[{\"@timestamp\":\"2026-11-30T10:00:01Z\",\"kind\":\"nope\",\"ids\":[1,2,"
	    "3,"
	    "4]}]}",
	    "\"process\":{\"entity_id\":\"e1\",\"pid\":5},\"lineagefs\":{\"v\":1,\"start_ticks\":9,"
	    "\"login_uid\":5}",
	};

	for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
		g_autofree char *text = g_strdup_printf(
		    "{\"@timestamp\":\"2026-11-30T10:00:10.000000000Z\",\"event\":{\"kind\":"
		    "\"state\","
		    "\"category\":[\"process\"],\"type\":[\"info\"],\"action\":\"checkpoint\","
		    "\"sequence\":%llu},\"host\":{\"id\":\"" HOST "\",\"boot\":{\"id\":\"" BOOT
		    "\"}},%s%s}",
		    (unsigned long long)++f->seq, bad[i],
		    strstr(bad[i], "lineagefs") ? ""
		                                : ",\"lineagefs\":{\"v\":1,\"start_ticks\":9}");
		guint64 invalid = journal_reader_stats(f->reader)->invalid;

		assert_true(journal_reader_feed_line(f->reader, text, strlen(text), NULL));
		assert_int_equal(journal_reader_stats(f->reader)->invalid, invalid + 1);
	}
	assert_null(tracker_find(f->root, 5, 9));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_checkpoint_carries_everything, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_exec_fork_and_events_keep_the_rest, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_long_history_spreads_over_lines, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_history_keeps_whole_argv, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_history_args_back_out_of_range, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_context_is_invalid, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
