/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Unit tests for fs/render_metrics.c and tracker/metrics.h: the metrics
 * file rendered from numbers set by hand. Histogram buckets are cumulative
 * and the count is the +Inf bucket, bounds and sums are exact decimal
 * seconds, every family has HELP and TYPE lines once, label values are
 * escaped, and the journal's families appear only with a journal.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"
#include "render.h"

struct fixture {
	struct tracker_stats stats;
	struct fs_counters counters;
	struct lin_metrics metrics;
	struct fs_thread_cpu cpu[2];
	struct fs_metrics_input in;
	GString *out;
};

static int setup(void **state)
{
	struct fixture *f = g_new0(struct fixture, 1);

	f->stats.events_fork = 10;
	f->stats.events_exec = 7;
	f->stats.events_exit = 9;
	f->stats.events_lost = 3;
	f->stats.overflows = 1;
	f->stats.rescans = 2;
	f->stats.cmdline_missed = 4;
	f->stats.processes_live = 5;
	f->stats.processes_exited = 6;
	f->stats.record_bytes = 1000;
	f->stats.string_bytes = 200;
	f->stats.started_monotonic_ns = 5 * G_GUINT64_CONSTANT(1000000000);
	f->counters.notify_sent = 11;
	f->counters.notify_queued = 9;
	f->counters.notify_done = 7;
	f->metrics.enabled = TRUE;
	f->metrics.backlog_depth = 2;
	f->metrics.backlog_high_water = 40;
	f->metrics.backlog_capacity = 512;
	f->cpu[0] = (struct fs_thread_cpu){"events", 150, 25};
	f->cpu[1] = (struct fs_thread_cpu){"fu\"se\\", 1, 0};
	f->in = (struct fs_metrics_input){
	    .stats = &f->stats,
	    .counters = &f->counters,
	    .metrics = &f->metrics,
	    .cpu = f->cpu,
	    .cpu_count = G_N_ELEMENTS(f->cpu),
	    .hz = 100,
	    .rss_bytes = 4096000,
	    .now_monotonic_ns = 7500 * G_GUINT64_CONSTANT(1000000),
	    .started_realtime_ns = G_GUINT64_CONSTANT(1795358000250000000),
	    .version = "1.2.3",
	    .features = "man-page",
	};
	f->out = g_string_new(NULL);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	g_string_free(f->out, TRUE);
	g_free(f);
	return 0;
}

static void assert_line(const GString *out, const char *line)
{
	g_autofree char *needle = g_strdup_printf("\n%s\n", line);

	if (!strstr(out->str, needle))
		fail_msg("no line \"%s\" in:\n%s", line, out->str);
}

static void test_histogram_buckets(void **state)
{
	struct fixture *f = *state;

	/* On a bound counts in that bucket; above the last, only in +Inf. */
	lin_histogram_observe(&f->metrics.event_delay, 1000);
	lin_histogram_observe(&f->metrics.event_delay, 1001);
	lin_histogram_observe(&f->metrics.event_delay, 2400);
	lin_histogram_observe(&f->metrics.event_delay, 7 * G_GUINT64_CONSTANT(1000000));
	lin_histogram_observe(&f->metrics.event_delay, 20 * G_GUINT64_CONSTANT(1000000000));
	fs_render_metrics(f->out, &f->in);

	assert_line(f->out, "# TYPE lineagefs_event_delay_seconds histogram");
	assert_line(f->out, "lineagefs_event_delay_seconds_bucket{le=\"0.000001\"} 1");
	assert_line(f->out, "lineagefs_event_delay_seconds_bucket{le=\"0.0000025\"} 3");
	assert_line(f->out, "lineagefs_event_delay_seconds_bucket{le=\"0.005\"} 3");
	assert_line(f->out, "lineagefs_event_delay_seconds_bucket{le=\"0.01\"} 4");
	assert_line(f->out, "lineagefs_event_delay_seconds_bucket{le=\"10\"} 4");
	assert_line(f->out, "lineagefs_event_delay_seconds_bucket{le=\"+Inf\"} 5");
	assert_line(f->out, "lineagefs_event_delay_seconds_count 5");
	/* 1000 + 1001 + 2400 + 7e6 + 2e10 ns, exactly. */
	assert_line(f->out, "lineagefs_event_delay_seconds_sum 20.007004401");
	/* The others are empty but present. */
	assert_line(f->out, "lineagefs_exec_proc_read_seconds_count 0");
	assert_line(f->out, "lineagefs_exec_proc_read_seconds_sum 0");
}

static void test_counters_and_gauges(void **state)
{
	struct fixture *f = *state;

	fs_render_metrics(f->out, &f->in);
	assert_line(f->out, "# TYPE lineagefs_events_total counter");
	assert_line(f->out, "lineagefs_events_total{type=\"fork\"} 10");
	assert_line(f->out, "lineagefs_events_total{type=\"exec\"} 7");
	assert_line(f->out, "lineagefs_events_total{type=\"exit\"} 9");
	assert_line(f->out, "lineagefs_events_lost_total 3");
	assert_line(f->out, "lineagefs_event_overflows_total 1");
	assert_line(f->out, "lineagefs_rescans_total 2");
	assert_line(f->out, "lineagefs_cmdlines_missed_total 4");
	assert_line(f->out, "lineagefs_event_backlog_events 2");
	assert_line(f->out, "lineagefs_event_backlog_high_water_events 40");
	assert_line(f->out, "lineagefs_event_backlog_capacity_events 512");
	assert_line(f->out, "lineagefs_records{state=\"running\"} 5");
	assert_line(f->out, "lineagefs_records{state=\"exited\"} 6");
	assert_line(f->out, "lineagefs_table_bytes{kind=\"records\"} 1000");
	assert_line(f->out, "lineagefs_table_bytes{kind=\"strings\"} 200");
	assert_line(f->out, "lineagefs_cache_invalidations_total{result=\"applied\"} 11");
	assert_line(f->out, "lineagefs_cache_queue_changes 2");
	assert_line(f->out, "lineagefs_resident_memory_bytes 4096000");
	assert_line(f->out, "lineagefs_uptime_seconds 2.5");
	assert_line(f->out, "lineagefs_start_time_seconds 1795358000.25");
	assert_line(f->out, "lineagefs_metrics_recording 1");
	/* 150 and 25 ticks at 100 Hz; a label value with a quote and a
	 * backslash, escaped. */
	assert_line(f->out,
	            "lineagefs_thread_cpu_seconds_total{thread=\"events\",mode=\"user\"} 1.5");
	assert_line(f->out,
	            "lineagefs_thread_cpu_seconds_total{thread=\"events\",mode=\"system\"} 0.25");
	assert_line(
	    f->out,
	    "lineagefs_thread_cpu_seconds_total{thread=\"fu\\\"se\\\\\",mode=\"user\"} 0.01");
	assert_true(g_str_has_prefix(f->out->str, "# HELP lineagefs_build_info "));
	assert_line(f->out, "lineagefs_build_info{version=\"1.2.3\",features=\"man-page\"} 1");
}

static void test_fuse_ops_labelled(void **state)
{
	struct fixture *f = *state;

	lin_histogram_observe(&f->metrics.fuse[LIN_FUSE_OP_LOOKUP], 30000);
	lin_histogram_observe(&f->metrics.fuse[LIN_FUSE_OP_REFUSED], 3000);
	fs_render_metrics(f->out, &f->in);
	assert_line(f->out, "lineagefs_fuse_request_duration_seconds_bucket{op=\"lookup\",le="
	                    "\"0.000025\"} 0");
	assert_line(f->out, "lineagefs_fuse_request_duration_seconds_bucket{op=\"lookup\",le="
	                    "\"0.00005\"} 1");
	assert_line(f->out, "lineagefs_fuse_request_duration_seconds_count{op=\"lookup\"} 1");
	assert_line(f->out, "lineagefs_fuse_request_duration_seconds_sum{op=\"lookup\"} 0.00003");
	assert_line(f->out, "lineagefs_fuse_request_duration_seconds_count{op=\"refused\"} 1");
	assert_line(f->out, "lineagefs_fuse_request_duration_seconds_count{op=\"read\"} 0");
}

/* Each family's HELP and TYPE once, before its samples; every sample line
 * belongs to the family last declared. */
static void test_every_family_declared_once(void **state)
{
	struct fixture *f = *state;
	g_auto(GStrv) lines = NULL;
	g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
	g_autofree char *family = NULL;
	gsize samples = 0;
	struct lin_journal_stats journal = {.lines = 3};

	f->in.journal = &journal;
	fs_render_metrics(f->out, &f->in);
	lines = g_strsplit(f->out->str, "\n", -1);
	for (gsize i = 0; lines[i] && lines[i][0]; i++) {
		if (g_str_has_prefix(lines[i], "# HELP ")) {
			g_auto(GStrv) words = g_strsplit(lines[i], " ", 4);
			g_autofree char *type_prefix = NULL;

			assert_non_null(words[2]);
			assert_non_null(words[3]);
			assert_false(g_hash_table_contains(seen, words[2]));
			g_hash_table_add(seen, g_strdup(words[2]));
			g_free(family);
			family = g_strdup(words[2]);
			assert_true(g_str_has_prefix(family, "lineagefs_"));
			type_prefix = g_strdup_printf("# TYPE %s ", family);
			assert_non_null(lines[i + 1]);
			assert_true(g_str_has_prefix(lines[i + 1], type_prefix));
			i++;
			continue;
		}
		assert_non_null(family);
		assert_true(g_str_has_prefix(lines[i], family));
		samples++;
	}
	assert_true(g_hash_table_contains(seen, "lineagefs_journal_sync_seconds"));
	assert_true(g_hash_table_contains(seen, "lineagefs_journal_lines_lost_total"));
	assert_true(samples > 100);
}

/* The journal's families show the writer's own counters, the ones the stats
 * file shows too. */
static void test_journal_counters(void **state)
{
	struct fixture *f = *state;
	struct lin_journal_stats journal = {
	    .lines = 1200,
	    .lines_lost = 7,
	    .write_errors = 2,
	    .bytes = 654321,
	    .segments = 4,
	    .syncs = 9,
	    .queue_depth = 5,
	    .queue_high_water = 4096,
	};

	lin_histogram_observe(&f->metrics.journal_write, 40000);
	lin_histogram_observe(&f->metrics.journal_sync, 3000000);
	lin_histogram_observe(&f->metrics.journal_sync, 7000000);
	f->in.journal = &journal;
	fs_render_metrics(f->out, &f->in);
	assert_line(f->out, "lineagefs_journal_queue_lines 5");
	assert_line(f->out, "lineagefs_journal_queue_high_water_lines 4096");
	assert_line(f->out, "lineagefs_journal_lines_total 1200");
	assert_line(f->out, "lineagefs_journal_written_bytes_total 654321");
	assert_line(f->out, "lineagefs_journal_lines_lost_total 7");
	assert_line(f->out, "lineagefs_journal_write_errors_total 2");
	assert_line(f->out, "lineagefs_journal_syncs_total 9");
	assert_line(f->out, "lineagefs_journal_segments 4");
	assert_line(f->out, "lineagefs_journal_write_seconds_count 1");
	assert_line(f->out, "lineagefs_journal_sync_seconds_count 2");
	assert_line(f->out, "lineagefs_journal_sync_seconds_sum 0.01");
}

static void test_no_journal_no_journal_families(void **state)
{
	struct fixture *f = *state;

	fs_render_metrics(f->out, &f->in);
	assert_null(strstr(f->out->str, "lineagefs_journal_"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_histogram_buckets, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_counters_and_gauges, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_fuse_ops_labelled, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_every_family_declared_once, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_journal_counters, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_no_journal_no_journal_families, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
