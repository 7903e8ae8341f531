// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the per-process history (time order, ids at a past time,
 * the global budget that drops the oldest entry and says so) and of the
 * by-exe and by-uid indexes (sorted lists that resume by serial, paths
 * split into nested directories, " (deleted)" not part of a path, nodes
 * pruned when nothing ran below them), on records built by hand.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "proc_history.h"
#include "index.h"
#include "tracker.h"

static void test_history_order_and_ids(void **state)
{
	struct lin_strpool *strings = lin_strpool_new();
	struct lin_hist_budget budget;
	struct lin_hist *h = NULL;
	struct lin_hist_entry uid = {
	    .time_ns = 200, .kind = LIN_HIST_UID, .ids = {0, 0, 1000, 1000}};
	struct lin_hist_entry comm = {.time_ns = 300, .kind = LIN_HIST_COMM};
	struct lin_hist_entry exec = {.time_ns = 100, .kind = LIN_HIST_EXEC, .ids = {0, 0, 0, 0}};
	guint32 current[4] = {1000, 1000, 5, 5}, at[4];
	int record;

	(void)state;
	lin_hist_budget_init(&budget, strings, 0);
	comm.exe = lin_strpool_intern(strings, "renamed", 7);
	lin_hist_add(&budget, &h, &record, &uid);
	lin_hist_add(&budget, &h, &record, &comm);
	/* Added last, older than both: it goes first. */
	lin_hist_add(&budget, &h, &record, &exec);
	assert_int_equal(h->count, 3);
	assert_int_equal(h->first->kind, LIN_HIST_EXEC);
	assert_int_equal(h->first->next->kind, LIN_HIST_UID);
	assert_int_equal(h->last->kind, LIN_HIST_COMM);
	assert_ptr_equal(h->record, &record);
	/* Before the uid change: the old uids; the gids never changed. */
	lin_hist_ids_at(h, 150, current, at);
	assert_int_equal(at[0], 0);
	assert_int_equal(at[1], 0);
	assert_int_equal(at[2], 5);
	lin_hist_ids_at(h, 250, current, at);
	assert_int_equal(at[0], 1000);
	/* An id change at the very time asked is not "after" it. */
	lin_hist_ids_at(h, 200, current, at);
	assert_int_equal(at[0], 1000);
	lin_strpool_unref(strings, comm.exe);
	lin_hist_free(&budget, &h);
	assert_null(h);
	assert_int_equal(budget.entries, 0);
	assert_int_equal(lin_strpool_count(strings), 0);
	lin_strpool_free(strings);
}

static guint drops_seen;

static void count_drop(struct lin_hist_entry *e, void *data)
{
	(void)e;
	(void)data;
	drops_seen++;
}

static void test_history_budget(void **state)
{
	struct lin_strpool *strings = lin_strpool_new();
	struct lin_hist_budget budget;
	struct lin_hist *looping = NULL, *quiet = NULL;
	int a, b;

	(void)state;
	lin_hist_budget_init(&budget, strings, 10);
	budget.on_drop = count_drop;
	drops_seen = 0;
	for (guint64 i = 0; i < 3; i++) {
		struct lin_hist_entry e = {.time_ns = i, .kind = LIN_HIST_COMM};

		lin_hist_add(&budget, &quiet, &b, &e);
	}
	/* A process changing its name in a loop: memory stays bounded, its
	 * own oldest and then the quiet one's go, each counted. */
	for (guint64 i = 0; i < 1000; i++) {
		struct lin_hist_entry e = {.time_ns = 10 + i, .kind = LIN_HIST_COMM};

		lin_hist_add(&budget, &looping, &a, &e);
	}
	assert_int_equal(budget.entries, 10);
	assert_int_equal(budget.dropped, 993);
	assert_int_equal(drops_seen, 993);
	assert_int_equal(looping->count, 10);
	assert_int_equal(looping->dropped, 990);
	assert_int_equal(quiet->count, 0);
	assert_int_equal(quiet->dropped, 3);
	assert_int_equal(looping->first->time_ns, 10 + 990);
	lin_hist_free(&budget, &looping);
	lin_hist_free(&budget, &quiet);
	assert_int_equal(budget.entries, 0);
	lin_strpool_free(strings);
}

static struct lin_process *records(guint n)
{
	struct lin_process *p = g_new0(struct lin_process, n);

	for (guint i = 0; i < n; i++)
		p[i].serial = (i + 1) * 10;
	return p;
}

static void add_exe(struct lin_index *idx, const char *path, struct lin_process *p)
{
	lin_index_exe_add(idx, path, strlen(path), p);
}

static void remove_exe(struct lin_index *idx, const char *path, struct lin_process *p)
{
	lin_index_exe_remove(idx, path, strlen(path), p);
}

static struct index_exe_dir *walk(struct lin_index *idx, const char *const *names)
{
	struct index_exe_dir *dir = lin_index_exe_root(idx);

	for (; dir && *names; names++)
		dir = lin_index_exe_child(dir, *names);
	return dir;
}

static void test_index_exe(void **state)
{
	struct lin_index *idx = lin_index_new();
	struct lin_process *p = records(5);
	struct index_exe_dir *curl, *tmp, *root = lin_index_exe_root(idx);

	(void)state;
	add_exe(idx, "/usr/bin/curl", &p[3]);
	add_exe(idx, "/usr/bin/curl", &p[0]);
	add_exe(idx, "/usr/bin/curl", &p[2]);
	add_exe(idx, "/usr/bin/curl", &p[0]); /* once only */
	add_exe(idx, "/tmp/x (deleted)", &p[1]);
	add_exe(idx, "/tmp/sub/y", &p[4]);
	curl = walk(idx, (const char *const[]){"usr", "bin", "curl", NULL});
	assert_non_null(curl);
	assert_int_equal(curl->depth, 3);
	assert_int_equal(curl->records->len, 3);
	assert_ptr_equal(curl->records->items[0], &p[0]);
	assert_ptr_equal(curl->records->items[1], &p[2]);
	assert_ptr_equal(curl->records->items[2], &p[3]);
	assert_int_equal(lin_index_first_after(curl->records, 0), 0);
	assert_int_equal(lin_index_first_after(curl->records, 30), 2);
	assert_int_equal(lin_index_first_after(curl->records, 40), 3);
	assert_true(lin_index_contains(curl->records, &p[2]));
	assert_false(lin_index_contains(curl->records, &p[1]));
	assert_ptr_equal(lin_index_exe_dir(idx, curl->id), curl);
	/* The deleted file is indexed under its path. */
	tmp = walk(idx, (const char *const[]){"tmp", NULL});
	assert_null(tmp->records);
	assert_string_equal(lin_index_exe_nth_child(tmp, 0)->name, "sub");
	assert_string_equal(lin_index_exe_nth_child(tmp, 1)->name, "x");
	assert_null(lin_index_exe_nth_child(tmp, 2));
	assert_string_equal(lin_index_exe_nth_child(root, 0)->name, "tmp");
	/* Removing the last record below a node prunes it, up to the root. */
	remove_exe(idx, "/tmp/sub/y", &p[4]);
	assert_null(walk(idx, (const char *const[]){"tmp", "sub", NULL}));
	remove_exe(idx, "/tmp/x", &p[1]);
	assert_null(walk(idx, (const char *const[]){"tmp", NULL}));
	assert_null(lin_index_exe_nth_child(root, 1));
	/* Removal from the front and back keeps the order. */
	remove_exe(idx, "/usr/bin/curl", &p[0]);
	remove_exe(idx, "/usr/bin/curl", &p[0]);
	assert_int_equal(curl->records->len, 2);
	assert_ptr_equal(curl->records->items[0], &p[2]);
	add_exe(idx, "/usr/bin/curl", &p[1]);
	assert_ptr_equal(curl->records->items[0], &p[1]);
	assert_true(lin_index_bytes(idx) > 0);
	/* Paths that cannot be files: nothing. */
	add_exe(idx, "", &p[0]);
	add_exe(idx, "/", &p[0]);
	lin_index_free(idx);
	g_free(p);
}

static void test_index_many(void **state)
{
	struct lin_index *idx = lin_index_new();
	guint n = 5000;
	struct lin_process *p = records(n);
	struct index_exe_dir *dir;

	(void)state;
	for (guint i = 0; i < n; i++)
		add_exe(idx, "/bin/true", &p[i]);
	/* Forgotten oldest first, as retention does, with new ones joining. */
	for (guint i = 0; i < n / 2; i++)
		remove_exe(idx, "/bin/true", &p[i]);
	dir = walk(idx, (const char *const[]){"bin", "true", NULL});
	assert_int_equal(dir->records->len, n - n / 2);
	for (guint i = 0; i < dir->records->len; i++)
		assert_ptr_equal(dir->records->items[i], &p[n / 2 + i]);
	for (guint i = 0; i < n / 2; i++)
		add_exe(idx, "/bin/true", &p[i]);
	assert_int_equal(dir->records->len, n);
	for (guint i = 1; i < n; i++)
		assert_true(dir->records->items[i - 1]->serial < dir->records->items[i]->serial);
	lin_index_free(idx);
	g_free(p);
}

/* A list the oldest leave as the newest join (retention at its limit)
 * keeps little slack: its array stays under 1.5 times its length, and a
 * list mostly emptied gives its array back. Every retained process is in
 * such lists, so the slack is memory per process (bench_memory). */
static void test_index_list_slack(void **state)
{
	struct lin_index *idx = lin_index_new();
	guint kept = 10000, churn = 100000;
	struct lin_process *p = records(kept + churn);
	const struct index_list *list;

	(void)state;
	for (guint i = 0; i < kept; i++)
		lin_index_uid_add(idx, 1000, &p[i]);
	for (guint i = 0; i < churn; i++) {
		lin_index_uid_remove(idx, 1000, &p[i]);
		lin_index_uid_add(idx, 1000, &p[kept + i]);
		list = lin_index_uid_records(idx, 1000);
		assert_int_equal(list->len, kept);
		assert_true(list->cap * 2 <= list->len * 3);
	}
	list = lin_index_uid_records(idx, 1000);
	for (guint i = 0; i < kept; i++)
		assert_ptr_equal(list->items[i], &p[churn + i]);
	/* The oldest nine tenths forgotten at once. */
	for (guint i = 0; i < kept - kept / 10; i++)
		lin_index_uid_remove(idx, 1000, &p[churn + i]);
	list = lin_index_uid_records(idx, 1000);
	assert_int_equal(list->len, kept / 10);
	assert_true(list->cap <= list->len * 4);
	assert_ptr_equal(list->items[0], &p[churn + kept - kept / 10]);
	lin_index_free(idx);
	g_free(p);
}

static void test_index_uid(void **state)
{
	struct lin_index *idx = lin_index_new();
	struct lin_process *p = records(3);
	uid_t uid = 0;

	(void)state;
	lin_index_uid_add(idx, 1000, &p[1]);
	lin_index_uid_add(idx, 0, &p[0]);
	lin_index_uid_add(idx, 1000, &p[0]);
	lin_index_uid_add(idx, 65534, &p[2]);
	assert_true(lin_index_uid_next(idx, 0, &uid));
	assert_int_equal(uid, 0);
	assert_true(lin_index_uid_next(idx, 1, &uid));
	assert_int_equal(uid, 1000);
	assert_true(lin_index_uid_next(idx, 1001, &uid));
	assert_int_equal(uid, 65534);
	assert_false(lin_index_uid_next(idx, 65535, &uid));
	assert_int_equal(lin_index_uid_records(idx, 1000)->len, 2);
	lin_index_uid_remove(idx, 1000, &p[0]);
	lin_index_uid_remove(idx, 1000, &p[1]);
	assert_null(lin_index_uid_records(idx, 1000));
	assert_true(lin_index_uid_next(idx, 1, &uid));
	assert_int_equal(uid, 65534);
	lin_index_free(idx);
	g_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_history_order_and_ids),
	    cmocka_unit_test(test_history_budget),
	    cmocka_unit_test(test_index_exe),
	    cmocka_unit_test(test_index_many),
	    cmocka_unit_test(test_index_list_slack),
	    cmocka_unit_test(test_index_uid),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
