/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The kernel's process-events connector (cn_proc) through libmnl: the
 * socket, the subscription, and a parser that turns raw netlink datagrams
 * into struct cnproc_event after checking every length. The parser is pure
 * so unit tests and the fuzzer feed it bytes directly.
 */
#pragma once

#include <glib.h>
#include <stdint.h>
#include <sys/types.h>

enum cnproc_event_type {
	CNPROC_EV_FORK,
	CNPROC_EV_EXEC,
	CNPROC_EV_EXIT,
	CNPROC_EV_COMM,
	CNPROC_EV_UID,
	CNPROC_EV_GID,
	CNPROC_EV_OTHER, /* sid, ptrace, coredump, ack, unknown: counted, ignored */
};

struct cnproc_event {
	enum cnproc_event_type type;
	guint32 cpu;
	guint64 timestamp_ns; /* CLOCK_MONOTONIC, as the kernel's ktime_get_ns() */
	/* cn_msg.seq: the kernel numbers every message it sends from a CPU, per
	 * CPU, so a gap in one CPU's numbers is a count of lost events. */
	guint32 seq;
	gboolean seq_valid; /* FALSE for synthetic events */
	/* The acting task: for FORK the child, for the rest the subject. */
	pid_t pid;  /* thread id */
	pid_t tgid; /* process id */
	union {
		struct {
			pid_t parent_pid, parent_tgid;
		} fork;
		struct {
			guint32 code;   /* raw wait status: code << 8, or signal | 0x80 core */
			guint32 signal; /* exit_signal: SIGCHLD for a leader, -1 for a thread */
		} exit;
		struct {
			char comm[17];
		} comm;
		struct {
			guint32 real, effective;
		} id;
	} u;
};

typedef void (*cnproc_event_fn)(const struct cnproc_event *ev, void *data);

/* Parses one datagram as received from the socket: one or more netlink
 * messages, each a struct cn_msg holding a struct proc_event. Every length
 * is checked before a field is read; messages not from the proc connector
 * are skipped. Returns the number of events reported, or -EBADMSG when the
 * datagram is malformed or empty (events before the fault are still
 * reported), or -ENOBUFS when the datagram holds an NLMSG_OVERRUN, or the
 * negative errno of an NLMSG_ERROR that is not an ack. */
int cnproc_parse(const void *buf, size_t len, cnproc_event_fn fn, void *data);

struct cnproc;

/* GError domain of cnproc_open(). */
#define CNPROC_ERROR (cnproc_error_quark())
GQuark cnproc_error_quark(void);

enum cnproc_error {
	CNPROC_ERROR_PERMISSION,     /* not root: needs CAP_NET_ADMIN */
	CNPROC_ERROR_UNSUPPORTED,    /* no CONFIG_CONNECTOR / CONFIG_PROC_EVENTS */
	CNPROC_ERROR_NOT_SUBSCRIBED, /* no ack: not in the initial namespaces */
	CNPROC_ERROR_FAILED,         /* anything else; the message has strerror */
};

/* Opens the connector socket, raises its receive buffer to rcvbuf bytes
 * (SO_RCVBUFFORCE, falling back to SO_RCVBUF; 0 keeps the default),
 * subscribes and waits (briefly) for the kernel's ack of the subscription.
 * Fails with a CNPROC_ERROR whose message names the cause and the fix (not
 * root, no CONFIG_PROC_EVENTS, not in the initial namespaces). */
struct cnproc *cnproc_open(guint rcvbuf, GError **error);

/* A second socket that the kernel sends EXEC events alone (a filtered
 * subscription, Linux 6.6 and later): the event thread wakes at once for
 * those, whose command lines vanish within microseconds, and takes the
 * rest in batches from the cnproc_open() socket. An older kernel does not
 * answer the filtered subscription: CNPROC_ERROR_NOT_SUBSCRIBED after a
 * short wait. */
struct cnproc *cnproc_open_execs(guint rcvbuf, GError **error);

/* Wraps a datagram socket that the caller writes connector messages to
 * (tests: one end of a socketpair), in place of the kernel's. Nothing is
 * subscribed; cnproc_close() closes fd. NULL if fd is not a socket. */
struct cnproc *cnproc_adopt_fd(int fd);

int cnproc_fd(const struct cnproc *cn);

/* Receives one datagram (blocking unless the fd is non-blocking) and
 * reports its events. Returns the number of events, -EAGAIN, -EINTR,
 * -ENOBUFS when the kernel dropped events (the caller must rescan),
 * or another -errno. */
int cnproc_receive(struct cnproc *cn, cnproc_event_fn fn, void *data);

/* What one cnproc_receive_batch() took. */
struct cnproc_batch {
	guint datagrams;  /* received, each parsed in order */
	guint events;     /* reported to fn */
	guint malformed;  /* datagrams cut or failing to parse (see cnproc_parse()) */
	gboolean overrun; /* one held an NLMSG_OVERRUN: the kernel dropped events */
	int error;        /* the first NLMSG_ERROR that is not an ack (-errno), or 0 */
	gboolean dry;     /* the socket was empty after the last one */
};

/* Receives what the socket holds, up to a batch of datagrams, in one
 * system call without blocking (recvmmsg()), and reports their events in
 * order. Returns 0 with at least one datagram described in *batch, or
 * -EAGAIN when there was none, -EINTR, -ENOBUFS when the kernel dropped
 * events (the caller must rescan), or another -errno. */
int cnproc_receive_batch(struct cnproc *cn, cnproc_event_fn fn, void *data,
                         struct cnproc_batch *batch);

/* Unsubscribes and closes. NULL is fine. */
void cnproc_close(struct cnproc *cn);
