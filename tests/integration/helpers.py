# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared helpers for the lineagefs integration tests.

Everything here reads /proc or the mount the way a user would; nothing
touches the daemon's internals. Every wait is a bounded poll on a condition
(wait_for), never a fixed sleep.
"""

import os
import subprocess
import time

# Under ASan the daemon is several times slower; keep waits generous but bounded.
DEFAULT_TIMEOUT = float(os.environ.get("LINEAGEFS_TEST_TIMEOUT", "10"))

# Helpers we spawn may be built with the sanitizers too; their own leak
# reports are not what these tests are about.
HELPER_ENV = dict(os.environ, ASAN_OPTIONS="detect_leaks=0", LSAN_OPTIONS="detect_leaks=0")


class WaitTimeout(AssertionError):
    pass


def helper(name):
    """Path of a C helper built by meson; skips the test when missing."""
    import pytest

    d = os.environ.get("LINEAGEFS_HELPER_DIR")
    path = os.path.join(d, name) if d else None
    if not path or not os.access(path, os.X_OK):
        pytest.skip("%s not built (run through meson test)" % name)
    return path


def wait_for(cond, timeout=DEFAULT_TIMEOUT, what=None, interval=0.01):
    """Poll cond() until it returns a truthy value; return that value.

    Raises WaitTimeout (an AssertionError, so the test fails with a message)
    after timeout seconds. Exceptions from cond() count as "not yet" until
    the deadline, then the last one is reported.
    """
    deadline = time.monotonic() + timeout
    last_exc = None
    while True:
        try:
            value = cond()
            if value:
                return value
            last_exc = None
        except (OSError, ValueError, KeyError) as exc:
            last_exc = exc
        if time.monotonic() >= deadline:
            msg = "timed out after %.1fs waiting for %s" % (
                timeout,
                what or getattr(cond, "__name__", "condition"),
            )
            if last_exc is not None:
                msg += " (last error: %r)" % (last_exc,)
            raise WaitTimeout(msg)
        time.sleep(interval)
        interval = min(interval * 1.5, 0.1)


def proc_stat_fields(pid):
    """Fields of /proc/<pid>/stat after the comm, numbered as in proc(5).

    The comm may hold spaces and ')' so it is skipped by taking the text
    after the LAST ')'. Returns a dict {field_number: string} for 3..52.
    """
    with open("/proc/%d/stat" % pid, "rb") as f:
        data = f.read().decode("utf-8", "replace")
    rest = data[data.rindex(")") + 2:].split()
    return {i + 3: v for i, v in enumerate(rest)}


def proc_start(pid):
    return int(proc_stat_fields(pid)[22])


def proc_ppid(pid):
    return int(proc_stat_fields(pid)[4])


def proc_state(pid):
    return proc_stat_fields(pid)[3]


def proc_comm(pid):
    with open("/proc/%d/comm" % pid, "rb") as f:
        return f.read().rstrip(b"\n").decode("utf-8", "replace")


def wait_exec(pid, comm, timeout=DEFAULT_TIMEOUT):
    """Wait until /proc shows pid after its exec to comm.

    The kernel sets the new comm before it lays out the new argv, so a
    reader can briefly see the new comm with an empty cmdline: wait for both.
    """

    def done():
        if proc_comm(pid) != comm:
            return False
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            return f.read() != b""

    wait_for(done, timeout, "pid %d to exec %s" % (pid, comm))


def proc_name(pid):
    """The lineagefs directory name of a live (or zombie) pid."""
    return "%d-%d" % (pid, proc_start(pid))


def proc_pids():
    return [int(d) for d in os.listdir("/proc") if d.isdigit()]


def proc_names():
    """{pid: name} for every process currently in /proc."""
    names = {}
    for pid in proc_pids():
        try:
            names[pid] = proc_name(pid)
        except (FileNotFoundError, ProcessLookupError, ValueError):
            pass
    return names


def proc_is_alive_as(pid, name):
    try:
        return proc_name(pid) == name
    except (FileNotFoundError, ProcessLookupError, ValueError):
        return False


def proc_tids(pid):
    return [int(t) for t in os.listdir("/proc/%d/task" % pid)]


def read_bytes(path):
    with open(path, "rb") as f:
        return f.read()


def read_text(path):
    return read_bytes(path).decode("utf-8")


def parse_status(text):
    """'Key:\\tvalue' lines -> dict. Asserts the format on every line."""
    out = {}
    for line in text.splitlines():
        assert ":\t" in line, "status line without ':\\t': %r" % line
        key, value = line.split(":\t", 1)
        assert key and key not in out, "bad or duplicate key %r" % key
        out[key] = value
    return out


def status(mnt, name):
    return parse_status(read_text(os.path.join(mnt, name, "status")))


def parse_stats(text):
    out = {}
    for line in text.splitlines():
        key, value = line.split(" ", 1)
        out[key] = value
    return out


def stats(mnt):
    return parse_stats(read_text(os.path.join(mnt, "stats")))


def wait_exited(mnt, name, timeout=DEFAULT_TIMEOUT):
    """Wait until the mount shows name as exited; return its status dict."""

    def exited():
        st = status(mnt, name)
        return st if st.get("State") == "exited" else None

    st = wait_for(exited, timeout, "%s to show State: exited" % name)
    settle(mnt, timeout)
    return st


def settle(mnt, timeout=DEFAULT_TIMEOUT):
    """Return once the cache notifier has sent the invalidations of every
    change made so far (fs_notify_done reaches the fs_notify_queued read
    now).

    A lookup answers from the table at once; a listing or a file the
    kernel cached is dropped a moment later, when the notifier gets to the
    change. A test that found a change one way and then reads another way
    waits for that moment here.
    """
    queued = int(stats(mnt)["fs_notify_queued"])
    wait_for(lambda: int(stats(mnt)["fs_notify_done"]) >= queued, timeout,
             "the notifier to send the invalidations of %d changes" % queued)


def wait_entry(mnt, name, timeout=DEFAULT_TIMEOUT):
    wait_for(lambda: os.path.isdir(os.path.join(mnt, name)), timeout,
             "directory %s to appear" % name)
    settle(mnt, timeout)


def spawn_zombie(argv, **kwargs):
    """Run argv to completion but leave it unreaped.

    Returns (popen, name): the name is computed from /proc while the process
    is a zombie (its stat is still readable), then the caller reaps it with
    popen.wait(). This is how a test learns the start time of a process that
    lives only microseconds.
    """
    p = subprocess.Popen(argv, **kwargs)
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
    name = proc_name(p.pid)
    return p, name


def spawn_read_zombie(mnt, argv, timeout=DEFAULT_TIMEOUT):
    """spawn_zombie() for a test that asserts argv's exact bytes: argv must
    read its stdin before it exits (e.g. ``sh -c 'read x; exit 3'``). It
    is held there until the mount shows its whole cmdline, so the test
    never depends on the EXEC's read winning the race against a process
    that lives microseconds (a miss is flagged, and is what bench_capture
    measures, not what these tests are about)."""
    want = b"\0".join(argv) + b"\0"
    p = subprocess.Popen(argv, stdin=subprocess.PIPE)
    try:
        name = proc_name(p.pid)
        path = os.path.join(mnt, name, "cmdline")

        def read_whole():
            try:
                return read_bytes(path) == want
            except OSError:
                return False

        wait_for(read_whole, timeout, "the mount to show the cmdline of %s" % name)
    finally:
        p.stdin.close()
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
    return p, name


def barrier(mnt, timeout=DEFAULT_TIMEOUT):
    """Return once the daemon has processed events up to now.

    Runs a fresh /bin/true and waits until the mount shows it exited: the
    kernel queues its events after everything that happened before, so any
    earlier event has been seen too (give or take cross-CPU reordering,
    which is far below the time this takes).
    """
    p, name = spawn_zombie(["/bin/true"])
    p.wait()
    wait_exited(mnt, name, timeout)


def errno_of(fn, *args, **kwargs):
    """Call fn; return the errno of the OSError it raises, or None."""
    try:
        fn(*args, **kwargs)
    except OSError as exc:
        return exc.errno
    return None


def is_mounted(path):
    """True if path is a mount point according to the kernel's table.

    Reads /proc/self/mountinfo instead of stat()ing the path, so a dead
    daemon (ENOTCONN) cannot hang or fool the check.
    """
    path = os.path.realpath(path)
    with open("/proc/self/mountinfo") as f:
        for line in f:
            mnt_point = line.split()[4].replace("\\040", " ")
            if mnt_point == path:
                return True
    return False


def capture_of(mnt, name, cmdline, exe, comm=None):
    """How the mount shows the exec of a process that ran cmdline (bytes)
    from exe (a path), once it exited: "captured" (cmdline and exe right,
    Cmdline: ok), "missed" (flagged: Cmdline: missed, an empty cmdline and
    no exe: the process was gone before the daemon's read), "exe missed"
    (cmdline right, the exe link gone: the process released its memory
    between the two reads), or a description of what is wrong (someone
    else's data, an unflagged empty cmdline, a wrong Name when comm is
    given). Whether a miss
    was the exit's doing is the daemon's `exec_read_errors` to say."""
    st = status(mnt, name)
    got = read_bytes(os.path.join(mnt, name, "cmdline"))
    try:
        got_exe = os.readlink(os.path.join(mnt, name, "exe"))
    except FileNotFoundError:
        got_exe = None
    seen = "%s: cmdline %r exe %r Cmdline %s Execs %s Name %s" % (
        name, got[:80], got_exe, st.get("Cmdline"), st.get("Execs"), st.get("Name"))
    if st.get("Execs") != "1":
        return seen
    if st.get("Cmdline") == "missed":
        return "missed" if got == b"" and got_exe is None else seen
    if st.get("Cmdline") != "ok" or got != cmdline or comm not in (None, st.get("Name")):
        return seen
    if got_exe == exe:
        return "captured"
    return "exe missed" if got_exe is None else seen


def capture_counts(mnt, names, cmdline, exe, comm=None):
    """capture_of() over names: ({"captured": n, "missed": n, "exe missed": n},
    [what was wrong])."""
    counts = {"captured": 0, "missed": 0, "exe missed": 0}
    wrong = []
    for name in names:
        verdict = capture_of(mnt, name, cmdline, exe, comm)
        if verdict in counts:
            counts[verdict] += 1
        else:
            wrong.append(verdict)
    return counts, wrong
