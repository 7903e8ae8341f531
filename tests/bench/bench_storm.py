#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Fork-storm benchmark (issue 3): lineagefs and forkstat side by side.

Mounts lineagefs (default options but --max-exited=200000, so nothing is
forgotten) and starts `forkstat -e exec,exit` at the same time, then runs
20,000 /bin/true (BENCH_STORM_PROCESSES), 4 at a time (BENCH_STORM_INFLIGHT),
at the machine's full rate through bench_spawn, which records each child's
pid and start ticks while it is a zombie. When the daemon has counted the
exits, every child's directory <pid>-<start> is checked: present, cmdline
exactly "/bin/true\\0", exe ending in /true, status "ExitCode: exited 0".
Prints the figures in two columns, lineagefs | forkstat; asserts nothing.

A second lineagefs with --journal (issue 7) runs through the same storm at
the same time, on its own mount: the same events, the same load. Its CPU
time per 1,000 processes is printed next to the first one's, with the
journal bytes written per storm process (journal_bytes over the storm
window, divided by the processes), lines lost, and its own directory check.
BENCH_STORM_JOURNAL=0 leaves it out.
Needs root and /dev/fuse (exit 77 otherwise).

Where the CPU goes: CPU time, wakeups and (BENCH_STORM_SYSCALLS=1, with
perf) system calls per storm process, for the daemon's threads and for
forkstat. With BENCH_STORM_BESIDE=/path/to/another/lineagefs, that binary
runs on its own mount through the same storm at the same time (no
journal), and the same figures are printed for it: the second of two
real-time event threads woken by one event pays a little more, so run it
twice with the binaries swapped (LINEAGEFS_BIN).

With BENCH_STORM_HUGE=BYTES, a /bin/true with that many bytes of arguments
is exec'd in the middle of the storm (the second half starts at once, so
the daemon reads the huge command line while the storm runs): its
directory is checked, and the /bin/true around it are counted apart.

    sudo python3 tests/bench/bench_storm.py
    sudo BENCH_STORM_PROCESSES=5000 BENCH_STORM_INFLIGHT=1 python3 tests/bench/bench_storm.py
    sudo BENCH_STORM_HUGE=2000000 python3 tests/bench/bench_storm.py
"""

import json
import os
import re
import shutil
import signal
import subprocess
import time

import benchlib as bl

PROCESSES = int(os.environ.get("BENCH_STORM_PROCESSES", "20000"))
INFLIGHT = int(os.environ.get("BENCH_STORM_INFLIGHT", "4"))
HUGE = int(os.environ.get("BENCH_STORM_HUGE", "0"))
# Storm processes after the huge exec counted apart.
AFTER_HUGE = 50
JOURNAL = os.environ.get("BENCH_STORM_JOURNAL", "1") != "0"
# perf stat counts the daemon's and forkstat's system calls (a little
# overhead on both, so off by default).
SYSCALLS = os.environ.get("BENCH_STORM_SYSCALLS", "0") == "1"
# Another lineagefs binary (an older build) on the same storm, at the same
# time: before and after under the very same events and load.
BESIDE = os.environ.get("BENCH_STORM_BESIDE", "")
FORKSTAT_LINE = re.compile(r"^\d\d:\d\d:\d\d\s+(exec|exit)\s+(\d+)\s?(.*)$")
# forkstat shows the cmdline when it could read it ("/bin/true "), else the
# comm ("true"), else a placeholder.
NAMES_TRUE = re.compile(r"(^|[\s/\[])true(\s|\]|$)")


def pct(part, whole):
    return "%d / %d (%.2f%%)" % (part, whole, 100.0 * part / whole if whole else 0.0)


def read_records(path):
    records = []
    with open(path) as f:
        for line in f:
            words = line.split()
            if words:
                records.append((int(words[0]), int(words[1]) if len(words) > 1 else 0))
    return records


def journal_lines_of(journal_dir, records):
    """Event lines (not checkpoints) and their bytes that name a storm
    process, read back from the segments: the other processes of a shared
    machine are left out of the per-process figure."""
    storm = set(records)
    lines = size = 0
    for name in sorted(os.listdir(journal_dir)):
        with open(os.path.join(journal_dir, name), "rb") as f:
            for raw in f:
                line = json.loads(raw)
                process = line.get("process")
                if not process or line["event"]["action"] in ("checkpoint", "found"):
                    continue
                if (process["pid"], line["lineagefs"]["start_ticks"]) in storm:
                    lines += 1
                    size += len(raw)
    return lines, size


def huge_argv(total):
    """/bin/true and total bytes of arguments, at most 100 KB each (the
    kernel allows 128 KiB per argument), the last one a marker."""
    argv, size, i = ["/bin/true"], len("/bin/true") + 1, 0
    while size < total - 100:
        arg = chr(ord("a") + i % 26) * min(100000, total - 100 - size)
        argv.append(arg)
        size += len(arg) + 1
        i += 1
    argv.append("END-OF-HUGE")
    return argv


def check_huge(daemon, pid, start):
    """What lineagefs shows for the huge exec, next to /proc's length."""
    name = "%d-%d" % (pid, start)
    try:
        status = dict(line.split(":\t", 1) for line in
                      bl.read_text(daemon.path(name, "status")).splitlines() if ":\t" in line)
        with open(daemon.path(name, "cmdline"), "rb") as f:
            data = f.read()
    except OSError as exc:
        return "%s: %s" % (name, exc)
    return "%s: Cmdline %s, %d bytes kept, CmdlineLength %s, ends with marker %s" % (
        name, status.get("Cmdline"), len(data), status.get("CmdlineLength"),
        data.endswith(b"END-OF-HUGE\0"))


def check_directories(daemon, records, since_ticks):
    """Counts what lineagefs shows for each spawned child."""
    by_pid = {}
    for name in os.listdir(daemon.mountpoint):
        pid, dash, start = name.partition("-")
        if dash and pid.isdigit() and start.isdigit():
            by_pid.setdefault(int(pid), []).append(int(start))
    counts = dict(present=0, cmdline=0, exe=0, exited0=0, exit_seen=0, exec_seen=0,
                  cmdline_missed_status=0, fallback_names=0)
    missing, incomplete = [], []
    for pid, start in records:
        if start == 0:
            # The spawner could not read the zombie's stat: take the newest
            # directory of that pid that started during the storm.
            starts = [s for s in by_pid.get(pid, []) if s >= since_ticks]
            if not starts:
                missing.append("%d-?" % pid)
                continue
            start = max(starts)
            counts["fallback_names"] += 1
        elif start not in by_pid.get(pid, []):
            missing.append("%d-%d" % (pid, start))
            continue
        name = "%d-%d" % (pid, start)
        counts["present"] += 1
        try:
            with open(daemon.path(name, "cmdline"), "rb") as f:
                if f.read() == b"/bin/true\0":
                    counts["cmdline"] += 1
        except OSError:
            pass
        exe_ok = False
        try:
            exe_ok = os.readlink(daemon.path(name, "exe")).endswith("/true")
        except OSError:
            pass
        counts["exe"] += exe_ok
        try:
            status = dict(line.split(":\t", 1) for line in
                          bl.read_text(daemon.path(name, "status")).splitlines()
                          if ":\t" in line)
        except OSError:
            status = {}
        missed = status.get("Cmdline") == "missed"
        counts["cmdline_missed_status"] += missed
        counts["exec_seen"] += exe_ok or missed
        exit_code = status.get("ExitCode", "")
        counts["exited0"] += exit_code == "exited 0"
        counts["exit_seen"] += exit_code not in ("", "unknown")
        if not exe_ok or exit_code != "exited 0":
            incomplete.append("%s (Exe %s, Cmdline %s, Execs %s, ExitCode %s)" % (
                name, status.get("Exe", "?"), status.get("Cmdline", "?"),
                status.get("Execs", "?"), exit_code or "?"))
    return counts, missing, incomplete


def parse_forkstat(path, pids):
    """Storm pids forkstat reported, per kind of line. A pid counts once:
    with pid_max 32768 another process may reuse a storm pid meanwhile."""
    seen = dict(exec=set(), exit=set(), exec_true=set(), exec_full=set(), exit0=set())
    try:
        f = open(path, "r", errors="replace")
    except OSError:
        return {key: 0 for key in seen}
    with f:
        for line in f:
            m = FORKSTAT_LINE.match(line)
            if not m:
                continue
            event, pid, rest = m.group(1), int(m.group(2)), m.group(3)
            if pid not in pids:
                continue
            seen[event].add(pid)
            if event == "exec":
                name = rest.strip()
                if NAMES_TRUE.search(name):
                    seen["exec_true"].add(pid)
                if name == "/bin/true":
                    seen["exec_full"].add(pid)
            elif rest.split()[:1] == ["0"]:
                seen["exit0"].add(pid)
    return {key: len(value) for key, value in seen.items()}


DELAY_LIMITS = ("0.0001", "0.00025", "0.0005", "0.001")


def exec_delays(daemon):
    """The daemon's exec_read_delay histogram, cumulative: {le: count}."""
    out = {}
    pattern = re.compile(r'^lineagefs_exec_read_delay_seconds_bucket\{le="([^"]+)"\} (\d+)$')
    for line in bl.read_text(daemon.path("metrics")).splitlines():
        m = pattern.match(line)
        if m:
            out[m.group(1)] = int(m.group(2))
    return out


def delay_tail(before, after):
    """How many EXECs of the window were read later than each limit."""
    total = after.get("+Inf", 0) - before.get("+Inf", 0)
    cells = []
    for le in DELAY_LIMITS:
        within = after.get(le, 0) - before.get(le, 0)
        cells.append("%d" % (total - within))
    return "%s of %d" % (" / ".join(cells), total)


def print_threads(threads, fk_threads, syscalls, n, label="per process, all threads"):
    """Where the CPU goes, per thread name: ms per 1,000 processes, wakeups
    (voluntary context switches) and, with BENCH_STORM_SYSCALLS=1, system
    calls per storm process. The counts do not depend on the machine's
    load as CPU time does; the storm window also holds the events of the
    machine's other processes (see "stats: events")."""
    per_k = 1000.0 / n if n else 0.0
    calls = syscalls[0]["raw_syscalls:sys_enter"] if syscalls and syscalls[0] else None
    fk_calls = syscalls[1]["raw_syscalls:sys_enter"] if len(syscalls) > 1 and syscalls[1] \
        else None

    def cells(row, calls_of):
        text = "%.1f ms, %.2f wakeups" % (row[0] / 1e6 * per_k, row[1] / n if n else 0)
        if calls_of is not None:
            text += ", %.2f syscalls" % (calls_of / n if n else 0)
        return text

    total = [sum(row[i] for row in threads.values()) for i in range(3)]
    bl.row(label + " (CPU/1,000)", "%s | forkstat %s" % (
        cells(total, sum(calls.values()) if calls is not None else None),
        cells([sum(row[i] for row in fk_threads.values()) for i in range(3)],
              sum(fk_calls.values()) if fk_calls is not None else None)
        if fk_threads is not None else "n/a"))
    for comm, row in sorted(threads.items(), key=lambda item: -item[1][0]):
        if row[0] == 0 and row[1] == 0:
            continue
        bl.row("  thread %s (x%d)" % (comm, row[3]),
               cells(row, calls.get(comm, 0) if calls is not None else None))


def main():
    bl.install_cleanup()
    bl.require_mount_env(["bench_spawn"])
    have_forkstat = shutil.which("forkstat") is not None
    bl.header("bench_storm: %d x /bin/true, %d in flight, lineagefs vs forkstat"
              % (PROCESSES, INFLIGHT),
              daemon="%s -f --max-exited=200000" % bl.lineagefs_bin(),
              forkstat="forkstat -e exec,exit" if have_forkstat
              else "not installed (apt-get install forkstat)")
    data = bl.tempdir()
    pidfile = os.path.join(data, "pids")
    forkstat_out = os.path.join(data, "forkstat.txt")

    daemon = bl.Daemon("--max-exited=200000").start()
    beside = bl.Daemon("--max-exited=200000", binary=BESIDE).start() if BESIDE else None
    journaled = None
    if JOURNAL:
        journal_dir = os.path.join(data, "journal")
        journaled = bl.Daemon("--max-exited=200000", "--journal=" + journal_dir).start()
        # Its first checkpoint is written before the storm window opens.
        bl.wait_for(lambda: journaled.stats().get("journal_checkpoints", 0) >= 1, 60,
                    what="the journal's first checkpoint")
    forkstat = None
    if have_forkstat:
        forkstat = bl.spawn(["forkstat", "-e", "exec,exit"],
                            stdout=open(forkstat_out, "wb"),
                            stderr=open(forkstat_out + ".err", "wb"))
        # forkstat prints nothing until its buffer fills: give it time to
        # subscribe (it has no ready signal), and check it is still there.
        time.sleep(1.0)
        if forkstat.poll() is not None:
            print("warning: forkstat exited early (%s): %s" % (
                forkstat.returncode, bl.read_text(forkstat_out + ".err")))
            forkstat = None

    counters = []
    if SYSCALLS:
        counters = [bl.SyscallCounter(daemon.pid).start(),
                    bl.SyscallCounter(forkstat.pid).start() if forkstat else None,
                    bl.SyscallCounter(beside.pid).start() if beside else None]
    b_threads0 = bl.thread_usage(beside.pid) if beside else {}
    b_stats0 = beside.stats() if beside else None
    threads0 = bl.thread_usage(daemon.pid)
    fk_threads0 = bl.thread_usage(forkstat.pid) if forkstat else {}
    stats0 = daemon.stats()
    delays0 = exec_delays(daemon)
    cpu0 = daemon.cpu_ticks()
    j_stats0 = journaled.stats() if journaled else None
    j_cpu0 = journaled.cpu_ticks() if journaled else 0
    fk_cpu0 = bl.proc_cpu_ticks(forkstat.pid) if forkstat else 0
    since_ticks = bl.uptime_ticks() - bl.CLK_TCK
    huge = None
    if HUGE:
        first = PROCESSES // 2
        summary = bl.run_spawner(["-n", str(first), "-j", str(INFLIGHT), "-S",
                                  "-p", pidfile + ".1"], timeout=max(900, first // 20))
        huge = subprocess.Popen(huge_argv(HUGE))
        rest = bl.run_spawner(["-n", str(PROCESSES - first), "-j", str(INFLIGHT), "-S",
                               "-p", pidfile + ".2"], timeout=max(900, PROCESSES // 20))
        os.waitid(os.P_PID, huge.pid, os.WEXITED | os.WNOWAIT)
        huge_name = (huge.pid, bl.proc_start_ticks(huge.pid))
        huge.wait()
        with open(pidfile, "w") as out:
            for part in (".1", ".2"):
                with open(pidfile + part) as f:
                    out.write(f.read())
        summary = dict(spawned=summary["spawned"] + rest["spawned"],
                       failed=summary["failed"] + rest["failed"],
                       seconds=summary["seconds"] + rest["seconds"],
                       rate=(summary["spawned"] + rest["spawned"])
                       / max(summary["seconds"] + rest["seconds"], 1e-9))
    else:
        summary = bl.run_spawner(["-n", str(PROCESSES), "-j", str(INFLIGHT), "-S",
                                  "-p", pidfile], timeout=max(900, PROCESSES // 20))
    # Bounded wait for the daemon to have applied every exit of the storm.
    bl.wait_for(lambda: daemon.stats()["events_exit"] - stats0["events_exit"]
                >= summary["spawned"], 60, what="the daemon to count the exits")
    if beside:
        bl.wait_for(lambda: beside.stats()["events_exit"] - b_stats0["events_exit"]
                    >= summary["spawned"], 60, what="the daemon beside to count the exits")
    if journaled:
        bl.wait_for(lambda: journaled.stats()["events_exit"] - j_stats0["events_exit"]
                    >= summary["spawned"], 60, what="the journaled daemon to count the exits")
        # Its queue written out (the journal thread lingers a little).
        bl.wait_for(lambda: journaled.stats()["journal_queue_depth"] == 0, 60,
                    what="the journal queue to drain")
    time.sleep(1.0)
    cpu1 = daemon.cpu_ticks()
    threads1 = bl.thread_usage(daemon.pid)
    fk_threads1 = bl.thread_usage(forkstat.pid) if forkstat else {}
    b_threads1 = bl.thread_usage(beside.pid) if beside else {}
    syscalls = [c.stop() if c else None for c in counters]
    stats1 = daemon.stats()
    delays1 = exec_delays(daemon)
    j_cpu1 = journaled.cpu_ticks() if journaled else 0
    j_stats1 = journaled.stats() if journaled else None
    fk_cpu1 = bl.proc_cpu_ticks(forkstat.pid) if forkstat else 0
    if forkstat:
        forkstat.send_signal(signal.SIGINT)
        try:
            forkstat.wait(10)
        except subprocess.TimeoutExpired:
            print("warning: forkstat ignored SIGINT; its output may be cut")
        bl.kill_tree(forkstat)

    records = read_records(pidfile)
    counts, missing, incomplete = check_directories(daemon, records, since_ticks)
    if huge:
        after = records[PROCESSES // 2:PROCESSES // 2 + AFTER_HUGE]
        after_counts, _, _ = check_directories(daemon, after, since_ticks)
    fk = parse_forkstat(forkstat_out, {pid for pid, _ in records}) if forkstat else None
    n = len(records)
    delta = {k: stats1.get(k, 0) - stats0.get(k, 0) for k in stats1
             if isinstance(stats1.get(k), int)}
    per_k = 1000.0 / n if n else 0.0

    print()
    bl.row("", "%-34s %s" % ("lineagefs", "forkstat"))
    bl.row("processes spawned (failed)", "%d (%d)" % (summary["spawned"], summary["failed"]))
    bl.row("storm wall time / rate", "%.2f s / %.0f processes/s"
           % (summary["seconds"], summary["rate"]))
    bl.row("storm pids: exec seen", "%-34s %s" % (pct(counts["exec_seen"], n),
                                                   pct(fk["exec"], n) if fk else "n/a"))
    bl.row("storm pids: exit seen", "%-34s %s" % (pct(counts["exit_seen"], n),
                                                   pct(fk["exit"], n) if fk else "n/a"))
    bl.row("directories present", pct(counts["present"], n))
    bl.row("cmdline == \"/bin/true\\0\" | name \"true\"",
           "%-34s %s" % (pct(counts["cmdline"], n), pct(fk["exec_true"], n) if fk else "n/a"))
    bl.row("  forkstat: full cmdline \"/bin/true\"", "%-34s %s"
           % ("", pct(fk["exec_full"], n) if fk else "n/a"))
    bl.row("exe -> .../true", pct(counts["exe"], n))
    bl.row("ExitCode: exited 0 | exit status 0",
           "%-34s %s" % (pct(counts["exited0"], n), pct(fk["exit0"], n) if fk else "n/a"))
    bl.row("status Cmdline: missed (storm pids)", counts["cmdline_missed_status"])
    bl.row("EXECs read later than 100 / 250 / 500 us / 1 ms (all)",
           delay_tail(delays0, delays1))
    bl.row("stats: overflows / events_lost / rescans / exits_missed", "%d / %d / %d / %d" % (
        delta.get("overflows", 0), delta.get("events_lost", 0), delta.get("rescans", 0),
        delta.get("exits_missed", 0)))
    bl.row("stats: cmdline_missed (all processes)", delta.get("cmdline_missed", 0))
    bl.row("stats: events fork / exec / exit (storm window)", "%d / %d / %d" % (
        delta.get("events_fork", 0), delta.get("events_exec", 0), delta.get("events_exit", 0)))
    bl.row("CPU time per 1,000 processes", "%-34s %s" % (
        "%.1f ms (%d ticks total)" % ((cpu1 - cpu0) * 1000.0 / bl.CLK_TCK * per_k, cpu1 - cpu0),
        "%.1f ms (%d ticks total)" % ((fk_cpu1 - fk_cpu0) * 1000.0 / bl.CLK_TCK * per_k,
                                      fk_cpu1 - fk_cpu0) if forkstat else "n/a"))
    print_threads(bl.thread_usage_delta(threads0, threads1),
                  bl.thread_usage_delta(fk_threads0, fk_threads1) if forkstat else None,
                  syscalls, n)
    if beside:
        b_counts, _, _ = check_directories(beside, records, since_ticks)
        print()
        bl.row("", "lineagefs beside: %s" % BESIDE)
        bl.row("cmdline == \"/bin/true\\0\" | exe -> .../true", "%s | %s" % (
            pct(b_counts["cmdline"], n), pct(b_counts["exe"], n)))
        bl.row("status Cmdline: missed (storm pids)", b_counts["cmdline_missed_status"])
        print_threads(bl.thread_usage_delta(b_threads0, b_threads1),
                      bl.thread_usage_delta(fk_threads0, fk_threads1) if forkstat else None,
                      [syscalls[2], syscalls[1]] if len(syscalls) > 2 else [], n,
                      label="beside: per process, all threads")
        bl.row("daemon beside: VmRSS after", "%d kB" % beside.rss_kb())
        beside.stop()
    bl.row("daemon VmRSS after", "%d kB" % daemon.rss_kb())
    if huge:
        bl.row("huge exec (%d bytes of arguments)" % HUGE, check_huge(daemon, *huge_name))
        bl.row("  the %d /bin/true after it: cmdline" % len(after),
               pct(after_counts["cmdline"], len(after)))
    if journaled:
        j_counts, j_missing, _ = check_directories(journaled, records, since_ticks)
        j_bytes = j_stats1["journal_bytes"] - j_stats0["journal_bytes"]
        j_lines = j_stats1["journal_lines"] - j_stats0["journal_lines"]
        cpu_plain = (cpu1 - cpu0) * 1000.0 / bl.CLK_TCK * per_k
        cpu_journal = (j_cpu1 - j_cpu0) * 1000.0 / bl.CLK_TCK * per_k
        print()
        bl.row("", "%-34s %s" % ("lineagefs --journal", "lineagefs (same storm)"))
        bl.row("CPU time per 1,000 processes", "%-34s %s" % (
            "%.1f ms (%d ticks total)" % (cpu_journal, j_cpu1 - j_cpu0),
            "%.1f ms: journal costs %+.1f%%" % (
                cpu_plain, 100.0 * (cpu_journal - cpu_plain) / cpu_plain if cpu_plain else 0)))
        bl.row("cmdline == \"/bin/true\\0\" | exited 0", "%s | %s" % (
            pct(j_counts["cmdline"], n), pct(j_counts["exited0"], n)))
        bl.row("journal lines / bytes (storm window)", "%d / %d" % (j_lines, j_bytes))
        bl.row("journal bytes per process (all lines / storm)", "%.0f B (%.0f B per line)" % (
            j_bytes * per_k / 1000.0, j_bytes / j_lines if j_lines else 0))
        own_lines, own_bytes = journal_lines_of(journal_dir, records)
        bl.row("journal bytes per storm process (its lines)", "%.0f B (%.2f lines, %.0f B each)" % (
            own_bytes / n if n else 0, own_lines / n if n else 0,
            own_bytes / own_lines if own_lines else 0))
        bl.row("journal lines lost / write errors", "%d / %d" % (
            j_stats1["journal_lines_lost"] - j_stats0["journal_lines_lost"],
            j_stats1["journal_write_errors"] - j_stats0["journal_write_errors"]))
        bl.row("journal daemon VmRSS after", "%d kB" % journaled.rss_kb())
        if j_missing:
            print("journal daemon: missing directories (first 10 of %d): %s" % (
                len(j_missing), " ".join(j_missing[:10])))
        journaled.stop()
    if counts["fallback_names"]:
        bl.row("children named by pid only (no zombie stat)", counts["fallback_names"])
    if missing:
        print("missing directories (first 10 of %d): %s" % (len(missing),
                                                           " ".join(missing[:10])))
    if incomplete:
        print("incomplete directories (first 10 of %d):" % len(incomplete))
        for line in incomplete[:10]:
            print("  " + line)
    daemon.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
