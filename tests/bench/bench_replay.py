#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Restore and replay speed, and "every process that ever ran X".

Writes a synthetic journal of BENCH_REPLAY_PROCESSES short-lived processes
(make_journal.py: fork, exec, exit each, in two lines as the writer folds a
fork into its exec; default 1,000,000), then:

- mounts it with --replay --max-exited=0 and times the mount from exec to
  a listed root: events and lines per second and seconds to mount, the
  daemon's RSS; the restore at start-up reads through the same reader;
- "every process that ever ran /usr/bin/curl", four ways, each warm and
  repeated: find over the mount (-lname on exe links), a listing of the
  mount's by-exe/usr/bin/curl/ index, grep -c over the
  journal's JSON, jq over the journal (the entity ids, unique);
  each prints its time and its count (which must agree).

Prints figures, asserts no timing. Needs root and /dev/fuse (exit 77).
"""

import os
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import benchlib  # noqa: E402

PROCESSES = int(os.environ.get("BENCH_REPLAY_PROCESSES", "1000000"))
REPS = int(os.environ.get("BENCH_REPLAY_REPS", "3"))


def timed(argv, **kwargs):
    start = time.monotonic()
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       **kwargs)
    return time.monotonic() - start, r


def best_of(reps, argv, **kwargs):
    times, out = [], None
    for _ in range(reps):
        seconds, r = timed(argv, **kwargs)
        times.append(seconds)
        out = r
    return min(times), out


def main():
    benchlib.require_mount_env()
    benchlib.install_cleanup()
    data = benchlib.tempdir()
    journal = os.path.join(data, "journal")
    seconds, r = timed([sys.executable, os.path.join(benchlib.HERE, "make_journal.py"),
                        journal, str(PROCESSES)])
    if r.returncode != 0:
        raise SystemExit("make_journal.py failed: " + r.stderr)
    made = dict(line.split() for line in r.stdout.splitlines())
    lines, size, events = int(made["lines"]), int(made["bytes"]), int(made["events"])
    benchlib.header("replay: %d processes, %d lines, %.1f MB in %s segments (written in %.1f s)"
                    % (PROCESSES, lines, size / 1e6, made["segments"], seconds))

    # Cold-ish and warm: the page cache holds the journal after the first.
    for attempt in ("first", "second"):
        daemon = benchlib.Daemon("--replay=" + journal, "--max-exited=0")
        start = time.monotonic()
        daemon.start(timeout=1800)
        mounted = time.monotonic() - start
        stats = daemon.stats()
        benchlib.row("mount --replay (%s run): seconds" % attempt, "%.2f" % mounted)
        benchlib.row("  events per second (lines per second)", "%.0f (%.0f)" % (
            events / mounted, lines / mounted))
        benchlib.row("  daemon CPU seconds (user+sys)", "%.2f" % (
            daemon.cpu_ticks() / benchlib.CLK_TCK))
        benchlib.row("  processes in the mount", stats.get("processes_exited", 0)
                     + stats.get("processes_live", 0))
        benchlib.row("  daemon RSS (kB)", daemon.rss_kb())
        if attempt == "second":
            break
        daemon.stop()

    curl = "/usr/bin/curl"
    expected = (PROCESSES + 49) // 50
    t_find, r = best_of(REPS, ["find", daemon.mountpoint, "-maxdepth", "2", "-name", "exe",
                               "-lname", curl])
    found = len(r.stdout.split())
    benchlib.row("every process that ran curl: find on the mount (s, found)",
                 "%.3f" % t_find, found)
    by_exe = os.path.join(daemon.mountpoint, "by-exe", "usr", "bin", "curl")
    t_index = None
    if os.path.isdir(os.path.dirname(by_exe)):
        t_index, r = best_of(REPS, ["sh", "-c", 'ls "$1" | wc -l', "sh", by_exe])
        benchlib.row("  ls by-exe/usr/bin/curl on the mount (s, found)", "%.3f" % t_index,
                     r.stdout.strip())
    segments = sorted(os.path.join(journal, n) for n in os.listdir(journal))
    t_grep, r = best_of(REPS, ["sh", "-c", 'cat "$@" | grep -c \'"action":"exec".*"executable":"%s"\''
                               % curl, "sh"] + segments)
    benchlib.row("  grep -c over the journal (s, found)", "%.3f" % t_grep, r.stdout.strip())
    if shutil.which("jq"):
        t_jq, r = best_of(1, ["sh", "-c",
                              'cat "$@" | jq -r \'select(.process.executable == "%s") | '
                              '.process.entity_id\' | sort -u | wc -l' % curl, "sh"] + segments)
        benchlib.row("  jq over the journal (s, found)", "%.3f" % t_jq, r.stdout.strip())
    benchlib.row("  expected", expected)
    t_mount = t_index if t_index else t_find
    benchlib.row("  mount (%s) vs grep, vs jq (x faster)" % ("by-exe" if t_index else "find"),
                 "%.1f" % (t_grep / t_mount),
                 "%.1f" % (t_jq / t_mount) if shutil.which("jq") else "-")
    daemon.stop()


if __name__ == "__main__":
    main()
