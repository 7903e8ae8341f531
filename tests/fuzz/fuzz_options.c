// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the command line (src/options.c): the input, split at
 * NUL bytes, is argv after "lineagefs". Whatever is typed, parsing ends (an
 * error line, never a crash or a leak), and what it accepts is in range:
 * every number within its option's bounds, every --env name a variable name.
 * The error lines go to /dev/null unless FUZZ_OPTIONS_STDERR is set.
 */
#include "config.h"

#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "journal_write.h"
#include "options.h"
#include "tracker.h"

#define FUZZ_ARGS_MAX 32

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* stderr while parsing: /dev/null, so that each rejected input's error
 * line stays out of the fuzzer's log (-1: not redirected). */
static int quiet_fd = -1;
static int stderr_fd = -1;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	/* To see the lines (and a sanitizer's report of a crash in the
	 * parser), run with FUZZ_OPTIONS_STDERR=1. */
	if (getenv("FUZZ_OPTIONS_STDERR") == NULL) {
		quiet_fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
		stderr_fd = fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3);
	}
	return 0;
}

static void quiet(gboolean on)
{
	if (quiet_fd >= 0 && stderr_fd >= 0)
		dup2(on ? quiet_fd : stderr_fd, STDERR_FILENO);
}

static void check_accepted(const struct lin_options *opts)
{
	if (opts->rcvbuf < 4096 || opts->rcvbuf > 1024u * 1024 * 1024)
		abort();
	if (opts->max_cmdline < LIN_CMDLINE_MIN_CAP || opts->max_cmdline > LIN_CMDLINE_KERNEL_MAX)
		abort();
	if (opts->journal_max < JOURNAL_MIN_MAX || opts->journal_sync_ms > 3600u * 1000)
		abort();
	for (char **name = opts->env_names; name && *name; name++) {
		if ((*name)[0] == '\0' || g_ascii_isdigit((*name)[0]))
			abort();
		for (const char *c = *name; *c; c++)
			if (!g_ascii_isalnum(*c) && *c != '_')
				abort();
	}
	if ((opts->replay && opts->replay[0] == '\0') ||
	    (opts->journal_dir && opts->journal_dir[0] == '\0'))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *copy = g_malloc(size + 1);
	char *argv[FUZZ_ARGS_MAX + 1];
	struct fuse_args args = FUSE_ARGS_INIT(0, NULL);
	struct lin_options opts;
	gboolean accepted;
	int argc = 0;

	memcpy(copy, data, size);
	copy[size] = '\0';
	argv[argc++] = (char *)"lineagefs";
	for (size_t at = 0; at <= size && argc < FUZZ_ARGS_MAX; at += strlen(copy + at) + 1)
		argv[argc++] = copy + at;
	argv[argc] = NULL;

	lin_options_init(&opts);
	quiet(TRUE);
	accepted = lin_options_parse(argc, argv, &opts, &args);
	quiet(FALSE);
	if (accepted)
		check_accepted(&opts);
	lin_options_clear(&opts);
	fuse_opt_free_args(&args);
	g_free(copy);
	return 0;
}
