/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The /proc reader: parses /proc/<pid>/stat and /proc/<pid>/status, and reads
 * one process (stat, status, cmdline, exe) through a single directory fd so
 * that every file read belongs to the same task even if the pid is recycled
 * meanwhile. All paths are relative to a "proc root" directory fd, so unit
 * tests point it at a fake /proc tree.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

#include "proc_context.h"

/* Longest comm the kernel shows (workqueue workers get 64 bytes in 6.x). */
#define LIN_COMM_MAX 64
/* The longest command line the kernel hands to a new program: argv and
 * envp together get at most 3/4 of _STK_LIM (fs/exec.c, since 4.13), and
 * /proc/<pid>/cmdline runs into the environment only when argv's last byte
 * was overwritten (setproctitle). The default cap, so a command line is
 * kept whole unless --max-cmdline asks for less. */
#define LIN_CMDLINE_KERNEL_MAX (6 * 1024 * 1024)
/* The smallest cap accepted: both ends of a cut line keep something. */
#define LIN_CMDLINE_MIN_CAP 64
/* Bytes kept of a new command line while the string budget is spent. */
#define LIN_CMDLINE_SQUEEZED 4096
/* Bytes read on the reader's own thread; a longer command line is finished
 * by proc_scan_cmdline_finish(), possibly on another thread. */
#define LIN_CMDLINE_INLINE (64 * 1024)
/* Hex SHA-256, NUL included. */
#define LIN_SHA256_HEX_SIZE 65

/* PF_KTHREAD from include/linux/sched.h: field 9 (flags) of stat. */
#define LIN_PF_KTHREAD 0x00200000u

/* What fields 3..22 of /proc/<pid>/stat gave. */
struct lin_stat {
	pid_t pid;
	char comm[LIN_COMM_MAX];
	char state;
	pid_t ppid;
	pid_t pgid;     /* field 5: process group */
	pid_t sid;      /* field 6: session */
	guint32 tty_nr; /* field 7: controlling terminal, 0 for none */
	guint32 flags;
	guint64 utime_ticks, stime_ticks; /* fields 14 and 15: CPU time so far */
	guint64 start_ticks;
	/* Fields 28, 48 and 49, 0 when hidden (no mm, or no permission):
	 * the address of the stack's start tells an image apart from another
	 * of the same program (ASLR), and a fork keeps its parent's; the
	 * argv area's bounds give the length of a fresh exec's cmdline. */
	guint64 start_stack;
	guint64 arg_start, arg_end;
};

/* What /proc/<pid>/status gave. */
struct lin_status {
	pid_t tgid;
	uid_t ruid, euid;
	gid_t rgid, egid;
	guint threads;
	/* NStgid's last number: the pid inside the process's own pid
	 * namespace; 0 when the line was missing. */
	pid_t ns_tgid;
};

/* What to read in proc_scan_read_process(). */
enum {
	PROC_READ_STAT = 1 << 0,
	PROC_READ_STATUS = 1 << 1,
	PROC_READ_CMDLINE = 1 << 2,
	PROC_READ_EXE = 1 << 3,
	PROC_READ_ALL = 0xf,
	/* The context (proc_context.h), on top of what is asked: its early
	 * reads right after stat, its late ones after status. */
	PROC_READ_CONTEXT = 1 << 4,
	/* The process may be releasing its memory already (its EXEC is read
	 * late): cmdline and exe before anything else, from the files, not
	 * from memory after stat (proc_context_opts.argv_in_memory). */
	PROC_READ_URGENT = 1 << 5,
};

/* One process as read from /proc. Strings are g_malloc'd; clear with
 * lin_proc_info_clear(). */
struct lin_proc_info {
	struct lin_stat stat;
	struct lin_status status;
	/* NUL-separated argv, NOT NUL-terminated as a C string; NULL when
	 * empty (kernel thread, zombie). When cut (cmdline_truncated), the
	 * first cap - cap / 2 bytes and the last cap / 2 bytes of the whole. */
	char *cmdline;
	gsize cmdline_len;
	gboolean cmdline_truncated;
	/* Bytes of the whole command line, and its SHA-256 in hex, set when
	 * it was longer than LIN_CMDLINE_INLINE or cut; otherwise 0 and ""
	 * (the kept bytes are the whole). When the process vanished during
	 * the read, cmdline_truncated is set, cmdline_full_len is what its
	 * stat announced and cmdline_sha256 stays "": the bytes are what was
	 * read of the head, then the end read early (see struct proc_read). */
	gsize cmdline_full_len;
	char cmdline_sha256[LIN_SHA256_HEX_SIZE];
	char *exe; /* absolute path, or NULL (kernel thread, unreadable) */
	/* PROC_READ_* bits that succeeded. PROC_READ_EXE is set with exe NULL
	 * for a kernel thread (it has no exe), but not for a user process whose
	 * link could not be read (exited, no permission). */
	guint read_ok;
	/* PROC_READ_* bits that failed because the process had exited: its
	 * directory or stat was gone (reaped, or the pid recycled: all bits),
	 * or its memory released (cmdline empty, exe link gone). A bit unset
	 * in both read_ok and read_gone failed for another reason (out of
	 * fds, no permission): a miss its exit does not explain. */
	guint read_gone;
	struct lin_proc_context ctx; /* with PROC_READ_CONTEXT; see ctx.read_ok */
};

/* Parses the text of /proc/<pid>/stat. The comm may hold spaces and ')':
 * the comm ends at the LAST ')'. Returns 0 or -EINVAL. */
int proc_scan_parse_stat(const char *buf, size_t len, struct lin_stat *out);

/* Parses the text of /proc/<pid>/status (Tgid, Uid, Gid, Threads, and
 * NStgid when present).
 * Returns 0 or -EINVAL when a required line is missing or malformed. */
int proc_scan_parse_status(const char *buf, size_t len, struct lin_status *out);

/* The pid a /proc directory entry name is, or 0 for anything else. */
pid_t proc_scan_parse_pid_name(const char *name);

/* Whether proc_root_fd is the /proc of the daemon's own pid namespace (a
 * procfs whose "self" is our pid), where a pid read there can be handed
 * to process_vm_readv(); a fake tree in the tests, or another namespace's
 * /proc, is not. */
gboolean proc_scan_is_live(int proc_root_fd);

/* Reads /proc/<pid> (relative to proc_root_fd) into out, keeping at most
 * max_cmdline bytes of the command line (0: LIN_CMDLINE_KERNEL_MAX): cmdline and exe
 * first, then stat, then status, all through one directory fd, so that a
 * recycled pid can only make a read fail, never return another process's
 * data. When expect_start is non-zero and the stat start time differs,
 * returns -ESRCH (the pid was recycled). out is overwritten, not cleared.
 * Returns 0 when at least stat was read (check out->read_ok for the rest),
 * or -errno: -ENOENT/-ESRCH when the process is gone, -EINVAL when stat
 * does not parse. On error out holds nothing to free. */
int proc_scan_read_process(int proc_root_fd, pid_t pid, guint64 expect_start, guint what,
                           gsize max_cmdline, struct lin_proc_info *out);

/* proc_scan_read_process() in two halves, for a reader that must catch
 * several short-lived processes at once: proc_scan_begin() opens the
 * directory and reads what must be read at once: cmdline and exe, which
 * vanish when the process exits, then stat, which names the process they
 * came from; proc_scan_finish() reads what lasts as long as the directory
 * fd (status), checks the start time, and returns as
 * proc_scan_read_process() does. Every begun read is either finished or
 * abandoned; both close the directory fd and free what was read.
 *
 * A command line longer than LIN_CMDLINE_INLINE is not read whole by
 * proc_scan_begin(): reading megabytes takes milliseconds, during which
 * other short-lived processes' command lines vanish. Its fd stays open
 * (proc_scan_cmdline_pending()) and proc_scan_cmdline_finish() reads the
 * rest, on any one thread; proc_scan_finish() calls it when nobody did.
 * Its last LIN_CMDLINE_INLINE bytes (at most the cap's tail half) are
 * read at once too, right after stat says where the argv area ends: a
 * short-lived process that exits during the long read still has both ends
 * of its command line kept, so padding cannot push a payload out of sight
 * even when the process outruns the reader. */
struct proc_read {
	int dirfd; /* -1 when the open failed (err says why) or once finished */
	int err;   /* the open or stat read failed: the process is gone */
	guint what;
	gsize max_cmdline;  /* bytes kept */
	int cmdline_fd;     /* >= 0: the rest of the command line is unread */
	char *cmdline_tail; /* the argv area's last bytes, read early, or NULL */
	gsize cmdline_tail_len;
	guint64 cmdline_tail_at;                  /* their offset in the command line */
	gboolean cmdline_from_memory;             /* read with process_vm_readv(), not the file */
	const struct proc_context_opts *ctx_opts; /* not owned; may be NULL */
	struct lin_proc_info info;                /* read so far */
	gboolean audit_known;                     /* see proc_scan_know_audit() */
	struct proc_audit_ids audit;
};

void proc_scan_begin(int proc_root_fd, pid_t pid, guint what, gsize max_cmdline,
                     struct proc_read *r);
/* The same with the context options (--env, --hash-exe); ctx_opts must
 * outlive the read. */
void proc_scan_begin_with(int proc_root_fd, pid_t pid, guint what, gsize max_cmdline,
                          const struct proc_context_opts *ctx_opts, struct proc_read *r);
/* Whether a begun read left the rest of a long command line unread. */
gboolean proc_scan_cmdline_pending(const struct proc_read *r);
/* Reads the rest of the command line, keeps both ends when it is longer
 * than the cap, and sets its length and SHA-256. Touches r alone. */
void proc_scan_cmdline_finish(struct proc_read *r);
/* The audit ids the process is known to have had (see
 * proc_context_read_late()), for the finish's context reads. */
void proc_scan_know_audit(struct proc_read *r, guint32 loginuid, guint32 sessionid);
/* The stat a begun read found, or NULL when the process was already gone. */
const struct lin_stat *proc_scan_begun_stat(const struct proc_read *r);
int proc_scan_finish(struct proc_read *r, guint64 expect_start, struct lin_proc_info *out);
void proc_scan_abandon(struct proc_read *r);

void lin_proc_info_clear(struct lin_proc_info *info);

/* Reads up to size bytes of dirfd/name into buf; *len gets the count, also
 * on error. With short_ends, a short read is taken as the whole file,
 * saving the read() that would return 0: for the small /proc files the
 * kernel hands out whole in one read (a seq_file of one record such as
 * cgroup, a formatted number such as loginuid). 0 or -errno. */
int proc_scan_read_file_at(int dirfd, const char *name, char *buf, size_t size, gboolean short_ends,
                           size_t *len);

typedef void (*proc_scan_fn)(const struct lin_proc_info *info, void *data);

/* Calls fn for every process directory (numeric name) under proc_root_fd,
 * read with PROC_READ_ALL and PROC_READ_CONTEXT (without its options;
 * max_cmdline as in proc_scan_read_process()). Entries that vanish
 * meanwhile are skipped. Returns the number of processes reported, or -errno. */
int proc_scan_foreach(int proc_root_fd, gsize max_cmdline, proc_scan_fn fn, void *data);

/* Appends to tids (GArray of pid_t) every thread of pid except pid itself,
 * from /proc/<pid>/task. Returns 0 or -errno. */
int proc_scan_threads(int proc_root_fd, pid_t pid, GArray *tids);
