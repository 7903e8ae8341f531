// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the context reader: the cgroup, namespace-link, audit id
 * and environ parsers on real and hostile text (exact-size heap copies),
 * the new stat and status fields (process group, session, terminal, the
 * pid inside a namespace), and a whole read through proc_scan on a fake
 * tree, with and without the context asked for.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "fakeproc.h"
#include "proc_context.h"
#include "proc_scan.h"

static int parse_cgroup_str(const char *text, char **path_out)
{
	gsize len = strlen(text);
	g_autofree char *copy = g_memdup2(text, len);
	const char *path;
	size_t path_len;
	int ret = proc_context_parse_cgroup(copy, len, &path, &path_len);

	if (ret == 0)
		*path_out = g_strndup(path, path_len);
	return ret;
}

static void test_parse_cgroup(void **state)
{
	g_autofree char *v2 = NULL, *hybrid = NULL, *root = NULL, *unterminated = NULL;
	char *none = NULL;

	(void)state;
	assert_int_equal(parse_cgroup_str("0::/user.slice/user-0.slice/session-4.scope\n", &v2), 0);
	assert_string_equal(v2, "/user.slice/user-0.slice/session-4.scope");
	/* A hybrid host lists the v1 hierarchies first. */
	assert_int_equal(parse_cgroup_str("12:pids:/user.slice\n1:name=systemd:/user.slice\n"
	                                  "0::/system.slice/docker-abc.scope\n",
	                                  &hybrid),
	                 0);
	assert_string_equal(hybrid, "/system.slice/docker-abc.scope");
	assert_int_equal(parse_cgroup_str("0::/\n", &root), 0);
	assert_string_equal(root, "/");
	assert_int_equal(parse_cgroup_str("0::/a/b", &unterminated), 0);
	assert_string_equal(unterminated, "/a/b");
	/* v1 only, empty, or not a path. */
	assert_int_equal(parse_cgroup_str("4:memory:/x\n", &none), -EINVAL);
	assert_int_equal(parse_cgroup_str("", &none), -EINVAL);
	assert_int_equal(parse_cgroup_str("0::\n", &none), -EINVAL);
	assert_int_equal(parse_cgroup_str("10::/x\n", &none), -EINVAL);
	assert_null(none);
}

static int parse_ns_str(const char *text, guint32 *inode)
{
	gsize len = strlen(text);
	g_autofree char *copy = g_memdup2(text, len);

	return proc_context_parse_ns_link(copy, len, inode);
}

static void test_parse_ns_link(void **state)
{
	guint32 inode = 0;

	(void)state;
	assert_int_equal(parse_ns_str("pid:[4026531836]", &inode), 0);
	assert_int_equal(inode, 4026531836u);
	assert_int_equal(parse_ns_str("pid:[]", &inode), -EINVAL);
	assert_int_equal(parse_ns_str("pid:[4026531836", &inode), -EINVAL);
	assert_int_equal(parse_ns_str("pid:[99999999999]", &inode), -EINVAL);
	assert_int_equal(parse_ns_str("pid:[-1]", &inode), -EINVAL);
	assert_int_equal(parse_ns_str("]", &inode), -EINVAL);
}

static void test_parse_u32(void **state)
{
	guint32 v = 0;

	(void)state;
	assert_int_equal(proc_context_parse_u32("1000", 4, &v), 0);
	assert_int_equal(v, 1000);
	assert_int_equal(proc_context_parse_u32("4294967295", 10, &v), 0);
	assert_int_equal(v, LIN_AUDIT_UNSET);
	assert_int_equal(proc_context_parse_u32("4294967296", 10, &v), -EINVAL);
	assert_int_equal(proc_context_parse_u32("12\n", 3, &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(proc_context_parse_u32("", 0, &v), -EINVAL);
	assert_int_equal(proc_context_parse_u32("1 2", 3, &v), -EINVAL);
	assert_int_equal(proc_context_parse_u32("-1", 2, &v), -EINVAL);
}

static void test_filter_environ(void **state)
{
	static const char env[] = "PATH=/usr/bin\0LD_PRELOAD=/tmp/evil.so\0HOME=/root\0"
	                          "LD_PRELOAD=/second\0LD_PRELOADX=no\0SSH_CONNECTION=1 2 3 4\0"
	                          "NOEQUALS\0SUDO_USER=";
	char *names[] = {"LD_PRELOAD", "SSH_CONNECTION", "SUDO_USER", "ABSENT", NULL};
	g_autofree char *copy = g_memdup2(env, sizeof(env) - 1);
	g_autoptr(GString) out = g_string_new(NULL);
	static const char want[] = "LD_PRELOAD=/tmp/evil.so\0SSH_CONNECTION=1 2 3 4\0SUDO_USER=\0";

	(void)state;
	/* The last entry lacks its NUL: a cut environ still gives what it has. */
	proc_context_filter_environ(copy, sizeof(env) - 1, names, out);
	assert_int_equal(out->len, sizeof(want) - 1);
	assert_memory_equal(out->str, want, sizeof(want) - 1);
}

static void test_stat_fields(void **state)
{
	static const char text[] =
	    "3208 (bash) S 3203 3208 3100 34816 3208 4194560 100 0 0 0 0 0 0 0 20 0 1 0 31258 "
	    "3133440 389 18446744073709551615 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
	g_autofree char *copy = g_memdup2(text, sizeof(text) - 1);
	struct lin_stat st;

	(void)state;
	assert_int_equal(proc_scan_parse_stat(copy, sizeof(text) - 1, &st), 0);
	assert_int_equal(st.pgid, 3208);
	assert_int_equal(st.sid, 3100);
	assert_int_equal(st.tty_nr, 34816); /* /dev/pts/0 */
}

static void test_status_ns_tgid(void **state)
{
	static const char nested[] = "Tgid:\t5000\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
	                             "NStgid:\t5000\t12\t1\nThreads:\t1\n";
	static const char host[] = "Tgid:\t5000\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
	                           "NStgid:\t5000\nThreads:\t1\n";
	static const char old[] = "Tgid:\t5000\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nThreads:\t1\n";
	struct lin_status st;

	(void)state;
	assert_int_equal(proc_scan_parse_status(nested, sizeof(nested) - 1, &st), 0);
	assert_int_equal(st.ns_tgid, 1);
	assert_int_equal(proc_scan_parse_status(host, sizeof(host) - 1, &st), 0);
	assert_int_equal(st.ns_tgid, 5000);
	assert_int_equal(proc_scan_parse_status(old, sizeof(old) - 1, &st), 0);
	assert_int_equal(st.ns_tgid, 0);
}

static void test_read_context(void **state)
{
	static const char env[] = "A=1\0LD_PRELOAD=/tmp/x.so\0B=2\0";
	char *names[] = {"LD_PRELOAD", NULL};
	struct proc_context_opts opts = {.env_names = names};
	struct fakeproc *fp = fakeproc_new();
	struct fakeproc_proc proc = {
	    .pid = 42,
	    .ppid = 1,
	    .start_ticks = 500,
	    .cmdline = "sleep\0",
	    .cmdline_len = 6,
	    .exe = "/usr/bin/sleep",
	    .pgid = 40,
	    .sid = 30,
	    .tty_nr = 34817,
	    .ns_pid = 7,
	    .cwd = "/srv/app",
	    .cgroup = "0::/system.slice/docker-"
	              "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef.scope\n",
	    .environ = env,
	    .environ_len = sizeof(env) - 1,
	    .pidns = 4026532500u,
	    .audit_set = TRUE,
	    .loginuid = 1000,
	    .sessionid = 3,
	};
	struct lin_proc_info info;
	struct proc_read r;

	(void)state;
	fakeproc_add(fp, &proc);
	proc_scan_begin_with(fakeproc_root_fd(fp), 42, PROC_READ_ALL | PROC_READ_CONTEXT, 0, &opts,
	                     &r);
	assert_int_equal(proc_scan_finish(&r, 500, &info), 0);
	assert_int_equal(info.ctx.read_ok, PROC_CTX_CWD | PROC_CTX_PIDNS | PROC_CTX_ENV |
	                                       PROC_CTX_CGROUP | PROC_CTX_LOGINUID |
	                                       PROC_CTX_SESSIONID);
	assert_string_equal(info.ctx.cwd, "/srv/app");
	assert_string_equal(info.ctx.cgroup, "/system.slice/docker-0123456789abcdef0123456789abcdef"
	                                     "0123456789abcdef0123456789abcdef.scope");
	assert_int_equal(info.ctx.pidns, 4026532500u);
	assert_int_equal(info.ctx.loginuid, 1000);
	assert_int_equal(info.ctx.sessionid, 3);
	assert_int_equal(info.ctx.env_len, strlen("LD_PRELOAD=/tmp/x.so") + 1);
	assert_memory_equal(info.ctx.env, "LD_PRELOAD=/tmp/x.so", info.ctx.env_len);
	assert_int_equal(info.stat.pgid, 40);
	assert_int_equal(info.stat.sid, 30);
	assert_int_equal(info.stat.tty_nr, 34817);
	assert_int_equal(info.status.ns_tgid, 7);
	lin_proc_info_clear(&info);

	/* An EXEC that skips status (known ids, no set-id exe) still gets
	 * NsPid: status is read for it outside /proc's own pid namespace,
	 * and only there. */
	opts.own_pidns = 4026532500u;
	proc_scan_begin_with(fakeproc_root_fd(fp), 42,
	                     (PROC_READ_ALL & ~(guint)PROC_READ_STATUS) | PROC_READ_CONTEXT, 0,
	                     &opts, &r);
	assert_int_equal(proc_scan_finish(&r, 500, &info), 0);
	assert_false(info.read_ok & PROC_READ_STATUS);
	assert_int_equal(info.status.ns_tgid, 0);
	lin_proc_info_clear(&info);
	opts.own_pidns = 4026531836u;
	proc_scan_begin_with(fakeproc_root_fd(fp), 42,
	                     (PROC_READ_ALL & ~(guint)PROC_READ_STATUS) | PROC_READ_CONTEXT, 0,
	                     &opts, &r);
	assert_int_equal(proc_scan_finish(&r, 500, &info), 0);
	assert_true(info.read_ok & PROC_READ_STATUS);
	assert_int_equal(info.status.ns_tgid, 7);
	lin_proc_info_clear(&info);

	/* Without PROC_READ_CONTEXT nothing of it is read. */
	assert_int_equal(
	    proc_scan_read_process(fakeproc_root_fd(fp), 42, 0, PROC_READ_ALL, 0, &info), 0);
	assert_int_equal(info.ctx.read_ok, 0);
	assert_null(info.ctx.cwd);
	lin_proc_info_clear(&info);

	/* An unset audit id reads as such; no env names, no environ read. */
	proc.audit_set = FALSE;
	proc.cwd = NULL;
	fakeproc_add(fp, &proc);
	assert_int_equal(proc_scan_read_process(fakeproc_root_fd(fp), 42, 0,
	                                        PROC_READ_ALL | PROC_READ_CONTEXT, 0, &info),
	                 0);
	assert_int_equal(info.ctx.loginuid, LIN_AUDIT_UNSET);
	assert_false(info.ctx.read_ok & (PROC_CTX_ENV | PROC_CTX_CWD));
	lin_proc_info_clear(&info);
	fakeproc_free(fp);
}

/* The finish of an EXEC read with the audit ids known for the process. */
static int read_with_audit(struct fakeproc *fp, const struct proc_audit_ids *known,
                           struct lin_proc_info *info)
{
	struct proc_read r;

	proc_scan_begin(fakeproc_root_fd(fp), 42, PROC_READ_ALL | PROC_READ_CONTEXT, 0, &r);
	if (known)
		proc_scan_know_audit(&r, known->loginuid, known->sessionid);
	return proc_scan_finish(&r, 0, info);
}

static void test_audit_ids_from_session(void **state)
{
	struct fakeproc *fp = fakeproc_new();
	struct fakeproc_proc proc = {
	    .pid = 42,
	    .ppid = 1,
	    .start_ticks = 500,
	    .comm = "login",
	    .cmdline = "login",
	    .cmdline_len = 6,
	    .exe = "/bin/login",
	    .audit_set = TRUE,
	    .loginuid = 1000,
	    .sessionid = 3,
	};
	/* The kernel never pairs session 3 with another login uid: 2000 can
	 * only come from what was known, not from the file. */
	const struct proc_audit_ids same_session = {.loginuid = 2000, .sessionid = 3};
	const struct proc_audit_ids other_session = {.loginuid = 2000, .sessionid = 2};
	g_autofree char *loginuid_path = NULL;
	struct lin_proc_info info;

	(void)state;
	fakeproc_add(fp, &proc);

	assert_int_equal(read_with_audit(fp, &same_session, &info), 0);
	assert_true(info.ctx.read_ok & PROC_CTX_LOGINUID);
	assert_true(info.ctx.read_ok & PROC_CTX_SESSIONID);
	assert_int_equal(info.ctx.loginuid, 2000);
	assert_int_equal(info.ctx.sessionid, 3);
	lin_proc_info_clear(&info);

	/* Another session: a login happened since, both are read. */
	assert_int_equal(read_with_audit(fp, &other_session, &info), 0);
	assert_int_equal(info.ctx.loginuid, 1000);
	assert_int_equal(info.ctx.sessionid, 3);
	lin_proc_info_clear(&info);

	/* Without loginuid, the known session still tells it; a changed
	 * session without loginuid tells nothing. */
	loginuid_path = g_strdup_printf("%s/42/loginuid", fakeproc_path(fp));
	assert_int_equal(unlink(loginuid_path), 0);
	assert_int_equal(read_with_audit(fp, &same_session, &info), 0);
	assert_int_equal(info.ctx.loginuid, 2000);
	lin_proc_info_clear(&info);
	assert_int_equal(read_with_audit(fp, &other_session, &info), 0);
	assert_false(info.ctx.read_ok & (PROC_CTX_LOGINUID | PROC_CTX_SESSIONID));
	lin_proc_info_clear(&info);
	assert_int_equal(read_with_audit(fp, NULL, &info), 0);
	assert_false(info.ctx.read_ok & (PROC_CTX_LOGINUID | PROC_CTX_SESSIONID));
	lin_proc_info_clear(&info);
	fakeproc_free(fp);
}

static void test_exe_identity(void **state)
{
	struct proc_context_opts opts = {.exe_identity = TRUE};
	struct lin_proc_info info;
	struct proc_read r;
	struct stat st;

	(void)state;
	/* This very process, through the real /proc. */
	assert_int_equal(stat("/proc/self/exe", &st), 0);
	{
		int proc_fd = open("/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		proc_scan_begin_with(proc_fd, getpid(), PROC_READ_ALL | PROC_READ_CONTEXT, 0, &opts,
		                     &r);
		assert_int_equal(proc_scan_finish(&r, 0, &info), 0);
		assert_true(info.ctx.read_ok & PROC_CTX_EXE_ID);
		assert_int_equal(info.ctx.exe_id.ino, st.st_ino);
		assert_int_equal(info.ctx.exe_id.dev, st.st_dev);
		assert_int_equal(info.ctx.exe_id.size, st.st_size);
		assert_true(info.ctx.exe_id.nlink > 0);
		lin_proc_info_clear(&info);
		close(proc_fd);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_cgroup),
	    cmocka_unit_test(test_parse_ns_link),
	    cmocka_unit_test(test_parse_u32),
	    cmocka_unit_test(test_filter_environ),
	    cmocka_unit_test(test_stat_fields),
	    cmocka_unit_test(test_status_ns_tgid),
	    cmocka_unit_test(test_read_context),
	    cmocka_unit_test(test_exe_identity),
	    cmocka_unit_test(test_audit_ids_from_session),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
