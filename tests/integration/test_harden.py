# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon's hardening, read from /proc/<daemon>/task/*/status.

Once mounted, every thread keeps CAP_SYS_PTRACE alone (bounding set too),
has no_new_privs and the seccomp filter, and leaves SIGSYS unblocked so the
filter's handler can say what it refused. The unmount helper keeps
CAP_SYS_ADMIN alone. A provoked forbidden system call (debug builds) stops
the daemon with one line naming it, and the helper still unmounts.
"""

import os
import signal
import subprocess

import pytest

from conftest import running_daemon
from helpers import DEFAULT_TIMEOUT, is_mounted, proc_name, wait_for

CAP_SYS_ADMIN = 21
CAP_SYS_PTRACE = 19
SIGSYS_BIT = 1 << (signal.SIGSYS - 1)


def task_status(path):
    out = {}
    with open(path) as f:
        for line in f:
            key, _, value = line.partition(":")
            out[key] = value.strip()
    return out


def tasks(pid):
    base = "/proc/%d/task" % pid
    return {tid: task_status("%s/%s/status" % (base, tid)) for tid in os.listdir(base)}


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                st = task_status("/proc/%s/status" % entry)
            except OSError:
                continue
            if st.get("PPid") == str(pid):
                out.append((int(entry), st))
    return out


def test_every_thread_keeps_ptrace_only(lfs):
    threads = tasks(lfs.proc.pid)
    names = sorted(st["Name"] for st in threads.values())
    # The event thread, the stat reader, the notifier and the main thread
    # at least: a thread started before the drop would show here.
    for name in ("lin-events", "lin-stat", "lin-notify"):
        assert name in names, names
    want = "%016x" % (1 << CAP_SYS_PTRACE)
    for tid, st in threads.items():
        what = "thread %s (%s)" % (tid, st["Name"])
        assert st["CapEff"] == want, "%s CapEff %s" % (what, st["CapEff"])
        assert st["CapPrm"] == want, "%s CapPrm %s" % (what, st["CapPrm"])
        assert st["CapBnd"] == want, "%s CapBnd %s" % (what, st["CapBnd"])
        assert st["CapInh"] == "%016x" % 0 and st["CapAmb"] == "%016x" % 0, what
        assert st["NoNewPrivs"] == "1", what
        assert st["Seccomp"] == "2", what
        assert not int(st["SigBlk"], 16) & SIGSYS_BIT, "%s blocks SIGSYS" % what


def test_unmount_helper_keeps_sys_admin_only(lfs):
    helpers = [st for _, st in children(lfs.proc.pid) if st["Name"] == "lin-unmount"]
    assert len(helpers) == 1, children(lfs.proc.pid)
    st = helpers[0]
    want = "%016x" % (1 << CAP_SYS_ADMIN)
    assert st["CapEff"] == want and st["CapPrm"] == want and st["CapBnd"] == want, st
    assert st["NoNewPrivs"] == "1" and st["Seccomp"] == "2", st


def test_reads_exe_of_another_uid_with_reduced_caps(mnt, procs):
    """CAP_SYS_PTRACE is the capability that is kept for this."""
    p = subprocess.Popen(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                          "sleep", "60"])
    procs.append(p)

    def exec_seen():
        with open("/proc/%d/comm" % p.pid) as f:
            return f.read().strip() == "sleep"

    wait_for(exec_seen, DEFAULT_TIMEOUT, "setpriv to exec sleep")
    name = proc_name(p.pid)
    exe = os.path.join(mnt, name, "exe")
    target = wait_for(lambda: os.readlink(exe), DEFAULT_TIMEOUT, "%s to have an exe" % name)
    assert target == os.path.realpath("/usr/bin/sleep")


def test_sigkill_leaves_no_mount(start_daemon):
    """The helper unmounts when the daemon dies without asking."""
    d = start_daemon()
    d.proc.kill()
    d.proc.wait(DEFAULT_TIMEOUT)
    d.stopped = True
    wait_for(lambda: not is_mounted(d.mnt), DEFAULT_TIMEOUT, "the helper to unmount")


@pytest.mark.skipif(os.environ.get("LINEAGEFS_DEBUG_HOOKS") != "1",
                    reason="needs a build with -Ddebug_hooks=true")
def test_forbidden_syscall_is_refused(monkeypatch):
    monkeypatch.setenv("LINEAGEFS_DEBUG_FORBIDDEN_SYSCALL", "1")
    with running_daemon(ready=False) as d:
        rc = d.wait_exit(DEFAULT_TIMEOUT * 3)
        d.stopped = True
        assert rc == -signal.SIGSYS, "status %r; stderr:\n%s" % (rc, d.stderr())
        lines = [line for line in d.stderr().splitlines() if "seccomp" in line]
        assert len(lines) == 1, d.stderr()
        assert lines[0].startswith("lineagefs: seccomp refused system call syslog ("), lines[0]
        assert "in thread lineagefs;" in lines[0], lines[0]
        wait_for(lambda: not is_mounted(d.mnt), DEFAULT_TIMEOUT, "the helper to unmount")
