# SPDX-License-Identifier: GPL-2.0-or-later
"""pytest fixtures that mount lineagefs for real.

A test gets a running daemon (`lfs`, shared by the tests of one module, or
its own through `start_daemon`). Teardown stops the daemon with SIGTERM and
fails the test when it does not exit 0 in time, leaves the mount behind, or
printed a sanitizer report. Whatever happens, nothing stays mounted.

Without root or /dev/fuse every test is skipped with the reason, and the
run exits 77 so that meson reports the suite as skipped, not passed.
"""

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from helpers import DEFAULT_TIMEOUT, is_mounted, proc_name, wait_for

SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "LeakSanitizer")

STOP_TIMEOUT = max(DEFAULT_TIMEOUT, 15.0)


def _find_binary():
    binary = os.environ.get("LINEAGEFS_BIN")
    if binary:
        return binary
    here = os.path.dirname(os.path.abspath(__file__))
    root = os.path.dirname(os.path.dirname(here))
    for build in ("build", "build-asan"):
        candidate = os.path.join(root, build, "src", "lineagefs")
        if os.access(candidate, os.X_OK):
            return candidate
    return None


def _skip_reason():
    if os.geteuid() != 0:
        return "needs root: mounting and the cn_proc netlink socket need CAP_SYS_ADMIN/CAP_NET_ADMIN"
    if not os.path.exists("/dev/fuse"):
        return "needs /dev/fuse (modprobe fuse, or pass --device /dev/fuse to the container)"
    try:
        os.close(os.open("/dev/fuse", os.O_RDWR))
    except OSError as exc:
        return "cannot open /dev/fuse: %s" % exc.strerror
    if shutil.which("fusermount3") is None:
        return "needs fusermount3 (apt-get install fuse3)"
    if _find_binary() is None:
        return "no lineagefs binary: run through meson test, or set LINEAGEFS_BIN"
    return None


def lineagefs_binary():
    return _find_binary()


def daemon_env():
    env = dict(os.environ)
    # Only used when the daemon is built with the sanitizers; harmless otherwise.
    env.setdefault("ASAN_OPTIONS", "halt_on_error=1:print_stacktrace=1:detect_leaks=1")
    env.setdefault("UBSAN_OPTIONS", "halt_on_error=1:print_stacktrace=1")
    return env


class Daemon:
    """One lineagefs process in the foreground, its mountpoint and its stderr."""

    def __init__(self, workdir, args=()):
        self.workdir = workdir
        self.mnt = os.path.join(workdir, "mnt")
        os.mkdir(self.mnt)
        self.stderr_path = os.path.join(workdir, "stderr")
        self.argv = [lineagefs_binary(), "-f", *args, self.mnt]
        with open(self.stderr_path, "wb") as err:
            self.proc = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=err,
                stderr=err,
                env=daemon_env(),
            )
        self.stopped = False

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except FileNotFoundError:
            return ""

    def sanitizer_report(self):
        text = self.stderr()
        for marker in SANITIZER_MARKERS:
            if marker in text:
                return text
        return None

    def wait_ready(self, timeout=DEFAULT_TIMEOUT):
        own = proc_name(os.getpid())

        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(
                    "lineagefs exited with %s before the mount was ready; stderr:\n%s"
                    % (self.proc.returncode, self.stderr())
                )
            return is_mounted(self.mnt) and own in os.listdir(self.mnt)

        wait_for(ready, timeout, "the mount to be live and list this test (%s)" % own)

    def send_signal(self, signum):
        self.proc.send_signal(signum)

    def wait_exit(self, timeout=STOP_TIMEOUT):
        """Wait for the daemon to end; return its exit status or None on timeout."""
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None

    def check_clean_exit(self, rc, how):
        """Assert what every way of stopping must give: 0, unmounted, no report."""
        self.stopped = True
        assert rc is not None, "lineagefs did not exit within %.0fs of %s; stderr:\n%s" % (
            STOP_TIMEOUT,
            how,
            self.stderr(),
        )
        assert rc == 0, "lineagefs exited with %d after %s; stderr:\n%s" % (rc, how, self.stderr())
        assert not is_mounted(self.mnt), "%s still mounted after %s" % (self.mnt, how)
        report = self.sanitizer_report()
        assert report is None, "sanitizer report on lineagefs stderr:\n" + report

    def stop(self, signum=signal.SIGTERM):
        if self.proc.poll() is None:
            self.send_signal(signum)
        self.check_clean_exit(self.wait_exit(), signal.Signals(signum).name)

    def force_cleanup(self):
        """Leave nothing behind, whatever state the daemon is in."""
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(STOP_TIMEOUT)
            except subprocess.TimeoutExpired:
                pass
        if is_mounted(self.mnt):
            subprocess.run(["fusermount3", "-uz", self.mnt], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        with contextlib.suppress(OSError):
            os.rmdir(self.mnt)
        shutil.rmtree(self.workdir, ignore_errors=True)


@contextlib.contextmanager
def running_daemon(args=(), ready=True):
    """Start a daemon; at exit stop it with SIGTERM and check it ended cleanly.

    A test that stops the daemon itself (signals, fusermount3 -u) calls
    Daemon.stop/check_clean_exit; this then only cleans up.
    """
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)
    workdir = tempfile.mkdtemp(prefix="lineagefs-test-")
    daemon = None
    try:
        daemon = Daemon(workdir, args)
        if ready:
            daemon.wait_ready()
        yield daemon
        if not daemon.stopped:
            daemon.stop(signal.SIGTERM)
    finally:
        if daemon is not None:
            daemon.force_cleanup()
        else:
            shutil.rmtree(workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def lfs():
    """A daemon shared by the tests of one module."""
    with running_daemon() as daemon:
        yield daemon


@pytest.fixture
def mnt(lfs):
    """The shared daemon's mountpoint; fails early if the daemon died."""
    assert lfs.proc.poll() is None, "lineagefs died (status %s); stderr:\n%s" % (
        lfs.proc.returncode,
        lfs.stderr(),
    )
    return lfs.mnt


@pytest.fixture
def start_daemon():
    """Factory for tests that need their own daemon (options, signals)."""
    stack = contextlib.ExitStack()

    def start(args=(), ready=True):
        return stack.enter_context(running_daemon(args, ready))

    with stack:
        yield start


@pytest.fixture
def skip_unless_mountable():
    reason = _skip_reason()
    if reason:
        pytest.skip(reason)


@pytest.fixture
def procs():
    """Processes a test spawned; killed and reaped at teardown."""
    procs = []
    yield procs
    for p in procs:
        if p.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                p.kill()
        with contextlib.suppress(subprocess.TimeoutExpired):
            p.wait(DEFAULT_TIMEOUT)


@pytest.fixture
def bindir():
    """A directory for programs a test runs, world-readable, on a disk
    (not tmpfs: a set-user-ID bit must work there); removed after."""
    d = tempfile.mkdtemp(prefix="lineagefs-bin-", dir="/var/tmp")
    os.chmod(d, 0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def pytest_sessionfinish(session, exitstatus):
    # meson's convention: 77 means skipped. pytest says 0 when tests were
    # skipped, which would make meson report a pass for a suite that could
    # not mount anything. So: no failure, but no mount possible here -> 77.
    if exitstatus != 0:
        return
    reason = _skip_reason()
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    stats = reporter.stats if reporter is not None else {}
    if reason is not None or (stats.get("skipped") and not stats.get("passed")):
        if reporter is not None and reason is not None:
            reporter.write_line("integration suite skipped: %s" % reason)
        session.exitstatus = 77
