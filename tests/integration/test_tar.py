# SPDX-License-Identifier: GPL-2.0-or-later
"""Archiving the mount while processes come and go: tar exits 0, with
`-cf FILE`, `-cf /dev/null` (where tar stats and reads nothing) and
`-cf - | cat`, and the extracted archive holds the mount's tree, names,
links and bytes."""

import datetime
import os
import subprocess
import tarfile
import time

import pytest

from helpers import barrier, read_bytes

# Processes that start, exec, change and exit all through the archiving:
# short ones, sleeps that end during it, and a shell whose status changes.
CHURN = r"""
i=0
while [ $i -lt 100000 ]; do
    /bin/true
    sh -c 'sleep 0.$((i % 5)); exit $((i % 7))' &
    i=$((i+1))
    if [ $((i % 50)) -eq 0 ]; then wait; fi
done
"""


@pytest.fixture
def churn(mnt):
    p = subprocess.Popen(["/bin/sh", "-c", CHURN])
    p.started_at = time.time()
    # Let it run a while first, so exited processes are in the tree.
    barrier(mnt)
    for _ in range(3):
        barrier(mnt)
    yield p
    p.kill()
    p.wait()


def tar(mnt, archive, pipe=False):
    argv = ["tar", "-C", mnt, "-cf", "-" if pipe else archive, "."]
    if pipe:
        with open(archive, "wb") as out:
            t = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            cat = subprocess.Popen(["cat"], stdin=t.stdout, stdout=out)
            t.stdout.close()
            err = t.stderr.read().decode()
            rc = t.wait(timeout=600)
            assert cat.wait(timeout=60) == 0
    else:
        r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=600)
        rc, err = r.returncode, r.stderr.decode()
    assert rc == 0 and err == "", "tar %s exited %d:\n%s" % (" ".join(argv), rc, err)


def test_tar_to_a_file_dev_null_and_a_pipe_exit_0(mnt, churn, tmp_path):
    tar(mnt, str(tmp_path / "evidence.tar"))
    # tar notices /dev/null and then stats each file twice, reading nothing.
    tar(mnt, "/dev/null")
    tar(mnt, str(tmp_path / "piped.tar"), pipe=True)
    assert churn.poll() is None, "the churn ended before the archives"
    with tarfile.open(tmp_path / "piped.tar") as t:
        names = t.getnames()
    assert "./stats" in names and "./metrics" in names and "./by-pid" in names


def exit_time(status):
    for line in status.decode().splitlines():
        if line.startswith("ExitTime:\t"):
            value = line.split("\t", 1)[1]
            if value in ("-", "unknown"):
                return None
            return datetime.datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(
                tzinfo=datetime.timezone.utc).timestamp()
    return None


def test_round_trip(mnt, churn, tmp_path):
    archive = tmp_path / "evidence.tar"
    # Only processes that exited a second before tar started are compared
    # (an out-of-order event lands within milliseconds): on a fast machine
    # the barriers take less than that, so let the churn make some first.
    while time.time() - churn.started_at < 3:
        time.sleep(0.05)
    started = time.time()
    tar(mnt, str(archive))
    out = tmp_path / "x"
    out.mkdir()
    subprocess.run(["tar", "-C", str(out), "-xf", str(archive)], check=True, timeout=600)

    names = [n for n in os.listdir(out) if n[0].isdigit()]
    assert len(names) > 100
    exited = 0
    for name in names:
        src, dst = os.path.join(mnt, name), os.path.join(out, name)
        # Nothing was forgotten here: every archived process is still in
        # the mount.
        assert os.path.isdir(src), name
        status = read_bytes(os.path.join(dst, "status"))
        ended = exit_time(status)
        # An exited process never changes again (once the events that
        # arrive out of order, a fork a few milliseconds after its
        # creator's exit, are in): the archive and the mount agree on its
        # entries, byte for byte, links and children included.
        if b"\nState:\texited\n" not in status or ended is None or ended > started - 1:
            continue
        exited += 1
        assert sorted(os.listdir(src)) == sorted(os.listdir(dst)), name
        for f in ("cmdline", "comm", "status"):
            assert read_bytes(os.path.join(src, f)) == read_bytes(os.path.join(dst, f)), (name, f)
        for link in ("exe", "parent"):
            if os.path.lexists(os.path.join(src, link)):
                assert os.readlink(os.path.join(src, link)) == os.readlink(
                    os.path.join(dst, link)), (name, link)
        children = sorted(os.listdir(os.path.join(src, "children")))
        assert children == sorted(os.listdir(os.path.join(dst, "children"))), name
        for child in children:
            assert os.readlink(os.path.join(dst, "children", child)) == "../../" + child
        # The archive's ancestry is the process's chain, as archived.
        lines = read_bytes(os.path.join(dst, "ancestry")).decode().splitlines()
        assert lines[0].split("\t")[0] == name
    assert exited > 50, "only %d exited processes archived" % exited
    # by-pid/ and self are links into the archived tree.
    for pid in os.listdir(out / "by-pid")[:200]:
        target = os.readlink(out / "by-pid" / pid)
        assert target.startswith("../%s-" % pid), target
    # Files whose content moves at every look are archived whole.
    stats = read_bytes(out / "stats").decode()
    assert stats.endswith("\n") and "events_exec " in stats
    metrics = read_bytes(out / "metrics").decode()
    assert metrics.endswith("\n") and "# TYPE lineagefs_events_total counter" in metrics


def test_stat_then_read_agree_for_changing_files(mnt, churn):
    """The size a stat gives is the size a read of the same name gets."""
    me = os.path.join(mnt, "by-pid", str(churn.pid))
    for path in (os.path.join(mnt, "stats"), os.path.join(mnt, "metrics"),
                 os.path.join(me, "ancestry"), os.path.join(me, "status")):
        for _ in range(20):
            size = os.stat(path).st_size
            with open(path, "rb") as f:
                data = f.read()
                assert len(data) == size == os.fstat(f.fileno()).st_size, path
