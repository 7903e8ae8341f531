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

BENCH_INDEX_MODE=replay asks the same questions of a synthetic journal of
that many short-lived processes instead (the 10 programs under a /tmp
directory run 20 times each as uid 65534, curl BENCH_INDEX_CURL times,
the rest common tools; one exec line telling its fork and one exit line
each, as the writer spells them), mounted with --replay: how 1,000,000
retained processes are reached without forking a million. A command that
runs past BENCH_INDEX_LIMIT seconds (default 3600) is stopped and shown
as "> LIMIT".

    sudo python3 tests/bench/bench_index.py
    sudo BENCH_INDEX_RETAINED=1000000 python3 tests/bench/bench_index.py
    sudo BENCH_INDEX_MODE=replay BENCH_INDEX_RETAINED=100000,1000000 \
        BENCH_INDEX_LIMIT=600 python3 tests/bench/bench_index.py
"""

import glob
import os
import shutil
import signal
import subprocess
import tempfile
import time

import benchlib as bl
import make_journal as mj

SIZES = [int(s) for s in os.environ.get("BENCH_INDEX_RETAINED", "100000").split(",")]
REPS = int(os.environ.get("BENCH_INDEX_REPS", "5"))
CURL_RUNS = int(os.environ.get("BENCH_INDEX_CURL", "200"))
TOOLS = 10
TOOL_RUNS = 20
UID = 65534
MODE = os.environ.get("BENCH_INDEX_MODE", "live")
# Seconds one run of a command may take (find -lname over a million
# processes takes tens of minutes cold): past it, "> LIMIT".
LIMIT = int(os.environ.get("BENCH_INDEX_LIMIT", "3600"))


def run_shell(command):
    """Its output, or None when it ran past LIMIT seconds (stopped)."""
    proc = subprocess.Popen(["sh", "-c", command], stdout=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        return proc.communicate(timeout=LIMIT)[0]
    except subprocess.TimeoutExpired:
        # The shell and its pipeline: its own process group.
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        return None


def timed(command, reps):
    """Cold time, warm median, and the number of lines printed; a run past
    LIMIT ends the command's runs, its time is None."""
    started = time.perf_counter()
    out = run_shell(command)
    cold = time.perf_counter() - started
    if out is None:
        return None, None, 0
    warm = []
    for _ in range(reps):
        started = time.perf_counter()
        out = run_shell(command)
        if out is None:
            return cold, None, 0
        warm.append(time.perf_counter() - started)
    return cold, bl.median(warm), len(out.splitlines())


def write_journal(directory, size, tools, curl):
    """A journal of size short-lived processes (see BENCH_INDEX_MODE), in
    segments of 64 MiB, as make_journal.py writes them. Returns the
    seconds it took."""
    started = time.perf_counter()
    os.makedirs(directory)
    segment_bytes = 64 * 1024 * 1024
    seq, segment, out, written = 0, 0, None, 0
    shell = (1000, 500)
    shell_id = mj.entity(*shell)
    special = [("tool%d" % (i // TOOL_RUNS), os.path.join(tools, "tool%d" % (i // TOOL_RUNS)),
                UID) for i in range(TOOLS * TOOL_RUNS)]
    special += [("curl", curl, 0)] * CURL_RUNS
    # Spread over the journal, as they would be among the fill.
    every = max(1, size // max(1, len(special)))

    def open_segment():
        nonlocal segment, out, seq
        if out:
            out.close()
        segment += 1
        out = open(os.path.join(directory, "lineagefs-%010d.jsonl" % segment), "w")
        out.write(mj.HEAD % (mj.iso(mj.BOOT_NS), "state", "info", "open", seq)
                  + ',"lineagefs":{"v":2,"segment":%d,"hz":%d,"boot_realtime_ns":%d}}\n'
                  % (segment, mj.HZ, mj.BOOT_NS))
        seq += 1

    open_segment()
    out.write(mj.HEAD % (mj.iso(mj.BOOT_NS + 5 * mj.NS), "state", "info", "found", seq)
              + ',"process":{"entity_id":"%s","pid":%d,"start":"%s","name":"bash",'
                '"executable":"/usr/bin/bash","args":["-bash"],"command_line":"-bash",'
                '"user":{"id":"0"},"group":{"id":"0"}},"lineagefs":{"v":2,"start_ticks":%d,'
                '"flags":["from_scan"],"execs":1}}\n'
              % (shell_id, shell[0], mj.iso(mj.BOOT_NS + shell[1] * mj.NS // mj.HZ), shell[1]))
    seq += 1
    for i in range(size - 1):
        if out.tell() > segment_bytes:
            open_segment()
        pid = 2000 + i % (mj.PID_MAX - 3000)
        ticks = 1000 + i
        at = mj.BOOT_NS + ticks * mj.NS // mj.HZ
        uid = 0
        if i % every == 0 and i // every < len(special):
            name, exe, uid = special[i // every]
            argv = [exe] if name != "curl" else ["curl", "-s", "https://example.org/%d" % i]
        else:
            name, exe, argv = mj.PROGRAMS[i % len(mj.PROGRAMS)]
        ident = '"entity_id":"%s","pid":%d' % (mj.entity(pid, ticks), pid)
        out.write(mj.HEAD % (mj.iso(at + 1000000), "event", "start", "exec", seq)
                  + ',"process":{%s,"start":"%s","name":"%s","executable":"%s","args":[%s],'
                    '"command_line":"%s","parent":{"entity_id":"%s","pid":%d},'
                    '"user":{"id":"%d"},"group":{"id":"%d"}},"lineagefs":{"v":2,'
                    '"start_ticks":%d}}\n'
                  % (ident, mj.iso(at), name, exe, ",".join('"%s"' % a for a in argv),
                     " ".join(argv), shell_id, shell[0], uid, uid, ticks))
        out.write(mj.HEAD % (mj.iso(at + 3000000), "event", "end", "exit", seq + 1)
                  + ',"process":{%s,"name":"%s","exit_code":0},"lineagefs":{"v":2,'
                    '"start_ticks":%d}}\n' % (ident, name, ticks))
        seq += 2
    out.close()
    return time.perf_counter() - started


def one_size(size, tmp_parent):
    tools = tempfile.mkdtemp(prefix="lineagefs-bench-", dir=tmp_parent)
    os.chmod(tools, 0o755)
    journal = os.path.join(bl.tempdir(), "journal")
    curl = shutil.which("curl")
    curl = os.path.realpath(curl) if curl else "/usr/bin/curl"
    if MODE == "replay":
        made = write_journal(journal, size, tools, curl)
        started = time.perf_counter()
        daemon = bl.Daemon("--replay=" + journal, "--max-exited=0").start(timeout=3600)
        print()
        bl.row("synthetic journal written, mounted (s)", "%.1f, %.1f" % (
            made, time.perf_counter() - started))
    else:
        # Nothing forgotten: the mount and the journal hold the same processes.
        daemon = bl.Daemon("--max-exited=0", "--journal=" + journal,
                           "--journal-max=8G").start()
    try:
        if MODE == "replay":
            how = "a replay of a synthetic journal"
        else:
            how = fill_live(daemon, size, tools, curl)
        measure(daemon, journal, curl, how)
    finally:
        daemon.stop()
        shutil.rmtree(tools, ignore_errors=True)


def fill_live(daemon, size, tools, curl):
    """Runs the programs, curl and the fork-only fill on the live mount."""
    for i in range(TOOLS):
        tool = os.path.join(tools, "tool%d" % i)
        shutil.copy("/bin/true", tool)
        bl.run_spawner(["-n", str(TOOL_RUNS), "-j", "4", shutil.which("setpriv"),
                        "--reuid=%d" % UID,
                        "--regid=%d" % UID, "--clear-groups", tool], timeout=600)
    if os.path.exists(curl):
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
    return "fill %d forks in %.0f s" % (summary["spawned"], time.perf_counter() - started)


def measure(daemon, journal, curl_path, how):
    """Times the questions on the mount and over the journal."""
    mnt = daemon.mountpoint
    stats = daemon.stats()
    segments = sorted(glob.glob(os.path.join(journal, "lineagefs-*.jsonl")))
    journal_bytes = sum(os.path.getsize(s) for s in segments)
    print()
    bl.row("retained processes", "%d (%d exited, %d live; %s)" % (
        stats["processes_exited"] + stats["processes_live"], stats["processes_exited"],
        stats["processes_live"], how))
    bl.row("daemon RSS, record_bytes per process", "%d kB, %.1f B" % (
        daemon.rss_kb(), stats["record_bytes"] / max(1, stats["processes_exited"] +
                                                     stats["processes_live"])))
    bl.row("journal", "%d segments, %.0f MB, %d lines lost" % (
        len(segments), journal_bytes / 1e6, stats.get("journal_lines_lost", 0)))
    seg = " ".join(segments)
    subprocess.run("cat %s > /dev/null" % seg, shell=True, check=True)
    questions = [
        ("ran from /tmp", [
            ("find by-exe/tmp/ -type l", "find %s/by-exe/tmp/ -type l" % mnt),
            ("ls by-exe/tmp/ (its directories)", "ls %s/by-exe/tmp/" % mnt),
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
            if warm is None:
                bl.row("  " + label, "%9s  %9s  (stopped after %d s)" % (
                    "%.4f" % cold if cold is not None else "> %d" % LIMIT,
                    "> %d" % LIMIT, LIMIT))
                continue
            first = first or warm
            bl.row("  " + label, "%9.4f  %9.4f  %8d  %10.1f x" % (
                cold, warm, n, warm / max(first, 1e-6)))


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
