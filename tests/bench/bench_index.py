#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Index benchmark (issue 9): by-exe/ and by-uid/ listings against the
other ways to ask the same questions, in the same run.

For each size in BENCH_INDEX_RETAINED (default "100000"; the issue's
second size is "1000000"), mounts lineagefs with --journal and
--max-exited=0 (nothing forgotten), then runs: 10 programs copied under a
fresh /tmp directory, 20 runs each, as uid 65534 (through setpriv);
/usr/bin/curl --version, BENCH_INDEX_CURL times (default 200); then forks
without exec
(bench_spawn -F) until the table retains that many processes. Then times,
cold (first run after the fill) and warm (median of BENCH_INDEX_REPS):
  - find MOUNT/by-exe/tmp/ -type l (every process under /tmp, however
    deep), ls MOUNT/by-exe/usr/bin/curl/, ls MOUNT/by-uid/65534/;
  - find MOUNT -maxdepth 2 -name exe -lname ... on the same mount, which
    reads every retained process's exe link;
  - grep -F and jq over the daemon's own journal (its JSON-lines segments,
    warm in the page cache): what a shipped copy would be searched with;
  - a /proc scan (find /proc -lname, grep of every status), which answers
    only for the processes still running.
Prints the figures and each peer's time as a multiple of the listing's;
asserts nothing. Needs root and /dev/fuse (exit 77).

    sudo python3 tests/bench/bench_index.py
    sudo BENCH_INDEX_RETAINED=1000000 python3 tests/bench/bench_index.py
"""

import glob
import os
import shutil
import subprocess
import tempfile
import time

import benchlib as bl

SIZES = [int(s) for s in os.environ.get("BENCH_INDEX_RETAINED", "100000").split(",")]
REPS = int(os.environ.get("BENCH_INDEX_REPS", "5"))
CURL_RUNS = int(os.environ.get("BENCH_INDEX_CURL", "200"))
TOOLS = 10
TOOL_RUNS = 20
UID = 65534


def run_shell(command):
    return subprocess.run(["sh", "-c", command], stdout=subprocess.PIPE, text=True,
                          timeout=3600).stdout


def timed(command, reps):
    """Cold time, warm median, and the number of lines printed."""
    started = time.perf_counter()
    out = run_shell(command)
    cold = time.perf_counter() - started
    warm = []
    for _ in range(reps):
        started = time.perf_counter()
        out = run_shell(command)
        warm.append(time.perf_counter() - started)
    return cold, bl.median(warm), len(out.splitlines())


def one_size(size, tmp_parent):
    tools = tempfile.mkdtemp(prefix="lineagefs-bench-", dir=tmp_parent)
    os.chmod(tools, 0o755)
    journal = os.path.join(bl.tempdir(), "journal")
    # Nothing forgotten: the mount and the journal hold the same processes.
    daemon = bl.Daemon("--max-exited=0", "--journal=" + journal, "--journal-max=8G").start()
    mnt = daemon.mountpoint
    try:
        for i in range(TOOLS):
            tool = os.path.join(tools, "tool%d" % i)
            shutil.copy("/bin/true", tool)
            bl.run_spawner(["-n", str(TOOL_RUNS), "-j", "4", shutil.which("setpriv"),
                            "--reuid=%d" % UID,
                            "--regid=%d" % UID, "--clear-groups", tool], timeout=600)
        curl = shutil.which("curl")
        curl = os.path.realpath(curl) if curl else None
        if curl:
            bl.run_spawner(["-n", str(CURL_RUNS), "-j", "4", curl, "--version"], timeout=1200)
        stats = daemon.stats()
        fill = max(0, size - stats["processes_exited"] - stats["processes_live"])
        started = time.perf_counter()
        summary = bl.run_spawner(["-n", str(fill), "-j", "4", "-F"],
                                 timeout=max(1200, fill // 20))
        bl.wait_for(lambda: daemon.stats()["processes_exited"] + daemon.stats()["processes_live"]
                    >= size, 600, what="the daemon to count the fill")
        # The journal thread writes behind the events: wait until it caught up.
        bl.wait_for(lambda: daemon.stats().get("journal_queue_depth", 0) == 0, 600,
                    what="the journal to drain")
        stats = daemon.stats()
        segments = sorted(glob.glob(os.path.join(journal, "lineagefs-*.jsonl")))
        journal_bytes = sum(os.path.getsize(s) for s in segments)
        print()
        bl.row("retained processes", "%d (%d exited, %d live; fill %d forks in %.0f s)" % (
            stats["processes_exited"] + stats["processes_live"], stats["processes_exited"],
            stats["processes_live"], summary["spawned"], time.perf_counter() - started))
        bl.row("daemon RSS, record_bytes per process", "%d kB, %.1f B" % (
            daemon.rss_kb(), stats["record_bytes"] / max(1, stats["processes_exited"] +
                                                         stats["processes_live"])))
        bl.row("journal", "%d segments, %.0f MB, %d lines lost" % (
            len(segments), journal_bytes / 1e6, stats.get("journal_lines_lost", 0)))
        seg = " ".join(segments)
        subprocess.run("cat %s > /dev/null" % seg, shell=True, check=True)
        curl_path = curl or "/usr/bin/curl"
        questions = [
            ("ran from /tmp", [
                ("find by-exe/tmp/ -type l", "find %s/by-exe/tmp/ -type l" % mnt),
                ("find -lname on the mount",
                 "find %s -mindepth 2 -maxdepth 2 -name exe -lname '/tmp/*' 2>/dev/null"
                 % mnt),
                ("grep -F the journal",
                 "grep -hF '\"executable\":\"/tmp/' %s | grep -o '\"entity_id\":\"[0-9a-f]*'"
                 " | sort -u" % seg),
                ("jq the journal",
                 "jq -r 'select((.process.executable // \"\") | startswith(\"/tmp/\"))"
                 " | .process.entity_id' %s | sort -u" % seg),
                ("find -lname in /proc (running only)",
                 "find /proc -mindepth 2 -maxdepth 2 -name exe -lname '/tmp/*' 2>/dev/null"),
            ]),
            ("ran curl", [
                ("ls by-exe%s/" % curl_path, "ls %s/by-exe%s/" % (mnt, curl_path)),
                ("find -lname on the mount",
                 "find %s -mindepth 2 -maxdepth 2 -name exe -lname %s 2>/dev/null"
                 % (mnt, curl_path)),
                ("grep -F the journal",
                 "grep -hF '\"executable\":\"%s\"' %s | grep -o '\"entity_id\":\"[0-9a-f]*'"
                 " | sort -u" % (curl_path, seg)),
                ("jq the journal",
                 "jq -r 'select(.process.executable == \"%s\") | .process.entity_id' %s"
                 " | sort -u" % (curl_path, seg)),
                ("find -lname in /proc (running only)",
                 "find /proc -mindepth 2 -maxdepth 2 -name exe -lname %s 2>/dev/null"
                 % curl_path),
            ]),
            ("ran as uid %d" % UID, [
                ("ls by-uid/%d/" % UID, "ls %s/by-uid/%d/" % (mnt, UID)),
                ("grep -F the journal",
                 "grep -hF '\"user\":{\"id\":\"%d\"}' %s | grep -o '\"entity_id\":\"[0-9a-f]*'"
                 " | sort -u" % (UID, seg)),
                ("jq the journal",
                 "jq -r 'select(.process.user.id == \"%d\" or .process.real_user.id == \"%d\")"
                 " | .process.entity_id' %s | sort -u" % (UID, UID, seg)),
                ("grep Uid in /proc/*/status (running only)",
                 "grep -lE '^Uid:.*\\b%d\\b' /proc/[0-9]*/status 2>/dev/null" % UID),
            ]),
        ]
        for question, ways in questions:
            print()
            bl.row(question, "cold s, warm s (median), lines out, warm / first's warm")
            first = None
            for label, command in ways:
                cold, warm, n = timed(command, REPS)
                first = first or warm
                bl.row("  " + label, "%9.4f  %9.4f  %8d  %10.1f x" % (
                    cold, warm, n, warm / max(first, 1e-6)))
    finally:
        daemon.stop()
        shutil.rmtree(tools, ignore_errors=True)


def main():
    bl.install_cleanup()
    bl.require_mount_env(["bench_spawn"])
    for tool in ("jq", "setpriv"):
        if not shutil.which(tool):
            bl.skip("%s is not installed" % tool)
    bl.header("bench_index: by-exe/ and by-uid/ vs find, grep and jq over the journal, /proc",
              daemon=bl.lineagefs_bin(), sizes=",".join(str(s) for s in SIZES),
              repetitions="cold, then median of %d warm" % REPS)
    for size in SIZES:
        one_size(size, "/tmp")


if __name__ == "__main__":
    main()
