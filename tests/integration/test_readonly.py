# SPDX-License-Identifier: GPL-2.0-or-later
"""What a reader can do wrong: writes get EROFS, junk names ENOENT."""

import errno
import os
import subprocess

import pytest

from helpers import errno_of, proc_name, read_text


@pytest.fixture
def me(mnt):
    return os.path.join(mnt, proc_name(os.getpid()))


def write_attempts(mnt, me):
    status = os.path.join(me, "status")
    return {
        "open status O_WRONLY": lambda: os.open(status, os.O_WRONLY),
        "open status O_RDWR": lambda: os.open(status, os.O_RDWR),
        "open status O_TRUNC": lambda: os.open(status, os.O_RDONLY | os.O_TRUNC),
        "create in root": lambda: os.open(os.path.join(mnt, "new"), os.O_WRONLY | os.O_CREAT, 0o644),
        "create in process dir": lambda: os.open(os.path.join(me, "new"), os.O_WRONLY | os.O_CREAT, 0o644),
        "mkdir root": lambda: os.mkdir(os.path.join(mnt, "newdir")),
        "mkdir children": lambda: os.mkdir(os.path.join(me, "children", "1-1")),
        "unlink status": lambda: os.unlink(status),
        "unlink self": lambda: os.unlink(os.path.join(mnt, "self")),
        "rmdir process": lambda: os.rmdir(me),
        "rename process": lambda: os.rename(me, os.path.join(mnt, "renamed")),
        "rename file": lambda: os.rename(status, os.path.join(me, "status2")),
        "symlink": lambda: os.symlink("x", os.path.join(mnt, "link")),
        "link": lambda: os.link(status, os.path.join(me, "hard")),
        "chmod dir": lambda: os.chmod(me, 0o777),
        "chmod file": lambda: os.chmod(status, 0o666),
        "chown": lambda: os.chown(status, 1, 1),
        "truncate": lambda: os.truncate(status, 0),
        "utime (touch)": lambda: os.utime(status, None),
        "setxattr": lambda: os.setxattr(status, "user.test", b"1"),
        "removexattr": lambda: os.removexattr(status, "user.test"),
        "mknod": lambda: os.mknod(os.path.join(mnt, "fifo"), 0o600 | 0o010000),
    }


def test_writes_get_erofs(mnt, me):
    wrong = {}
    for what, attempt in write_attempts(mnt, me).items():
        err = errno_of(attempt)
        if err != errno.EROFS:
            wrong[what] = errno.errorcode.get(err, err)
    assert not wrong, "expected EROFS, got: %r" % wrong
    # Nothing changed.
    assert "Pid:\t%d\n" % os.getpid() in read_text(os.path.join(me, "status"))


def test_shell_writes_fail(mnt, me):
    for cmd in (["touch", os.path.join(me, "status")],
                ["sh", "-c", "echo x > \"$1\"", "sh", os.path.join(me, "comm")],
                ["mkdir", os.path.join(mnt, "d")],
                ["rm", "-f", os.path.join(me, "cmdline")]):
        r = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        assert r.returncode != 0, "%r succeeded" % cmd
        assert "Read-only file system" in r.stderr, "%r: %s" % (cmd, r.stderr)


def test_mount_is_read_only(mnt):
    assert os.statvfs(mnt).f_flag & os.ST_RDONLY


JUNK = [
    "99999999-1",
    "abc",
    "1-",
    "-1",
    "1-0",
    "0-0",
    "-",
    "1--1",
    "1-abc",
    "4294967296-1",
    "1-99999999999999999999999",
    "x" * 255,
    "1-" + "9" * 253,
    "by-pid2",
    "selfish",
]


def test_junk_names_get_enoent(mnt):
    init = proc_name(1)
    start = init.split("-")[1]
    # Spellings of a real name that ls never shows are not that process.
    junk = JUNK + ["0" + init, "1-0" + start, "+1-" + start, " " + init, init + " ", init + "-"]
    wrong = {}
    for name in junk:
        err = errno_of(os.lstat, os.path.join(mnt, name))
        if err != errno.ENOENT:
            wrong[name[:40]] = errno.errorcode.get(err, err)
    assert not wrong, "expected ENOENT, got: %r" % wrong
    # FUSE passes names up to 1024 bytes to the daemon; longer is the kernel's.
    assert errno_of(os.lstat, os.path.join(mnt, "y" * 256)) in (errno.ENOENT, errno.ENAMETOOLONG)
    assert errno_of(os.lstat, os.path.join(mnt, "1-" + "9" * 1022)) in (errno.ENOENT, errno.ENAMETOOLONG)


def test_junk_below_a_process_and_in_by_pid(mnt, me):
    wrong = {}
    paths = [
        os.path.join(me, "nosuchfile"),
        os.path.join(me, "children", "abc"),
        os.path.join(me, "children", "99999999-1"),
        os.path.join(me, "children", proc_name(1)),  # init is not our child
        os.path.join(me, "..", "x"),
        os.path.join(mnt, "by-pid", "abc"),
        os.path.join(mnt, "by-pid", "99999999"),
        os.path.join(mnt, "by-pid", "0"),
        os.path.join(mnt, "by-pid", "-1"),
        os.path.join(mnt, "by-pid", "01"),
        os.path.join(mnt, "by-pid", "1-1"),
        os.path.join(mnt, "by-pid", "x" * 255),
    ]
    for path in paths:
        err = errno_of(os.lstat, path)
        if err != errno.ENOENT:
            wrong[path[len(mnt):][:60]] = errno.errorcode.get(err, err)
    assert not wrong, "expected ENOENT, got: %r" % wrong
    assert errno_of(os.lstat, os.path.join(me, "status", "x")) == errno.ENOTDIR


def test_reading_directories_and_odd_reads(mnt, me):
    # read() on a directory, reads at offsets past the end, tiny reads.
    dfd = os.open(me, os.O_RDONLY)
    try:
        assert errno_of(os.read, dfd, 10) == errno.EISDIR
    finally:
        os.close(dfd)
    fd = os.open(os.path.join(me, "status"), os.O_RDONLY)
    try:
        whole = b""
        while True:
            chunk = os.read(fd, 1)
            if not chunk:
                break
            whole += chunk
        assert whole.startswith(b"Name:\t")
        assert os.pread(fd, 100, 1 << 40) == b""
        assert os.pread(fd, 5, 0) == whole[:5]
    finally:
        os.close(fd)
