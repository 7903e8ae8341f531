#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""What recording the metrics costs (issue 11): daemon CPU per 1,000
processes in a fork storm with --metrics=on and --metrics=off, in the
same run.

Two daemons are mounted at once, one with recording on and one with it
off: every process of the storm is an event for both, so they do the same
work under the same load, and only the recording differs. The storm is
BENCH_METRICS_PROCESSES /bin/true (default 10,000), 4 in flight, through
bench_spawn, repeated BENCH_METRICS_ROUNDS times (default 3) with the
daemons' start order swapped each round. Prints the CPU per 1,000
processes of each daemon per round and the medians; asserts nothing.
Needs root and /dev/fuse (exit 77 otherwise).

    sudo python3 tests/bench/bench_metrics.py
"""

import os

import benchlib as bl

PROCESSES = int(os.environ.get("BENCH_METRICS_PROCESSES", "10000"))
ROUNDS = int(os.environ.get("BENCH_METRICS_ROUNDS", "3"))
INFLIGHT = 4
# What the excerpt after the last round shows of the recording daemon.
EXCERPT = ("lineagefs_events_total", "lineagefs_events_lost_total", "lineagefs_event_overflows",
           "lineagefs_cmdlines_missed", "lineagefs_event_delay_seconds_bucket",
           "lineagefs_event_delay_seconds_count", "lineagefs_event_visible_delay_seconds_sum",
           "lineagefs_event_visible_delay_seconds_count", "lineagefs_exec_proc_read_seconds_sum",
           "lineagefs_exec_proc_read_seconds_count", "lineagefs_event_backlog",
           "lineagefs_thread_cpu_seconds_total", "lineagefs_resident_memory_bytes")


def metric(daemon, name):
    with open(daemon.path("metrics")) as f:
        for line in f:
            if line.startswith(name + " "):
                return float(line.split()[1])
    return None


def one_round(first_on):
    modes = ["on", "off"] if first_on else ["off", "on"]
    daemons = {mode: bl.Daemon("--max-exited=200000", "--metrics=%s" % mode).start()
               for mode in modes}
    try:
        stats0 = {m: d.stats() for m, d in daemons.items()}
        cpu0 = {m: d.cpu_ticks() for m, d in daemons.items()}
        summary = bl.run_spawner(["-n", str(PROCESSES), "-j", str(INFLIGHT), "-S"],
                                 timeout=max(900, PROCESSES // 20))
        for m, d in daemons.items():
            bl.wait_for(lambda d=d, m=m: d.stats()["events_exit"] - stats0[m]["events_exit"]
                        >= summary["spawned"], 120, what="the %s daemon to count the exits" % m)
        cpu1 = {m: d.cpu_ticks() for m, d in daemons.items()}
        per_k = 1000.0 / summary["spawned"]
        ms = {m: (cpu1[m] - cpu0[m]) * 1000.0 / bl.CLK_TCK * per_k for m in daemons}
        visible_count = metric(daemons["on"], "lineagefs_event_visible_delay_seconds_count")
        visible_sum = metric(daemons["on"], "lineagefs_event_visible_delay_seconds_sum")
        with open(daemons["on"].path("metrics")) as f:
            excerpt = [line.rstrip("\n") for line in f if line.startswith(EXCERPT)]
        return ms, summary, visible_count, visible_sum, excerpt
    finally:
        for d in daemons.values():
            d.stop()


def main():
    bl.install_cleanup()
    bl.require_mount_env(["bench_spawn"])
    bl.header("bench_metrics: %d x /bin/true, %d in flight, %d rounds, two daemons at once"
              % (PROCESSES, INFLIGHT, ROUNDS),
              daemon="%s -f --max-exited=200000 --metrics=on|off" % bl.lineagefs_bin())
    results = {"on": [], "off": []}
    excerpt = []
    for r in range(ROUNDS):
        ms, summary, count, total, excerpt = one_round(first_on=(r % 2 == 0))
        for m in ms:
            results[m].append(ms[m])
        bl.row("round %d (%.0f processes/s)" % (r + 1, summary["rate"]),
               "on %.1f ms, off %.1f ms per 1,000 processes; mean receipt -> visible %.1f us"
               % (ms["on"], ms["off"], 1e6 * total / count if count else 0))
    on, off = bl.median(results["on"]), bl.median(results["off"])
    bl.row("median daemon CPU per 1,000 processes", "on %.1f ms, off %.1f ms (%+.1f%%)"
           % (on, off, 100.0 * (on - off) / off if off else 0))
    print("\nmetrics of the recording daemon after the last round (excerpt):")
    for line in excerpt:
        print("    " + line)


if __name__ == "__main__":
    main()
