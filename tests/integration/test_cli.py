# SPDX-License-Identifier: GPL-2.0-or-later
"""The command line: options, bad values, and every way of stopping."""

import os
import resource
import shutil
import signal
import subprocess
import tempfile

import pytest

from conftest import daemon_env, lineagefs_binary
from helpers import DEFAULT_TIMEOUT, is_mounted, proc_name, stats, wait_for


def run(args, timeout=DEFAULT_TIMEOUT):
    binary = lineagefs_binary()
    if binary is None:
        pytest.skip("no lineagefs binary: run through meson test, or set LINEAGEFS_BIN")
    return subprocess.run([binary] + args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout, env=daemon_env())


def test_version():
    r = run(["--version"])
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    version = os.environ.get("LINEAGEFS_VERSION")
    if version:
        assert version in out, "--version printed %r" % out
    assert "lineagefs" in out.lower()


def test_help_lists_options_with_defaults():
    r = run(["--help"])
    assert r.returncode == 0, r.stderr
    out = r.stdout + r.stderr
    for needle in ("--max-exited", "--rcvbuf", "100000", "MOUNTPOINT", "-f", "-o", "--version"):
        assert needle in out, "--help lacks %r:\n%s" % (needle, out)


@pytest.fixture
def empty_dir():
    d = tempfile.mkdtemp(prefix="lineagefs-cli-")
    yield d
    if is_mounted(d):
        subprocess.run(["fusermount3", "-uz", d], check=False)
    shutil.rmtree(d, ignore_errors=True)


def assert_fails_cleanly(args, mountpoint, must_mention=None):
    """Start with args; it must exit non-zero at once with one stderr line."""
    binary = lineagefs_binary()
    if binary is None:
        pytest.skip("no lineagefs binary: run through meson test, or set LINEAGEFS_BIN")
    p = subprocess.Popen([binary, "-f"] + args, stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                         env=daemon_env())
    try:
        out, err = p.communicate(timeout=DEFAULT_TIMEOUT)
    except subprocess.TimeoutExpired:
        p.kill()
        out, err = p.communicate()
        if mountpoint and is_mounted(mountpoint):
            subprocess.run(["fusermount3", "-uz", mountpoint], check=False)
        pytest.fail("lineagefs %s did not fail: it kept running (and mounted)" % " ".join(args))
    assert p.returncode != 0, "lineagefs %s exited 0" % " ".join(args)
    assert p.returncode < 128 and p.returncode > 0, "crashed? status %d" % p.returncode
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1, "expected one stderr line, got %d:\n%s" % (len(lines), err)
    assert out == "", "unexpected stdout: %r" % out
    if must_mention:
        assert must_mention in lines[0], "%r does not mention %r" % (lines[0], must_mention)
    if mountpoint:
        assert not is_mounted(mountpoint), "%s left mounted" % mountpoint
    return lines[0]


@pytest.mark.parametrize("bad", [
    "--max-exited=abc",
    "--max-exited=-1",
    "--max-exited=",
    "--max-exited=12abc",
    "--max-exited=99999999999999999999",
    "--rcvbuf=0",
    "--rcvbuf=abc",
    "--rcvbuf=-4096",
])
def test_bad_option_value(bad, empty_dir, skip_unless_mountable):
    line = assert_fails_cleanly([bad, empty_dir], empty_dir)
    assert bad.split("=")[0] in line, "message does not name the option: %r" % line


def test_missing_mountpoint_directory(empty_dir, skip_unless_mountable):
    missing = os.path.join(empty_dir, "does-not-exist")
    assert_fails_cleanly([missing], None, must_mention=missing)
    assert not os.path.exists(missing)


def test_no_mountpoint_argument(skip_unless_mountable):
    assert_fails_cleanly([], None)


def test_unknown_option(empty_dir, skip_unless_mountable):
    assert_fails_cleanly(["--no-such-option", empty_dir], empty_dir)


def test_valid_options_are_accepted(start_daemon):
    d = start_daemon(["--max-exited=50", "--rcvbuf=8388608"])
    assert proc_name(os.getpid()) in os.listdir(d.mnt)
    assert int(stats(d.mnt)["events_fork"]) >= 0


def test_max_exited_with_separate_value(start_daemon):
    # SPEC.md writes the option as "--max-exited N".
    d = start_daemon(["--max-exited", "50"])
    assert proc_name(os.getpid()) in os.listdir(d.mnt)


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_signal_unmounts_and_exits_0(start_daemon, signum):
    d = start_daemon()
    d.stop(signum)


def test_fusermount_u_ends_the_daemon(start_daemon):
    d = start_daemon()
    r = subprocess.run(["fusermount3", "-u", d.mnt], stderr=subprocess.PIPE, text=True)
    assert r.returncode == 0, r.stderr
    d.check_clean_exit(d.wait_exit(), "fusermount3 -u")


def test_sigterm_while_readers_are_busy(start_daemon):
    # Readers in flight must not keep the daemon from ending.
    d = start_daemon()
    readers = [subprocess.Popen(["sh", "-c", 'while cat "$1"/*/status >/dev/null 2>&1; do :; done',
                                 "sh", d.mnt], stderr=subprocess.DEVNULL) for _ in range(2)]
    try:
        wait_for(lambda: all(r.poll() is None for r in readers), what="readers to start")
        d.stop(signal.SIGTERM)
    finally:
        for r in readers:
            if r.poll() is None:
                r.kill()
            r.wait(DEFAULT_TIMEOUT)


def test_allow_other_lets_another_user_read_self(start_daemon):
    d = start_daemon(["-o", "allow_other"])
    os.chmod(os.path.dirname(d.mnt), 0o755)
    nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
    # setpriv execs its command, so the reader's pid is the Popen's.
    p = subprocess.Popen(nobody + ["readlink", d.mnt + "/self"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=DEFAULT_TIMEOUT)
    assert p.returncode == 0, err
    assert out.strip().startswith("%d-" % p.pid), "self of the nobody reader: %r (pid %d)" % (out, p.pid)

    p = subprocess.Popen(nobody + ["cat", d.mnt + "/self/status"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True)
    out, err = p.communicate(timeout=DEFAULT_TIMEOUT)
    assert p.returncode == 0, err
    fields = dict(line.split(":\t", 1) for line in out.splitlines())
    assert fields["Pid"] == str(p.pid)
    assert fields["Uid"] == "65534\t65534"
    assert fields["Name"] == "cat"


def test_raises_its_open_file_limit(start_daemon):
    """In a storm the event thread holds a /proc fd per EXEC it has read
    but not applied: started with a soft limit of 256, the daemon raises it
    towards the hard limit (at most 65536)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (256, hard))
    try:
        lfs = start_daemon()
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))
    with open("/proc/%d/limits" % lfs.proc.pid) as f:
        line = next(line for line in f if line.startswith("Max open files"))
    daemon_soft = line.split()[3]
    wanted = 65536 if hard == resource.RLIM_INFINITY else min(hard, 65536)
    assert daemon_soft == str(wanted), line
