# SPDX-License-Identifier: GPL-2.0-or-later
"""Fidelity under load: a fork storm loses nothing, a kernel overflow is
repaired by a rescan, and retention forgets the oldest exited processes
but never an ancestor of a running one.

These mount their own daemons (they need options) and spawn real
processes at the machine's full rate.
"""

import os
import signal
import subprocess

from helpers import (
    DEFAULT_TIMEOUT,
    HELPER_ENV,
    barrier,
    proc_name,
    read_bytes,
    stats,
    status,
    wait_for,
)

TRUE = "/bin/true"


def storm(count, parallel=4):
    """Run count /bin/true, parallel at a time, as fast as posix_spawn goes.

    Returns the pids, in spawn order, with each one's wait status.
    """
    pids = []
    codes = {}
    running = 0
    while len(pids) < count or running:
        while running < parallel and len(pids) < count:
            pids.append(os.posix_spawn(TRUE, [TRUE], HELPER_ENV))
            running += 1
        pid, code = os.wait()
        codes[pid] = code
        running -= 1
    return pids, codes


def names_by_pid(mnt):
    out = {}
    for name in os.listdir(mnt):
        pid, sep, _ = name.partition("-")
        if sep and pid.isdigit():
            out.setdefault(int(pid), []).append(name)
    return out


def test_storm_loses_nothing(start_daemon):
    lfs = start_daemon(["--max-exited=100000"])
    pids, codes = storm(2000)
    assert all(code == 0 for code in codes.values())
    barrier(lfs.mnt, timeout=60)

    by_pid = names_by_pid(lfs.mnt)
    dirs = cmdlines = exes = exit_codes = 0
    missing = []
    misses = []
    for pid in pids:
        # The newest directory of that pid whose program was /bin/true.
        found = None
        for name in by_pid.get(pid, []):
            if read_bytes(os.path.join(lfs.mnt, name, "cmdline")) == b"/bin/true\0":
                found = name
        if found is None:
            candidates = by_pid.get(pid, [])
            if not candidates:
                missing.append(pid)
                continue
            found = candidates[-1]
        dirs += 1
        st = status(lfs.mnt, found)
        if st["Cmdline"] == "ok" and read_bytes(os.path.join(lfs.mnt, found, "cmdline")) == (
            b"/bin/true\0"
        ):
            cmdlines += 1
        elif len(misses) < 5:
            misses.append((found, st.get("Name"), st.get("Cmdline"), st.get("Exe")))
        exe = os.path.join(lfs.mnt, found, "exe")
        if os.path.islink(exe) and os.readlink(exe).endswith("/true"):
            exes += 1
        if st["ExitCode"] == "exited 0":
            exit_codes += 1
    counters = stats(lfs.mnt)
    summary = "dirs %d cmdline %d exe %d exit %d of %d; first misses %s; stats %s" % (
        dirs, cmdlines, exes, exit_codes, len(pids), misses, counters)
    assert not missing, "no directory for pids %s; %s" % (missing[:20], summary)
    assert dirs == len(pids), summary
    assert exit_codes == len(pids), summary
    assert cmdlines >= 0.995 * len(pids), summary
    assert exes >= 0.995 * len(pids), summary
    assert counters["overflows"] == "0", summary
    assert counters["events_lost"] == "0", summary


def test_overflow_is_counted_and_repaired(start_daemon, procs):
    """Stop the daemon so the kernel's queue overflows (a tiny receive
    buffer), change the world meanwhile, and check the rescan repairs it."""
    lfs = start_daemon(["--rcvbuf=4096"])
    victim = subprocess.Popen(["sleep", "1000"], env=HELPER_ENV)
    procs.append(victim)
    victim_name = proc_name(victim.pid)
    wait_for(lambda: os.path.isdir(os.path.join(lfs.mnt, victim_name)))
    before = stats(lfs.mnt)

    lfs.send_signal(signal.SIGSTOP)
    try:
        victim.kill()
        victim.wait()
        # Born while nobody listened: only a rescan can find it.
        newcomer = subprocess.Popen(["sleep", "1000"], env=HELPER_ENV)
        procs.append(newcomer)
        newcomer_name = proc_name(newcomer.pid)
        storm(300)
    finally:
        lfs.send_signal(signal.SIGCONT)

    def repaired():
        s = stats(lfs.mnt)
        return int(s["overflows"]) > int(before["overflows"]) and int(s["rescans"]) > int(
            before["rescans"])

    wait_for(repaired, DEFAULT_TIMEOUT * 3, "an overflow and a rescan in stats")
    barrier(lfs.mnt, timeout=30)
    # The kernel's per-CPU numbering says how many were dropped.
    assert int(stats(lfs.mnt)["events_lost"]) > 0

    assert os.path.isdir(os.path.join(lfs.mnt, newcomer_name))
    st = status(lfs.mnt, newcomer_name)
    assert st["State"] == "running"
    assert os.readlink(os.path.join(lfs.mnt, newcomer_name, "parent")) == "../" + proc_name(
        os.getpid())
    assert read_bytes(os.path.join(lfs.mnt, newcomer_name, "cmdline")) == b"sleep\x001000\x00"
    vst = status(lfs.mnt, victim_name)
    assert vst["State"] == "exited"
    assert vst["ExitCode"] in ("killed by SIGKILL", "unknown")
    # Nothing duplicated: one directory per (pid, start), one per live pid.
    names = os.listdir(lfs.mnt)
    assert len(names) == len(set(names))
    assert [n for n in names if n.startswith("%d-" % newcomer.pid)] == [newcomer_name]
    assert os.readlink(os.path.join(lfs.mnt, "by-pid", str(newcomer.pid))) == "../" + newcomer_name
    # Every process alive now is in the tree.
    for pid in (os.getpid(), newcomer.pid, os.getppid()):
        assert os.path.isdir(os.path.join(lfs.mnt, proc_name(pid)))


def test_retention_forgets_oldest_keeps_ancestors(start_daemon, procs):
    limit = 100
    lfs = start_daemon(["--max-exited=%d" % limit])
    me = proc_name(os.getpid())
    # sh -> sh (subshell) -> sleep: both shells exit, the sleep lives on,
    # reparented by the kernel; its exited ancestors must stay.
    keeper = subprocess.Popen(
        ["sh", "-c", "(sleep 1000 & echo $! ; exit 0) ; exit 0"],
        stdout=subprocess.PIPE, env=HELPER_ENV)
    sleeper_pid = int(keeper.stdout.readline())
    keeper.wait()
    sleeper = proc_name(sleeper_pid)
    pids, _ = storm(3 * limit)
    barrier(lfs.mnt, timeout=30)

    s = stats(lfs.mnt)
    assert int(s["processes_exited"]) <= limit, s
    assert int(s["processes_forgotten"]) >= 2 * limit - 10, s

    # The sleeper's chain reads all the way up to this test process.
    chain = []
    name = sleeper
    while name != me:
        chain.append(name)
        assert len(chain) < 10, chain
        name = os.path.basename(os.readlink(os.path.join(lfs.mnt, name, "parent")))
    assert len(chain) == 3, chain  # sleep, subshell, sh
    assert status(lfs.mnt, chain[1])["State"] == "exited"
    assert status(lfs.mnt, chain[2])["State"] == "exited"
    ancestry = [line.split("\t")[0]
                for line in read_bytes(os.path.join(lfs.mnt, sleeper, "ancestry")).decode()
                .splitlines()]
    assert ancestry[:4] == chain + [me]

    # Oldest forgotten first: the first /bin/true is gone, with its entry
    # in our children/; the last one is there.
    children = set(os.listdir(os.path.join(lfs.mnt, me, "children")))
    by_pid = names_by_pid(lfs.mnt)
    assert not [n for n in by_pid.get(pids[0], []) if n in children]
    assert by_pid.get(pids[-1]), "newest exited process was forgotten"
    # Every entry of children/ resolves, unless it was forgotten meanwhile
    # (any exit on the machine can push one out), and then it left
    # children/ too.
    for name in children:
        assert os.path.isdir(os.path.join(lfs.mnt, name)) or name not in os.listdir(
            os.path.join(lfs.mnt, me, "children")), name

    os.kill(sleeper_pid, signal.SIGKILL)
    wait_for(lambda: status(lfs.mnt, sleeper)["State"] == "exited")
