# SPDX-License-Identifier: GPL-2.0-or-later
"""Shared plumbing for the lineagefs mount benchmarks.

Finds the daemon and the C helpers, mounts lineagefs on a fresh temporary
mountpoint and always unmounts it, kills every child the benchmark started
(on error, on SIGTERM/SIGINT, at exit), reads the daemon's stats, CPU time
and RSS, and prints figures in aligned columns. Every wait is bounded in
time; nothing here asserts a timing.
"""

import atexit
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

SKIP = 77
HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_ROOT = os.path.dirname(os.path.dirname(HERE))
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Children to kill and mounts to undo, newest last.
_children = []
_daemons = []


def _default_build_dir():
    for name in ("build-bench", "build"):
        path = os.path.join(SOURCE_ROOT, name)
        if os.path.exists(os.path.join(path, "src", "lineagefs")):
            return path
    return os.path.join(SOURCE_ROOT, "build-bench")


def lineagefs_bin():
    return os.environ.get("LINEAGEFS_BIN") or os.path.join(
        _default_build_dir(), "src", "lineagefs")


def helper(name):
    helper_dir = os.environ.get("BENCH_HELPER_DIR") or os.path.join(
        _default_build_dir(), "tests", "bench")
    return os.path.join(helper_dir, name)


def skip(reason):
    print("skipped: %s" % reason, file=sys.stderr)
    sys.exit(SKIP)


def require_mount_env(helpers=()):
    """Exits 77 unless the daemon can run here: root, /dev/fuse, binaries."""
    if os.geteuid() != 0:
        skip("needs root (cn_proc needs CAP_NET_ADMIN, mounting needs /dev/fuse)")
    if not os.path.exists("/dev/fuse"):
        skip("/dev/fuse is missing (modprobe fuse)")
    if not os.access(lineagefs_bin(), os.X_OK):
        skip("no daemon at %s (build it, or set LINEAGEFS_BIN)" % lineagefs_bin())
    for name in helpers:
        if not os.access(helper(name), os.X_OK):
            skip("no helper at %s (build it, or set BENCH_HELPER_DIR)" % helper(name))


def _cleanup():
    while _children:
        proc = _children.pop()
        kill_tree(proc)
    while _daemons:
        _daemons.pop().stop()


def _on_signal(signum, frame):
    raise SystemExit(128 + signum)


def install_cleanup():
    atexit.register(_cleanup)
    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)


def header(title, **figures):
    print("=" * 72)
    print(title)
    print("kernel %s, %d CPUs, CLK_TCK %d, pid_max %s" % (
        os.uname().release, os.cpu_count(), CLK_TCK,
        read_text("/proc/sys/kernel/pid_max").strip()))
    for key, value in figures.items():
        print("%s: %s" % (key, value))
    print("=" * 72)
    sys.stdout.flush()


def row(label, *values, width=52):
    print(("%-" + str(width) + "s") % label + " ".join(str(v) for v in values))
    sys.stdout.flush()


def read_text(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8", "replace")


def wait_for(cond, timeout, interval=0.05, what="condition"):
    """Polls cond() until truthy or timeout seconds; returns its value or None."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = cond()
        except OSError:
            value = None
        if value:
            return value
        if time.monotonic() >= deadline:
            print("warning: timed out after %.0fs waiting for %s" % (timeout, what))
            return None
        time.sleep(interval)


def spawn(args, **kwargs):
    """Popen that is killed (with its process group) at cleanup."""
    kwargs.setdefault("start_new_session", True)
    proc = subprocess.Popen(args, **kwargs)
    _children.append(proc)
    return proc


def kill_tree(proc, sig=signal.SIGTERM, timeout=10):
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            proc.wait(timeout)
    if proc in _children:
        _children.remove(proc)


def run_spawner(args, timeout):
    """Runs bench_spawn to completion; returns its summary as a dict."""
    proc = spawn([helper("bench_spawn")] + args, stdout=subprocess.PIPE, text=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        raise RuntimeError("bench_spawn %s did not finish in %ds" % (args, timeout))
    finally:
        # Also on SystemExit from a signal: the storm must not outlive us.
        kill_tree(proc)
    summary = parse_kv(out.strip().splitlines()[-1] if out.strip() else "")
    if "spawned" not in summary:
        raise RuntimeError("bench_spawn printed no summary: %r" % out)
    return summary


def parse_kv(line):
    result = {}
    for word in line.split():
        if "=" in word:
            key, value = word.split("=", 1)
            try:
                result[key] = float(value) if "." in value else int(value)
            except ValueError:
                result[key] = value
    return result


def proc_cpu_ticks(pid):
    """utime + stime of a process, in clock ticks."""
    data = read_text("/proc/%d/stat" % pid)
    fields = data[data.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])  # fields 14 and 15


def proc_start_ticks(pid):
    data = read_text("/proc/%d/stat" % pid)
    return int(data[data.rindex(")") + 2:].split()[19])  # field 22


def proc_status_number(pid, key):
    """The number after "Key:" in /proc/<pid>/status (kB for Vm* lines)."""
    for line in read_text("/proc/%d/status" % pid).splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def uptime_ticks():
    return int(float(read_text("/proc/uptime").split()[0]) * CLK_TCK)


def median(values):
    return statistics.median(values) if values else float("nan")


def walk(reps, *targets, timeout=600):
    """Runs bench_walk; returns {target: {figures}} in target order."""
    out = subprocess.run([helper("bench_walk"), str(reps)] + list(targets),
                         stdout=subprocess.PIPE, text=True, check=True,
                         timeout=timeout).stdout
    results = {}
    for line in out.splitlines():
        spec, _, rest = line.partition(" ")
        results[spec] = parse_kv(rest)
    return results


class Daemon:
    """lineagefs -f on a fresh temporary mountpoint; stop() always unmounts."""

    def __init__(self, *options, binary=None):
        self.options = list(options)
        self.binary = binary or lineagefs_bin()
        self.mountpoint = tempfile.mkdtemp(prefix="lineagefs-bench-")
        self.stderr_path = self.mountpoint + ".stderr"
        self.proc = None

    def start(self, timeout=20):
        self._stderr = open(self.stderr_path, "wb")
        self.proc = subprocess.Popen(
            [self.binary, "-f"] + self.options + [self.mountpoint],
            stdout=subprocess.DEVNULL, stderr=self._stderr, start_new_session=True)
        _daemons.append(self)
        ready = wait_for(lambda: self.proc.poll() is not None or (
            os.path.ismount(self.mountpoint)
            and os.path.exists(os.path.join(self.mountpoint, "stats"))),
            timeout, what="the mount")
        if self.proc.poll() is not None or not ready:
            raise RuntimeError("lineagefs did not mount (exit %s): %s" % (
                self.proc.poll(), self.stderr_text().strip()))
        return self

    @property
    def pid(self):
        return self.proc.pid

    def path(self, *parts):
        return os.path.join(self.mountpoint, *parts)

    def stats(self):
        result = {}
        for line in read_text(self.path("stats")).splitlines():
            key, _, value = line.partition(" ")
            try:
                result[key] = int(value)
            except ValueError:
                try:
                    result[key] = float(value)
                except ValueError:
                    result[key] = value
        return result

    def cpu_ticks(self):
        return proc_cpu_ticks(self.pid)

    def rss_kb(self):
        return proc_status_number(self.pid, "VmRSS")

    def stderr_text(self):
        try:
            return read_text(self.stderr_path)
        except OSError:
            return ""

    def stop(self):
        if self in _daemons:
            _daemons.remove(self)
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                print("warning: lineagefs ignored SIGTERM for 15 s; killing it")
                self.proc.kill()
                self.proc.wait(10)
        if os.path.ismount(self.mountpoint):
            subprocess.run(["fusermount3", "-u", "-z", self.mountpoint],
                           stderr=subprocess.DEVNULL, check=False)
        try:
            os.rmdir(self.mountpoint)
        except OSError as exc:
            print("warning: could not remove %s: %s" % (self.mountpoint, exc))
        status = self.proc.returncode if self.proc else None
        text = self.stderr_text()
        if status not in (0, None):
            print("warning: lineagefs exited with status %s" % status)
        if "Sanitizer" in text or status not in (0, None):
            print("lineagefs stderr:\n" + text[-4000:])
        if getattr(self, "_stderr", None):
            self._stderr.close()
        try:
            os.unlink(self.stderr_path)
        except OSError:
            pass
        return status


def tempdir():
    path = tempfile.mkdtemp(prefix="lineagefs-bench-data-")
    atexit.register(shutil.rmtree, path, True)
    return path


def thread_usage(pid):
    """Per thread of pid: {tid: (comm, cpu_ns, voluntary, involuntary)},
    CPU time from schedstat (nanoseconds, not ticks) and the context
    switches from status; threads gone meanwhile are left out."""
    usage = {}
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return usage
    for tid in tids:
        base = "/proc/%d/task/%s/" % (pid, tid)
        try:
            comm = read_text(base + "comm").strip()
            cpu_ns = int(read_text(base + "schedstat").split()[0])
            switches = {}
            for line in read_text(base + "status").splitlines():
                key, _, value = line.partition(":")
                if key.endswith("ctxt_switches"):
                    switches[key] = int(value)
        except (OSError, ValueError, IndexError):
            continue
        usage[tid] = (comm, cpu_ns, switches.get("voluntary_ctxt_switches", 0),
                      switches.get("nonvoluntary_ctxt_switches", 0))
    return usage


def thread_usage_delta(before, after):
    """thread_usage() growth between two snapshots, summed per thread name:
    {comm: [cpu_ns, voluntary, involuntary, threads]}."""
    by_name = {}
    for tid, (comm, cpu_ns, vol, invol) in after.items():
        _, cpu0, vol0, invol0 = before.get(tid, (comm, 0, 0, 0))
        row = by_name.setdefault(comm, [0, 0, 0, 0])
        row[0] += cpu_ns - cpu0
        row[1] += vol - vol0
        row[2] += invol - invol0
        row[3] += 1
    return by_name


class SyscallCounter:
    """perf stat counting system calls and context switches per thread of a
    process (raw_syscalls:sys_enter: counts, not timings, so the load of a
    shared machine does not change them). start() returns None when perf or
    the tracepoint is not there."""

    EVENTS = ("raw_syscalls:sys_enter", "context-switches")

    def __init__(self, pid):
        self.pid = pid
        self.out = os.path.join(tempdir(), "perf-%d.csv" % pid)
        self.proc = None

    def start(self):
        if shutil.which("perf") is None:
            return None
        self.proc = spawn(["perf", "stat", "--per-thread", "-x,", "-e", ",".join(self.EVENTS),
                           "-o", self.out, "-p", str(self.pid)],
                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        # perf attaches in a few milliseconds; it has no ready signal.
        time.sleep(0.5)
        return self if self.proc.poll() is None else None

    def stop(self):
        """{event: {thread name: count}}, summed over the threads of a name."""
        counts = {event: {} for event in self.EVENTS}
        if self.proc is None:
            return counts
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            kill_tree(self.proc)
        try:
            lines = read_text(self.out).splitlines()
        except OSError:
            return counts
        for line in lines:
            fields = line.split(",")
            if len(fields) < 4 or fields[3] not in counts:
                continue
            try:
                value = int(fields[1])
            except ValueError:
                continue
            comm = fields[0].rsplit("-", 1)[0]
            counts[fields[3]][comm] = counts[fields[3]].get(comm, 0) + value
        return counts
