// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the proc connector: cnproc_parse() on datagrams built here
 * byte by byte the way the kernel frames them (nlmsghdr of type NLMSG_DONE,
 * cn_msg, proc_event), well-formed and broken in every length it checks;
 * then, as root only, the real socket: subscribe, fork a child, and see its
 * FORK, EXEC and EXIT arrive.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

#include "cnproc.h"

/* A datagram under construction. */
struct dgram {
	guint8 buf[4096] __attribute__((aligned(8)));
	size_t len;
};

static void put_nlmsg(struct dgram *d, guint16 type, const void *payload, size_t payload_len)
{
	struct nlmsghdr nlh = {
	    .nlmsg_len = (guint32)(NLMSG_HDRLEN + payload_len),
	    .nlmsg_type = type,
	    .nlmsg_seq = 1,
	};

	assert_true(d->len + NLMSG_SPACE(payload_len) <= sizeof(d->buf));
	memcpy(d->buf + d->len, &nlh, sizeof(nlh));
	if (payload_len)
		memcpy(d->buf + d->len + NLMSG_HDRLEN, payload, payload_len);
	d->len += NLMSG_SPACE(payload_len);
}

/* A cn_msg from (idx, val) announcing cn_len bytes and carrying data_len. */
static void put_cn(struct dgram *d, guint32 idx, guint32 val, const void *data, size_t data_len,
                   guint16 cn_len)
{
	guint8 payload[sizeof(struct cn_msg) + sizeof(struct proc_event)];
	struct cn_msg msg = {
	    .id = {.idx = idx, .val = val},
	    .seq = 7,
	    .len = cn_len,
	};

	assert_true(data_len <= sizeof(struct proc_event));
	memcpy(payload, &msg, sizeof(msg));
	memcpy(payload + sizeof(msg), data, data_len);
	put_nlmsg(d, NLMSG_DONE, payload, sizeof(msg) + data_len);
}

/* A proc event as the kernel sends it: the whole struct, cn_msg.len to match. */
static void put_event(struct dgram *d, const struct proc_event *ev)
{
	put_cn(d, CN_IDX_PROC, CN_VAL_PROC, ev, sizeof(*ev), sizeof(*ev));
}

static struct proc_event make_event(guint32 what)
{
	struct proc_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.what = what;
	ev.cpu = 3;
	ev.timestamp_ns = G_GUINT64_CONSTANT(123456789012345);
	return ev;
}

static struct proc_event fork_event(pid_t parent, pid_t child)
{
	struct proc_event ev = make_event(PROC_EVENT_FORK);

	ev.event_data.fork.parent_pid = parent;
	ev.event_data.fork.parent_tgid = parent;
	ev.event_data.fork.child_pid = child;
	ev.event_data.fork.child_tgid = child;
	return ev;
}

static void collect(const struct cnproc_event *ev, void *data)
{
	g_array_append_val((GArray *)data, *ev);
}

/* Parses d with a fresh event list, from an 8-aligned and a misaligned copy;
 * both must agree. */
static int parse(const struct dgram *d, GArray *events)
{
	g_autofree guint8 *shifted = g_malloc(d->len + 1);
	g_autoptr(GArray) again = g_array_new(FALSE, TRUE, sizeof(struct cnproc_event));
	int ret, ret_shifted;

	g_array_set_size(events, 0);
	ret = cnproc_parse(d->buf, d->len, collect, events);

	memcpy(shifted + 1, d->buf, d->len);
	ret_shifted = cnproc_parse(shifted + 1, d->len, collect, again);
	assert_int_equal(ret, ret_shifted);
	assert_int_equal(events->len, again->len);
	assert_memory_equal(events->data, again->data, events->len * sizeof(struct cnproc_event));
	return ret;
}

static const struct cnproc_event *event_at(GArray *events, guint i)
{
	return &g_array_index(events, struct cnproc_event, i);
}

/* --- one event of each type --- */

static void test_parse_fork(void **state)
{
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(struct cnproc_event));
	struct proc_event ev = make_event(PROC_EVENT_FORK);
	struct dgram d = {0};
	const struct cnproc_event *e;

	(void)state;
	/* A thread 1002 of process 1000 creates process 2000 (thread 2000). */
	ev.event_data.fork.parent_pid = 1002;
	ev.event_data.fork.parent_tgid = 1000;
	ev.event_data.fork.child_pid = 2000;
	ev.event_data.fork.child_tgid = 2000;
	put_event(&d, &ev);
	assert_int_equal(parse(&d, events), 1);
	e = event_at(events, 0);
	assert_int_equal(e->type, CNPROC_EV_FORK);
	assert_int_equal(e->cpu, 3);
	assert_true(e->timestamp_ns == G_GUINT64_CONSTANT(123456789012345));
	/* cn_msg.seq numbers the messages per CPU: lost events show as gaps. */
	assert_true(e->seq_valid);
	assert_int_equal(e->seq, 7);
	assert_int_equal(e->pid, 2000);
	assert_int_equal(e->tgid, 2000);
	assert_int_equal(e->u.fork.parent_pid, 1002);
	assert_int_equal(e->u.fork.parent_tgid, 1000);
}

static void test_parse_exec_exit(void **state)
{
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(struct cnproc_event));
	struct proc_event exec = make_event(PROC_EVENT_EXEC);
	struct proc_event exit_ev = make_event(PROC_EVENT_EXIT);
	struct dgram d = {0};
	const struct cnproc_event *e;

	(void)state;
	exec.event_data.exec.process_pid = 31;
	exec.event_data.exec.process_tgid = 30;
	put_event(&d, &exec);
	exit_ev.event_data.exit.process_pid = 30;
	exit_ev.event_data.exit.process_tgid = 30;
	exit_ev.event_data.exit.exit_code = 9; /* SIGKILL */
	exit_ev.event_data.exit.exit_signal = 17;
	exit_ev.event_data.exit.parent_pid = 1;
	exit_ev.event_data.exit.parent_tgid = 1;
	put_event(&d, &exit_ev);

	assert_int_equal(parse(&d, events), 2);
	e = event_at(events, 0);
	assert_int_equal(e->type, CNPROC_EV_EXEC);
	assert_int_equal(e->pid, 31);
	assert_int_equal(e->tgid, 30);
	e = event_at(events, 1);
	assert_int_equal(e->type, CNPROC_EV_EXIT);
	assert_int_equal(e->pid, 30);
	assert_int_equal(e->tgid, 30);
	assert_int_equal(e->u.exit.code, 9);
	assert_int_equal(e->u.exit.signal, 17);

	/* A thread's exit: exit_signal is -1. */
	exit_ev.event_data.exit.process_pid = 33;
	exit_ev.event_data.exit.exit_code = 0;
	exit_ev.event_data.exit.exit_signal = (guint32)-1;
	d.len = 0;
	put_event(&d, &exit_ev);
	assert_int_equal(parse(&d, events), 1);
	assert_true(event_at(events, 0)->u.exit.signal == G_MAXUINT32);
}

static void test_parse_comm_ids(void **state)
{
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(struct cnproc_event));
	struct proc_event comm = make_event(PROC_EVENT_COMM);
	struct proc_event uid = make_event(PROC_EVENT_UID);
	struct proc_event gid = make_event(PROC_EVENT_GID);
	struct dgram d = {0};
	const struct cnproc_event *e;

	(void)state;
	comm.event_data.comm.process_pid = 50;
	comm.event_data.comm.process_tgid = 50;
	/* All 16 bytes used, no NUL: the event must add one. */
	memcpy(comm.event_data.comm.comm, "0123456789abcdef", 16);
	put_event(&d, &comm);
	uid.event_data.id.process_pid = 51;
	uid.event_data.id.process_tgid = 50;
	uid.event_data.id.r.ruid = 1000;
	uid.event_data.id.e.euid = 0;
	put_event(&d, &uid);
	gid.event_data.id.process_pid = 50;
	gid.event_data.id.process_tgid = 50;
	gid.event_data.id.r.rgid = 100;
	gid.event_data.id.e.egid = 4294967294u;
	put_event(&d, &gid);

	assert_int_equal(parse(&d, events), 3);
	e = event_at(events, 0);
	assert_int_equal(e->type, CNPROC_EV_COMM);
	assert_int_equal(e->pid, 50);
	assert_string_equal(e->u.comm.comm, "0123456789abcdef");
	e = event_at(events, 1);
	assert_int_equal(e->type, CNPROC_EV_UID);
	assert_int_equal(e->pid, 51);
	assert_int_equal(e->tgid, 50);
	assert_int_equal(e->u.id.real, 1000);
	assert_int_equal(e->u.id.effective, 0);
	e = event_at(events, 2);
	assert_int_equal(e->type, CNPROC_EV_GID);
	assert_int_equal(e->u.id.real, 100);
	assert_true(e->u.id.effective == 4294967294u);

	/* A short name keeps its NUL and nothing after it. */
	memcpy(comm.event_data.comm.comm, "sh\0garbage\0\0\0\0\0", 16);
	d.len = 0;
	put_event(&d, &comm);
	assert_int_equal(parse(&d, events), 1);
	assert_string_equal(event_at(events, 0)->u.comm.comm, "sh");
}

static void test_parse_other(void **state)
{
	static const guint32 whats[] = {PROC_EVENT_NONE,     PROC_EVENT_SID, PROC_EVENT_PTRACE,
	                                PROC_EVENT_COREDUMP, 0x400,          0x12345678};
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(struct cnproc_event));
	struct dgram d = {0};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(whats); i++) {
		struct proc_event ev = make_event(whats[i]);

		ev.event_data.sid.process_pid = 60 + (pid_t)i;
		ev.event_data.sid.process_tgid = 60 + (pid_t)i;
		put_event(&d, &ev);
	}
	assert_int_equal(parse(&d, events), G_N_ELEMENTS(whats));
	for (guint i = 0; i < events->len; i++) {
		const struct cnproc_event *e = event_at(events, i);

		assert_int_equal(e->type, CNPROC_EV_OTHER);
		assert_int_equal(e->cpu, 3);
	}
	/* sid, ptrace and coredump name their subject; an ack and the unknown do not. */
	assert_int_equal(event_at(events, 0)->pid, 0);
	assert_int_equal(event_at(events, 1)->pid, 61);
	assert_int_equal(event_at(events, 2)->tgid, 62);
	assert_int_equal(event_at(events, 3)->pid, 63);
	assert_int_equal(event_at(events, 4)->pid, 0);
}

static void test_parse_many(void **state)
{
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(struct cnproc_event));
	struct dgram d = {0};

	(void)state;
	for (pid_t i = 0; i < 40; i++) {
		struct proc_event ev = fork_event(1, 100 + i);

		put_event(&d, &ev);
	}
	assert_int_equal(parse(&d, events), 40);
	for (guint i = 0; i < 40; i++)
		assert_int_equal(event_at(events, i)->pid, 100 + (pid_t)i);
}

/* --- what is skipped --- */

static void test_parse_skipped(void **state)
{
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(struct cnproc_event));
	struct proc_event ev = fork_event(1, 77);
	struct dgram d = {0};
	struct nlmsgerr ack = {.error = 0};
	guint8 junk[24] = {0};

	(void)state;
	/* Another connector user (wrong idx, then wrong val), a NOOP, an ack,
	 * an unknown type and then ours. */
	put_cn(&d, CN_W1_IDX, CN_W1_VAL, &ev, sizeof(ev), sizeof(ev));
	put_cn(&d, CN_IDX_PROC, 2, &ev, sizeof(ev), sizeof(ev));
	put_nlmsg(&d, NLMSG_NOOP, NULL, 0);
	put_nlmsg(&d, NLMSG_ERROR, &ack, sizeof(ack));
	put_nlmsg(&d, NLMSG_MIN_TYPE + 5, junk, sizeof(junk));
	put_event(&d, &ev);
	assert_int_equal(parse(&d, events), 1);
	assert_int_equal(event_at(events, 0)->pid, 77);

	/* Nothing of ours at all. */
	d.len = 0;
	put_nlmsg(&d, NLMSG_NOOP, NULL, 0);
	assert_int_equal(parse(&d, events), 0);
	assert_int_equal(events->len, 0);
}

static void test_parse_unaligned_last(void **state)
{
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(struct cnproc_event));
	struct proc_event ev = make_event(PROC_EVENT_EXIT);
	struct dgram d = {0};
	struct nlmsghdr nlh;

	(void)state;
	/* An old kernel's 16-byte exit record: 16 + 20 + 32 = 68 bytes, cut
	 * exactly at nlmsg_len, without the alignment padding. */
	ev.event_data.exit.process_pid = 5;
	ev.event_data.exit.process_tgid = 5;
	ev.event_data.exit.exit_code = 256;
	put_cn(&d, CN_IDX_PROC, CN_VAL_PROC, &ev, 32, 32);
	memcpy(&nlh, d.buf, sizeof(nlh));
	assert_int_equal(nlh.nlmsg_len, 68);
	assert_int_equal(d.len, 68);
	assert_int_equal(parse(&d, events), 1);
	assert_int_equal(event_at(events, 0)->u.exit.code, 256);

	/* A message with an odd length followed by its padding and another. */
	d.len = 0;
	put_cn(&d, CN_IDX_PROC, CN_VAL_PROC, &ev, 33, 33);
	assert_int_equal(d.len, 72);
	put_event(&d, &ev);
	assert_int_equal(parse(&d, events), 2);
}

/* --- what is rejected --- */

static void test_parse_overrun_error(void **state)
{
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(struct cnproc_event));
	struct proc_event ev = fork_event(1, 88);
	struct dgram d = {0};
	struct nlmsgerr err = {.error = -EPERM};
	gint32 short_err = 0;

	(void)state;
	put_event(&d, &ev);
	put_nlmsg(&d, NLMSG_OVERRUN, NULL, 0);
	put_event(&d, &ev);
	assert_int_equal(parse(&d, events), -ENOBUFS);
	/* The event before the overrun was reported, the one after was not. */
	assert_int_equal(events->len, 1);

	d.len = 0;
	put_event(&d, &ev);
	put_nlmsg(&d, NLMSG_ERROR, &err, sizeof(err));
	assert_int_equal(parse(&d, events), -EPERM);
	assert_int_equal(events->len, 1);

	/* An error code out of errno range, and an error without its code. */
	d.len = 0;
	err.error = -100000;
	put_nlmsg(&d, NLMSG_ERROR, &err, sizeof(err));
	assert_int_equal(parse(&d, events), -EBADMSG);
	d.len = 0;
	err.error = 5;
	put_nlmsg(&d, NLMSG_ERROR, &err, sizeof(err));
	assert_int_equal(parse(&d, events), -EBADMSG);
	d.len = 0;
	put_nlmsg(&d, NLMSG_ERROR, &short_err, 2);
	assert_int_equal(parse(&d, events), -EBADMSG);
}

static void test_parse_bad_nlmsg(void **state)
{
	/* nlmsg_len values smaller than a header, zero, and larger than the datagram. */
	static const guint32 lens[] = {0, 1, 15, 77, 1000, G_MAXUINT32};
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(struct cnproc_event));
	struct proc_event ev = fork_event(1, 99);
	struct dgram d = {0};
	struct nlmsghdr nlh;
	size_t good_len;

	(void)state;
	/* Empty and shorter than a header. */
	assert_int_equal(parse(&d, events), -EBADMSG);
	assert_int_equal(cnproc_parse(NULL, 0, collect, events), -EBADMSG);
	d.len = 8;
	assert_int_equal(parse(&d, events), -EBADMSG);

	/* Every cut of a good datagram is refused, and reports nothing. */
	d.len = 0;
	put_event(&d, &ev);
	good_len = d.len;
	for (d.len = 1; d.len < good_len; d.len++) {
		assert_int_equal(parse(&d, events), -EBADMSG);
		assert_int_equal(events->len, 0);
	}

	/* The second message's nlmsg_len broken: the first still reported. */
	for (size_t i = 0; i < G_N_ELEMENTS(lens); i++) {
		d.len = 0;
		put_event(&d, &ev);
		put_event(&d, &ev);
		memcpy(&nlh, d.buf + good_len, sizeof(nlh));
		nlh.nlmsg_len = lens[i];
		memcpy(d.buf + good_len, &nlh, sizeof(nlh));
		assert_int_equal(parse(&d, events), -EBADMSG);
		assert_int_equal(events->len, 1);
	}

	/* Trailing bytes too few for a header. */
	d.len = 0;
	put_event(&d, &ev);
	d.len += 12;
	assert_int_equal(parse(&d, events), -EBADMSG);
	assert_int_equal(events->len, 1);
}

static void test_parse_bad_cn_msg(void **state)
{
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(struct cnproc_event));
	struct proc_event ev = fork_event(1, 111);
	struct cn_msg msg = {.id = {.idx = CN_IDX_PROC, .val = CN_VAL_PROC}};
	struct dgram d = {0};

	(void)state;
	/* A NLMSG_DONE too short for a cn_msg (the empty one included). */
	put_nlmsg(&d, NLMSG_DONE, &msg, sizeof(msg) - 1);
	assert_int_equal(parse(&d, events), -EBADMSG);
	d.len = 0;
	put_nlmsg(&d, NLMSG_DONE, NULL, 0);
	assert_int_equal(parse(&d, events), -EBADMSG);

	/* cn_msg.len lies: one byte more than the message carries. */
	d.len = 0;
	put_event(&d, &ev);
	put_cn(&d, CN_IDX_PROC, CN_VAL_PROC, &ev, sizeof(ev), sizeof(ev) + 1);
	assert_int_equal(parse(&d, events), -EBADMSG);
	assert_int_equal(events->len, 1);
	d.len = 0;
	put_cn(&d, CN_IDX_PROC, CN_VAL_PROC, &ev, sizeof(ev), G_MAXUINT16);
	assert_int_equal(parse(&d, events), -EBADMSG);

	/* cn_msg.len too short for the proc_event header. */
	d.len = 0;
	put_cn(&d, CN_IDX_PROC, CN_VAL_PROC, &ev, sizeof(ev), 15);
	assert_int_equal(parse(&d, events), -EBADMSG);
	d.len = 0;
	put_cn(&d, CN_IDX_PROC, CN_VAL_PROC, &ev, 0, 0);
	assert_int_equal(parse(&d, events), -EBADMSG);
}

static void test_parse_short_member(void **state)
{
	/* The event types, and how many bytes of proc_event each needs. */
	static const struct {
		guint32 what;
		size_t need;
	} types[] = {
	    {PROC_EVENT_FORK, 32}, {PROC_EVENT_EXEC, 24},   {PROC_EVENT_EXIT, 32},
	    {PROC_EVENT_COMM, 40}, {PROC_EVENT_UID, 32},    {PROC_EVENT_GID, 32},
	    {PROC_EVENT_SID, 24},  {PROC_EVENT_PTRACE, 24}, {PROC_EVENT_COREDUMP, 24},
	    {PROC_EVENT_NONE, 20},
	};
	g_autoptr(GArray) events = g_array_new(FALSE, TRUE, sizeof(struct cnproc_event));
	struct dgram d = {0};

	(void)state;
	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		struct proc_event ev = make_event(types[i].what);

		/* cn_msg.len one short: refused, even though the bytes are there. */
		d.len = 0;
		put_cn(&d, CN_IDX_PROC, CN_VAL_PROC, &ev, sizeof(ev), (guint16)(types[i].need - 1));
		if (parse(&d, events) != -EBADMSG)
			fail_msg("what %#x accepted with %zu bytes", types[i].what,
			         types[i].need - 1);
		/* Exactly enough: accepted. */
		d.len = 0;
		put_cn(&d, CN_IDX_PROC, CN_VAL_PROC, &ev, types[i].need, (guint16)types[i].need);
		if (parse(&d, events) != 1)
			fail_msg("what %#x refused with %zu bytes", types[i].what, types[i].need);
	}
}

/* --- the real socket (root only) --- */

struct child_events {
	pid_t child;
	gboolean fork_seen, exec_seen, exit_seen;
	guint32 exit_code;
};

static void watch_child(const struct cnproc_event *ev, void *data)
{
	struct child_events *ce = data;

	if (ev->tgid != ce->child)
		return;
	switch (ev->type) {
	case CNPROC_EV_FORK:
		if (ev->pid == ce->child && ev->u.fork.parent_tgid == getpid())
			ce->fork_seen = TRUE;
		break;
	case CNPROC_EV_EXEC:
		ce->exec_seen = TRUE;
		break;
	case CNPROC_EV_EXIT:
		if (ev->pid == ce->child) {
			ce->exit_seen = TRUE;
			ce->exit_code = ev->u.exit.code;
		}
		break;
	case CNPROC_EV_COMM:
	case CNPROC_EV_UID:
	case CNPROC_EV_GID:
	case CNPROC_EV_OTHER:
		break;
	}
}

static void test_error_domain(void **state)
{
	(void)state;
	assert_string_equal(g_quark_to_string(CNPROC_ERROR), "lineagefs-cnproc-error");
}

/* Opens the connector, or skips the test when this process cannot. */
static struct cnproc *open_or_skip(void)
{
	g_autoptr(GError) error = NULL;
	struct cnproc *cn;

	if (geteuid() != 0) {
		print_message("skipped: the proc connector needs root\n");
		skip();
	}
	cn = cnproc_open(4 << 20, &error);
	if (!cn && g_error_matches(error, CNPROC_ERROR, CNPROC_ERROR_NOT_SUBSCRIBED)) {
		/* Root in a container: the kernel ignores the subscription. */
		print_message("skipped: %s\n", error->message);
		skip();
	}
	if (!cn)
		fail_msg("cnproc_open: %s", error->message);
	return cn;
}

static void test_socket_fork_exec_exit(void **state)
{
	struct cnproc *cn = open_or_skip();
	struct child_events ce = {0};
	gint64 deadline;
	int status, flags;

	(void)state;
	flags = fcntl(cnproc_fd(cn), F_GETFL);
	assert_int_equal(fcntl(cnproc_fd(cn), F_SETFL, flags | O_NONBLOCK), 0);

	ce.child = fork();
	assert_true(ce.child >= 0);
	if (ce.child == 0) {
		execl("/bin/sh", "sh", "-c", "exit 3", (char *)NULL);
		_exit(127);
	}

	deadline = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
	while (!(ce.fork_seen && ce.exec_seen && ce.exit_seen)) {
		struct pollfd pfd = {.fd = cnproc_fd(cn), .events = POLLIN};
		gint64 left_ms = (deadline - g_get_monotonic_time()) / 1000;
		int ret;

		if (left_ms <= 0)
			break;
		ret = poll(&pfd, 1, (int)left_ms);
		if (ret < 0 && errno == EINTR)
			continue;
		assert_true(ret >= 0);
		if (ret == 0)
			break;
		do {
			ret = cnproc_receive(cn, watch_child, &ce);
		} while (ret >= 0 || ret == -EINTR);
		/* A flood elsewhere on the system may drop events; ours are
		 * then lost too and the test fails below, as it should. */
		if (ret != -EAGAIN)
			assert_int_equal(ret, -ENOBUFS);
	}
	assert_int_equal(waitpid(ce.child, &status, 0), ce.child);
	assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 3);
	assert_true(ce.fork_seen);
	assert_true(ce.exec_seen);
	assert_true(ce.exit_seen);
	/* The raw wait status, as waitpid() reported it. */
	assert_int_equal(ce.exit_code, (guint32)status);
	cnproc_close(cn);
	cnproc_close(NULL);
}

/* Counts a child's events by type, whatever socket they came on. */
struct child_counts {
	pid_t child;
	guint by_type[CNPROC_EV_OTHER + 1];
};

static void count_child(const struct cnproc_event *ev, void *data)
{
	struct child_counts *cc = data;

	if (ev->tgid == cc->child)
		cc->by_type[ev->type]++;
}

/* Receives from cn in batches until it is empty. */
static void drain_batches(struct cnproc *cn, cnproc_event_fn fn, void *data)
{
	struct cnproc_batch batch;
	int ret;

	while ((ret = cnproc_receive_batch(cn, fn, data, &batch)) == 0 || ret == -EINTR) {
		if (ret == 0) {
			assert_true(batch.datagrams > 0);
			assert_int_equal(batch.malformed, 0);
			if (batch.dry)
				break;
		}
	}
	if (ret < 0 && ret != -EAGAIN)
		assert_int_equal(ret, -ENOBUFS);
}

/* The EXEC socket is sent a child's EXEC and nothing else of it, while
 * the main socket, read in batches, gets its FORK, EXEC and EXIT. */
static void test_socket_execs_only(void **state)
{
	struct cnproc *cn = open_or_skip();
	g_autoptr(GError) error = NULL;
	struct child_counts on_main = {0}, on_execs = {0};
	struct cnproc *execs = cnproc_open_execs(4 << 20, &error);
	gint64 deadline;
	int status;

	(void)state;
	if (!execs && g_error_matches(error, CNPROC_ERROR, CNPROC_ERROR_UNSUPPORTED)) {
		cnproc_close(cn);
		print_message("skipped: %s\n", error->message);
		skip();
	}
	assert_non_null(execs);
	drain_batches(execs, NULL, NULL);
	on_main.child = on_execs.child = fork();
	assert_true(on_main.child >= 0);
	if (on_main.child == 0) {
		execl("/bin/sh", "sh", "-c", "exit 3", (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(on_main.child, &status, 0), on_main.child);
	deadline = g_get_monotonic_time() + 10 * G_TIME_SPAN_SECOND;
	while (on_main.by_type[CNPROC_EV_EXIT] == 0 && g_get_monotonic_time() < deadline) {
		struct pollfd pfd = {.fd = cnproc_fd(cn), .events = POLLIN};

		if (poll(&pfd, 1, 100) > 0)
			drain_batches(cn, count_child, &on_main);
	}
	drain_batches(execs, count_child, &on_execs);
	assert_int_equal(on_main.by_type[CNPROC_EV_FORK], 1);
	assert_int_equal(on_main.by_type[CNPROC_EV_EXEC], 1);
	assert_int_equal(on_main.by_type[CNPROC_EV_EXIT], 1);
	assert_int_equal(on_execs.by_type[CNPROC_EV_EXEC], 1);
	assert_int_equal(on_execs.by_type[CNPROC_EV_FORK], 0);
	assert_int_equal(on_execs.by_type[CNPROC_EV_EXIT], 0);
	cnproc_close(execs);
	cnproc_close(cn);
}

static void test_socket_unprivileged(void **state)
{
	struct cnproc *cn = open_or_skip();
	pid_t child;
	int status;

	(void)state;
	cnproc_close(cn);
	/* As nobody: kernels before 6.6 refuse the group to non-root (and the
	 * open must then say to run as root); later ones let anyone listen. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		g_autoptr(GError) error = NULL;

		if (setgid(65534) < 0 || setuid(65534) < 0)
			_exit(2);
		cn = cnproc_open(1 << 20, &error);
		if (cn) {
			cnproc_close(cn);
			_exit(0);
		}
		if (!g_error_matches(error, CNPROC_ERROR, CNPROC_ERROR_PERMISSION))
			_exit(4);
		if (!strstr(error->message, "run as root (needs CAP_NET_ADMIN)"))
			_exit(5);
		_exit(10);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 0)
		print_message("note: this kernel lets non-root processes listen to cn_proc\n");
	else
		assert_int_equal(WEXITSTATUS(status), 10);
}

static void test_socket_user_namespace(void **state)
{
	struct cnproc *cn = open_or_skip();
	pid_t child;
	int status;

	(void)state;
	cnproc_close(cn);
	/* From a user namespace the kernel drops the LISTEN without a word (or,
	 * before 6.6, refuses the group): the open must fail, not wait forever
	 * for events that never come, and say why. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0) {
		g_autoptr(GError) error = NULL;

		if (unshare(CLONE_NEWUSER) < 0)
			_exit(77);
		cn = cnproc_open(1 << 20, &error);
		if (cn)
			_exit(3);
		if (g_error_matches(error, CNPROC_ERROR, CNPROC_ERROR_NOT_SUBSCRIBED) &&
		    strstr(error->message, "initial user and PID namespaces"))
			_exit(0);
		if (g_error_matches(error, CNPROC_ERROR, CNPROC_ERROR_PERMISSION))
			_exit(0);
		_exit(4);
	}
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		print_message("skipped: user namespaces are not available\n");
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_fork),
	    cmocka_unit_test(test_parse_exec_exit),
	    cmocka_unit_test(test_parse_comm_ids),
	    cmocka_unit_test(test_parse_other),
	    cmocka_unit_test(test_parse_many),
	    cmocka_unit_test(test_parse_skipped),
	    cmocka_unit_test(test_parse_unaligned_last),
	    cmocka_unit_test(test_parse_overrun_error),
	    cmocka_unit_test(test_parse_bad_nlmsg),
	    cmocka_unit_test(test_parse_bad_cn_msg),
	    cmocka_unit_test(test_parse_short_member),
	    cmocka_unit_test(test_error_domain),
	    cmocka_unit_test(test_socket_fork_exec_exit),
	    cmocka_unit_test(test_socket_execs_only),
	    cmocka_unit_test(test_socket_unprivileged),
	    cmocka_unit_test(test_socket_user_namespace),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
