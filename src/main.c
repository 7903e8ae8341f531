/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lineagefs: the daemon's entry point. Takes the command line from
 * options.c (lineagefs options plus every standard FUSE option), checks what
 * a user can get wrong before touching anything (mountpoint, /dev/fuse,
 * /proc, the proc connector), then wires the pieces in the one order that
 * loses no event:
 * subscribe to cn_proc, scan /proc, mount, start the event thread, serve.
 * Every startup failure is one line on stderr naming the cause and the fix,
 * and unwinds so that nothing stays mounted.
 */
#ifndef G_LOG_DOMAIN
#define G_LOG_DOMAIN "lineagefs"
#endif
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fuse_lowlevel.h>
#include <fuse_opt.h>
#include <glib.h>

#include "cnproc.h"
#include "event_thread.h"
#include "fs.h"
#include "harden.h"
#include "history.h"
#include "journal_read.h"
#include "journal_write.h"
#include "options.h"
#include "tracker.h"

/* See lin_raise_fd_limit(). */
#define LIN_FD_LIMIT_WANTED 65536

/*
 * libfuse reports its own failures (unknown option, mount refused) through
 * fuse_log() on a line of its own, sometimes in several calls per line. During
 * startup the first line is kept instead, to be folded into lineagefs's single
 * error line; once the filesystem serves, everything (the -d trace too) goes
 * to stderr as is. Written only before the FUSE threads exist.
 */
static gboolean lin_fuse_log_capture = TRUE;
static char lin_fuse_log_first[512];
static gboolean lin_fuse_log_first_done; /* its newline was seen */

static void lin_fuse_log(enum fuse_log_level level, const char *fmt, va_list ap)
{
	size_t used = strlen(lin_fuse_log_first);

	if (!lin_fuse_log_capture || level > FUSE_LOG_ERR) {
		vfprintf(stderr, fmt, ap);
		return;
	}
	if (lin_fuse_log_first_done)
		return;
	vsnprintf(lin_fuse_log_first + used, sizeof(lin_fuse_log_first) - used, fmt, ap);
	if (strchr(lin_fuse_log_first + used, '\n') != NULL ||
	    strlen(lin_fuse_log_first) + 1 >= sizeof(lin_fuse_log_first)) {
		lin_fuse_log_first_done = TRUE;
		/* A second line in one call is dropped with the rest. */
		lin_fuse_log_first[strcspn(lin_fuse_log_first, "\n")] = '\0';
		g_strstrip(lin_fuse_log_first);
	}
}

/* What libfuse said last, without its "fuse: " prefix; "" when nothing. */
static const char *lin_fuse_said(void)
{
	const char *said = lin_fuse_log_first;

	if (g_str_has_prefix(said, "fuse: "))
		said += strlen("fuse: ");
	return said;
}

/* The one error line for a failed libfuse call. */
static void lin_report_fuse_failure(const char *what, const char *fix)
{
	if (lin_fuse_said()[0] != '\0')
		fprintf(stderr, "lineagefs: %s: %s (%s)\n", what, lin_fuse_said(), fix);
	else
		fprintf(stderr, "lineagefs: %s (%s)\n", what, fix);
	lin_fuse_log_first[0] = '\0';
	lin_fuse_log_first_done = FALSE;
}

/* The mountpoint must be an existing directory; each way it is not gets
 * its own fix. */
static gboolean lin_check_mountpoint(const char *path)
{
	struct stat st;
	int err;

	if (stat(path, &st) < 0) {
		err = errno;
		if (err == ENOENT)
			fprintf(stderr,
			        "lineagefs: mountpoint %s: %s (create it with mkdir -p %s)\n", path,
			        g_strerror(err), path);
		else if (err == ENOTCONN)
			fprintf(stderr,
			        "lineagefs: mountpoint %s: %s (a dead FUSE mount is still there: "
			        "fusermount3 -u %s)\n",
			        path, g_strerror(err), path);
		else
			fprintf(stderr,
			        "lineagefs: mountpoint %s: %s (check the path and the permissions "
			        "of its parents)\n",
			        path, g_strerror(err));
		return FALSE;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr,
		        "lineagefs: mountpoint %s: %s (give a directory; create one with "
		        "mkdir -p DIR)\n",
		        path, g_strerror(ENOTDIR));
		return FALSE;
	}
	return TRUE;
}

/* Opening /dev/fuse now turns "fuse: device not found" deep inside the mount
 * into a message with the fix, before any work is done. */
static gboolean lin_check_dev_fuse(void)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	int err;

	if (fd >= 0) {
		close(fd);
		return TRUE;
	}
	err = errno;
	switch (err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		fprintf(stderr,
		        "lineagefs: cannot open /dev/fuse: %s (load the FUSE module with "
		        "'modprobe fuse')\n",
		        g_strerror(err));
		break;
	case EACCES:
	case EPERM:
		fprintf(stderr, "lineagefs: cannot open /dev/fuse: %s (run lineagefs as root)\n",
		        g_strerror(err));
		break;
	default:
		fprintf(stderr,
		        "lineagefs: cannot open /dev/fuse: %s (check 'modprobe fuse' and run "
		        "lineagefs as root)\n",
		        g_strerror(err));
		break;
	}
	return FALSE;
}

/* The journal's counters, for the stats and metrics files. */
static void lin_journal_stats(struct lin_journal_stats *out, void *data)
{
	journal_writer_get_stats(data, out);
}

/* The journal writer for --journal=DIR: DIR checked, nothing written yet
 * (the thread starts after the bootstrap and the fork to background).
 * Prints the error line and returns NULL on failure. */
static struct journal_writer *lin_journal_open(const struct lin_options *opts,
                                               const struct tracker_config *config)
{
	g_autoptr(GError) error = NULL;
	struct journal_config jc = {
	    .dir = opts->journal_dir,
	    .max_bytes = opts->journal_max,
	    .sync_ms = opts->journal_sync_ms,
	};
	struct journal_writer *jw;

	if (!journal_host_init_system(&jc.host, config, &error)) {
		fprintf(stderr, "lineagefs: %s\n", error->message);
		return NULL;
	}
	jw = journal_writer_new(&jc, &error);
	if (jw == NULL)
		fprintf(stderr, "lineagefs: %s\n", error->message);
	return jw;
}

/* libfuse's multi-threaded loop with lineagefs's idle-thread default; the
 * user's -o clone_fd, max_idle_threads and max_threads still apply. */
static int lin_serve(struct fuse_session *se, const struct fuse_cmdline_opts *fuse_opts)
{
	struct fuse_loop_config *loop_config;
	unsigned idle_threads;
	int ret;

	if (fuse_opts->singlethread)
		return fuse_session_loop(se);

	loop_config = fuse_loop_cfg_create();
	if (loop_config == NULL)
		return -ENOMEM;
	fuse_loop_cfg_set_clone_fd(loop_config, (unsigned)fuse_opts->clone_fd);
	idle_threads = fuse_opts->max_idle_threads;
	if (idle_threads == UINT_MAX) /* fuse_parse_cmdline()'s "not given" */
		idle_threads = LIN_DEFAULT_IDLE_THREADS;
	fuse_loop_cfg_set_idle_threads(loop_config, idle_threads);
	fuse_loop_cfg_set_max_threads(loop_config, fuse_opts->max_threads);
	ret = fuse_session_loop_mt(se, loop_config);
	fuse_loop_cfg_destroy(loop_config);
	return ret;
}

/*
 * In a fork storm the event thread holds a /proc directory fd for each
 * EXEC it has read but not yet applied (up to 512), on top of FUSE's and
 * the netlink socket: a soft limit of 1024 is too close. Raised towards the
 * hard limit, quietly: failing only means the old limit stays.
 */
static void lin_raise_fd_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= LIN_FD_LIMIT_WANTED)
		return;
	rl.rlim_cur = MIN(rl.rlim_max, (rlim_t)LIN_FD_LIMIT_WANTED);
	setrlimit(RLIMIT_NOFILE, &rl);
}

/*
 * --mount-namespace: the unmount helper joins that namespace and mounts
 * there a /dev/fuse connection opened here, which libfuse then serves as
 * /dev/fd/N. Returns the helper, or NULL after printing the error line.
 */
static struct harden_unmounter *lin_mount_elsewhere(const struct lin_options *opts,
                                                    const char *mountpoint, char **fuse_dev_path)
{
	g_autoptr(GError) error = NULL;
	g_autofree char *options = NULL;
	struct harden_unmounter *unmounter;
	int ns_fd, fuse_fd;

	ns_fd = open(opts->mount_namespace, O_RDONLY | O_CLOEXEC);
	if (ns_fd < 0) {
		fprintf(stderr,
		        "lineagefs: --mount-namespace: cannot open %s: %s (give a mount namespace "
		        "such as /proc/1/ns/mnt)\n",
		        opts->mount_namespace, g_strerror(errno));
		return NULL;
	}
	fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fuse_fd < 0) {
		fprintf(stderr, "lineagefs: cannot open /dev/fuse: %s (run lineagefs as root)\n",
		        g_strerror(errno));
		close(ns_fd);
		return NULL;
	}
	/* What libfuse would pass the kernel for this mount. */
	options = g_strdup_printf(
	    "fd=%d,rootmode=40000,user_id=%u,group_id=%u%s", fuse_fd, (unsigned)getuid(),
	    (unsigned)getgid(), opts->access.allow_other ? ",allow_other,default_permissions" : "");
	unmounter = harden_unmounter_start(mountpoint, ns_fd, options, &error);
	close(ns_fd);
	if (unmounter == NULL) {
		fprintf(stderr,
		        "lineagefs: %s (check --mount-namespace=%s and the mountpoint there)\n",
		        error->message, opts->mount_namespace);
		close(fuse_fd);
		return NULL;
	}
	*fuse_dev_path = g_strdup_printf("/dev/fd/%d", fuse_fd);
	return unmounter;
}

int main(int argc, char **argv)
{
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct lin_options opts;
	struct fuse_cmdline_opts fuse_opts = {0};
	g_autoptr(GError) error = NULL;
	g_autofree char *mountpoint = NULL;
	struct tracker_config config;
	struct tracker *tracker = NULL;
	struct lin_history *history = NULL;
	struct cnproc *cn = NULL;
	struct cnproc *cn_execs = NULL;
	g_autoptr(GError) exec_error = NULL;
	struct lin_fs *fs;
	struct fuse_session *se;
	struct event_thread *et = NULL;
	struct harden_unmounter *unmounter = NULL;
	g_autofree char *fuse_dev_path = NULL;
	struct journal_writer *jw = NULL;
	sigset_t all_signals, old_signals;
	gboolean notifier_started;
	int proc_root_fd = -1;
	int found;
	int ret;
	int status = EXIT_FAILURE;

	/* GLib sends debug and info to stdout by default; a daemon's stdout is
	 * not its log. */
	g_log_writer_default_set_use_stderr(TRUE);
	fuse_set_log_func(lin_fuse_log);
	lin_options_init(&opts);

	/* --- The command line. --- */
	if (!lin_options_parse(argc, argv, &opts, &args)) {
		if (!opts.reported)
			lin_report_fuse_failure("bad command line", "see lineagefs --help");
		status = LIN_EXIT_USAGE;
		goto out_args;
	}
	if (opts.show_help) {
		lin_print_help();
		status = EXIT_SUCCESS;
		goto out_args;
	}
	if (opts.show_version) {
		lin_print_version();
		status = EXIT_SUCCESS;
		goto out_args;
	}
	/* A user replaying a journal mounts through the setuid fusermount3,
	 * which opens /dev/fuse as that user: libfuse goes that way for
	 * auto_unmount, which also unmounts should the daemon die. */
	if (opts.replay && geteuid() != 0 && fuse_opt_add_arg(&args, "-oauto_unmount") < 0) {
		fprintf(stderr, "lineagefs: out of memory\n");
		goto out_args;
	}
	/* Its mode decides who may mount FUSE at all. */
	if (opts.replay && geteuid() != 0 && access("/dev/fuse", R_OK | W_OK) != 0) {
		fprintf(
		    stderr,
		    "lineagefs: --replay as uid %u: cannot open /dev/fuse: %s (FUSE is closed to "
		    "users on this machine; ask root to make /dev/fuse mode 0666, the default of "
		    "most distributions, or replay as root, or in a container given /dev/fuse)\n",
		    (guint)getuid(), g_strerror(errno));
		goto out_args;
	}
	/* Last, so that a user's -o rw or fsname= cannot override them. With
	 * allow_other, the kernel checks the modes that encode who may read
	 * what (fs/access.c). */
	if ((opts.access.allow_other && fuse_opt_add_arg(&args, "-odefault_permissions") < 0) ||
	    fuse_opt_add_arg(&args, "-oro,fsname=lineagefs,subtype=lineagefs") < 0 ||
	    fuse_parse_cmdline(&args, &fuse_opts) < 0) {
		lin_report_fuse_failure("bad command line", "see lineagefs --help");
		status = LIN_EXIT_USAGE;
		goto out_args;
	}
	if (opts.mountpoint == NULL) {
		fprintf(stderr, "lineagefs: no MOUNTPOINT given (usage: lineagefs [options] "
		                "MOUNTPOINT; see lineagefs --help)\n");
		status = LIN_EXIT_USAGE;
		goto out_args;
	}
	if (fuse_opts.debug)
		g_log_set_debug_enabled(TRUE);
	if (opts.until_ns && !opts.replay) {
		fprintf(stderr, "lineagefs: --until needs --replay (the live mount shows the "
		                "present; see lineagefs --help)\n");
		status = LIN_EXIT_USAGE;
		goto out_args;
	}

	/* --- What the user can get wrong, before any work. --- */
	if (!lin_check_mountpoint(opts.mountpoint))
		goto out_args;
	/* Absolute, because fuse_daemonize() moves to / and the unmount at
	 * exit must still find it. */
	mountpoint = realpath(opts.mountpoint, NULL);
	if (mountpoint == NULL) {
		fprintf(stderr, "lineagefs: mountpoint %s: %s (check the path)\n", opts.mountpoint,
		        g_strerror(errno));
		goto out_args;
	}
	if (opts.replay) {
		/* No /proc, no connector, no /dev/fuse of its own. */
		tracker = lin_history_replay(opts.replay, opts.until_ns, opts.max_exited, &history,
		                             &error);
		if (tracker == NULL) {
			fprintf(stderr, "lineagefs: %s\n", error->message);
			goto out_args;
		}
		goto make_fs;
	}
	if (!lin_check_dev_fuse())
		goto out_args;
	lin_raise_fd_limit();
	proc_root_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_root_fd < 0) {
		fprintf(stderr,
		        "lineagefs: cannot open /proc: %s (mount it: mount -t proc proc /proc)\n",
		        g_strerror(errno));
		goto out_args;
	}

	/* --- The tracker, subscribed before the scan: an event between the
	 * scan and the subscription would be lost for good, while one seen by
	 * both is merely applied twice. --- */
	tracker_config_init_system(&config, proc_root_fd);
	config.max_exited = opts.max_exited;
	config.env_names = opts.env_names;
	config.hash_exe = opts.hash_exe;
	config.max_cmdline = opts.max_cmdline;
	config.max_string_bytes = opts.max_string_memory;
	tracker = tracker_new(&config);
	if (tracker == NULL) {
		fprintf(stderr, "lineagefs: cannot create the process table (out of memory)\n");
		goto out_proc_root;
	}
	/* Before any thread that records starts. */
	tracker_get_metrics(tracker)->enabled = opts.metrics;
	if (opts.journal_dir != NULL) {
		jw = lin_journal_open(&opts, &config);
		if (jw == NULL)
			goto out_tracker;
		/* This boot's history back into the table before the scan,
		 * which reconciles it with /proc; earlier boots under boots/. */
		if (!lin_history_restore(tracker, opts.journal_dir, opts.max_exited, &history,
		                         &error)) {
			fprintf(stderr, "lineagefs: %s\n", error->message);
			goto out_tracker;
		}
	}
	cn = cnproc_open(opts.rcvbuf, &error);
	if (cn == NULL) {
		fprintf(stderr, "lineagefs: %s\n", error->message);
		goto out_tracker;
	}
	/* Optional: without it (a kernel before 6.6) every event wakes the
	 * event thread. */
	cn_execs = cnproc_open_execs(opts.rcvbuf, &exec_error);
	if (cn_execs == NULL)
		g_debug("no EXEC-only socket (%s): every event wakes the event thread",
		        exec_error->message);
	found = tracker_bootstrap(tracker);
	if (found < 0) {
		fprintf(stderr, "lineagefs: cannot scan /proc: %s (is procfs mounted on /proc?)\n",
		        g_strerror(-found));
		goto out_cnproc;
	}
	g_debug("found %d processes in /proc", found);

	/* --- The filesystem and its FUSE session. --- */
make_fs:
	fs = fs_new(tracker);
	if (fs == NULL) {
		fprintf(stderr, "lineagefs: cannot create the filesystem (out of memory)\n");
		goto out_cnproc;
	}
	if (history)
		lin_history_show(history, fs);
	if (opts.replay)
		fs_set_replay(fs);
	tracker_set_change_fn(tracker, fs_on_change, fs);
	fs_set_access(fs, &opts.access);
	if (jw != NULL)
		fs_set_journal_stats_fn(fs, lin_journal_stats, jw);
	se = fs_session_new(fs, &args, &error);
	if (se == NULL) {
		/* Options fuse_parse_cmdline() left alone are checked only here. */
		if (strstr(lin_fuse_said(), "unknown option") != NULL) {
			lin_report_fuse_failure("bad command line", "see lineagefs --help");
			status = LIN_EXIT_USAGE;
		} else {
			lin_report_fuse_failure(error != NULL ? error->message
			                                      : "cannot create the FUSE session",
			                        "see lineagefs --help");
		}
		goto out_fs;
	}
	/* libfuse leaves an ignored signal ignored, and a shell starts every
	 * background job with SIGINT ignored: "kill -INT" must stop the daemon
	 * however it was started. SIGHUP keeps nohup's meaning. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (fuse_set_signal_handlers(se) < 0) {
		fprintf(stderr,
		        "lineagefs: cannot install signal handlers: %s (out of resources?)\n",
		        g_strerror(errno));
		goto out_session;
	}
	if (opts.mount_namespace != NULL) {
		unmounter = lin_mount_elsewhere(&opts, mountpoint, &fuse_dev_path);
		if (unmounter == NULL)
			goto out_signals;
	}
	if (fuse_session_mount(se, fuse_dev_path != NULL ? fuse_dev_path : mountpoint) < 0) {
		g_autofree char *what = g_strdup_printf("cannot mount on %s", mountpoint);

		lin_report_fuse_failure(
		    what, opts.replay ? "check that it is a directory you own, and that "
		                        "fusermount3 is installed setuid root"
		                      : "check that it is a directory and that lineagefs "
		                        "runs as root");
		goto out_signals;
	}
	/* Forks: every thread must start after it, or it would stay behind in
	 * the parent that exits. */
	if (fuse_daemonize(fuse_opts.foreground) < 0) {
		lin_report_fuse_failure("cannot become a daemon", "run it with -f");
		goto out_unmount;
	}
	/* From here on libfuse speaks from its own threads, and for itself. */
	lin_fuse_log_capture = FALSE;

	/* A replay has nothing to feed its tables: no threads but FUSE's and
	 * the notifier, and no privilege to drop (a user's replay has none;
	 * a root one unmounts through libfuse). */
	if (opts.replay)
		goto start_notifier;

	/* --- Hardening, while the process has one thread: capabilities
	 * are per thread, and every thread started later inherits these.
	 * The helper forked first keeps the right to unmount. --- */
	if (unmounter == NULL)
		unmounter = harden_unmounter_start(mountpoint, -1, NULL, &error);
	if (unmounter == NULL) {
		fprintf(stderr, "lineagefs: %s (out of resources?)\n", error->message);
		goto out_unmount;
	}
	/* read_any_file: TRUE once an option needs files mode 0400 of
	 * other users (environ) or unreadable executables (hashes). */
	if (!harden_drop_capabilities(opts.env_names != NULL || opts.hash_exe, &error)) {
		fprintf(stderr, "lineagefs: %s (run lineagefs as root)\n", error->message);
		goto out_unmount;
	}

	/* --- The threads. The journal's first: it writes a checkpoint of
	 * what the bootstrap found, then every event the event thread
	 * applies. --- */
	if (jw != NULL) {
		lin_history_checkpoint_boots(history, jw);
		tracker_set_event_fn(tracker, journal_writer_on_event, jw);
		if (!journal_writer_start(jw, tracker, &error)) {
			fprintf(stderr, "lineagefs: %s (out of resources?)\n", error->message);
			goto out_unmount;
		}
	}

	et = event_thread_start(tracker, cn, cn_execs, &error);
	if (et == NULL) {
		fprintf(stderr, "lineagefs: %s (out of resources?)\n", error->message);
		goto out_unmount;
	}
	/* Before the session serves; the FUSE workers are gone before the
	 * event thread stops. */
	fs_set_catch_up_fn(fs, event_thread_catch_up, et);
	/* The event and stat threads took their real-time priority with
	 * CAP_SYS_NICE, and dropped it; every thread started from here on
	 * (the notifier, FUSE workers) never has it. */
	harden_drop_nice();
	/* The exe hash thread, with no more than the notifier (files the
	 * bootstrap and the first events met wait for it). */
	if (!tracker_start_hasher(tracker, &error)) {
		fprintf(stderr, "lineagefs: %s (out of resources?)\n", error->message);
		goto out_unmount;
	}
start_notifier:
	/* The notifier inherits this mask: a SIGTERM it took instead of a FUSE
	 * thread would leave the session loop blocked in read(). */
	harden_blockable_signals(&all_signals);
	pthread_sigmask(SIG_SETMASK, &all_signals, &old_signals);
	notifier_started = fs_start_notifier(fs, se, &error);
	pthread_sigmask(SIG_SETMASK, &old_signals, NULL);
	if (!notifier_started) {
		fprintf(stderr, "lineagefs: %s (out of resources?)\n", error->message);
		goto out_event_thread;
	}
	/* Last: on every thread running now, and inherited by the rest. */
	if (!opts.replay && !harden_seccomp_install(&error)) {
		fprintf(stderr, "lineagefs: %s\n", error->message);
		goto out_notifier;
	}
	harden_debug_probe();
	g_debug("serving %s", mountpoint);

	/* --- Serve until unmounted or signalled. The loop returns the signal
	 * number after SIGINT/SIGTERM/SIGHUP and 0 after fusermount3 -u: both
	 * are the user's way to stop. --- */
	ret = lin_serve(se, &fuse_opts);
	if (ret < 0)
		fprintf(stderr, "lineagefs: the FUSE session failed: %s\n", g_strerror(-ret));
	else
		status = EXIT_SUCCESS;
	g_debug("stopping (%s)", ret > 0 ? g_strsignal(ret) : ret == 0 ? "unmounted" : "error");

out_notifier:
	fs_stop_notifier(fs);
out_event_thread:
	event_thread_stop(et);
out_unmount:
	/* The feeder is gone: what is queued is written and synced. */
	journal_writer_stop(jw);
	/* The helper unmounts; libfuse then finds the connection gone and
	 * only closes it (it would need CAP_SYS_ADMIN for more). */
	ret = harden_unmounter_finish(unmounter, fuse_session_fd(se));
	if (ret < 0)
		fprintf(stderr, "lineagefs: cannot unmount %s: %s (unmount it with umount -l %s)\n",
		        mountpoint, g_strerror(-ret), mountpoint);
	fuse_session_unmount(se);
out_signals:
	fuse_remove_signal_handlers(se);
out_session:
	fuse_session_destroy(se);
out_fs:
	/* The event thread is gone or never ran: no more changes for fs. */
	tracker_set_change_fn(tracker, NULL, NULL);
	fs_free(fs);
out_cnproc:
	cnproc_close(cn_execs);
	cnproc_close(cn);
out_tracker:
	tracker_set_event_fn(tracker, NULL, NULL);
	journal_writer_free(jw);
	/* A replay's tables belong to its history. */
	if (!opts.replay)
		tracker_free(tracker);
	lin_history_free(history);
out_proc_root:
	if (proc_root_fd >= 0)
		close(proc_root_fd);
out_args:
	lin_options_clear(&opts);
	free(fuse_opts.mountpoint);
	fuse_opt_free_args(&args);
	return status;
}
