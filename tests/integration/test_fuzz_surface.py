# SPDX-License-Identifier: GPL-2.0-or-later
"""The FUSE surface, fuzzed: random names, readdir offsets, read offsets and
sizes, symlink reads, from root and from `nobody` at once, at a live mount
(under ASan in run-all.sh) while a fork storm changes the tree, for a
bounded time (LINEAGEFS_FUZZ_SECONDS, default 20). The daemon must answer
every request with an expected errno, stay up, and stop cleanly with no
sanitizer report.
"""

import json
import os
import subprocess
import sys

from helpers import DEFAULT_TIMEOUT, HELPER_ENV, proc_name, status

SECONDS = float(os.environ.get("LINEAGEFS_FUZZ_SECONDS", "20"))
HERE = os.path.dirname(os.path.abspath(__file__))


def test_fuzz_surface_during_fork_storm(start_daemon):
    d = start_daemon(("-o", "allow_other,gid=4242,hidepid=invisible"))
    os.chmod(d.workdir, 0o755)
    seed = int.from_bytes(os.urandom(4), "little")
    script = os.path.join(HERE, "fuzz_surface.py")
    # A storm of short-lived processes: records appear, exit and are
    # invalidated while the fuzzers walk the tree.
    storm = subprocess.Popen(["sh", "-c", "while :; do /bin/true & /bin/true & wait; done"],
                             env=HELPER_ENV)
    try:
        fuzzers = [
            subprocess.Popen([sys.executable, script, d.mnt, str(SECONDS), str(seed)],
                             stdout=subprocess.PIPE, text=True),
            subprocess.Popen(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                              sys.executable, script, d.mnt, str(SECONDS), str(seed + 1)],
                             stdout=subprocess.PIPE, text=True),
        ]
        results = [json.loads(f.communicate(timeout=SECONDS + 120)[0]) for f in fuzzers]
    finally:
        storm.kill()
        storm.wait()
    print("seed", seed, results)
    for who, r in zip(("root", "nobody"), results):
        if "skipped" in r:
            continue
        assert r["unexpected"] == [], "%s (seed %d): %s" % (who, seed, r["unexpected"])
        for op in ("lookup", "readdir", "pread", "readlink"):
            assert r["counts"].get(op, 0) > 0, "%s made no %s: %s" % (who, op, r)
    assert d.proc.poll() is None, "lineagefs died under the fuzzer:\n" + d.stderr()
    # Still answering, and right.
    assert status(d.mnt, proc_name(os.getpid()))["Pid"] == str(os.getpid())
    d.stop()
