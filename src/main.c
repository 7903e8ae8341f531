/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * lineagefs: the daemon's entry point. Parses the command line (lineagefs
 * options plus every standard FUSE option), checks what a user can get wrong
 * before touching anything (mountpoint, /dev/fuse, /proc, the proc
 * connector), then wires the pieces in the one order that loses no event:
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
#include <grp.h>
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
#include "tracker.h"

#define LIN_DEFAULT_MAX_EXITED 100000u
#define LIN_DEFAULT_RCVBUF     (8u * 1024 * 1024)
/* Whole command lines by default: the kernel's own limit. */
#define LIN_DEFAULT_MAX_CMDLINE LIN_CMDLINE_KERNEL_MAX
/* Interned strings kept at most. A retained process costs tens of bytes
 * of strings on a common workload (they are shared); this bounds a
 * hostile one, many huge unique command lines, to the budget. */
#define LIN_DEFAULT_MAX_STRING_MEMORY (256u * 1024 * 1024)
/* See lin_raise_fd_limit(). */
#define LIN_FD_LIMIT_WANTED 65536
/* Below a page the kernel rounds up anyway; tests use small buffers to
 * force an overflow. */
#define LIN_MIN_RCVBUF 4096u
/* The kernel caps a socket buffer at INT_MAX / 2 (it doubles the value). */
#define LIN_MAX_RCVBUF (1024u * 1024 * 1024)
/* Idle FUSE workers kept when -o max_idle_threads is not given: libfuse's
 * own default keeps every thread ever started. */
#define LIN_DEFAULT_IDLE_THREADS 10
/* Exit status for a command line error, as getopt-style tools do. */
#define LIN_EXIT_USAGE 2
/* 1 PiB: larger is surely a typo. */
#define LIN_MAX_JOURNAL_MAX     (1024ull * 1024 * 1024 * 1024 * 1024)
#define LIN_MAX_JOURNAL_SYNC_MS (3600u * 1000)

/* One numeric option: its spellings, its range, and how errors name it. */
struct lin_numeric_option {
	const char *long_name;  /* "--max-exited" */
	const char *mount_name; /* "max_exited" in -o lists */
	guint64 min, max;
	gboolean size_suffix; /* K, M, G multiply by 1024, 1024^2, 1024^3 */
	const char *expected; /* range as shown in error messages */
	size_t offset;        /* of the guint (guint64 when wide) in struct lin_options */
	gboolean wide;
};

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

/* The numeric ones first: they index lin_numeric_options[]. */
enum {
	LIN_KEY_MAX_EXITED,
	LIN_KEY_RCVBUF,
	LIN_KEY_MAX_CMDLINE,
	LIN_KEY_MAX_STRING_MEMORY,
	LIN_KEY_JOURNAL_MAX,
	LIN_KEY_JOURNAL_SYNC,
	LIN_KEY_JOURNAL,
	LIN_KEY_HELP,
	LIN_KEY_VERSION,
	LIN_KEY_ENV,
	LIN_KEY_ENV_BARE,
	LIN_KEY_HASH_EXE,
	LIN_KEY_METRICS,
	LIN_KEY_ALLOW_OTHER,
	LIN_KEY_GID,
	LIN_KEY_HIDEPID,
	LIN_KEY_MOUNT_NAMESPACE,
	LIN_KEY_REPLAY,
	LIN_KEY_UNTIL,
};

/* Names the environ filter can track (proc_context.c). */
#define LIN_ENV_NAMES_MAX 64

/* Options that take a word rather than a number, for "--name value". */
static const char *const lin_word_options[] = {"--metrics", "--journal"};

static const struct lin_numeric_option lin_numeric_options[] = {
    [LIN_KEY_MAX_EXITED] =
        {
            .long_name = "--max-exited",
            .mount_name = "max_exited",
            .min = 0,
            .max = G_MAXUINT32,
            .expected = "0..4294967295",
            .offset = G_STRUCT_OFFSET(struct lin_options, max_exited),
        },
    [LIN_KEY_RCVBUF] =
        {
            .long_name = "--rcvbuf",
            .mount_name = "rcvbuf",
            .min = LIN_MIN_RCVBUF,
            .max = LIN_MAX_RCVBUF,
            .size_suffix = TRUE,
            .expected = "4096..1073741824 bytes, or with a K, M or G suffix",
            .offset = G_STRUCT_OFFSET(struct lin_options, rcvbuf),
        },
    [LIN_KEY_MAX_CMDLINE] =
        {
            .long_name = "--max-cmdline",
            .mount_name = "max_cmdline",
            .min = LIN_CMDLINE_MIN_CAP,
            .max = LIN_CMDLINE_KERNEL_MAX,
            .size_suffix = TRUE,
            .expected = "64..6291456 bytes, or with a K or M suffix",
            .offset = G_STRUCT_OFFSET(struct lin_options, max_cmdline),
        },
    [LIN_KEY_MAX_STRING_MEMORY] =
        {
            .long_name = "--max-string-memory",
            .mount_name = "max_string_memory",
            .min = 0,
            .max = G_MAXUINT32,
            .size_suffix = TRUE,
            .expected = "0 (no budget) to 4294967295 bytes, or with a K, M or G suffix",
            .offset = G_STRUCT_OFFSET(struct lin_options, max_string_memory),
        },
    [LIN_KEY_JOURNAL_MAX] =
        {
            .long_name = "--journal-max",
            .mount_name = "journal_max",
            .min = JOURNAL_MIN_MAX,
            .max = LIN_MAX_JOURNAL_MAX,
            .size_suffix = TRUE,
            .expected = "1M..1048576G bytes, with a K, M or G suffix",
            .offset = G_STRUCT_OFFSET(struct lin_options, journal_max),
            .wide = TRUE,
        },
    [LIN_KEY_JOURNAL_SYNC] =
        {
            .long_name = "--journal-sync",
            .mount_name = "journal_sync",
            .min = 0,
            .max = LIN_MAX_JOURNAL_SYNC_MS,
            .expected = "0..3600000 milliseconds",
            .offset = G_STRUCT_OFFSET(struct lin_options, journal_sync_ms),
        },
};

static const struct fuse_opt lin_fuse_opts[] = {
    FUSE_OPT_KEY("-h", LIN_KEY_HELP),
    FUSE_OPT_KEY("--help", LIN_KEY_HELP),
    FUSE_OPT_KEY("-V", LIN_KEY_VERSION),
    FUSE_OPT_KEY("--version", LIN_KEY_VERSION),
    FUSE_OPT_KEY("--max-exited=", LIN_KEY_MAX_EXITED),
    FUSE_OPT_KEY("max_exited=", LIN_KEY_MAX_EXITED),
    FUSE_OPT_KEY("--rcvbuf=", LIN_KEY_RCVBUF),
    FUSE_OPT_KEY("rcvbuf=", LIN_KEY_RCVBUF),
    FUSE_OPT_KEY("--env=", LIN_KEY_ENV),
    FUSE_OPT_KEY("--env", LIN_KEY_ENV_BARE),
    FUSE_OPT_KEY("--hash-exe", LIN_KEY_HASH_EXE),
    FUSE_OPT_KEY("hash_exe", LIN_KEY_HASH_EXE),
    FUSE_OPT_KEY("--max-cmdline=", LIN_KEY_MAX_CMDLINE),
    FUSE_OPT_KEY("max_cmdline=", LIN_KEY_MAX_CMDLINE),
    FUSE_OPT_KEY("--max-string-memory=", LIN_KEY_MAX_STRING_MEMORY),
    FUSE_OPT_KEY("max_string_memory=", LIN_KEY_MAX_STRING_MEMORY),
    FUSE_OPT_KEY("--metrics=", LIN_KEY_METRICS),
    FUSE_OPT_KEY("metrics=", LIN_KEY_METRICS),
    FUSE_OPT_KEY("allow_other", LIN_KEY_ALLOW_OTHER),
    FUSE_OPT_KEY("gid=", LIN_KEY_GID),
    FUSE_OPT_KEY("hidepid=", LIN_KEY_HIDEPID),
    FUSE_OPT_KEY("--mount-namespace=", LIN_KEY_MOUNT_NAMESPACE),
    FUSE_OPT_KEY("mount_namespace=", LIN_KEY_MOUNT_NAMESPACE),
    FUSE_OPT_KEY("--journal=", LIN_KEY_JOURNAL),
    FUSE_OPT_KEY("journal=", LIN_KEY_JOURNAL),
    FUSE_OPT_KEY("--journal-max=", LIN_KEY_JOURNAL_MAX),
    FUSE_OPT_KEY("journal_max=", LIN_KEY_JOURNAL_MAX),
    FUSE_OPT_KEY("--journal-sync=", LIN_KEY_JOURNAL_SYNC),
    FUSE_OPT_KEY("journal_sync=", LIN_KEY_JOURNAL_SYNC),
    FUSE_OPT_KEY("--replay=", LIN_KEY_REPLAY),
    FUSE_OPT_KEY("replay=", LIN_KEY_REPLAY),
    FUSE_OPT_KEY("--until=", LIN_KEY_UNTIL),
    FUSE_OPT_KEY("until=", LIN_KEY_UNTIL),
    FUSE_OPT_END,
};

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

/*
 * Parses an unsigned decimal, with an optional binary size suffix. strtoull()
 * alone would accept " 5", "-1" (as 2^64-1) and "5abc", so the text is
 * checked around it. Prints the error line and returns FALSE when invalid.
 */
static gboolean lin_parse_numeric(const struct lin_numeric_option *option, const char *name,
                                  const char *text, guint64 *out)
{
	unsigned long long value;
	unsigned shift = 0;
	char *end;

	if (text[0] == '\0') {
		fprintf(stderr, "lineagefs: %s: missing value (expected %s)\n", name,
		        option->expected);
		return FALSE;
	}
	if (text[0] == '-' && g_ascii_isdigit(text[1])) {
		fprintf(stderr, "lineagefs: %s: '%s' is negative (expected %s)\n", name, text,
		        option->expected);
		return FALSE;
	}
	if (!g_ascii_isdigit(text[0]))
		goto not_a_number;

	errno = 0;
	value = strtoull(text, &end, 10);
	if (option->size_suffix && *end != '\0' && end[1] == '\0') {
		switch (g_ascii_toupper(*end)) {
		case 'K':
			shift = 10;
			break;
		case 'M':
			shift = 20;
			break;
		case 'G':
			shift = 30;
			break;
		default:
			goto not_a_number;
		}
		end++;
	}
	if (*end != '\0')
		goto not_a_number;
	if (errno == ERANGE || value > (option->max >> shift) || (value << shift) < option->min) {
		fprintf(stderr, "lineagefs: %s: '%s' is out of range (expected %s)\n", name, text,
		        option->expected);
		return FALSE;
	}
	*out = (guint64)value << shift;
	return TRUE;

not_a_number:
	fprintf(stderr, "lineagefs: %s: '%s' is not a number (expected %s)\n", name, text,
	        option->expected);
	return FALSE;
}

/*
 * --env=NAME,...: environment variable names, as a shell or env(1) would
 * accept them. Prints the error line and returns FALSE when invalid.
 */
static gboolean lin_parse_env_names(const char *text, char ***out)
{
	g_auto(GStrv) names = g_strsplit(text, ",", -1);
	guint count = g_strv_length(names);

	if (text[0] == '\0') {
		fprintf(stderr, "lineagefs: --env: missing value (expected NAME[,NAME...], "
		                "for example --env=LD_PRELOAD,SSH_CONNECTION)\n");
		return FALSE;
	}
	if (count > LIN_ENV_NAMES_MAX) {
		fprintf(stderr, "lineagefs: --env: %u names, at most %d\n", count,
		        LIN_ENV_NAMES_MAX);
		return FALSE;
	}
	for (guint i = 0; i < count; i++) {
		const char *name = names[i];
		gboolean ok = name[0] != '\0' && !g_ascii_isdigit(name[0]);

		for (const char *c = name; ok && *c; c++)
			ok = g_ascii_isalnum(*c) || *c == '_';
		if (!ok) {
			fprintf(stderr,
			        "lineagefs: --env: '%s' is not a variable name (letters, digits "
			        "and '_', not starting with a digit; names separated by ',')\n",
			        name);
			return FALSE;
		}
		for (guint j = 0; j < i; j++) {
			if (strcmp(names[j], name) == 0) {
				fprintf(stderr, "lineagefs: --env: '%s' is given twice\n", name);
				return FALSE;
			}
		}
	}
	g_strfreev(*out);
	*out = g_steal_pointer(&names);
	return TRUE;
}

/* -o gid=: a group number or name. */
static gboolean lin_parse_gid(const char *text, struct fs_access_config *access)
{
	struct group *group;
	char *end;
	unsigned long value;

	if (g_ascii_isdigit(text[0])) {
		errno = 0;
		value = strtoul(text, &end, 10);
		if (*end == '\0' && errno == 0 && value < (gid_t)-1) {
			access->has_gid = TRUE;
			access->gid = (gid_t)value;
			return TRUE;
		}
	} else if (text[0] != '\0' && (group = getgrnam(text)) != NULL) {
		access->has_gid = TRUE;
		access->gid = group->gr_gid;
		return TRUE;
	}
	fprintf(stderr,
	        "lineagefs: -o gid: '%s' is not a group (expected a group number or name)\n", text);
	return FALSE;
}

/* -o hidepid=: procfs's names and numbers. */
static gboolean lin_parse_hidepid(const char *text, struct fs_access_config *access)
{
	if (strcmp(text, "off") == 0 || strcmp(text, "0") == 0)
		access->hidepid = FS_HIDEPID_OFF;
	else if (strcmp(text, "noaccess") == 0 || strcmp(text, "1") == 0)
		access->hidepid = FS_HIDEPID_NOACCESS;
	else if (strcmp(text, "invisible") == 0 || strcmp(text, "2") == 0)
		access->hidepid = FS_HIDEPID_INVISIBLE;
	else {
		fprintf(stderr,
		        "lineagefs: -o hidepid: '%s' is not a mode (expected off, noaccess or "
		        "invisible)\n",
		        text);
		return FALSE;
	}
	return TRUE;
}

static int lin_opt_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct lin_options *opts = data;
	const struct lin_numeric_option *option;
	g_autofree char *name = NULL;
	const char *value;
	guint64 number;

	(void)outargs;
	switch (key) {
	case LIN_KEY_HELP:
		opts->show_help = TRUE;
		return 0;
	case LIN_KEY_VERSION:
		opts->show_version = TRUE;
		return 0;
	case LIN_KEY_HASH_EXE:
		opts->hash_exe = TRUE;
		return 0;
	case LIN_KEY_ENV_BARE:
		fprintf(stderr, "lineagefs: --env: missing value (expected --env=NAME[,NAME...], "
		                "for example --env=LD_PRELOAD,SSH_CONNECTION)\n");
		opts->reported = TRUE;
		return -1;
	case LIN_KEY_ENV:
		if (!lin_parse_env_names(strchr(arg, '=') + 1, &opts->env_names)) {
			opts->reported = TRUE;
			return -1;
		}
		return 0;
	case LIN_KEY_METRICS:
		value = strchr(arg, '=') + 1;
		if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0) {
			opts->metrics = strcmp(value, "on") == 0;
			return 0;
		}
		fprintf(stderr, "lineagefs: %s: '%s' is neither on nor off\n",
		        g_str_has_prefix(arg, "--") ? "--metrics" : "-o metrics", value);
		opts->reported = TRUE;
		return -1;
	case LIN_KEY_ALLOW_OTHER:
		opts->access.allow_other = TRUE;
		return 1; /* for the kernel too */
	case LIN_KEY_GID:
		if (!lin_parse_gid(strchr(arg, '=') + 1, &opts->access)) {
			opts->reported = TRUE;
			return -1;
		}
		return 0;
	case LIN_KEY_MOUNT_NAMESPACE:
		g_free(opts->mount_namespace);
		opts->mount_namespace = g_strdup(strchr(arg, '=') + 1);
		return 0;
	case LIN_KEY_REPLAY:
		value = strchr(arg, '=') + 1;
		if (value[0] == '\0') {
			fprintf(stderr, "lineagefs: --replay: missing path (give --replay=DIR or "
			                "--replay=SEGMENT.jsonl)\n");
			opts->reported = TRUE;
			return -1;
		}
		g_free(opts->replay);
		opts->replay = g_strdup(value);
		return 0;
	case LIN_KEY_UNTIL: {
		g_autoptr(GError) error = NULL;

		if (!journal_parse_until(strchr(arg, '=') + 1, &opts->until_ns, &error)) {
			fprintf(stderr, "lineagefs: %s\n", error->message);
			opts->reported = TRUE;
			return -1;
		}
		/* 0 means "not given": the epoch itself is one ns later. */
		opts->until_ns = MAX(opts->until_ns, 1);
		return 0;
	}
	case LIN_KEY_HIDEPID:
		if (!lin_parse_hidepid(strchr(arg, '=') + 1, &opts->access)) {
			opts->reported = TRUE;
			return -1;
		}
		return 0;
	case LIN_KEY_MAX_EXITED:
	case LIN_KEY_RCVBUF:
	case LIN_KEY_MAX_CMDLINE:
	case LIN_KEY_MAX_STRING_MEMORY:
	case LIN_KEY_JOURNAL_MAX:
	case LIN_KEY_JOURNAL_SYNC:
		option = &lin_numeric_options[key];
		value = strchr(arg, '=') + 1;
		/* Name it as the user spelled it. */
		if (g_str_has_prefix(arg, "--"))
			name = g_strdup(option->long_name);
		else
			name = g_strdup_printf("-o %s", option->mount_name);
		if (!lin_parse_numeric(option, name, value, &number)) {
			opts->reported = TRUE;
			return -1;
		}
		if (option->wide)
			*(guint64 *)((char *)opts + option->offset) = number;
		else
			*(guint *)((char *)opts + option->offset) = (guint)number;
		return 0;
	case LIN_KEY_JOURNAL:
		value = strchr(arg, '=') + 1;
		if (value[0] == '\0') {
			fprintf(stderr, "lineagefs: %s: missing directory (give --journal=DIR)\n",
			        g_str_has_prefix(arg, "--") ? "--journal" : "-o journal");
			opts->reported = TRUE;
			return -1;
		}
		g_free(opts->journal_dir);
		opts->journal_dir = g_strdup(value);
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		if (opts->mountpoint != NULL) {
			fprintf(stderr,
			        "lineagefs: unexpected argument '%s' after MOUNTPOINT '%s' "
			        "(give exactly one MOUNTPOINT; see lineagefs --help)\n",
			        arg, opts->mountpoint);
			opts->reported = TRUE;
			return -1;
		}
		/* Kept here rather than by fuse_parse_cmdline(), whose realpath()
		 * would fail on a missing directory with a message of its own. */
		opts->mountpoint = g_strdup(arg);
		return 0;
	default:
		return 1;
	}
}

/*
 * fuse_opt matches "--name=value" only; "--name value" is joined into that
 * form here so both spellings work. "-o" lists and everything after "--"
 * pass unchanged.
 */
static gboolean lin_args_init(int argc, char **argv, struct fuse_args *args)
{
	for (int i = 0; i < argc; i++) {
		const struct lin_numeric_option *joined = NULL;
		g_autofree char *arg = NULL;

		if (i > 0 && strcmp(argv[i], "--") == 0) {
			for (; i < argc; i++) {
				if (fuse_opt_add_arg(args, argv[i]) < 0)
					return FALSE;
			}
			break;
		}
		if (i > 0 && strcmp(argv[i], "-o") == 0 && i + 1 < argc) {
			if (fuse_opt_add_arg(args, argv[i]) < 0 ||
			    fuse_opt_add_arg(args, argv[i + 1]) < 0)
				return FALSE;
			i++;
			continue;
		}
		for (size_t k = 0; i > 0 && k < G_N_ELEMENTS(lin_numeric_options); k++) {
			if (strcmp(argv[i], lin_numeric_options[k].long_name) == 0)
				joined = &lin_numeric_options[k];
		}
		for (size_t k = 0; i > 0 && k < G_N_ELEMENTS(lin_word_options); k++) {
			if (strcmp(argv[i], lin_word_options[k]) == 0 && i + 1 < argc) {
				arg = g_strconcat(argv[i], "=", argv[i + 1], NULL);
				i++;
				break;
			}
		}
		if (joined != NULL) {
			if (i + 1 >= argc) {
				fprintf(stderr, "lineagefs: %s: missing value (expected %s)\n",
				        joined->long_name, joined->expected);
				return FALSE;
			}
			arg = g_strconcat(argv[i], "=", argv[i + 1], NULL);
			i++;
		}
		if (fuse_opt_add_arg(args, arg != NULL ? arg : argv[i]) < 0)
			return FALSE;
	}
	return TRUE;
}

static void lin_print_help(void)
{
	/* Grouped as in lineagefs(8); each new option goes in its group. */
	printf("usage: lineagefs [options] MOUNTPOINT\n"
	       "\n"
	       "Mirrors the Linux process tree, exited processes included, as a read-only\n"
	       "filesystem at MOUNTPOINT. Runs as root: the proc connector needs it.\n"
	       "Each process is a directory <pid>-<start> (start: field 22 of its stat);\n"
	       "the later holders of a pid recycled within one clock tick are\n"
	       "<pid>-<start>.2, .3, ...\n"
	       "Every --name=VALUE is also -o name=VALUE (dashes as underscores).\n"
	       "\n"
	       "General:\n"
	       "    -f                     stay in the foreground (default: detach once mounted)\n"
	       "    -d                     FUSE debug output on stderr; implies -f\n"
	       "    -o allow_other         let every user read the mount (default: root only;\n"
	       "                           see SECURITY in lineagefs(8))\n"
	       "    -h   --help            print this help and exit\n"
	       "    -V   --version         print the version and the optional features built\n"
	       "\n"
	       "Retention:\n"
	       "    --max-exited=N         exited processes kept before the oldest are\n"
	       "                           forgotten; 0 keeps all (default: %u)\n"
	       "\n"
	       "Capture:\n"
	       "    --rcvbuf=BYTES         netlink receive buffer, %u..%u bytes, K/M/G\n"
	       "                           suffixes allowed (default: %uM)\n"
	       "    --max-cmdline=BYTES    command line bytes kept per exec, 64..6M, K/M\n"
	       "                           suffixes; a longer one keeps its first and last\n"
	       "                           halves, and status gives the whole's length and\n"
	       "                           SHA-256; the default, the kernel's limit, keeps\n"
	       "                           them whole (default: %uM)\n"
	       "    --max-string-memory=BYTES  memory for command lines, exe paths and\n"
	       "                           comms; past it the oldest exited processes are\n"
	       "                           forgotten, then new command lines keep 4096\n"
	       "                           bytes, both ends; 0: no budget (default: %uM)\n"
	       "\n"
	       "Health:\n"
	       "    --metrics=on|off       record the latencies and FUSE timings shown in\n"
	       "                           the metrics file (default: on)\n"
	       "\n"
	       "Context:\n"
	       "    --hash-exe             sha256 of every executable run, as ExeHash in\n"
	       "                           status, hashed once per file (default: off)\n"
	       "    --env=NAME[,NAME...]   keep these environment variables of every exec in\n"
	       "                           <pid>-<start>/environ, nothing else of the\n"
	       "                           environment (default: none; no -o form: its\n"
	       "                           commas would split the -o list)\n"
	       "\n"
	       "Who may read what, with -o allow_other (see SECURITY in lineagefs(8)):\n"
	       "    (each user sees its own processes, and of others' only what /proc\n"
	       "    shows: no exe, cmdline, status or ancestry, nothing once exited)\n"
	       "    -o gid=GID             members of group GID (number or name) see every\n"
	       "                           process, as root does (default: none)\n"
	       "    -o hidepid=MODE        others' processes: off (listed, public files\n"
	       "                           readable), noaccess (listed, nothing readable),\n"
	       "                           invisible (not listed), as procfs (default: off)\n"
	       "\n"
	       "Replay (no proc connector, no /proc, no root needed):\n"
	       "    --replay=PATH          mount the history of a journal (a directory or\n"
	       "                           one lineagefs-*.jsonl segment) instead of the\n"
	       "                           live system: its newest boot at the root, the\n"
	       "                           earlier ones in boots/ (default: live)\n"
	       "    --until=TIME           with --replay: the tree as it was at TIME, ISO\n"
	       "                           8601 (2026-11-22T13:40:00Z, UTC when no zone)\n"
	       "                           or @ and epoch seconds (default: the end)\n"
	       "\n"
	       "Sandboxing:\n"
	       "    --mount-namespace=PATH mount in the mount namespace PATH names (e.g.\n"
	       "                           /proc/1/ns/mnt, the host's), not the daemon's own,\n"
	       "                           as under systemd's ProtectSystem= (default: the\n"
	       "                           daemon's namespace)\n"
	       "\n"
	       "Journal:\n"
	       "    --journal=DIR          append every process event to JSON-lines segments\n"
	       "                           in DIR (created 0750 if missing; refused when\n"
	       "                           group or others may write it)\n"
	       "    --journal-max=SIZE     total size of DIR's segments, K/M/G suffixes\n"
	       "                           allowed; the oldest are deleted (default: 1G)\n"
	       "    --journal-sync=MS      fdatasync() the journal every MS milliseconds;\n"
	       "                           0 after every write (default: %u)\n"
	       "\n"
	       "The mount is always read-only, as -o ro,fsname=lineagefs,subtype=lineagefs.\n"
	       "Without -o max_idle_threads, up to %d idle FUSE threads are kept.\n"
	       "The manual: man lineagefs.\n"
	       "\n"
	       "FUSE options:\n",
	       LIN_DEFAULT_MAX_EXITED, LIN_MIN_RCVBUF, LIN_MAX_RCVBUF, LIN_DEFAULT_RCVBUF >> 20,
	       LIN_DEFAULT_MAX_CMDLINE >> 20, LIN_DEFAULT_MAX_STRING_MEMORY >> 20,
	       JOURNAL_DEFAULT_SYNC_MS, LIN_DEFAULT_IDLE_THREADS);
	fflush(stdout);
	fuse_cmdline_help();
	fuse_lowlevel_help();
}

/* The version, then the optional parts built in (meson: lineagefs_features). */
static void lin_print_version(void)
{
	printf("lineagefs %s\n", LINEAGEFS_VERSION);
	printf("features: %s\n", LINEAGEFS_FEATURES[0] != '\0' ? LINEAGEFS_FEATURES : "none");
	printf("libfuse %s\n", fuse_pkgversion());
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
	struct lin_options opts = {
	    .max_exited = LIN_DEFAULT_MAX_EXITED,
	    .rcvbuf = LIN_DEFAULT_RCVBUF,
	    .max_cmdline = LIN_DEFAULT_MAX_CMDLINE,
	    .max_string_memory = LIN_DEFAULT_MAX_STRING_MEMORY,
	    .metrics = TRUE,
	    .journal_max = JOURNAL_DEFAULT_MAX,
	    .journal_sync_ms = JOURNAL_DEFAULT_SYNC_MS,
	};
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

	/* --- The command line. --- */
	if (!lin_args_init(argc, argv, &args)) {
		status = LIN_EXIT_USAGE;
		goto out_args;
	}
	if (fuse_opt_parse(&args, &opts, lin_fuse_opts, lin_opt_proc) < 0) {
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
	g_free(opts.replay);
	g_free(opts.mountpoint);
	g_strfreev(opts.env_names);
	g_free(opts.mount_namespace);
	g_free(opts.journal_dir);
	free(fuse_opts.mountpoint);
	fuse_opt_free_args(&args);
	return status;
}
