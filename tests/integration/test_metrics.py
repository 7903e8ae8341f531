# SPDX-License-Identifier: GPL-2.0-or-later
"""The metrics file: Prometheus text format, read with the parser of the
Debian package python3-prometheus-client, and values that move as the
daemon's work does.
"""

import math
import os
import subprocess

import pytest

from helpers import barrier, proc_name, stats, wait_for

try:
    from prometheus_client.parser import text_string_to_metric_families
except ImportError:  # pragma: no cover
    text_string_to_metric_families = None

STORM = 300


def families(mnt):
    if text_string_to_metric_families is None:
        pytest.skip("needs python3-prometheus-client (bash .ci/install-deps)")
    with open(os.path.join(mnt, "metrics")) as f:
        text = f.read()
    return {f.name: f for f in text_string_to_metric_families(text)}


def value(fams, family, sample=None, **labels):
    """One sample's value; sample defaults to the family's own name."""
    name = sample or family
    for s in fams[family].samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    raise KeyError("%s%r not in %s" % (name, labels, family))


def events_total(fams):
    return sum(s.value for s in fams["lineagefs_events"].samples)


def storm(mnt, n=STORM):
    subprocess.run(["/bin/sh", "-c", "i=0; while [ $i -lt %d ]; do /bin/true; i=$((i+1)); done" % n],
                   check=True, timeout=120)
    barrier(mnt)


def test_metrics_parse_with_help_type_and_units(mnt):
    fams = families(mnt)
    expected = {
        "lineagefs_events": "counter",
        "lineagefs_events_lost": "counter",
        "lineagefs_event_overflows": "counter",
        "lineagefs_rescans": "counter",
        "lineagefs_cmdlines_missed": "counter",
        "lineagefs_event_delay_seconds": "histogram",
        "lineagefs_event_visible_delay_seconds": "histogram",
        "lineagefs_exec_proc_read_seconds": "histogram",
        "lineagefs_exec_read_delay_seconds": "histogram",
        "lineagefs_event_backlog_events": "gauge",
        "lineagefs_event_backlog_high_water_events": "gauge",
        "lineagefs_fuse_request_duration_seconds": "histogram",
        "lineagefs_thread_cpu_seconds": "counter",
        "lineagefs_resident_memory_bytes": "gauge",
        "lineagefs_records": "gauge",
        "lineagefs_table_bytes": "gauge",
    }
    for name, kind in expected.items():
        assert name in fams, "no %s in metrics" % name
        assert fams[name].type == kind, (name, fams[name].type)
        assert fams[name].documentation, "%s has no HELP" % name
    for fam in fams.values():
        assert fam.name.startswith("lineagefs_")
    # Every histogram: cumulative buckets ending at +Inf, equal to _count.
    for fam in fams.values():
        if fam.type != "histogram":
            continue
        series = {}
        for s in fam.samples:
            key = tuple(sorted((k, v) for k, v in s.labels.items() if k != "le"))
            series.setdefault(key, {"buckets": [], "count": None})
            if s.name.endswith("_bucket"):
                series[key]["buckets"].append((float(s.labels["le"]), s.value))
            elif s.name.endswith("_count"):
                series[key]["count"] = s.value
        for key, h in series.items():
            bounds = [b for b, _ in h["buckets"]]
            counts = [c for _, c in h["buckets"]]
            assert bounds == sorted(bounds) and math.isinf(bounds[-1]), (fam.name, key)
            assert counts == sorted(counts), (fam.name, key, counts)
            assert counts[-1] == h["count"], (fam.name, key)


def test_storm_moves_counters_and_histograms(mnt):
    before = families(mnt)
    storm(mnt)
    after = families(mnt)
    for kind in ("fork", "exec", "exit"):
        grew = value(after, "lineagefs_events", "lineagefs_events_total", type=kind) - value(
            before, "lineagefs_events", "lineagefs_events_total", type=kind)
        assert grew >= STORM, (kind, grew)
    for hist in ("lineagefs_event_delay_seconds", "lineagefs_event_visible_delay_seconds"):
        grew = value(after, hist, hist + "_count") - value(before, hist, hist + "_count")
        assert grew >= 3 * STORM, (hist, grew)
    for hist in ("lineagefs_exec_proc_read_seconds", "lineagefs_exec_read_delay_seconds"):
        grew = value(after, hist, hist + "_count") - value(before, hist, hist + "_count")
        assert grew >= STORM, (hist, grew)
    assert value(after, "lineagefs_event_backlog_high_water_events") >= 1
    assert value(after, "lineagefs_thread_cpu_seconds", "lineagefs_thread_cpu_seconds_total",
                 thread="events", mode="system") + value(
        after, "lineagefs_thread_cpu_seconds", "lineagefs_thread_cpu_seconds_total",
        thread="events", mode="user") > 0
    assert value(after, "lineagefs_resident_memory_bytes") > 1 << 20
    threads = {s.labels["thread"] for s in after["lineagefs_thread_cpu_seconds"].samples}
    assert {"events", "stat_reader", "notifier", "main", "fuse"} <= threads


def test_histogram_counts_equal_the_events_counted(mnt):
    """Each event applied is one observation of received -> visible, and
    each exec one /proc read: the counts match the event counters (read
    until no event lands between the two, on a machine that never rests)."""
    storm(mnt, 50)

    def consistent():
        fams = families(mnt)
        visible = value(fams, "lineagefs_event_visible_delay_seconds",
                        "lineagefs_event_visible_delay_seconds_count")
        execs = value(fams, "lineagefs_events", "lineagefs_events_total", type="exec")
        reads = value(fams, "lineagefs_exec_proc_read_seconds",
                      "lineagefs_exec_proc_read_seconds_count")
        received = value(fams, "lineagefs_event_delay_seconds",
                         "lineagefs_event_delay_seconds_count")
        backlog = value(fams, "lineagefs_event_backlog_events")
        return (visible == events_total(fams) and reads >= execs and
                received == visible + backlog) and (visible, execs, reads)

    visible, execs, reads = wait_for(consistent, what="histogram counts to match the counters")
    assert visible > 0 and execs > 0
    # An exec read on arrival is counted at once, its event when applied.
    assert reads - execs <= 512


def test_fuse_requests_counted_by_operation(mnt):
    def lookups():
        return value(families(mnt), "lineagefs_fuse_request_duration_seconds",
                     "lineagefs_fuse_request_duration_seconds_count", op="lookup")

    before = lookups()
    for i in range(20):
        # Names that are never cached as absent: one LOOKUP each.
        assert not os.path.exists(os.path.join(mnt, "99999999-%d" % i))
    # Each request is counted after its reply: the last one may be a
    # moment behind the answer the test already has.
    wait_for(lambda: lookups() - before >= 20, what="20 lookups counted")

    def statfs():
        return value(families(mnt), "lineagefs_fuse_request_duration_seconds",
                     "lineagefs_fuse_request_duration_seconds_count", op="statfs")

    before = statfs()
    for _ in range(5):
        os.statvfs(mnt)
    wait_for(lambda: statfs() - before >= 5, what="5 statfs counted")
    # (A write never reaches the daemon: the mount is read-only, and the
    # kernel answers EROFS itself.)


def test_records_by_state(mnt):
    fams = families(mnt)
    running = value(fams, "lineagefs_records", state="running")
    assert running >= 10
    assert proc_name(os.getpid()) in os.listdir(mnt)
    assert "metrics" in os.listdir(mnt)


def test_metrics_off_keeps_counters_records_nothing_else(start_daemon):
    d = start_daemon(["--metrics=off"])
    storm(d.mnt, 50)
    fams = families(d.mnt)
    assert value(fams, "lineagefs_metrics_recording") == 0
    assert value(fams, "lineagefs_events", "lineagefs_events_total", type="exec") >= 50
    for hist in ("lineagefs_event_delay_seconds", "lineagefs_event_visible_delay_seconds",
                 "lineagefs_exec_proc_read_seconds"):
        assert value(fams, hist, hist + "_count") == 0
    assert value(fams, "lineagefs_event_backlog_high_water_events") == 0
    d2 = start_daemon(["-o", "metrics=on"])
    assert value(families(d2.mnt), "lineagefs_metrics_recording") == 1


def test_journal_metrics_follow_the_writer(start_daemon, tmp_path):
    """With a journal, the metrics show the writer's own counters (the ones
    stats shows) and time every write and sync it does."""
    journal = str(tmp_path / "journal")
    d = start_daemon(["--journal=" + journal, "--journal-sync=20"])
    storm(d.mnt, 100)

    def written():
        fams = families(d.mnt)
        return (value(fams, "lineagefs_journal_queue_lines") == 0 and
                value(fams, "lineagefs_journal_sync_seconds",
                      "lineagefs_journal_sync_seconds_count") > 0)

    wait_for(written, what="the journal written and synced")
    before = stats(d.mnt)
    fams = families(d.mnt)
    after = stats(d.mnt)
    # The stats file and the metrics file read one set of counters: a value
    # between two reads of stats that did not move is that value.
    for family, key in (("lineagefs_journal_lines", "journal_lines"),
                        ("lineagefs_journal_written_bytes", "journal_bytes"),
                        ("lineagefs_journal_lines_lost", "journal_lines_lost"),
                        ("lineagefs_journal_syncs", "journal_syncs")):
        if int(before[key]) == int(after[key]):
            assert value(fams, family, family + "_total") == int(after[key]), family
    # At least one line per process (format 2 folds a fork into its exec).
    assert value(fams, "lineagefs_journal_lines", "lineagefs_journal_lines_total") >= 100
    assert value(fams, "lineagefs_journal_queue_high_water_lines") >= 1
    assert int(after["journal_queue_high_water"]) >= 1
    writes = value(fams, "lineagefs_journal_write_seconds", "lineagefs_journal_write_seconds_count")
    assert writes >= 1
    assert value(fams, "lineagefs_journal_write_seconds", "lineagefs_journal_write_seconds_sum") > 0
    # Every successful sync was timed (failed ones too: none here).
    assert value(fams, "lineagefs_journal_sync_seconds",
                 "lineagefs_journal_sync_seconds_count") >= int(before["journal_syncs"])
    assert int(after["journal_write_errors"]) == 0
    # Its CPU is the journal's, not the FUSE workers': the thread has the
    # name the per-thread CPU goes by.
    names = set()
    for tid in os.listdir("/proc/%d/task" % d.proc.pid):
        with open("/proc/%d/task/%s/comm" % (d.proc.pid, tid)) as f:
            names.add(f.read().strip())
    assert "lin-journal" in names, names


def test_no_journal_no_journal_metrics(mnt):
    fams = families(mnt)
    assert not [name for name in fams if name.startswith("lineagefs_journal_")]
