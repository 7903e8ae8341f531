/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's command line: every lineagefs option, in its --name=VALUE,
 * --name VALUE and -o name=VALUE spellings, checked for range and form with
 * one error line per mistake; what is not lineagefs's is left for libfuse.
 * Also --help and --version.
 */
#ifndef LINEAGEFS_OPTIONS_H
#define LINEAGEFS_OPTIONS_H

#include <fuse_lowlevel.h>
#include <glib.h>

#include "fs.h"

/* Idle FUSE workers kept when -o max_idle_threads is not given: libfuse's
 * own default keeps every thread ever started. */
#define LIN_DEFAULT_IDLE_THREADS 10
/* Exit status for a command line error, as getopt-style tools do. */
#define LIN_EXIT_USAGE 2

struct lin_options {
	guint max_exited;
	guint rcvbuf;
	guint max_cmdline;
	guint max_string_memory;
	gboolean metrics;               /* --metrics: record latencies and FUSE timings */
	char *mountpoint;               /* as given on the command line; g_malloc'd */
	char *mount_namespace;          /* --mount-namespace=PATH; g_malloc'd */
	char *replay;                   /* --replay=PATH; g_malloc'd, NULL: the live system */
	guint64 until_ns;               /* --until=TIME as CLOCK_REALTIME ns; 0: not given */
	struct fs_access_config access; /* -o allow_other, gid=, hidepid= */
	char **env_names;               /* --env, NULL-terminated; NULL when not given */
	gboolean hash_exe;
	char *journal_dir; /* --journal=DIR; g_malloc'd, NULL: no journal */
	guint64 journal_max;
	guint journal_sync_ms;
	gboolean show_help;
	gboolean show_version;
	gboolean reported; /* an error line was printed already */
};

/* opts with every default. */
void lin_options_init(struct lin_options *opts);

/*
 * Parses argv: lineagefs's options into opts, the rest (FUSE's) into args.
 * Returns FALSE on a bad command line, after printing its error line when
 * opts->reported; otherwise libfuse said why (through fuse_log()).
 */
gboolean lin_options_parse(int argc, char **argv, struct lin_options *opts, struct fuse_args *args);

/* Frees what opts holds. */
void lin_options_clear(struct lin_options *opts);

void lin_print_help(void);

/* The version, then the optional parts built in (meson: lineagefs_features). */
void lin_print_version(void);

#endif
