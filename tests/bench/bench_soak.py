#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Soak benchmark (issue 3): memory stays flat once the retention limit is hit.

Mounts lineagefs with --max-exited=5000 (BENCH_SOAK_MAX_EXITED), churns
/bin/true 4 at a time through bench_spawn for BENCH_SOAK_SECONDS (default
180), samples the daemon's VmRSS and its stats every BENCH_SOAK_INTERVAL
seconds (default: 36 samples), prints the series, and the slope of VmRSS
(least squares) over the samples taken after the limit was reached, per
minute and per 1,000 processes churned. Flat is good. Asserts nothing.
Needs root and /dev/fuse (exit 77 otherwise).

    sudo BENCH_SOAK_SECONDS=180 python3 tests/bench/bench_soak.py
"""

import os
import subprocess
import time

import benchlib as bl

SECONDS = float(os.environ.get("BENCH_SOAK_SECONDS", "180"))
MAX_EXITED = int(os.environ.get("BENCH_SOAK_MAX_EXITED", "5000"))
INTERVAL = float(os.environ.get("BENCH_SOAK_INTERVAL", str(max(1.0, SECONDS / 36))))
INFLIGHT = int(os.environ.get("BENCH_SOAK_INFLIGHT", "4"))


def slope(xs, ys):
    n = len(xs)
    if n < 2:
        return float("nan")
    mx, my = sum(xs) / n, sum(ys) / n
    sxx = sum((x - mx) ** 2 for x in xs)
    return sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sxx if sxx else float("nan")


def main():
    bl.install_cleanup()
    bl.require_mount_env(["bench_spawn"])
    bl.header("bench_soak: /bin/true churn for %.0f s, %d in flight, --max-exited=%d"
              % (SECONDS, INFLIGHT, MAX_EXITED),
              daemon="%s -f --max-exited=%d" % (bl.lineagefs_bin(), MAX_EXITED),
              sample_interval="%.1f s" % INTERVAL)
    daemon = bl.Daemon("--max-exited=%d" % MAX_EXITED).start()
    stats0 = daemon.stats()
    spawner = bl.spawn([bl.helper("bench_spawn"), "-t", str(SECONDS), "-j", str(INFLIGHT)],
                       stdout=subprocess.PIPE, text=True)
    started = time.monotonic()
    deadline = started + SECONDS + 60
    samples = []
    print("%8s %10s %8s %10s %10s %11s %12s %12s" % (
        "t_s", "VmRSS_kB", "threads", "exits", "exited", "forgotten", "record_B", "string_B"))
    while True:
        now = time.monotonic()
        stats = daemon.stats()
        sample = dict(t=now - started, rss=daemon.rss_kb(),
                      threads=bl.proc_status_number(daemon.pid, "Threads"),
                      exits=stats["events_exit"] - stats0["events_exit"],
                      exited=stats["processes_exited"],
                      forgotten=stats["processes_forgotten"],
                      record_bytes=stats.get("record_bytes", 0),
                      string_bytes=stats.get("string_bytes", 0))
        samples.append(sample)
        print("%8.1f %10d %8d %10d %10d %11d %12d %12d" % (
            sample["t"], sample["rss"], sample["threads"], sample["exits"], sample["exited"],
            sample["forgotten"], sample["record_bytes"], sample["string_bytes"]), flush=True)
        if spawner.poll() is not None or now >= deadline:
            break
        time.sleep(max(0.0, min(INTERVAL, deadline - time.monotonic())))
    try:
        out, _ = spawner.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        bl.kill_tree(spawner)
        out = ""
    bl.kill_tree(spawner)
    summary = bl.parse_kv(out.strip().splitlines()[-1]) if out.strip() else {}

    steady = [s for s in samples if s["forgotten"] > 0]
    print()
    bl.row("processes churned / rate", "%s / %s processes/s" % (
        summary.get("spawned", "?"), summary.get("rate", "?")))
    bl.row("daemon VmRSS first / last / peak (VmHWM)", "%d / %d / %d kB" % (
        samples[0]["rss"], samples[-1]["rss"], bl.proc_status_number(daemon.pid, "VmHWM")))
    if len(steady) >= 2:
        first = steady[0]
        bl.row("limit reached at", "t=%.1f s after %d exits (VmRSS %d kB)" % (
            first["t"], first["exits"], first["rss"]))
        rss_per_s = slope([s["t"] for s in steady], [s["rss"] for s in steady])
        rss_per_exit = slope([s["exits"] for s in steady], [s["rss"] for s in steady])
        rec_per_exit = slope([s["exits"] for s in steady],
                             [s["record_bytes"] + s["string_bytes"] for s in steady])
        bl.row("VmRSS after the limit: min / max", "%d / %d kB over %d samples" % (
            min(s["rss"] for s in steady), max(s["rss"] for s in steady), len(steady)))
        bl.row("VmRSS slope after the limit", "%+.1f kB/min, %+.2f kB per 1,000 processes" % (
            rss_per_s * 60, rss_per_exit * 1000))
        # A step (a new FUSE worker thread, a malloc arena) weighs on the
        # whole-range slope; the second half shows whether growth goes on.
        late = steady[len(steady) // 2:]
        if len(late) >= 2:
            bl.row("VmRSS slope, second half after the limit",
                   "%+.1f kB/min, %+.2f kB per 1,000 processes (t=%.0f..%.0f s)" % (
                       slope([s["t"] for s in late], [s["rss"] for s in late]) * 60,
                       slope([s["exits"] for s in late], [s["rss"] for s in late]) * 1000,
                       late[0]["t"], late[-1]["t"]))
        bl.row("record+string bytes slope after the limit",
               "%+.1f bytes per 1,000 processes" % (rec_per_exit * 1000))
    else:
        bl.row("limit reached", "no (fewer than 2 samples after %d exited; run longer)"
               % MAX_EXITED)
    stats = daemon.stats()
    bl.row("stats: overflows / rescans / cmdline_missed", "%d / %d / %d" % (
        stats.get("overflows", 0), stats.get("rescans", 0), stats.get("cmdline_missed", 0)))
    daemon.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
