// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The context reader. Like proc_scan.c, it reads through the directory fd
 * of /proc/<pid> that the caller holds, so a recycled pid only makes a read
 * fail; it runs on the event thread after an EXEC's urgent reads, so it
 * uses plain syscalls into stack buffers except for environ, which is read
 * only when --env asks for names and can be long.
 */
#include "config.h"

#include "proc_context.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "proc_scan.h"

/* /proc/<pid>/cgroup on a v2 host is one line; a hybrid host lists the v1
 * hierarchies first. */
#define CONTEXT_TEXT_MAX 4096
/* environ is the whole environment block; more than this is not read (a
 * huge environment must not stall the event thread). */
#define CONTEXT_ENVIRON_MAX (128 * 1024)

int proc_context_parse_u32(const char *buf, size_t len, guint32 *value)
{
	guint64 v = 0;
	size_t n = len;

	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	if (n == 0 || n > 10)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!g_ascii_isdigit(buf[i]))
			return -EINVAL;
		v = v * 10 + (guint64)(buf[i] - '0');
	}
	if (v > G_MAXUINT32)
		return -EINVAL;
	*value = (guint32)v;
	return 0;
}

int proc_context_parse_cgroup(const char *buf, size_t len, const char **path, size_t *path_len)
{
	size_t pos = 0;

	while (pos < len) {
		const char *line = buf + pos;
		const char *nl = memchr(line, '\n', len - pos);
		size_t line_len = nl ? (size_t)(nl - line) : len - pos;

		pos += line_len + 1;
		if (line_len >= 4 && memcmp(line, "0::", 3) == 0 && line[3] == '/') {
			*path = line + 3;
			*path_len = line_len - 3;
			return 0;
		}
	}
	return -EINVAL;
}

int proc_context_parse_ns_link(const char *buf, size_t len, guint32 *inode)
{
	const char *open = memchr(buf, '[', len);

	if (!open || len < 3 || buf[len - 1] != ']')
		return -EINVAL;
	return proc_context_parse_u32(open + 1, (size_t)(buf + len - 1 - (open + 1)), inode);
}

/* Whether the entry entry[0..len) is "NAME=..." for one of names; the index. */
static int env_name_index(const char *entry, size_t len, char *const *names)
{
	const char *eq = memchr(entry, '=', len);
	size_t name_len;

	if (!eq)
		return -1;
	name_len = (size_t)(eq - entry);
	for (int i = 0; names[i]; i++)
		if (strlen(names[i]) == name_len && memcmp(names[i], entry, name_len) == 0)
			return i;
	return -1;
}

void proc_context_filter_environ(const char *buf, size_t len, char *const *names, GString *out)
{
	guint64 found = 0; /* names already taken (the first 64 are tracked) */
	size_t pos = 0;

	while (pos < len) {
		const char *entry = buf + pos;
		const char *nul = memchr(entry, '\0', len - pos);
		size_t entry_len = nul ? (size_t)(nul - entry) : len - pos;
		int i = env_name_index(entry, entry_len, names);

		pos += entry_len + 1;
		if (i < 0 || (i < 64 && (found & (G_GUINT64_CONSTANT(1) << i))))
			continue;
		if (i < 64)
			found |= G_GUINT64_CONSTANT(1) << i;
		g_string_append_len(out, entry, (gssize)entry_len);
		g_string_append_c(out, '\0');
	}
}

/* readlinkat into a g_malloc'd string, or NULL. */
static char *read_link(int dirfd, const char *name)
{
	char buf[PATH_MAX];
	ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf));

	/* A full buffer may be a cut path: taken as unreadable. */
	if (n <= 0 || (size_t)n >= sizeof(buf))
		return NULL;
	return g_strndup(buf, (gsize)n);
}

static void read_environ(int dirfd, char *const *names, struct lin_proc_context *out)
{
	g_autofree char *buf = NULL;
	g_autoptr(GString) kept = NULL;
	size_t len;
	int fd;

	fd = openat(dirfd, "environ", O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	buf = g_malloc(CONTEXT_ENVIRON_MAX);
	len = 0;
	while (len < CONTEXT_ENVIRON_MAX) {
		ssize_t n = read(fd, buf + len, CONTEXT_ENVIRON_MAX - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	/* An exited process's environ reads as empty: that is "unread". */
	if (len == 0)
		return;
	kept = g_string_new(NULL);
	proc_context_filter_environ(buf, len, names, kept);
	out->read_ok |= PROC_CTX_ENV;
	if (kept->len > 0) {
		out->env_len = kept->len;
		out->env = g_memdup2(kept->str, kept->len);
	}
}

void proc_context_read_early(int dirfd, const struct proc_context_opts *opts,
                             struct lin_proc_context *out)
{
	if (!opts)
		return;
	if (opts->env_names && opts->env_names[0])
		read_environ(dirfd, opts->env_names, out);
	if (opts->exe_identity) {
		struct stat st;

		if (fstatat(dirfd, "exe", &st, 0) == 0 && S_ISREG(st.st_mode)) {
			out->exe_id.dev = st.st_dev;
			out->exe_id.ino = st.st_ino;
			out->exe_id.size = (guint64)st.st_size;
			out->exe_id.mtime_ns =
			    st.st_mtim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_mtim.tv_nsec;
			out->exe_id.ctime_ns =
			    st.st_ctim.tv_sec * G_GINT64_CONSTANT(1000000000) + st.st_ctim.tv_nsec;
			out->exe_id.nlink = (guint32)st.st_nlink;
			out->read_ok |= PROC_CTX_EXE_ID;
		}
	}
}

/* A decimal /proc file such as loginuid: 0 or -errno. */
static int read_u32_at(int dirfd, const char *name, guint32 *value)
{
	char text[CONTEXT_TEXT_MAX];
	size_t len;
	int err = proc_scan_read_file_at(dirfd, name, text, sizeof(text), TRUE, &len);

	return err < 0 ? err : proc_context_parse_u32(text, len, value);
}

/*
 * The audit login uid and session. The kernel changes them only together,
 * when a process writes its own loginuid (audit_set_loginuid()): a valid
 * login uid takes a new session id from one global counter, an unset one
 * unsets both. So a session id names its login uid, and a process whose
 * sessionid is the one known for it (inherited from its creator, or read
 * at an earlier exec) has the known login uid: loginuid is not read, three
 * system calls fewer at nearly every exec. Otherwise both are read, and
 * sessionid again after: a write between the reads would pair a login
 * uid with another session, so that pair is dropped (what the process
 * had before stays).
 */
static void read_audit(int dirfd, const struct proc_audit_ids *known, struct lin_proc_context *out)
{
	guint32 sessionid, loginuid, again;

	if (read_u32_at(dirfd, "sessionid", &sessionid) < 0)
		return;
	if (known && sessionid == known->sessionid) {
		loginuid = known->loginuid;
	} else if (read_u32_at(dirfd, "loginuid", &loginuid) < 0 ||
	           read_u32_at(dirfd, "sessionid", &again) < 0 || again != sessionid) {
		return;
	}
	out->loginuid = loginuid;
	out->sessionid = sessionid;
	out->read_ok |= PROC_CTX_LOGINUID | PROC_CTX_SESSIONID;
}

void proc_context_read_late(int dirfd, const struct proc_audit_ids *known,
                            struct lin_proc_context *out)
{
	char text[CONTEXT_TEXT_MAX];
	const char *path;
	size_t len, path_len;
	char ns[64];
	ssize_t n;

	/* cwd and the namespace go at exit too, but reading them here keeps
	 * them off the path of the next EXEC's urgent reads; a process gone
	 * by now keeps what it inherited at fork. The small files come whole
	 * in one read() (see proc_scan_read_file_at()): one system call each
	 * fewer per exec. */
	out->cwd = read_link(dirfd, "cwd");
	if (out->cwd)
		out->read_ok |= PROC_CTX_CWD;
	n = readlinkat(dirfd, "ns/pid", ns, sizeof(ns));
	if (n > 0 && (size_t)n < sizeof(ns) &&
	    proc_context_parse_ns_link(ns, (size_t)n, &out->pidns) == 0)
		out->read_ok |= PROC_CTX_PIDNS;
	if (proc_scan_read_file_at(dirfd, "cgroup", text, sizeof(text), TRUE, &len) == 0 &&
	    proc_context_parse_cgroup(text, len, &path, &path_len) == 0) {
		out->cgroup = g_strndup(path, path_len);
		out->read_ok |= PROC_CTX_CGROUP;
	}
	read_audit(dirfd, known, out);
}

void proc_context_clear(struct lin_proc_context *ctx)
{
	if (!ctx)
		return;
	g_free(ctx->cwd);
	g_free(ctx->cgroup);
	g_free(ctx->env);
	memset(ctx, 0, sizeof(*ctx));
}
