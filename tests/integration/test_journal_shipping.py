# SPDX-License-Identifier: GPL-2.0-or-later
"""The journal shipped by a real rsyslog (issue 7).

Runs examples/shipping/rsyslog-lineagefs.conf (imfile -> omfwd) and
examples/shipping/rsyslog-collector.conf (imtcp -> omfile) as two rsyslogd
instances of their own (-n, own config, pid file and work directory, a free
localhost TCP port), with only the paths and the port replaced, while a
lineagefs journal rotates under a storm; then checks that every journal
line arrived byte for byte, once (in any order: see below).
"""

import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

from helpers import barrier, stats, wait_for

SOURCE_ROOT = os.environ.get(
    "LINEAGEFS_SOURCE_ROOT",
    os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
EXAMPLES = os.path.join(SOURCE_ROOT, "examples", "shipping")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def configure(name, out, replacements):
    with open(os.path.join(EXAMPLES, name)) as f:
        text = f.read()
    for old, new in replacements:
        assert old in text, "%s no longer mentions %s" % (name, old)
        text = text.replace(old, new)
    with open(out, "w") as f:
        f.write(text)
    return out


def rsyslogd(conf, pidfile, log):
    return subprocess.Popen(["rsyslogd", "-n", "-f", conf, "-i", pidfile],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT)


def listening(port):
    with socket.socket() as s:
        try:
            s.connect(("127.0.0.1", port))
            return True
        except OSError:
            return False


def read_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().splitlines(keepends=True)
    except FileNotFoundError:
        return []


@pytest.fixture
def shipping_dir():
    if shutil.which("rsyslogd") is None:
        pytest.skip("needs rsyslogd (apt-get install rsyslog)")
    d = tempfile.mkdtemp(prefix="lineagefs-ship-")
    os.chmod(d, 0o700)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_rsyslog_ships_every_line_across_rotation(start_daemon, shipping_dir):
    journal = os.path.join(shipping_dir, "journal")
    out = os.path.join(shipping_dir, "out")
    spool_send = os.path.join(shipping_dir, "spool-send")
    spool_recv = os.path.join(shipping_dir, "spool-recv")
    for d in (out, spool_send, spool_recv):
        os.mkdir(d, 0o700)
    port = free_port()
    send_conf = configure("rsyslog-lineagefs.conf", os.path.join(shipping_dir, "send.conf"), [
        ("/var/lib/lineagefs/journal", journal),
        ("collector.example.org", "127.0.0.1"),
        ('"10514"', '"%d"' % port),
        ("/var/spool/rsyslog", spool_send),
    ])
    recv_conf = configure("rsyslog-collector.conf", os.path.join(shipping_dir, "recv.conf"), [
        ('"10514"', '"%d"' % port),
        ("/var/spool/rsyslog", spool_recv),
        ("/var/log/lineagefs", out),
    ])
    logs = []
    procs = []
    try:
        # Segments of about 1 MiB: a few thousand processes rotate it. The
        # table is kept small, so are its checkpoints: nothing is deleted.
        d = start_daemon(["--journal=" + journal, "--journal-max=8M", "--journal-sync=100",
                          "--max-exited=1000"])
        log = open(os.path.join(shipping_dir, "recv.log"), "wb")
        logs.append(log)
        procs.append(rsyslogd(recv_conf, os.path.join(shipping_dir, "recv.pid"), log))
        wait_for(lambda: listening(port), 30, "the collector to listen on %d" % port)
        log = open(os.path.join(shipping_dir, "send.log"), "wb")
        logs.append(log)
        procs.append(rsyslogd(send_conf, os.path.join(shipping_dir, "send.pid"), log))

        # A storm until the journal has rotated, and a little more.
        for batch in range(60):
            for _ in range(100):
                subprocess.run(["/bin/true"], check=True)
            if int(stats(d.mnt)["journal_checkpoints"]) >= 2 and batch % 5 == 4:
                break
        barrier(d.mnt)
        d.stop()  # every line written and synced

        # On a busy machine other processes' lines may have made the journal
        # delete its oldest segments (which rsyslog may or may not have
        # read): every line of every segment still there must arrive.
        # Such deletions can leave one segment: its number still says the
        # journal rotated, and rsyslog had to follow it into a new file.
        segments = sorted(os.listdir(journal))
        assert all(re.fullmatch(r"lineagefs-\d{10}\.jsonl", s) for s in segments), segments
        assert len(segments) >= 2 or int(segments[-1][len("lineagefs-"):-len(".jsonl")]) >= 2, \
            "the journal did not rotate: %s" % segments
        sent = {s: read_lines(os.path.join(journal, s)) for s in segments}
        everything = [line for lines in sent.values() for line in lines]
        assert len(set(everything)) == len(everything)
        received_path = os.path.join(out, "127.0.0.1.jsonl")

        def all_arrived():
            for p in procs:
                assert p.poll() is None, "rsyslogd exited with %s" % p.returncode
            return set(everything) <= set(read_lines(received_path))

        wait_for(all_arrived, 120, "%d lines to reach the collector" % len(everything))
        received = read_lines(received_path)
        assert len(set(received)) == len(received), "a line arrived twice"
        # Order is not asserted: the example's action queue is disk
        # assisted (lines survive a collector that is away), and rsyslog
        # sends what it spilled to disk after what stayed in memory. Each
        # line carries event.sequence and @timestamp for a reader to sort.
        for line in everything:
            assert b'"sequence":' in line, line[:120]
        # What arrived beyond them came from deleted segments, whole lines.
        for line in received:
            assert line.endswith(b"\n") and line.startswith(b'{"@timestamp":"'), line[:80]
    finally:
        for p in procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(15)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for log in logs:
            log.close()
