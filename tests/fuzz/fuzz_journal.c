// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the journal reader: the input is one segment file,
 * read through journal_reader_read_fd() from a memfd (so the chunked line
 * splitting, torn last lines and oversized lines are fuzzed too), once as a
 * replay (every boot a table of its own, any machine) and once as the
 * restore at start-up into a root table. After the reading, every table
 * must be consistent: each record's creator chain ends, its counts add up,
 * and a finished reader frees everything it made.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "journal_read.h"
#include "restore.h"
#include "tracker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define HOST "0123456789abcdef0123456789abcdef"
#define BOOT "22222222-2222-2222-2222-222222222222"

static guint64 fixed_realtime(void)
{
	return 1796040000ull * 1000000000ull;
}

static guint64 fixed_monotonic(void)
{
	return 7200ull * 1000000000ull;
}

static void check_table(struct tracker *t)
{
	struct tracker_stats stats;
	guint64 records = 0;

	tracker_read_lock(t);
	for (struct lin_process *p = tracker_first_after(t, 0); p; p = p->all_next) {
		guint64 steps = 0;

		records++;
		if (p->pid <= 0 || p->pid > LIN_PID_MAX)
			abort();
		if (tracker_find(t, p->pid, p->start_ticks) == NULL)
			abort();
		for (struct lin_process *a = p->creator; a; a = a->creator)
			if (++steps > 1000000)
				abort(); /* a cycle */
		if (p->creator && p->creator->pid != p->creator_pid)
			abort();
	}
	tracker_read_unlock(t);
	tracker_get_stats(t, &stats);
	if (stats.processes_live + stats.processes_exited != records)
		abort();
}

static void read_once(int fd, gboolean replay, struct tracker *root)
{
	struct journal_read_options opts = {
	    .expect_host_id = replay ? NULL : HOST,
	    .root_boot_id = replay ? NULL : BOOT,
	    .root_tracker = replay ? NULL : root,
	    .max_exited = 50,
	    .hz = 100,
	    .now_realtime_ns = fixed_realtime(),
	    .threads = replay,
	};
	struct journal_reader *r = journal_reader_new(&opts);
	GError *error = NULL;
	GPtrArray *boots;

	lseek(fd, 0, SEEK_SET);
	if (!journal_reader_read_fd(r, fd, &error)) {
		/* Only another machine's journal at start-up is an error. */
		if (replay || error == NULL || strstr(error->message, "another machine") == NULL)
			abort();
		g_error_free(error);
	}
	journal_reader_finish(r);
	boots = journal_reader_boots(r);
	for (guint i = 0; i < boots->len; i++)
		check_table(((struct journal_boot *)g_ptr_array_index(boots, i))->tracker);
	journal_reader_free(r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct tracker_config cfg = {
	    .proc_root_fd = -1,
	    .max_exited = 50,
	    .boot_realtime_ns = fixed_realtime() - 7200ull * 1000000000ull,
	    .hz = 100,
	    .now_realtime_ns = fixed_realtime,
	    .now_monotonic_ns = fixed_monotonic,
	};
	struct tracker *root;
	int fd = memfd_create("segment", MFD_CLOEXEC);

	if (fd < 0)
		abort();
	if (size > 0 && write(fd, data, size) != (ssize_t)size)
		abort();
	read_once(fd, TRUE, NULL);
	root = tracker_new(&cfg);
	read_once(fd, FALSE, root);
	check_table(root);
	tracker_free(root);
	close(fd);
	return 0;
}
