#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Reading-speed benchmark (issue 4): lineagefs against /proc, same run.

Mounts lineagefs with --max-exited=200000 and, on the same live processes:
  1. times a pass of stat + open/read/close cmdline + readlink exe over every
     live process, in /proc (by pid) and in lineagefs (by <pid>-<start>);
  2. times readdir of one process directory, /proc/<pid> vs lineagefs;
  3. builds a chain of 100 nested processes (bench_chain) and times walking
     from the leaf to the root: lineagefs `parent` links vs the PPid: line
     of /proc/<pid>/status, plus one read of lineagefs `ancestry`;
  4. fills the table with 100,000 exited processes (bench_spawn -F) and
     times `ls -f MOUNT | wc -l`, then repeats the pass of 1.
bench_walk does the timing in C (the targets alternate within each
repetition; one warm-up repetition is discarded; medians are printed).
Asserts nothing. Needs root and /dev/fuse (exit 77 otherwise).
Knobs: BENCH_READ_REPS (21), BENCH_READ_DEPTH (100), BENCH_READ_EXITED
(100000), BENCH_READ_LS_REPS (5), BENCH_READ_OPTS (extra daemon options,
e.g. "-o allow_other" or "-o allow_other,hidepid=invisible": the cost of
the access policy, which under allow_other no longer caches symlink
targets, and with hidepid=invisible neither process entries nor the root
listing).

    sudo python3 tests/bench/bench_read.py
"""

import os
import select
import subprocess
import time

import benchlib as bl

REPS = int(os.environ.get("BENCH_READ_REPS", "21"))
DEPTH = int(os.environ.get("BENCH_READ_DEPTH", "100"))
EXITED = int(os.environ.get("BENCH_READ_EXITED", "100000"))
LS_REPS = int(os.environ.get("BENCH_READ_LS_REPS", "5"))
OPTS = os.environ.get("BENCH_READ_OPTS", "").split()


def live_processes(daemon):
    """(pid, name) of every live process /proc and lineagefs both show."""
    both, missing = [], []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            name = "%d-%d" % (pid, bl.proc_start_ticks(pid))
        except (OSError, ValueError):
            continue
        if os.path.lexists(daemon.path(name)):
            both.append((pid, name))
        elif os.path.exists("/proc/%d" % pid):
            missing.append(name)
    return both, missing


def write_list(path, items):
    with open(path, "w") as f:
        f.write("".join("%s\n" % item for item in items))


def start_chain(daemon):
    chain = bl.spawn([bl.helper("bench_chain"), str(DEPTH), "1800"],
                     stdout=subprocess.PIPE, text=True)
    ready, _, _ = select.select([chain.stdout], [], [], 60)
    line = chain.stdout.readline() if ready else ""
    if not line.strip().isdigit():
        raise RuntimeError("bench_chain printed no leaf pid (%r)" % line)
    leaf = int(line)
    name = "%d-%d" % (leaf, bl.proc_start_ticks(leaf))
    bl.wait_for(lambda: os.path.lexists(daemon.path(name)), 10,
                what="the chain's leaf in lineagefs")
    return chain, leaf, name


def pass_figures(title, results, lfs_key, proc_key):
    lfs, proc = results[lfs_key], results[proc_key]
    n = max(lfs["items"], 1)
    bl.row(title, "%d processes, %d reps (+1 warm-up), median per pass" % (
        lfs["items"], lfs["reps"]))
    bl.row("  /proc", "%10.1f us  (%.2f us/process, min %.1f, errors %d)" % (
        proc["median_us"], proc["median_us"] / n, proc["min_us"], proc["errors"]))
    bl.row("  lineagefs", "%10.1f us  (%.2f us/process, min %.1f, errors %d)" % (
        lfs["median_us"], lfs["median_us"] / n, lfs["min_us"], lfs["errors"]))
    bl.row("  ratio lineagefs / /proc", "%.2f  (goal <= 1.2)" % (
        lfs["median_us"] / proc["median_us"]))


def step_figures(mnt, lfs_list, proc_list):
    """The three steps of a pass alone, to show where the time goes."""
    targets = []
    for step in ("stat", "cmdline", "exe"):
        targets += ["%s:%s:%s" % (step, mnt, lfs_list), "%s:/proc:%s" % (step, proc_list)]
    r = bl.walk(REPS, *targets)
    for step in ("stat", "cmdline", "exe"):
        lfs = r["%s:%s:%s" % (step, mnt, lfs_list)]
        proc = r["%s:/proc:%s" % (step, proc_list)]
        n = max(lfs["items"], 1)
        bl.row("  %s alone: /proc | lineagefs" % {
            "stat": "stat", "cmdline": "open/read/close cmdline",
            "exe": "readlink exe"}[step],
            "%.2f | %.2f us/process  (ratio %.2f)" % (
                proc["median_us"] / n, lfs["median_us"] / n,
                lfs["median_us"] / proc["median_us"]))


def time_shell(command, reps):
    """Cold first run, then median of reps warm runs, and the output."""
    def run():
        return subprocess.run(command, shell=True, stdout=subprocess.PIPE, text=True,
                              check=True, timeout=300).stdout.strip()
    started = time.perf_counter()
    out = run()
    cold = time.perf_counter() - started
    warm = []
    for _ in range(reps):
        started = time.perf_counter()
        out = run()
        warm.append(time.perf_counter() - started)
    return cold, warm, out


def main():
    bl.install_cleanup()
    bl.require_mount_env(["bench_spawn", "bench_chain", "bench_walk"])
    bl.header("bench_read: lineagefs vs /proc on the same processes",
              daemon="%s -f --max-exited=200000 %s" % (bl.lineagefs_bin(), " ".join(OPTS)),
              repetitions="%d timed + 1 warm-up, medians" % REPS)
    data = bl.tempdir()
    daemon = bl.Daemon("--max-exited=200000", *OPTS).start()
    mnt = daemon.mountpoint

    chain, leaf, leaf_name = start_chain(daemon)
    both, missing = live_processes(daemon)
    proc_list, lfs_list = os.path.join(data, "proc"), os.path.join(data, "lfs")
    write_list(proc_list, [pid for pid, _ in both])
    write_list(lfs_list, [name for _, name in both])
    print()
    if missing:
        bl.row("live in /proc but absent from lineagefs", "%d: %s" % (
            len(missing), " ".join(missing[:10])))

    r = bl.walk(REPS, "pass:%s:%s" % (mnt, lfs_list), "pass:/proc:%s" % proc_list)
    pass_figures("1. stat + read cmdline + readlink exe",
                 r, "pass:%s:%s" % (mnt, lfs_list), "pass:/proc:%s" % proc_list)
    step_figures(mnt, lfs_list, proc_list)

    dir_reps = max(REPS * 10, 11)
    lfs_dir, proc_dir = "readdir:%s/%s" % (mnt, leaf_name), "readdir:/proc/%d" % leaf
    r = bl.walk(dir_reps, lfs_dir, proc_dir, "readdir:%s" % mnt, "readdir:/proc")
    print()
    bl.row("2. readdir of a process directory", "%d reps (+1 warm-up), median" % dir_reps)
    bl.row("  /proc/%d" % leaf, "%8.1f us  (%d entries)" % (
        r[proc_dir]["median_us"], r[proc_dir]["items"]))
    bl.row("  lineagefs %s" % leaf_name, "%8.1f us  (%d entries)" % (
        r[lfs_dir]["median_us"], r[lfs_dir]["items"]))
    bl.row("  ratio lineagefs / /proc", "%.2f" % (
        r[lfs_dir]["median_us"] / r[proc_dir]["median_us"]))
    bl.row("  root: /proc vs lineagefs", "%.1f us (%d entries) vs %.1f us (%d entries)" % (
        r["readdir:/proc"]["median_us"], r["readdir:/proc"]["items"],
        r["readdir:%s" % mnt]["median_us"], r["readdir:%s" % mnt]["items"]))

    lfs_chain = "chain-lfs:%s:%s" % (mnt, leaf_name)
    proc_chain = "chain-proc:/proc:%d" % leaf
    ancestry = "read:%s/%s/ancestry" % (mnt, leaf_name)
    r = bl.walk(REPS, lfs_chain, proc_chain, ancestry)
    print()
    bl.row("3. parent chain of a %d-deep process" % DEPTH, "%d reps (+1 warm-up), median" % REPS)
    bl.row("  /proc status PPid: walk", "%8.1f us  (%d levels, %.2f us/level)" % (
        r[proc_chain]["median_us"], r[proc_chain]["items"],
        r[proc_chain]["median_us"] / max(r[proc_chain]["items"], 1)))
    bl.row("  lineagefs readlink parent walk", "%8.1f us  (%d levels, %.2f us/level)" % (
        r[lfs_chain]["median_us"], r[lfs_chain]["items"],
        r[lfs_chain]["median_us"] / max(r[lfs_chain]["items"], 1)))
    bl.row("  ratio lineagefs / /proc", "%.2f" % (
        r[lfs_chain]["median_us"] / r[proc_chain]["median_us"]))
    bl.row("  lineagefs cat ancestry (one read)", "%8.1f us  (%d bytes)" % (
        r[ancestry]["median_us"], r[ancestry]["items"]))
    bl.kill_tree(chain)

    print()
    stats0 = daemon.stats()
    summary = bl.run_spawner(["-n", str(EXITED), "-j", "4", "-F"],
                             timeout=max(1200, EXITED // 20))
    bl.wait_for(lambda: daemon.stats()["events_exit"] - stats0["events_exit"]
                >= summary["spawned"], 120, what="the daemon to count the exits")
    stats = daemon.stats()
    bl.row("4. filled with exited processes", "%d forked in %.1f s (%.0f/s); "
           "stats: %d exited, %d live, %d forgotten" % (
               summary["spawned"], summary["seconds"], summary["rate"],
               stats["processes_exited"], stats["processes_live"],
               stats["processes_forgotten"]))
    cold, warm, out = time_shell("ls -f %s | wc -l" % mnt, LS_REPS)
    bl.row("  ls -f MOUNT | wc -l", "%s entries: cold %.3f s, warm median %.3f s "
           "(%d reps, min %.3f, max %.3f)  (goal < 1 s)" % (
               out, cold, bl.median(warm), len(warm), min(warm), max(warm)))
    cold, warm, out = time_shell("ls -f /proc | wc -l", LS_REPS)
    bl.row("  ls -f /proc | wc -l (reference)", "%s entries: warm median %.3f s" % (
        out, bl.median(warm)))
    r = bl.walk(max(LS_REPS, 3), "readdir:%s" % mnt)
    bl.row("  readdir in C (bench_walk)", "%d entries: median %.3f s" % (
        r["readdir:%s" % mnt]["items"], r["readdir:%s" % mnt]["median_us"] / 1e6))

    both, missing = live_processes(daemon)
    write_list(proc_list, [pid for pid, _ in both])
    write_list(lfs_list, [name for _, name in both])
    r = bl.walk(REPS, "pass:%s:%s" % (mnt, lfs_list), "pass:/proc:%s" % proc_list)
    print()
    pass_figures("5. pass of 1. with %d exited retained" % stats["processes_exited"],
                 r, "pass:%s:%s" % (mnt, lfs_list), "pass:/proc:%s" % proc_list)
    step_figures(mnt, lfs_list, proc_list)
    bl.row("daemon VmRSS / CPU total", "%d kB / %.2f s" % (
        daemon.rss_kb(), daemon.cpu_ticks() / bl.CLK_TCK))
    daemon.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
