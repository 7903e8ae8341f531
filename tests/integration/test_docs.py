# SPDX-License-Identifier: GPL-2.0-or-later
"""lineagefs(8), --help, --version and `meson install`.

The man page is rendered with man -l as a user's man would, and must
describe everything a user meets: every option --help lists, every file of
the mount, every status field and every stats key of a live daemon. So an
option or a field added without its entry fails here.
"""

import os
import re
import shutil
import subprocess

import pytest

from conftest import daemon_env, lineagefs_binary
from helpers import proc_name, read_text

SECTIONS = ("NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "LAYOUT", "EXIT STATUS", "SECURITY",
            "EXAMPLES", "SEE ALSO")
# --help's own groups, in the man page's order.
HELP_GROUPS = ("General:", "Retention:", "Capture:", "Who may read what", "Sandboxing:")


def manpage():
    path = os.environ.get("LINEAGEFS_MANPAGE")
    if not path:
        pytest.skip("LINEAGEFS_MANPAGE not set: run through meson test (needs scdoc)")
    return path


def render(path, width=80):
    env = dict(os.environ, MANWIDTH=str(width), MAN_KEEP_FORMATTING="0", LC_ALL="C.UTF-8")
    r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", path], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=60, env=env)
    assert r.returncode == 0, r.stderr
    # groff's warnings (a bad macro, a line it cannot break) are errors here.
    assert r.stderr == "", r.stderr
    # Bold and underline by overstrike, in case the pager's formatting leaks.
    return re.sub(".\b", "", r.stdout)


def binary_output(*args):
    binary = lineagefs_binary()
    if binary is None:
        pytest.skip("no lineagefs binary: run through meson test, or set LINEAGEFS_BIN")
    r = subprocess.run([binary, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30, env=daemon_env())
    assert r.returncode == 0, r.stderr
    return r.stdout


def lineagefs_help():
    """--help's own part, before libfuse's options."""
    return binary_output("--help").split("FUSE options:")[0]


def flat(text):
    """The rendered page with hyphenation and line breaks undone."""
    text = re.sub(r"\u2010\n\s*", "", text)  # man's hyphen at a line break
    text = re.sub(r"-\n\s*", "-", text)
    return re.sub(r"\s+", " ", text)


def test_manpage_renders_with_every_section():
    text = render(manpage())
    for section in SECTIONS:
        assert re.search(r"^%s$" % section, text, re.M), "no %s section:\n%s" % (section, text)
    assert text.startswith("lineagefs(8)")
    # Narrow terminals too, without warnings.
    render(manpage(), width=60)


def test_help_groups_its_options():
    text = lineagefs_help()
    positions = [text.find(g) for g in HELP_GROUPS]
    assert -1 not in positions and positions == sorted(positions), text
    # Every option line sits in a group: nothing between usage and General.
    assert re.search(r"^\s+-", text[:positions[0]], re.M) is None, text


def test_every_help_option_is_in_the_manpage():
    page = flat(render(manpage()))
    options = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]*)", lineagefs_help()))
    options |= set(re.findall(r"(?<![\w-])(-[a-zA-Z])\b", lineagefs_help()))
    options |= set(re.findall(r"^\s+(-o [a-z_]+)", lineagefs_help(), re.M))
    assert {"--max-exited", "--rcvbuf", "-f", "-o allow_other"} <= options
    missing = sorted(o for o in options if o not in page)
    assert not missing, "options in --help, not in lineagefs(8): %s" % missing
    # And each numeric option's default, as --help states it.
    for option, default in re.findall(r"(--[a-z-]+)=\w+\s+.*?\(default: ([^)=\s]+)",
                                      lineagefs_help(), re.S):
        assert default in page, "default %s of %s not in lineagefs(8)" % (default, option)


def test_version_names_the_features_built():
    out = binary_output("--version")
    version = os.environ.get("LINEAGEFS_VERSION")
    if version:
        assert out.splitlines()[0] == "lineagefs " + version
    features = re.search(r"^features: (.*)$", out, re.M)
    assert features, out
    expected = os.environ.get("LINEAGEFS_FEATURES")
    if expected is not None:
        assert features.group(1) == (expected or "none")
    if os.environ.get("LINEAGEFS_SANITIZE", "none") != "none":
        assert "sanitize=" + os.environ["LINEAGEFS_SANITIZE"] in features.group(1)


def test_manpage_describes_every_file_and_field(mnt):
    """What a live mount shows, the page names: root entries, process
    entries, status fields, stats keys."""
    page = flat(render(manpage()))
    root = {n for n in os.listdir(mnt) if not re.match(r"^\d+-\d+", n)}
    me = proc_name(os.getpid())
    entries = set(os.listdir(os.path.join(mnt, me)))
    fields = {line.split(":\t")[0] for line in read_text(os.path.join(mnt, me, "status")).splitlines()}
    keys = {line.split(" ")[0] for line in read_text(os.path.join(mnt, "stats")).splitlines()}
    assert {"by-pid", "stats", "self"} <= root and "status" in entries and "Pid" in fields
    missing = sorted(n for n in root | entries | fields | keys if n not in page)
    assert not missing, "in the mount but not in lineagefs(8): %s" % missing


def meson_install(destdir):
    build = os.environ.get("LINEAGEFS_BUILD_ROOT")
    if not build or shutil.which("meson") is None:
        pytest.skip("LINEAGEFS_BUILD_ROOT not set or no meson: run through meson test")
    r = subprocess.run(["meson", "install", "-C", build, "--no-rebuild", "--quiet",
                        "--destdir", str(destdir)], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True, timeout=300)
    assert r.returncode == 0, r.stdout
    return os.environ["LINEAGEFS_PREFIX"]


def test_meson_install(tmp_path):
    prefix = meson_install(tmp_path)
    root = str(tmp_path) + prefix
    daemon = os.path.join(root, os.environ["LINEAGEFS_BINDIR"], "lineagefs")
    assert os.access(daemon, os.X_OK)
    r = subprocess.run([daemon, "--version"], stdout=subprocess.PIPE, text=True,
                       env=daemon_env(), timeout=30)
    assert r.returncode == 0 and r.stdout.startswith("lineagefs ")
    tree = os.path.join(root, os.environ["LINEAGEFS_BINDIR"], "lineage-tree")
    assert os.access(tree, os.X_OK)
    if os.environ.get("LINEAGEFS_MANPAGE"):
        page = os.path.join(root, os.environ["LINEAGEFS_MANDIR"], "man8", "lineagefs.8")
        assert "lineagefs" in render(page).splitlines()[0]


def test_installed_unit_verifies(tmp_path):
    source = os.path.join(os.environ.get("LINEAGEFS_SOURCE_ROOT", ""), "examples",
                          "lineagefs.service")
    if not os.path.exists(source):
        pytest.skip("examples/lineagefs.service does not exist yet")
    if shutil.which("systemd-analyze") is None:
        pytest.skip("needs systemd-analyze (apt-get install systemd)")
    prefix = meson_install(tmp_path)
    unit = os.path.join(str(tmp_path) + prefix, "lib", "systemd", "system", "lineagefs.service")
    assert os.path.exists(unit)
    text = read_text(unit)
    assert "@bindir@" not in text
    exec_start = re.search(r"^ExecStart=(\S+)", text, re.M)
    assert exec_start and exec_start.group(1) == os.path.join(
        prefix, os.environ["LINEAGEFS_BINDIR"], "lineagefs"), text
    # verify --root needs the units the service depends on (sysinit.target
    # and so on) inside that root, and checks Documentation=man: with man.
    units = tmp_path / "usr" / "lib" / "systemd" / "system"
    if not units.exists():
        units.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree("/usr/lib/systemd/system", units, symlinks=True)
    env = dict(os.environ, MANPATH="%s%s/%s:" % (tmp_path, prefix, os.environ["LINEAGEFS_MANDIR"]))
    r = subprocess.run(["systemd-analyze", "verify", "--root=" + str(tmp_path),
                        prefix + "/lib/systemd/system/lineagefs.service"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=120,
                       env=env)
    assert r.returncode == 0 and "lineagefs" not in r.stdout, r.stdout


def test_link_following_walks_never_end_and_the_recipes_do(mnt, procs):
    """What the README and lineagefs(8) say about find -L / grep -R."""
    from helpers import spawn_zombie, wait_exited

    p, name = spawn_zombie(["/bin/sh", "-c", "kill -9 $$"])
    p.wait()
    wait_exited(mnt, name)
    # Without -L, find lists every entry once.
    plain = subprocess.run(["find", mnt], stdout=subprocess.PIPE, timeout=120).stdout.count(b"\n")
    # With it, every process is reached again through every other one's
    # parent and children/ links (find stops only the walks that lead back
    # up their own path): three times the plain walk, and still going.
    find = subprocess.Popen(["find", "-L", mnt], stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL)
    procs.append(find)
    lines = 0
    while lines <= 3 * plain and find.stdout.readline():
        lines += 1
    assert lines > 3 * plain, "find -L ended after %d lines (plain: %d)" % (lines, plain)
    find.kill()
    # The recipes finish, and find what they should.
    r = subprocess.run(["grep", "-r", "-l", "--include=status", "killed by", mnt],
                       stdout=subprocess.PIPE, text=True, timeout=120)
    assert os.path.join(mnt, name, "status") in r.stdout.split()
    r = subprocess.run(["find", mnt, "-maxdepth", "2", "-name", "comm"],
                       stdout=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 0 and os.path.join(mnt, name, "comm") in r.stdout.split()
