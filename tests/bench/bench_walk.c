/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Benchmark helper: times the reads a forensic user's scripts make, on
 * lineagefs and on /proc alike, so the two can be compared in one run.
 * Usage: bench_walk REPS TARGET... where each TARGET is one of
 *   pass:ROOT:LISTFILE     for every name in LISTFILE (one a line): stat
 *                          ROOT/name, open/read/close ROOT/name/cmdline,
 *                          readlink ROOT/name/exe
 *   stat:ROOT:LISTFILE, cmdline:ROOT:LISTFILE, exe:ROOT:LISTFILE
 *                          one of the three steps of pass alone
 *   readdir:DIR            opendir/readdir everything/closedir
 *   chain-lfs:MOUNT:NAME   follow MOUNT/NAME/parent links until one is missing
 *   chain-proc:ROOT:PID    follow PPid: of ROOT/PID/status until it is 0
 *   read:FILE              open/read everything/close
 * One warm-up repetition is run and discarded, then REPS timed ones; the
 * targets take turns within each repetition so that load from elsewhere on
 * the machine hits them alike. Prints one line per target:
 *   TARGET reps=R items=I errors=E median_us=M min_us=m max_us=x
 * where items counts names, entries, levels or bytes per repetition and
 * errors the failed stat/open/read calls over all timed repetitions.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Ancestry chains longer than this are a loop (or a bug worth seeing). */
#define MAX_CHAIN 100000
#define MAX_REPS  100000

/* The steps of a pass. */
enum {
	STEP_STAT = 1 << 0,
	STEP_CMDLINE = 1 << 1,
	STEP_EXE = 1 << 2,
	STEP_ALL = 7,
};

enum target_kind {
	TARGET_PASS,
	TARGET_READDIR,
	TARGET_CHAIN_LFS,
	TARGET_CHAIN_PROC,
	TARGET_READ,
};

struct target {
	const char *spec;
	enum target_kind kind;
	char *path;         /* root, directory or file */
	char *arg;          /* list file, leaf name or leaf pid */
	int root_fd;        /* for pass and chains */
	unsigned int steps; /* STEP_* of a pass */
	char **names;
	size_t n_names;
	double *samples_us;
	unsigned long items, errors;
};

static char io_buf[1 << 16];

static double now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "bench_walk: %s: %s\n", what, detail);
	exit(1);
}

static void load_names(struct target *t)
{
	FILE *f = fopen(t->arg, "r");
	char line[256];
	size_t cap = 0;

	if (!f)
		die(t->arg, strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (!line[0])
			continue;
		if (t->n_names == cap) {
			cap = cap ? cap * 2 : 1024;
			t->names = realloc(t->names, cap * sizeof(*t->names));
			if (!t->names)
				die("realloc", strerror(errno));
		}
		t->names[t->n_names++] = strdup(line);
	}
	fclose(f);
}

static const struct {
	const char *name;
	enum target_kind kind;
	unsigned int steps;
} kinds[] = {
    {"pass", TARGET_PASS, STEP_ALL},        {"stat", TARGET_PASS, STEP_STAT},
    {"cmdline", TARGET_PASS, STEP_CMDLINE}, {"exe", TARGET_PASS, STEP_EXE},
    {"readdir", TARGET_READDIR, 0},         {"chain-lfs", TARGET_CHAIN_LFS, 0},
    {"chain-proc", TARGET_CHAIN_PROC, 0},   {"read", TARGET_READ, 0},
};

static void parse_target(struct target *t, const char *spec)
{
	char *copy = strdup(spec);
	char *colon = strchr(copy, ':');
	size_t i;

	t->spec = spec;
	t->root_fd = -1;
	if (!colon)
		die(spec, "expected KIND:ARGS");
	*colon = '\0';
	t->path = colon + 1;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(copy, kinds[i].name) == 0)
			break;
	if (i == sizeof(kinds) / sizeof(kinds[0]))
		die(spec, "unknown kind");
	t->kind = kinds[i].kind;
	t->steps = kinds[i].steps;

	if (t->kind == TARGET_PASS || t->kind == TARGET_CHAIN_LFS || t->kind == TARGET_CHAIN_PROC) {
		colon = strchr(t->path, ':');
		if (!colon)
			die(spec, "expected KIND:ROOT:ARG");
		*colon = '\0';
		t->arg = colon + 1;
		t->root_fd = open(t->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (t->root_fd < 0)
			die(t->path, strerror(errno));
	}
	if (t->kind == TARGET_PASS)
		load_names(t);
}

/* Reads a whole file; returns the byte count or -1. */
static long read_all_at(int dir_fd, const char *path)
{
	long total = 0;
	ssize_t n;
	int fd = openat(dir_fd, path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, io_buf, sizeof(io_buf))) > 0)
		total += n;
	close(fd);
	return n < 0 ? -1 : total;
}

static void run_pass(struct target *t)
{
	char path[PATH_MAX], link[PATH_MAX];
	struct stat st;

	for (size_t i = 0; i < t->n_names; i++) {
		if ((t->steps & STEP_STAT) && fstatat(t->root_fd, t->names[i], &st, 0) < 0) {
			t->errors++;
			continue;
		}
		if (t->steps & STEP_CMDLINE) {
			snprintf(path, sizeof(path), "%s/cmdline", t->names[i]);
			if (read_all_at(t->root_fd, path) < 0)
				t->errors++;
		}
		if (t->steps & STEP_EXE) {
			snprintf(path, sizeof(path), "%s/exe", t->names[i]);
			/* Kernel threads have no exe, in /proc and in lineagefs
			 * alike. */
			(void)readlinkat(t->root_fd, path, link, sizeof(link));
		}
	}
	t->items = t->n_names;
}

static void run_readdir(struct target *t)
{
	unsigned long entries = 0;
	DIR *dir = opendir(t->path);

	if (!dir) {
		t->errors++;
		return;
	}
	while (readdir(dir))
		entries++;
	closedir(dir);
	t->items = entries;
}

static void run_chain_lfs(struct target *t)
{
	char name[NAME_MAX + 1], path[PATH_MAX], link[PATH_MAX];
	unsigned long levels = 0;
	ssize_t len;

	snprintf(name, sizeof(name), "%s", t->arg);
	while (levels < MAX_CHAIN) {
		snprintf(path, sizeof(path), "%s/parent", name);
		len = readlinkat(t->root_fd, path, link, sizeof(link) - 1);
		if (len < 0)
			break;
		link[len] = '\0';
		/* "../<ppid>-<pstart>" */
		if (strncmp(link, "../", 3) != 0 || (size_t)len - 3 >= sizeof(name)) {
			t->errors++;
			break;
		}
		memcpy(name, link + 3, (size_t)len - 3 + 1);
		levels++;
	}
	t->items = levels;
}

static void run_chain_proc(struct target *t)
{
	char path[64];
	unsigned long levels = 0;
	long pid = strtol(t->arg, NULL, 10);

	while (levels < MAX_CHAIN && pid > 0) {
		long len;
		char *ppid;

		snprintf(path, sizeof(path), "%ld/status", pid);
		len = read_all_at(t->root_fd, path);
		if (len < 0 || (size_t)len >= sizeof(io_buf)) {
			t->errors++;
			break;
		}
		io_buf[len] = '\0';
		ppid = strstr(io_buf, "\nPPid:");
		if (!ppid) {
			t->errors++;
			break;
		}
		pid = strtol(ppid + 6, NULL, 10);
		if (pid > 0)
			levels++;
	}
	t->items = levels;
}

static void run_read(struct target *t)
{
	long len = read_all_at(AT_FDCWD, t->path);

	if (len < 0)
		t->errors++;
	else
		t->items = (unsigned long)len;
}

static void run_once(struct target *t)
{
	switch (t->kind) {
	case TARGET_PASS:
		run_pass(t);
		break;
	case TARGET_READDIR:
		run_readdir(t);
		break;
	case TARGET_CHAIN_LFS:
		run_chain_lfs(t);
		break;
	case TARGET_CHAIN_PROC:
		run_chain_proc(t);
		break;
	case TARGET_READ:
		run_read(t);
		break;
	}
}

static int compare_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	long reps = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
	int n_targets = argc - 2;
	struct target *targets;

	if (reps < 1 || reps > MAX_REPS || n_targets < 1) {
		fprintf(stderr, "usage: %s REPS TARGET...\n", argv[0]);
		return 2;
	}
	targets = calloc((size_t)n_targets, sizeof(*targets));
	if (!targets)
		die("calloc", strerror(errno));
	for (int i = 0; i < n_targets; i++) {
		parse_target(&targets[i], argv[i + 2]);
		targets[i].samples_us = calloc((size_t)reps, sizeof(double));
		if (!targets[i].samples_us)
			die("calloc", strerror(errno));
	}

	/* Warm-up: fills the dentry, inode and page caches; not counted. */
	for (int i = 0; i < n_targets; i++)
		run_once(&targets[i]);
	for (int i = 0; i < n_targets; i++)
		targets[i].errors = 0;

	for (long r = 0; r < reps; r++) {
		for (int i = 0; i < n_targets; i++) {
			double started = now_us();

			run_once(&targets[i]);
			targets[i].samples_us[r] = now_us() - started;
		}
	}

	for (int i = 0; i < n_targets; i++) {
		struct target *t = &targets[i];

		qsort(t->samples_us, (size_t)reps, sizeof(double), compare_double);
		printf("%s reps=%ld items=%lu errors=%lu median_us=%.1f min_us=%.1f "
		       "max_us=%.1f\n",
		       t->spec, reps, t->items, t->errors, t->samples_us[reps / 2],
		       t->samples_us[0], t->samples_us[reps - 1]);
	}
	return 0;
}
