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
daemon's CPU time (utime + stime of every thread) and unmounts. Rounds
alternate (plain, journaled, plain, ... with the first swapped every
round), BENCH_JOURNAL_ROUNDS pairs (default 5). `forkstat -e exec,exit`
(when installed and BENCH_JOURNAL_FORKSTAT is not 0) watches each storm
beside the daemon as a peer: its CPU per 1,000 on the same storm shows how
loaded the machine was in that round, and the daemon/forkstat ratio is
printed too.

Prints, per round, the daemon's CPU per 1,000 processes and its split by
thread (lin-events, lin-stat, lin-journal, the rest), then the medians and
the journaled/plain ratio, of both the CPU time and the forkstat-relative
figure. Asserts nothing. Needs root and /dev/fuse (exit 77 otherwise).

    sudo python3 tests/bench/bench_journal.py
    sudo BENCH_JOURNAL_ROUNDS=7 BENCH_JOURNAL_PROCESSES=3000 python3 tests/bench/bench_journal.py
"""

import os
import shutil
import signal
import subprocess
import time

import benchlib as bl

PROCESSES = int(os.environ.get("BENCH_JOURNAL_PROCESSES", "5000"))
ROUNDS = int(os.environ.get("BENCH_JOURNAL_ROUNDS", "5"))
INFLIGHT = int(os.environ.get("BENCH_JOURNAL_INFLIGHT", "4"))
FORKSTAT = os.environ.get("BENCH_JOURNAL_FORKSTAT", "1") != "0"
THREADS = ("lin-events", "lin-stat", "lin-journal")


def thread_ticks(pid):
    """{thread name: utime + stime ticks} of the daemon's live threads."""
    result = {}
    task_dir = "/proc/%d/task" % pid
    for tid in os.listdir(task_dir):
        try:
            data = bl.read_text("%s/%s/stat" % (task_dir, tid))
        except OSError:
            continue
        name = data[data.index("(") + 1:data.rindex(")")]
        fields = data[data.rindex(")") + 2:].split()
        key = name if name in THREADS else "other"
        result[key] = result.get(key, 0) + int(fields[11]) + int(fields[12])
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
        threads0 = thread_ticks(daemon.pid)
        cpu0 = daemon.cpu_ticks()
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
        cpu1 = daemon.cpu_ticks()
        threads1 = thread_ticks(daemon.pid)
        fk1 = bl.proc_cpu_ticks(forkstat.pid) if forkstat else 0
        stats1 = daemon.stats()
    finally:
        if forkstat:
            bl.kill_tree(forkstat, sig=signal.SIGINT)
        daemon.stop()
        shutil.rmtree(journal_dir, ignore_errors=True)
    per_k = 1000.0 / summary["spawned"] * 1000.0 / bl.CLK_TCK
    split = {t: (threads1.get(t, 0) - threads0.get(t, 0)) * per_k
             for t in THREADS + ("other",)}
    return dict(ms=(cpu1 - cpu0) * per_k, fk=(fk1 - fk0) * per_k if forkstat else None,
                split=split, rate=summary["rate"],
                lines=stats1.get("journal_lines", 0) - stats0.get("journal_lines", 0),
                lost=stats1.get("journal_lines_lost", 0) - stats0.get("journal_lines_lost", 0),
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
    for r in range(ROUNDS):
        order = (False, True) if r % 2 == 0 else (True, False)
        for journaled in order:
            number += 1
            res = one_round(journaled, data, number)
            results[journaled].append(res)
            ratio = res["ms"] / res["fk"] if res["fk"] else float("nan")
            print("%-6d %-9s %8.1f %8s %7.2f | %8.1f %8.1f %8.1f %8.1f | %6.0f %5d %5.1f" % (
                r + 1, "on" if journaled else "off", res["ms"],
                "%.1f" % res["fk"] if res["fk"] is not None else "n/a", ratio,
                res["split"]["lin-events"], res["split"]["lin-stat"],
                res["split"]["lin-journal"], res["split"]["other"], res["rate"],
                res["lost"], res["load"]), flush=True)

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
    lines = bl.median([r["lines"] for r in results[True]])
    bl.row("journal lines per process (median)", "%.2f" % (lines / PROCESSES))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
