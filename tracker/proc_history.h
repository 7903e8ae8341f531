/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Per-process history: what a record's current fields no longer show.
 * The fork (or discovery), the last exec and the exit are the record's own
 * fields; an entry is kept only for what they lose: an exec (or the image
 * found at discovery) replaced by a later exec, and every comm, uid and gid
 * change, each with its time. Most processes (fork, exec, exit) have no
 * entry at all.
 *
 * There is no limit per process, but all entries together are bounded by
 * a global budget set from the retention limit: past it, the oldest entry
 * of the whole table goes, and its process counts it as dropped (its
 * history file then says how many earlier events it lost). Entries are
 * freed with their record. Not thread-safe: the tracker calls it under its
 * write lock.
 */
#pragma once

#include <glib.h>

#include "strpool.h"

enum lin_hist_kind {
	LIN_HIST_EXEC,  /* an exec, replaced since by a later one */
	LIN_HIST_FOUND, /* the image found at discovery, replaced by an exec */
	LIN_HIST_COMM,
	LIN_HIST_UID,
	LIN_HIST_GID,
};

enum lin_hist_flag {
	LIN_HIST_CMDLINE_MISSED = 1 << 0,
	LIN_HIST_CMDLINE_TRUNCATED = 1 << 1,
};

struct lin_hist;

struct lin_hist_entry {
	/* The same process's entries, in time order. */
	struct lin_hist_entry *prev, *next;
	/* Every entry, in the order they were added (the budget's age). */
	struct lin_hist_entry *budget_prev, *budget_next;
	struct lin_hist *owner;
	guint64 time_ns; /* CLOCK_REALTIME */
	/* EXEC, FOUND: ruid, euid, rgid, egid at that moment.
	 * UID, GID: old real, old effective, new real, new effective. */
	guint32 ids[4];
	struct lin_str *exe;     /* EXEC, FOUND: the exe; COMM: the new comm */
	struct lin_str *cmdline; /* EXEC, FOUND */
	guint8 kind;             /* enum lin_hist_kind */
	guint8 flags;            /* enum lin_hist_flag */
};

struct lin_creator_guess;

/*
 * A record's history, and its other rare fields: allocated for the few
 * records that have any of them, so that the many that have none do not
 * pay for them (see struct lin_process and its lin_process_*() readers).
 */
struct lin_hist {
	struct lin_hist_entry *first, *last;
	gpointer record; /* the struct lin_process it belongs to */
	guint32 count;
	guint32 dropped; /* entries this process lost to the budget */
	/* The record's pid inside a pid namespace other than the daemon's
	 * (0: none known). */
	pid_t ns_pid;
	/* N for the Nth record of (pid, start_ticks), a pid recycled within
	 * one clock tick; 0 or 1: the first. */
	guint32 instance;
	/* Bytes of the whole command line when the kept ones are not all of
	 * it (LIN_PROC_CMDLINE_TRUNCATED), else 0. */
	guint32 cmdline_full_len;
	/* Hex SHA-256 of the whole command line, when it was computed while
	 * reading (long or cut); NULL: the kept bytes are the whole. */
	struct lin_str *cmdline_sha256;
	/* NULL while nothing says the fork event's parent is not the
	 * creator; owned (g_free). */
	struct lin_creator_guess *guess;
};

/* Called for an entry the budget drops, before it is freed. */
typedef void (*lin_hist_drop_fn)(struct lin_hist_entry *entry, void *data);

struct lin_hist_budget {
	struct lin_strpool *strings; /* not owned */
	struct lin_hist_entry *oldest, *newest;
	guint64 entries;
	guint64 histories; /* struct lin_hist allocated */
	guint64 max;       /* 0: unlimited */
	guint64 dropped;
	lin_hist_drop_fn on_drop;
	void *on_drop_data;
};

void lin_hist_budget_init(struct lin_hist_budget *budget, struct lin_strpool *strings, guint64 max);

/* Adds a copy of *tmpl (its strings get one more reference each) to the
 * history *slot of record (created when NULL), in time order after any
 * entry of the same time; then enforces the budget. */
void lin_hist_add(struct lin_hist_budget *budget, struct lin_hist **slot, gpointer record,
                  const struct lin_hist_entry *tmpl);
/* *slot, created (empty) when NULL. */
struct lin_hist *lin_hist_get(struct lin_hist_budget *budget, struct lin_hist **slot,
                              gpointer record);
/* Frees *slot, its entries and its rare fields (a forgotten record).
 * NULL is fine. */
void lin_hist_free(struct lin_hist_budget *budget, struct lin_hist **slot);
/* Frees h's entries and forgets its count of dropped ones; its rare
 * fields stay (a journal line that gives the whole history). NULL is fine. */
void lin_hist_clear(struct lin_hist_budget *budget, struct lin_hist *h);

/* The ids (ruid, euid, rgid, egid) a process had at time_ns, from its
 * current ids and the UID and GID entries after that time. */
void lin_hist_ids_at(const struct lin_hist *h, guint64 time_ns, const guint32 current[4],
                     guint32 out[4]);

/* Bytes the entries take, for the stats. */
gsize lin_hist_budget_bytes(const struct lin_hist_budget *budget);
