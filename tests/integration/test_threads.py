# SPDX-License-Identifier: GPL-2.0-or-later
"""Threads are not processes: the kernel facts around thread groups."""

import os
import subprocess
import sys
import threading

import pytest

from conftest import running_daemon
from helpers import (
    helper,
    HELPER_ENV,
    barrier,
    errno_of,
    proc_name,
    proc_state,
    proc_tids,
    read_bytes,
    read_text,
    status,
    wait_entry,
    wait_exited,
    wait_for,
)

THREADS_SCRIPT = """
import sys, threading
stop = threading.Event()
ids = []
lock = threading.Lock()
def worker():
    with lock:
        ids.append(threading.get_native_id())
    stop.wait()
threads = [threading.Thread(target=worker) for _ in range(8)]
for t in threads:
    t.start()
while len(ids) < 8:
    pass
print(" ".join(map(str, ids)), flush=True)
sys.stdin.read()
stop.set()
"""


def names_with_pid(mnt, pid):
    return [n for n in os.listdir(mnt) if n.startswith("%d-" % pid)]


def test_eight_threads_are_one_directory(mnt, procs):
    p = subprocess.Popen(["/usr/bin/python3", "-c", THREADS_SCRIPT], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    procs.append(p)
    tids = [int(t) for t in p.stdout.readline().split()]
    assert len(tids) == 8 and p.pid not in tids
    assert set(tids) <= set(proc_tids(p.pid))
    name = proc_name(p.pid)
    wait_entry(mnt, name)
    wait_for(lambda: status(mnt, name)["Threads"] == "9",
             what="Threads: 9 (8 + the leader), have %s" % status(mnt, name).get("Threads"))
    barrier(mnt)

    top = os.listdir(mnt)
    assert names_with_pid(mnt, p.pid) == [name]
    for tid in tids:
        thread_name = "%d-%d" % (tid, int(read_text("/proc/%d/task/%d/stat" % (p.pid, tid))
                                           .rsplit(")", 1)[1].split()[19]))
        assert thread_name not in top, "thread %s listed as a process" % thread_name
        assert errno_of(os.lstat, os.path.join(mnt, thread_name)) == 2
        assert errno_of(os.lstat, os.path.join(mnt, "by-pid", str(tid))) == 2, \
            "by-pid/%d (a thread id) exists" % tid
    me = proc_name(os.getpid())
    kids = os.listdir(os.path.join(mnt, me, "children"))
    assert name in kids
    assert not [k for k in kids if int(k.split("-")[0]) in tids]

    p.stdin.close()
    p.wait()
    st = wait_exited(mnt, name)
    assert st["ExitCode"] == "exited 0"
    assert names_with_pid(mnt, p.pid) == [name]


def test_leader_pthread_exit_keeps_process_running(mnt, procs):
    path = helper("helper_leader_exit")
    p = subprocess.Popen([path], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         env=HELPER_ENV)
    procs.append(p)
    assert p.stdout.readline().split()[0] == "ready"
    name = proc_name(p.pid)
    # The leader is gone (a zombie in /proc); the other threads run on.
    wait_for(lambda: proc_state(p.pid) == "Z", what="the leader's pthread_exit")
    assert len(proc_tids(p.pid)) >= 3
    wait_entry(mnt, name)
    barrier(mnt)  # the leader's EXIT has been processed by now
    st = status(mnt, name)
    assert st["State"] == "running", "leader exited with threads alive, yet %r" % st
    assert st["ExitCode"] == "-"
    assert os.readlink(os.path.join(mnt, "by-pid", str(p.pid))) == "../" + name

    p.stdin.close()  # a worker calls exit(7)
    assert p.wait() == 7
    st = wait_exited(mnt, name)
    assert st["ExitCode"] == "exited 7"
    assert names_with_pid(mnt, p.pid) == [name]


def test_exec_from_non_leader_thread(mnt, procs):
    path = helper("helper_thread_exec")
    args = ["before exec", "\u00e9\u00e8 \u2713"]
    p = subprocess.Popen([path] + args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         text=True, env=HELPER_ENV)
    procs.append(p)
    line = p.stdout.readline().split()
    assert line[0] == "tid"
    tid = int(line[1])
    assert tid != p.pid
    name = proc_name(p.pid)
    wait_entry(mnt, name)
    first = (path + "\0" + "\0".join(args) + "\0").encode()
    wait_for(lambda: read_bytes(os.path.join(mnt, name, "cmdline")) == first,
             what="cmdline before the exec")

    p.stdin.write("go\n")
    p.stdin.flush()
    assert p.stdout.readline().split() == ["after-exec", str(p.pid)]
    # The kernel gave the exec'ing thread the leader's pid and start time.
    assert proc_name(p.pid) == name
    expected = (path + "\0--after-exec\0" + "\0".join(args) + "\0").encode()
    wait_for(lambda: read_bytes(os.path.join(mnt, name, "cmdline")) == expected,
             what="cmdline after the exec from thread %d" % tid)
    barrier(mnt)
    st = status(mnt, name)
    assert st["State"] == "running", "exec from a thread ended the process: %r" % st
    assert st["Execs"] == "2"
    assert st["Threads"] == "1"
    assert names_with_pid(mnt, p.pid) == [name]
    assert names_with_pid(mnt, tid) == [], "the exec'ing thread got a directory"
    assert os.readlink(os.path.join(mnt, name, "exe")) == os.path.realpath(path)

    p.stdin.close()
    assert p.wait() == 0
    st = wait_exited(mnt, name)
    assert st["ExitCode"] == "exited 0"


def test_self_from_a_thread_is_the_process(mnt):
    me = proc_name(os.getpid())
    result = {}

    def reader():
        result["tid"] = threading.get_native_id()
        result["self"] = os.readlink(os.path.join(mnt, "self"))
        result["pid"] = read_text(os.path.join(mnt, "self", "status"))

    t = threading.Thread(target=reader)
    t.start()
    t.join()
    assert result["tid"] != os.getpid()
    assert result["self"] == me, "self read by thread %d resolved to %s" % (result["tid"], result["self"])
    assert "Pid:\t%d\n" % os.getpid() in result["pid"]


@pytest.mark.skipif(os.environ.get("LINEAGEFS_DEBUG_HOOKS") != "1",
                    reason="needs a build with -Ddebug_hooks=true")
def test_self_catch_up_while_events_wait(monkeypatch):
    """A thread looks up self while its clone event waits on the main
    socket: the debug hook stretches the 10 ms deferral to an hour, so only
    an EXEC's wakeup or a catch-up takes that socket. The lookup has the
    event thread catch up (a bounded wait), and self is the process."""
    monkeypatch.setenv("LINEAGEFS_DEBUG_DEFER_US", str(3600 * 1000 * 1000))
    me = proc_name(os.getpid())
    with running_daemon() as d:
        results = []

        def reader():
            tid = threading.get_native_id()
            try:
                results.append((tid, os.readlink(os.path.join(d.mnt, "self"))))
            except OSError as exc:
                results.append((tid, exc))

        for _ in range(10):
            # An exec whose wakeup takes the main socket, which then stays
            # unpolled: the thread's clone event waits there.
            subprocess.run(["/bin/true"], check=True)
            t = threading.Thread(target=reader)
            t.start()
            t.join()
        for tid, target in results:
            assert target == me, "self read by new thread %d: %r" % (tid, target)


SELF_AFTER_CHANGE = r"""
import ctypes, os, sys
mnt = sys.argv[1]
libc = ctypes.CDLL(None)
libc.prctl(15, b"renamed-self", 0, 0, 0)  # PR_SET_NAME
os.setgroups([])
os.setresgid(65534, 65534, 65534)
os.setresuid(65534, 65534, 65534)
with open(os.path.join(mnt, "self/comm")) as f:
    print(f.read().strip())
with open(os.path.join(mnt, "self/status")) as f:
    sys.stdout.write(f.read())
"""


@pytest.mark.skipif(os.environ.get("LINEAGEFS_DEBUG_HOOKS") != "1",
                    reason="needs a build with -Ddebug_hooks=true")
def test_self_is_the_reader_after_its_own_changes(monkeypatch):
    """A process renames itself and drops root to nobody, then reads its
    own self/comm and self/status under allow_other. Its COMM and UID
    events wait on the main socket (the debug hook stretches the deferral
    to an hour, and no exec follows to take them), so only the catch-up of
    the self lookup applies them: without it the reader, now nobody, is
    refused its own status (the record still says root) and comm is the
    old name."""
    monkeypatch.setenv("LINEAGEFS_DEBUG_DEFER_US", str(3600 * 1000 * 1000))
    with running_daemon(["-o", "allow_other"]) as d:
        os.chmod(os.path.dirname(d.mnt), 0o755)
        for _ in range(3):
            p = subprocess.run([sys.executable, "-c", SELF_AFTER_CHANGE, d.mnt], capture_output=True,
                               text=True, timeout=60)
            assert p.returncode == 0, p.stderr
            lines = p.stdout.splitlines()
            assert lines[0] == "renamed-self"
            fields = dict(line.split(":\t", 1) for line in lines[1:])
            assert fields["Name"] == "renamed-self"
            assert fields["Uid"] == "65534\t65534"
            assert fields["Gid"] == "65534\t65534"
