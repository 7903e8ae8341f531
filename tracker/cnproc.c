// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The proc connector. The kernel multicasts one netlink message per process
 * event to the sockets bound to group CN_IDX_PROC that sent it a
 * PROC_CN_MCAST_LISTEN request. Each message is a struct nlmsghdr of type
 * NLMSG_DONE (cn_netlink_send() uses that type for every message, not only
 * to end a dump), a struct cn_msg and a struct proc_event. The parser trusts
 * none of the lengths in that chain and copies every field out with memcpy,
 * since a proc_event sits at offset 36 of the datagram, not 8-aligned.
 */
#include "config.h"

#include "cnproc.h"

#include <errno.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <libmnl/libmnl.h>
#include <linux/cn_proc.h>
#include <linux/connector.h>
#include <linux/netlink.h>

/* CONNECTOR_MAX_MSG_SIZE: no connector datagram is larger. */
#define CNPROC_RECV_SIZE 16384
/* Datagrams taken by one recvmmsg(): a process storm's FORK, EXEC and EXIT
 * of several processes, in one system call instead of one each plus the
 * one that finds the socket empty. */
#define CNPROC_BATCH 16
/* The kernel runs the connector callback, and so queues its ack, inside our
 * sendto(); the wait only covers a kernel that would defer it. */
#define CNPROC_ACK_TIMEOUT_MS 500

/* Byte offsets in a struct proc_event, and the end of one of its members. */
#define MEMBER_SIZE(type, member) sizeof(((type *)NULL)->member)
#define EV_OFF(member)            offsetof(struct proc_event, member)
#define EV_END(member)            (EV_OFF(member) + MEMBER_SIZE(struct proc_event, member))

/* The kernel's comm is 16 bytes that need not end in NUL; ours has room for one. */
G_STATIC_ASSERT(MEMBER_SIZE(struct cnproc_event, u.comm.comm) ==
                MEMBER_SIZE(struct proc_event, event_data.comm.comm) + 1);

struct cnproc {
	struct mnl_socket *nl;
	guint32 seq;      /* of our control messages */
	guint32 nonce;    /* cn_msg.ack of our LISTEN; the kernel acks with nonce + 1 */
	guint32 events;   /* PROC_EVENT_* bits subscribed to, 0 for all (unfiltered) */
	gboolean adopted; /* cnproc_adopt_fd(): not subscribed, nothing to undo */
	guint8 buf[CNPROC_RECV_SIZE] __attribute__((aligned(8)));
	/* cnproc_receive_batch(): one buffer per datagram. */
	guint8 (*slots)[CNPROC_RECV_SIZE];
	struct mmsghdr msgs[CNPROC_BATCH];
	struct iovec iovs[CNPROC_BATCH];
};

/* What the datagram walk reports to: the caller's callback, and when
 * want_ack is set, the ack of our own PROC_CN_MCAST_LISTEN. */
struct parse_ctx {
	cnproc_event_fn fn;
	void *data;
	gboolean want_ack;
	guint32 ack_nonce;
	gboolean acked;
	guint32 ack_err;
};

/* --- Parsing --- */

static guint32 get_u32(const guint8 *p, size_t off)
{
	guint32 v;

	memcpy(&v, p + off, sizeof(v));
	return v;
}

static pid_t get_pid(const guint8 *p, size_t off)
{
	__kernel_pid_t v;

	memcpy(&v, p + off, sizeof(v));
	return (pid_t)v;
}

/* Fills ev from the proc_event in p[0..len). The header must fit, and so
 * must every field read for the event's type. */
static int parse_proc_event(const guint8 *p, size_t len, struct cnproc_event *ev)
{
	guint32 what;

	memset(ev, 0, sizeof(*ev));
	if (len < EV_OFF(event_data))
		return -EBADMSG;
	what = get_u32(p, EV_OFF(what));
	ev->cpu = get_u32(p, EV_OFF(cpu));
	memcpy(&ev->timestamp_ns, p + EV_OFF(timestamp_ns), sizeof(ev->timestamp_ns));

	switch (what) {
	case PROC_EVENT_FORK:
		if (len < EV_END(event_data.fork))
			return -EBADMSG;
		ev->type = CNPROC_EV_FORK;
		ev->pid = get_pid(p, EV_OFF(event_data.fork.child_pid));
		ev->tgid = get_pid(p, EV_OFF(event_data.fork.child_tgid));
		ev->u.fork.parent_pid = get_pid(p, EV_OFF(event_data.fork.parent_pid));
		ev->u.fork.parent_tgid = get_pid(p, EV_OFF(event_data.fork.parent_tgid));
		return 0;
	case PROC_EVENT_EXEC:
		if (len < EV_END(event_data.exec))
			return -EBADMSG;
		ev->type = CNPROC_EV_EXEC;
		ev->pid = get_pid(p, EV_OFF(event_data.exec.process_pid));
		ev->tgid = get_pid(p, EV_OFF(event_data.exec.process_tgid));
		return 0;
	case PROC_EVENT_EXIT:
		/* Kernels before 4.18 end the exit record after exit_signal. */
		if (len < EV_END(event_data.exit.exit_signal))
			return -EBADMSG;
		ev->type = CNPROC_EV_EXIT;
		ev->pid = get_pid(p, EV_OFF(event_data.exit.process_pid));
		ev->tgid = get_pid(p, EV_OFF(event_data.exit.process_tgid));
		ev->u.exit.code = get_u32(p, EV_OFF(event_data.exit.exit_code));
		ev->u.exit.signal = get_u32(p, EV_OFF(event_data.exit.exit_signal));
		return 0;
	case PROC_EVENT_COMM:
		if (len < EV_END(event_data.comm))
			return -EBADMSG;
		ev->type = CNPROC_EV_COMM;
		ev->pid = get_pid(p, EV_OFF(event_data.comm.process_pid));
		ev->tgid = get_pid(p, EV_OFF(event_data.comm.process_tgid));
		memcpy(ev->u.comm.comm, p + EV_OFF(event_data.comm.comm),
		       sizeof(ev->u.comm.comm) - 1);
		ev->u.comm.comm[sizeof(ev->u.comm.comm) - 1] = '\0';
		return 0;
	case PROC_EVENT_UID:
	case PROC_EVENT_GID:
		if (len < EV_END(event_data.id))
			return -EBADMSG;
		ev->type = what == PROC_EVENT_UID ? CNPROC_EV_UID : CNPROC_EV_GID;
		ev->pid = get_pid(p, EV_OFF(event_data.id.process_pid));
		ev->tgid = get_pid(p, EV_OFF(event_data.id.process_tgid));
		ev->u.id.real = get_u32(p, EV_OFF(event_data.id.r));
		ev->u.id.effective = get_u32(p, EV_OFF(event_data.id.e));
		return 0;
	case PROC_EVENT_SID:
	case PROC_EVENT_PTRACE:
	case PROC_EVENT_COREDUMP:
		/* All start with the subject's pid and tgid. */
		if (len < EV_END(event_data.sid))
			return -EBADMSG;
		ev->type = CNPROC_EV_OTHER;
		ev->pid = get_pid(p, EV_OFF(event_data.sid.process_pid));
		ev->tgid = get_pid(p, EV_OFF(event_data.sid.process_tgid));
		return 0;
	case PROC_EVENT_NONE:
		/* The ack of a PROC_CN_MCAST_* request. */
		if (len < EV_END(event_data.ack))
			return -EBADMSG;
		ev->type = CNPROC_EV_OTHER;
		return 0;
	default:
		/* A newer kernel's event: counted, not understood. */
		ev->type = CNPROC_EV_OTHER;
		return 0;
	}
}

/* Handles the cn_msg in p[0..len): returns 1 when it reported an event, 0
 * when the message is not from the proc connector, or -EBADMSG. */
static int parse_cn_msg(const guint8 *p, size_t len, struct parse_ctx *ctx)
{
	const guint8 *event;
	struct cnproc_event ev;
	struct cn_msg cn;
	int ret;

	if (len < sizeof(cn))
		return -EBADMSG;
	memcpy(&cn, p, sizeof(cn));
	if (cn.id.idx != CN_IDX_PROC || cn.id.val != CN_VAL_PROC)
		return 0;
	if (cn.len > len - sizeof(cn))
		return -EBADMSG;
	event = p + sizeof(cn);
	ret = parse_proc_event(event, cn.len, &ev);
	if (ret < 0)
		return ret;
	ev.seq = cn.seq;
	ev.seq_valid = TRUE;

	/* cn_proc_ack() answers with our cn_msg.ack + 1. It does not keep our
	 * seq: since 4.x the kernel overwrites it with a per-CPU counter. */
	if (ctx->want_ack && get_u32(event, EV_OFF(what)) == PROC_EVENT_NONE &&
	    cn.ack == ctx->ack_nonce + 1) {
		ctx->acked = TRUE;
		ctx->ack_err = get_u32(event, EV_OFF(event_data.ack.err));
	}
	if (ctx->fn)
		ctx->fn(&ev, ctx->data);
	return 1;
}

static int parse_datagram(const void *buf, size_t len, struct parse_ctx *ctx)
{
	const guint8 *p = buf;
	size_t off = 0;
	int count = 0;

	if (!buf || len == 0)
		return -EBADMSG;
	while (off < len) {
		const guint8 *payload;
		size_t payload_len;
		struct nlmsghdr nlh;
		gint32 error;
		int ret;

		if (len - off < sizeof(nlh))
			return -EBADMSG;
		memcpy(&nlh, p + off, sizeof(nlh));
		if (nlh.nlmsg_len < NLMSG_HDRLEN || nlh.nlmsg_len > len - off)
			return -EBADMSG;
		payload = p + off + NLMSG_HDRLEN;
		payload_len = nlh.nlmsg_len - NLMSG_HDRLEN;

		switch (nlh.nlmsg_type) {
		case NLMSG_NOOP:
			break;
		case NLMSG_ERROR:
			/* Only the error code is read; error 0 is an ack. */
			if (payload_len < sizeof(error))
				return -EBADMSG;
			memcpy(&error, payload, sizeof(error));
			if (error == 0)
				break;
			return (error < 0 && error >= -4095) ? error : -EBADMSG;
		case NLMSG_OVERRUN:
			return -ENOBUFS;
		case NLMSG_DONE:
			ret = parse_cn_msg(payload, payload_len, ctx);
			if (ret < 0)
				return ret;
			if (count < G_MAXINT)
				count += ret;
			break;
		default:
			/* Not something the connector sends. */
			break;
		}
		/* The last message's alignment padding may be cut off. */
		off += MIN(NLMSG_ALIGN(nlh.nlmsg_len), len - off);
	}
	return count;
}

int cnproc_parse(const void *buf, size_t len, cnproc_event_fn fn, void *data)
{
	struct parse_ctx ctx = {
	    .fn = fn,
	    .data = data,
	};

	return parse_datagram(buf, len, &ctx);
}

/* --- The socket --- */

GQuark cnproc_error_quark(void)
{
	return g_quark_from_static_string("lineagefs-cnproc-error");
}

/* A LISTEN or IGNORE request with an event filter (struct proc_input of
 * linux/cn_proc.h since 6.6, which older headers lack): the kernel then
 * sends this socket only the events in event_type. An older kernel ignores
 * a request of this length, without an ack. */
struct cnproc_filtered_op {
	guint32 mcast_op;
	guint32 event_type;
};

/* Sends op; events != 0 filters the subscription to those PROC_EVENT_*
 * bits (see struct cnproc_filtered_op). */
static int send_mcast_op(struct cnproc *cn, enum proc_cn_mcast_op op, guint32 ack)
{
	union {
		guint8
		    bytes[NLMSG_SPACE(sizeof(struct cn_msg) + sizeof(struct cnproc_filtered_op))];
		struct nlmsghdr align;
	} buf;
	struct nlmsghdr *nlh;
	struct cn_msg *msg;
	struct cnproc_filtered_op filtered = {.mcast_op = op, .event_type = cn->events};
	guint32 op32 = op;
	const void *payload = cn->events ? (const void *)&filtered : (const void *)&op32;
	guint16 payload_len = cn->events ? sizeof(filtered) : sizeof(op32);

	memset(&buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf.bytes);
	/* The connector takes requests in the same framing it sends events. */
	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_pid = mnl_socket_get_portid(cn->nl);
	nlh->nlmsg_seq = ++cn->seq;
	msg = mnl_nlmsg_put_extra_header(nlh, sizeof(*msg) + payload_len);
	msg->id.idx = CN_IDX_PROC;
	msg->id.val = CN_VAL_PROC;
	msg->seq = cn->seq;
	msg->ack = ack;
	msg->len = payload_len;
	memcpy(msg->data, payload, payload_len);

	if (mnl_socket_sendto(cn->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return 0;
}

/*
 * Waits for the kernel's ack of the LISTEN just sent. Without it nothing
 * tells a silent refusal apart from a quiet system: the kernel ignores
 * requests from outside the initial user and pid namespaces, and without
 * CONFIG_PROC_EVENTS nobody handles them. Events queued before the ack are
 * dropped: they predate the subscription the caller is about to bootstrap
 * from. Returns 0, the positive errno the kernel acked with, or -errno.
 */
static int wait_for_ack(struct cnproc *cn)
{
	struct parse_ctx ctx = {
	    .want_ack = TRUE,
	    .ack_nonce = cn->nonce,
	};
	gint64 deadline = g_get_monotonic_time() + CNPROC_ACK_TIMEOUT_MS * G_TIME_SPAN_MILLISECOND;
	int fd = mnl_socket_get_fd(cn->nl);

	while (!ctx.acked) {
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		gint64 left_ms;
		ssize_t n;

		n = recv(fd, cn->buf, sizeof(cn->buf), MSG_DONTWAIT);
		if (n >= 0) {
			parse_datagram(cn->buf, (size_t)n, &ctx);
			continue;
		}
		if (errno == EINTR || errno == ENOBUFS)
			continue;
		if (errno != EAGAIN)
			return -errno;
		left_ms = (deadline - g_get_monotonic_time()) / G_TIME_SPAN_MILLISECOND;
		if (left_ms <= 0)
			return -ETIMEDOUT;
		if (poll(&pfd, 1, (int)left_ms) < 0 && errno != EINTR)
			return -errno;
	}
	return (int)ctx.ack_err;
}

static void set_open_error(GError **error, const char *step, int err)
{
	switch (err) {
	case EPERM:
	case EACCES:
		g_set_error(error, CNPROC_ERROR, CNPROC_ERROR_PERMISSION,
		            "no permission for the netlink proc connector: run as root (needs "
		            "CAP_NET_ADMIN)");
		return;
	case EPROTONOSUPPORT:
	case ENOENT:
		g_set_error(error, CNPROC_ERROR, CNPROC_ERROR_UNSUPPORTED,
		            "the kernel has no proc connector (CONFIG_PROC_EVENTS): use a kernel "
		            "built with CONFIG_CONNECTOR=y and CONFIG_PROC_EVENTS=y");
		return;
	case ETIMEDOUT:
		g_set_error(
		    error, CNPROC_ERROR, CNPROC_ERROR_NOT_SUBSCRIBED,
		    "the kernel did not answer the proc connector subscription: run "
		    "lineagefs in the initial user and PID namespaces (not in a container), "
		    "on a kernel with CONFIG_PROC_EVENTS=y");
		return;
	default:
		g_set_error(error, CNPROC_ERROR, CNPROC_ERROR_FAILED,
		            "cannot %s the netlink proc connector: %s", step, g_strerror(err));
		return;
	}
}

static int set_rcvbuf(int fd, guint rcvbuf)
{
	/* The kernel doubles the value for its bookkeeping and caps it at INT_MAX. */
	int size = (int)MIN(rcvbuf, (guint)G_MAXINT / 2);

	if (rcvbuf == 0)
		return 0;
	/* SO_RCVBUFFORCE passes net.core.rmem_max, which the default (208 KiB)
	 * would make too small for a fork storm. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)) == 0)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size)) == 0)
		return 0;
	return -errno;
}

/* Whether the running kernel filters a subscription by event type:
 * Linux 6.6 and later. An older one would take no notice of the request
 * and send the socket every event. */
static gboolean kernel_filters_events(void)
{
	struct utsname uts;
	unsigned int major = 0, minor = 0;

	if (uname(&uts) < 0 || sscanf(uts.release, "%u.%u", &major, &minor) != 2)
		return FALSE;
	return major > 6 || (major == 6 && minor >= 6);
}

static struct cnproc *cnproc_open_with(guint rcvbuf, guint32 events, GError **error)
{
	struct cnproc *cn;
	int ret;

	if (events && !kernel_filters_events()) {
		g_set_error(error, CNPROC_ERROR, CNPROC_ERROR_UNSUPPORTED,
		            "the kernel cannot send a socket some events only (Linux 6.6)");
		return NULL;
	}
	cn = g_new0(struct cnproc, 1);
	cn->slots = g_malloc(CNPROC_BATCH * sizeof(*cn->slots));
	/* The kernel acks every LISTEN to every listener: a random nonce tells
	 * ours from another daemon's starting at the same time. */
	cn->nonce = g_random_int_range(0, G_MAXINT32);

	cn->nl = mnl_socket_open(NETLINK_CONNECTOR);
	if (!cn->nl) {
		set_open_error(error, "open", errno);
		goto err_free;
	}
	ret = set_rcvbuf(mnl_socket_get_fd(cn->nl), rcvbuf);
	if (ret < 0) {
		set_open_error(error, "size the receive buffer of", -ret);
		goto err_close;
	}
	/* Joining a connector group needs CAP_NET_ADMIN: EPERM here means not root. */
	if (mnl_socket_bind(cn->nl, CN_IDX_PROC, MNL_SOCKET_AUTOPID) < 0) {
		set_open_error(error, "bind", errno);
		goto err_close;
	}
	ret = send_mcast_op(cn, PROC_CN_MCAST_LISTEN, cn->nonce);
	if (ret < 0) {
		set_open_error(error, "subscribe to", -ret);
		goto err_close;
	}
	ret = wait_for_ack(cn);
	if (ret != 0) {
		set_open_error(error, "subscribe to", ABS(ret));
		goto err_close;
	}
	if (events) {
		/* The same subscription narrowed. No ack comes for it: the
		 * kernel sends acks through the filter, which lets EXECs
		 * alone pass. Events until then are ignored by the caller. */
		cn->events = events;
		ret = send_mcast_op(cn, PROC_CN_MCAST_LISTEN, cn->nonce);
		if (ret < 0) {
			set_open_error(error, "subscribe to", -ret);
			goto err_close;
		}
	}
	return cn;

err_close:
	mnl_socket_close(cn->nl);
err_free:
	g_free(cn->slots);
	g_free(cn);
	return NULL;
}

struct cnproc *cnproc_open(guint rcvbuf, GError **error)
{
	return cnproc_open_with(rcvbuf, 0, error);
}

struct cnproc *cnproc_open_execs(guint rcvbuf, GError **error)
{
	return cnproc_open_with(rcvbuf, PROC_EVENT_EXEC, error);
}

struct cnproc *cnproc_adopt_fd(int fd)
{
	struct cnproc *cn = g_new0(struct cnproc, 1);

	cn->nl = mnl_socket_fdopen(fd);
	if (!cn->nl) {
		g_free(cn);
		return NULL;
	}
	cn->adopted = TRUE;
	cn->slots = g_malloc(CNPROC_BATCH * sizeof(*cn->slots));
	return cn;
}

int cnproc_fd(const struct cnproc *cn)
{
	return mnl_socket_get_fd(cn->nl);
}

int cnproc_receive(struct cnproc *cn, cnproc_event_fn fn, void *data)
{
	ssize_t n;

	/* Only the kernel, or a CAP_NET_ADMIN process, can send to a
	 * NETLINK_CONNECTOR socket, so the sender is not checked. */
	n = mnl_socket_recvfrom(cn->nl, cn->buf, sizeof(cn->buf));
	if (n < 0)
		return -errno;
	return cnproc_parse(cn->buf, (size_t)n, fn, data);
}

int cnproc_receive_batch(struct cnproc *cn, cnproc_event_fn fn, void *data,
                         struct cnproc_batch *batch)
{
	int n;

	memset(batch, 0, sizeof(*batch));
	for (guint i = 0; i < CNPROC_BATCH; i++) {
		cn->iovs[i] = (struct iovec){.iov_base = cn->slots[i], .iov_len = CNPROC_RECV_SIZE};
		memset(&cn->msgs[i], 0, sizeof(cn->msgs[i]));
		cn->msgs[i].msg_hdr.msg_iov = &cn->iovs[i];
		cn->msgs[i].msg_hdr.msg_iovlen = 1;
	}
	/* As cnproc_receive(): only the kernel or a CAP_NET_ADMIN process
	 * can send here. An error after the first datagram is kept by the
	 * kernel for the next call (an ENOBUFS comes after what preceded
	 * the drop). */
	n = recvmmsg(mnl_socket_get_fd(cn->nl), cn->msgs, CNPROC_BATCH, MSG_DONTWAIT, NULL);
	if (n < 0)
		return -errno;
	batch->datagrams = (guint)n;
	/* Fewer than asked for: the kernel stopped at an empty queue. */
	batch->dry = n < CNPROC_BATCH;
	for (int i = 0; i < n; i++) {
		int ret;

		/* A datagram longer than the connector's maximum is not one
		 * of its messages: cut, it would parse as something else. */
		if (cn->msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
			batch->malformed++;
			continue;
		}
		ret = cnproc_parse(cn->slots[i], cn->msgs[i].msg_len, fn, data);
		if (ret >= 0)
			batch->events += (guint)ret;
		else if (ret == -EBADMSG)
			batch->malformed++;
		else if (ret == -ENOBUFS)
			batch->overrun = TRUE;
		else if (batch->error == 0)
			batch->error = ret;
	}
	return 0;
}

void cnproc_close(struct cnproc *cn)
{
	if (!cn)
		return;
	/* The kernel only emits events while someone listens; say we stopped. */
	if (!cn->adopted)
		send_mcast_op(cn, PROC_CN_MCAST_IGNORE, 0);
	mnl_socket_close(cn->nl);
	g_free(cn->slots);
	g_free(cn);
}
