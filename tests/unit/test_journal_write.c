/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests of the journal writer and the tracker's event hook, against a
 * fake /proc: the events a table applies become lines in order (found,
 * fork, exec, comm, uid, gid, exit, exit_missed, forget); a segment opens
 * with an "open" line and a checkpoint of every record; lines queued
 * before a checkpoint are not told twice; a full queue drops lines, counts
 * them and says so in a gap line; segments rotate by size and the oldest
 * are deleted under the limit while the newest still holds every record;
 * files are 0640; a directory others may write is refused.
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
#include <jansson.h>

#include "fakeproc.h"
#include "journal_item.h"
#include "journal_read.h"
#include "journal_write.h"
#include "restore.h"
#include "tracker.h"

#define HZ          100
#define NS_PER_TICK (1000000000ull / HZ)

struct fixture {
	struct fakeproc *fp;
	struct tracker *t;
	char *dir;
	struct journal_writer *jw;
	guint64 clock;
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

static void add_proc(struct fixture *f, pid_t pid, pid_t ppid, guint64 start, const char *comm)
{
	fakeproc_add_simple(f->fp, pid, ppid, start, comm, comm);
}

static const struct journal_host test_host = {
    .machine_id = "00112233445566778899aabbccddeeff",
    .boot_id = "01234567-89ab-cdef-0123-456789abcdef",
    .boot_realtime_ns = 1700000000ull * 1000000000ull,
    .hz = HZ,
};

static struct journal_writer *writer_new(struct fixture *f, guint64 max_bytes, guint slots)
{
	g_autoptr(GError) error = NULL;
	struct journal_config cfg = {
	    .dir = f->dir,
	    .max_bytes = max_bytes,
	    .sync_ms = 100,
	    .host = test_host,
	    .queue_slots = slots,
	};
	struct journal_writer *jw = journal_writer_new(&cfg, &error);

	if (!jw)
		fail_msg("journal_writer_new: %s", error->message);
	return jw;
}

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);
	struct tracker_config cfg = {0};
	g_autofree char *tmp = g_build_filename(g_get_tmp_dir(), "journal-XXXXXX", NULL);

	current = f;
	f->clock = 1000 * NS_PER_TICK;
	f->fp = fakeproc_new();
	cfg.proc_root_fd = fakeproc_root_fd(f->fp);
	cfg.max_exited = 0;
	cfg.hz = HZ;
	cfg.boot_realtime_ns = test_host.boot_realtime_ns;
	cfg.now_monotonic_ns = fake_monotonic;
	cfg.now_realtime_ns = fake_realtime;
	f->t = tracker_new(&cfg);
	add_proc(f, 1, 0, 1, "init");
	add_proc(f, 100, 1, 50, "bash");
	assert_int_equal(tracker_bootstrap(f->t), 2);
	assert_non_null(g_mkdtemp_full(tmp, 0700));
	/* The journal goes in a subdirectory the writer creates. */
	f->dir = g_build_filename(tmp, "journal", NULL);
	*state = f;
	return 0;
}

static void rm_rf(const char *path)
{
	g_autoptr(GDir) dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *child = g_build_filename(path, name, NULL);

		if (g_file_test(child, G_FILE_TEST_IS_DIR) &&
		    !g_file_test(child, G_FILE_TEST_IS_SYMLINK))
			rm_rf(child);
		else
			unlink(child);
	}
	rmdir(path);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	g_autofree char *parent = g_path_get_dirname(f->dir);

	journal_writer_free(f->jw);
	tracker_free(f->t);
	fakeproc_free(f->fp);
	rm_rf(parent);
	g_free(f->dir);
	g_free(f);
	current = NULL;
	return 0;
}

static void feed(struct fixture *f, struct cnproc_event ev)
{
	f->clock += NS_PER_TICK;
	ev.timestamp_ns = f->clock;
	tracker_handle_event(f->t, &ev);
}

static void ev_fork(struct fixture *f, pid_t parent, pid_t child)
{
	struct cnproc_event ev = {.type = CNPROC_EV_FORK, .pid = child, .tgid = child};

	ev.u.fork.parent_pid = parent;
	ev.u.fork.parent_tgid = parent;
	feed(f, ev);
}

static void ev_simple(struct fixture *f, enum cnproc_event_type type, pid_t pid)
{
	feed(f, (struct cnproc_event){.type = type, .pid = pid, .tgid = pid});
}

static void ev_exit(struct fixture *f, pid_t pid, guint32 code)
{
	struct cnproc_event ev = {.type = CNPROC_EV_EXIT, .pid = pid, .tgid = pid};

	ev.u.exit.code = code;
	ev.u.exit.signal = SIGCHLD;
	feed(f, ev);
}

/* A whole process life: fork from bash, exec, exit 3. */
static void run_process(struct fixture *f, pid_t pid, guint64 start, const char *comm)
{
	add_proc(f, pid, 100, start, "bash");
	ev_fork(f, 100, pid);
	add_proc(f, pid, 100, start, comm);
	ev_simple(f, CNPROC_EV_EXEC, pid);
	fakeproc_remove(f->fp, pid);
	ev_exit(f, pid, 3 << 8);
}

static gint name_cmp(gconstpointer a, gconstpointer b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Every line of every segment, parsed, in order; each segment's lines
 * are checked to parse and to end in '\n'. */
static GPtrArray *read_journal(struct fixture *f, guint *segments)
{
	GPtrArray *lines = g_ptr_array_new_with_free_func((GDestroyNotify)json_decref);
	g_autoptr(GDir) dir = g_dir_open(f->dir, 0, NULL);
	g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
	const char *name;

	assert_non_null(dir);
	while ((name = g_dir_read_name(dir)) != NULL)
		g_ptr_array_add(names, g_strdup(name));
	g_ptr_array_sort(names, name_cmp);
	for (guint i = 0; i < names->len; i++) {
		const char *base = *(const char **)&names->pdata[i];
		g_autofree char *path = g_build_filename(f->dir, base, NULL);
		g_autofree char *text = NULL;
		gsize len;
		struct stat st;
		char *line;

		assert_true(g_str_has_prefix(base, "lineagefs-"));
		assert_true(g_str_has_suffix(base, ".jsonl"));
		assert_int_equal(stat(path, &st), 0);
		assert_int_equal(st.st_mode & 07777, 0640);
		assert_true(g_file_get_contents(path, &text, &len, NULL));
		assert_true(len > 0);
		assert_int_equal(text[len - 1], '\n');
		line = text;
		while (line < text + len) {
			char *end = strchr(line, '\n');
			json_error_t err;
			json_t *root = json_loadb(line, (size_t)(end - line), 0, &err);

			if (!root)
				fail_msg("%s: %s", base, err.text);
			json_object_set_new(root, "_segment", json_integer(i));
			g_ptr_array_add(lines, root);
			line = end + 1;
		}
	}
	if (segments)
		*segments = names->len;
	return lines;
}

static const char *action_of(json_t *line)
{
	return json_string_value(json_object_get(json_object_get(line, "event"), "action"));
}

static json_int_t pid_of(json_t *line)
{
	return json_integer_value(json_object_get(json_object_get(line, "process"), "pid"));
}

static json_int_t lfs_int(json_t *line, const char *key)
{
	return json_integer_value(json_object_get(json_object_get(line, "lineagefs"), key));
}

/* Starts the thread and waits (bounded) for its first checkpoint, so
 * that the events a test applies next come after it. */
static void writer_start(struct fixture *f)
{
	g_autoptr(GError) error = NULL;
	struct lin_journal_stats stats = {0};

	tracker_set_event_fn(f->t, journal_writer_on_event, f->jw);
	assert_true(journal_writer_start(f->jw, f->t, &error));
	for (int i = 0; i < 5000 && stats.checkpoints == 0; i++) {
		g_usleep(1000);
		journal_writer_get_stats(f->jw, &stats);
	}
	assert_int_equal(stats.checkpoints, 1);
}

static void writer_stop(struct fixture *f)
{
	journal_writer_stop(f->jw);
}

static void test_events_in_order(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) lines = NULL;
	struct lin_journal_stats stats;
	const char *want[] = {"open", "checkpoint", "checkpoint", "fork", "exec",
	                      "comm", "uid",        "gid",        "exit"};
	struct cnproc_event ev;
	json_t *exit_line, *exec_line, *exec_process;
	guint folded;

	f->jw = writer_new(f, 0, 0);
	writer_start(f);
	add_proc(f, 200, 100, 70, "bash");
	ev_fork(f, 100, 200);
	add_proc(f, 200, 100, 70, "ls");
	ev_simple(f, CNPROC_EV_EXEC, 200);
	ev = (struct cnproc_event){.type = CNPROC_EV_COMM, .pid = 200, .tgid = 200};
	strcpy(ev.u.comm.comm, "renamed");
	feed(f, ev);
	ev = (struct cnproc_event){.type = CNPROC_EV_UID, .pid = 200, .tgid = 200};
	ev.u.id.real = 7;
	ev.u.id.effective = 8;
	feed(f, ev);
	ev.type = CNPROC_EV_GID;
	feed(f, ev);
	fakeproc_remove(f->fp, 200);
	ev_exit(f, 200, 3 << 8);
	writer_stop(f);

	lines = read_journal(f, NULL);
	/* The fork's line is left out when its exec's line tells it (the
	 * usual case: the exec came within the writer's linger). */
	folded = lines->len == G_N_ELEMENTS(want) - 1;
	assert_int_equal(lines->len, G_N_ELEMENTS(want) - folded);
	for (guint i = 0; i < lines->len; i++) {
		json_t *line = g_ptr_array_index(lines, i);
		json_t *seq = json_object_get(json_object_get(line, "event"), "sequence");
		guint w = folded && i >= 3 ? i + 1 : i;

		assert_string_equal(action_of(line), want[w]);
		assert_int_equal(json_integer_value(seq), i);
	}
	assert_int_equal(pid_of(g_ptr_array_index(lines, 3)), 200);
	exec_line = g_ptr_array_index(lines, 4 - folded);
	exec_process = json_object_get(exec_line, "process");
	/* The creator and start come with the fork's line or the exec's. */
	assert_int_equal(json_object_get(exec_process, "parent") != NULL, folded);
	assert_int_equal(json_object_get(exec_process, "start") != NULL, folded);
	assert_non_null(json_object_get(exec_process, "executable"));
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(g_ptr_array_index(lines, 5 - folded), "process"), "name")),
	    "renamed");
	assert_string_equal(
	    json_string_value(json_object_get(
	        json_object_get(json_object_get(g_ptr_array_index(lines, 6 - folded), "process"),
	                        "user"),
	        "id")),
	    "8");
	exit_line = g_ptr_array_index(lines, 8 - folded);
	assert_int_equal(
	    json_integer_value(json_object_get(json_object_get(exit_line, "process"), "exit_code")),
	    3);
	journal_writer_get_stats(f->jw, &stats);
	assert_int_equal(stats.lines, G_N_ELEMENTS(want) - folded);
	assert_int_equal(stats.lines_lost, 0);
	assert_int_equal(stats.write_errors, 0);
	assert_int_equal(stats.segments, 1);
	assert_int_equal(stats.checkpoints, 1);
	assert_true(stats.syncs >= 1);
}

/* Puts pid into the fake /proc as comm, running from directory cwd. */
static void add_in(struct fixture *f, pid_t pid, pid_t ppid, guint64 start, const char *comm,
                   const char *cwd)
{
	g_autofree char *exe = g_strconcat("/usr/bin/", comm, NULL);
	struct fakeproc_proc proc = {
	    .pid = pid,
	    .ppid = ppid,
	    .start_ticks = start,
	    .comm = comm,
	    .uid = 1000,
	    .gid = 1000,
	    .cmdline = comm,
	    .cmdline_len = strlen(comm) + 1,
	    .exe = exe,
	    .cwd = cwd,
	};

	fakeproc_add(f->fp, &proc);
}

/* The cwd of pid/start in the table of the journal's newest boot. */
static char *replayed_cwd(struct fixture *f, pid_t pid, guint64 start)
{
	struct journal_read_options opts = {.hz = HZ, .threads = TRUE};
	g_autoptr(GError) error = NULL;
	struct journal_reader *r = journal_reader_new(&opts);
	struct journal_boot *b;
	struct lin_process *p;
	char *cwd;

	assert_true(journal_reader_read_path(r, f->dir, &error));
	journal_reader_finish(r);
	assert_int_equal(journal_reader_boots(r)->len, 1);
	b = g_ptr_array_index(journal_reader_boots(r), 0);
	p = tracker_find(b->tracker, pid, start);
	assert_non_null(p);
	assert_non_null(p->ctx);
	assert_non_null(p->ctx->cwd);
	cwd = g_strndup(p->ctx->cwd->data, p->ctx->cwd->len);
	journal_reader_free(r);
	return cwd;
}

/* A shell forks a child, changes directory and execs; the child execs
 * after that, from the directory it was forked in. Its exec line tells
 * no cwd (the exec did not change it), and a reader gives a folded fork
 * its creator's context as of the exec line, which by then is the
 * shell's new one: the fork must keep a line of its own. */
static void test_fork_before_its_creator_exec(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) lines = NULL;
	g_autofree char *cwd = NULL;
	struct lin_process *p;
	guint forks = 0;

	f->jw = writer_new(f, 0, 0);
	writer_start(f);
	add_in(f, 100, 1, 50, "bash", "/home/a");
	ev_simple(f, CNPROC_EV_EXEC, 100);
	add_in(f, 200, 100, 70, "bash", "/home/a");
	ev_fork(f, 100, 200);
	add_in(f, 100, 1, 50, "make", "/srv/b");
	ev_simple(f, CNPROC_EV_EXEC, 100);
	add_in(f, 200, 100, 70, "ls", "/home/a");
	ev_simple(f, CNPROC_EV_EXEC, 200);
	tracker_read_lock(f->t);
	p = tracker_find(f->t, 200, 70);
	assert_non_null(p);
	assert_string_equal(p->ctx->cwd->data, "/home/a");
	assert_string_equal(tracker_find(f->t, 100, 50)->ctx->cwd->data, "/srv/b");
	tracker_read_unlock(f->t);
	writer_stop(f);

	lines = read_journal(f, NULL);
	for (guint i = 0; i < lines->len; i++)
		if (pid_of(g_ptr_array_index(lines, i)) == 200 &&
		    strcmp(action_of(g_ptr_array_index(lines, i)), "fork") == 0)
			forks++;
	assert_int_equal(forks, 1);
	cwd = replayed_cwd(f, 200, 70);
	assert_string_equal(cwd, "/home/a");
}

static void test_missed_exit_and_forget(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) lines = NULL;
	g_autoptr(GString) actions = g_string_new(NULL);

	f->jw = writer_new(f, 0, 0);
	writer_start(f);
	/* A process the rescan finds gone, and one it finds new. */
	add_proc(f, 300, 100, 80, "sleep");
	ev_fork(f, 100, 300);
	fakeproc_remove(f->fp, 300);
	add_proc(f, 301, 1, 81, "cron");
	assert_int_equal(tracker_rescan(f->t), 0);
	writer_stop(f);
	lines = read_journal(f, NULL);
	for (guint i = 0; i < lines->len; i++) {
		json_t *line = g_ptr_array_index(lines, i);

		if (pid_of(line) >= 300)
			g_string_append_printf(actions, "%s:%d ", action_of(line),
			                       (int)pid_of(line));
	}
	assert_string_equal(actions->str, "fork:300 exit_missed:300 found:301 ");
}

/* The fixture's table again, with a retention limit. */
static void retain(struct fixture *f, guint max_exited)
{
	struct tracker_config cfg = {0};

	tracker_free(f->t);
	cfg.proc_root_fd = fakeproc_root_fd(f->fp);
	cfg.max_exited = max_exited;
	cfg.hz = HZ;
	cfg.boot_realtime_ns = test_host.boot_realtime_ns;
	cfg.now_monotonic_ns = fake_monotonic;
	cfg.now_realtime_ns = fake_realtime;
	f->t = tracker_new(&cfg);
	assert_int_equal(tracker_bootstrap(f->t), 2);
}

static void test_forget_by_retention(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) lines = NULL;
	guint forgets = 0;
	json_int_t forgotten = 0;

	retain(f, 1);
	f->jw = writer_new(f, 0, 0);
	writer_start(f);
	run_process(f, 400, 90, "true");
	run_process(f, 401, 91, "true");
	writer_stop(f);
	lines = read_journal(f, NULL);
	for (guint i = 0; i < lines->len; i++) {
		if (strcmp(action_of(g_ptr_array_index(lines, i)), "forget") == 0) {
			forgets++;
			forgotten = pid_of(g_ptr_array_index(lines, i));
		}
	}
	assert_int_equal(forgets, 1);
	assert_int_equal(forgotten, 400);
}

/* Events applied before the thread starts wait in the queue; the
 * checkpoint already holds them, so they are not written again. A queue
 * of 4 slots drops the rest, and the gap line says how many. */
static void test_queue_full_gap_and_no_duplicates(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) lines = NULL;
	struct lin_journal_stats stats;
	guint checkpoints = 0, gaps = 0, events = 0;
	json_int_t lost = 0, last_seq = -1;
	const guint processes = 10; /* 3 lines each */

	f->jw = writer_new(f, 0, 4);
	tracker_set_event_fn(f->t, journal_writer_on_event, f->jw);
	for (guint i = 0; i < processes; i++)
		run_process(f, (pid_t)(500 + i), 100 + i, "true");
	journal_writer_get_stats(f->jw, &stats);
	assert_int_equal(stats.queue_depth, 4);
	assert_int_equal(stats.lines_lost, processes * 3 - 4);
	{
		g_autoptr(GError) error = NULL;

		assert_true(journal_writer_start(f->jw, f->t, &error));
	}
	writer_stop(f);
	lines = read_journal(f, NULL);
	for (guint i = 0; i < lines->len; i++) {
		json_t *line = g_ptr_array_index(lines, i);
		const char *action = action_of(line);
		json_int_t seq =
		    json_integer_value(json_object_get(json_object_get(line, "event"), "sequence"));

		assert_true(seq > last_seq);
		last_seq = seq;
		if (strcmp(action, "checkpoint") == 0) {
			checkpoints++;
		} else if (strcmp(action, "gap") == 0) {
			gaps++;
			lost = lfs_int(line, "lost_lines");
			assert_string_equal(json_string_value(json_object_get(
			                        json_object_get(line, "event"), "kind")),
			                    "pipeline_error");
		} else if (strcmp(action, "open") != 0) {
			events++;
		}
	}
	/* init, bash and the ten exited ones, each once. */
	assert_int_equal(checkpoints, 2 + processes);
	assert_int_equal(events, 0);
	assert_int_equal(gaps, 1);
	assert_int_equal(lost, processes * 3 - 4);
	journal_writer_get_stats(f->jw, &stats);
	assert_int_equal(stats.queue_depth, 0);
}

/* A checkpoint holds every record with its data. */
static void test_checkpoint_whole_records(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) lines = NULL;
	json_t *cp = NULL;

	run_process(f, 600, 95, "grep");
	f->jw = writer_new(f, 0, 0);
	writer_start(f);
	writer_stop(f);
	lines = read_journal(f, NULL);
	for (guint i = 0; i < lines->len; i++)
		if (pid_of(g_ptr_array_index(lines, i)) == 600)
			cp = g_ptr_array_index(lines, i);
	assert_non_null(cp);
	assert_string_equal(action_of(cp), "checkpoint");
	{
		json_t *proc = json_object_get(cp, "process");
		json_t *args = json_object_get(proc, "args");

		assert_string_equal(json_string_value(json_object_get(proc, "name")), "grep");
		assert_string_equal(json_string_value(json_object_get(proc, "executable")),
		                    "/usr/bin/grep");
		assert_int_equal(json_array_size(args), 2);
		assert_int_equal(json_integer_value(json_object_get(proc, "exit_code")), 3);
		assert_int_equal(
		    json_integer_value(json_object_get(json_object_get(proc, "parent"), "pid")),
		    100);
		assert_int_equal(lfs_int(cp, "execs"), 1);
		assert_int_equal(lfs_int(cp, "start_ticks"), 95);
	}
}

/* Small segments: rotation, deletion of the oldest, every segment opening
 * with a checkpoint of the whole table. */
static void test_rotation_and_limit(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GPtrArray) lines = NULL;
	struct lin_journal_stats stats;
	guint segments = 0;
	const guint64 max = 256 * 1024;
	guint64 total = 0;
	g_autoptr(GDir) dir = NULL;
	const char *name;

	retain(f, 50);
	f->jw = writer_new(f, max, 0);
	writer_start(f);
	for (guint i = 0; i < 800; i++)
		run_process(f, (pid_t)(1000 + i), 200 + i, "true");
	writer_stop(f);
	journal_writer_get_stats(f->jw, &stats);
	assert_true(stats.checkpoints > 3);
	assert_true(stats.segments_deleted > 0);
	assert_int_equal(stats.lines_lost, 0);

	dir = g_dir_open(f->dir, 0, NULL);
	while ((name = g_dir_read_name(dir)) != NULL) {
		g_autofree char *path = g_build_filename(f->dir, name, NULL);
		struct stat st;

		assert_int_equal(stat(path, &st), 0);
		total += (guint64)st.st_size;
	}
	/* At most one line beyond the limit. */
	assert_true(total <= max + 4096);

	lines = read_journal(f, &segments);
	assert_int_equal(segments, stats.segments);
	/* The newest segment opens with an open line and a checkpoint, and
	 * names every record the table still holds. */
	{
		json_int_t newest = json_integer_value(
		    json_object_get(g_ptr_array_index(lines, lines->len - 1), "_segment"));
		g_autoptr(GHashTable) named =
		    g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
		guint first = 0;
		guint records = 0;

		while (json_integer_value(
		           json_object_get(g_ptr_array_index(lines, first), "_segment")) != newest)
			first++;
		assert_string_equal(action_of(g_ptr_array_index(lines, first)), "open");
		assert_string_equal(action_of(g_ptr_array_index(lines, first + 1)), "checkpoint");
		for (guint i = first + 1; i < lines->len; i++) {
			json_t *line = g_ptr_array_index(lines, i);

			g_hash_table_add(named, g_strdup_printf("%d-%d", (int)pid_of(line),
			                                        (int)lfs_int(line, "start_ticks")));
		}
		tracker_read_lock(f->t);
		for (struct lin_process *p = tracker_first_after(f->t, 0); p; p = p->all_next) {
			g_autofree char *key =
			    g_strdup_printf("%d-%d", (int)p->pid, (int)p->start_ticks);

			if (!g_hash_table_contains(named, key))
				fail_msg("%s is held but not in the newest segment", key);
			records++;
		}
		tracker_read_unlock(f->t);
		assert_int_equal(records, 52);
	}
}

static void test_next_segment_number(void **state)
{
	struct fixture *f = *state;
	g_autofree char *old = NULL;
	g_autofree char *next = NULL;

	assert_int_equal(mkdir(f->dir, 0750), 0);
	old = g_build_filename(f->dir, "lineagefs-0000000041.jsonl", NULL);
	assert_true(g_file_set_contents(old, "", 0, NULL));
	assert_int_equal(chmod(old, 0640), 0);
	f->jw = writer_new(f, 0, 0);
	writer_start(f);
	writer_stop(f);
	next = g_build_filename(f->dir, "lineagefs-0000000042.jsonl", NULL);
	assert_true(g_file_test(next, G_FILE_TEST_IS_REGULAR));
}

static void test_refuses_unsafe_dir(void **state)
{
	struct fixture *f = *state;
	g_autoptr(GError) error = NULL;
	struct journal_config cfg = {.dir = f->dir, .host = test_host};

	assert_int_equal(mkdir(f->dir, 0770), 0);
	assert_int_equal(chmod(f->dir, 0770), 0);
	assert_null(journal_writer_new(&cfg, &error));
	assert_non_null(strstr(error->message, "writable by its group"));
	assert_non_null(strstr(error->message, "chmod go-w"));
	g_clear_error(&error);

	assert_int_equal(chmod(f->dir, 0757), 0);
	assert_null(journal_writer_new(&cfg, &error));
	assert_non_null(strstr(error->message, "writable by others"));
	g_clear_error(&error);

	assert_int_equal(rmdir(f->dir), 0);
	assert_true(g_file_set_contents(f->dir, "x", 1, NULL));
	assert_null(journal_writer_new(&cfg, &error));
	assert_non_null(strstr(error->message, "journal directory"));
	unlink(f->dir);
}

/* The feeder's items come from spare blocks the freeing thread hands
 * back: a block freed goes back to the pool and is taken again, the pool
 * keeps at most its slots' blocks, and an item too large for a block is
 * malloc'd and freed as it always was. */
static void test_item_blocks_reused(void **state)
{
	struct fixture *f = *state;
	g_autofree char *big = g_strnfill(3 * JOURNAL_ITEM_BLOCK, 'x');
	struct fakeproc_proc large = {
	    .pid = 200,
	    .ppid = 100,
	    .start_ticks = 60,
	    .comm = "large",
	    .cmdline = big,
	    .cmdline_len = strlen(big) + 1,
	    .exe = "/usr/bin/large",
	};
	struct journal_item_pool pool;
	struct journal_item_plan plan;
	struct journal_item *items[3], *again[3], *item;
	struct lin_process *p = tracker_find_pid(f->t, 100);

	assert_non_null(p);
	journal_item_pool_init(&pool, 2);
	tracker_read_lock(f->t);
	journal_item_plan(f->t, p, JOURNAL_EXEC, &plan);
	assert_true(plan.bytes <= JOURNAL_ITEM_BLOCK);
	assert_int_equal(journal_item_size(&plan, &pool), JOURNAL_ITEM_BLOCK);
	assert_int_equal(journal_item_size(&plan, NULL), plan.bytes);
	for (int i = 0; i < 3; i++) {
		items[i] = journal_item_new(f->t, p, &plan, &pool);
		assert_ptr_equal(items[i]->pool, &pool);
	}
	assert_int_equal(pool.misses, 3);
	/* Two go back to the pool, the third is freed: the pool is full. */
	for (int i = 0; i < 3; i++)
		journal_item_free(items[i]);
	for (int i = 0; i < 3; i++)
		again[i] = journal_item_new(f->t, p, &plan, &pool);
	assert_ptr_equal(again[0], items[0]);
	assert_ptr_equal(again[1], items[1]);
	assert_int_equal(pool.misses, 4);
	/* A reused block is a whole item again, not what it held before. */
	assert_int_equal(again[0]->proc.pid, 100);
	assert_int_equal(again[0]->bytes, JOURNAL_ITEM_BLOCK);
	assert_int_equal(again[0]->proc.cmdline_len, p->cmdline->len);
	assert_memory_equal(again[0]->proc.cmdline, p->cmdline->data, p->cmdline->len);
	for (int i = 0; i < 3; i++)
		journal_item_free(again[i]);
	tracker_read_unlock(f->t);

	/* A command line longer than a block: its own allocation. */
	fakeproc_add(f->fp, &large);
	assert_int_equal(tracker_rescan(f->t), 0);
	p = tracker_find_pid(f->t, 200);
	assert_non_null(p);
	tracker_read_lock(f->t);
	journal_item_plan(f->t, p, JOURNAL_EXEC, &plan);
	assert_true(plan.bytes > JOURNAL_ITEM_BLOCK);
	item = journal_item_new(f->t, p, &plan, &pool);
	assert_null(item->pool);
	assert_int_equal(item->bytes, plan.bytes);
	assert_int_equal(item->proc.cmdline_len, p->cmdline->len);
	journal_item_free(item);
	tracker_read_unlock(f->t);
	assert_int_equal(pool.misses, 4);
	journal_item_pool_clear(&pool);
}

/* An earlier boot's table (as restored from the journal) goes into every
 * segment's checkpoint with its own boot id and clock: once the segments
 * that first told it are deleted, a reader still finds it whole. */
static void test_earlier_boots_in_every_checkpoint(void **state)
{
	static const char old_boot[] = "fedcba98-7654-3210-fedc-ba9876543210";
	static const char cmdline[] = "/usr/bin/old\0--flag\0\xff\0";
	const guint64 old_boot_ns = test_host.boot_realtime_ns - 86400ull * 1000000000ull;
	struct fixture *f = *state;
	struct tracker_config cfg = {.proc_root_fd = -1, .hz = HZ, .boot_realtime_ns = old_boot_ns};
	struct tracker *old = tracker_new(&cfg);
	struct tracker_restore rs = {
	    .has = TRACKER_RESTORE_COMM | TRACKER_RESTORE_EXE | TRACKER_RESTORE_CMDLINE |
	           TRACKER_RESTORE_EXIT | TRACKER_RESTORE_UIDS,
	    .pid = 4321,
	    .instance = 1,
	    .start_ticks = 777,
	    .comm = "old",
	    .comm_len = 3,
	    .exe = "/usr/bin/old",
	    .exe_len = 12,
	    .cmdline = cmdline,
	    .cmdline_len = sizeof(cmdline) - 1,
	    .ruid = 1000,
	    .euid = 1000,
	    .exit_kind = LIN_EXIT_CODE,
	    .exit_status = 5 << 8,
	    .exit_ns = old_boot_ns + 3600ull * 1000000000ull,
	};
	struct journal_read_options opts = {.hz = HZ, .threads = TRUE};
	g_autoptr(GPtrArray) lines = NULL;
	g_autoptr(GError) error = NULL;
	struct journal_reader *r;
	struct lin_journal_stats stats;
	GPtrArray *boots;
	struct lin_process *p = NULL;
	guint old_lines = 0;

	assert_true(tracker_restore_put(old, &rs) > 0);
	retain(f, 50);
	f->jw = writer_new(f, 256 * 1024, 0);
	journal_writer_add_boot(f->jw, old_boot, old_boot_ns, HZ, old);
	writer_start(f);
	for (guint i = 0; i < 800; i++)
		run_process(f, (pid_t)(1000 + i), 200 + i, "true");
	writer_stop(f);
	journal_writer_get_stats(f->jw, &stats);
	assert_true(stats.checkpoints > 3);
	assert_true(stats.segments_deleted > 0);

	/* One checkpoint line of it per segment that is left. */
	lines = read_journal(f, NULL);
	for (guint i = 0; i < lines->len; i++) {
		json_t *line = g_ptr_array_index(lines, i);
		json_t *host = json_object_get(line, "host");

		if (strcmp(json_string_value(json_object_get(json_object_get(host, "boot"), "id")),
		           old_boot) != 0)
			continue;
		assert_string_equal(action_of(line), "checkpoint");
		assert_int_equal(pid_of(line), 4321);
		old_lines++;
	}
	assert_int_equal(old_lines, stats.segments);

	r = journal_reader_new(&opts);
	assert_true(journal_reader_read_path(r, f->dir, &error));
	journal_reader_finish(r);
	boots = journal_reader_boots(r);
	for (guint i = 0; i < boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(boots, i);

		if (strcmp(b->boot_id, old_boot) == 0)
			p = tracker_find(b->tracker, 4321, 777);
	}
	assert_non_null(p);
	assert_int_equal(p->cmdline->len, sizeof(cmdline) - 1);
	assert_memory_equal(p->cmdline->data, cmdline, sizeof(cmdline) - 1);
	assert_string_equal(p->comm->data, "old");
	assert_int_equal(p->exit_kind, LIN_EXIT_CODE);
	assert_int_equal(p->exit_status, 5 << 8);
	assert_int_equal(p->exit_ns, rs.exit_ns);
	assert_int_equal(p->euid, 1000);
	journal_reader_free(r);
	journal_writer_free(f->jw);
	f->jw = NULL;
	tracker_free(old);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_events_in_order, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fork_before_its_creator_exec, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_missed_exit_and_forget, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_forget_by_retention, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_queue_full_gap_and_no_duplicates, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_checkpoint_whole_records, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_rotation_and_limit, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_earlier_boots_in_every_checkpoint, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(test_next_segment_number, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_item_blocks_reused, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_refuses_unsafe_dir, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
