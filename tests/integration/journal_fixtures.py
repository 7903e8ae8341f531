# SPDX-License-Identifier: GPL-2.0-or-later
"""Hand-written journal lines, as journal_format.h and the writer spell them.

For the replay tests that must not depend on a live capture: a journal of
two boots with known processes, exact bytes and times, and the hostile
variants the reader must survive.
"""

import base64
import zlib
import json
import os
import time

HOST = "0123456789abcdef0123456789abcdef"
OLD_BOOT = "11111111-1111-1111-1111-111111111111"
BOOT = "22222222-2222-2222-2222-222222222222"
NS = 10**9
# The current boot started at 2026-11-30T10:00:00Z, the older a day before.
BOOT_NS = 1796032800 * NS
OLD_BOOT_NS = BOOT_NS - 86400 * NS
HZ = 100


def iso(ns):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ns // NS)) + ".%09dZ" % (ns % NS)


def entity(boot, pid, ticks):
    return "%08x%08x%016x" % (zlib.crc32(boot.encode()), pid, ticks)


class Journal:
    """Builds one daemon run's lines for a boot."""

    def __init__(self, boot=BOOT, boot_ns=BOOT_NS, host=HOST):
        self.boot, self.boot_ns, self.host = boot, boot_ns, host
        self.seq = 0
        self.lines = []
        self.line("open", 0, None, {"segment": 1, "hz": HZ, "boot_realtime_ns": boot_ns},
                  kind="state")

    def line(self, action, at_s, process, extra, kind="event"):
        doc = {
            "@timestamp": iso(self.boot_ns + int(at_s * NS)),
            "event": {"kind": kind, "category": ["process"], "type": ["info"],
                      "action": action, "sequence": self.seq},
            "host": {"id": self.host, "boot": {"id": self.boot}},
        }
        if process is not None:
            doc["process"] = process
        doc["lineagefs"] = dict({"v": 1}, **extra)
        self.seq += 1
        self.lines.append(json.dumps(doc, separators=(",", ":")))

    def proc(self, pid, ticks, **fields):
        p = {"entity_id": entity(self.boot, pid, ticks), "pid": pid,
             "start": iso(self.boot_ns + ticks * NS // HZ)}
        p.update(fields)
        return p

    def fork(self, at_s, pid, ticks, parent, name, exe, argv, uid=0, flags=("fork_seen",)):
        proc = self.proc(pid, ticks, name=name, executable=exe, args=list(argv),
                         command_line=" ".join(argv),
                         user={"id": str(uid)}, real_user={"id": str(uid)},
                         group={"id": str(uid)}, real_group={"id": str(uid)})
        if parent:
            proc["parent"] = {"entity_id": entity(self.boot, *parent), "pid": parent[0]}
        self.line("fork", at_s, proc, {"start_ticks": ticks, "instance": 1,
                                       "flags": list(flags)})

    def found(self, at_s, pid, ticks, name, exe, argv, ppid=0):
        proc = self.proc(pid, ticks, name=name, executable=exe, args=list(argv),
                         user={"id": "0"}, real_user={"id": "0"}, group={"id": "0"},
                         real_group={"id": "0"})
        if ppid:
            proc["parent"] = {"pid": ppid}
        self.line("found", at_s, proc, {"start_ticks": ticks, "instance": 1,
                                        "flags": ["from_scan"], "execs": 1, "threads": 0},
                  kind="state")

    def exec(self, at_s, pid, ticks, name, exe, cmdline, execs=1):
        """cmdline: the exact bytes; args get U+FFFD where they are not UTF-8."""
        parts = cmdline[:-1].split(b"\0") if cmdline.endswith(b"\0") else cmdline.split(b"\0")
        args = [a.decode("utf-8", "replace") for a in parts]
        extra = {"start_ticks": ticks, "instance": 1, "flags": ["fork_seen"], "execs": execs}
        exact = b"\0".join(a.encode() for a in args) + b"\0"
        if exact != cmdline:
            extra["cmdline_b64"] = base64.b64encode(cmdline).decode()
        proc = self.proc(pid, ticks, name=name, executable=exe, args=args,
                         command_line=" ".join(args))
        self.line("exec", at_s, proc, extra)

    def exit(self, at_s, pid, ticks, name, code=None, signal=None):
        proc = self.proc(pid, ticks, name=name, end=iso(self.boot_ns + int(at_s * NS)))
        if signal is None:
            proc["exit_code"] = code
            ex = {"kind": "code", "status": code << 8}
        else:
            ex = {"kind": "signal", "status": signal, "signal_number": signal}
        self.line("exit", at_s, proc, {"start_ticks": ticks, "instance": 1, "exit": ex})

    def text(self):
        return "".join(line + "\n" for line in self.lines)


# The known history: in the older boot, init and a daemon that was running
# when the machine rebooted; in the current boot, init, a shell, a child
# that ran a non-UTF-8 command line and exited 3 at second 20, and a sleep
# that still runs at the end of the journal.
ARGV_BYTES = b"/bin/sh\0-c\0exit 3\0\xff\xfe-bytes\0"


def two_boots():
    old = Journal(OLD_BOOT, OLD_BOOT_NS)
    old.found(1, 1, 5, "systemd", "/usr/lib/systemd/systemd", ["/sbin/init"])
    old.fork(2, 400, 150, (1, 5), "sshd", "/usr/sbin/sshd", ["sshd", "-D"])
    new = Journal()
    new.found(1, 1, 7, "systemd", "/usr/lib/systemd/systemd", ["/sbin/init", "splash"])
    new.fork(10, 100, 1000, (1, 7), "bash", "/usr/bin/bash", ["-bash"], uid=1000)
    new.fork(12, 200, 1200, (100, 1000), "bash", "/usr/bin/bash", ["-bash"], uid=1000)
    new.exec(13, 200, 1200, "sh", "/usr/bin/dash", ARGV_BYTES)
    new.exit(20, 200, 1200, "sh", code=3)
    new.fork(30, 300, 3000, (100, 1000), "bash", "/usr/bin/bash", ["-bash"], uid=1000)
    new.exec(31, 300, 3000, "sleep", "/usr/bin/sleep", b"sleep\0" + b"1000\0")
    return old.text(), new.text()


def write_journal(directory, *segments):
    os.makedirs(directory, exist_ok=True)
    for i, text in enumerate(segments, 1):
        data = text if isinstance(text, bytes) else text.encode()
        with open(os.path.join(directory, "lineagefs-%010d.jsonl" % i), "wb") as f:
            f.write(data)
    return directory
