# SPDX-License-Identifier: GPL-2.0-or-later
"""Who may read what under -o allow_other, as `nobody` and as a member of
the -o gid= group (setpriv --reuid --regid --groups).

Every check runs the reader's system call in a child that has switched
user, and reports the errno it got, so what is tested is what the kernel
and the daemon together let that user do, caches included: several tests
have root read first and `nobody` after.
"""

import contextlib
import errno
import json
import os
import subprocess
import sys

import pytest

from conftest import running_daemon
from helpers import (DEFAULT_TIMEOUT, proc_name, read_bytes, settle, spawn_zombie, status,
                     wait_exited, wait_for)

NOBODY = 65534
NOGROUP = 65534
AUDIT_GID = 4242  # the -o gid= group; no need for it to have a name

# Runs in the child as the reader: each op is (kind, path); prints one JSON
# list of [ok, value-or-errno].
PROBE = r"""
import json, os, sys
out = []
for kind, path in json.loads(sys.argv[1]):
    try:
        if kind == "read":
            with open(path, "rb") as f:
                value = f.read().decode("utf-8", "replace")
        elif kind == "readlink":
            value = os.readlink(path)
        elif kind == "listdir":
            value = sorted(os.listdir(path))
        elif kind == "stat":
            value = oct(os.stat(path).st_mode)
        else:
            raise ValueError(kind)
        out.append([True, value])
    except OSError as exc:
        out.append([False, exc.errno])
print(json.dumps(out))
"""


def as_user(ops, groups=()):
    """Runs ops as nobody (with extra groups); returns [(ok, value)]."""
    argv = ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOGROUP]
    argv += ["--groups=%s" % ",".join(str(g) for g in groups)] if groups else ["--clear-groups"]
    argv += [sys.executable, "-c", PROBE, json.dumps(ops)]
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=DEFAULT_TIMEOUT * 3)
    assert r.returncode == 0, r.stderr
    return [tuple(x) for x in json.loads(r.stdout)]


def one(kind, path, groups=()):
    return as_user([(kind, path)], groups)[0]


def refused(result, code=errno.EACCES):
    return result == (False, code)


@contextlib.contextmanager
def policy_daemon(*opts):
    with running_daemon(("-o", ",".join(("allow_other",) + opts))) as d:
        # mkdtemp makes the work directory 0700: the readers must reach
        # the mountpoint.
        os.chmod(d.workdir, 0o755)
        yield d


@pytest.fixture(scope="module")
def shared():
    with policy_daemon("gid=%d" % AUDIT_GID) as d:
        yield d


def as_nobody_argv(*argv):
    return ["setpriv", "--reuid=%d" % NOBODY, "--regid=%d" % NOGROUP, "--clear-groups", *argv]


def live(procs, mnt, argv, comm="sleep"):
    """Starts argv; returns (popen, name) once it has exec'd comm and the
    mount shows that exec, and every listing and attribute the kernel
    cached from before is dropped.

    /proc shows the exec before the daemon has applied it, and a readers'
    check right after would race the daemon: its fork (a listing the
    kernel cached at start lacks the name until the notifier drops it),
    and for a process that changed user before its exec (setpriv), the
    uid its directory's modes say (root's until the UID event is
    applied). The events are applied in order, so the exec shown means
    the uid is too."""
    p = subprocess.Popen(argv)
    procs.append(p)

    def exec_seen():
        with open("/proc/%d/comm" % p.pid) as f:
            return f.read().strip() == comm

    wait_for(exec_seen, DEFAULT_TIMEOUT, "pid %d to exec %s" % (p.pid, comm))
    name = proc_name(p.pid)
    wait_for(lambda: status(mnt, name)["Name"] == comm, DEFAULT_TIMEOUT,
             "the mount to show %s exec %s" % (name, comm))
    settle(mnt)
    return p, name


def exited(mnt, argv):
    p, name = spawn_zombie(argv)
    p.wait()
    wait_exited(mnt, name)
    return name


def test_nobody_cannot_readlink_root_exe(shared, procs):
    _, name = live(procs, shared.mnt, ["sleep", "60"])
    d = os.path.join(shared.mnt, name)
    r = as_user([("readlink", d + "/exe"), ("read", d + "/cmdline"), ("read", d + "/status"),
                 ("read", d + "/ancestry"), ("read", d + "/comm"), ("listdir", d),
                 ("readlink", d + "/parent")])
    assert refused(r[0]), r
    assert refused(r[1]) and refused(r[2]) and refused(r[3]), r
    # What /proc shows everybody stays readable: comm, the entries, the parent.
    assert r[4] == (True, "sleep\n"), r
    assert r[5][0] and "exe" in r[5][1] and "cmdline" in r[5][1], r
    assert r[6][0] and r[6][1].startswith("../"), r


def test_nobody_refused_root_exited_process(shared):
    name = exited(shared.mnt, ["sh", "-c", "exit 3", "--db-pass=s3cret"])
    d = os.path.join(shared.mnt, name)
    ops = [("stat", d), ("listdir", d), ("read", d + "/cmdline"), ("read", d + "/comm"),
           ("listdir", shared.mnt)]
    # The modes a reader got while it ran are kept at most a second
    # (fs_access_attr_timeout()): then it is closed.
    r = wait_for(lambda: (lambda r: r if refused(r[1]) else None)(as_user(ops)), 3.0,
                 "the exited process to close to nobody")
    # hidepid=off: listed, nothing inside reachable.
    assert r[0][0], r
    assert refused(r[1]) and refused(r[2]) and refused(r[3]), r
    assert r[4][0] and name in r[4][1], r


def test_own_processes_read_fine(shared, procs):
    p, name = live(procs, shared.mnt, as_nobody_argv("sleep", "61"))
    d = os.path.join(shared.mnt, name)
    r = as_user([("readlink", d + "/exe"), ("read", d + "/cmdline"), ("read", d + "/status")])
    assert r[0] == (True, os.path.realpath("/usr/bin/sleep")), r
    assert r[1] == (True, "sleep\x0061\x00"), r
    assert r[2][0] and "Uid:\t%d\t%d" % (NOBODY, NOBODY) in r[2][1], r

    gone = exited(shared.mnt, as_nobody_argv("sh", "-c", "exit 4", "--mine"))
    g = os.path.join(shared.mnt, gone)
    r = as_user([("read", g + "/cmdline"), ("read", g + "/status"), ("readlink", g + "/exe")])
    assert r[0] == (True, "sh\x00-c\x00exit 4\x00--mine\x00"), r
    assert r[1][0] and "ExitCode:\texited 4" in r[1][1], r
    assert r[2][0], r


def test_group_member_sees_everything(shared, procs):
    _, name = live(procs, shared.mnt, ["sleep", "62"])
    gone = exited(shared.mnt, ["sh", "-c", "exit 5", "--db-pass=s3cret"])
    d, g = os.path.join(shared.mnt, name), os.path.join(shared.mnt, gone)
    r = as_user([("readlink", d + "/exe"), ("read", d + "/cmdline"), ("read", d + "/status"),
                 ("read", g + "/cmdline"), ("read", g + "/ancestry")], groups=[AUDIT_GID])
    assert all(ok for ok, _ in r), r
    assert r[0][1] == os.path.realpath("/usr/bin/sleep")
    assert r[3][1] == "sh\x00-c\x00exit 5\x00--db-pass=s3cret\x00"


def test_root_reads_first_nobody_still_refused(shared, procs):
    """The kernel's caches hold what root read: nobody must not get it."""
    _, name = live(procs, shared.mnt, ["sleep", "63"])
    gone = exited(shared.mnt, ["sh", "-c", "exit 6", "--db-pass=s3cret"])
    paths = []
    for n in (name, gone):
        d = os.path.join(shared.mnt, n)
        read_bytes(d + "/cmdline")
        read_bytes(d + "/status")
        os.readlink(d + "/exe")
        os.listdir(d)
        paths.append(d)
    for _ in range(2):  # and again, once nobody's own lookups are cached too
        r = as_user([("read", paths[0] + "/cmdline"), ("read", paths[0] + "/status"),
                     ("readlink", paths[0] + "/exe"), ("read", paths[1] + "/cmdline"),
                     ("listdir", paths[1]), ("readlink", paths[1] + "/exe")])
        assert all(refused(x) for x in r), r
    # Root still reads everything after nobody was refused.
    assert read_bytes(paths[1] + "/cmdline") == b"sh\0-c\0exit 6\0--db-pass=s3cret\0"


def test_hidepid_invisible(procs):
    with policy_daemon("gid=%d" % AUDIT_GID, "hidepid=invisible") as d:
        _, name = live(procs, d.mnt, ["sleep", "64"])
        p2, own = live(procs, d.mnt, as_nobody_argv("sleep", "65"))
        gone = exited(d.mnt, ["sh", "-c", "exit 7"])
        # Root looks everything up first: the kernel now has the entries.
        for n in (name, gone):
            os.stat(os.path.join(d.mnt, n))
        assert name in os.listdir(d.mnt)
        pid = int(name.split("-")[0])
        r = as_user([("listdir", d.mnt), ("stat", os.path.join(d.mnt, name)),
                     ("stat", os.path.join(d.mnt, gone)),
                     ("readlink", os.path.join(d.mnt, "by-pid", str(pid))),
                     ("listdir", os.path.join(d.mnt, "by-pid")),
                     ("read", os.path.join(d.mnt, own, "cmdline"))])
        listing = r[0][1]
        assert r[0][0] and name not in listing and gone not in listing, r
        assert own in listing, listing
        assert refused(r[1], errno.ENOENT) and refused(r[2], errno.ENOENT), r
        assert refused(r[3], errno.ENOENT), r
        assert r[4][0] and str(pid) not in r[4][1] and str(p2.pid) in r[4][1], r
        assert r[5] == (True, "sleep\x0065\x00"), r
        # The group sees them all, and root still does after nobody.
        m = as_user([("listdir", d.mnt), ("read", os.path.join(d.mnt, gone, "cmdline"))],
                    groups=[AUDIT_GID])
        assert m[0][0] and name in m[0][1] and gone in m[0][1], m
        assert m[1] == (True, "sh\x00-c\x00exit 7\x00"), m
        assert name in os.listdir(d.mnt) and os.path.isdir(os.path.join(d.mnt, name))


def test_hidepid_noaccess(procs):
    with policy_daemon("hidepid=noaccess") as d:
        _, name = live(procs, d.mnt, ["sleep", "66"])
        _, own = live(procs, d.mnt, as_nobody_argv("sleep", "67"))
        r = as_user([("listdir", d.mnt), ("listdir", os.path.join(d.mnt, name)),
                     ("read", os.path.join(d.mnt, name, "comm")),
                     ("listdir", os.path.join(d.mnt, own))])
        assert r[0][0] and name in r[0][1], r
        assert refused(r[1]) and refused(r[2]), r
        assert r[3][0] and "cmdline" in r[3][1], r


def test_without_allow_other_only_root_reads(lfs):
    os.chmod(lfs.workdir, 0o755)
    assert refused(one("stat", lfs.mnt)), "nobody reached a mount without allow_other"


@pytest.mark.parametrize("bad", ["gid=", "gid=nosuchgroup-lineagefs", "hidepid=2x",
                                 "hidepid=all"])
def test_bad_policy_options(bad, tmp_path):
    from test_cli import assert_fails_cleanly
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    line = assert_fails_cleanly(["-o", "allow_other," + bad, str(mnt)], str(mnt))
    assert bad.split("=")[0] in line, line
