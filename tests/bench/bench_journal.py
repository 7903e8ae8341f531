#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What the journal costs the daemon (issue 7): CPU per 1,000 processes of
a fork storm with and without --journal, one daemon at a time.

Two daemons mounted at once compete for the same CPUs (both event threads
run SCHED_FIFO), so their figures measure the contest, not the journal.
Here each round mounts one daemon, runs a storm of BENCH_JOURNAL_PROCESSES
/bin/true (default 5,000; BENCH_JOURNAL_INFLIGHT in flight, default 4)
through bench_spawn, waits until the daemon has applied every exit and,
with a journal, until the journal queue is written out, then reads the
daemon's CPU time and unmounts. Rounds alternate (plain, journaled, plain,
... with the first swapped every round), BENCH_JOURNAL_ROUNDS pairs
(default 8). `forkstat -e exec,exit` (when installed and
BENCH_JOURNAL_FORKSTAT is not 0) watches each storm beside the daemon as a
peer: its CPU per 1,000 on the same storm shows how loaded the machine was
in that round, and the daemon/forkstat ratio is printed too.

CPU time is each thread's run time in nanoseconds
(/proc/PID/task/TID/schedstat), not utime + stime in clock ticks: a round
of 5,000 processes is a few hundred ticks, and a tick is too coarse for the
journal thread's share. A machine shared with other work makes single
rounds vary by 15% or more, more than the effect measured; so besides the
medians of each side the script prints:
- the median of the per-round ratios (each journaled daemon against the
  plain one of the same round, run back to back);
- the journal's own thread as a share of the journaled daemon's CPU, and
  lin-events' CPU on both sides: the journal's cost splits into these two,
  and the first is measured within one daemon, free of the rounds' spread;
- voluntary context switches per process of each thread (wakeups), which
  load does not inflate as it inflates CPU time;
- the same CPU figures per process the daemon saw exit (events_exit in
  stats): the daemon mirrors and journals every process of the machine,
  and on a machine busy with other work the storm's can be a fifth of
  them, in numbers that differ from round to round.

Prints, per round, the daemon's CPU per 1,000 processes and its split by
thread (lin-events, lin-stat, lin-journal, the rest), then the figures
above, journal lines and bytes per process the daemon saw exit (it journals
the whole machine, not only the storm). Asserts nothing. Needs root
and /dev/fuse (exit 77 otherwise).

    sudo python3 tests/bench/bench_journal.py
    sudo BENCH_JOURNAL_ROUNDS=12 BENCH_JOURNAL_PROCESSES=3000 python3 tests/bench/bench_journal.py
"""


import os
import shutil
import signal
import subprocess
import time

import benchlib as bl

PROCESSES = int(os.environ.get("BENCH_JOURNAL_PROCESSES", "5000"))
ROUNDS = int(os.environ.get("BENCH_JOURNAL_ROUNDS", "8"))
INFLIGHT = int(os.environ.get("BENCH_JOURNAL_INFLIGHT", "4"))
FORKSTAT = os.environ.get("BENCH_JOURNAL_FORKSTAT", "1") != "0"
THREADS = ("lin-events", "lin-stat", "lin-journal")


def status_number(path, key):
    for line in bl.read_text(path).splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def thread_usage(pid):
    """{thread name: [run ns, voluntary context switches]} of the daemon's
    live threads, the unnamed ones (FUSE workers, main) as "other"."""
    result = {}
    task_dir = "/proc/%d/task" % pid
    for tid in os.listdir(task_dir):
        try:
            name = bl.read_text("%s/%s/comm" % (task_dir, tid)).strip()
            run_ns = int(bl.read_text("%s/%s/schedstat" % (task_dir, tid)).split()[0])
            switches = status_number("%s/%s/status" % (task_dir, tid),
                                     "voluntary_ctxt_switches")
        except (OSError, ValueError, IndexError):
            continue
        key = name if name in THREADS else "other"
        usage = result.setdefault(key, [0, 0])
        usage[0] += run_ns
        usage[1] += switches
    return result


def start_forkstat(out_path):
    if not FORKSTAT or shutil.which("forkstat") is None:
        return None
    proc = bl.spawn(["forkstat", "-e", "exec,exit"], stdout=open(out_path, "wb"),
                    stderr=subprocess.DEVNULL)
    # forkstat has no ready signal: give it time to subscribe.
    time.sleep(1.0)
    if proc.poll() is not None:
        print("warning: forkstat exited early (%s)" % proc.returncode)
        return None
    return proc


def one_round(journaled, data, number):
    options = ["--max-exited=200000"]
    journal_dir = os.path.join(data, "journal-%d" % number)
    if journaled:
        options.append("--journal=" + journal_dir)
    daemon = bl.Daemon(*options).start()
    forkstat = None
    try:
        if journaled:
            # The first checkpoint is written before the storm window opens.
            bl.wait_for(lambda: daemon.stats().get("journal_checkpoints", 0) >= 1, 60,
                        what="the journal's first checkpoint")
        forkstat = start_forkstat(os.path.join(data, "forkstat-%d.txt" % number))
        stats0 = daemon.stats()
        threads0 = thread_usage(daemon.pid)
        fk0 = bl.proc_cpu_ticks(forkstat.pid) if forkstat else 0
        summary = bl.run_spawner(["-n", str(PROCESSES), "-j", str(INFLIGHT)],
                                 timeout=max(900, PROCESSES // 20))
        bl.wait_for(lambda: daemon.stats()["events_exit"] - stats0["events_exit"]
                    >= summary["spawned"], 120, what="the daemon to count the exits")
        if journaled:
            bl.wait_for(lambda: daemon.stats()["journal_queue_depth"] == 0, 60,
                        what="the journal queue to drain")
            # The thread lingers after its last batch and syncs within the
            # sync interval: both belong to the storm's cost.
            time.sleep(1.2)
        else:
            time.sleep(1.2)
        threads1 = thread_usage(daemon.pid)
        fk1 = bl.proc_cpu_ticks(forkstat.pid) if forkstat else 0
        stats1 = daemon.stats()
    finally:
        if forkstat:
            bl.kill_tree(forkstat, sig=signal.SIGINT)
        daemon.stop()
        shutil.rmtree(journal_dir, ignore_errors=True)
    spawned = summary["spawned"]
    per_k = 1000.0 / spawned / 1e6  # ns per process -> ms per 1,000
    split, wakeups = {}, {}
    for t in THREADS + ("other",):
        before, after = threads0.get(t, [0, 0]), threads1.get(t, [0, 0])
        split[t] = (after[0] - before[0]) * per_k
        wakeups[t] = (after[1] - before[1]) / spawned
    fk_per_k = 1000.0 / spawned * 1000.0 / bl.CLK_TCK
    return dict(ms=sum(split.values()), fk=(fk1 - fk0) * fk_per_k if forkstat else None,
                split=split, wakeups=wakeups, rate=summary["rate"],
                lines=stats1.get("journal_lines", 0) - stats0.get("journal_lines", 0),
                bytes=stats1.get("journal_bytes", 0) - stats0.get("journal_bytes", 0),
                lost=stats1.get("journal_lines_lost", 0) - stats0.get("journal_lines_lost", 0),
                exits=stats1["events_exit"] - stats0["events_exit"], spawned=spawned,
                load=os.getloadavg()[0])


def main():
    bl.install_cleanup()
    bl.require_mount_env(["bench_spawn"])
    bl.header("bench_journal: %d x /bin/true, %d in flight, %d rounds of one daemon "
              "without and one with --journal, never two at once"
              % (PROCESSES, INFLIGHT, ROUNDS),
              daemon="%s -f --max-exited=200000 [--journal=DIR]" % bl.lineagefs_bin(),
              peer="forkstat -e exec,exit" if FORKSTAT and shutil.which("forkstat")
              else "none")
    data = bl.tempdir()
    results = {False: [], True: []}
    print("%-6s %-9s %8s %8s %7s | %8s %8s %8s %8s | %6s %5s %5s" % (
        "round", "journal", "ms/1k", "fk ms/1k", "ratio", "events", "stat", "journal",
        "other", "p/s", "lost", "load"))
    number = 0
    pair_ratios = []
    for r in range(ROUNDS):
        order = (False, True) if r % 2 == 0 else (True, False)
        pair = {}
        for journaled in order:
            number += 1
            res = one_round(journaled, data, number)
            results[journaled].append(res)
            pair[journaled] = res
            ratio = res["ms"] / res["fk"] if res["fk"] else float("nan")
            print("%-6d %-9s %8.1f %8s %7.2f | %8.1f %8.1f %8.1f %8.1f | %6.0f %5d %5.1f" % (
                r + 1, "on" if journaled else "off", res["ms"],
                "%.1f" % res["fk"] if res["fk"] is not None else "n/a", ratio,
                res["split"]["lin-events"], res["split"]["lin-stat"],
                res["split"]["lin-journal"], res["split"]["other"], res["rate"],
                res["lost"], res["load"]), flush=True)
        pair_ratios.append(pair[True]["ms"] / pair[False]["ms"])

    def med(journaled, key):
        return bl.median([r[key] for r in results[journaled] if r[key] is not None])

    def med_split(journaled, thread):
        return bl.median([r["split"][thread] for r in results[journaled]])

    print()
    off, on = med(False, "ms"), med(True, "ms")
    bl.row("median daemon CPU per 1,000 processes",
           "off %.1f ms, on %.1f ms: %+.1f%%" % (off, on, 100.0 * (on - off) / off))
    for thread in THREADS + ("other",):
        bl.row("  of which %s" % thread, "off %.1f ms, on %.1f ms"
               % (med_split(False, thread), med_split(True, thread)))
    ratios = {j: [r["ms"] / r["fk"] for r in results[j] if r["fk"]] for j in results}
    if ratios[False] and ratios[True]:
        roff, ron = bl.median(ratios[False]), bl.median(ratios[True])
        bl.row("median daemon / forkstat CPU (same storm)",
               "off %.2f, on %.2f: %+.1f%%" % (roff, ron, 100.0 * (ron - roff) / roff))
    bl.row("median of the rounds' on/off ratios",
           "%+.1f%% (rounds: %s)" % (100.0 * (bl.median(pair_ratios) - 1.0),
                                     " ".join("%+.0f" % (100.0 * (x - 1.0))
                                              for x in pair_ratios)))
    share = bl.median([r["split"]["lin-journal"] / r["ms"] for r in results[True]])
    bl.row("lin-journal's share of the journaled daemon", "%.1f%%" % (100.0 * share))
    for thread in THREADS:
        bl.row("  wakeups per process, %s" % thread, "off %.3f, on %.3f" % (
            bl.median([r["wakeups"][thread] for r in results[False]]),
            bl.median([r["wakeups"][thread] for r in results[True]])))
    # The daemon mirrors and journals every process of the machine, not
    # only the storm's: on a machine busy with other work, per process it
    # saw exit is the steadier figure.
    seen = {j: [r["ms"] * r["spawned"] / r["exits"] for r in results[j]] for j in results}
    soff, son = bl.median(seen[False]), bl.median(seen[True])
    bl.row("median daemon CPU per 1,000 processes seen",
           "off %.1f ms, on %.1f ms: %+.1f%%" % (soff, son, 100.0 * (son - soff) / soff))
    seen_ratios = [on / off for off, on in zip(seen[False], seen[True])]
    bl.row("median of the rounds' on/off ratios, per seen",
           "%+.1f%% (rounds: %s)" % (100.0 * (bl.median(seen_ratios) - 1.0),
                                     " ".join("%+.0f" % (100.0 * (x - 1.0))
                                              for x in seen_ratios)))
    bl.row("processes seen exiting per storm process",
           "%.3f (1.000 on a quiet machine)" % bl.median(
               [r["exits"] / r["spawned"] for r in results[True] + results[False]]))
    bl.row("journal lines per process seen (median)",
           "%.2f" % bl.median([r["lines"] / r["exits"] for r in results[True]]))
    bl.row("journal bytes per process seen (median)",
           "%.0f" % bl.median([r["bytes"] / r["exits"] for r in results[True]]))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
