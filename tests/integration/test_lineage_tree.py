# SPDX-License-Identifier: GPL-2.0-or-later
"""examples/lineage-tree: pstree -p for the mount, on a tree built here.

The known tree: a shell (top) runs a subshell (middle) that starts two
sleeps in the background and exits 3, so the middle process is exited while
its children run, reparented by the kernel; lineage-tree must still draw
them under the middle one, marked with how it ended.
"""

import os
import subprocess

import pytest

from helpers import proc_name, wait_entry, wait_exec, wait_exited, wait_for

TOP = 'echo $$; (sleep 30 & echo $!; sleep 30 & echo $!; exit 3); read -r _'


def example(name):
    root = os.environ.get("LINEAGEFS_SOURCE_ROOT") or os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    return os.path.join(root, "examples", name)


def tree(mnt, *args, env=None):
    r = subprocess.run([example("lineage-tree"), "-m", mnt, *args], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    return r.stdout


@pytest.fixture
def known_tree(mnt, procs):
    """(top, middle, sleep1, sleep2) names; middle has exited 3."""
    p = subprocess.Popen(["/bin/sh", "-c", TOP, "top-arg"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    procs.append(p)
    top = int(p.stdout.readline())
    sleeps = [int(p.stdout.readline()), int(p.stdout.readline())]
    for pid in sleeps:
        wait_exec(pid, "sleep")
    names = [proc_name(top)] + [proc_name(pid) for pid in sleeps]
    for name in names:
        wait_entry(mnt, name)
    # The middle one is the sleeps' creator: its name comes from the mount.
    middle = os.readlink(os.path.join(mnt, names[1], "parent"))[len("../"):]
    assert middle.split("-")[0] != str(top)
    wait_exited(mnt, middle)
    yield names[0], middle, names[1], names[2]
    for pid in sleeps:
        os.kill(pid, 9)
    p.stdin.close()
    p.wait()


def pid_of(name):
    return name.split("-")[0]


def test_pstree_layout_with_an_exited_middle(mnt, known_tree):
    top, middle, s1, s2 = known_tree
    out = tree(mnt, "-A", top)
    head = "sh(%s)---sh(%s)[exited 3]-+-" % (pid_of(top), pid_of(middle))
    assert out == (head + "sleep(%s)\n" % pid_of(s1) +
                   " " * (len(head) - 2) + "`-sleep(%s)\n" % pid_of(s2)), out
    # The same by <pid>-<start>, and in UTF-8 lines.
    assert tree(mnt, "-A", top) == tree(mnt, "-A", pid_of(top))
    utf8 = tree(mnt, "-U", top)
    assert utf8.splitlines()[0] == "sh(%s)───sh(%s)[exited 3]─┬─sleep(%s)" % (
        pid_of(top), pid_of(middle), pid_of(s1))
    assert utf8.splitlines()[1].endswith("└─sleep(%s)" % pid_of(s2))


def test_start_from_an_exited_process(mnt, known_tree):
    _, middle, s1, s2 = known_tree
    out = tree(mnt, "-A", middle)
    assert out.splitlines() == [
        "sh(%s)[exited 3]-+-sleep(%s)" % (pid_of(middle), pid_of(s1)),
        " " * len("sh(%s)[exited 3]" % pid_of(middle)) + " `-sleep(%s)" % pid_of(s2),
    ]


def test_command_lines(mnt, known_tree):
    top, middle, s1, s2 = known_tree
    out = tree(mnt, "-a", "-A", top)
    assert out.splitlines() == [
        "sh,%s -c %s top-arg" % (pid_of(top), TOP),
        # The subshell did not exec: it shows the image its creator ran.
        "  `-sh,%s[exited 3] -c %s top-arg" % (pid_of(middle), TOP),
        "      |-sleep,%s 30" % pid_of(s1),
        "      `-sleep,%s 30" % pid_of(s2),
    ]


def test_whole_tree_from_init_holds_this_test(mnt):
    out = tree(mnt, "-A")
    assert out.startswith("%s(1)" % open("/proc/1/comm").read().strip())
    assert "(%d)" % os.getpid() in out


def test_hostile_command_line_stays_on_one_line(mnt, procs):
    # The shell stays (no exec of its last command) with the argument as $0.
    p = subprocess.Popen(["/bin/sh", "-c", "sleep 30; :", "two\nlines\x1b[31m\\"])
    procs.append(p)
    wait_exec(p.pid, "sh")
    wait_entry(mnt, proc_name(p.pid))
    out = tree(mnt, "-a", proc_name(p.pid))
    assert out.splitlines()[0] == "sh,%d -c sleep 30; : two\\nlines\\033[31m\\\\" % p.pid
    assert len(out.splitlines()) == 2 and "\x1b" not in out


def test_errors(mnt):
    def fails(*args):
        r = subprocess.run([example("lineage-tree"), *args], stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True, timeout=60)
        assert r.returncode != 0 and r.stdout == ""
        return r.stderr

    assert "99999999" in fails("-m", mnt, "99999999")
    assert "no process" in fails("-m", mnt, "99999999-1")
    assert "neither a PID" in fails("-m", mnt, "abc")
    assert "not a lineagefs mount" in fails("-m", "/tmp")


def test_default_mountpoint(mnt):
    """Without -m it reads /run/lineagefs, and says so when nothing is there."""
    if os.path.exists("/run/lineagefs/stats"):
        pytest.skip("a lineagefs is mounted on /run/lineagefs here")
    r = subprocess.run([example("lineage-tree")], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode != 0 and "/run/lineagefs is not a lineagefs mount" in r.stderr


def test_names_with_an_instance_suffix_sort_as_children(tmp_path):
    """A tree copied out of the mount (here, a hand-made one) with
    <pid>-<start>.N names: drawn in start order, suffixes kept apart."""
    root = tmp_path / "copy"
    (root / "by-pid").mkdir(parents=True)
    (root / "stats").write_text("")

    def proc(name, comm, children=(), state="running", code="-"):
        d = root / name
        (d / "children").mkdir(parents=True)
        (d / "status").write_text("Name:\t%s\nState:\t%s\nExitCode:\t%s\n" % (comm, state, code))
        (d / "comm").write_text(comm + "\n")
        (d / "cmdline").write_bytes(comm.encode() + b"\0")
        for child in children:
            os.symlink("../../" + child, d / "children" / child)

    proc("10-100", "init", ["30-900", "20-500.2", "20-500"])
    proc("20-500", "a", state="exited", code="killed by SIGKILL")
    proc("20-500.2", "b", state="exited", code="unknown")
    proc("30-900", "c")
    os.symlink("../10-100", root / "by-pid" / "10")
    out = tree(str(root), "-A", "10")
    assert out.splitlines() == [
        "init(10)-+-a(20)[killed by SIGKILL]",
        "         |-b(20)[exit unknown]",
        "         `-c(30)",
    ]
