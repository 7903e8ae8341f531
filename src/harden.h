/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Hardening of the running daemon: the capabilities it keeps once the
 * mount and the netlink subscription are up, no_new_privs, the seccomp
 * allow-list, and the small helper process that alone keeps the right to
 * unmount. See harden.c for which capability stays and why.
 */
#pragma once

#include <signal.h>

#include <glib.h>

struct harden_unmounter;

/* Forks the helper that will unmount mountpoint at the end (or when the
 * daemon dies): it keeps CAP_SYS_ADMIN, so that the daemon need not. Call
 * before any thread exists. With ns_fd >= 0 the helper first joins that
 * mount namespace and mounts there, at mountpoint, the FUSE connection
 * that mount_options (the kernel's: fd=N,rootmode=,...) names: NULL with
 * error when it cannot; the daemon then serves that descriptor as
 * /dev/fd/N. With ns_fd < 0, call after the mount. */
struct harden_unmounter *harden_unmounter_start(const char *mountpoint, int ns_fd,
                                                const char *mount_options, GError **error);

/* Asks the helper to unmount, unless the FUSE connection on fuse_fd says the
 * filesystem is already gone (fusermount3 -u); waits for it and frees u.
 * Returns 0 or -errno (the helper's umount2() error, or -ECHILD when the
 * helper is gone). NULL does nothing. */
int harden_unmounter_finish(struct harden_unmounter *u, int fuse_fd);

/* Main thread, before any other thread: keeps CAP_SYS_PTRACE (and
 * CAP_DAC_READ_SEARCH when read_any_file), plus CAP_SYS_NICE until
 * harden_drop_nice(); empties the bounding set to the same; sets
 * no_new_privs and makes the process non-dumpable. */
gboolean harden_drop_capabilities(gboolean read_any_file, GError **error);

/* The calling thread gives up CAP_SYS_NICE: call once its scheduling
 * priority is set (capabilities are per thread). Quiet no-op without it. */
void harden_drop_nice(void);

/* Installs the seccomp allow-list on every thread of the process (TSYNC).
 * A system call outside it writes one line on stderr naming it and the
 * thread, then kills the daemon with SIGSYS. Call last, once every thread
 * that starts early has started. */
gboolean harden_seccomp_install(GError **error);

/* The set of signals a thread may block: all but SIGSYS, which must reach
 * the seccomp handler (a blocked SIGSYS kills silently). */
void harden_blockable_signals(sigset_t *set);

/* Debug builds (-Ddebug_hooks=true) only: with
 * LINEAGEFS_DEBUG_FORBIDDEN_SYSCALL=1 in the environment, makes a system
 * call the allow-list refuses, so that tests can see the refusal. */
void harden_debug_probe(void);
