/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The daemon's command line (options.h). fuse_opt does the matching; each
 * lineagefs option is checked here, so that a typo gets one line naming the
 * option as the user spelled it and what it expects, and exit status 2.
 */
#include "config.h"

#include "options.h"

#include <errno.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fuse_opt.h>

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
/* Below a page the kernel rounds up anyway; tests use small buffers to
 * force an overflow. */
#define LIN_MIN_RCVBUF 4096u
/* The kernel caps a socket buffer at INT_MAX / 2 (it doubles the value). */
#define LIN_MAX_RCVBUF (1024u * 1024 * 1024)
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

void lin_print_help(void)
{
	/* Grouped as in lineagefs(8); each new option goes in its group. */
	printf("usage: lineagefs [options] MOUNTPOINT\n"
	       "\n"
	       "Mirrors the Linux process tree, exited processes included, as a read-only\n"
	       "filesystem at MOUNTPOINT. Runs as root: the proc connector needs it.\n"
	       "Each process is a directory <pid>-<start> (start: field 22 of its stat;\n"
	       "the later holders of a pid recycled within one clock tick are\n"
	       "<pid>-<start>.2, .3, ...) holding cmdline, comm, exe, parent, children/,\n"
	       "status (ids, exit, and the context: Cwd, Cgroup, Container,\n"
	       "ContainerRuntime, PidNs, NsPid, LoginUid, SessionId, Tty, Sid, Pgid,\n"
	       "ExeDeleted, ExeMemfd, ExeHash), ancestry, history (fork, every exec\n"
	       "with its argv and ids, comm, uid and gid changes, exit) and environ\n"
	       "(--env). Beside them: by-pid/<pid>, by-exe/<path>/ (who ran it),\n"
	       "by-uid/<uid>/ (who ran as it), boots/ (earlier boots, from the\n"
	       "journal), self, stats, metrics.\n"
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

void lin_print_version(void)
{
	printf("lineagefs %s\n", LINEAGEFS_VERSION);
	printf("features: %s\n", LINEAGEFS_FEATURES[0] != '\0' ? LINEAGEFS_FEATURES : "none");
	printf("libfuse %s\n", fuse_pkgversion());
}

void lin_options_init(struct lin_options *opts)
{
	*opts = (struct lin_options){
	    .max_exited = LIN_DEFAULT_MAX_EXITED,
	    .rcvbuf = LIN_DEFAULT_RCVBUF,
	    .max_cmdline = LIN_DEFAULT_MAX_CMDLINE,
	    .max_string_memory = LIN_DEFAULT_MAX_STRING_MEMORY,
	    .metrics = TRUE,
	    .journal_max = JOURNAL_DEFAULT_MAX,
	    .journal_sync_ms = JOURNAL_DEFAULT_SYNC_MS,
	};
}

gboolean lin_options_parse(int argc, char **argv, struct lin_options *opts, struct fuse_args *args)
{
	if (!lin_args_init(argc, argv, args)) {
		opts->reported = TRUE;
		return FALSE;
	}
	return fuse_opt_parse(args, opts, lin_fuse_opts, lin_opt_proc) == 0;
}

void lin_options_clear(struct lin_options *opts)
{
	g_free(opts->replay);
	g_free(opts->mountpoint);
	g_strfreev(opts->env_names);
	g_free(opts->mount_namespace);
	g_free(opts->journal_dir);
	memset(opts, 0, sizeof(*opts));
}
