/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The journal's reader: segments and directories, in order, to per-boot
 * tables. journal_parse.c splits a segment into lines and parses them with
 * jansson on threads of their own, journal_decode.c turns each into a
 * struct line (checked field by field) on those same threads, and this
 * file applies the lines in order: boots, the sequence, --until, creators
 * named by entity id. The reader keeps one small map, process entity_id to
 * record, only to resolve the creator a line names by entity id; it is
 * dropped when the reading ends. Nothing here trusts the input: a journal
 * may be copied from a compromised host and replayed by an analyst.
 */
#include "config.h"
#include "journal_read.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal_format.h"
#include "journal_decode.h"
#include "journal_parse.h"
#include "restore.h"

/* A clock that disagrees with the reader's by more than this is wrong,
 * not skewed. */
#define FUTURE_SLACK_NS (24 * 3600 * NS_PER_SEC)
/* How far a line's process.start may put its boot's origin from the one
 * its daemon run said: rounding, and the drift of a clock being slewed. */
#define ORIGIN_SLACK_NS (10 * NS_PER_SEC)

G_DEFINE_QUARK(journal - read - error - quark, journal_read_error)

/* Where an entity lives: boot index and record serial. */
#define ENTITY_SERIAL_BITS 48
#define ENTITY_PACK(boot, serial)                                                                  \
	GSIZE_TO_POINTER(((gsize)(boot) << ENTITY_SERIAL_BITS) | (gsize)(serial))

struct journal_reader {
	struct journal_read_options opts;
	struct journal_read_stats stats;
	GPtrArray *boots;               /* struct journal_boot *, in order of first line */
	struct journal_boot *last_boot; /* the boot of the line before */
	GHashTable *entities;           /* entity_id -> ENTITY_PACK() */
	GHashTable *pending;            /* creator entity_id -> GArray of ENTITY_PACK() children */
	GStringChunk *entity_ids;       /* the map's keys */
	guint64 last_seq;
	gboolean seq_seen;
	guint hz; /* from the last "open" line, else opts.hz */
	/* The record of the found or checkpoint line just applied, which the
	 * "history" lines after it add to (0: none, another line came). */
	struct journal_boot *more_boot;
	guint64 more_serial;
	char more_entity_id[JOURNAL_ID_MAX + 1];
	gboolean finished;
	gboolean taken;
};

static guint64 now_realtime(const struct journal_reader *r)
{
	struct timespec ts;

	if (r->opts.now_realtime_ns)
		return r->opts.now_realtime_ns;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (guint64)ts.tv_sec * NS_PER_SEC + (guint64)ts.tv_nsec;
}

/* ---- the machine ---- */

/* A one-line id file (hex digits, and dashes for a uuid) into out; FALSE
 * when missing, empty or odd. */
static gboolean read_id(const char *path, char *out, gsize size, gboolean uuid)
{
	g_autofree char *text = NULL;
	gsize len;

	if (!g_file_get_contents(path, &text, NULL, NULL))
		return FALSE;
	g_strstrip(text);
	len = strlen(text);
	if (len == 0 || len >= size)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isxdigit(text[i]) && !(uuid && text[i] == '-'))
			return FALSE;
	memcpy(out, text, len + 1);
	return TRUE;
}

gboolean journal_read_machine_id(char *out, gsize size, GError **error)
{
	if (read_id("/etc/machine-id", out, size, FALSE) ||
	    read_id("/var/lib/dbus/machine-id", out, size, FALSE))
		return TRUE;
	g_set_error(error, JOURNAL_READ_ERROR, 0,
	            "the journal needs the machine id, and neither /etc/machine-id nor "
	            "/var/lib/dbus/machine-id holds one (create it with "
	            "systemd-machine-id-setup or dbus-uuidgen --ensure=/etc/machine-id)");
	return FALSE;
}

gboolean journal_read_boot_id(char *out, gsize size, GError **error)
{
	if (read_id("/proc/sys/kernel/random/boot_id", out, size, TRUE))
		return TRUE;
	g_set_error(error, JOURNAL_READ_ERROR, 0,
	            "the journal needs the boot id, and /proc/sys/kernel/random/boot_id "
	            "cannot be read (is procfs mounted on /proc?)");
	return FALSE;
}

/* ---- boots ---- */

static struct journal_boot *boot_find(struct journal_reader *r, const char *boot_id)
{
	if (r->last_boot && strcmp(r->last_boot->boot_id, boot_id) == 0)
		return r->last_boot;
	for (guint i = 0; i < r->boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(r->boots, i);

		if (strcmp(b->boot_id, boot_id) == 0)
			return r->last_boot = b;
	}
	return NULL;
}

static gboolean is_root_boot(const struct journal_reader *r, const struct journal_boot *b)
{
	return r->opts.root_tracker && b->tracker == r->opts.root_tracker;
}

static struct journal_boot *boot_get(struct journal_reader *r, const char *boot_id,
                                     const char *host_id)
{
	struct journal_boot *b = boot_find(r, boot_id);
	struct tracker_config cfg = {0};

	if (b)
		return b;
	b = g_new0(struct journal_boot, 1);
	g_strlcpy(b->boot_id, boot_id, sizeof(b->boot_id));
	g_strlcpy(b->host_id, host_id, sizeof(b->host_id));
	b->hz = r->hz;
	if (r->opts.root_tracker && r->opts.root_boot_id &&
	    strcmp(boot_id, r->opts.root_boot_id) == 0) {
		const struct tracker_config *root_cfg = tracker_get_config(r->opts.root_tracker);

		b->tracker = r->opts.root_tracker;
		b->clock_known = TRUE;
		b->boot_realtime_ns = root_cfg->boot_realtime_ns;
		b->hz = root_cfg->hz;
	} else {
		cfg.proc_root_fd = -1;
		cfg.max_exited = r->opts.max_exited;
		cfg.hz = b->hz;
		/* A serial space of its own (the root's is the first). */
		cfg.serial_base = (guint64)(r->boots->len + 1) << TRACKER_SERIAL_SPACE_BITS;
		b->tracker = tracker_new(&cfg);
	}
	b->index = r->boots->len;
	g_ptr_array_add(r->boots, b);
	return r->last_boot = b;
}

static void boot_free(gpointer data)
{
	struct journal_boot *b = data;

	g_free(b);
}

/* ---- applying ---- */

static guint64 entity_serial(struct journal_reader *r, const struct journal_boot *b,
                             const char *entity_id)
{
	gpointer packed;
	gsize value;

	if (!entity_id || !g_hash_table_lookup_extended(r->entities, entity_id, NULL, &packed))
		return 0;
	value = GPOINTER_TO_SIZE(packed);
	/* The same id in another boot's lines: not this boot's record. */
	if ((value >> ENTITY_SERIAL_BITS) != b->index)
		return 0;
	return value & (((gsize)1 << ENTITY_SERIAL_BITS) - 1);
}

/* A child whose creator's line has not come yet waits for it by the
 * creator's entity id. */
static void pending_add(struct journal_reader *r, const struct journal_boot *b,
                        const char *creator_id, guint64 child_serial)
{
	GArray *children = g_hash_table_lookup(r->pending, creator_id);
	gsize packed = GPOINTER_TO_SIZE(ENTITY_PACK(b->index, child_serial));

	if (!children) {
		children = g_array_new(FALSE, FALSE, sizeof(gsize));
		g_hash_table_insert(r->pending, g_string_chunk_insert(r->entity_ids, creator_id),
		                    children);
	}
	g_array_append_val(children, packed);
}

static void pending_resolve(struct journal_reader *r, const struct journal_boot *b,
                            const char *creator_id, guint64 creator_serial)
{
	GArray *children = g_hash_table_lookup(r->pending, creator_id);

	if (!children)
		return;
	for (guint i = 0; i < children->len; i++) {
		gsize packed = g_array_index(children, gsize, i);

		if ((packed >> ENTITY_SERIAL_BITS) == b->index)
			tracker_restore_link(b->tracker,
			                     packed & (((gsize)1 << ENTITY_SERIAL_BITS) - 1),
			                     creator_serial);
	}
	g_hash_table_remove(r->pending, creator_id);
}

/* Wall-clock ns of a start in ticks, in a boot whose origin is known. */
static guint64 ticks_realtime(const struct journal_boot *b, guint64 ticks)
{
	guint64 hz = b->hz ? b->hz : 100;

	return b->boot_realtime_ns + ticks / hz * NS_PER_SEC + ticks % hz * NS_PER_SEC / hz;
}

/* Learns the boot's wall-clock origin from a line's start, or checks the
 * start against it. FALSE: a start that cannot be. */
static gboolean boot_check_start(struct journal_reader *r, struct journal_boot *b,
                                 const struct line *l)
{
	guint64 hz = b->hz ? b->hz : 100;
	guint64 since_boot_ns =
	    l->rs.start_ticks / hz * NS_PER_SEC + l->rs.start_ticks % hz * NS_PER_SEC / hz;

	/* The live boot's origin is this machine's, and a restore checks
	 * only that nothing started in the future. Another boot's is the one
	 * its daemon run said in its "open" line (each run's own: the clock
	 * may have been stepped between runs), or the first line's. */
	if (l->has_start_ns && !is_root_boot(r, b)) {
		guint64 origin;

		if (since_boot_ns > l->start_ns)
			return FALSE; /* started before 1970 */
		origin = l->start_ns - since_boot_ns;
		if (!b->clock_known) {
			b->boot_realtime_ns = origin;
			b->clock_known = TRUE;
			tracker_restore_set_clock(b->tracker, origin, b->hz);
		} else if (origin + ORIGIN_SLACK_NS < b->boot_realtime_ns ||
		           origin > b->boot_realtime_ns + ORIGIN_SLACK_NS) {
			return FALSE; /* start and start_ticks disagree */
		}
	}
	/* Started after the line that reports it, or after now. */
	if (b->clock_known && ticks_realtime(b, l->rs.start_ticks) >
	                          MIN(l->timestamp_ns, now_realtime(r)) + START_SLACK_NS)
		return FALSE;
	return TRUE;
}

/* The CLOCK_MONOTONIC of the line's boot at its time (what the live
 * daemon's clock read then: a record's seen time, which its history
 * shows); 0 when the boot's clock is unknown. */
static guint64 line_seen_ns(const struct journal_boot *b, guint64 timestamp_ns)
{
	const struct tracker_config *cfg;

	cfg = tracker_get_config(b->tracker);
	if (cfg->boot_realtime_ns == 0 ||
	    timestamp_ns < cfg->boot_realtime_ns + cfg->boot_offset_ns)
		return 0;
	return timestamp_ns - cfg->boot_realtime_ns - cfg->boot_offset_ns;
}

/* --until: a line after it is left out, unless it is the only record of a
 * process that had started by then (its older lines were rotated away):
 * then it shows the process as it was, running if it had not ended.
 * FALSE: leave the line out. */
static gboolean until_admits(struct journal_reader *r, struct journal_boot *b, struct line *l,
                             gboolean whole)
{
	guint64 until = r->opts.until_ns;
	guint64 start_ns;

	if (until == 0 || l->timestamp_ns <= until)
		return TRUE;
	if (!whole ||
	    (b && tracker_restore_lookup(b->tracker, l->rs.pid, l->rs.start_ticks, l->rs.instance)))
		return FALSE;
	if (l->has_start_ns)
		start_ns = l->start_ns;
	else if (b && b->clock_known)
		start_ns = ticks_realtime(b, l->rs.start_ticks);
	else
		return FALSE;
	if (start_ns > until)
		return FALSE;
	if ((l->rs.has & TRACKER_RESTORE_EXIT) && (l->rs.exit_ns == 0 || l->rs.exit_ns > until)) {
		l->rs.has &= ~TRACKER_RESTORE_EXIT;
		l->rs.exit_kind = LIN_EXIT_RUNNING;
	}
	return TRUE;
}

static void boot_saw_line(struct journal_boot *b, guint64 timestamp_ns)
{
	if (b->lines == 0 || timestamp_ns < b->first_ns)
		b->first_ns = timestamp_ns;
	if (timestamp_ns > b->last_ns)
		b->last_ns = timestamp_ns;
	b->lines++;
}

static void apply_process(struct journal_reader *r, const char *action, const char *host_id,
                          const char *boot_id, struct line *l)
{
	gboolean whole = strcmp(action, JOURNAL_ACTION_CHECKPOINT) == 0 ||
	                 strcmp(action, JOURNAL_ACTION_FOUND) == 0;
	struct journal_boot *b = boot_find(r, boot_id);
	guint64 serial;

	if (!until_admits(r, b, l, whole)) {
		r->stats.after_until++;
		return;
	}
	if (!b) {
		if (r->boots->len >= JOURNAL_BOOTS_MAX) {
			r->stats.invalid++;
			return;
		}
		b = boot_get(r, boot_id, host_id);
	}
	if (!boot_check_start(r, b, l)) {
		r->stats.invalid++;
		return;
	}
	if (strcmp(action, JOURNAL_ACTION_FORGET) == 0) {
		serial = tracker_restore_lookup(b->tracker, l->rs.pid, l->rs.start_ticks,
		                                l->rs.instance);
		if (serial)
			tracker_restore_forget(b->tracker, serial);
		boot_saw_line(b, l->timestamp_ns);
		r->stats.applied++;
		return;
	}
	l->rs.whole = whole;
	l->rs.exec = strcmp(action, JOURNAL_ACTION_EXEC) == 0;
	/* For the history: when, and what the event changed. */
	l->rs.time_ns = l->timestamp_ns;
	/* A fork, or an exec that tells the fork before it (folded): the
	 * child starts with its creator's context. */
	l->rs.inherit_context = strcmp(action, JOURNAL_ACTION_FORK) == 0 ||
	                        (l->rs.exec && (l->rs.has & TRACKER_RESTORE_CREATOR));
	if (strcmp(action, JOURNAL_ACTION_COMM) == 0)
		l->rs.change = TRACKER_RESTORE_CHANGE_COMM;
	else if (strcmp(action, JOURNAL_ACTION_UID) == 0)
		l->rs.change = TRACKER_RESTORE_CHANGE_UID;
	else if (strcmp(action, JOURNAL_ACTION_GID) == 0)
		l->rs.change = TRACKER_RESTORE_CHANGE_GID;
	/* A checkpoint says when its record was first seen. */
	l->rs.seen_ns = line_seen_ns(b, (l->rs.ctx.has & LIN_CTX_COPY_SEEN) ? l->rs.ctx.seen_ns
	                                                                    : l->timestamp_ns);
	if (l->rs.has & TRACKER_RESTORE_CREATOR)
		l->rs.creator_serial = entity_serial(r, b, l->parent_entity_id);
	serial = tracker_restore_put(b->tracker, &l->rs);
	if (serial == 0) {
		r->stats.invalid++;
		return;
	}
	if (whole && l->entity_id) {
		r->more_boot = b;
		r->more_serial = serial;
		g_strlcpy(r->more_entity_id, l->entity_id, sizeof(r->more_entity_id));
	}
	if (l->rs.creator_serial == 0 && l->parent_entity_id)
		pending_add(r, b, l->parent_entity_id, serial);
	if (l->entity_id && !g_hash_table_contains(r->entities, l->entity_id)) {
		g_hash_table_insert(r->entities, g_string_chunk_insert(r->entity_ids, l->entity_id),
		                    ENTITY_PACK(b->index, serial));
		if (g_hash_table_size(r->pending) > 0)
			pending_resolve(r, b, l->entity_id, serial);
	}
	boot_saw_line(b, l->timestamp_ns);
	r->stats.applied++;
}

/* A "history" line: more entries of the record whose found or checkpoint
 * line came just before. */
static void apply_history_more(struct journal_reader *r, struct line *l)
{
	if (!l->process_ok || !l->entity_id) {
		r->stats.invalid++;
		return;
	}
	if (r->more_serial == 0 || strcmp(l->entity_id, r->more_entity_id) != 0) {
		/* Its line was left out (after --until) or refused. */
		if (r->opts.until_ns && l->timestamp_ns > r->opts.until_ns)
			r->stats.after_until++;
		else
			r->stats.invalid++;
		return;
	}
	if (!tracker_restore_history(r->more_boot->tracker, r->more_serial, &l->rs.ctx)) {
		r->stats.invalid++;
		return;
	}
	boot_saw_line(r->more_boot, l->timestamp_ns);
	r->stats.applied++;
}

/* An "open" line starts a daemon run's segment and says its boot's clock:
 * the origin of another boot's table, should no process line give it. */
static void apply_open(struct journal_reader *r, const struct line *l)
{
	struct journal_boot *b;
	guint64 boot_realtime_ns = l->boot_realtime_ns;

	r->stats.applied++;
	if (r->opts.until_ns && l->timestamp_ns > r->opts.until_ns)
		return;
	if (l->has_boot_realtime != 1 || boot_realtime_ns > l->timestamp_ns)
		return;
	b = boot_find(r, l->boot_id);
	if (!b && r->boots->len < JOURNAL_BOOTS_MAX)
		b = boot_get(r, l->boot_id, l->host_id);
	if (b && !is_root_boot(r, b)) {
		b->boot_realtime_ns = boot_realtime_ns;
		b->clock_known = TRUE;
		tracker_restore_set_clock(b->tracker, b->boot_realtime_ns, r->hz);
	}
}

/* Checks a decoded line against the reading so far and applies it. FALSE
 * with error set: another machine's line when that is an error. */
static gboolean apply_line(struct journal_reader *r, struct line *l, GError **error)
{
	const char *action = l->action;

	if (l->state == LINE_INVALID) {
		r->stats.invalid++;
		return TRUE;
	}
	if (l->state == LINE_NEWER) {
		r->stats.newer_format++;
		return TRUE;
	}
	if (l->timestamp_ns > now_realtime(r) + FUTURE_SLACK_NS) {
		r->stats.invalid++;
		return TRUE;
	}
	if (r->opts.expect_host_id && strcmp(l->host_id, r->opts.expect_host_id) != 0) {
		g_set_error(error, JOURNAL_READ_ERROR, 0,
		            "the journal holds another machine's history (host.id %s, this machine "
		            "is %s): browse it with --replay, or give --journal an empty directory",
		            l->host_id, r->opts.expect_host_id);
		return FALSE;
	}
	if (!r->opts.expect_host_id && r->boots->len > 0 &&
	    strcmp(l->host_id, ((struct journal_boot *)g_ptr_array_index(r->boots, 0))->host_id))
		r->stats.foreign_lines++;

	/* A segment is written by one daemon run with increasing numbers; a
	 * new run starts a new segment with "open". */
	if (strcmp(action, JOURNAL_ACTION_OPEN) == 0) {
		r->seq_seen = FALSE;
		if (l->has_hz == 1 && l->hz > 0)
			r->hz = (guint)l->hz;
	}
	if (l->has_seq == 1) {
		if (r->seq_seen && l->seq <= r->last_seq) {
			r->stats.duplicates++;
			return TRUE;
		}
		r->last_seq = l->seq;
		r->seq_seen = TRUE;
	}

	if (strcmp(action, JOURNAL_ACTION_HISTORY) != 0)
		r->more_serial = 0;
	if (strcmp(action, JOURNAL_ACTION_OPEN) == 0) {
		apply_open(r, l);
	} else if (strcmp(action, JOURNAL_ACTION_HISTORY) == 0) {
		apply_history_more(r, l);
	} else if (strcmp(action, JOURNAL_ACTION_GAP) == 0) {
		r->stats.gaps++;
		if (l->has_lost_lines == 1)
			r->stats.lost_lines += l->lost_lines;
		r->stats.applied++;
	} else if (!journal_is_process_action(action)) {
		r->stats.unknown_action++;
	} else if (!l->process_ok) {
		r->stats.invalid++;
	} else {
		apply_process(r, action, l->host_id, l->boot_id, l);
	}
	return TRUE;
}

/* One line, as the parser and journal_decode_line() left it. FALSE with error set:
 * another machine's line when that is an error. */
static gboolean apply_parsed(struct journal_reader *r, enum journal_parsed_kind kind,
                             struct line *l, GError **error)
{
	gboolean ok = TRUE;

	r->stats.lines++;
	switch (kind) {
	case JOURNAL_PARSED_JSON:
		ok = apply_line(r, l, error);
		break;
	case JOURNAL_PARSED_EMPTY:
		break;
	case JOURNAL_PARSED_TOO_LONG:
		r->stats.too_long++;
		break;
	case JOURNAL_PARSED_TOO_MANY:
		r->stats.invalid++;
		break;
	case JOURNAL_PARSED_NOT_JSON:
		r->stats.not_json++;
		break;
	case JOURNAL_PARSED_TORN:
		r->stats.torn++;
		break;
	}
	journal_line_clear(l);
	return ok;
}

gboolean journal_reader_feed_line(struct journal_reader *r, const char *line, gsize len,
                                  GError **error)
{
	json_t *root;
	enum journal_parsed_kind kind;
	struct line l = {0};
	gboolean ok;

	g_return_val_if_fail(!r->finished, FALSE);
	kind = journal_parse_line(line, len, &root);
	journal_decode_line(kind, root, &l, &r->opts);
	ok = apply_parsed(r, kind, &l, error);
	json_decref(root);
	return ok;
}

/* ---- segments ---- */

struct fd_reading {
	struct journal_reader *r;
	GError **error;
	gboolean failed;
};

static gboolean apply_one(enum journal_parsed_kind kind, json_t *root, void *slot, void *data)
{
	struct fd_reading *reading = data;

	(void)root; /* journal_decode_line() took what it needed */
	if (reading->failed) {
		journal_line_clear(slot);
		return FALSE;
	}
	if (!apply_parsed(reading->r, kind, slot, reading->error)) {
		reading->failed = TRUE;
		return FALSE;
	}
	return TRUE;
}

gboolean journal_reader_read_fd(struct journal_reader *r, int fd, GError **error)
{
	struct fd_reading reading = {.r = r, .error = error};
	struct journal_parse_fns fns = {
	    .decode = journal_decode_line,
	    .decode_data = &r->opts,
	    .slot_size = sizeof(struct line),
	    .apply = apply_one,
	    .data = &reading,
	};
	struct journal_parse_counts counts = {0};
	struct stat st;
	gboolean big;

	g_return_val_if_fail(!r->finished, FALSE);
	r->stats.segments++;
	big = fstat(fd, &st) == 0 && st.st_size >= JOURNAL_PARSE_THREADED_ABOVE;
	journal_parse_fd(fd, big && !r->opts.one_thread, &fns, &counts);
	r->stats.bytes += counts.bytes;
	r->stats.read_errors += counts.read_errors;
	return !reading.failed;
}

/* Opens a journal file without following a link or blocking on a FIFO,
 * and only when it is a regular file. -errno. */
static int open_segment(int dir_fd, const char *name, gboolean follow)
{
	struct stat st;
	int fd = openat(dir_fd, name,
	                O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY | (follow ? 0 : O_NOFOLLOW));

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	fcntl(fd, F_SETFL, 0);
	return fd;
}

struct segment_name {
	guint64 number;
	char *name;
};

static gint segment_compare(gconstpointer a, gconstpointer b)
{
	const struct segment_name *x = a, *y = b;

	return x->number < y->number ? -1 : x->number > y->number;
}

static void segment_name_clear(gpointer data)
{
	g_free(((struct segment_name *)data)->name);
}

gboolean journal_segment_number(const char *name, guint64 *number)
{
	const char *p;
	guint64 v = 0;
	gsize n = 0;

	if (!g_str_has_prefix(name, JOURNAL_SEGMENT_PREFIX) ||
	    !g_str_has_suffix(name, JOURNAL_SEGMENT_SUFFIX))
		return FALSE;
	for (p = name + strlen(JOURNAL_SEGMENT_PREFIX); g_ascii_isdigit(*p); p++, n++) {
		if (v > (G_MAXUINT64 - 9) / 10)
			return FALSE;
		v = v * 10 + (guint64)(*p - '0');
	}
	if (n == 0 || strcmp(p, JOURNAL_SEGMENT_SUFFIX) != 0)
		return FALSE;
	*number = v;
	return TRUE;
}

static gboolean read_dir(struct journal_reader *r, const char *path, int dir_fd, GError **error)
{
	g_autoptr(GArray) segments = g_array_new(FALSE, FALSE, sizeof(struct segment_name));
	DIR *dir = fdopendir(dup(dir_fd));
	struct dirent *entry;

	if (!dir) {
		g_set_error(error, JOURNAL_READ_ERROR, 0, "cannot read the journal %s: %s", path,
		            g_strerror(errno));
		return FALSE;
	}
	g_array_set_clear_func(segments, segment_name_clear);
	while ((entry = readdir(dir)) != NULL) {
		struct segment_name s;

		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		if (!journal_segment_number(entry->d_name, &s.number)) {
			r->stats.skipped_files++;
			continue;
		}
		s.name = g_strdup(entry->d_name);
		g_array_append_val(segments, s);
	}
	closedir(dir);
	g_array_sort(segments, segment_compare);

	for (guint i = 0; i < segments->len; i++) {
		const struct segment_name *s = &g_array_index(segments, struct segment_name, i);
		int fd = open_segment(dir_fd, s->name, FALSE);
		gboolean ok;

		if (fd < 0) {
			/* Rotated away meanwhile, or not a plain file. */
			if (fd == -ENOENT || fd == -EINVAL || fd == -ELOOP)
				r->stats.skipped_files++;
			else
				r->stats.read_errors++;
			continue;
		}
		ok = journal_reader_read_fd(r, fd, error);
		close(fd);
		if (!ok) {
			g_prefix_error(error, "%s/%s: ", path, s->name);
			return FALSE;
		}
	}
	return TRUE;
}

gboolean journal_reader_read_path(struct journal_reader *r, const char *path, GError **error)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	gboolean ok;

	if (fd < 0 || fstat(fd, &st) < 0) {
		int err = errno;

		if (fd >= 0)
			close(fd);
		g_set_error(error, JOURNAL_READ_ERROR, 0, "cannot read the journal %s: %s", path,
		            g_strerror(err));
		return FALSE;
	}
	if (S_ISDIR(st.st_mode)) {
		ok = read_dir(r, path, fd, error);
	} else if (S_ISREG(st.st_mode)) {
		fcntl(fd, F_SETFL, 0);
		ok = journal_reader_read_fd(r, fd, error);
		if (!ok)
			g_prefix_error(error, "%s: ", path);
	} else {
		g_set_error(error, JOURNAL_READ_ERROR, 0,
		            "cannot read the journal %s: not a directory or a segment file", path);
		ok = FALSE;
	}
	close(fd);
	return ok;
}

/* ---- the end ---- */

static gint boot_compare(gconstpointer a, gconstpointer b)
{
	const struct journal_boot *x = *(struct journal_boot *const *)a;
	const struct journal_boot *y = *(struct journal_boot *const *)b;

	return x->last_ns < y->last_ns ? -1 : x->last_ns > y->last_ns;
}

void journal_reader_finish(struct journal_reader *r)
{
	struct journal_boot *current = NULL;
	guint64 budget = r->opts.max_exited;

	g_return_if_fail(!r->finished);
	r->finished = TRUE;
	g_hash_table_remove_all(r->entities);
	g_hash_table_remove_all(r->pending);
	g_string_chunk_clear(r->entity_ids);
	/* A boot of which only "open" lines remain has nothing to show. */
	for (guint i = r->boots->len; i-- > 0;) {
		struct journal_boot *b = g_ptr_array_index(r->boots, i);

		if (!is_root_boot(r, b) && tracker_restore_count_records(b->tracker) == 0) {
			tracker_free(b->tracker);
			g_ptr_array_remove_index(r->boots, i);
		}
	}
	g_ptr_array_sort(r->boots, boot_compare);

	/* The boot that may still run: the live one at start-up, else the
	 * newest in the journal. The others ended with a reboot. */
	for (guint i = 0; i < r->boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(r->boots, i);

		if (is_root_boot(r, b))
			current = b;
	}
	if (!current && !r->opts.root_tracker && r->boots->len > 0)
		current = g_ptr_array_index(r->boots, r->boots->len - 1);
	for (guint i = 0; i < r->boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(r->boots, i);

		if (b != current)
			tracker_restore_end_boot(b->tracker);
	}

	/* One limit for everything held: the current boot keeps what its own
	 * limit keeps, earlier boots share the rest, newest first. */
	if (budget == 0)
		return;
	if (current)
		budget -= MIN(budget, tracker_restore_count_exited(current->tracker));
	for (guint i = r->boots->len; i-- > 0;) {
		struct journal_boot *b = g_ptr_array_index(r->boots, i);

		if (b == current)
			continue;
		tracker_restore_trim(b->tracker, (guint)budget);
		budget -= MIN(budget, tracker_restore_count_exited(b->tracker));
	}
}

/* ---- life cycle ---- */

struct journal_reader *journal_reader_new(const struct journal_read_options *opts)
{
	struct journal_reader *r = g_new0(struct journal_reader, 1);
	long hz = sysconf(_SC_CLK_TCK);

	r->opts = *opts;
	if (r->opts.hz == 0)
		r->opts.hz = hz > 0 ? (guint)hz : 100;
	r->hz = r->opts.hz;
	r->boots = g_ptr_array_new_with_free_func(boot_free);
	r->entities = g_hash_table_new(g_str_hash, g_str_equal);
	r->pending =
	    g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)g_array_unref);
	r->entity_ids = g_string_chunk_new(64 * 1024);
	return r;
}

void journal_reader_free(struct journal_reader *r)
{
	if (!r)
		return;
	for (guint i = 0; !r->taken && i < r->boots->len; i++) {
		struct journal_boot *b = g_ptr_array_index(r->boots, i);

		if (!is_root_boot(r, b))
			tracker_free(b->tracker);
	}
	g_ptr_array_unref(r->boots);
	g_hash_table_unref(r->entities);
	g_hash_table_unref(r->pending);
	g_string_chunk_free(r->entity_ids);
	g_free(r);
}

const struct journal_read_stats *journal_reader_stats(const struct journal_reader *r)
{
	return &r->stats;
}

GPtrArray *journal_reader_boots(struct journal_reader *r)
{
	return r->boots;
}

GPtrArray *journal_reader_take_boots(struct journal_reader *r)
{
	GPtrArray *boots = g_ptr_array_ref(r->boots);

	r->taken = TRUE;
	return boots;
}

void journal_read_stats_format(const struct journal_read_stats *stats, GString *out)
{
#define FIELD(name) g_string_append_printf(out, #name " %" G_GUINT64_FORMAT "\n", stats->name)
	FIELD(segments);
	FIELD(bytes);
	FIELD(lines);
	FIELD(applied);
	FIELD(torn);
	FIELD(too_long);
	FIELD(not_json);
	FIELD(invalid);
	FIELD(newer_format);
	FIELD(duplicates);
	FIELD(unknown_action);
	FIELD(after_until);
	FIELD(gaps);
	FIELD(lost_lines);
	FIELD(foreign_lines);
	FIELD(skipped_files);
	FIELD(read_errors);
#undef FIELD
}
