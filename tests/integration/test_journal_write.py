# SPDX-License-Identifier: GPL-2.0-or-later
"""The journal's writer against a real mount (issue 7).

Every line of a live journal parses with jq and carries the ECS fields; a
process that exits with a known code and has non-UTF-8 bytes in its argv
appears with the same entity id in its fork, exec and exit lines, its exact
argv in lineagefs.cmdline_b64 and its exit code; the files are 0640 in a
0750 directory; a directory others may write, and bad option values, stop
the daemon at start with one line. On a tmpfs that fills up during a storm
the mirror stays complete, the errors are counted, the daemon lives on, and
once space is freed the journal resumes with a gap line telling how many
lines were lost.
"""

import base64
import glob
import json
import os
import shutil
import stat
import subprocess
import tempfile

import pytest

from conftest import daemon_env, lineagefs_binary
from helpers import (DEFAULT_TIMEOUT, barrier, is_mounted, spawn_read_zombie, spawn_zombie, stats,
                     status, wait_for)

ECS_FILTER = r"""
  (has("@timestamp") and (."@timestamp" | test("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{9}Z$")))
  and (.event.kind | IN("event", "state", "pipeline_error"))
  and .event.category == ["process"]
  and (.event.type | length == 1) and (.event.type[0] | IN("start", "change", "end", "info"))
  and (.event.action | type == "string")
  and (.event.sequence | type == "number")
  and (.host.id | test("^[0-9a-f]{32}$"))
  and (.host.boot.id | type == "string")
  and .lineagefs.v == 2
  and (if (.event.action | IN("open", "gap")) then true else
         (.process.entity_id | test("^[0-9a-f]{32}$"))
         and (.process.pid | type == "number")
         and (.lineagefs.start_ticks | type == "number")
       end)
"""


def segments(journal):
    return sorted(glob.glob(os.path.join(journal, "lineagefs-*.jsonl")))


def segment_data(journal, running=True):
    """[(path, bytes)] of every segment, oldest first.

    While the daemon runs, the newest segment is the one it writes: a
    reader may catch a write half done (a long checkpoint line is copied
    page by page), or a failed one before it is cut back, so its bytes
    after the last newline are not a line yet and are left out. Once the
    daemon has stopped (running=False), every segment must end in a whole
    line."""
    paths = segments(journal)
    out = []
    for path in paths:
        with open(path, "rb") as f:
            data = f.read()
        if running and path == paths[-1]:
            data = data[:data.rfind(b"\n") + 1]
        assert data == b"" or data.endswith(b"\n"), "%s ends in a torn line" % path
        out.append((path, data))
    return out


def journal_lines(journal, running=True):
    lines = []
    for _, data in segment_data(journal, running):
        for raw in data.splitlines():
            lines.append(json.loads(raw))
    return lines


def jq_check(journal, running=True):
    """Every line parses with jq and passes the ECS filter; returns the count."""
    total = 0
    for path, data in segment_data(journal, running):
        r = subprocess.run(["jq", "-c", ECS_FILTER], input=data, capture_output=True,
                           timeout=120)
        assert r.returncode == 0, "jq failed on %s: %s" % (path, r.stderr)
        verdicts = r.stdout.split()
        assert len(verdicts) == data.count(b"\n")
        assert set(verdicts) <= {b"true"}, "%s: a line lacks ECS fields" % path
        total += len(verdicts)
    return total


def proc_lines(lines, pid, start):
    return [x for x in lines
            if x.get("process", {}).get("pid") == pid
            and x.get("lineagefs", {}).get("start_ticks") == start]


def wait_journal(journal, cond, what, timeout=DEFAULT_TIMEOUT):
    return wait_for(lambda: cond(journal_lines(journal)), timeout, what, interval=0.05)


@pytest.fixture
def workdir():
    d = tempfile.mkdtemp(prefix="lineagefs-journal-")
    os.chmod(d, 0o700)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_lines_parse_and_carry_ecs_fields(start_daemon, workdir):
    journal = os.path.join(workdir, "journal")
    d = start_daemon(["--journal=" + journal])
    # Lines of what happens after the first checkpoint (a process the
    # checkpoint already holds is told by its checkpoint line).
    wait_for(lambda: int(stats(d.mnt)["journal_checkpoints"]) == 1, DEFAULT_TIMEOUT,
             "the first checkpoint")
    argv = [b"/bin/sh", b"-c", b"read x; exit 3", b"caf\xc3\xa9", b"\xff\xfe-\x80"]
    p, name = spawn_read_zombie(d.mnt, argv)
    p.wait()
    pid, start = (int(x) for x in name.split("-"))
    barrier(d.mnt)
    exited = lambda lines: [x for x in proc_lines(lines, pid, start)
                            if x["event"]["action"] == "exit"]
    wait_journal(journal, exited, "the exit line of %s" % name)

    assert stat.S_IMODE(os.stat(journal).st_mode) == 0o750
    for path in segments(journal):
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o640
    assert jq_check(journal) > 0

    lines = journal_lines(journal)
    with open("/etc/machine-id") as f:
        machine_id = f.read().strip()
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot_id = f.read().strip()
    assert lines[0]["event"]["action"] == "open"
    assert {x["host"]["id"] for x in lines} == {machine_id}
    assert {x["host"]["boot"]["id"] for x in lines} == {boot_id}
    seqs = [x["event"]["sequence"] for x in lines]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)

    mine = proc_lines(lines, pid, start)
    actions = [x["event"]["action"] for x in mine]
    # A fork whose exec follows at once is told by the exec line.
    assert actions[0] in ("fork", "exec") and "exec" in actions and actions[-1] == "exit", actions
    assert len({x["process"]["entity_id"] for x in mine}) == 1
    execs = [x for x in mine if x["event"]["action"] == "exec"]
    exact = base64.b64decode(execs[-1]["lineagefs"]["cmdline_b64"])
    assert exact == b"\0".join(argv) + b"\0"
    with open(os.path.join(d.mnt, name, "cmdline"), "rb") as f:
        assert f.read() == exact
    assert execs[-1]["process"]["args"][3] == "caf\u00e9"
    assert execs[-1]["process"]["args"][4] == "\ufffd\ufffd-\ufffd"
    assert execs[-1]["process"]["executable"] == os.readlink(os.path.join(d.mnt, name, "exe"))
    end = mine[-1]
    assert end["process"]["exit_code"] == 3
    # The exit code says it all, and the end is the line's @timestamp.
    assert "exit" not in end["lineagefs"] and "end" not in end["process"]
    assert end["event"]["type"] == ["end"]
    # The creator is this test: its checkpoint line has the parent's id.
    me = [x for x in lines if x.get("process", {}).get("pid") == os.getpid()]
    assert me and mine[0]["process"]["parent"]["entity_id"] == me[0]["process"]["entity_id"]
    assert mine[0]["process"]["parent"]["pid"] == os.getpid()
    assert status(d.mnt, name)["ExitCode"] == "exited 3"

    s = stats(d.mnt)
    assert int(s["journal_lines"]) >= len(lines)
    assert int(s["journal_lines_lost"]) == 0
    assert int(s["journal_write_errors"]) == 0
    assert int(s["journal_segments"]) == 1
    assert int(s["journal_checkpoints"]) == 1
    d.stop()
    # Stopped: the segment ends in a whole line, and every line passes.
    assert jq_check(journal, running=False) >= len(lines)


def run_clean_failure(args):
    binary = lineagefs_binary()
    p = subprocess.run([binary, "-f"] + args, stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, env=daemon_env(), timeout=DEFAULT_TIMEOUT)
    lines = [x for x in p.stderr.splitlines() if x.strip()]
    assert p.returncode not in (0,) and 0 < p.returncode < 128, (p.returncode, p.stderr)
    assert len(lines) == 1, p.stderr
    return lines[0]


@pytest.mark.parametrize("mode,word", [(0o777, "others"), (0o770, "group")])
def test_refuses_a_directory_others_may_write(skip_unless_mountable, workdir, mode, word):
    journal = os.path.join(workdir, "journal")
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(journal)
    os.mkdir(mnt)
    os.chmod(journal, mode)
    line = run_clean_failure(["--journal=" + journal, mnt])
    assert journal in line and word in line and "chmod go-w" in line, line
    assert not is_mounted(mnt)
    assert os.listdir(journal) == []


@pytest.mark.parametrize("bad", [
    "--journal=",
    "--journal-max=abc",
    "--journal-max=10",
    "--journal-max=-1M",
    "--journal-max=5X",
    "--journal-sync=-1",
    "--journal-sync=soon",
    "--journal-sync=99999999999",
])
def test_bad_journal_option_values(skip_unless_mountable, workdir, bad):
    mnt = os.path.join(workdir, "mnt")
    os.mkdir(mnt)
    line = run_clean_failure([bad, "--journal=" + os.path.join(workdir, "j"), mnt]
                             if not bad.startswith("--journal=") else [bad, mnt])
    assert bad.split("=")[0] in line, line
    assert not is_mounted(mnt)


def test_options_through_o_and_separate_value(start_daemon, workdir):
    journal = os.path.join(workdir, "j")
    d = start_daemon(["-o", "journal=%s,journal_max=2M,journal_sync=50" % journal])
    barrier(d.mnt)
    wait_for(lambda: int(stats(d.mnt)["journal_syncs"]) > 0, DEFAULT_TIMEOUT, "a sync")
    d.stop()
    other = os.path.join(workdir, "k")
    d = start_daemon(["--journal", other, "--journal-max", "1M", "--journal-sync", "0"])
    barrier(d.mnt)
    assert segments(other)


def test_disk_full_costs_lines_not_events(start_daemon, workdir):
    """A journal on a tmpfs that fills up during a storm."""
    fs = os.path.join(workdir, "tmpfs")
    os.mkdir(fs)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", fs], check=True)
    try:
        journal = os.path.join(fs, "journal")
        d = start_daemon(["--journal=" + journal, "--journal-sync=50"])
        wait_for(lambda: int(stats(d.mnt)["journal_checkpoints"]) == 1, DEFAULT_TIMEOUT,
                 "the first checkpoint")
        # Fill the rest of the tmpfs.
        filler = os.path.join(fs, "filler")
        fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
        try:
            while os.write(fd, b"\0" * 4096) > 0:
                pass
        except OSError:
            pass
        finally:
            os.close(fd)
        names = []
        for _ in range(300):
            p, name = spawn_zombie(["/bin/true"])
            p.wait()
            names.append(name)
        barrier(d.mnt)
        # The mirror has every process.
        for name in names:
            assert status(d.mnt, name)["ExitCode"] == "exited 0", name
        s = stats(d.mnt)
        assert int(s["journal_write_errors"]) > 0, s
        assert int(s["journal_lines_lost"]) > 0, s
        assert d.proc.poll() is None
        # Space again: the journal resumes and says what it lost. It
        # resumes in a new segment with a checkpoint of the whole table,
        # whose size is not the test's to choose: every process the
        # machine ran meanwhile is in it (megabytes on a busy machine,
        # more than the filler held). Freed and grown, the tmpfs holds it
        # (a tmpfs takes memory only for what is written).
        os.unlink(filler)
        subprocess.run(["mount", "-o", "remount,size=256m", fs], check=True)
        p, name = spawn_zombie(["/bin/true"])
        p.wait()
        pid, start = (int(x) for x in name.split("-"))
        # Its exit line, or the checkpoint of a new segment that holds it.
        wait_journal(journal, lambda lines: [x for x in proc_lines(lines, pid, start)
                                             if x["process"].get("exit_code") == 0],
                     "the journal to resume", timeout=30)
        barrier(d.mnt)
        lines = journal_lines(journal)
        gaps = [x for x in lines if x["event"]["action"] == "gap"]
        assert gaps, "no gap line after the disk was full"
        assert all(x["event"]["kind"] == "pipeline_error" for x in gaps)
        lost = sum(x["lineagefs"]["lost_lines"] for x in gaps)

        def all_told():
            return sum(x["lineagefs"]["lost_lines"] for x in journal_lines(journal)
                       if x["event"]["action"] == "gap") == int(stats(d.mnt)["journal_lines_lost"])

        wait_for(all_told, 30, "gap lines to tell every lost line")
        assert lost > 0
        d.stop()
        # Stopped: every segment ends in a whole line, and every line passes.
        assert jq_check(journal, running=False) > 0
    finally:
        subprocess.run(["umount", "-l", fs], check=False)
