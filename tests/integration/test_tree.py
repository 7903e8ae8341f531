# SPDX-License-Identifier: GPL-2.0-or-later
"""The mount as a whole agrees with /proc."""

import os

from helpers import (
    proc_is_alive_as,
    proc_names,
    proc_tids,
    read_text,
    status,
    wait_for,
)

SPECIAL = {"by-pid", "self", "stats", "metrics", "boots", "by-exe", "by-uid"}


def test_every_live_process_has_its_directory(mnt):
    def missing():
        listed = set(os.listdir(mnt))
        gone = {}
        for pid, name in proc_names().items():
            # A process that exited in between is no miss; one that just
            # started gets the rest of the poll to show up.
            if name not in listed and proc_is_alive_as(pid, name):
                gone[pid] = name
        return gone

    last = {}

    def none_missing():
        last.clear()
        last.update(missing())
        return not last

    try:
        wait_for(none_missing, what="every /proc process to be listed")
    except AssertionError:
        raise AssertionError("live processes without a directory: %r" % sorted(last.values()))


def test_root_lists_only_processes_and_fixed_entries(mnt):
    for entry in os.listdir(mnt):
        if entry in SPECIAL:
            continue
        pid, sep, start = entry.partition("-")
        assert sep and pid.isdigit() and start.isdigit(), "odd root entry %r" % entry
        assert str(int(pid)) == pid and str(int(start)) == start, "non-canonical %r" % entry


def test_no_thread_is_a_top_level_entry(mnt):
    listed = set(os.listdir(mnt))
    threads = []
    for pid in proc_names():
        try:
            for tid in proc_tids(pid):
                if tid == pid:
                    continue
                stat = read_text("/proc/%d/task/%d/stat" % (pid, tid))
                threads.append("%d-%s" % (tid, stat.rsplit(")", 1)[1].split()[19]))
        except OSError:
            pass
    assert not listed.intersection(threads), "threads listed: %r" % sorted(listed.intersection(threads))


def test_running_directories_are_alive_in_proc(mnt):
    def stale():
        out = []
        for entry in os.listdir(mnt):
            if entry in SPECIAL:
                continue
            try:
                st = status(mnt, entry)
            except FileNotFoundError:
                continue
            if st["State"] == "running":
                pid = int(entry.split("-")[0])
                if not proc_is_alive_as(pid, entry):
                    out.append(entry)
        return out

    last = []

    def none_stale():
        last[:] = stale()
        return not last

    try:
        wait_for(none_stale, what="running directories to match /proc")
    except AssertionError:
        raise AssertionError("shown running but gone from /proc: %r" % last)


def test_no_dangling_links(mnt):
    dangling = []
    for entry in os.listdir(mnt):
        if entry in SPECIAL:
            continue
        base = os.path.join(mnt, entry)
        links = [os.path.join(base, "parent")]
        try:
            links += [os.path.join(base, "children", c) for c in os.listdir(os.path.join(base, "children"))]
        except FileNotFoundError:
            continue
        for link in links:
            if os.path.lexists(link) and not os.path.exists(link):
                dangling.append((link, os.readlink(link)))
    assert not dangling, "dangling links: %r" % dangling[:10]
    by_pid = os.path.join(mnt, "by-pid")
    for pid in os.listdir(by_pid):
        link = os.path.join(by_pid, pid)
        assert os.path.exists(link), "by-pid/%s -> %s dangles" % (pid, os.readlink(link))
        assert os.readlink(link).startswith("../%s-" % pid)


def test_stat_of_every_entry_is_consistent(mnt):
    for entry in os.listdir(mnt)[:300]:
        if entry in SPECIAL:
            continue
        base = os.path.join(mnt, entry)
        try:
            sb = os.lstat(base)
        except FileNotFoundError:
            continue
        assert sb.st_mode & 0o170000 == 0o040000, "%s is not a directory" % entry
        assert sb.st_mode & 0o222 == 0, "%s is writable: %o" % (entry, sb.st_mode)
        assert sb.st_ino == os.lstat(base).st_ino, "unstable inode for %s" % entry
        for f in ("status", "cmdline", "comm", "ancestry"):
            fsb = os.lstat(os.path.join(base, f))
            assert fsb.st_mode & 0o170000 == 0o100000
            assert fsb.st_mode & 0o222 == 0
