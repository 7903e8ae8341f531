#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes a synthetic journal: N short-lived processes, as the writer spells them.

    make_journal.py DIR [PROCESSES] [SEGMENT_MB]

One daemon run of one boot: an "open" line, then for each process its
exec line (which tells its fork too, as the writer folds a fork into the
exec that follows it) and its exit line: 3 events in 2 lines per process,
as a shell running commands produces, in format 2, in segments of
SEGMENT_MB (default 64) named as the writer names them. Every 50th process runs /usr/bin/curl with its own URL,
the others a mix of common tools, so a search for "every process that ever
ran curl" has N/50 answers. Prints the lines and bytes written.
"""

import os
import sys
import time

HOST = "0123456789abcdef0123456789abcdef"
BOOT = "22222222-2222-2222-2222-222222222222"
NS = 10**9
HZ = 100
BOOT_NS = 1796032800 * NS  # 2026-11-30T10:00:00Z
PROGRAMS = [("true", "/usr/bin/true", ["true"]),
            ("grep", "/usr/bin/grep", ["grep", "-q", "needle", "/etc/hosts"]),
            ("sed", "/usr/bin/sed", ["sed", "-n", "1p", "/etc/passwd"]),
            ("date", "/usr/bin/date", ["date", "+%s"])]
PID_MAX = 4194304


def iso(ns):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // NS)) + ".%09dZ" % (ns % NS)


HEAD = ('{"@timestamp":"%s","event":{"kind":"%s","category":["process"],"type":["%s"],'
        '"action":"%s","sequence":%d},"host":{"id":"' + HOST + '","boot":{"id":"' + BOOT + '"}}')


def entity(pid, ticks):
    return "%016x%016x" % (pid, ticks)


def main():
    directory = sys.argv[1]
    processes = int(sys.argv[2]) if len(sys.argv) > 2 else 1000000
    segment_bytes = (int(sys.argv[3]) if len(sys.argv) > 3 else 64) * 1024 * 1024
    os.makedirs(directory, exist_ok=True)
    seq = 0
    segment = 0
    out = None
    written = lines = events = 0
    # The shell that runs everything: pid 1000, found by the bootstrap.
    shell = (1000, 500)
    shell_id = entity(*shell)

    def open_segment():
        nonlocal segment, out, seq, written, lines
        if out:
            out.close()
        segment += 1
        out = open(os.path.join(directory, "lineagefs-%010d.jsonl" % segment), "w")
        # Each segment opens with its run's "open" line.
        line = (HEAD % (iso(BOOT_NS), "state", "info", "open", seq)
                + ',"lineagefs":{"v":2,"segment":%d,"hz":%d,"boot_realtime_ns":%d}}\n'
                % (segment, HZ, BOOT_NS))
        seq += 1
        out.write(line)
        written += len(line)
        lines += 1

    open_segment()
    seg_start = written
    at = BOOT_NS + 5 * NS
    line = (HEAD % (iso(at), "state", "info", "found", seq)
            + ',"process":{"entity_id":"%s","pid":%d,"start":"%s","name":"bash",'
              '"executable":"/usr/bin/bash","args":["-bash"],"command_line":"-bash",'
              '"user":{"id":"0"},"group":{"id":"0"}},"lineagefs":{"v":2,"start_ticks":%d,'
              '"flags":["from_scan"],"execs":1}}\n'
            % (shell_id, shell[0], iso(BOOT_NS + shell[1] * NS // HZ), shell[1]))
    seq += 1
    out.write(line)
    written += len(line)
    lines += 1
    for i in range(processes):
        if written - seg_start > segment_bytes:
            open_segment()
            seg_start = written
        pid = 2000 + i % (PID_MAX - 3000)
        ticks = 1000 + i  # 100 processes per second of ticks
        at = BOOT_NS + ticks * NS // HZ
        start = iso(at)
        eid = entity(pid, ticks)
        if i % 50 == 0:
            name, exe, argv = "curl", "/usr/bin/curl", ["curl", "-s",
                                                        "https://example.org/%d" % i]
        else:
            name, exe, argv = PROGRAMS[i % len(PROGRAMS)]
        args = ",".join('"%s"' % a for a in argv)
        ident = '"entity_id":"%s","pid":%d' % (eid, pid)
        execl = (HEAD % (iso(at + 1000000), "event", "start", "exec", seq)
                 + ',"process":{%s,"start":"%s","name":"%s","executable":"%s","args":[%s],'
                   '"command_line":"%s","parent":{"entity_id":"%s","pid":%d},'
                   '"user":{"id":"0"},"group":{"id":"0"}},"lineagefs":{"v":2,'
                   '"start_ticks":%d}}\n'
                 % (ident, start, name, exe, args, " ".join(argv), shell_id, shell[0], ticks))
        exitl = (HEAD % (iso(at + 3000000), "event", "end", "exit", seq + 1)
                 + ',"process":{%s,"name":"%s","exit_code":0},"lineagefs":{"v":2,'
                   '"start_ticks":%d}}\n' % (ident, name, ticks))
        seq += 2
        out.write(execl)
        out.write(exitl)
        written += len(execl) + len(exitl)
        lines += 2
        events += 3
    out.close()
    print("lines %d" % lines)
    print("events %d" % events)
    print("bytes %d" % written)
    print("segments %d" % segment)


if __name__ == "__main__":
    main()
