// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The records-by-serial index (serial_index.c): every serial added and not
 * removed is found, a removed or never added one is not, through the
 * compactions that oldest-first forgetting and scattered forgetting cause,
 * and the arrays shrink back when most records are gone.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "serial_index.h"

#define COUNT 20000

/* Record i has serial 3 * i + 7 (serials need not be dense) and the
 * pointer value i + 1. */
static guint64 serial_of(guint i)
{
	return 3ull * i + 7;
}

static void assert_holds(const struct serial_index *ix, const gboolean *gone, guint count)
{
	for (guint i = 0; i < count; i++) {
		gpointer want = gone[i] ? NULL : GUINT_TO_POINTER(i + 1);

		assert_ptr_equal(serial_index_find(ix, serial_of(i)), want);
		/* The serials between and around are never there. */
		assert_null(serial_index_find(ix, serial_of(i) + 1));
	}
	assert_null(serial_index_find(ix, 0));
	assert_null(serial_index_find(ix, serial_of(count)));
	/* From any serial, the next record held. */
	for (guint i = 0; i < count; i++) {
		guint next = i;

		while (next < count && gone[next])
			next++;
		assert_ptr_equal(serial_index_first_after(ix, serial_of(i) - 1),
		                 next < count ? GUINT_TO_POINTER(next + 1) : NULL);
		if (i % 97 == 0)
			assert_ptr_equal(serial_index_first_after(ix, serial_of(i) - 3),
			                 serial_index_first_after(ix, serial_of(i) - 1));
	}
	assert_null(serial_index_first_after(ix, G_MAXUINT64));
}

static void test_oldest_first_then_scattered(void **state)
{
	struct serial_index ix = {0};
	g_autofree gboolean *gone = g_new0(gboolean, COUNT);
	gsize full;
	guint i;

	(void)state;
	for (i = 0; i < COUNT; i++)
		serial_index_add(&ix, serial_of(i), GUINT_TO_POINTER(i + 1));
	assert_holds(&ix, gone, COUNT);
	full = serial_index_bytes(&ix);
	assert_true(full >= COUNT * 16 && full <= COUNT * 16 * 5 / 4 + 64 * 16);

	/* Retention: the oldest go first, while new ones come. */
	for (i = 0; i < COUNT / 2; i++) {
		serial_index_remove(&ix, serial_of(i));
		gone[i] = TRUE;
	}
	assert_holds(&ix, gone, COUNT);
	assert_true(ix.holes <= ix.len / 8);

	/* Scattered: every third of the rest, and some twice. */
	for (i = COUNT / 2; i < COUNT; i += 3) {
		serial_index_remove(&ix, serial_of(i));
		serial_index_remove(&ix, serial_of(i));
		gone[i] = TRUE;
	}
	assert_holds(&ix, gone, COUNT);

	/* Nearly all gone: the arrays shrink with them. */
	for (i = 0; i < COUNT - 10; i++) {
		serial_index_remove(&ix, serial_of(i));
		gone[i] = TRUE;
	}
	assert_holds(&ix, gone, COUNT);
	assert_true(serial_index_bytes(&ix) < full / 10);
	serial_index_clear(&ix);
	assert_null(serial_index_find(&ix, serial_of(COUNT - 1)));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oldest_first_then_scattered),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
