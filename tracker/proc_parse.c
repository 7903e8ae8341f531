// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The parsers of what /proc/<pid> gives as text: stat, status, and the
 * directory names that are pids. They take raw bytes that need not be
 * NUL-terminated and never look past the given length, because what they
 * read comes from the kernel and, in tests, from a fuzzer; they allocate
 * nothing, so the reader (proc_scan.c) can call them on the EXEC path.
 */
#include "config.h"

#include "proc_scan.h"

#include <errno.h>
#include <string.h>

/* Parses the unsigned decimal tok[0..len) into *out, which must not exceed max. */
static int parse_u64(const char *tok, size_t len, guint64 max, guint64 *out)
{
	guint64 v = 0;

	if (len == 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned int digit = (unsigned char)tok[i] - '0';

		if (digit > 9)
			return -EINVAL;
		if (v > (max - digit) / 10)
			return -EINVAL;
		v = v * 10 + digit;
	}
	*out = v;
	return 0;
}

/* Checks that tok[0..len) is a signed decimal that fits in 64 bits. */
static int check_s64(const char *tok, size_t len)
{
	guint64 ignored;

	if (len > 0 && tok[0] == '-')
		return parse_u64(tok + 1, len - 1, (guint64)G_MAXINT64 + 1, &ignored);
	return parse_u64(tok, len, G_MAXINT64, &ignored);
}

/* Moves *pos past one ' ' and returns in tok/tok_len the run of non-space
 * bytes after it, which must not be empty. */
static int stat_next_field(const char *buf, size_t len, size_t *pos, const char **tok,
                           size_t *tok_len)
{
	size_t start;

	if (*pos >= len || buf[*pos] != ' ')
		return -EINVAL;
	start = ++*pos;
	while (*pos < len && buf[*pos] != ' ' && buf[*pos] != '\n')
		(*pos)++;
	if (*pos == start)
		return -EINVAL;
	*tok = buf + start;
	*tok_len = *pos - start;
	return 0;
}

int proc_scan_parse_stat(const char *buf, size_t len, struct lin_stat *out)
{
	const char *open_paren, *close_paren, *tok;
	size_t comm_len, pos, tok_len;
	guint64 v;
	int field, ret;

	if (!buf || len == 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));

	/* "<pid> (" */
	open_paren = memchr(buf, '(', len);
	if (!open_paren || open_paren - buf < 2 || open_paren[-1] != ' ')
		return -EINVAL;
	ret = parse_u64(buf, (size_t)(open_paren - buf) - 1, G_MAXINT32, &v);
	if (ret < 0 || v == 0)
		return -EINVAL;
	out->pid = (pid_t)v;

	/* The comm is whatever the task named itself, ')' and spaces included;
	 * no later field can hold a ')', so the comm ends at the last one. */
	close_paren = memrchr(open_paren + 1, ')', len - (size_t)(open_paren + 1 - buf));
	if (!close_paren)
		return -EINVAL;
	comm_len = (size_t)(close_paren - open_paren - 1);
	comm_len = MIN(comm_len, sizeof(out->comm) - 1);
	memcpy(out->comm, open_paren + 1, comm_len);
	out->comm[comm_len] = '\0';

	/* Fields 3..22, each after one space. */
	pos = (size_t)(close_paren + 1 - buf);
	for (field = 3; field <= 22; field++) {
		ret = stat_next_field(buf, len, &pos, &tok, &tok_len);
		if (ret < 0)
			return ret;
		switch (field) {
		case 3:
			if (tok_len != 1)
				return -EINVAL;
			out->state = tok[0];
			break;
		case 4:
			ret = parse_u64(tok, tok_len, G_MAXINT32, &v);
			out->ppid = (pid_t)v;
			break;
		case 5:
			ret = parse_u64(tok, tok_len, G_MAXINT32, &v);
			out->pgid = (pid_t)v;
			break;
		case 6:
			ret = parse_u64(tok, tok_len, G_MAXINT32, &v);
			out->sid = (pid_t)v;
			break;
		case 7:
			/* An int in the kernel's format, never negative in
			 * practice: a negative one reads as no terminal. */
			ret = check_s64(tok, tok_len);
			if (ret == 0 && tok[0] != '-' &&
			    parse_u64(tok, tok_len, G_MAXUINT32, &v) == 0)
				out->tty_nr = (guint32)v;
			break;
		case 9:
			ret = parse_u64(tok, tok_len, G_MAXUINT32, &v);
			out->flags = (guint32)v;
			break;
		case 14:
			ret = parse_u64(tok, tok_len, G_MAXUINT64, &v);
			out->utime_ticks = v;
			break;
		case 15:
			ret = parse_u64(tok, tok_len, G_MAXUINT64, &v);
			out->stime_ticks = v;
			break;
		case 22:
			ret = parse_u64(tok, tok_len, G_MAXUINT64, &v);
			out->start_ticks = v;
			break;
		default:
			/* tty_nr, tpgid, priority and nice may be negative. */
			ret = check_s64(tok, tok_len);
			break;
		}
		if (ret < 0)
			return -EINVAL;
	}
	/* Field 23 follows on every kernel since 2.6: without it, starttime
	 * itself may have been cut short. */
	if (pos >= len || (buf[pos] != ' ' && buf[pos] != '\n'))
		return -EINVAL;
	/* Fields 23..49 on kernels since 3.5. They are extras: an older or cut
	 * line, or one that goes wrong past field 22, leaves the rest 0
	 * rather than failing the start time and comm read above. */
	for (field = 23; field <= 49; field++) {
		if (stat_next_field(buf, len, &pos, &tok, &tok_len) < 0)
			break;
		switch (field) {
		case 28:
			ret = parse_u64(tok, tok_len, G_MAXUINT64, &out->start_stack);
			break;
		case 48:
			ret = parse_u64(tok, tok_len, G_MAXUINT64, &out->arg_start);
			break;
		case 49:
			ret = parse_u64(tok, tok_len, G_MAXUINT64, &out->arg_end);
			break;
		default:
			ret = 0;
			break;
		}
		if (ret < 0)
			break;
	}
	return 0;
}

/* Parses the value of a status line: count whitespace-separated unsigned
 * numbers, no more and no fewer, each at most max. */
static int status_numbers(const char *val, size_t len, guint64 max, guint64 *nums, guint count)
{
	size_t pos = 0;

	for (guint i = 0; i < count; i++) {
		size_t start;

		while (pos < len && (val[pos] == '\t' || val[pos] == ' '))
			pos++;
		start = pos;
		while (pos < len && val[pos] != '\t' && val[pos] != ' ')
			pos++;
		if (parse_u64(val + start, pos - start, max, &nums[i]) < 0)
			return -EINVAL;
	}
	while (pos < len && (val[pos] == '\t' || val[pos] == ' '))
		pos++;
	return pos == len ? 0 : -EINVAL;
}

/* NStgid lists the tgid in each pid namespace from the host's down: the
 * last one is the process's own. A malformed line leaves ns_tgid 0. */
static void status_ns_tgid(const char *val, size_t len, struct lin_status *out)
{
	size_t end = len, start;
	guint64 v;

	while (end > 0 && (val[end - 1] == '\t' || val[end - 1] == ' '))
		end--;
	start = end;
	while (start > 0 && val[start - 1] != '\t' && val[start - 1] != ' ')
		start--;
	if (parse_u64(val + start, end - start, G_MAXINT32, &v) == 0)
		out->ns_tgid = (pid_t)v;
}

enum {
	STATUS_HAVE_TGID = 1 << 0,
	STATUS_HAVE_UID = 1 << 1,
	STATUS_HAVE_GID = 1 << 2,
	STATUS_HAVE_THREADS = 1 << 3,
	STATUS_HAVE_ALL = 0xf,
};

int proc_scan_parse_status(const char *buf, size_t len, struct lin_status *out)
{
	static const struct {
		const char *key;
		guint have;
		guint count;
		guint64 max;
	} keys[] = {
	    {"Tgid:", STATUS_HAVE_TGID, 1, G_MAXINT32},
	    /* real, effective, saved, filesystem */
	    {"Uid:", STATUS_HAVE_UID, 4, G_MAXUINT32},
	    {"Gid:", STATUS_HAVE_GID, 4, G_MAXUINT32},
	    {"Threads:", STATUS_HAVE_THREADS, 1, G_MAXUINT32},
	};
	size_t pos = 0;
	guint have = 0;

	if (!buf)
		return -EINVAL;
	memset(out, 0, sizeof(*out));

	while (pos < len && have != STATUS_HAVE_ALL) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;

		pos += line_len + 1;
		/* Optional (kernels before 4.1 lack it), before Threads. */
		if (line_len > 7 && memcmp(line, "NStgid:", 7) == 0) {
			status_ns_tgid(line + 7, line_len - 7, out);
			continue;
		}
		for (size_t k = 0; k < G_N_ELEMENTS(keys); k++) {
			size_t key_len = strlen(keys[k].key);
			guint64 nums[4];

			if (line_len < key_len || memcmp(line, keys[k].key, key_len) != 0)
				continue;
			if (have & keys[k].have)
				return -EINVAL;
			if (status_numbers(line + key_len, line_len - key_len, keys[k].max, nums,
			                   keys[k].count) < 0)
				return -EINVAL;
			switch (keys[k].have) {
			case STATUS_HAVE_TGID:
				out->tgid = (pid_t)nums[0];
				break;
			case STATUS_HAVE_UID:
				out->ruid = (uid_t)nums[0];
				out->euid = (uid_t)nums[1];
				break;
			case STATUS_HAVE_GID:
				out->rgid = (gid_t)nums[0];
				out->egid = (gid_t)nums[1];
				break;
			case STATUS_HAVE_THREADS:
				out->threads = (guint)nums[0];
				break;
			default:
				g_assert_not_reached();
			}
			have |= keys[k].have;
			break;
		}
	}
	return have == STATUS_HAVE_ALL ? 0 : -EINVAL;
}

pid_t proc_scan_parse_pid_name(const char *name)
{
	guint64 v;

	if (parse_u64(name, strlen(name), G_MAXINT32, &v) < 0)
		return 0;
	return (pid_t)v;
}
