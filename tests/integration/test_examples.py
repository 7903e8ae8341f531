# SPDX-License-Identifier: GPL-2.0-or-later
"""examples/: the ancestry script and the find/ls recipes, run for real."""

import os
import subprocess

import pytest

from helpers import proc_name, proc_ppid, spawn_zombie, wait_entry, wait_exec, wait_exited


def example(name):
    root = os.environ.get("LINEAGEFS_SOURCE_ROOT") or os.path.dirname(
        os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    path = os.path.join(root, "examples", name)
    if not os.path.exists(path):
        pytest.skip("%s not found" % path)
    return path


def sh(cmd, mnt):
    """Run a recipe the way a user types it, from inside the mount."""
    return subprocess.run(["bash", "-c", cmd], cwd=mnt, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60)


def ancestry_of_a_sleep(mnt, procs, *sh_args):
    """Runs ancestry.sh on a `sleep 30` started by `sh -c ... sh_args`.

    Returns the sh, the sleep's pid and the script's stdout.
    """
    p = subprocess.Popen(["/bin/sh", "-c", 'sleep 30 & echo $!; wait', *sh_args],
                         stdout=subprocess.PIPE, text=True)
    procs.append(p)
    sleep_pid = int(p.stdout.readline())
    wait_exec(sleep_pid, "sleep")
    wait_entry(mnt, proc_name(sleep_pid))
    r = subprocess.run(["bash", example("ancestry.sh"), str(sleep_pid), mnt],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return p, sleep_pid, r.stdout


def test_ancestry_script_walks_to_init(mnt, procs):
    p, sleep_pid, out = ancestry_of_a_sleep(mnt, procs, "arg with space")
    lines = [line.split("\t") for line in out.splitlines()]
    assert lines[0] == [proc_name(sleep_pid), "running", "sleep 30"]
    assert lines[1] == [proc_name(p.pid), "running", "/bin/sh -c sleep 30 & echo $!; wait arg with space"]
    assert lines[2][0] == proc_name(os.getpid())
    assert lines[-1][0] == proc_name(1)
    # Every line is the parent of the one before, as /proc says for live ones.
    pid = os.getpid()
    for name, state, _ in lines[2:]:
        assert name == proc_name(pid)
        assert state == "running"
        pid = proc_ppid(pid)
    os.kill(sleep_pid, 9)


def test_ancestry_script_one_safe_line_per_process(mnt, procs):
    """A newline, a tab or an escape sequence in an argument (a hostile
    process chooses its argv) is shown escaped: one line per process, and
    nothing reaches the investigator's terminal raw."""
    hostile = "two\nlines\tand\x1b[31mred\\"
    p, sleep_pid, out = ancestry_of_a_sleep(mnt, procs, hostile, "ok \u2713")
    lines = out.splitlines()
    assert lines[1] == "%s\trunning\t/bin/sh -c sleep 30 & echo $!; wait %s ok \u2713" % (
        proc_name(p.pid), "two\\nlines\\tand\\x1b[31mred\\\\")
    assert "\x1b" not in out
    assert all(len(line.split("\t")) == 3 for line in lines), lines
    os.kill(sleep_pid, 9)


def test_ancestry_script_errors(mnt):
    r = subprocess.run(["bash", example("ancestry.sh"), "99999999", mnt],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode != 0 and "99999999" in r.stderr
    r = subprocess.run(["bash", example("ancestry.sh"), "1", "/tmp"],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=60)
    assert r.returncode != 0 and "not a lineagefs mount" in r.stderr


def test_recipe_every_process_that_ran_a_program(mnt):
    marker = "lineagefs-recipe-%d" % os.getpid()
    p, name = spawn_zombie(["/bin/sh", "-c", "exit 0", marker])
    p.wait()
    wait_exited(mnt, name)
    # As recipes.md says: [0-9]* skips self, the brackets keep grep (and
    # this bash) from matching their own command lines.
    r = sh("grep -la -- '[%s]%s' [0-9]*/cmdline" % (marker[0], marker[1:]), mnt)
    assert r.stdout.split() == [name + "/cmdline"], r.stderr
    r = sh("find . -mindepth 2 -maxdepth 2 -name exe -lname '*/dash' -printf '%h\\n'", mnt)
    assert "./" + name in r.stdout.split()


def test_recipe_started_in_the_last_minutes(mnt, procs):
    p = subprocess.Popen(["/bin/sleep", "30"])
    procs.append(p)
    name = proc_name(p.pid)
    wait_entry(mnt, name)
    r = sh("find . -mindepth 1 -maxdepth 1 -name '[0-9]*-*' -newermt '-10 minutes'", mnt)
    recent = [x[2:] for x in r.stdout.split()]
    assert name in recent
    assert proc_name(1) not in recent or _uptime() < 600


def _uptime():
    with open("/proc/uptime") as f:
        return float(f.read().split()[0])


def test_recipe_killed_by_signals_and_children(mnt):
    p, name = spawn_zombie(["/bin/sh", "-c", "kill -TERM $$"])
    p.wait()
    wait_exited(mnt, name)
    r = sh("grep -l '^ExitCode:.killed by' */status", mnt)
    assert name + "/status" in r.stdout.split()
    r = sh("ls by-pid/%d/children/" % os.getpid(), mnt)
    assert r.returncode == 0 and name in r.stdout.split()
