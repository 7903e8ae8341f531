#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Writes the fuzzers' seed corpora into corpus/<target>/.

The cn_proc datagrams are real: captured from a 6.18 kernel (a LISTEN ack,
then the FORK, EXEC and EXIT of /bin/true), plus datagrams built here with
the same layout for the events that capture did not produce. The /proc
texts are real stat and status files of a user process, init, kthreadd and
an idle kernel thread, plus stat lines with hostile comms. The journal
segments follow journal_format.h as the writer encodes it: a daemon run's
open line, a scan, a fork, an exec with non-UTF-8 bytes, exits, a
checkpoint, a forget, a gap, and hostile variants (torn, duplicated,
another machine, two boots). The names are process directory names, with
and without an instance suffix.

Run it from this directory; it rewrites the corpus directories.
"""
import os
import struct

# nlmsghdr(16, type NLMSG_DONE) + cn_msg(20, idx 1 val 1) + proc_event(40)
CAPTURED = {
    "ack": "4c00000003000000c7210000000000000100000001000000c72100003a3000002800000000000000"
           "010000006e4ab05ec9000000000000000000000000000000000000000000000000000000",
    "fork": "4c00000003000000c8210000000000000100000001000000c821000000000000280000000100000001"
            "0000007f78bb5ec9000000472800004728000070280000702800000000000000000000",
    "exec": "4c00000003000000c9210000000000000100000001000000c921000000000000280000000200000001"
            "000000b2b2545fc9000000702800007028000000000000000000000000000000000000",
    "exit": "4c00000003000000ca210000000000000100000001000000ca210000000000002800000000000080010"
            "00000b3ce6e5fc9000000702800007028000000000000110000004728000047280000",
    "exit_killed": "4c00000003000000ee1d0000000000000100000001000000ee1d00000000000028000000000000"
                   "8000000000a334ab63c90000003e2800003e28000000010000110000000b2800000b280000",
}

PROC_EVENT = {"none": 0, "fork": 1, "exec": 2, "uid": 4, "gid": 0x40, "sid": 0x80,
              "ptrace": 0x100, "comm": 0x200, "coredump": 0x40000000, "exit": 0x80000000}


def datagram(what, data, seq=1, idx=1, val=1, nl_type=3):
    event = struct.pack("=IIQ", what, 0, 1234567890) + data.ljust(24, b"\0")
    cn = struct.pack("=IIIIHH", idx, val, seq, 0, len(event), 0) + event
    return struct.pack("=IHHII", 16 + len(cn), nl_type, 0, seq, 0) + cn


def built():
    ids = struct.pack("=iiII", 300, 300, 1000, 0)
    return {
        "comm": datagram(PROC_EVENT["comm"], struct.pack("=ii", 300, 300) + b"kworker/0:1-eve"),
        "uid": datagram(PROC_EVENT["uid"], ids),
        "gid": datagram(PROC_EVENT["gid"], ids),
        "sid": datagram(PROC_EVENT["sid"], struct.pack("=ii", 300, 300)),
        "ptrace": datagram(PROC_EVENT["ptrace"], struct.pack("=iiii", 300, 300, 1, 1)),
        "coredump": datagram(PROC_EVENT["coredump"], struct.pack("=iiii", 300, 300, 1, 1)),
        "thread_exit": datagram(PROC_EVENT["exit"], struct.pack("=iiIIii", 301, 300, 0, 0xffffffff, 1, 1)),
        "three_events": b"".join(bytes.fromhex(CAPTURED[k]) for k in ("fork", "exec", "exit")),
        "overrun": bytes.fromhex(CAPTURED["fork"]) + struct.pack("=IHHII", 16, 4, 0, 0, 0),
        "error": struct.pack("=IHHII", 36, 2, 0, 0, 0) + struct.pack("=i", -1) + bytes(16),
        "other_connector": datagram(PROC_EVENT["fork"], bytes(16), idx=3, val=1),
    }


STATS = {
    "user": b"3208 (cat) R 3203 3203 2402 0 -1 4194304 100 0 0 0 0 0 0 0 20 0 1 0 31258 3133440 389 "
            b"18446744073709551615 94416175292416 94416175312297 140726679759664 0 0 0 0 0 0 0 0 0 "
            b"17 1 0 0 0 0 0 94416175328304 94416175329920 94416336392192 140726679767495 "
            b"140726679767515 140726679767515 140726679769067 0\n",
    "init": b"1 (process_api) S 0 0 0 0 -1 4194560 59084 892272 0 745 205 316 2536 1928 10 -10 13 0 "
            b"19 46088192 3712 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 1 0 0 0 0 0 0 "
            b"0 0 0 0 0 0 0\n",
    "kthreadd": b"2 (kthreadd) S 0 0 0 0 -1 2129984 0 0 0 0 0 0 0 0 20 0 1 0 19 0 0 "
                b"18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 0 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
    "idle_kthread": b"15 (rcu_preempt) I 2 0 0 0 -1 2129984 0 0 0 0 0 28 0 0 20 0 1 0 19 0 0 "
                    b"18446744073709551615 0 0 0 0 0 0 0 2147483647 0 1 0 0 17 0 0 0 0 0 0 0 0 0 0 0 "
                    b"0 0 0 0\n",
    "hostile_comm": b"77 (a b) (c) R 1 77 77 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 99 0 0 0\n",
    "paren_comm": b"78 () )) S 1 78 78 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 100 0 0 0\n",
}

STATUSES = {
    "user": b"Name:\tcat\nUmask:\t0022\nState:\tR (running)\nTgid:\t3209\nNgid:\t0\nPid:\t3209\n"
            b"PPid:\t3203\nTracerPid:\t0\nUid:\t1000\t1000\t1000\t1000\nGid:\t100\t100\t100\t100\n"
            b"FDSize:\t256\nGroups:\t \nNStgid:\t3209\nNSpid:\t3209\nNSpgid:\t3203\nNSsid:\t2402\n"
            b"Kthread:\t0\nVmPeak:\t    3060 kB\nVmSize:\t    3060 kB\nVmRSS:\t    1748 kB\n"
            b"Threads:\t1\nSigQ:\t0/96365\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n",
    "kthreadd": b"Name:\tkthreadd\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t2\nNgid:\t0\nPid:\t2\n"
                b"PPid:\t0\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t64\n"
                b"Groups:\t \nNStgid:\t2\nNSpid:\t2\nNSpgid:\t0\nNSsid:\t0\nKthread:\t1\n"
                b"Threads:\t1\nSigQ:\t0/96365\nSigPnd:\t0000000000000000\n",
}


HOST = "0123456789abcdef0123456789abcdef"
BOOT = "22222222-2222-2222-2222-222222222222"
OLD_BOOT = "11111111-1111-1111-1111-111111111111"
BOOT_NS = 1796040000 * 10**9 - 7200 * 10**9


def iso(ns):
    import time
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // 10**9)) + ".%09dZ" % (ns % 10**9)


def journal_line(seq, action, at_s, process=None, extra="", boot=BOOT, host=HOST, kind="event"):
    head = ('{"@timestamp":"%s","event":{"kind":"%s","category":["process"],"type":["info"],'
            '"action":"%s","sequence":%d},"host":{"id":"%s","boot":{"id":"%s"}}'
            % (iso(BOOT_NS + at_s * 10**9), kind, action, seq, host, boot))
    if process is None:
        return head + ',"lineagefs":{"v":1%s}}' % extra
    pid, ticks, fields = process
    body = ('"entity_id":"%032x","pid":%d,"start":"%s"%s'
            % (pid * 1000 + ticks, pid, iso(BOOT_NS + ticks * 10**7), fields))
    return head + ',"process":{%s},"lineagefs":{"v":1,"start_ticks":%d,"instance":1%s}}' % (
        body, ticks, extra)


def journal_segments():
    open_line = journal_line(0, "open", 1, extra=',"segment":1,"hz":100,"boot_realtime_ns":%d' % BOOT_NS,
                             kind="state")
    init = journal_line(1, "found", 1, (1, 5, ',"name":"systemd","executable":"/usr/lib/systemd/systemd",'
                        '"args":["/sbin/init","splash"],"command_line":"/sbin/init splash",'
                        '"user":{"id":"0"},"real_user":{"id":"0"},"group":{"id":"0"},"real_group":{"id":"0"}'),
                        ',"flags":["from_scan"],"execs":1,"threads":0', kind="state")
    parent = ',"parent":{"entity_id":"%032x","pid":1}' % (1 * 1000 + 5)
    fork = journal_line(2, "fork", 2, (300, 250, ',"name":"bash","executable":"/usr/bin/bash","args":["bash"]'
                        + parent), ',"flags":["fork_seen"]')
    exec_ = journal_line(3, "exec", 3, (300, 250, ',"name":"\ufffd","executable":"/tmp/x",'
                         '"args":["/tmp/x","\ufffd"],"command_line":"/tmp/x \ufffd"'),
                         ',"flags":["fork_seen"],"execs":1,"cmdline_b64":"L3RtcC94AP8A","comm_b64":"/w=="')
    exit_ = journal_line(4, "exit", 4, (300, 250, ',"name":"x","end":"%s","exit_code":3' % iso(BOOT_NS + 4 * 10**9)),
                         ',"exit":{"kind":"code","status":768}')
    killed = journal_line(5, "exit", 5, (1, 5, ',"end":"%s"' % iso(BOOT_NS + 5 * 10**9)),
                          ',"exit":{"kind":"signal","status":137,"signal":"SIGKILL","signal_number":9,'
                          '"core_dumped":true}')
    checkpoint = journal_line(6, "checkpoint", 6, (300, 250, ',"name":"x"' + parent),
                              ',"flags":["fork_seen"],"execs":1,"threads":0,"exit":{"kind":"code","status":768}',
                              kind="state")
    forget = journal_line(7, "forget", 7, (300, 250, ""))
    gap = journal_line(8, "gap", 8, extra=',"lost_lines":12', kind="pipeline_error")
    missed = journal_line(9, "exit_missed", 9, (301, 260, ',"name":"y"'), ',"exit":{"kind":"unknown"}')
    good = [open_line, init, fork, exec_, exit_, killed, checkpoint, forget, gap, missed]
    text = "\n".join(good) + "\n"
    old = journal_line(1, "fork", 1, (70, 10, ',"name":"old"'), boot=OLD_BOOT)
    foreign = journal_line(1, "fork", 1, (70, 10, ',"name":"far"'), host="f" * 32)
    # Format 2: a fork that inherits its image, an exec that folds its
    # fork, two holders of a pid within a tick, a cut command line's
    # length and hash, the creator guess, exit lines without "end".
    v2_fork = journal_line(10, "fork", 10, (400, 270, ',"name":"bash"' + parent),
                           ',"image":"inherited"').replace('"v":1', '"v":2')
    v2_exec = journal_line(11, "exec", 11, (400, 270, ',"name":"true","executable":"/usr/bin/true",'
                           '"args":["true"],"command_line":"true","user":{"id":"0"},"group":{"id":"0"}'
                           + parent), ',"instance":2,"cmdline_full_len":9000,"cmdline_sha256":"%s",'
                           '"creator_guess":{"check":"not_creator","count":2,"candidates":[[1,5,1],'
                           '[300,250,2]]}' % ("ab" * 32)).replace('"v":1', '"v":2')
    v2_exit = journal_line(12, "exit", 12, (400, 270, ',"name":"true","exit_code":0'),
                           ',"instance":2').replace('"v":1', '"v":2')
    v2_killed = journal_line(13, "exit", 13, (400, 270, ',"name":"bash"'),
                             ',"exit":{"kind":"signal","status":9,"signal":"SIGKILL"}').replace(
                                 '"v":1', '"v":2')
    v2 = "\n".join([open_line, init, v2_fork, v2_exec, v2_exit, v2_killed]) + "\n"
    return {
        "segment": text.encode(),
        "segment_v2": v2.encode(),
        "torn": (text + fork[:40]).encode(),
        "duplicated": (text + text[len(open_line) + 1:]).encode(),
        "two_boots": (old + "\n" + text).encode(),
        "foreign": (foreign + "\n").encode(),
        "garbage": b"\x00\xff{\"@timestamp\":1}\n[]\n\n{" + b"[" * 3000 + b"\n",
    }


def write_dir(name, files):
    path = os.path.join("corpus", name)
    os.makedirs(path, exist_ok=True)
    for old in os.listdir(path):
        os.unlink(os.path.join(path, old))
    for key, data in sorted(files.items()):
        with open(os.path.join(path, key), "wb") as f:
            f.write(data)


def main():
    cnproc = {k: bytes.fromhex(v) for k, v in CAPTURED.items()}
    cnproc.update(built())
    write_dir("cnproc", cnproc)
    texts = {"stat_" + k: v for k, v in STATS.items()}
    texts.update({"status_" + k: v for k, v in STATUSES.items()})
    write_dir("proc_parse", texts)
    write_dir("journal", journal_segments())
    write_dir("names", {
        "plain": b"123-4567",
        "instance": b"123-4567.2",
        "longest": b"2147483647-18446744073709551615.4294967295",
        "bad_instance": b"1-2.1",
    })


if __name__ == "__main__":
    main()
