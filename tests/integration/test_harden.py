# SPDX-License-Identifier: GPL-2.0-or-later
"""The daemon's hardening, read from /proc/<daemon>/task/*/status.

Once mounted, every thread keeps CAP_SYS_PTRACE alone (bounding set too),
has no_new_privs and the seccomp filter, and leaves SIGSYS unblocked so the
filter's handler can say what it refused. The unmount helper keeps
CAP_SYS_ADMIN alone. A provoked forbidden system call (debug builds) stops
the daemon with one line naming it, and the helper still unmounts.
"""

import os
import re
import shutil
import signal
import subprocess

import pytest

from conftest import lineagefs_binary, running_daemon
from helpers import DEFAULT_TIMEOUT, is_mounted, proc_name, read_text, wait_for

CAP_SYS_ADMIN = 21
CAP_SYS_PTRACE = 19
CAP_DAC_READ_SEARCH = 2
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


def thread_problems(pid):
    """What is wrong with the daemon's threads; [] once each has settled
    (the event and stat threads drop CAP_SYS_NICE as they start)."""
    threads = tasks(pid)
    names = sorted(st["Name"] for st in threads.values())
    # The event thread, the stat reader, the notifier and the main thread
    # at least: a thread started before the drop would show here.
    problems = ["no %s thread in %s" % (name, names)
                for name in ("lin-events", "lin-stat", "lin-notify") if name not in names]
    want = "%016x" % (1 << CAP_SYS_PTRACE)
    for tid, st in threads.items():
        what = "thread %s (%s)" % (tid, st["Name"])
        for key, value in (("CapEff", want), ("CapPrm", want), ("CapBnd", want),
                           ("CapInh", "%016x" % 0), ("CapAmb", "%016x" % 0),
                           ("NoNewPrivs", "1"), ("Seccomp", "2")):
            if st[key] != value:
                problems.append("%s %s %s, not %s" % (what, key, st[key], value))
        if int(st["SigBlk"], 16) & SIGSYS_BIT:
            problems.append("%s blocks SIGSYS" % what)
    return problems


def test_every_thread_keeps_ptrace_only(lfs):
    try:
        wait_for(lambda: not thread_problems(lfs.proc.pid), DEFAULT_TIMEOUT,
                 "every thread to be hardened")
    except AssertionError:
        raise AssertionError("\n".join(thread_problems(lfs.proc.pid)))


def test_env_and_hash_exe_add_dac_read_search_only(start_daemon):
    """--env reads other users' environ (0400) and --hash-exe opens
    binaries others may not read: CAP_DAC_READ_SEARCH then, nothing more;
    the hash thread takes no signal but SIGSYS."""
    lfs = start_daemon(["--hash-exe", "--env=LD_PRELOAD"])
    want = "%016x" % ((1 << CAP_SYS_PTRACE) | (1 << CAP_DAC_READ_SEARCH))
    sigterm = 1 << (signal.SIGTERM - 1)
    problems = []

    def settled():
        threads = tasks(lfs.proc.pid)
        problems[:] = ["no lin-hash thread"] if not any(
            st["Name"] == "lin-hash" for st in threads.values()) else []
        for tid, st in threads.items():
            for key in ("CapEff", "CapPrm", "CapBnd"):
                if st[key] != want:
                    problems.append("thread %s (%s) %s %s" % (tid, st["Name"], key, st[key]))
            blocked = int(st["SigBlk"], 16)
            if st["Name"] == "lin-hash" and (blocked & SIGSYS_BIT or not blocked & sigterm):
                problems.append("lin-hash SigBlk %s" % st["SigBlk"])
        return not problems

    try:
        wait_for(settled, DEFAULT_TIMEOUT, "every thread to be hardened")
    except AssertionError:
        raise AssertionError("\n".join(problems))


def test_unmount_helper_keeps_sys_admin_only(lfs):
    want = "%016x" % (1 << CAP_SYS_ADMIN)

    def helper_settled():
        helpers = [st for _, st in children(lfs.proc.pid) if st["Name"] == "lin-unmount"]
        assert len(helpers) == 1, children(lfs.proc.pid)
        st = helpers[0]
        return (st["CapEff"] == want and st["CapPrm"] == want and st["CapBnd"] == want
                and st["NoNewPrivs"] == "1" and st["Seccomp"] == "2") or None

    wait_for(helper_settled, DEFAULT_TIMEOUT, "the helper to keep CAP_SYS_ADMIN alone")


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
    # /proc shows the exec before the daemon has applied it: the mount's
    # comm says when it has (exe was read by the same EXEC), and only then
    # is its exe link the one to check (setpriv's before).
    wait_for(lambda: read_text(os.path.join(mnt, name, "comm")).strip() == "sleep",
             DEFAULT_TIMEOUT, "the mount to show %s's exec of sleep" % name)
    target = os.readlink(os.path.join(mnt, name, "exe"))
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


@pytest.fixture
def in_slave_namespace(tmp_path, monkeypatch):
    """LINEAGEFS_BIN runs the daemon in a mount namespace of its own, a slave
    of this one, as systemd's ProtectSystem= and PrivateTmp= do."""
    wrapper = tmp_path / "lineagefs-sandboxed"
    wrapper.write_text("#!/bin/sh\nexec unshare --mount --propagation slave %s \"$@\"\n"
                       % lineagefs_binary())
    wrapper.chmod(0o755)
    monkeypatch.setenv("LINEAGEFS_BIN", str(wrapper))


def test_mount_namespace_puts_the_mount_where_readers_are(in_slave_namespace):
    ns = "/proc/%d/ns/mnt" % os.getpid()
    with running_daemon(("-o", "allow_other", "--mount-namespace=" + ns)) as d:
        # wait_ready() saw it mounted here, and listing this test.
        assert is_mounted(d.mnt)
        assert os.path.isdir(os.path.join(d.mnt, proc_name(os.getpid())))
        d.stop()  # asserts status 0, unmounted here, no sanitizer report


def test_without_mount_namespace_a_sandboxed_mount_stays_inside(in_slave_namespace):
    """Why --mount-namespace exists: the daemon runs, readers see nothing."""
    with running_daemon(ready=False) as d:
        def mounted_inside():
            with open("/proc/%d/mountinfo" % d.proc.pid) as f:
                return any(line.split()[4] == os.path.realpath(d.mnt) for line in f)

        wait_for(mounted_inside, DEFAULT_TIMEOUT, "the daemon's own namespace to have the mount")
        assert not is_mounted(d.mnt)


def test_mount_namespace_errors(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    from test_cli import assert_fails_cleanly
    line = assert_fails_cleanly(["--mount-namespace=/nonexistent/ns", str(mnt)], str(mnt))
    assert "--mount-namespace" in line and "/nonexistent/ns" in line, line
    line = assert_fails_cleanly(["--mount-namespace=/proc/self/ns/net", str(mnt)], str(mnt))
    assert "mount namespace" in line, line


def unit_for_this_build(tmp_path):
    source = os.path.join(os.environ.get("LINEAGEFS_SOURCE_ROOT", "."), "examples",
                          "lineagefs.service")
    with open(source) as f:
        text = f.read()
    unit = tmp_path / "lineagefs.service"
    unit.write_text(text.replace("@bindir@", os.path.dirname(lineagefs_binary())))
    return text, unit


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_service_unit_verifies_and_is_sandboxed(tmp_path):
    text, unit = unit_for_this_build(tmp_path)
    for directive in ("ProtectSystem=strict", "ProtectHome=", "PrivateTmp=yes",
                      "NoNewPrivileges=yes", "CapabilityBoundingSet=", "SystemCallFilter=",
                      "RestrictAddressFamilies=AF_NETLINK AF_UNIX", "StateDirectory=lineagefs",
                      "--journal=/var/lib/lineagefs", "--mount-namespace=/proc/1/ns/mnt"):
        assert directive in text, directive
    # --man=no: the man page is installed with the package, not here.
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", str(unit)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=60)
    assert r.returncode == 0 and r.stdout.strip() == "", r.stdout
    r = subprocess.run(["systemd-analyze", "security", "--offline=true", str(unit)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=60)
    m = re.search(r"Overall exposure level for lineagefs.service: ([\d.]+)", r.stdout)
    assert m, r.stdout
    # 10 is a service with no sandbox at all; systemd calls <= 4.9 "OK".
    assert float(m.group(1)) <= 4.0, r.stdout
