/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Memory benchmark: feeds N synthetic processes (default 1,000,000; argv[1]
 * or BENCH_MEMORY_PROCESSES) through tracker_apply_event() as FORK, EXEC and
 * EXIT events with pre-filled /proc reads, so /proc is never touched, and
 * prints what the retained records cost: the tracker's own accounting
 * (record_bytes, string_bytes, strings) per retained process, the growth of
 * this process's VmRSS per process, and the time per event. The workload
 * looks like a busy build or web host: a few hundred distinct executables,
 * command lines that mostly repeat (curl to one of 5,000 hosts, grep for one
 * of 20,000 patterns, bare tools) and some that are unique (sh -c with a
 * counter, scripts with an id). Pids are recycled over pid_max
 * (BENCH_PID_MAX, default 32768, the kernel default) as on a real machine.
 * A second run with a retention limit of max/10 times events when every
 * exit forgets the oldest record (its VmRSS growth per retained process
 * includes what the churn leaves in malloc's heap). The goal, 300 bytes
 * per retained process all in, is judged on VmRSS growth. Figures are
 * printed, never asserted.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

#include "cnproc.h"
#include "proc_scan.h"
#include "tracker.h"

#define DEFAULT_PROCESSES 1000000u
#define DEFAULT_PID_MAX   32768u
#define SHELLS            64u /* long-lived creators of every process */
#define FIRST_SHELL_PID   100
#define DISTINCT_EXES     300u
#define GOAL_BYTES        300.0

struct workload {
	guint processes;
	guint pid_max;
	guint64 clock_ns; /* synthetic CLOCK_MONOTONIC of the next event */
	guint64 ticks;    /* synthetic start ticks of the next process */
	pid_t next_pid;
	char cmdline[512];
	char exe[128];
	char comm[LIN_COMM_MAX];
};

static guint64 monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (guint64)ts.tv_sec * 1000000000u + (guint64)ts.tv_nsec;
}

/* VmRSS of this process in bytes, or 0. */
static guint64 vm_rss_bytes(void)
{
	g_autofree char *text = NULL;
	const char *line;

	if (!g_file_get_contents("/proc/self/status", &text, NULL, NULL))
		return 0;
	line = strstr(text, "\nVmRSS:");
	if (!line)
		return 0;
	return g_ascii_strtoull(line + 7, NULL, 10) * 1024;
}

static guint env_or(const char *name, guint fallback)
{
	const char *value = g_getenv(name);

	return value && *value ? (guint)g_ascii_strtoull(value, NULL, 10) : fallback;
}

/* Builds argv (NUL-separated, no trailing C terminator counted beyond the
 * last argument's NUL, as /proc/<pid>/cmdline has it) from a printf-style
 * line whose arguments are separated by single spaces. */
static gsize set_cmdline(struct workload *w, const char *line)
{
	gsize len = strlen(line);

	memcpy(w->cmdline, line, len + 1);
	for (gsize i = 0; i < len; i++)
		if (w->cmdline[i] == ' ')
			w->cmdline[i] = '\0';
	return len + 1;
}

static void set_exe(struct workload *w, const char *exe)
{
	const char *base = strrchr(exe, '/');

	g_strlcpy(w->exe, exe, sizeof(w->exe));
	/* The kernel's comm is the basename cut to 15 bytes. */
	g_strlcpy(w->comm, base ? base + 1 : exe, 16);
}

/* Fills info with what /proc would show right after process i's exec. */
static void describe_process(struct workload *w, guint i, struct lin_proc_info *info)
{
	char line[sizeof(w->cmdline)];
	guint kind = i % 20;

	if (kind < 8) {
		/* 40%: curl to one of 5,000 hosts. */
		set_exe(w, "/usr/bin/curl");
		snprintf(line, sizeof(line), "curl -s https://host-%u.example.com/api/v1/status",
		         i % 5000);
	} else if (kind < 12) {
		/* 20%: a bare tool, one of the distinct executables. */
		char exe[64];

		snprintf(exe, sizeof(exe), "/usr/lib/toolchain/bin/tool-%u", i % DISTINCT_EXES);
		set_exe(w, exe);
		snprintf(line, sizeof(line), "%s", exe);
	} else if (kind < 16) {
		/* 20%: grep for one of 20,000 patterns. */
		set_exe(w, "/usr/bin/grep");
		snprintf(line, sizeof(line), "grep -r -n pattern-%u /var/log/app", i % 20000);
	} else if (kind < 19) {
		/* 15%: a shell with a unique command. */
		set_exe(w, "/usr/bin/dash");
		snprintf(line, sizeof(line), "sh -c echo job %u done >> /tmp/log", i);
	} else {
		/* 5%: a script run with a unique id. */
		set_exe(w, "/usr/bin/python3.11");
		snprintf(line, sizeof(line), "python3 /opt/app/script-%u.py --id=%u --verbose",
		         i % DISTINCT_EXES, i);
	}
	memset(info, 0, sizeof(*info));
	info->read_ok = PROC_READ_ALL;
	info->stat.state = 'R';
	info->cmdline_len = set_cmdline(w, line);
	info->cmdline = w->cmdline;
	info->exe = w->exe;
	g_strlcpy(info->stat.comm, w->comm, sizeof(info->stat.comm));
	info->status.ruid = info->status.euid = 1000;
	info->status.rgid = info->status.egid = 1000;
	info->status.threads = 1;
}

static pid_t next_pid(struct workload *w)
{
	pid_t pid = w->next_pid++;

	if ((guint)w->next_pid >= w->pid_max)
		w->next_pid = FIRST_SHELL_PID + SHELLS;
	return pid;
}

/* The long-lived shells, announced by an EXEC as if found running. */
static void add_shells(struct tracker *t, struct workload *w)
{
	for (guint s = 0; s < SHELLS; s++) {
		struct cnproc_event ev = {.type = CNPROC_EV_EXEC};
		struct lin_proc_info info;
		pid_t pid = FIRST_SHELL_PID + (pid_t)s;

		memset(&info, 0, sizeof(info));
		set_exe(w, "/usr/bin/bash");
		info.read_ok = PROC_READ_ALL;
		info.cmdline_len = set_cmdline(w, "-bash");
		info.cmdline = w->cmdline;
		info.exe = w->exe;
		g_strlcpy(info.stat.comm, w->comm, sizeof(info.stat.comm));
		info.stat.pid = pid;
		info.stat.ppid = 1;
		info.stat.start_ticks = ++w->ticks;
		info.status.tgid = pid;
		/* A user's login shells: their children run as them. */
		info.status.ruid = info.status.euid = 1000;
		info.status.rgid = info.status.egid = 1000;
		ev.pid = ev.tgid = pid;
		ev.timestamp_ns = (w->clock_ns += 1000);
		tracker_apply_event(t, &ev, &info);
	}
}

/* One process: FORK from a shell, EXEC, EXIT 0. */
static void run_process(struct tracker *t, struct workload *w, guint i)
{
	pid_t shell = FIRST_SHELL_PID + (pid_t)(i % SHELLS);
	pid_t pid = next_pid(w);
	guint64 start = (w->ticks += 1);
	struct cnproc_event ev;
	struct lin_proc_info info;

	memset(&ev, 0, sizeof(ev));
	memset(&info, 0, sizeof(info));
	ev.type = CNPROC_EV_FORK;
	ev.pid = ev.tgid = pid;
	ev.u.fork.parent_pid = ev.u.fork.parent_tgid = shell;
	ev.timestamp_ns = (w->clock_ns += 1000);
	info.read_ok = PROC_READ_STAT;
	info.stat.pid = pid;
	info.stat.ppid = shell;
	info.stat.state = 'R';
	info.stat.start_ticks = start;
	g_strlcpy(info.stat.comm, "bash", sizeof(info.stat.comm));
	tracker_apply_event(t, &ev, &info);

	describe_process(w, i, &info);
	info.stat.pid = pid;
	info.stat.ppid = shell;
	info.stat.start_ticks = start;
	info.status.tgid = pid;
	memset(&ev, 0, sizeof(ev));
	ev.type = CNPROC_EV_EXEC;
	ev.pid = ev.tgid = pid;
	ev.timestamp_ns = (w->clock_ns += 1000);
	tracker_apply_event(t, &ev, &info);

	memset(&info, 0, sizeof(info));
	memset(&ev, 0, sizeof(ev));
	ev.type = CNPROC_EV_EXIT;
	ev.pid = ev.tgid = pid;
	ev.u.exit.code = 0;
	ev.u.exit.signal = SIGCHLD;
	ev.timestamp_ns = (w->clock_ns += 1000);
	tracker_apply_event(t, &ev, &info);
}

/* Feeds processes through a fresh tracker with the given retention limit
 * and prints the figures. */
static void run(int proc_fd, guint processes, guint pid_max, guint max_exited)
{
	struct workload w = {
	    .processes = processes,
	    .pid_max = pid_max,
	    .clock_ns = monotonic_ns(),
	    .ticks = 1000,
	    .next_pid = FIRST_SHELL_PID + SHELLS,
	};
	struct tracker_config cfg;
	struct tracker_stats stats;
	struct tracker *t;
	guint64 rss_before, rss_after, started, elapsed;
	guint64 retained, events;
	double rss_per_retained;

	tracker_config_init_system(&cfg, proc_fd);
	cfg.max_exited = max_exited;
	t = tracker_new(&cfg);
	add_shells(t, &w);

	rss_before = vm_rss_bytes();
	started = monotonic_ns();
	for (guint i = 0; i < processes; i++)
		run_process(t, &w, i);
	elapsed = monotonic_ns() - started;
	rss_after = vm_rss_bytes();

	tracker_get_stats(t, &stats);
	retained = stats.processes_live + stats.processes_exited;
	events = 3ull * processes;

	printf("\n-- %u processes, max_exited=%u, pid_max=%u --\n", processes, max_exited, pid_max);
	printf("%-44s %" G_GUINT64_FORMAT " live, %" G_GUINT64_FORMAT " exited, %" G_GUINT64_FORMAT
	       " forgotten\n",
	       "processes retained:", stats.processes_live, stats.processes_exited,
	       stats.processes_forgotten);
	printf("%-44s %" G_GUINT64_FORMAT " (fork %" G_GUINT64_FORMAT ", exec %" G_GUINT64_FORMAT
	       ", exit %" G_GUINT64_FORMAT "), cmdline_missed %" G_GUINT64_FORMAT "\n",
	       "events applied:", stats.events_fork + stats.events_exec + stats.events_exit,
	       stats.events_fork, stats.events_exec, stats.events_exit, stats.cmdline_missed);
	printf("%-44s %.1f ns/event, %.2f us/process, %.0f events/s\n",
	       "time:", (double)elapsed / (double)events, (double)elapsed / 1000.0 / processes,
	       (double)events * 1e9 / (double)elapsed);
	printf("%-44s %" G_GUINT64_FORMAT " bytes = %.1f bytes/process\n",
	       "record_bytes (records + indexes):", stats.record_bytes,
	       (double)stats.record_bytes / (double)retained);
	printf("%-44s %" G_GUINT64_FORMAT " bytes in %" G_GUINT64_FORMAT
	       " strings = %.1f bytes/process\n",
	       "string_bytes (interned, unique):", stats.string_bytes, stats.strings,
	       (double)stats.string_bytes / (double)retained);
	printf("%-44s %.1f bytes/process\n", "record_bytes + string_bytes:",
	       (double)(stats.record_bytes + stats.string_bytes) / (double)retained);
	rss_per_retained = ((double)rss_after - (double)rss_before) / (double)retained;
	printf("%-44s %+.1f MiB = %.1f bytes/process (of %u fed)\n",
	       "VmRSS growth (malloc overhead included):",
	       ((double)rss_after - (double)rss_before) / 1048576.0,
	       ((double)rss_after - (double)rss_before) / (double)processes, processes);
	printf("%-44s %.1f bytes/process\n",
	       "VmRSS growth per retained process:", rss_per_retained);
	/* All in: the records, their indexes, histories and strings, and
	 * what malloc adds, as the kernel counts it. */
	printf("%-44s %s (%.1f bytes per retained process, VmRSS growth, vs <= %.0f)\n",
	       "goal (all in):", rss_per_retained <= GOAL_BYTES ? "met" : "MISSED",
	       rss_per_retained, GOAL_BYTES);
	fflush(stdout);
	tracker_free(t);
}

int main(int argc, char **argv)
{
	guint processes = argc > 1 ? (guint)strtoul(argv[1], NULL, 10)
	                           : env_or("BENCH_MEMORY_PROCESSES", DEFAULT_PROCESSES);
	guint pid_max = env_or("BENCH_PID_MAX", DEFAULT_PID_MAX);
	int proc_fd;

	if (processes == 0 || pid_max < FIRST_SHELL_PID + SHELLS + 100) {
		fprintf(stderr, "usage: %s [PROCESSES] (BENCH_PID_MAX >= %d)\n", argv[0],
		        FIRST_SHELL_PID + SHELLS + 100);
		return 2;
	}
	/* The tracker wants a proc root; the synthetic events never use it. */
	proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (proc_fd < 0) {
		fprintf(stderr, "bench_memory: /proc: %s\n", strerror(errno));
		return 1;
	}

	printf("== bench_memory: synthetic processes through tracker_apply_event() ==\n");
	printf("sizeof(struct lin_process) = %zu bytes\n", sizeof(struct lin_process));
	fflush(stdout);
	/* Each run in its own child, so the second starts from a fresh heap
	 * and its VmRSS growth is its own. */
	for (int r = 0; r < 2; r++) {
		guint max_exited = r == 0 ? processes : MAX(processes / 10, 1u);
		pid_t child = fork();
		int status;

		if (child < 0) {
			fprintf(stderr, "bench_memory: fork: %s\n", strerror(errno));
			return 1;
		}
		if (child == 0) {
			run(proc_fd, processes, pid_max, max_exited);
			_exit(0);
		}
		while (waitpid(child, &status, 0) < 0)
			if (errno != EINTR)
				return 1;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			fprintf(stderr, "bench_memory: run %d failed (status 0x%x)\n", r, status);
			return 1;
		}
	}
	close(proc_fd);
	return 0;
}
