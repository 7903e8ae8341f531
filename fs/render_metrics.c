/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The metrics file: the daemon's health in the Prometheus text exposition
 * format (version 0.0.4), rendered from a snapshot of the tracker's
 * counters, the health instruments (metrics.h), the notifier's counters
 * and the daemon's own CPU and memory. A pure function of its input, like
 * the other renderers: unit tests feed it numbers by hand.
 *
 * Every family has its HELP and TYPE lines; names start with lineagefs_
 * and end with their unit (_seconds, _bytes, _events, _lines) or _total
 * for counters. Histograms are cumulative, with _count taken from the
 * buckets, so _count and the +Inf bucket always agree even when an
 * observation lands while the file is rendered.
 */
#include "render.h"

#include <stdio.h>
#include <string.h>

#define NS_PER_SEC G_GUINT64_CONSTANT(1000000000)

static const char *const fuse_op_names[LIN_FUSE_OP_COUNT] = {
    [LIN_FUSE_OP_LOOKUP] = "lookup",
    [LIN_FUSE_OP_FORGET] = "forget",
    [LIN_FUSE_OP_GETATTR] = "getattr",
    [LIN_FUSE_OP_READLINK] = "readlink",
    [LIN_FUSE_OP_OPEN] = "open",
    [LIN_FUSE_OP_READ] = "read",
    [LIN_FUSE_OP_RELEASE] = "release",
    [LIN_FUSE_OP_OPENDIR] = "opendir",
    [LIN_FUSE_OP_READDIR] = "readdir",
    [LIN_FUSE_OP_READDIRPLUS] = "readdirplus",
    [LIN_FUSE_OP_RELEASEDIR] = "releasedir",
    [LIN_FUSE_OP_STATFS] = "statfs",
    [LIN_FUSE_OP_XATTR] = "xattr",
    [LIN_FUSE_OP_REFUSED] = "refused",
};

/* ns as decimal seconds, exactly, without trailing zeros: "0.0000025". */
static void append_seconds(GString *out, guint64 ns)
{
	char frac[16];
	gsize len;

	g_string_append_printf(out, "%" G_GUINT64_FORMAT, ns / NS_PER_SEC);
	if (ns % NS_PER_SEC == 0)
		return;
	snprintf(frac, sizeof(frac), "%09u", (guint)(ns % NS_PER_SEC));
	len = strlen(frac);
	while (len > 0 && frac[len - 1] == '0')
		len--;
	g_string_append_c(out, '.');
	g_string_append_len(out, frac, (gssize)len);
}

/* Clock ticks as decimal seconds. */
static void append_ticks(GString *out, guint64 ticks, guint hz)
{
	if (hz == 0)
		hz = 100;
	append_seconds(out, ticks / hz * NS_PER_SEC + ticks % hz * NS_PER_SEC / hz);
}

/* A label value, escaped as the format wants: backslash, quote, newline. */
static void append_label_value(GString *out, const char *value)
{
	for (const char *c = value; *c; c++) {
		if (*c == '\\')
			g_string_append(out, "\\\\");
		else if (*c == '"')
			g_string_append(out, "\\\"");
		else if (*c == '\n')
			g_string_append(out, "\\n");
		else
			g_string_append_c(out, *c);
	}
}

static void family(GString *out, const char *name, const char *type, const char *help)
{
	g_string_append_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{label="value"} v, or name v when label is NULL. */
static void sample(GString *out, const char *name, const char *label, const char *value, guint64 v)
{
	g_string_append(out, name);
	if (label) {
		g_string_append_printf(out, "{%s=\"", label);
		append_label_value(out, value);
		g_string_append(out, "\"}");
	}
	g_string_append_printf(out, " %" G_GUINT64_FORMAT "\n", v);
}

static void single(GString *out, const char *name, const char *type, const char *help, guint64 v)
{
	family(out, name, type, help);
	sample(out, name, NULL, NULL, v);
}

/* A gauge in seconds. */
static void single_seconds(GString *out, const char *name, const char *help, guint64 ns)
{
	family(out, name, "gauge", help);
	g_string_append_printf(out, "%s ", name);
	append_seconds(out, ns);
	g_string_append_c(out, '\n');
}

/* One histogram's samples; label/value put on every line when given. */
static void histogram_samples(GString *out, const char *name, const char *label, const char *value,
                              const struct lin_histogram *live)
{
	struct lin_histogram h;
	g_autoptr(GString) labels = g_string_new(NULL);
	guint64 cumulative = 0;

	lin_histogram_snapshot(live, &h);
	if (label) {
		g_string_append_printf(labels, "%s=\"", label);
		append_label_value(labels, value);
		g_string_append(labels, "\",");
	}
	for (guint i = 0; i <= LIN_HISTOGRAM_BOUNDS; i++) {
		cumulative += h.bucket[i];
		g_string_append_printf(out, "%s_bucket{%sle=\"", name, labels->str);
		if (i < LIN_HISTOGRAM_BOUNDS)
			append_seconds(out, lin_histogram_bounds_ns[i]);
		else
			g_string_append(out, "+Inf");
		g_string_append_printf(out, "\"} %" G_GUINT64_FORMAT "\n", cumulative);
	}
	/* Drop the trailing comma for the plain samples. */
	if (labels->len > 0)
		g_string_truncate(labels, labels->len - 1);
	g_string_append_printf(out, "%s_sum%s%s%s ", name, labels->len ? "{" : "", labels->str,
	                       labels->len ? "}" : "");
	append_seconds(out, h.sum_ns);
	g_string_append_printf(out, "\n%s_count%s%s%s %" G_GUINT64_FORMAT "\n", name,
	                       labels->len ? "{" : "", labels->str, labels->len ? "}" : "",
	                       cumulative);
}

static void histogram(GString *out, const char *name, const char *help,
                      const struct lin_histogram *h)
{
	family(out, name, "histogram", help);
	histogram_samples(out, name, NULL, NULL, h);
}

static void render_events(GString *out, const struct tracker_stats *s)
{
	static const char *const name = "lineagefs_events_total";
	const struct {
		const char *type;
		guint64 value;
	} types[] = {
	    {"fork", s->events_fork},
	    {"thread_fork", s->events_thread_fork},
	    {"exec", s->events_exec},
	    {"exit", s->events_exit},
	    {"thread_exit", s->events_thread_exit},
	    {"comm", s->events_comm},
	    {"uid", s->events_uid},
	    {"gid", s->events_gid},
	    {"other", s->events_other},
	};

	family(out, name, "counter", "Process events received from the kernel, by type.");
	for (gsize i = 0; i < G_N_ELEMENTS(types); i++)
		sample(out, name, "type", types[i].type, types[i].value);
	single(out, "lineagefs_messages_malformed_total", "counter",
	       "Connector messages the parser rejected.", s->events_malformed);
	single(out, "lineagefs_events_lost_total", "counter",
	       "Events missing from the kernel's per-CPU numbering (each one repaired by a "
	       "rescan).",
	       s->events_lost);
	single(out, "lineagefs_event_overflows_total", "counter",
	       "Times the kernel reported dropping events (ENOBUFS): the receive buffer was "
	       "full.",
	       s->overflows);
	single(out, "lineagefs_rescans_total", "counter",
	       "Rescans of /proc that repaired the table after lost events.", s->rescans);
	single(out, "lineagefs_exits_missed_total", "counter",
	       "Processes found gone by a rescan or a pid reuse, their exit never reported.",
	       s->exits_missed);
	single(out, "lineagefs_exits_while_down_total", "counter",
	       "Processes a journal restored as running that were gone when the daemon started "
	       "again.",
	       s->exits_while_down);
	single(out, "lineagefs_cmdlines_missed_total", "counter",
	       "Execs whose command line was gone before it could be read.", s->cmdline_missed);
	single(out, "lineagefs_events_out_of_order_total", "counter",
	       "Exec or exit events that arrived before their process's fork.", s->out_of_order);
}

static void render_event_thread(GString *out, const struct lin_metrics *m)
{
	histogram(out, "lineagefs_event_delay_seconds",
	          "From the kernel's timestamp of an event to its receipt by the event thread.",
	          &m->event_delay);
	histogram(out, "lineagefs_event_visible_delay_seconds",
	          "From the receipt of an event to its application to the table, when a new "
	          "lookup in the mount shows it.",
	          &m->event_visible);
	histogram(out, "lineagefs_exec_read_delay_seconds",
	          "From the kernel's timestamp of an exec to the start of its /proc reads. A "
	          "short-lived process's command line is gone a few hundred microseconds after "
	          "its exec: a tail near that means missed command lines.",
	          &m->exec_delay);
	histogram(out, "lineagefs_exec_proc_read_seconds",
	          "Duration of the /proc reads (cmdline, exe, stat) made when an exec arrives.",
	          &m->exec_read);
	single(out, "lineagefs_event_backlog_events", "gauge",
	       "Events received and not yet applied to the table.",
	       lin_metrics_load(&m->backlog_depth));
	single(out, "lineagefs_event_backlog_high_water_events", "gauge",
	       "The most events ever waiting at once; at capacity, forks are finished with a "
	       "read that may block.",
	       lin_metrics_load(&m->backlog_high_water));
	single(out, "lineagefs_event_backlog_capacity_events", "gauge", "Events the backlog holds.",
	       lin_metrics_load(&m->backlog_capacity));
	single(out, "lineagefs_stat_reader_requests_total", "counter",
	       "Forks whose child's stat was read by the stat reader thread.",
	       lin_metrics_load(&m->stat_reader_asks));
}

static void render_journal(GString *out, const struct lin_journal_stats *j,
                           const struct lin_metrics *m)
{
	if (j == NULL)
		return;
	single(out, "lineagefs_journal_queue_lines", "gauge",
	       "Journal lines waiting to be written.", j->queue_depth);
	single(out, "lineagefs_journal_queue_high_water_lines", "gauge",
	       "The most journal lines ever waiting at once.", j->queue_high_water);
	single(out, "lineagefs_journal_lines_total", "counter", "Journal lines written.", j->lines);
	single(out, "lineagefs_journal_written_bytes_total", "counter",
	       "Journal bytes written by this daemon.", j->bytes);
	single(out, "lineagefs_journal_lines_lost_total", "counter",
	       "Journal lines dropped (queue full, disk full or failing).", j->lines_lost);
	single(out, "lineagefs_journal_write_errors_total", "counter",
	       "Failed journal write(), fdatasync() and open() calls.", j->write_errors);
	single(out, "lineagefs_journal_syncs_total", "counter",
	       "Journal fdatasync() calls that succeeded.", j->syncs);
	single(out, "lineagefs_journal_segments", "gauge",
	       "Journal segment files in the directory.", j->segments);
	histogram(out, "lineagefs_journal_write_seconds", "Duration of each journal write.",
	          &m->journal_write);
	histogram(out, "lineagefs_journal_sync_seconds", "Duration of each journal sync.",
	          &m->journal_sync);
}

static void render_fuse(GString *out, const struct lin_metrics *m)
{
	static const char *const name = "lineagefs_fuse_request_duration_seconds";

	family(out, name, "histogram",
	       "FUSE requests by operation, and the time from their arrival to the reply "
	       "(refused: every write-type operation).");
	for (guint op = 0; op < LIN_FUSE_OP_COUNT; op++)
		histogram_samples(out, name, "op", fuse_op_names[op], &m->fuse[op]);
}

static void render_usage(GString *out, const struct fs_metrics_input *in)
{
	static const char *const name = "lineagefs_thread_cpu_seconds_total";

	family(out, name, "counter",
	       "CPU time of the daemon's threads: events (lin-events), stat_reader (lin-stat), "
	       "notifier (lin-notify), journal, main, fuse (every FUSE worker, gone ones "
	       "included).");
	for (gsize i = 0; i < in->cpu_count; i++) {
		for (int mode = 0; mode < 2; mode++) {
			g_string_append_printf(out, "%s{thread=\"", name);
			append_label_value(out, in->cpu[i].thread);
			g_string_append_printf(out, "\",mode=\"%s\"} ", mode ? "system" : "user");
			append_ticks(out, mode ? in->cpu[i].system_ticks : in->cpu[i].user_ticks,
			             in->hz);
			g_string_append_c(out, '\n');
		}
	}
	single(out, "lineagefs_resident_memory_bytes", "gauge",
	       "The daemon's resident memory (RSS).", in->rss_bytes);
}

static void render_table(GString *out, const struct tracker_stats *s)
{
	family(out, "lineagefs_records", "gauge", "Process records in the table, by state.");
	sample(out, "lineagefs_records", "state", "running", s->processes_live);
	sample(out, "lineagefs_records", "state", "exited", s->processes_exited);
	single(out, "lineagefs_records_pinned", "gauge",
	       "Exited records kept because a descendant still runs.", s->processes_pinned);
	single(out, "lineagefs_records_forgotten_total", "counter",
	       "Exited records forgotten by the retention limit.", s->processes_forgotten);
	single(out, "lineagefs_threads", "gauge", "Threads known alive in tracked processes.",
	       s->threads_live);
	family(out, "lineagefs_table_bytes", "gauge",
	       "Memory of the process table, by kind: records (and their indexes), strings.");
	sample(out, "lineagefs_table_bytes", "kind", "records", s->record_bytes);
	sample(out, "lineagefs_table_bytes", "kind", "strings", s->string_bytes);
	single(out, "lineagefs_table_strings", "gauge", "Distinct interned strings.", s->strings);
}

static void render_cache(GString *out, const struct fs_counters *c)
{
	family(out, "lineagefs_cache_changes_total", "counter",
	       "Table changes: skipped (nothing a reader was given changed) or queued for the "
	       "notifier.");
	sample(out, "lineagefs_cache_changes_total", "outcome", "skipped", c->notify_skipped);
	sample(out, "lineagefs_cache_changes_total", "outcome", "queued", c->notify_queued);
	single(out, "lineagefs_cache_queue_changes", "gauge",
	       "Changes queued for the notifier and not yet turned into invalidations.",
	       c->notify_queued - MIN(c->notify_done, c->notify_queued));
	family(out, "lineagefs_cache_invalidations_total", "counter",
	       "Kernel cache invalidations sent, by result.");
	sample(out, "lineagefs_cache_invalidations_total", "result", "applied", c->notify_sent);
	sample(out, "lineagefs_cache_invalidations_total", "result", "uncached",
	       c->notify_uncached);
	sample(out, "lineagefs_cache_invalidations_total", "result", "failed", c->notify_failed);
}

void fs_render_metrics(GString *out, const struct fs_metrics_input *in)
{
	const struct tracker_stats *s = in->stats;
	guint64 uptime_ns = in->now_monotonic_ns > s->started_monotonic_ns
	                        ? in->now_monotonic_ns - s->started_monotonic_ns
	                        : 0;

	family(out, "lineagefs_build_info", "gauge",
	       "Always 1: the version and the optional features built in.");
	g_string_append(out, "lineagefs_build_info{version=\"");
	append_label_value(out, in->version);
	g_string_append(out, "\",features=\"");
	append_label_value(out, in->features);
	g_string_append(out, "\"} 1\n");
	single(out, "lineagefs_metrics_recording", "gauge",
	       "1 when latencies and FUSE timings are recorded (--metrics=on).",
	       in->metrics->enabled ? 1 : 0);
	single_seconds(out, "lineagefs_start_time_seconds",
	               "When the daemon started, in seconds since the epoch.",
	               in->started_realtime_ns);
	single_seconds(out, "lineagefs_uptime_seconds", "Seconds since the daemon started.",
	               uptime_ns);

	render_events(out, s);
	render_event_thread(out, in->metrics);
	render_journal(out, in->journal, in->metrics);
	render_fuse(out, in->metrics);
	render_usage(out, in);
	render_table(out, s);
	render_cache(out, in->counters);
}
