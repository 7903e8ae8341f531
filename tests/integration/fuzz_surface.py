#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Random requests at a live lineagefs mount: the FUSE surface fuzzer.

    fuzz_surface.py MOUNTPOINT SECONDS SEED

For SECONDS, from a few threads, throws at the mount: lookups of random
names (bytes, lengths up to past NAME_MAX, names that almost parse as
<pid>-<start>), getdents64 at random directory offsets with random buffer
sizes, pread at random offsets and sizes (huge ones too), readlink of every
link and of random names, stat, getxattr, and writes that must fail. The
tree changes under it (a fork storm runs beside it in the test). Prints one
JSON object: counts per operation and the errnos seen. Any errno outside
the expected set is counted under "unexpected", with the call.

It never follows a symlink (O_NOFOLLOW, lstat): `exe` leads out of the
mount, to real files that a write-type open must never reach.
"""

import ctypes
import errno
import json
import os
import random
import sys
import threading
import time

EXPECTED = {
    errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EINVAL, errno.EACCES, errno.EROFS,
    errno.ENAMETOOLONG, errno.ENOTSUP, errno.ENODATA, errno.ELOOP, errno.EPERM,
    errno.EOVERFLOW,
}

libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long
SYS_GETDENTS64 = {"x86_64": 217, "aarch64": 61}.get(os.uname().machine)


def getdents(fd, size):
    buf = ctypes.create_string_buffer(size)
    n = libc.syscall(SYS_GETDENTS64, fd, buf, size)
    if n < 0:
        e = ctypes.get_errno()
        raise OSError(e, os.strerror(e))
    return n


class Fuzzer:
    def __init__(self, mnt, seconds, seed):
        self.mnt = mnt
        self.deadline = time.monotonic() + seconds
        self.seed = seed
        self.lock = threading.Lock()
        self.counts = {}
        self.errnos = {}
        self.unexpected = []

    def note(self, op, err=None, what=""):
        with self.lock:
            self.counts[op] = self.counts.get(op, 0) + 1
            if err is not None:
                name = errno.errorcode.get(err, str(err))
                self.errnos[name] = self.errnos.get(name, 0) + 1
                if err not in EXPECTED and len(self.unexpected) < 20:
                    self.unexpected.append("%s %r: %s" % (op, what, name))

    def call(self, op, fn, *args):
        try:
            fn(*args)
            self.note(op)
        except OSError as exc:
            self.note(op, exc.errno, args[0] if args else "")

    def opened(self, op, path, flags):
        """os.open, or None with the errno noted."""
        try:
            return os.open(path, flags)
        except OSError as exc:
            self.note(op, exc.errno, path)
            return None

    def random_name(self, rng):
        kind = rng.randrange(6)
        if kind == 0:
            return bytes(rng.choice(range(1, 256)) for _ in range(rng.randrange(1, 300))
                         ).replace(b"/", b"_")
        if kind == 1:
            return ("%d-%d" % (rng.randrange(-5, 1 << 22), rng.randrange(-5, 1 << 40))).encode()
        if kind == 2:
            return rng.choice([b"self", b"stats", b"by-pid", b"..", b".", b"cmdline", b"exe",
                               b"status", b"parent", b"children", b"ancestry", b"comm"])
        if kind == 3:
            return ("%d" % rng.randrange(-5, 1 << 64)).encode()
        if kind == 4:
            return ("%d-%d.%d" % (rng.randrange(1 << 16), rng.randrange(1 << 20),
                                  rng.randrange(-2, 9))).encode()
        return b"9" * rng.randrange(1, 400)

    def dirs(self, rng):
        """Some directories of the mount, found by listing it now."""
        out = [self.mnt, os.path.join(self.mnt, "by-pid")]
        try:
            names = [n for n in os.listdir(self.mnt) if n[:1].isdigit()]
        except OSError as exc:
            self.note("listdir", exc.errno, self.mnt)
            return out
        for name in rng.sample(names, min(8, len(names))):
            out.append(os.path.join(self.mnt, name))
            out.append(os.path.join(self.mnt, name, "children"))
        return out

    def round(self, rng):
        dirs = self.dirs(rng)
        for _ in range(40):
            d = rng.choice(dirs)
            path = os.path.join(os.fsencode(d), self.random_name(rng))
            self.call("lookup", os.lstat, path)
            self.call("readlink", os.readlink, path)
        for d in dirs:
            fd = self.opened("opendir", d, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW)
            if fd is None:
                continue
            try:
                for _ in range(4):
                    off = rng.choice([0, 1, 2, 3, 5, 16, 17, rng.randrange(1 << 20),
                                      rng.randrange(1 << 62), (1 << 63) - 1])
                    try:
                        os.lseek(fd, off, os.SEEK_SET)
                        getdents(fd, rng.choice([64, 280, 1024, 4096, 32768]))
                        self.note("readdir")
                    except OSError as exc:
                        self.note("readdir", exc.errno, (d, off))
            finally:
                os.close(fd)
            try:
                entries = os.listdir(d)
            except OSError as exc:
                self.note("listdir", exc.errno, d)
                continue
            for name in rng.sample(entries, min(6, len(entries))):
                path = os.path.join(d, name)
                # Never past a symlink: exe leads out of the mount, to
                # files that are not the fuzzer's to touch.
                self.call("stat", os.lstat, path)
                self.call("readlink", os.readlink, path)
                self.call("getxattr", lambda p: os.getxattr(p, "user.x", follow_symlinks=False),
                          path)
                fd = self.opened("open", path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
                if fd is None:
                    continue
                try:
                    for _ in range(3):
                        size = rng.choice([0, 1, 7, 4096, 131072, 1 << 20])
                        off = rng.choice([0, 1, rng.randrange(512), rng.randrange(1 << 40),
                                          (1 << 62)])
                        self.call("pread", os.pread, fd, size, off)
                finally:
                    os.close(fd)
                for flags in (os.O_WRONLY, os.O_RDWR | os.O_CREAT, os.O_RDONLY | os.O_TRUNC):
                    flags |= os.O_NOFOLLOW
                    try:
                        os.close(os.open(path, flags, 0o644))
                    except OSError as exc:
                        self.note("open-write", exc.errno, path)
                    else:  # a read-only mount opened for writing
                        with self.lock:
                            self.unexpected.append("open %r flags %#o succeeded" % (path, flags))

    def worker(self, index):
        rng = random.Random(self.seed * 1000 + index)
        while time.monotonic() < self.deadline:
            self.round(rng)


def main():
    mnt, seconds, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
    if SYS_GETDENTS64 is None:
        print(json.dumps({"skipped": "getdents64 number unknown on %s" % os.uname().machine}))
        return 0
    fuzzer = Fuzzer(mnt, seconds, seed)
    threads = [threading.Thread(target=fuzzer.worker, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"counts": fuzzer.counts, "errnos": fuzzer.errnos,
                      "unexpected": fuzzer.unexpected}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
