/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's hardening, applied once the mount and the cn_proc
 * subscription are up, in this order: a helper process forked to keep the
 * one right the daemon still needs at the very end (unmounting, which
 * takes CAP_SYS_ADMIN); every other capability dropped, the bounding set
 * emptied to match, no_new_privs, no core dumps; then, once the early
 * threads run, a seccomp allow-list on every thread. A FUSE callback that
 * goes wrong can then read /proc and files the daemon already has open, but
 * cannot mount, load modules, exec, open sockets other than AF_UNIX, or
 * regain a capability.
 *
 * What stays, and why:
 *  - CAP_SYS_PTRACE: /proc/<pid>/exe (and cwd, ns, environ) of a process
 *    of another uid, or of a non-dumpable one, is behind a ptrace access
 *    check; the event thread reads exe at every EXEC and rescans /proc on
 *    an overflow. The same check guards process_vm_readv(), with which it
 *    reads a short command line from the process's memory.
 *  - CAP_DAC_READ_SEARCH, only when read_any_file: files mode 0400 of
 *    other uids (/proc/<pid>/environ) and executables root cannot read
 *    without it (hashing a 0700 binary of another user).
 *  - CAP_SYS_NICE, per thread, only until the thread has taken its
 *    real-time priority (harden_drop_nice()).
 * Gone: CAP_NET_ADMIN (the proc connector checks it when we subscribe, not
 * on receive), CAP_SYS_ADMIN (kept by the unmount helper alone), and all
 * the rest.
 */
#include "config.h"

#include "harden.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include <cap-ng.h>

/* Sanitizer runtimes make system calls of their own, LeakSanitizer at exit
 * most of all (it stops the world from a cloned task with ptrace). */
#if defined(__SANITIZE_ADDRESS__)
#define HARDEN_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define HARDEN_SANITIZED 1
#endif
#endif
#ifndef HARDEN_SANITIZED
#define HARDEN_SANITIZED 0
#endif

/* Names of system calls by number, resolved before the filter is loaded so
 * that the SIGSYS handler only formats and writes. */
#define HARDEN_SYSCALL_NAMES 1024
static const char *harden_syscall_names[HARDEN_SYSCALL_NAMES];

/* ---- the unmount helper ---- */

struct harden_unmounter {
	pid_t pid;
	int ask_fd;    /* write 'u' (unmount) or 'n' (already gone) */
	int answer_fd; /* reads the helper's umount2() errno, an int */
};

/* The helper's filter: what it does after its start, nothing else. */
static void unmounter_seccomp(void)
{
	static const char *const allowed[] = {
		"read",
		"write",
		"umount2",
		"exit_group",
		"exit",
		"rt_sigreturn",
		"restart_syscall",
#if HARDEN_SANITIZED
		"mmap",
		"munmap",
		"madvise",
		"sigaltstack",
		"futex",
		"getpid",
		"gettid",
#endif
	};
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_KILL_PROCESS);

	if (ctx == NULL)
		return;
	for (size_t i = 0; i < G_N_ELEMENTS(allowed); i++) {
		int nr = seccomp_syscall_resolve_name(allowed[i]);

		if (nr != __NR_SCMP_ERROR)
			seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	seccomp_load(ctx);
	seccomp_release(ctx);
}

/*
 * The helper: CAP_SYS_ADMIN and nothing else, waiting on a pipe. It
 * unmounts when asked, and also when the daemon dies (end of file), so a
 * crashed daemon leaves no dead mount behind. It ignores the signals a
 * terminal or systemd send to the whole group: the daemon must ask first.
 */
static G_GNUC_NORETURN void unmounter_main(const char *mountpoint, int ask_fd, int answer_fd,
                                           int ns_fd, const char *mount_options)
{
	char request = 'u';
	ssize_t n;
	int err = 0;

	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	/* The mount, in the namespace readers live in: systemd's sandbox
	 * makes the daemon's a slave, from which no mount propagates out. */
	if (ns_fd >= 0) {
		if (setns(ns_fd, CLONE_NEWNS) < 0 ||
		    mount("lineagefs", mountpoint, "fuse.lineagefs",
		          MS_NOSUID | MS_NODEV | MS_RDONLY, mount_options) < 0)
			err = errno;
	}
	/* Nothing of the daemon's stays open here, /dev/fuse least of all:
	 * the connection must end with the daemon. */
	if (dup3(ask_fd, STDIN_FILENO, 0) < 0 || dup3(answer_fd, STDOUT_FILENO, 0) < 0)
		_exit(EXIT_FAILURE);
	close_range(STDERR_FILENO + 1, ~0U, 0);
	if (ns_fd >= 0 && (write(STDOUT_FILENO, &err, sizeof(err)) < 0 || err != 0))
		_exit(EXIT_FAILURE);
	prctl(PR_SET_NAME, "lin-unmount", 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	capng_clear(CAPNG_SELECT_BOTH);
	capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED | CAPNG_BOUNDING_SET,
	             CAP_SYS_ADMIN);
	capng_apply(CAPNG_SELECT_BOTH);
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	unmounter_seccomp();

	do
		n = read(STDIN_FILENO, &request, 1);
	while (n < 0 && errno == EINTR);
	if (n != 1 || request == 'u') {
		/* Lazy, as libfuse does: a shell whose cwd is inside must not
		 * keep the mount. NOFOLLOW: the path is only ever our mount. */
		if (umount2(mountpoint, MNT_DETACH | UMOUNT_NOFOLLOW) < 0)
			err = errno;
	}
	if (write(STDOUT_FILENO, &err, sizeof(err)) < 0)
		_exit(EXIT_FAILURE);
	_exit(EXIT_SUCCESS);
}

struct harden_unmounter *harden_unmounter_start(const char *mountpoint, int ns_fd,
                                                const char *mount_options, GError **error)
{
	struct harden_unmounter *u;
	int ask[2], answer[2];
	int mounted = 0;
	ssize_t n;
	int err;

	if (pipe2(ask, O_CLOEXEC) < 0) {
		err = errno;
		goto fail;
	}
	if (pipe2(answer, O_CLOEXEC) < 0) {
		err = errno;
		close(ask[0]);
		close(ask[1]);
		goto fail;
	}
	u = g_new0(struct harden_unmounter, 1);
	u->pid = fork();
	if (u->pid < 0) {
		err = errno;
		g_free(u);
		close(ask[0]);
		close(ask[1]);
		close(answer[0]);
		close(answer[1]);
		goto fail;
	}
	if (u->pid == 0)
		unmounter_main(mountpoint, ask[0], answer[1], ns_fd, mount_options);
	close(ask[0]);
	close(answer[1]);
	u->ask_fd = ask[1];
	u->answer_fd = answer[0];
	if (ns_fd < 0)
		return u;
	do
		n = read(u->answer_fd, &mounted, sizeof(mounted));
	while (n < 0 && errno == EINTR);
	if (n == sizeof(mounted) && mounted == 0)
		return u;
	err = n == sizeof(mounted) ? mounted : ECHILD;
	close(u->ask_fd);
	close(u->answer_fd);
	waitpid(u->pid, NULL, 0);
	g_free(u);
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
	            "cannot mount on %s in the given mount namespace: %s", mountpoint,
	            g_strerror(err));
	return NULL;

fail:
	g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(err),
	            "cannot start the unmount helper: %s", g_strerror(err));
	return NULL;
}

int harden_unmounter_finish(struct harden_unmounter *u, int fuse_fd)
{
	struct pollfd pfd = {.fd = fuse_fd, .events = 0};
	char request = 'u';
	int answer = ECHILD;
	ssize_t n;

	if (u == NULL)
		return 0;
	/* POLLERR: the kernel ended the connection, the filesystem is
	 * unmounted already (fusermount3 -u); the path may by now hold
	 * another mount, which is not ours to remove. */
	if (fuse_fd >= 0 && poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLERR))
		request = 'n';
	while (write(u->ask_fd, &request, 1) < 0 && errno == EINTR)
		;
	do
		n = read(u->answer_fd, &answer, sizeof(answer));
	while (n < 0 && errno == EINTR);
	if (n != sizeof(answer))
		answer = ECHILD;
	close(u->ask_fd);
	close(u->answer_fd);
	while (waitpid(u->pid, NULL, 0) < 0 && errno == EINTR)
		;
	g_free(u);
	return -answer;
}

/* ---- capabilities ---- */

gboolean harden_drop_capabilities(gboolean read_any_file, GError **error)
{
	static const int wanted[] = {CAP_SYS_PTRACE, CAP_SYS_NICE, CAP_DAC_READ_SEARCH};
	gboolean keep[G_N_ELEMENTS(wanted)];
	gboolean can_bound;
	int ret;

	if (capng_get_caps_process() < 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
		            "cannot read the daemon's capabilities");
		return FALSE;
	}
	/* Only what we have: a daemon started with fewer keeps fewer. */
	for (size_t i = 0; i < G_N_ELEMENTS(wanted); i++)
		keep[i] = capng_have_capability(CAPNG_PERMITTED, (unsigned)wanted[i]) &&
		          (wanted[i] != CAP_DAC_READ_SEARCH || read_any_file);
	/* Shrinking the bounding set takes CAP_SETPCAP; under systemd's
	 * CapabilityBoundingSet= it is already as small. */
	can_bound = capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);

	capng_clear(CAPNG_SELECT_ALL);
	/* CAP_SYS_NICE stays out of the bounding set: it only bounds what an
	 * execve could give, and the threads drop their own copy soon. */
	for (size_t i = 0; i < G_N_ELEMENTS(wanted); i++)
		if (keep[i])
			capng_update(CAPNG_ADD,
			             CAPNG_EFFECTIVE | CAPNG_PERMITTED |
			                 (wanted[i] != CAP_SYS_NICE ? CAPNG_BOUNDING_SET : 0),
			             (unsigned)wanted[i]);
	ret = capng_apply(can_bound ? CAPNG_SELECT_BOTH : CAPNG_SELECT_CAPS);
	if (ret < 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_PERM,
		            "cannot drop capabilities (libcap-ng error %d)", ret);
		return FALSE;
	}
	/* Nothing the daemon could exec would gain privileges. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
		            "cannot set no_new_privs: %s", g_strerror(errno));
		return FALSE;
	}
	/* A core dump would hold every command line the daemon keeps; not
	 * dumpable also makes /proc/<daemon> readable by root alone. */
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	return TRUE;
}

void harden_drop_nice(void)
{
	/* Per thread: libcap-ng would otherwise address the main thread. */
	capng_setpid((int)gettid());
	if (capng_get_caps_process() < 0 || !capng_have_capability(CAPNG_PERMITTED, CAP_SYS_NICE))
		return;
	capng_update(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_SYS_NICE);
	capng_apply(CAPNG_SELECT_CAPS);
}

/* ---- seccomp ---- */

void harden_blockable_signals(sigset_t *set)
{
	sigfillset(set);
	sigdelset(set, SIGSYS);
}

/* Appends text to buf at *len, async-signal-safe. */
static void sig_append(char *buf, size_t size, size_t *len, const char *text)
{
	while (*text != '\0' && *len + 1 < size)
		buf[(*len)++] = *text++;
}

static void sig_append_uint(char *buf, size_t size, size_t *len, unsigned long value)
{
	char digits[24];
	size_t n = 0;

	do
		digits[n++] = (char)('0' + value % 10);
	while ((value /= 10) != 0);
	while (n > 0 && *len + 1 < size)
		buf[(*len)++] = digits[--n];
}

/*
 * SIGSYS from the filter: one line naming the system call and the thread,
 * then death by SIGSYS. Returning would resume the caller with a bogus
 * result, so the daemon stops; the unmount helper then removes the mount.
 */
static void harden_sigsys(int sig, siginfo_t *info, void *context)
{
	char line[320];
	char thread[17] = "?";
	size_t len = 0;
	int nr = info->si_syscall;
	const char *name = nr >= 0 && nr < HARDEN_SYSCALL_NAMES ? harden_syscall_names[nr] : NULL;

	(void)context;
	prctl(PR_GET_NAME, thread, 0, 0, 0);
	sig_append(line, sizeof(line), &len, "lineagefs: seccomp refused system call ");
	sig_append(line, sizeof(line), &len, name != NULL ? name : "?");
	sig_append(line, sizeof(line), &len, " (");
	sig_append_uint(line, sizeof(line), &len, (unsigned long)nr);
	sig_append(line, sizeof(line), &len, ") in thread ");
	sig_append(line, sizeof(line), &len, thread);
	sig_append(line, sizeof(line), &len,
	           "; stopping (if lineagefs needs it, allow it in src/harden.c)\n");
	if (write(STDERR_FILENO, line, len) < 0)
		len = 0;
	/* SA_RESETHAND made the action the default one: die of it. */
	syscall(SYS_tgkill, getpid(), gettid(), sig);
}

/* Allows every named system call, with no condition on its arguments. */
static int allow_all(scmp_filter_ctx ctx, const char *const *names, size_t count)
{
	for (size_t i = 0; i < count; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		int ret;

		if (nr == __NR_SCMP_ERROR)
			continue; /* not on this architecture */
		ret = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (ret < 0)
			return ret;
	}
	return 0;
}

/* Rules with a condition on one argument (op 0: none, for a non-allow
 * action). For SCMP_CMP_MASKED_EQ, mask is the mask; otherwise unused. */
static const struct harden_arg_rule {
	const char *name;
	uint32_t action;
	unsigned arg;
	enum scmp_compare op;
	scmp_datum_t mask, value;
	gboolean own_pid;       /* value is getpid() */
	gboolean sanitizer_any; /* sanitizer builds allow any arguments */
} harden_arg_rules[] = {
    /* Threads only, never a new process: pthread_create's clone has
     * CLONE_THREAD. clone3's flags sit in memory a filter cannot read:
     * ENOSYS makes glibc fall back to clone. */
    {"clone3", SCMP_ACT_ERRNO(ENOSYS), 0, 0, 0, 0, FALSE, FALSE},
    {"clone", SCMP_ACT_ALLOW, 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD, FALSE, TRUE},
    /* Signals to ourselves only: abort(), and the SIGSYS handler. */
    {"tgkill", SCMP_ACT_ALLOW, 0, SCMP_CMP_EQ, 0, 0, TRUE, TRUE},
    /* Thread names (pthread_setname_np, GLib) and the SIGSYS handler. */
    {"prctl", SCMP_ACT_ALLOW, 0, SCMP_CMP_EQ, 0, PR_SET_NAME, FALSE, TRUE},
    {"prctl", SCMP_ACT_ALLOW, 0, SCMP_CMP_EQ, 0, PR_GET_NAME, FALSE, TRUE},
    /* New sockets: AF_UNIX only (GLib's journald writer). */
    {"socket", SCMP_ACT_ALLOW, 0, SCMP_CMP_EQ, 0, AF_UNIX, FALSE, FALSE},
    /* isatty() on stderr (GLib's log colours); -o clone_fd's clone of
     * the /dev/fuse descriptor. */
    {"ioctl", SCMP_ACT_ALLOW, 1, SCMP_CMP_EQ, 0, TCGETS, FALSE, FALSE},
    {"ioctl", SCMP_ACT_ALLOW, 1, SCMP_CMP_EQ, 0, FUSE_DEV_IOC_CLONE, FALSE, FALSE},
    /* libfuse unmounts itself when the helper could not: without
     * CAP_SYS_ADMIN the kernel would refuse it anyway. */
    {"umount2", SCMP_ACT_ERRNO(EPERM), 0, 0, 0, 0, FALSE, FALSE},
};

/* The allow-list, in groups. A new thread or feature that needs a system
 * call adds it to its group, with the reason when it is not obvious. */
static int harden_rules(scmp_filter_ctx ctx)
{
	/* Memory: malloc, GLib, thread stacks. */
	static const char *const memory[] = {
	    "brk", "mmap", "munmap", "mprotect", "mremap", "madvise",
	};
	/* Threads (event, stat reader, notifier, FUSE workers, and the
	 * journal, hash and metrics threads), their signals and exit. */
	static const char *const threads[] = {
	    "futex",
	    "set_robust_list",
	    "get_robust_list",
	    "rseq",
	    "set_tid_address",
	    "exit",
	    "exit_group",
	    "gettid",
	    "getpid",
	    "sched_yield",
	    "sched_getaffinity",
	    "rt_sigprocmask",
	    "rt_sigaction",
	    "rt_sigreturn",
	    "sigaltstack",
	    "restart_syscall",
	};
	/* Clocks and waits: timestamps, g_async_queue_timeout_pop, the
	 * event thread's fork grace, timers. */
	static const char *const clocks[] = {
	    "clock_gettime", "clock_getres",   "clock_nanosleep", "nanosleep",       "gettimeofday",
	    "time",          "timerfd_create", "timerfd_settime", "timerfd_gettime",
	};
	/* Files: /proc reads (event and stat threads, rescans, metrics of
	 * /proc/self/task), the journal writer (create, append, sync,
	 * rotate, prune), executables read for --hash-exe. */
	static const char *const files[] = {
	    "openat",    "open",       "close",           "read",       "pread64",
	    "readv",     "preadv",     "preadv2",         "write",      "pwrite64",
	    "writev",    "pwritev",    "pwritev2",        "lseek",      "fstat",
	    "stat",      "lstat",      "newfstatat",      "statx",      "fstatfs",
	    "statfs",    "getdents64", "readlink",        "readlinkat", "fcntl",
	    "fsync",     "fdatasync",  "sync_file_range", "rename",     "renameat",
	    "renameat2", "unlink",     "unlinkat",        "mkdir",      "mkdirat",
	    "ftruncate", "fallocate",  "flock",           "dup",        "dup2",
	    "dup3",      "access",     "faccessat",       "faccessat2", "fchmod",
	    "fadvise64", "getcwd",     "pipe2",
	};
	/* Waiting on descriptors: the event thread's ppoll, eventfds. */
	static const char *const waiting[] = {
	    "poll",      "ppoll",      "select",      "pselect6",     "epoll_create1",
	    "epoll_ctl", "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd2",
	};
	/* Sockets already open: cn_proc (receive; send for the IGNORE at
	 * exit); AF_UNIX datagrams to journald from GLib's log writer. */
	static const char *const sockets[] = {
	    "recvmsg",     "recvfrom",    "recvmmsg",   "sendmsg", "sendto",   "getsockopt",
	    "getsockname", "getpeername", "setsockopt", "connect", "shutdown",
	};
	/* Who and where we are, limits, randomness (GLib hash seeds). */
	static const char *const identity[] = {
	    "getuid",    "geteuid",   "getgid",         "getegid",
	    "getresuid", "getresgid", "getgroups",      "prlimit64",
	    "getrlimit", "getrusage", "uname",          "sysinfo",
	    "getrandom", "getcpu",    "sched_getparam", "sched_getscheduler",
	    "capget",    "getppid",
	};
	/* The event and stat threads set their own real-time priority and
	 * then drop CAP_SYS_NICE, maybe after the filter is on (they race
	 * with its installation). Neither call can gain anything: capset
	 * stays within the permitted set, and without CAP_SYS_NICE the
	 * kernel refuses a higher priority. */
	static const char *const priority[] = {
	    "sched_setscheduler",
	    "sched_setparam",
	    "setpriority",
	    "capset",
	};
	/* Waiting for the unmount helper at exit. */
	static const char *const helper[] = {
	    "wait4",
	    "waitid",
	};
	/* A short command line read from the process's memory (proc_scan.c);
	 * also LeakSanitizer's at exit. */
	static const char *const other_memory[] = {
	    "process_vm_readv",
	};
#if HARDEN_SANITIZED
	/* LeakSanitizer's stop-the-world at exit, ASan's reports. */
	static const char *const sanitizer[] = {
	    "ptrace", "prctl", "kill", "tgkill", "tkill", "clone", "getdents",
	};
#endif
	static const struct {
		const char *const *names;
		size_t count;
	} groups[] = {
		{memory, G_N_ELEMENTS(memory)},
		{threads, G_N_ELEMENTS(threads)},
		{clocks, G_N_ELEMENTS(clocks)},
		{files, G_N_ELEMENTS(files)},
		{waiting, G_N_ELEMENTS(waiting)},
		{sockets, G_N_ELEMENTS(sockets)},
		{identity, G_N_ELEMENTS(identity)},
		{priority, G_N_ELEMENTS(priority)},
		{helper, G_N_ELEMENTS(helper)},
		{other_memory, G_N_ELEMENTS(other_memory)},
#if HARDEN_SANITIZED
		{sanitizer, G_N_ELEMENTS(sanitizer)},
#endif
	};
	int ret;

	for (size_t i = 0; i < G_N_ELEMENTS(groups); i++) {
		ret = allow_all(ctx, groups[i].names, groups[i].count);
		if (ret < 0)
			return ret;
	}

	for (size_t i = 0; ret == 0 && i < G_N_ELEMENTS(harden_arg_rules); i++) {
		const struct harden_arg_rule *rule = &harden_arg_rules[i];
		scmp_datum_t value = rule->own_pid ? (scmp_datum_t)getpid() : rule->value;
		int nr = seccomp_syscall_resolve_name(rule->name);
		struct scmp_arg_cmp cmp = {
		    .arg = rule->arg,
		    .op = rule->op,
		    .datum_a = rule->op == SCMP_CMP_MASKED_EQ ? rule->mask : value,
		    .datum_b = value,
		};

		if (rule->sanitizer_any && HARDEN_SANITIZED)
			continue; /* allowed whole in the sanitizer group */
		ret = seccomp_rule_add_array(ctx, rule->action, nr, rule->op != 0 ? 1 : 0, &cmp);
	}
	return ret;
}

gboolean harden_seccomp_install(GError **error)
{
	struct sigaction action = {0};
	scmp_filter_ctx ctx;
	int ret;

	for (int nr = 0; nr < HARDEN_SYSCALL_NAMES; nr++)
		harden_syscall_names[nr] = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);

	action.sa_sigaction = harden_sigsys;
	action.sa_flags = SA_SIGINFO | SA_RESETHAND | SA_NODEFER;
	sigemptyset(&action.sa_mask);
	if (sigaction(SIGSYS, &action, NULL) < 0) {
		g_set_error(error, G_FILE_ERROR, g_file_error_from_errno(errno),
		            "cannot install the SIGSYS handler: %s", g_strerror(errno));
		return FALSE;
	}

	ctx = seccomp_init(SCMP_ACT_TRAP);
	if (ctx == NULL) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_NOMEM,
		            "cannot create the seccomp filter (out of memory)");
		return FALSE;
	}
	/* Every thread started so far gets the filter too. */
	ret = seccomp_attr_set(ctx, SCMP_FLTATR_CTL_TSYNC, 1);
	if (ret == 0)
		ret = harden_rules(ctx);
	if (ret == 0)
		ret = seccomp_load(ctx);
	seccomp_release(ctx);
	if (ret != 0) {
		g_set_error(error, G_FILE_ERROR, G_FILE_ERROR_FAILED,
		            "cannot install the seccomp filter: %s (a kernel without "
		            "CONFIG_SECCOMP_FILTER?)",
		            g_strerror(ret < 0 ? -ret : ret));
		return FALSE;
	}
	return TRUE;
}

void harden_debug_probe(void)
{
#ifdef LINEAGEFS_DEBUG_HOOKS
	/* syslog(SYSLOG_ACTION_SIZE_BUFFER): harmless, and never allowed. */
	if (g_strcmp0(g_getenv("LINEAGEFS_DEBUG_FORBIDDEN_SYSCALL"), "1") == 0)
		syscall(SYS_syslog, 10, NULL, 0);
#endif
}
