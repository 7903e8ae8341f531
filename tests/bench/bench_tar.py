#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Archiving a mount that holds 100,000 processes (issue 11).

Mounts lineagefs with --max-exited=200000, runs BENCH_TAR_PROCESSES
/bin/true (default 100,000) through bench_spawn so the tree holds that many
exited processes besides the machine's own, then times, with a small churn
of processes coming and going throughout:
`tar -C MNT -cf FILE .`, `tar -C MNT -cf /dev/null .` and
`tar -C MNT -cf - . | cat >FILE`, and prints seconds, bytes, entries and
tar's exit status. Asserts nothing. Needs root and /dev/fuse.

    sudo python3 tests/bench/bench_tar.py
"""

import os
import subprocess
import time

import benchlib as bl

PROCESSES = int(os.environ.get("BENCH_TAR_PROCESSES", "100000"))
CHURN = "while :; do /bin/true; sleep 0.01; done"


def timed(argv, out_path=None):
    started = time.monotonic()
    if out_path:
        with open(out_path, "wb") as out:
            tar = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            cat = subprocess.Popen(["cat"], stdin=tar.stdout, stdout=out)
            tar.stdout.close()
            err = tar.stderr.read()
            rc = tar.wait()
            cat.wait()
    else:
        r = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        rc, err = r.returncode, r.stderr
    return time.monotonic() - started, rc, err.decode(errors="replace").strip()


def main():
    bl.install_cleanup()
    bl.require_mount_env(["bench_spawn"])
    bl.header("bench_tar: tar of a mount holding %d exited /bin/true, with churn" % PROCESSES,
              daemon="%s -f --max-exited=200000" % bl.lineagefs_bin())
    data = bl.tempdir()
    daemon = bl.Daemon("--max-exited=200000").start()
    try:
        stats0 = daemon.stats()
        summary = bl.run_spawner(["-n", str(PROCESSES), "-j", "4", "-S"],
                                 timeout=max(900, PROCESSES // 20))
        bl.wait_for(lambda: daemon.stats()["events_exit"] - stats0["events_exit"]
                    >= summary["spawned"], 300, what="the daemon to count the exits")
        records = len([n for n in os.listdir(daemon.mountpoint) if n[0].isdigit()])
        bl.row("processes in the mount", "%d (%d spawned at %.0f/s)"
               % (records, summary["spawned"], summary["rate"]))
        churn = bl.spawn(["/bin/sh", "-c", CHURN])
        try:
            archive = os.path.join(data, "evidence.tar")
            for label, argv, out in (
                    ("tar -cf FILE .", ["tar", "-C", daemon.mountpoint, "-cf", archive, "."],
                     None),
                    ("tar -cf /dev/null .", ["tar", "-C", daemon.mountpoint, "-cf",
                                             "/dev/null", "."], None),
                    ("tar -cf - . | cat >FILE", ["tar", "-C", daemon.mountpoint, "-cf", "-",
                                                 "."], archive + ".2")):
                seconds, rc, err = timed(argv, out)
                size = os.path.getsize(out or archive) if label != "tar -cf /dev/null ." else 0
                bl.row(label, "%.1f s, %d bytes, exit %d%s"
                       % (seconds, size, rc, (": " + err[:300]) if err else ""))
            entries = subprocess.run(["tar", "-tf", archive], stdout=subprocess.PIPE,
                                     check=True).stdout.count(b"\n")
            bl.row("entries in the archive", "%d" % entries)
            bl.row("daemon RSS after", "%d kB" % daemon.rss_kb())
        finally:
            bl.kill_tree(churn)
    finally:
        daemon.stop()


if __name__ == "__main__":
    main()
