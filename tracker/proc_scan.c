// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The /proc reader (its parsers are in proc_parse.c). The reader opens
 * /proc/<pid> once and reads every file
 * through that directory fd: if the pid is recycled between two reads, the
 * later reads fail with ESRCH instead of describing another process. It runs
 * on the event thread for every EXEC, racing the exit of short-lived
 * processes, so it uses plain syscalls into stack buffers and allocates
 * nothing but the strings it returns.
 */
#include "config.h"

#include "proc_scan.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/magic.h>
#include <string.h>
#include <sys/uio.h>
#include <sys/vfs.h>
#include <unistd.h>

/* Large enough for any stat line (52 numbers and a 64-byte comm take ~1.2 KiB)
 * and for the head of status up to Threads; status lines after Threads
 * (Cpus_allowed, Mems_allowed) may be cut, which is harmless. */
#define PROC_TEXT_MAX 4096
/* Longest exe link accepted: the kernel's d_path() in /proc gives at most a
 * page, but a fake tree may hold longer symlinks on some file systems. */
#define PROC_EXE_MAX (64 * 1024)

/* --- Reading --- */

/* Writes pid in decimal, NUL-terminated, into buf (at least 12 bytes). */
static void format_pid(pid_t pid, char *buf)
{
	char digits[12];
	size_t n = 0, i = 0;
	guint32 v = (guint32)pid;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (n)
		buf[i++] = digits[--n];
	buf[i] = '\0';
}

/* Where read_fd() takes a short read as the end of the file, saving the
 * read() that would return 0: that matters on the EXEC path. */
enum read_end {
	READ_TO_EOF,
	/* A short read ending in '\n': stat and status are single seq_file
	 * records that the kernel hands out in one read. */
	READ_ONE_RECORD,
	/* Any short read: cmdline, whose read() copies the argv area until
	 * the count or its end (get_mm_cmdline()), so a short one ended it. */
	READ_SHORT_ENDS,
};

/* Reads fd into buf until size bytes or the end; *len gets the count, also
 * on error. */
static int read_fd(int fd, char *buf, size_t size, enum read_end end, size_t *len)
{
	size_t total = 0;
	int err = 0;

	while (total < size) {
		ssize_t n = read(fd, buf + total, size - total);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (n == 0)
			break;
		total += (size_t)n;
		if (total < size &&
		    (end == READ_SHORT_ENDS || (end == READ_ONE_RECORD && buf[total - 1] == '\n')))
			break;
	}
	*len = total;
	return err;
}

/* Reads up to size bytes of dirfd/name into buf (see read_fd()). */
static int read_file_at(int dirfd, const char *name, char *buf, size_t size, enum read_end end,
                        size_t *len)
{
	int fd, err;

	*len = 0;
	fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	err = read_fd(fd, buf, size, end, len);
	close(fd);
	return err;
}

int proc_scan_read_file_at(int dirfd, const char *name, char *buf, size_t size, gboolean short_ends,
                           size_t *len)
{
	return read_file_at(dirfd, name, buf, size, short_ends ? READ_SHORT_ENDS : READ_TO_EOF,
	                    len);
}

/* The bytes of the argv area its stat announces (0: none, or unknown). */
static guint64 cmdline_announced(const struct lin_proc_info *info)
{
	if (!(info->read_ok & PROC_READ_STAT) || info->stat.arg_end <= info->stat.arg_start)
		return 0;
	return info->stat.arg_end - info->stat.arg_start;
}

/*
 * Reads a short command line straight from the process's memory, the argv
 * area its stat announced, with one process_vm_readv() instead of the
 * open, read and close of /proc/<pid>/cmdline: the same bytes, as the
 * kernel's cmdline read copies that area too (access_remote_vm() under
 * the same ptrace check). Only for an area of at most PROC_TEXT_MAX bytes
 * that ends in a NUL: a process that rewrote its argv area without one
 * (setproctitle()) has its cmdline file continue into the environment,
 * and a longer one takes the file's head-and-tail reading. The caller
 * proves the pid still names this process afterwards (its exe link read
 * through the pinned directory). 0, or -errno (-EAGAIN: use the file).
 */
static int read_cmdline_memory(struct proc_read *r, pid_t pid)
{
	guint64 announced = cmdline_announced(&r->info);
	char buf[PROC_TEXT_MAX];
	struct iovec local, remote;
	ssize_t n;

	if (announced == 0 || announced > sizeof(buf) || announced > r->max_cmdline ||
	    r->info.stat.arg_start > UINTPTR_MAX)
		return -EAGAIN;
	local.iov_base = buf;
	local.iov_len = (size_t)announced;
	remote.iov_base = (void *)(uintptr_t)r->info.stat.arg_start;
	remote.iov_len = (size_t)announced;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0 && errno == ESRCH)
		return -ESRCH;
	if (n != (ssize_t)announced || buf[n - 1] != '\0')
		return -EAGAIN;
	r->info.cmdline = g_memdup2(buf, (gsize)n);
	r->info.cmdline_len = (gsize)n;
	r->cmdline_from_memory = TRUE;
	return 0;
}

/*
 * Reads cmdline up to LIN_CMDLINE_INLINE bytes. When that fills, or when
 * what was read is longer than the cap, the fd stays open in
 * r->cmdline_fd for proc_scan_cmdline_finish(): reading the rest and
 * hashing it can take milliseconds.
 */
static int read_cmdline(struct proc_read *r)
{
	struct lin_proc_info *out = &r->info;
	char head[PROC_TEXT_MAX];
	char *buf = head;
	size_t total, more = 0;
	int fd, err;

	fd = openat(r->dirfd, "cmdline", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	/* Most command lines fit the stack buffer: one exact-size copy then. */
	err = read_fd(fd, head, sizeof(head), READ_SHORT_ENDS, &total);
	if (err == 0 && total == sizeof(head)) {
		buf = g_malloc(LIN_CMDLINE_INLINE);
		memcpy(buf, head, total);
		err = read_fd(fd, buf + total, LIN_CMDLINE_INLINE - total, READ_SHORT_ENDS, &more);
		total += more;
	}
	if (err < 0) {
		close(fd);
		if (buf != head)
			g_free(buf);
		return err;
	}
	if (total == LIN_CMDLINE_INLINE || total > r->max_cmdline)
		r->cmdline_fd = fd;
	else
		close(fd);
	out->cmdline_len = total;
	if (buf != head)
		out->cmdline = g_realloc(buf, total);
	else if (total > 0)
		out->cmdline = g_memdup2(head, total);
	return 0;
}

/*
 * Keeps the two ends of a byte stream of unknown length, at most cap bytes:
 * the first head_keep bytes, then the last tail_keep in a ring, while the
 * whole goes through SHA-256. The buffer grows with what arrives, so a
 * short command line never costs the whole cap.
 */
struct cmdline_sink {
	GChecksum *sum;
	gsize head_keep, tail_keep;
	char *kept; /* [0, head_keep): the head; [head_keep, cap): the tail ring */
	gsize kept_size;
	gsize total; /* bytes fed */
};

static void sink_reserve(struct cmdline_sink *k, gsize need)
{
	gsize cap = k->head_keep + k->tail_keep;

	if (need <= k->kept_size)
		return;
	k->kept_size = MIN(cap, MAX(need, MAX(k->kept_size * 2, (gsize)PROC_TEXT_MAX)));
	k->kept = g_realloc(k->kept, k->kept_size);
}

static void sink_feed(struct cmdline_sink *k, const char *data, gsize len)
{
	g_checksum_update(k->sum, (const guchar *)data, (gssize)len);
	while (len > 0) {
		gsize at, span;

		if (k->total < k->head_keep) {
			at = k->total;
			span = k->head_keep - k->total;
		} else {
			gsize in_ring = (k->total - k->head_keep) % k->tail_keep;

			at = k->head_keep + in_ring;
			span = k->tail_keep - in_ring;
		}
		span = MIN(span, len);
		sink_reserve(k, at + span);
		memcpy(k->kept + at, data, span);
		k->total += span;
		data += span;
		len -= span;
	}
}

/* The kept bytes in order, head then tail: the whole when it fitted. */
static char *sink_take(struct cmdline_sink *k, gsize *len)
{
	gsize cap = k->head_keep + k->tail_keep;
	gsize oldest;
	char *out;

	if (k->total <= cap) {
		*len = k->total;
		out = k->total ? g_realloc(k->kept, k->total) : (g_free(k->kept), NULL);
		k->kept = NULL;
		return out;
	}
	/* The ring's oldest byte is where the next one would go. */
	oldest = (k->total - k->head_keep) % k->tail_keep;
	out = g_malloc(cap);
	memcpy(out, k->kept, k->head_keep);
	memcpy(out + k->head_keep, k->kept + k->head_keep + oldest, k->tail_keep - oldest);
	memcpy(out + k->head_keep + (k->tail_keep - oldest), k->kept + k->head_keep, oldest);
	g_free(k->kept);
	k->kept = NULL;
	*len = cap;
	return out;
}

/*
 * The end of a long command line, read while the process surely still has
 * it: the rest is read later, and a process that exits meanwhile would
 * take its last bytes along, where padding puts a payload. One pread() of
 * at most LIN_CMDLINE_INLINE bytes, only when the head filled its read.
 */
static void read_cmdline_tail(struct proc_read *r)
{
	guint64 announced = cmdline_announced(&r->info);
	gsize want;
	ssize_t n;

	if (r->cmdline_fd < 0 || announced <= r->info.cmdline_len)
		return;
	want = (gsize)MIN(announced - r->info.cmdline_len,
	                  (guint64)MIN((gsize)LIN_CMDLINE_INLINE, r->max_cmdline / 2));
	if (want == 0)
		return;
	r->cmdline_tail = g_malloc(want);
	r->cmdline_tail_at = announced - want;
	do
		n = pread(r->cmdline_fd, r->cmdline_tail, want, (off_t)r->cmdline_tail_at);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		g_clear_pointer(&r->cmdline_tail, g_free);
		return;
	}
	r->cmdline_tail_len = (gsize)n;
}

/*
 * A command line whose process exited during the long read: what was read
 * of it (kept, kept_len: the sink's head and tail ends, read_len bytes
 * fed), then the part of the early tail read beyond it, the two ends cut
 * to the cap if they overlap it. Returns the new bytes; frees kept.
 */
static char *join_early_tail(struct proc_read *r, char *kept, gsize kept_len, guint64 read_len,
                             gsize head_keep, gsize tail_keep, gsize *len)
{
	guint64 tail_end = r->cmdline_tail_at + r->cmdline_tail_len;
	gsize skip, extra, total;
	char *out;

	if (!r->cmdline_tail || tail_end <= read_len) {
		*len = kept_len;
		return kept;
	}
	skip = read_len > r->cmdline_tail_at ? (gsize)(read_len - r->cmdline_tail_at) : 0;
	extra = r->cmdline_tail_len - skip;
	total = kept_len + extra;
	out = g_realloc(kept, total);
	memcpy(out + kept_len, r->cmdline_tail + skip, extra);
	if (total > head_keep + tail_keep) {
		memmove(out + head_keep, out + total - tail_keep, tail_keep);
		total = head_keep + tail_keep;
		out = g_realloc(out, total);
	}
	*len = total;
	return out;
}

gboolean proc_scan_cmdline_pending(const struct proc_read *r)
{
	return r->cmdline_fd >= 0;
}

void proc_scan_cmdline_finish(struct proc_read *r)
{
	struct lin_proc_info *info = &r->info;
	struct cmdline_sink sink = {
	    .head_keep = r->max_cmdline - r->max_cmdline / 2,
	    .tail_keep = r->max_cmdline / 2,
	};
	g_autofree char *chunk = NULL;
	char exe[8];
	gboolean cut_short = FALSE;
	gboolean whole = FALSE;
	guint64 announced = 0;

	/* Every finish comes here: the checksum only for a long command line
	 * (it leaked, from GSlice where LeakSanitizer does not look, at every
	 * EXEC, and its setup was 2% of the event thread's time). */
	if (r->cmdline_fd < 0)
		return;
	sink.sum = g_checksum_new(G_CHECKSUM_SHA256);
	sink_feed(&sink, info->cmdline, info->cmdline_len);
	g_clear_pointer(&info->cmdline, g_free);
	chunk = g_malloc(LIN_CMDLINE_INLINE);
	for (;;) {
		ssize_t n = read(r->cmdline_fd, chunk, LIN_CMDLINE_INLINE);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			cut_short = TRUE;
		if (n <= 0)
			break;
		sink_feed(&sink, chunk, (gsize)n);
	}
	close(r->cmdline_fd);
	r->cmdline_fd = -1;

	/* The kernel ends the file early, without an error, once the
	 * process has released its memory (exit): if that happened, and the
	 * argv area its stat announced is longer than what was read, the
	 * end is missing. A process whose memory is still there (exe still
	 * readable) read to its real end, even if setproctitle() shortened
	 * it below that area. */
	announced = cmdline_announced(info);
	if (!cut_short && sink.total < announced &&
	    readlinkat(r->dirfd, "exe", exe, sizeof(exe)) < 0)
		cut_short = TRUE;

	/* The early tail may hold all that the long read missed (the
	 * process exited after the read passed the tail's start): then every
	 * byte was read after all, and the hash is the whole's. */
	if (cut_short && r->cmdline_tail && sink.total >= r->cmdline_tail_at &&
	    r->cmdline_tail_at + r->cmdline_tail_len == announced && announced > sink.total) {
		gsize skip = (gsize)(sink.total - r->cmdline_tail_at);

		g_checksum_update(sink.sum, (const guchar *)r->cmdline_tail + skip,
		                  (gssize)(r->cmdline_tail_len - skip));
		whole = TRUE;
	}
	info->cmdline = sink_take(&sink, &info->cmdline_len);
	if (cut_short)
		info->cmdline = join_early_tail(r, info->cmdline, info->cmdline_len, sink.total,
		                                sink.head_keep, sink.tail_keep, &info->cmdline_len);
	g_clear_pointer(&r->cmdline_tail, g_free);
	if (whole) {
		info->cmdline_truncated = announced > info->cmdline_len;
		info->cmdline_full_len = announced;
		g_strlcpy(info->cmdline_sha256, g_checksum_get_string(sink.sum),
		          sizeof(info->cmdline_sha256));
	} else if (cut_short) {
		info->cmdline_truncated = TRUE;
		info->cmdline_full_len = MAX(announced, sink.total);
		info->cmdline_sha256[0] = '\0';
	} else {
		info->cmdline_truncated = sink.total > info->cmdline_len;
		info->cmdline_full_len = sink.total;
		g_strlcpy(info->cmdline_sha256, g_checksum_get_string(sink.sum),
		          sizeof(info->cmdline_sha256));
	}
	g_checksum_free(sink.sum);
}

/* Reads the exe link verbatim, " (deleted)" suffix included. */
static int read_exe(int dirfd, struct lin_proc_info *out)
{
	char stack_buf[PATH_MAX];
	char *buf = stack_buf;
	size_t size = sizeof(stack_buf);
	ssize_t n;

	for (;;) {
		n = readlinkat(dirfd, "exe", buf, size);
		if (n < 0) {
			int err = -errno;

			if (buf != stack_buf)
				g_free(buf);
			return err;
		}
		/* readlink() truncates silently: a full buffer may be a cut path. */
		if ((size_t)n < size)
			break;
		if (size >= PROC_EXE_MAX) {
			if (buf != stack_buf)
				g_free(buf);
			return -ENAMETOOLONG;
		}
		if (buf != stack_buf)
			g_free(buf);
		size *= 2;
		buf = g_malloc(size);
	}
	if (n == 0) {
		if (buf != stack_buf)
			g_free(buf);
		return -EINVAL;
	}
	out->exe = g_strndup(buf, (gsize)n);
	if (buf != stack_buf)
		g_free(buf);
	return 0;
}

void proc_scan_begin(int proc_root_fd, pid_t pid, guint what, gsize max_cmdline,
                     struct proc_read *r)
{
	proc_scan_begin_with(proc_root_fd, pid, what, max_cmdline, NULL, r);
}

/* Reads and parses stat into r->info (sets r->err). */
static void read_stat(struct proc_read *r)
{
	char text[PROC_TEXT_MAX];
	size_t len;

	r->err = read_file_at(r->dirfd, "stat", text, sizeof(text), READ_ONE_RECORD, &len);
	if (r->err == 0)
		r->err = proc_scan_parse_stat(text, len, &r->info.stat);
	if (r->err == 0)
		r->info.read_ok |= PROC_READ_STAT;
}

/* Records how a command line read went. */
static void note_cmdline(struct proc_read *r, int ret)
{
	if (ret == 0)
		r->info.read_ok |= PROC_READ_CMDLINE;
	else if (ret == -ESRCH || ret == -ENOENT)
		r->info.read_gone |= PROC_READ_CMDLINE;
}

void proc_scan_begin_with(int proc_root_fd, pid_t pid, guint what, gsize max_cmdline,
                          const struct proc_context_opts *ctx_opts, struct proc_read *r)
{
	char name[16];
	gboolean exe_missing = FALSE;
	gboolean stat_first;
	struct lin_proc_info *info = &r->info;

	memset(r, 0, sizeof(*r));
	r->what = what;
	r->ctx_opts = ctx_opts;
	r->dirfd = -1;
	r->cmdline_fd = -1;
	r->max_cmdline =
	    max_cmdline ? MAX(max_cmdline, LIN_CMDLINE_MIN_CAP) : LIN_CMDLINE_KERNEL_MAX;
	if (pid <= 0) {
		r->err = -EINVAL;
		return;
	}
	format_pid(pid, name);
	/* O_PATH: only ever a base for the reads below; opening and closing
	 * it skips the permission check and the file setup of a readable
	 * directory (about 3 us of the 20 system calls of an EXEC's read). */
	r->dirfd = openat(proc_root_fd, name, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r->dirfd < 0) {
		r->err = -errno;
		return;
	}

	/* cmdline and exe early: they vanish when the process releases its
	 * memory at exit, a few hundred microseconds after a short-lived
	 * process's EXEC event, while stat and status last until it is
	 * reaped. The directory fd pins the task it was opened for, so a
	 * recycled pid can only make these reads fail, never return another
	 * process's data; stat then tells whether it is the process asked for.
	 * On the live /proc, stat comes first when both are wanted: it gives
	 * the argv area that read_cmdline_memory() reads in one system call
	 * (two fewer than the file), and the exe read after it proves the pid
	 * still named this process then. Not when the read is urgent: stat
	 * first puts the command line a stat read later. */
	stat_first = ctx_opts && ctx_opts->argv_in_memory && (what & PROC_READ_CMDLINE) &&
	             (what & PROC_READ_EXE) && !(what & PROC_READ_URGENT);
	if (stat_first) {
		read_stat(r);
		if (r->err < 0)
			return;
	}
	if (what & PROC_READ_CMDLINE) {
		int ret = stat_first ? read_cmdline_memory(r, pid) : -EAGAIN;

		if (ret == -EAGAIN)
			ret = read_cmdline(r);
		note_cmdline(r, ret);
	}
	if (what & PROC_READ_EXE) {
		int exe_ret = read_exe(r->dirfd, info);

		/* A kernel thread has no mm, hence no exe: that is its answer
		 * (checked once stat says it is a kernel thread). */
		if (exe_ret == 0)
			info->read_ok |= PROC_READ_EXE;
		else if (exe_ret == -ENOENT)
			exe_missing = TRUE;
	}
	if (r->cmdline_from_memory && !(info->read_ok & PROC_READ_EXE)) {
		/* Nothing proves the pid named this process at the memory
		 * read: the file, read through the pinned directory, says. */
		g_clear_pointer(&info->cmdline, g_free);
		info->cmdline_len = 0;
		info->read_ok &= ~(guint)PROC_READ_CMDLINE;
		r->cmdline_from_memory = FALSE;
		note_cmdline(r, read_cmdline(r));
	}

	/* Then stat, at once too: it names the process these reads came
	 * from, and can be read only until the process is reaped. */
	if (!stat_first) {
		read_stat(r);
		if (r->err < 0)
			return;
	}
	read_cmdline_tail(r);
	if (exe_missing && (info->stat.flags & LIN_PF_KTHREAD))
		info->read_ok |= PROC_READ_EXE;
	else if (exe_missing)
		/* A user process loses its exe link when it releases its
		 * memory at exit. */
		info->read_gone |= PROC_READ_EXE;
	/* A process that released its memory (exiting) reads as an empty
	 * cmdline, not as an error; an empty argv is legal too (execve with
	 * argv NULL), but then the exe is still readable. */
	if ((what & PROC_READ_EXE) && exe_missing && info->cmdline_len == 0 &&
	    !(info->stat.flags & LIN_PF_KTHREAD) && (info->read_ok & PROC_READ_CMDLINE)) {
		info->read_ok &= ~(guint)PROC_READ_CMDLINE;
		info->read_gone |= PROC_READ_CMDLINE;
	}
	/* Only now the context: cwd, the namespace and environ also vanish
	 * at exit, but they never delay the reads above. */
	if (what & PROC_READ_CONTEXT)
		proc_context_read_early(r->dirfd, ctx_opts, &info->ctx);
}

void proc_scan_know_audit(struct proc_read *r, guint32 loginuid, guint32 sessionid)
{
	r->audit_known = TRUE;
	r->audit.loginuid = loginuid;
	r->audit.sessionid = sessionid;
}

const struct lin_stat *proc_scan_begun_stat(const struct proc_read *r)
{
	return r->err == 0 && (r->info.read_ok & PROC_READ_STAT) ? &r->info.stat : NULL;
}

int proc_scan_finish(struct proc_read *r, guint64 expect_start, struct lin_proc_info *out)
{
	char text[PROC_TEXT_MAX];
	size_t len;
	int ret = r->err;

	if (ret == 0 && !(expect_start && r->info.stat.start_ticks != expect_start))
		proc_scan_cmdline_finish(r);
	*out = r->info;
	memset(&r->info, 0, sizeof(r->info));
	if (ret < 0)
		goto out;
	if (expect_start && out->stat.start_ticks != expect_start) {
		ret = -ESRCH;
		goto out;
	}

	/* From here on a failure only leaves its bit unset in read_ok. The
	 * context first: cwd and ns/pid go at exit, status lasts until the
	 * process is reaped. */
	if (r->what & PROC_READ_CONTEXT) {
		proc_context_read_late(r->dirfd, r->audit_known ? &r->audit : NULL, &out->ctx);
		/* NsPid (status's NStgid) is needed only outside /proc's own
		 * pid namespace: there it is the pid itself. */
		if ((out->ctx.read_ok & PROC_CTX_PIDNS) &&
		    !(r->ctx_opts && r->ctx_opts->own_pidns == out->ctx.pidns))
			r->what |= PROC_READ_STATUS;
	}
	if (r->what & PROC_READ_STATUS) {
		if (read_file_at(r->dirfd, "status", text, sizeof(text), READ_ONE_RECORD, &len) ==
		    0) {
			/* A full buffer may end in a cut line; keep whole lines only. */
			if (len == sizeof(text)) {
				const char *nl = memrchr(text, '\n', len);

				len = nl ? (size_t)(nl + 1 - text) : 0;
			}
			if (proc_scan_parse_status(text, len, &out->status) == 0)
				out->read_ok |= PROC_READ_STATUS;
		}
	}
	ret = 0;
out:
	proc_scan_abandon(r);
	if (ret < 0) {
		lin_proc_info_clear(out);
		/* Reaped, or the pid recycled: every read came too late. */
		if (ret == -ENOENT || ret == -ESRCH)
			out->read_gone = r->what;
	}
	return ret;
}

void proc_scan_abandon(struct proc_read *r)
{
	if (r->cmdline_fd >= 0)
		close(r->cmdline_fd);
	r->cmdline_fd = -1;
	g_clear_pointer(&r->cmdline_tail, g_free);
	if (r->dirfd >= 0)
		close(r->dirfd);
	r->dirfd = -1;
	lin_proc_info_clear(&r->info);
}

int proc_scan_read_process(int proc_root_fd, pid_t pid, guint64 expect_start, guint what,
                           gsize max_cmdline, struct lin_proc_info *out)
{
	struct proc_read r;

	proc_scan_begin(proc_root_fd, pid, what, max_cmdline, &r);
	return proc_scan_finish(&r, expect_start, out);
}

gboolean proc_scan_is_live(int proc_root_fd)
{
	struct statfs fs;
	char link[16], self[16];
	ssize_t n;

	if (fstatfs(proc_root_fd, &fs) != 0 || fs.f_type != PROC_SUPER_MAGIC)
		return FALSE;
	n = readlinkat(proc_root_fd, "self", link, sizeof(link) - 1);
	if (n <= 0)
		return FALSE;
	link[n] = '\0';
	format_pid(getpid(), self);
	return strcmp(link, self) == 0;
}

void lin_proc_info_clear(struct lin_proc_info *info)
{
	if (!info)
		return;
	g_free(info->cmdline);
	g_free(info->exe);
	proc_context_clear(&info->ctx);
	memset(info, 0, sizeof(*info));
}

/* Opens dirfd/path as a directory stream with its own file offset. */
static DIR *open_dir_at(int dirfd, const char *path, int *err)
{
	DIR *dir;
	int fd;

	fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	dir = fdopendir(fd);
	if (!dir) {
		*err = -errno;
		close(fd);
		return NULL;
	}
	return dir;
}

int proc_scan_foreach(int proc_root_fd, gsize max_cmdline, proc_scan_fn fn, void *data)
{
	struct lin_proc_info info;
	struct dirent *de;
	int count = 0, err = 0;
	DIR *dir;

	/* A fresh open, not a dup: a dup would share (and move) the caller's offset. */
	dir = open_dir_at(proc_root_fd, ".", &err);
	if (!dir)
		return err;
	for (;;) {
		pid_t pid;
		int ret;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			err = errno ? -errno : 0;
			break;
		}
		pid = proc_scan_parse_pid_name(de->d_name);
		if (pid <= 0)
			continue;
		ret = proc_scan_read_process(proc_root_fd, pid, 0,
		                             PROC_READ_ALL | PROC_READ_CONTEXT, max_cmdline, &info);
		if (ret < 0) {
			/* Exited since readdir (ENOENT, ESRCH), or not a process we
			 * can parse: neither stops the scan. */
			if (ret != -ENOENT && ret != -ESRCH)
				g_debug("proc_scan: skipping pid %d: %s", pid, g_strerror(-ret));
			continue;
		}
		fn(&info, data);
		lin_proc_info_clear(&info);
		if (count < G_MAXINT)
			count++;
	}
	closedir(dir);
	return err < 0 ? err : count;
}

int proc_scan_threads(int proc_root_fd, pid_t pid, GArray *tids)
{
	char path[32];
	struct dirent *de;
	int err = 0;
	DIR *dir;

	if (pid <= 0)
		return -EINVAL;
	format_pid(pid, path);
	strcat(path, "/task");
	dir = open_dir_at(proc_root_fd, path, &err);
	if (!dir)
		return err;
	for (;;) {
		pid_t tid;

		errno = 0;
		de = readdir(dir);
		if (!de) {
			err = errno ? -errno : 0;
			break;
		}
		tid = proc_scan_parse_pid_name(de->d_name);
		if (tid > 0 && tid != pid)
			g_array_append_val(tids, tid);
	}
	closedir(dir);
	return err;
}
