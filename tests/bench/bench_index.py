#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Index benchmark (issue 9): by-exe/ listings against find and grep.

For each size in BENCH_INDEX_RETAINED (default "100000,1000000"), mounts
lineagefs with a retention limit above it and runs: 10 programs copied
under a fresh /tmp directory, 20 runs each; /usr/bin/curl --version,
BENCH_INDEX_CURL times (default 200); then forks without exec
(bench_spawn -F) until the table retains that many processes. Then times,
cold (first run after the fill) and warm (median of BENCH_INDEX_REPS):
  - ls MOUNT/by-exe/tmp/ and ls MOUNT/by-exe/usr/bin/curl/;
  - find MOUNT -maxdepth 2 -name exe -lname '/tmp/*' (and curl), which
    reads every retained process's exe link on the same mount;
  - grep over an equivalent JSON-lines file, one ECS-style line per
    retained process with its executable (written from that find pass,
    untimed), warm in the page cache: what a SIEM export would be grepped.
Prints the figures; asserts nothing. Needs root and /dev/fuse (exit 77).

    sudo python3 tests/bench/bench_index.py
"""

import json
import os
import shutil
import subprocess
import tempfile
import time

import benchlib as bl
from bench_read import time_shell

SIZES = [int(s) for s in os.environ.get("BENCH_INDEX_RETAINED", "100000,1000000").split(",")]
REPS = int(os.environ.get("BENCH_INDEX_REPS", "5"))
CURL_RUNS = int(os.environ.get("BENCH_INDEX_CURL", "200"))
TOOLS = 10
TOOL_RUNS = 20


def timed(command, reps):
    """Cold time, warm median, and the lines printed (bench_read's timer)."""
    cold, warm, out = time_shell(command, reps)
    return cold, bl.median(warm), len(out.splitlines())


def write_jsonl(mnt, path):
    """One ECS-style line per retained process, from its exe link."""
    listing = subprocess.run(["find", mnt, "-mindepth", "2", "-maxdepth", "2", "-name", "exe",
                              "-printf", "%h\t%l\n"], stdout=subprocess.PIPE, text=True,
                             check=True, timeout=7200).stdout
    lines = 0
    with open(path, "w") as f:
        for line in listing.splitlines():
            directory, exe = line.split("\t", 1)
            name = os.path.basename(directory)
            pid, _, start = name.partition("-")
            f.write(json.dumps({
                "@timestamp": "2026-11-30T21:00:00.000000000Z",
                "event": {"kind": "event", "category": ["process"], "type": ["start"],
                          "action": "exec"},
                "process": {"entity_id": "%032x" % (int(pid) * 7919 + int(start)),
                            "pid": int(pid), "executable": exe, "name": os.path.basename(exe),
                            "args": [exe], "command_line": exe,
                            "user": {"id": "0"}, "group": {"id": "0"}},
                "lineagefs": {"v": 1, "start_ticks": int(start)},
            }, separators=(",", ":")) + "\n")
            lines += 1
    return lines


def one_size(size, tmp_parent):
    tools = tempfile.mkdtemp(prefix="lineagefs-bench-", dir=tmp_parent)
    os.chmod(tools, 0o755)
    daemon = bl.Daemon("--max-exited=%d" % (size + 10000)).start()
    mnt = daemon.mountpoint
    try:
        for i in range(TOOLS):
            tool = os.path.join(tools, "tool%d" % i)
            shutil.copy("/bin/true", tool)
            bl.run_spawner(["-n", str(TOOL_RUNS), "-j", "4", tool], timeout=600)
        curl = shutil.which("curl")
        if curl:
            bl.run_spawner(["-n", str(CURL_RUNS), "-j", "4", curl, "--version"], timeout=1200)
        stats = daemon.stats()
        fill = max(0, size - stats["processes_exited"] - stats["processes_live"])
        started = time.perf_counter()
        summary = bl.run_spawner(["-n", str(fill), "-j", "4", "-F"],
                                 timeout=max(1200, fill // 20))
        bl.wait_for(lambda: daemon.stats()["processes_exited"] + daemon.stats()["processes_live"]
                    >= size, 600, what="the daemon to count the fill")
        stats = daemon.stats()
        print()
        bl.row("retained processes", "%d (%d exited, %d live; fill %d forks in %.0f s)" % (
            stats["processes_exited"] + stats["processes_live"], stats["processes_exited"],
            stats["processes_live"], summary["spawned"], time.perf_counter() - started))
        bl.row("daemon RSS, record_bytes per process", "%d kB, %.1f B" % (
            daemon.rss_kb(), stats["record_bytes"] / max(1, stats["processes_exited"] +
                                                         stats["processes_live"])))
        rel = os.path.relpath(tools, "/")
        queries = [
            ("ls by-exe/tmp/", "ls %s/by-exe/tmp/" % mnt),
            ("ls by-exe/%s/tool3/" % rel, "ls %s/by-exe/%s/tool3/" % (mnt, rel)),
            ("ls by-exe/usr/bin/curl/", "ls %s/by-exe/usr/bin/curl/" % mnt),
            ("find -lname '/tmp/*'",
             "find %s -mindepth 2 -maxdepth 2 -name exe -lname '/tmp/*'" % mnt),
            ("find -lname /usr/bin/curl",
             "find %s -mindepth 2 -maxdepth 2 -name exe -lname /usr/bin/curl" % mnt),
        ]
        results = {}
        for label, command in queries:
            results[label] = timed(command, REPS)
        data = bl.tempdir()
        jsonl = os.path.join(data, "processes.jsonl")
        lines = write_jsonl(mnt, jsonl)
        grep_tmp = "grep -F '\"executable\":\"/tmp/' %s" % jsonl
        grep_curl = "grep -F '\"executable\":\"/usr/bin/curl\"' %s" % jsonl
        subprocess.run("cat %s > /dev/null" % jsonl, shell=True, check=True)
        results["grep JSON lines /tmp/"] = timed(grep_tmp, REPS)
        results["grep JSON lines curl"] = timed(grep_curl, REPS)
        bl.row("JSON-lines file", "%d lines, %.0f MB" % (lines, os.path.getsize(jsonl) / 1e6))
        for label, (cold, warm, n) in results.items():
            bl.row("  " + label, "cold %8.3f s  warm %8.3f s  (%d lines out)" % (cold, warm, n))
        for what, ls_key, find_key, grep_key in (
                ("/tmp", "ls by-exe/tmp/", "find -lname '/tmp/*'", "grep JSON lines /tmp/"),
                ("curl", "ls by-exe/usr/bin/curl/", "find -lname /usr/bin/curl",
                 "grep JSON lines curl")):
            bl.row("  %s: grep / ls, find / ls (warm)" % what, "%.0f x, %.0f x" % (
                results[grep_key][1] / max(results[ls_key][1], 1e-6),
                results[find_key][1] / max(results[ls_key][1], 1e-6)))
    finally:
        daemon.stop()
        shutil.rmtree(tools, ignore_errors=True)


def main():
    bl.install_cleanup()
    bl.require_mount_env(["bench_spawn"])
    bl.header("bench_index: by-exe/ listings vs find -lname and grep over JSON lines",
              daemon=bl.lineagefs_bin(), sizes=",".join(str(s) for s in SIZES),
              repetitions="cold, then median of %d warm" % REPS)
    for size in SIZES:
        one_size(size, "/tmp")


if __name__ == "__main__":
    main()
