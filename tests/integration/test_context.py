# SPDX-License-Identifier: GPL-2.0-or-later
"""The context an investigator asks for: history (execs, uid changes),
the new status fields (cwd, cgroup, container, pid namespace, login uid
and session, terminal and leaders, deleted or fileless executables, exe
hash) and --env, checked on real processes against what /proc and
sha256sum say.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time

import pytest

from helpers import (
    DEFAULT_TIMEOUT,
    barrier,
    HELPER_ENV,
    proc_name,
    read_bytes,
    spawn_zombie,
    read_text,
    settle,
    stats,
    status,
    wait_exec,
    wait_for,
)

from test_cli import assert_fails_cleanly, empty_dir, run  # noqa: F401 (fixture)


def history(mnt, name):
    return read_text(os.path.join(mnt, name, "history")).splitlines()


def events(lines, kind):
    return [line.split("\t") for line in lines if line.split("\t")[1] == kind]


def argv_of(fields):
    """The argv of an exec history line, unescaped."""
    assert fields[5].startswith("argv "), fields
    args = fields[5][len("argv "):].split(" ")
    return [a.replace("\\040", " ") for a in args]


def spawn(procs, argv, **kwargs):
    p = subprocess.Popen(argv, env=kwargs.pop("env", HELPER_ENV), **kwargs)
    procs.append(p)
    return p


def wait_status(mnt, name, key, want, timeout=DEFAULT_TIMEOUT):
    seen = []

    def ok():
        seen[:] = [status(mnt, name).get(key)]
        return seen[0] == want

    try:
        wait_for(ok, timeout, "%s status %s to be %r" % (name, key, want))
    except AssertionError as exc:
        raise AssertionError("%s (last seen %r)" % (exc, seen)) from None
    # history and environ are dropped from the cache a moment after status.
    settle(mnt, timeout)


def test_exec_chain_history(mnt, procs):
    script = "read go; exec env LINEAGEFS_X=1 sleep 300"
    p = spawn(procs, ["sh", "-c", script], stdin=subprocess.PIPE)
    wait_exec(p.pid, "sh")
    name = proc_name(p.pid)
    # The shell's exec is in before it goes on (a reader of /proc that
    # comes late would find the next program already).
    wait_for(lambda: len(events(history(mnt, name), "exec")) == 1, DEFAULT_TIMEOUT,
             "the shell's exec line")
    p.stdin.write(b"go\n")
    p.stdin.flush()
    wait_exec(p.pid, "sleep")

    def three_execs():
        return len(events(history(mnt, name), "exec")) == 3

    wait_for(three_execs, DEFAULT_TIMEOUT, "three exec lines in history")
    lines = history(mnt, name)
    assert lines[0].split("\t")[1] == "fork", lines
    execs = events(lines, "exec")
    assert [e[2] for e in execs] == [os.path.realpath(shutil.which("sh")),
                                     os.path.realpath(shutil.which("env")),
                                     os.path.realpath(shutil.which("sleep"))], lines
    assert argv_of(execs[0]) == ["sh", "-c", script]
    assert argv_of(execs[1]) == ["env", "LINEAGEFS_X=1", "sleep", "300"]
    assert argv_of(execs[2]) == ["sleep", "300"]
    for e in execs:
        assert e[3] == "uid 0 0" and e[4] == "gid 0 0", e
    # Oldest first, and the exit comes last.
    times = [line.split("\t")[0] for line in lines]
    assert times == sorted(times)
    p.kill()
    p.wait()
    wait_for(lambda: history(mnt, name)[-1].split("\t")[1] == "exit", DEFAULT_TIMEOUT,
             "the exit line")
    assert history(mnt, name)[-1].split("\t")[2] == "killed by SIGKILL"


def test_setpriv_uid_change(mnt, procs):
    p = spawn(procs, ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                      "sleep", "300"])
    wait_exec(p.pid, "sleep")
    name = proc_name(p.pid)
    wait_status(mnt, name, "Uid", "65534\t65534")
    lines = history(mnt, name)
    uids = events(lines, "uid")
    assert ["0 0 -> 65534 65534"] == [u[2] for u in uids], lines
    gids = events(lines, "gid")
    assert "0 0 -> 65534 65534" in [g[2] for g in gids], lines
    execs = events(lines, "exec")
    # setpriv ran as root, sleep as nobody; the uid line sits between.
    assert execs[0][2].endswith("/setpriv") and execs[0][3] == "uid 0 0", lines
    assert execs[-1][2].endswith("/sleep") and execs[-1][3] == "uid 65534 65534", lines
    kinds = [line.split("\t")[1] for line in lines]
    assert kinds.index("uid") > kinds.index("exec") and kinds.index("uid") < len(kinds) - 1


def test_setuid_binary_uid_line(mnt, procs, bindir):
    suid_dir = bindir
    binary = os.path.join(suid_dir, "suid-sleep")
    shutil.copy(shutil.which("sleep"), binary)
    os.chown(binary, 65534, 65534)
    os.chmod(binary, 0o4755)
    p = spawn(procs, [binary, "300"])

    def euid_changed():
        with open("/proc/%d/status" % p.pid) as f:
            return any(line.split()[:3] == ["Uid:", "0", "65534"] for line in f)

    try:
        wait_for(euid_changed, DEFAULT_TIMEOUT, "the set-user-ID exec")
    except AssertionError:
        pytest.skip("%s is on a nosuid mount" % suid_dir)
    name = proc_name(p.pid)
    wait_status(mnt, name, "Uid", "0\t65534")
    lines = history(mnt, name)
    assert [u[2] for u in events(lines, "uid")] == ["0 0 -> 0 65534"], lines
    assert events(lines, "exec")[-1][3] == "uid 0 65534", lines


def ns_inode(path):
    link = os.readlink(path)
    return link[link.index("[") + 1:-1]


def test_pid_namespace(mnt, procs):
    p = spawn(procs, ["unshare", "-fp", "--mount-proc", "sleep", "300"])

    def child():
        kids = subprocess.run(["pgrep", "-P", str(p.pid)], capture_output=True,
                              text=True).stdout.split()
        return int(kids[0]) if kids else None

    pid = wait_for(child, DEFAULT_TIMEOUT, "unshare's child")
    wait_exec(pid, "sleep")
    name = proc_name(pid)
    inside = ns_inode("/proc/%d/ns/pid" % pid)
    assert inside != ns_inode("/proc/self/ns/pid")
    wait_status(mnt, name, "NsPid", "1")
    st = status(mnt, name)
    assert st["PidNs"] == inside
    # The host's processes: the pid inside is the pid.
    own = status(mnt, proc_name(os.getpid()))
    assert own["NsPid"] == str(os.getpid())
    assert own["PidNs"] == ns_inode("/proc/self/ns/pid")


@pytest.fixture
def cgroup_dir():
    # /sys/fs/cgroup on a unified host, /sys/fs/cgroup/unified on a hybrid one.
    root = None
    with open("/proc/self/mountinfo") as f:
        for line in f:
            fields = line.split()
            if fields[fields.index("-") + 1] == "cgroup2":
                root = fields[4]
                break
    if root is None:
        pytest.skip("no cgroup v2 hierarchy mounted")
    path = os.path.join(root, "lineagefs-test-%d" % os.getpid())
    try:
        os.mkdir(path)
    except OSError as exc:
        pytest.skip("cannot create a cgroup: %s" % exc.strerror)
    yield path
    for _ in range(100):
        try:
            os.rmdir(path)
            break
        except OSError:
            wait_for(lambda: read_text(os.path.join(path, "cgroup.procs")) == "", 5,
                     "the test cgroup to empty")


def test_cgroup_move_before_exec(mnt, procs, cgroup_dir):
    script = "echo $$ > %s/cgroup.procs && exec sleep 300" % cgroup_dir
    p = spawn(procs, ["sh", "-c", script])
    wait_exec(p.pid, "sleep")
    name = proc_name(p.pid)
    want = "/" + os.path.basename(cgroup_dir)
    wait_status(mnt, name, "Cgroup", want)
    st = status(mnt, name)
    assert st["Container"] == "-" and st["ContainerRuntime"] == "-"
    p.kill()
    p.wait()


def test_loginuid_and_session(mnt, procs):
    script = "echo 4321 > /proc/self/loginuid && exec sleep 300"
    p = spawn(procs, ["sh", "-c", script], stderr=subprocess.PIPE)

    def done():
        return p.poll() is not None or proc_comm_is(p.pid, "sleep")

    wait_for(done, DEFAULT_TIMEOUT, "the loginuid write and exec")
    if p.poll() is not None:
        pytest.skip("cannot set loginuid here: %s" % p.stderr.read().decode().strip())
    wait_exec(p.pid, "sleep")
    name = proc_name(p.pid)
    session = read_text("/proc/%d/sessionid" % p.pid).strip()
    assert read_text("/proc/%d/loginuid" % p.pid).strip() == "4321"
    wait_status(mnt, name, "LoginUid", "4321")
    assert status(mnt, name)["SessionId"] == session


def sleeps_under(pid):
    """{argv[1]: pid} of the running `sleep N` children of pid."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % entry) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            argv = read_bytes("/proc/%s/cmdline" % entry).split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
        if ppid == pid and len(argv) >= 2 and argv[0] == b"sleep":
            found[argv[1].decode()] = int(entry)
    return found


def test_loginuid_of_children_and_later_logins(mnt, procs):
    """A login (a write to /proc/self/loginuid) gives a new session id;
    the daemon reads loginuid only when a process's session is not the one
    it inherited. Children of a logged-in shell, and a child that logs in
    again, show what /proc shows."""
    inner = 'sleep 300 & sh -c "echo 555 > /proc/self/loginuid && exec sleep 301" & wait'
    script = "echo 4321 > /proc/self/loginuid && exec sh -c '%s'" % inner
    p = spawn(procs, ["sh", "-c", script], stderr=subprocess.PIPE)
    wait_for(lambda: p.poll() is not None or len(sleeps_under(p.pid)) == 2, DEFAULT_TIMEOUT,
             "the two sleeps")
    if p.poll() is not None:
        pytest.skip("cannot set loginuid here: %s" % p.stderr.read().decode().strip())
    sleeps = sleeps_under(p.pid)
    for pid in [p.pid] + sorted(sleeps.values()):
        name = proc_name(pid)
        loginuid = read_text("/proc/%d/loginuid" % pid).strip()
        session = read_text("/proc/%d/sessionid" % pid).strip()
        assert loginuid == ("555" if pid == sleeps["301"] else "4321")
        wait_status(mnt, name, "LoginUid", loginuid)
        assert status(mnt, name)["SessionId"] == session
    assert (read_text("/proc/%d/sessionid" % sleeps["301"]) !=
            read_text("/proc/%d/sessionid" % sleeps["300"]))


def proc_comm_is(pid, comm):
    try:
        return read_text("/proc/%d/comm" % pid).strip() == comm
    except OSError:
        return False


def test_tty_sid_pgid(mnt, procs):
    p = spawn(procs, ["setsid", "sleep", "300"])
    wait_exec(p.pid, "sleep")
    name = proc_name(p.pid)
    fields = read_text("/proc/%d/stat" % p.pid).rsplit(")", 1)[1].split()
    pgid, sid = fields[2], fields[3]
    wait_status(mnt, name, "Sid", sid)
    st = status(mnt, name)
    assert st["Pgid"] == pgid
    assert st["Tty"] == "-"


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(scope="module")
def hash_daemon():
    from conftest import running_daemon

    with running_daemon(["--hash-exe", "--env=LINEAGEFS_KEEP,LD_PRELOAD"]) as d:
        yield d


def test_exe_hash_matches_sha256sum_also_after_overwrite(hash_daemon, procs, bindir):
    mnt = hash_daemon.mnt
    binary = os.path.join(bindir, "prog")
    shutil.copy(shutil.which("sleep"), binary)
    first_sum = sha256(binary)
    p = spawn(procs, [binary, "300"])
    wait_exec(p.pid, "prog")
    first = proc_name(p.pid)
    wait_status(mnt, first, "ExeHash", "sha256:" + first_sum)
    p.kill()
    p.wait()
    # Overwritten in place (same inode, new bytes), then run again.
    with open(shutil.which("cat"), "rb") as src, open(binary, "r+b") as dst:
        data = src.read()
        dst.seek(0)
        dst.write(data)
        dst.truncate()
    second_sum = sha256(binary)
    assert second_sum != first_sum
    q = spawn(procs, [binary], stdin=subprocess.PIPE)
    wait_exec(q.pid, "prog")
    second = proc_name(q.pid)
    wait_status(mnt, second, "ExeHash", "sha256:" + second_sum)
    # The first run keeps the hash of what it ran.
    assert status(mnt, first)["ExeHash"] == "sha256:" + first_sum


def hashed(mnt):
    return int(read_text(os.path.join(mnt, "stats")).split("exe_hashed ")[1].split()[0])


def test_exe_hash_cached_by_identity(hash_daemon, bindir):
    mnt = hash_daemon.mnt
    prog = os.path.join(bindir, "again")
    shutil.copy(shutil.which("true"), prog)
    names = []
    before = hashed(mnt)
    for _ in range(100):
        q = subprocess.Popen([prog])
        os.waitid(os.P_PID, q.pid, os.WEXITED | os.WNOWAIT)
        names.append(proc_name(q.pid))
        q.wait()
    want = "sha256:" + sha256(prog)
    # A process gone before its exe was read has none ("unknown"); the
    # others all have the one hash.
    barrier(mnt)
    found = []
    for name in names:
        st = status(mnt, name)
        found.append(st["ExeHash"])
        assert st["ExeHash"] in (want, "unknown") or (st["ExeHash"] == "-" and st["Exe"] == ""), st
    assert found.count(want) >= 50, found
    # 100 runs, one hash (whatever else the machine ran meanwhile is
    # hashed too, but far fewer than 100 distinct binaries).
    assert hashed(mnt) - before < 50


EXEC_FD = r"""
import os, sys
src, memfd = sys.argv[1], sys.argv[2] == "memfd"
data = open(src, "rb").read()
if memfd:
    fd = os.memfd_create("lineagefs-fileless", 0)
    os.write(fd, data)
else:
    path = sys.argv[3]
    with open(path, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)
    fd = os.open(path, os.O_RDONLY)
    os.unlink(path)
os.execve("/proc/self/fd/%d" % fd, ["sleep", "300"], {})
"""


@pytest.mark.parametrize("how", ["deleted", "memfd"])
def test_deleted_and_memfd_exec_flagged(hash_daemon, procs, bindir, how):
    mnt = hash_daemon.mnt
    target = os.path.join(bindir, "gone")
    sleep = shutil.which("sleep")
    p = spawn(procs, [sys.executable, "-c", EXEC_FD, sleep, how, target])
    wait_for(lambda: os.readlink("/proc/%d/exe" % p.pid).endswith("(deleted)"),
             DEFAULT_TIMEOUT, "the exec of an unlinked file")
    name = proc_name(p.pid)
    wait_status(mnt, name, "ExeHash", "sha256:" + sha256(sleep))
    st = status(mnt, name)
    if how == "memfd":
        assert st["ExeMemfd"] == "yes" and st["ExeDeleted"] == "no", st
        assert st["Exe"].startswith("/memfd:lineagefs-fileless"), st
    else:
        assert st["ExeDeleted"] == "yes" and st["ExeMemfd"] == "no", st
        assert st["Exe"] == target + " (deleted)", st
    # A binary on disk is flagged neither way.
    own = status(mnt, proc_name(os.getpid()))
    assert own["ExeDeleted"] == "no" and own["ExeMemfd"] == "no"


def test_env_keeps_only_the_names_asked(hash_daemon, procs):
    mnt = hash_daemon.mnt
    env = dict(HELPER_ENV, LINEAGEFS_KEEP="a b\nc", LINEAGEFS_DROP="secret")
    env.pop("LD_PRELOAD", None)
    p = spawn(procs, ["sleep", "300"], env=env)
    wait_exec(p.pid, "sleep")
    name = proc_name(p.pid)

    def kept():
        return read_bytes(os.path.join(mnt, name, "environ")) == b"LINEAGEFS_KEEP=a b\nc\0"

    wait_for(kept, DEFAULT_TIMEOUT, "environ to hold LINEAGEFS_KEEP only")
    assert b"secret" not in read_bytes(os.path.join(mnt, name, "status"))
    assert b"secret" not in read_bytes(os.path.join(mnt, name, "history"))


def test_no_environ_without_env(mnt):
    name = proc_name(os.getpid())
    assert "environ" not in os.listdir(os.path.join(mnt, name))
    assert status(mnt, name)["ExeHash"] == "-"


@pytest.mark.parametrize("bad", ["--env=", "--env=1ABC", "--env=A,,B", "--env=A=B",
                                 "--env=A,A", "--env"])
def test_bad_env_value(bad, empty_dir, skip_unless_mountable):  # noqa: F811
    line = assert_fails_cleanly([bad, empty_dir], empty_dir)
    assert "--env" in line, line


CONTEXT_KEYS = ("Cwd", "Cgroup", "Container", "ContainerRuntime", "PidNs", "NsPid", "LoginUid",
                "SessionId", "Tty", "Sid", "Pgid", "ExeDeleted", "ExeMemfd", "ExeHash", "Uid",
                "Gid", "Exe", "Execs")


def test_help_names_the_context_files_fields_and_options():
    """--help is where a new user looks first: it names the files, the
    status fields and the options of this context."""
    r = run(["--help"])
    assert r.returncode == 0, r.stderr
    for needle in ("history", "environ", "by-exe/<path>/", "by-uid/<uid>/", "--hash-exe",
                   "--env=NAME") + CONTEXT_KEYS[:14]:
        assert needle in r.stdout, "--help lacks %r:\n%s" % (needle, r.stdout)


def timed_lines(text):
    """[(epoch seconds, event fields)] of a history file."""
    out = []
    for line in text.splitlines():
        when, _, rest = line.partition("\t")
        seconds = None
        if when != "-":
            seconds = time.mktime(time.strptime(when[:19], "%Y-%m-%dT%H:%M:%S")) + float(
                "0." + when[20:23])
        out.append((seconds, rest))
    return out


def assert_same_history(before, after):
    """The same events; each time within 10 ms (the two daemons each turn
    the boot's clocks into wall-clock time once)."""
    b, a = timed_lines(before), timed_lines(after)
    assert [rest for _, rest in b] == [rest for _, rest in a], (before, after)
    for (tb, _), (ta, _) in zip(b, a):
        assert (tb is None) == (ta is None) and (tb is None or abs(tb - ta) <= 0.011), (
            before, after)


def journal_text(journal):
    text = ""
    for name in sorted(os.listdir(journal)):
        with open(os.path.join(journal, name), "rb") as f:
            text += f.read().decode("utf-8", "replace")
    return text


def sleep_exec_journaled(journal, pid):
    for line in journal_text(journal).splitlines():
        try:
            proc = json.loads(line).get("process", {})
        except ValueError:
            continue  # a line still being written
        if (proc.get("pid") == pid and proc.get("executable", "").endswith("/sleep") and
                proc.get("hash", {}).get("sha256")):
            return True
    return False


def test_restart_brings_context_and_history_back(start_daemon, tmp_path, procs):
    """kill -9 and a restart on the same --journal: the exited and the
    running process have their history, context, environ and index
    entries back, as the first daemon showed them."""
    journal = str(tmp_path / "journal")
    opts = ["--journal=" + journal, "--env=LINEAGEFS_KEEP", "--hash-exe"]
    first = start_daemon(opts)
    chain = ("exec env LINEAGEFS_KEEP=kept setpriv --reuid=65534 --regid=65534 --clear-groups "
             "/bin/sh -c 'exit 7'")
    exited, exited_name = spawn_zombie(["sh", "-c", chain], cwd="/tmp", env=HELPER_ENV)
    exited.wait()
    running = spawn(procs, ["sh", "-c", "exec env LINEAGEFS_KEEP=also sleep 300"], cwd="/usr")
    wait_exec(running.pid, "sleep")
    running_name = proc_name(running.pid)
    names = (exited_name, running_name)
    for name in names:
        wait_for(lambda: status(first.mnt, name).get("ExeHash", "").startswith("sha256:"),
                 DEFAULT_TIMEOUT, "the hash of " + name)
    wait_status(first.mnt, exited_name, "ExitCode", "exited 7")
    before = {name: (read_text(os.path.join(first.mnt, name, "history")),
                     status(first.mnt, name),
                     read_bytes(os.path.join(first.mnt, name, "environ"))) for name in names}
    assert events(before[exited_name][0].splitlines(), "uid"), before[exited_name][0]
    assert before[exited_name][2] == b"LINEAGEFS_KEEP=kept\0"
    # Everything of it is in the journal before the daemon dies.
    wait_for(lambda: '"exit_code":7' in journal_text(journal), DEFAULT_TIMEOUT,
             "the exit line in the journal")
    wait_for(lambda: journal_text(journal).count('"sha256"') >= 2, DEFAULT_TIMEOUT,
             "the hashes in the journal")
    # The running process's lines come after the exited one's: its exec of
    # sleep, with its hash, must be written too (a kill -9 before that loses
    # them, as the journal says: only what was written comes back).
    wait_for(lambda: sleep_exec_journaled(journal, running.pid), DEFAULT_TIMEOUT,
             "the exec of sleep, with its hash, in the journal")
    first.proc.kill()
    first.proc.wait(DEFAULT_TIMEOUT)
    first.stopped = True

    second = start_daemon(opts)
    for name in names:
        history_text, st, environ = before[name]
        assert_same_history(history_text,
                            read_text(os.path.join(second.mnt, name, "history")))
        after = status(second.mnt, name)
        assert {k: after.get(k) for k in CONTEXT_KEYS} == {k: st.get(k) for k in CONTEXT_KEYS}
        assert read_bytes(os.path.join(second.mnt, name, "environ")) == environ
        assert os.path.lexists(os.path.join(second.mnt, "by-uid", after["Uid"].split()[0],
                                            name))
        assert os.path.lexists(
            os.path.join(second.mnt, "by-exe", os.readlink(os.path.join(
                second.mnt, name, "exe")).lstrip("/"), name))
    # The exited one ran setpriv and env before its last exec: the index
    # knows it under them too, from the history the journal brought back.
    for prog in ("setpriv", "env"):
        path = os.path.realpath(shutil.which(prog)).lstrip("/")
        assert exited_name in os.listdir(os.path.join(second.mnt, "by-exe", path)), prog
    assert exited_name in os.listdir(os.path.join(second.mnt, "by-uid", "0"))


def segments(journal):
    return sorted(n for n in os.listdir(journal) if n.endswith(".jsonl"))


def checkpoint_line(journal, segment, pid):
    """The checkpoint line of pid in a segment (parsed), or None."""
    with open(os.path.join(journal, segment), "rb") as f:
        for raw in f:
            try:
                line = json.loads(raw)
            except ValueError:
                continue
            if (line["event"]["action"] == "checkpoint" and
                    line.get("process", {}).get("pid") == pid):
                return line
    return None


def kill9(daemon):
    daemon.proc.kill()
    daemon.proc.wait(DEFAULT_TIMEOUT)
    daemon.stopped = True


def test_found_record_keeps_its_seen_time_across_restarts(start_daemon, tmp_path, procs):
    """A process that ran before the daemon started is found by its scan,
    and its history shows the image it was found with at the time it was
    found. kill -9 and restart twice: each new segment's checkpoint holds
    the record, and says when it was seen (lineagefs.seen), so the found
    line keeps its time; before, it took the time of the checkpoint."""
    journal = str(tmp_path / "journal")
    opts = ["--journal=" + journal, "--journal-sync=50"]
    found = spawn(procs, ["sleep", "600"])
    wait_exec(found.pid, "sleep")
    name = proc_name(found.pid)
    daemon = start_daemon(opts)
    want = read_text(os.path.join(daemon.mnt, name, "history"))
    assert [line.split("\t")[1] for line in want.splitlines()] == ["start", "found"], want
    for restart in range(2):
        # The segment's open line and checkpoint are synced before the
        # checkpoint is counted.
        wait_for(lambda: int(stats(daemon.mnt)["journal_checkpoints"]) >= 1, DEFAULT_TIMEOUT,
                 "the checkpoint of daemon %d" % restart)
        kill9(daemon)
        daemon = start_daemon(opts)
        assert_same_history(want, read_text(os.path.join(daemon.mnt, name, "history")))
    wait_for(lambda: int(stats(daemon.mnt)["journal_checkpoints"]) >= 1, DEFAULT_TIMEOUT,
             "the last checkpoint")
    line = checkpoint_line(journal, segments(journal)[-1], found.pid)
    assert line is not None and "from_scan" in line["lineagefs"]["flags"], line
    # Seen by the first daemon, before this checkpoint was written.
    assert line["lineagefs"]["seen"] < line["@timestamp"], line


def restart_twice(start_daemon, daemon, opts, name, want):
    """kill -9 and restart twice once the journal is synced: the first
    restart reads the first daemon's lines, the second the checkpoint the
    second daemon wrote; each time name's history must be want. Returns
    the last daemon."""
    for restart in range(2):
        synced = int(stats(daemon.mnt)["journal_syncs"])
        # Each poll changes the journal, so there is always a next sync.
        wait_for(lambda: subprocess.run(["true"]).returncode == 0 and int(
            stats(daemon.mnt)["journal_syncs"]) > synced, DEFAULT_TIMEOUT, "a later sync")
        kill9(daemon)
        daemon = start_daemon(opts)
        assert_same_history(want, read_text(os.path.join(daemon.mnt, name, "history")))
        wait_for(lambda: int(stats(daemon.mnt)["journal_checkpoints"]) >= 1, DEFAULT_TIMEOUT,
                 "the checkpoint of daemon %d" % (restart + 1))
    return daemon


def pid_lines(journal, segment, pid):
    """The lines of pid in a segment, parsed."""
    lines = []
    with open(os.path.join(journal, segment), "rb") as f:
        for raw in f:
            line = json.loads(raw)
            if line.get("process", {}).get("pid") == pid:
                lines.append(line)
    return lines


def test_long_history_survives_restarts(start_daemon, tmp_path, procs):
    """A process with far more history entries than the 256 a checkpoint
    used to keep (its comm changed 2,000 times) gets all of them back after
    kill -9 and a restart (from its comm lines), and after a second one
    (from the checkpoint of the second daemon's segment, which now spreads
    a long history over "history" lines after it)."""
    journal = str(tmp_path / "journal")
    opts = ["--journal=" + journal, "--journal-sync=50"]
    daemon = start_daemon(opts)
    renames = 2000
    script = ("import sys\n"
              "for i in range(%d):\n"
              "    with open('/proc/self/comm', 'w') as f:\n"
              "        f.write('c%%d' %% i)\n"
              "sys.stdout.write('done\\n'); sys.stdout.flush()\n"
              "sys.stdin.read()\n" % renames)
    renamer = spawn(procs, [sys.executable, "-c", script], stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE)
    assert renamer.stdout.readline() == b"done\n"
    name = proc_name(renamer.pid)
    last = "c%d" % (renames - 1)
    wait_status(daemon.mnt, name, "Name", last)
    want = read_text(os.path.join(daemon.mnt, name, "history"))
    comms = events(want.splitlines(), "comm")
    # The kernel may drop events under load (a rescan repairs the table,
    # not the history): what the first daemon showed is what must come back.
    assert len(comms) > 256, want
    assert "dropped" not in want
    wait_for(lambda: "\"name\":\"%s\"" % comms[-1][2] in journal_text(journal),
             DEFAULT_TIMEOUT, "the last comm line in the journal")
    wait_for(lambda: int(stats(daemon.mnt)["journal_syncs"]) >= 1, DEFAULT_TIMEOUT, "a sync")
    daemon = restart_twice(start_daemon, daemon, opts, name, want)
    # The second daemon's checkpoint held it: a line and its continuations.
    lines = pid_lines(journal, segments(journal)[-2], renamer.pid)
    actions = [line["event"]["action"] for line in lines]
    assert actions[0] == "checkpoint" and "history" in actions[1:], actions
    held = sum(len(line["lineagefs"].get("history", [])) for line in lines
               if line["event"]["action"] in ("checkpoint", "history"))
    assert held >= len(comms), held


STAGES_SCRIPT = r"""
import os, sys

BIG = ["b%05d" % i + "x" * 94 for i in range(6000)]  # 606,000 bytes: over 512 KiB
MID = ["m%03d" % i + "y" * 95 for i in range(30)]  # 3,030 bytes: over 1 KiB
stage = int(os.environ["STAGE"])
sys.stdout.write("stage %d\n" % stage)
sys.stdout.flush()
sys.stdin.readline()  # the test saw all of this stage's command line
if stage == 4:
    sys.stdin.read()
nxt = stage + 1
# The stage in the environment: the 1st and 3rd execs' argv are the same.
os.execve(sys.executable, [sys.executable, sys.argv[0]] + (BIG if nxt in (1, 3) else MID),
          dict(os.environ, STAGE=str(nxt)))
"""


def test_whole_argv_of_earlier_execs_survives_restarts(start_daemon, tmp_path, procs):
    """A process exec'd a 606,000-byte argv, a 3,030-byte one, the first
    again, then the second again. Its history shows each earlier exec's
    whole argv; after kill -9 and a restart (from the exec lines), and a
    second one (from the second daemon's checkpoint, which used to keep
    1,024 bytes of each), it shows the same. The checkpoint holds the big
    argv once: the repeat names the entry before it ("args_back")."""
    journal = str(tmp_path / "journal")
    opts = ["--journal=" + journal, "--journal-sync=50"]
    script = str(tmp_path / "stages.py")
    with open(script, "w") as f:
        f.write(STAGES_SCRIPT)
    daemon = start_daemon(opts)
    big = ["b%05d" % i + "x" * 94 for i in range(6000)]
    mid = ["m%03d" % i + "y" * 95 for i in range(30)]
    argvs = [[sys.executable, script] + ([] if stage == 0 else big if stage in (1, 3) else mid)
             for stage in range(5)]
    staged = spawn(procs, argvs[0], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                   env=dict(HELPER_ENV, STAGE="0"))
    name = proc_name(staged.pid)
    for stage, argv in enumerate(argvs):
        assert staged.stdout.readline() == b"stage %d\n" % stage
        # Each exec's whole command line is read before the next exec.
        wait_status(daemon.mnt, name, "CmdlineLength",
                    str(sum(len(a.encode()) + 1 for a in argv)))
        staged.stdin.write(b"go\n")
        staged.stdin.flush()
    want = read_text(os.path.join(daemon.mnt, name, "history"))
    execs = events(want.splitlines(), "exec")
    assert [argv_of(fields) for fields in execs] == argvs, want[:2000]
    assert "truncated" not in want and "dropped" not in want
    wait_for(lambda: '"args":["%s"' % argvs[4][0] in journal_text(journal) and
             journal_text(journal).count('"m029' + "y" * 95) >= 2, DEFAULT_TIMEOUT,
             "the last exec line in the journal")
    daemon = restart_twice(start_daemon, daemon, opts, name, want)
    # The second daemon's checkpoint of it: the big argv's bytes once.
    entries = []
    for line in pid_lines(journal, segments(journal)[-2], staged.pid):
        if line["event"]["action"] in ("checkpoint", "history"):
            entries += line["lineagefs"].get("history", [])
    assert [e.get("args_back") for e in entries] == [None, None, None, 2], entries[:1]
    assert [bool(e.get("cmdline_b64")) for e in entries] == [False, True, False, False]
