# SPDX-License-Identifier: GPL-2.0-or-later
"""by-exe/ and by-uid/: exactly the processes that ran a path or ran as a
uid, nested path components, following execs and uid changes, listings
that stay fresh while cached, and entries that go with forgotten records.
"""

import os
import re
import shutil
import subprocess

from helpers import (
    DEFAULT_TIMEOUT,
    HELPER_ENV,
    barrier,
    proc_name,
    settle,
    spawn_zombie,
    wait_exec,
    wait_for,
)


def exe_dir(mnt, path):
    return os.path.join(mnt, "by-exe", path.lstrip("/"))


def run_exited(argv, **kwargs):
    """Run argv to its end; return its lineagefs name."""
    p, name = spawn_zombie(argv, env=HELPER_ENV, **kwargs)
    p.wait()
    return name


def wait_listing(path, want, timeout=DEFAULT_TIMEOUT):
    seen = []

    def same():
        try:
            seen[:] = [sorted(os.listdir(path))]
        except FileNotFoundError:
            seen[:] = [None]
        return seen[0] == sorted(want) if want is not None else seen[0] is None

    try:
        wait_for(same, timeout, "%s to list %s" % (path, want))
    except AssertionError as exc:
        raise AssertionError("%s (last: %s)" % (exc, seen)) from None
    # The other listings the same changes touched (the parent's, by-uid/)
    # are dropped by the notifier, maybe a moment later.
    settle(re.split(r"/by-(?:exe|uid)(?:/|$)", path)[0], timeout)


def test_by_exe_lists_exactly_who_ran_it(mnt, bindir, procs):
    prog = os.path.join(bindir, "prog")
    shutil.copy(shutil.which("true"), prog)
    # Listed (so cached by the kernel) before it ran: must not go stale.
    parent = exe_dir(mnt, os.path.dirname(bindir))
    if os.path.isdir(parent):
        assert os.path.basename(bindir) not in os.listdir(parent)
    first = run_exited([prog])
    wait_listing(exe_dir(mnt, prog), [first])
    assert os.path.basename(bindir) in os.listdir(parent)
    second = run_exited([prog])
    wait_listing(exe_dir(mnt, prog), [first, second])
    # A shell that execs it is listed too, and under the shell's path.
    third = run_exited(["sh", "-c", "exec %s" % prog])
    wait_listing(exe_dir(mnt, prog), [first, second, third])
    assert third in os.listdir(exe_dir(mnt, os.path.realpath(shutil.which("sh"))))
    # The parent directory lists the component; links climb to the root.
    assert os.listdir(exe_dir(mnt, bindir)) == ["prog"]
    target = os.readlink(os.path.join(exe_dir(mnt, prog), first))
    assert target == "../" * (len(prog.strip("/").split("/")) + 1) + first
    assert os.path.isdir(os.path.join(exe_dir(mnt, prog), first))
    assert os.path.samefile(os.path.join(exe_dir(mnt, prog), first, "status"),
                            os.path.join(mnt, first, "status"))
    # Names that are not there.
    for missing in ("nope", "1-1", "12345678-9"):
        assert not os.path.exists(os.path.join(exe_dir(mnt, prog), missing))


def test_by_exe_follows_exec(mnt, procs):
    p = subprocess.Popen(["sh", "-c", "read x; exec sleep 300"], stdin=subprocess.PIPE,
                         env=HELPER_ENV)
    procs.append(p)
    wait_exec(p.pid, "sh")
    name = proc_name(p.pid)
    sh = exe_dir(mnt, os.path.realpath(shutil.which("sh")))
    sleep = exe_dir(mnt, os.path.realpath(shutil.which("sleep")))
    wait_for(lambda: name in os.listdir(sh), DEFAULT_TIMEOUT, "the shell under its exe")
    # (No directory at all if nothing ran sleep before.)
    assert not os.path.isdir(sleep) or name not in os.listdir(sleep)
    p.stdin.write(b"go\n")
    p.stdin.flush()
    wait_exec(p.pid, "sleep")
    wait_for(lambda: name in os.listdir(sleep), DEFAULT_TIMEOUT, "the exec'd sleep")
    # It ran both: still listed under the shell.
    assert name in os.listdir(sh)


def test_by_exe_name_resolves_after_the_first_exec(mnt, procs):
    """A forked child is listed under its creator's image until it execs;
    its name still resolves there after that first exec (a walk such as
    tar's that listed it just before must not see it vanish), and no
    longer after a second one."""
    p = subprocess.Popen(["sh", "-c", "read x; exec sleep 300"], stdin=subprocess.PIPE,
                         env=HELPER_ENV)
    procs.append(p)
    wait_exec(p.pid, "sh")
    name = proc_name(p.pid)
    python = exe_dir(mnt, os.readlink("/proc/self/exe"))
    wait_for(lambda: proc_name(os.getpid()) in os.listdir(python), DEFAULT_TIMEOUT,
             "this test's python under its exe")
    # Its FORK and EXEC applied (events other than an EXEC may wait a few
    # milliseconds to be taken together).
    barrier(mnt)
    assert name not in os.listdir(python)
    assert os.readlink(os.path.join(python, name)).endswith("/" + name)
    p.stdin.write(b"go\n")
    p.stdin.flush()
    wait_exec(p.pid, "sleep")
    wait_for(lambda: not os.path.lexists(os.path.join(python, name)), DEFAULT_TIMEOUT,
             "the name to go after a second exec")


def test_by_uid_follows_setuid(mnt, procs):
    p = subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                          "sleep", "300"], env=HELPER_ENV)
    procs.append(p)
    wait_exec(p.pid, "sleep")
    name = proc_name(p.pid)
    nobody = os.path.join(mnt, "by-uid", "65534")
    wait_for(lambda: os.path.isdir(nobody) and name in os.listdir(nobody), DEFAULT_TIMEOUT,
             "by-uid/65534 to list the process")
    settle(mnt)
    # It ran as root before setpriv changed its uid.
    assert name in os.listdir(os.path.join(mnt, "by-uid", "0"))
    assert os.readlink(os.path.join(nobody, name)) == "../../" + name
    assert "65534" in os.listdir(os.path.join(mnt, "by-uid"))
    for bad in ("00", "-1", "abc", "4294967296"):
        assert not os.path.exists(os.path.join(mnt, "by-uid", bad))
    # Every listed process really ran as 65534 (its history says so).
    for entry in os.listdir(nobody):
        with open(os.path.join(nobody, entry, "history")) as f:
            text = f.read()
        with open(os.path.join(nobody, entry, "status")) as f:
            st = f.read()
        assert "65534" in text or "Uid:\t65534" in st or "\t65534\n" in st, entry


def test_index_drops_forgotten_records(start_daemon, bindir):
    lfs = start_daemon(["--max-exited=30"])
    mnt = lfs.mnt
    prog = os.path.join(bindir, "once")
    shutil.copy(shutil.which("true"), prog)
    name = run_exited([prog])
    wait_listing(exe_dir(mnt, prog), [name])
    uid_dir = os.path.join(mnt, "by-uid", "0")
    assert name in os.listdir(uid_dir)
    # Push it out of the retention window.
    for _ in range(60):
        subprocess.run(["/bin/true"], check=True, env=HELPER_ENV)
    barrier(mnt)
    wait_for(lambda: not os.path.exists(os.path.join(mnt, name)), DEFAULT_TIMEOUT,
             "the record to be forgotten")
    # Its path had nobody else: the directory is gone, up to the root.
    wait_listing(exe_dir(mnt, prog), None)
    assert not os.path.exists(exe_dir(mnt, bindir))
    assert name not in os.listdir(uid_dir)
    assert not os.path.lexists(os.path.join(uid_dir, name))
