# SPDX-License-Identifier: GPL-2.0-or-later
"""--replay and --until against hand-written journals (journal_fixtures.py).

A replay mounts a journal's history without the proc connector and without
/proc: the newest boot at the root, earlier boots under boots/<boot-id>/,
no self. These tests check what it shows byte for byte, --until, hostile
journals (counted and skipped, or one clear error line), and a replay by a
plain user through fusermount3.
"""

import os
import shutil
import signal
import subprocess
import tempfile

import pytest

from conftest import _skip_reason, daemon_env, lineagefs_binary, running_daemon
from helpers import (is_mounted, parse_status, proc_name, read_bytes, read_text, spawn_read_zombie,
                     spawn_zombie, stats, wait_exec, wait_exited, wait_for)
from journal_fixtures import (ARGV_BYTES, BOOT_NS, NS, OLD_BOOT, Journal, iso, two_boots,
                              write_journal)


@pytest.fixture
def journal(tmp_path):
    old, new = two_boots()
    return write_journal(str(tmp_path / "journal"), old, new)


def replay(args):
    """A replay daemon, ready once mounted."""
    ctx = running_daemon(args, ready=False)
    daemon = ctx.__enter__()
    wait_for(lambda: is_mounted(daemon.mnt) or daemon.proc.poll() is not None)
    assert daemon.proc.poll() is None, daemon.stderr()
    return ctx, daemon


@pytest.fixture
def replayed():
    started = []

    def start(*args):
        ctx, daemon = replay(list(args))
        started.append(ctx)
        return daemon

    yield start
    for ctx in reversed(started):
        ctx.__exit__(None, None, None)


def run_lineagefs(*args, timeout=60):
    return subprocess.run([lineagefs_binary(), "-f", *args], stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=timeout, env=daemon_env())


def test_replay_shows_the_history(journal, replayed):
    mnt = replayed("--replay=" + journal).mnt
    names = sorted(os.listdir(mnt))
    assert names == ["1-7", "100-1000", "200-1200", "300-3000", "boots", "by-exe", "by-pid",
                     "by-uid", "metrics", "stats"]
    # No self in a replay: the reader is no process of the history.
    assert not os.path.lexists(os.path.join(mnt, "self"))

    st = parse_status(read_text(os.path.join(mnt, "200-1200", "status")))
    assert st["Name"] == "sh" and st["State"] == "exited" and st["ExitCode"] == "exited 3"
    assert st["StartTime"] == iso(BOOT_NS + 12 * NS)[:23] + "Z"
    assert st["ExitTime"] == iso(BOOT_NS + 20 * NS)[:23] + "Z"
    assert st["Creator"] == "fork" and st["PPid"] == "100" and st["Execs"] == "1"
    assert st["Uid"] == "1000\t1000"
    assert read_bytes(os.path.join(mnt, "200-1200", "cmdline")) == ARGV_BYTES
    assert os.readlink(os.path.join(mnt, "200-1200", "exe")) == "/usr/bin/dash"
    assert os.readlink(os.path.join(mnt, "200-1200", "parent")) == "../100-1000"
    assert sorted(os.listdir(os.path.join(mnt, "100-1000", "children"))) == [
        "200-1200", "300-3000"]
    assert read_text(os.path.join(mnt, "200-1200", "ancestry")) == (
        "200-1200\tsh\n100-1000\tbash\n1-7\tsystemd\n")
    assert os.readlink(os.path.join(mnt, "by-pid", "300")) == "../300-3000"
    # The indexes answer for a replayed history too.
    assert "200-1200" in os.listdir(os.path.join(mnt, "by-exe", "usr", "bin", "dash"))
    assert os.readlink(os.path.join(mnt, "by-exe", "usr", "bin", "dash", "200-1200")) == (
        "../../../../200-1200")
    assert "200-1200" in os.listdir(os.path.join(mnt, "by-uid", "1000"))
    assert os.stat(os.path.join(mnt, "200-1200")).st_mtime == (BOOT_NS + 12 * NS) / NS
    # The journal's last word on the sleep: it runs.
    assert parse_status(read_text(os.path.join(mnt, "300-3000", "status")))["State"] == "running"

    # The earlier boot, in the same layout; what ran there ended with it.
    assert os.listdir(os.path.join(mnt, "boots")) == [OLD_BOOT]
    old = os.path.join(mnt, "boots", OLD_BOOT)
    assert sorted(os.listdir(old)) == ["1-5", "400-150", "by-pid"]
    st = parse_status(read_text(os.path.join(old, "400-150", "status")))
    assert st["State"] == "exited" and st["ExitCode"] == "unknown" and st["ExitTime"] == "unknown"
    assert os.readlink(os.path.join(old, "400-150", "parent")) == "../1-5"
    assert os.readlink(os.path.join(old, "by-pid", "400")) == "../400-150"
    assert os.path.realpath(os.path.join(old, "by-pid", "400")) == os.path.join(old, "400-150")
    assert not os.path.lexists(os.path.join(old, "self"))
    assert not os.path.lexists(os.path.join(mnt, "boots", "nope"))

    # Read-only like the live mount.
    with pytest.raises(OSError):
        os.mkdir(os.path.join(mnt, "x"))


def test_replay_of_one_segment(journal, replayed):
    segment = os.path.join(journal, "lineagefs-0000000001.jsonl")
    mnt = replayed("--replay=" + segment).mnt
    # Only the older boot is in that segment: it is the newest there.
    assert sorted(os.listdir(mnt)) == ["1-5", "400-150", "by-exe", "by-pid", "by-uid", "metrics",
                                       "stats"]


@pytest.mark.parametrize("until,running,absent", [
    # Between the child's start (12 s) and its exit (20 s): running.
    (iso(BOOT_NS + 15 * NS), ["200-1200"], ["300-3000"]),
    # Epoch seconds, before the child started.
    ("@%d" % (BOOT_NS // NS + 11), [], ["200-1200", "300-3000"]),
    # ISO 8601 with an offset, after everything.
    ("2026-11-30T12:00:00+01:00", ["300-3000"], []),
])
def test_until(journal, replayed, until, running, absent):
    mnt = replayed("--replay=" + journal, "--until=" + until).mnt
    for name in running:
        st = parse_status(read_text(os.path.join(mnt, name, "status")))
        assert st["State"] == "running" and st["ExitTime"] == "-", st
    for name in absent:
        assert not os.path.exists(os.path.join(mnt, name))
    if "200-1200" in running:
        # As it was then: it had exec'd (13 s).
        assert read_bytes(os.path.join(mnt, "200-1200", "cmdline")) == ARGV_BYTES


def test_bad_until_and_replay_values(journal, tmp_path):
    for args, words in [
        (["--replay=" + journal, "--until=yesterday"], "ISO 8601"),
        (["--replay=" + journal, "--until=@12x"], "ISO 8601"),
        (["--until=@1"], "--replay"),
        (["--replay=" + str(tmp_path / "missing")], "No such file"),
        (["--replay=" + str(tmp_path)], "no journal segments"),
        (["--replay=" + journal, "--until=2000-01-01T00:00:00Z"], "--until"),
    ]:
        os.makedirs(str(tmp_path / "mnt"), exist_ok=True)
        r = run_lineagefs(*args, str(tmp_path / "mnt"))
        assert r.returncode != 0, (args, r.stderr)
        lines = r.stderr.strip().splitlines()
        assert len(lines) == 1 and words in lines[0] and lines[0].startswith("lineagefs: "), (
            args, r.stderr)
        assert not is_mounted(str(tmp_path / "mnt"))


def hostile_segment():
    j = Journal()
    j.found(1, 1, 7, "systemd", "/usr/lib/systemd/systemd", ["/sbin/init"])
    good = j.text().encode()
    found = good.splitlines()[1]

    def variant(seq, old, new, *more):
        # A sequence of its own, or it would be skipped as a duplicate.
        line = found.replace(b'"sequence":1}', b'"sequence":%d}' % seq).replace(old, new)
        return line.replace(*more) if more else line

    bad = [
        b"\x00\x00\x00 NUL bytes \x00",
        b"\xff\xfe garbage, not UTF-8",
        b'{"@timestamp":"2026-11-30T10:00:02.000000000Z","event":{"action":"fork"}}',
        variant(2, b'"pid":1,', b'"pid":-1,'),
        variant(3, b'"pid":1,', b'"pid":99999999,'),
        variant(4, b'"start_ticks":7', b'"start_ticks":"7"'),
        # Ticks a year after its process.start says it started.
        variant(5, b'"start_ticks":7', b'"start_ticks":3153600000', b'"pid":1,', b'"pid":2,'),
        b'{"args":[' + b'"",' * 1100000 + b'""]}',
        b"x" * (17 * 1024 * 1024),  # over JOURNAL_LINE_MAX (16 MiB)
    ]
    j.seq = 10
    j.fork(5, 100, 500, (1, 7), "bash", "/usr/bin/bash", ["bash"])
    tail = j.lines[-1].encode()
    # A torn last line: cut in the middle.
    return good + b"\n".join(bad) + b"\n" + tail + b"\n" + tail[:50]


def test_hostile_journal_is_counted_not_fatal(tmp_path, replayed):
    journal = write_journal(str(tmp_path / "j"), hostile_segment())
    daemon = replayed("--replay=" + journal)
    mnt = daemon.mnt
    assert sorted(n for n in os.listdir(mnt) if n[0].isdigit()) == ["1-7", "100-500"]
    assert os.readlink(os.path.join(mnt, "100-500", "parent")) == "../1-7"
    # What was skipped is said once, counted by kind.
    err = daemon.stderr()
    assert "1 torn" in err and "1 too long" in err and "2 not JSON" in err, err
    assert "6 invalid" in err and "0 duplicated" in err, err


def test_journal_of_garbage_is_one_clear_error(tmp_path):
    skip = _skip_reason()
    if skip:
        pytest.skip(skip)
    journal = write_journal(str(tmp_path / "j"), b"\x00garbage\n{}\n[1]\n" + b"y" * 100)
    os.mkdir(str(tmp_path / "mnt"))
    r = run_lineagefs("--replay=" + journal, str(tmp_path / "mnt"))
    assert r.returncode != 0
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and "no process line" in lines[0] and "not JSON" in lines[0], r.stderr
    assert not is_mounted(str(tmp_path / "mnt"))


def tree(mnt):
    """Every name, link target and file's bytes under mnt, but stats and metrics."""
    out = {}
    for root, dirs, files in os.walk(mnt):
        for name in sorted(dirs + files):
            path = os.path.join(root, name)
            rel = os.path.relpath(path, mnt)
            if rel in ("stats", "metrics"):
                continue
            if os.path.islink(path):
                out[rel] = "-> " + os.readlink(path)
            elif os.path.isfile(path):
                out[rel] = read_bytes(path)
            else:
                out[rel] = "dir"
    return out


# Run inside a private mount namespace: a plain user (nobody) mounts the
# replay through fusermount3 and prints the tree it sees, then unmounts.
AS_USER = r"""
import os, subprocess, sys, json, base64
binary, journal, mnt, fuse_mode = sys.argv[1:5]
if fuse_mode != "host":
    # Where /dev/fuse is open to users (0666, most distributions' default):
    # this namespace's own /dev/fuse node, the host's left alone.
    node = os.path.join(os.path.dirname(mnt), "fuse")
    os.mknod(node, 0o20666, os.makedev(10, 229))
    os.chmod(node, 0o666)
    subprocess.run(["mount", "--bind", node, "/dev/fuse"], check=True)
user = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
r = subprocess.run(user + [binary, "--replay=" + journal, mnt], stderr=subprocess.PIPE, text=True)
if r.returncode != 0:
    print(json.dumps({"error": r.stderr}))
    sys.exit(0)
walk = subprocess.run(user + [sys.executable, "-c", sys.argv[5], mnt], stdout=subprocess.PIPE,
                      text=True, check=True)
subprocess.run(user + ["fusermount3", "-u", mnt], check=True)
print(walk.stdout)
"""

WALK = r"""
import os, sys, json, base64
mnt = sys.argv[1]
out = {"uid": os.getuid()}
for root, dirs, files in os.walk(mnt):
    for name in dirs + files:
        path = os.path.join(root, name)
        rel = os.path.relpath(path, mnt)
        if rel in ("stats", "metrics"):
            continue
        if os.path.islink(path):
            out[rel] = "-> " + os.readlink(path)
        elif os.path.isfile(path):
            out[rel] = base64.b64encode(open(path, "rb").read()).decode()
        else:
            out[rel] = "dir"
print(json.dumps(out))
"""


def replay_as_nobody(journal, fuse_mode):
    """The tree a plain user sees in a replay of journal, or its error."""
    workdir = tempfile.mkdtemp(prefix="lineagefs-user-")
    try:
        return replay_as_nobody_in(journal, workdir, fuse_mode)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def replay_as_nobody_in(journal, workdir, fuse_mode):
    import json

    os.chmod(workdir, 0o755)
    # A copy the user can read (pytest's tmp_path is root's alone).
    copy = shutil.copytree(journal, os.path.join(workdir, "journal"))
    os.chmod(copy, 0o755)
    for name in os.listdir(copy):
        os.chmod(os.path.join(copy, name), 0o644)
    journal = copy
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(mnt)
    os.chown(mnt, 65534, 65534)
    r = subprocess.run(["unshare", "--mount", "--propagation", "private", "/usr/bin/python3",
                        "-c", AS_USER, lineagefs_binary(), journal, mnt, fuse_mode, WALK],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120,
                       env=dict(daemon_env(), ASAN_OPTIONS="detect_leaks=0"))
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def tree_as_nobody(journal):
    """The tree of a plain user's replay: names, "-> target" for links,
    the bytes of files."""
    import base64

    seen = replay_as_nobody(journal, "open")
    assert "error" not in seen, seen.get("error")
    assert seen.pop("uid") == 65534
    return {k: v if v == "dir" or v.startswith("-> ") else base64.b64decode(v)
            for k, v in seen.items()}


def test_replay_as_a_plain_user_shows_the_same_tree(journal, replayed, tmp_path):
    if shutil.which("unshare") is None or shutil.which("setpriv") is None:
        pytest.skip("needs unshare and setpriv (util-linux)")
    as_root = tree(replayed("--replay=" + journal).mnt)
    assert tree_as_nobody(journal) == as_root


def test_replay_as_a_plain_user_where_fuse_is_roots_alone(journal, tmp_path):
    """Where /dev/fuse is mode 0600 (as on this machine), fusermount3 opens
    it as the user and fails: one clear line says why and what to do."""
    if os.stat("/dev/fuse").st_mode & 0o006:
        pytest.skip("/dev/fuse is open to users here")
    if shutil.which("unshare") is None or shutil.which("setpriv") is None:
        pytest.skip("needs unshare and setpriv (util-linux)")
    seen = replay_as_nobody(journal, "host")
    lines = seen["error"].strip().splitlines()
    assert len(lines) == 1 and "/dev/fuse" in lines[0] and "0666" in lines[0], seen


def test_replay_in_a_container(journal, tmp_path):
    """Root in a container given /dev/fuse, with its own pid namespace and
    /proc: the mount shows the journal's processes only, never the
    container's (no /proc read, no proc connector)."""
    skip = _skip_reason()
    if skip:
        pytest.skip(skip)
    mnt = str(tmp_path / "mnt")
    os.mkdir(mnt)
    script = ("%s --replay=%s %s && ls %s && ls %s/boots && fusermount3 -u %s"
              % (lineagefs_binary(), journal, mnt, mnt, mnt, mnt))
    r = subprocess.run(["unshare", "--mount", "--pid", "--fork", "--mount-proc",
                        "--propagation", "private", "sh", "-c", script],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120,
                       env=daemon_env())
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["1-7", "100-1000", "200-1200", "300-3000", "boots", "by-exe",
                                "by-pid", "by-uid", "metrics", "stats", OLD_BOOT], r.stdout
    assert not is_mounted(mnt)


def exited_subtrees(mnt):
    """The tree of every process the mount shows exited: its names, link
    targets and files' bytes (exited processes no longer change)."""
    out = {}
    for name in os.listdir(mnt):
        if not name[0].isdigit():
            continue
        try:
            if parse_status(read_text(os.path.join(mnt, name, "status")))["State"] != "exited":
                continue
            for root, dirs, files in os.walk(os.path.join(mnt, name)):
                for entry in sorted(dirs + files):
                    path = os.path.join(root, entry)
                    rel = os.path.relpath(path, mnt)
                    if os.path.islink(path):
                        out[rel] = "-> " + os.readlink(path)
                    elif os.path.isfile(path):
                        out[rel] = read_bytes(path)
                    else:
                        out[rel] = "dir"
            out[name] = "dir"
        except FileNotFoundError:
            continue  # forgotten by the retention limit meanwhile
    return out


def exited_ancestry(value, exited):
    """An ancestry with the comm of every running ancestor blanked: it may
    exec between the live mount's read and the journal's end (a shell's
    last command runs as an exec), and the replay shows the later one."""
    lines = []
    for line in value.split(b"\n"):
        name, sep, _ = line.partition(b"\t")
        lines.append(line if not sep or name.decode() in exited else name + b"\t*")
    return b"\n".join(lines)


def exited_history(value, exited):
    """A history with its creator's comm left out when the creator is not
    an exited process: the fork line names the creator with its current
    comm, which may change between the live read and the journal's end
    (see exited_ancestry())."""
    lines = []
    for line in value.split(b"\n"):
        fields = line.split(b"\t")
        if len(fields) == 3 and fields[1] == b"fork" and fields[2].startswith(b"by "):
            creator = fields[2][3:].split(b" ", 1)[0]
            if creator.decode() not in exited:
                line = b"\t".join(fields[:2] + [b"by " + creator + b" *"])
        lines.append(line)
    return b"\n".join(lines)


def test_replay_as_a_plain_user_matches_the_live_mount(start_daemon, tmp_path):
    """A live mount journals a small history (an exit code, argv bytes that
    are not UTF-8, a kill, a fork without exec, a process tree); a plain
    user's replay of that journal shows every exited process the live
    mount showed, with the same names, link targets and bytes."""
    if shutil.which("unshare") is None or shutil.which("setpriv") is None:
        pytest.skip("needs unshare and setpriv (util-linux)")
    journal = str(tmp_path / "journal")
    # Running before the daemon: found by its scan, brought to the journal
    # by the first checkpoint, which must keep the time it was found at.
    found = subprocess.Popen(["sleep", "600"])
    wait_exec(found.pid, "sleep")
    found_name = proc_name(found.pid)
    live = start_daemon(["--journal=" + journal, "--journal-sync=50"])
    wait_for(lambda: int(stats(live.mnt)["journal_checkpoints"]) == 1, what="a checkpoint")
    found.kill()
    found.wait()
    argv = [b"/bin/sh", b"-c", b"read x; exit 7", b"caf\xc3\xa9", b"\xff\xfe-\x80"]
    p, odd = spawn_read_zombie(live.mnt, argv)
    p.wait()
    subprocess.run(["/bin/sh", "-c", "(exit 3); /bin/true | /bin/cat; sh -c 'kill -9 $$'"])
    killed = subprocess.Popen(["sleep", "600"])
    killed.kill()
    killed.wait()
    # The barrier: a process that exits after all of them.
    subprocess.run(["/bin/true"])
    p = subprocess.Popen(["/bin/sh", "-c", "exit 0"])
    os.waitid(os.P_PID, p.pid, os.WEXITED | os.WNOWAIT)
    last = "%d-%s" % (p.pid, read_text("/proc/%d/stat" % p.pid).rsplit(")", 1)[1].split()[19])
    p.wait()
    # And the listings the kernel cached before (the root's, at start)
    # dropped: a lookup finds a new process at once, a listing once the
    # notifier gets to it (wait_exited() waits for both).
    wait_exited(live.mnt, last)
    seen_live = exited_subtrees(live.mnt)
    assert last in seen_live and len(seen_live) > 10
    assert seen_live[odd + "/cmdline"] == b"\0".join(argv) + b"\0"
    assert b"ExitCode:\texited 7\n" in seen_live[odd + "/status"]
    assert [line.split(b"\t")[1] for line in seen_live[found_name + "/history"].splitlines()] == [
        b"start", b"found", b"exit"], seen_live[found_name + "/history"]
    wait_for(lambda: int(stats(live.mnt)["journal_queue_depth"]) == 0, what="the queue to drain")
    live.stop()

    decoded = tree_as_nobody(journal)
    exited = {k for k in seen_live if "/" not in k}
    for k in seen_live:
        if os.path.basename(k) == "ancestry" and k in decoded:
            seen_live[k] = exited_ancestry(seen_live[k], exited)
            decoded[k] = exited_ancestry(decoded[k], exited)
        if os.path.basename(k) == "history" and k in decoded:
            seen_live[k] = exited_history(seen_live[k], exited)
            decoded[k] = exited_history(decoded[k], exited)
    missing = sorted(k for k in seen_live if k not in decoded)
    assert not missing, "absent from the replay: %s" % missing[:10]
    differ = [(k, seen_live[k], decoded[k]) for k in seen_live if decoded[k] != seen_live[k]]
    assert not differ, "differs in the replay (first 5 of %d): %s" % (len(differ), differ[:5])
    print("compared %d entries of %d exited processes" % (
        len(seen_live), sum(1 for k in seen_live if "/" not in k)))
