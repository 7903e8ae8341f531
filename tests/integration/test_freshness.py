# SPDX-License-Identifier: GPL-2.0-or-later
"""The kernel caches what lineagefs says for an hour, so every change must
be invalidated: after an exec, a comm change, an exit or a new child, a
reader that already has the old state cached sees the new one at once.
And readers hammering the mount during a fork storm get no error and no
deadlock.

Each test first reads the old state through the mount, so it is cached,
then changes the process and polls (bounded) for the new state. The
latency is printed; the deadline is generous for sanitizer builds, but a
missing invalidation leaves the old state for an hour and fails.
"""

import os
import subprocess
import sys
import threading
import time

from helpers import (
    HELPER_ENV,
    proc_name,
    read_bytes,
    read_text,
    settle,
    status,
    wait_exec,
    wait_for,
)

DEADLINE = 2.0


def fresh_within(what, cond):
    start = time.monotonic()
    wait_for(cond, DEADLINE, what, interval=0.001)
    latency_ms = (time.monotonic() - start) * 1000
    print("%s visible after %.2f ms" % (what, latency_ms))


# A child that waits for a line on stdin before each step: rename itself,
# then exec sleep.
STEPPER = r"""
import ctypes, os, sys
sys.stdin.readline()
ctypes.CDLL(None).prctl(15, b"renamed-now", 0, 0, 0)
sys.stdout.write("renamed\n"); sys.stdout.flush()
sys.stdin.readline()
os.execv("/bin/sleep", ["sleep", "1000"])
"""


def test_exec_comm_exit_and_child_are_fresh(mnt, procs):
    p = subprocess.Popen([sys.executable, "-c", STEPPER], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, env=HELPER_ENV)
    procs.append(p)
    name = proc_name(p.pid)
    wait_for(lambda: os.path.isdir(os.path.join(mnt, name)))
    d = os.path.join(mnt, name)
    # Cache the old state.
    old_cmdline = read_bytes(os.path.join(d, "cmdline"))
    assert old_cmdline.startswith(sys.executable.encode())
    old_comm = read_text(os.path.join(d, "comm"))
    os.readlink(os.path.join(d, "exe"))
    status(mnt, name)
    os.stat(os.path.join(d, "comm"))

    p.stdin.write(b"go\n")
    p.stdin.flush()
    assert p.stdout.readline() == b"renamed\n"
    fresh_within("comm change", lambda: read_text(os.path.join(d, "comm")) == "renamed-now\n")
    assert old_comm != "renamed-now\n"
    # comm and status are invalidated one after the other.
    settle(mnt)
    assert status(mnt, name)["Name"] == "renamed-now"

    children_before = set(os.listdir(os.path.join(d, "children")))
    p.stdin.write(b"go\n")
    p.stdin.flush()
    wait_exec(p.pid, "sleep")
    fresh_within("exec cmdline",
                 lambda: read_bytes(os.path.join(d, "cmdline")) == b"sleep\x001000\x00")
    fresh_within("exec exe", lambda: os.readlink(os.path.join(d, "exe")) == "/usr/bin/sleep"
                 or os.readlink(os.path.join(d, "exe")) == "/bin/sleep")
    settle(mnt)
    assert read_text(os.path.join(d, "comm")) == "sleep\n"
    assert os.stat(os.path.join(d, "cmdline")).st_size == len(b"sleep\x001000\x00")
    assert status(mnt, name)["Execs"] == "2"  # python itself, then sleep
    assert children_before == set(os.listdir(os.path.join(d, "children")))

    # A new child of this test process shows up in its cached children/.
    me = os.path.join(mnt, proc_name(os.getpid()))
    before = set(os.listdir(os.path.join(me, "children")))
    child = subprocess.Popen(["sleep", "1000"], env=HELPER_ENV)
    procs.append(child)
    child_name = proc_name(child.pid)
    fresh_within("new child", lambda: child_name in os.listdir(os.path.join(me, "children")))
    assert child_name not in before

    assert status(mnt, name)["State"] == "running"
    p.kill()
    p.wait()
    fresh_within("exit", lambda: status(mnt, name)["State"] == "exited")
    assert status(mnt, name)["ExitCode"] == "killed by SIGKILL"


def test_readers_during_storm(mnt):
    """4 parallel readers (find + cat loops) while processes are born and
    die as fast as the machine goes: no error, no deadlock."""
    stop = threading.Event()
    errors = []
    counts = [0] * 4

    def finder(slot):
        while not stop.is_set():
            r = subprocess.run(["find", mnt, "-maxdepth", "2", "-name", "status"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=60)
            if r.returncode != 0:
                errors.append("find: %s" % r.stderr.decode(errors="replace")[:500])
            counts[slot] += 1

    def catter(slot):
        while not stop.is_set():
            for entry in os.listdir(mnt)[-200:]:
                if not entry[0].isdigit():
                    continue
                for f in ("status", "cmdline", "comm", "ancestry"):
                    try:
                        read_bytes(os.path.join(mnt, entry, f))
                    except OSError as exc:
                        errors.append("%s/%s: %s" % (entry, f, exc))
                counts[slot] += 1

    threads = [threading.Thread(target=finder, args=(0,)),
               threading.Thread(target=finder, args=(1,)),
               threading.Thread(target=catter, args=(2,)),
               threading.Thread(target=catter, args=(3,))]
    for t in threads:
        t.start()
    try:
        deadline = time.monotonic() + 8
        spawned = 0
        while time.monotonic() < deadline and spawned < 3000:
            batch = [subprocess.Popen(["/bin/true"]) for _ in range(4)]
            for b in batch:
                b.wait()
            spawned += 4
    finally:
        stop.set()
        for t in threads:
            t.join(60)
    assert not any(t.is_alive() for t in threads), "a reader is stuck: deadlock?"
    assert not errors, errors[:10]
    assert all(c > 0 for c in counts), counts
    # Still answering.
    r = subprocess.run(["stat", os.path.join(mnt, "stats")], stdout=subprocess.DEVNULL,
                       timeout=10)
    assert r.returncode == 0
    print("spawned %d, reader passes %s" % (spawned, counts))


def test_open_status_is_one_snapshot(mnt, procs):
    """A running process's status read through one open file is one
    version, as on /proc, however the process changes meanwhile."""
    p = subprocess.Popen(["sleep", "1000"], env=HELPER_ENV)
    procs.append(p)
    name = proc_name(p.pid)
    path = os.path.join(mnt, name, "status")
    wait_for(lambda: os.path.isdir(os.path.join(mnt, name)))
    assert status(mnt, name)["State"] == "running"

    with open(path, "rb", buffering=0) as early, open(path, "rb", buffering=0) as partial:
        head = partial.read(10)
        p.kill()
        p.wait()
        fresh_within("exit", lambda: status(mnt, name)["State"] == "exited")
        for text in (early.read(), head + partial.read()):
            fields = dict(line.split(":\t", 1) for line in text.decode().splitlines())
            assert fields["State"] == "running", text
            assert fields["ExitCode"] == "-", text
    assert status(mnt, name)["ExitCode"] == "killed by SIGKILL"


# Waits for one line on stdin, then execs sleep.
EXEC_ON_LINE = r"""
import os, sys
sys.stdin.readline()
os.execv("/bin/sleep", ["sleep", "1000"])
"""


def test_read_of_an_outdated_open_leaves_nothing_stale(mnt, procs):
    """cmdline is served from the page cache. A file opened before an
    exec and read after the exec's invalidation fills that cache with the
    old bytes: they must be dropped again, so later readers see the exec."""
    p = subprocess.Popen([sys.executable, "-c", EXEC_ON_LINE], stdin=subprocess.PIPE,
                         env=HELPER_ENV)
    procs.append(p)
    name = proc_name(p.pid)
    path = os.path.join(mnt, name, "cmdline")
    wait_exec(p.pid, os.path.basename(sys.executable)[:15])
    before = read_bytes("/proc/%d/cmdline" % p.pid)
    # The mount shows the python version before the early open.
    wait_for(lambda: read_bytes(path) == before)
    with open(path, "rb", buffering=0) as early:
        p.stdin.write(b"go\n")
        p.stdin.flush()
        wait_exec(p.pid, "sleep")
        # Learn that the exec was applied without touching cmdline's cache.
        fresh_within("exec in status", lambda: status(mnt, name)["Name"] == "sleep")
        old = early.read()
    # One whole version, never the old one cut to the new one's size.
    assert old in (before, b"sleep\x001000\x00"), old
    fresh_within("exec after a stale read",
                 lambda: read_bytes(path) == b"sleep\x001000\x00")
