// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the string pool: equal contents share one string, the last
 * reference frees it, lengths are bytes (NULs included, not C strings), and
 * the byte count matches what the strings take.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "strpool.h"

static gsize str_bytes(gsize len)
{
	return sizeof(struct lin_str) + len + 1;
}

static void test_dedup(void **state)
{
	struct lin_strpool *pool = lin_strpool_new();
	char copy[] = "/usr/bin/true";
	struct lin_str *a, *b, *c;

	(void)state;
	a = lin_strpool_intern(pool, "/usr/bin/true", strlen("/usr/bin/true"));
	b = lin_strpool_intern(pool, copy, strlen(copy));
	c = lin_strpool_intern(pool, "/usr/bin/false", strlen("/usr/bin/false"));
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	assert_int_equal(a->refs, 2);
	assert_int_equal(c->refs, 1);
	assert_int_equal(a->len, 13);
	assert_string_equal(a->data, "/usr/bin/true");
	assert_int_equal(lin_strpool_count(pool), 2);
	assert_int_equal(lin_strpool_bytes(pool), str_bytes(13) + str_bytes(14));

	lin_strpool_unref(pool, a);
	lin_strpool_unref(pool, b);
	lin_strpool_unref(pool, c);
	assert_int_equal(lin_strpool_count(pool), 0);
	assert_int_equal(lin_strpool_bytes(pool), 0);
	lin_strpool_free(pool);
}

static void test_refcount(void **state)
{
	struct lin_strpool *pool = lin_strpool_new();
	struct lin_str *s, *again;

	(void)state;
	s = lin_strpool_intern(pool, "bash", 4);
	assert_ptr_equal(lin_str_ref(s), s);
	assert_int_equal(s->refs, 2);
	lin_strpool_unref(pool, s);
	assert_int_equal(lin_strpool_count(pool), 1);
	assert_int_equal(s->refs, 1);
	lin_strpool_unref(pool, s);
	assert_int_equal(lin_strpool_count(pool), 0);

	/* Interning after the last unref makes a fresh string. */
	again = lin_strpool_intern(pool, "bash", 4);
	assert_int_equal(again->refs, 1);
	assert_int_equal(lin_strpool_count(pool), 1);
	lin_strpool_unref(pool, again);

	/* NULL is accepted everywhere a string is. */
	assert_null(lin_str_ref(NULL));
	lin_strpool_unref(pool, NULL);
	lin_strpool_free(pool);
	lin_strpool_free(NULL);
}

static void test_binary_contents(void **state)
{
	static const char argv_a[] = "sh\0-c\0true";
	static const char argv_b[] = "sh\0-c\0false";
	struct lin_strpool *pool = lin_strpool_new();
	struct lin_str *a, *b, *prefix, *empty, *empty2;

	(void)state;
	/* Same C-string prefix "sh", different bytes after the NUL. */
	a = lin_strpool_intern(pool, argv_a, sizeof(argv_a) - 1);
	b = lin_strpool_intern(pool, argv_b, sizeof(argv_b) - 1);
	prefix = lin_strpool_intern(pool, "sh", 2);
	assert_ptr_not_equal(a, b);
	assert_ptr_not_equal(a, prefix);
	assert_int_equal(a->len, sizeof(argv_a) - 1);
	assert_memory_equal(a->data, argv_a, sizeof(argv_a) - 1);
	assert_int_equal(a->data[a->len], '\0');

	empty = lin_strpool_intern(pool, NULL, 0);
	empty2 = lin_strpool_intern(pool, "", 0);
	assert_ptr_equal(empty, empty2);
	assert_int_equal(empty->len, 0);
	assert_string_equal(empty->data, "");
	assert_int_equal(lin_strpool_count(pool), 4);
	assert_int_equal(lin_strpool_bytes(pool), str_bytes(sizeof(argv_a) - 1) +
	                                              str_bytes(sizeof(argv_b) - 1) + str_bytes(2) +
	                                              str_bytes(0));

	lin_strpool_unref(pool, a);
	lin_strpool_unref(pool, b);
	lin_strpool_unref(pool, prefix);
	lin_strpool_unref(pool, empty);
	lin_strpool_unref(pool, empty2);
	assert_int_equal(lin_strpool_bytes(pool), 0);
	lin_strpool_free(pool);
}

static void test_many(void **state)
{
	struct lin_strpool *pool = lin_strpool_new();
	struct lin_str *strs[2000];
	g_autofree char *fill = g_strnfill(5000, 'x');
	gsize bytes = 0;

	(void)state;
	/* 1000 distinct values, each interned twice; long ones grow the probe. */
	for (int i = 0; i < 1000; i++) {
		g_autofree char *v = g_strdup_printf("/opt/tool-%d/%s", i, i % 10 ? "" : fill);
		strs[2 * i] = lin_strpool_intern(pool, v, strlen(v));
		strs[2 * i + 1] = lin_strpool_intern(pool, v, strlen(v));
		assert_ptr_equal(strs[2 * i], strs[2 * i + 1]);
		bytes += str_bytes(strlen(v));
	}
	assert_int_equal(lin_strpool_count(pool), 1000);
	assert_int_equal(lin_strpool_bytes(pool), bytes);
	for (int i = 0; i < 2000; i++)
		lin_strpool_unref(pool, strs[i]);
	assert_int_equal(lin_strpool_count(pool), 0);
	assert_int_equal(lin_strpool_bytes(pool), 0);
	lin_strpool_free(pool);
}

static void test_free_with_live_strings(void **state)
{
	struct lin_strpool *pool = lin_strpool_new();

	(void)state;
	/* The pool owns its strings: freeing it with references left must not
	 * leak (ASan's leak check would fail the test). */
	lin_strpool_intern(pool, "kworker/0:1", 11);
	lin_strpool_intern(pool, "systemd", 7);
	lin_strpool_free(pool);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_dedup),
	    cmocka_unit_test(test_refcount),
	    cmocka_unit_test(test_binary_contents),
	    cmocka_unit_test(test_many),
	    cmocka_unit_test(test_free_with_live_strings),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
