// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the journal encoder: the input is cut into a
 * record (numbers, then comm, exe and cmdline bytes of any value) and a
 * host, and every action is encoded. Each result must be exactly one line
 * of valid UTF-8 ending in '\n', no longer than JOURNAL_LINE_MAX, that
 * jansson parses into an object; its cmdline must come back byte for byte,
 * from lineagefs.cmdline_b64 when present, else from process.args joined
 * by NUL with a final NUL.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <jansson.h>

#include "journal_encode.h"
#include "tracker.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Says which property broke, with the line, then crashes. */
static G_NORETURN void fail(const char *why, const char *line)
{
	fprintf(stderr, "fuzz_journal_encode: %s: %.2000s\n", why, line);
	abort();
}

struct reader {
	const uint8_t *data;
	size_t size;
};

static guint64 take(struct reader *r, size_t n)
{
	guint64 v = 0;

	for (size_t i = 0; i < n && r->size > 0; i++, r->data++, r->size--)
		v = v << 8 | *r->data;
	return v;
}

static const char *take_bytes(struct reader *r, size_t *len)
{
	size_t want = (size_t)take(r, 2);
	const char *start = (const char *)r->data;

	*len = MIN(want, r->size);
	r->data += *len;
	r->size -= *len;
	return start;
}

static void check_cmdline(json_t *root, const struct journal_proc *p, const char *line)
{
	json_t *lfs = json_object_get(root, "lineagefs");
	json_t *b64 = json_object_get(lfs, "cmdline_b64");
	json_t *args = json_object_get(json_object_get(root, "process"), "args");
	GByteArray *got = g_byte_array_new();
	size_t i;
	json_t *v;

	if (!args)
		goto out;
	if (b64) {
		gsize len;
		guchar *raw = g_base64_decode(json_string_value(b64), &len);

		g_byte_array_append(got, raw, (guint)len);
		g_free(raw);
	} else {
		json_array_foreach(args, i, v)
		{
			if (!json_is_string(v))
				fail("an arg is not a string", line);
			g_byte_array_append(got, (const guint8 *)json_string_value(v),
			                    (guint)json_string_length(v));
			g_byte_array_append(got, (const guint8 *)"", 1);
		}
	}
	if (got->len != p->cmdline_len || memcmp(got->data, p->cmdline, got->len) != 0)
		fail("the cmdline does not come back", line);
out:
	g_byte_array_unref(got);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct reader r = {data, size};
	struct journal_host host = {.hz = (guint)take(&r, 2)};
	struct journal_proc p = {0};
	struct lin_hist_copy hist[3];
	GString *out = g_string_new(NULL);

	host.boot_realtime_ns = take(&r, 8);
	memcpy(host.machine_id, "0123456789abcdef0123456789abcdef", 33);
	memcpy(host.boot_id, "01234567-89ab-cdef-0123-456789abcdef", 37);
	p.has = (guint32)take(&r, 2);
	p.pid = (pid_t)take(&r, 4);
	p.instance = (guint32)take(&r, 1);
	p.start_ticks = take(&r, 8);
	p.creator_pid = (pid_t)take(&r, 4);
	p.creator_start_ticks = take(&r, 8);
	p.ruid = (uid_t)take(&r, 4);
	p.euid = (uid_t)take(&r, 4);
	p.flags = (guint32)take(&r, 2);
	p.exit_kind = (guint32)take(&r, 1) % 5;
	p.exit_status = (guint32)take(&r, 4);
	p.exit_ns = take(&r, 8);
	p.exec_count = (guint32)take(&r, 4);
	p.cmdline_full_len = (guint32)take(&r, 4);
	if (take(&r, 1) & 1)
		p.cmdline_sha256 =
		    "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff";
	p.guess.check = (guint8)(take(&r, 1) % 3);
	p.guess.count = (guint)take(&r, 1);
	for (guint i = 0; i < LIN_CANDIDATES_MAX; i++) {
		p.guess.candidates[i].pid = (pid_t)take(&r, 4);
		p.guess.candidates[i].start_ticks = take(&r, 8);
		p.guess.candidates[i].instance = (guint32)take(&r, 2);
	}
	p.comm = take_bytes(&r, &p.comm_len);
	p.exe = take_bytes(&r, &p.exe_len);
	/* The context and history (issue 9): any bytes, any counts. */
	p.ctx.has = (guint32)take(&r, 2);
	p.ctx.cwd = take_bytes(&r, &p.ctx.cwd_len);
	p.ctx.cgroup = take_bytes(&r, &p.ctx.cgroup_len);
	p.ctx.env = take_bytes(&r, &p.ctx.env_len);
	for (size_t i = 0; i < sizeof(p.ctx.sha256) - 1; i++)
		p.ctx.sha256[i] = (char)(take(&r, 1) | 1);
	p.ctx.pidns = (guint32)take(&r, 4);
	p.ctx.loginuid = (guint32)take(&r, 4);
	p.ctx.sessionid = (guint32)take(&r, 4);
	p.ctx.tty_nr = (guint32)take(&r, 4);
	p.ctx.sid = (pid_t)take(&r, 4);
	p.ctx.pgid = (pid_t)take(&r, 4);
	p.ctx.ns_pid = (pid_t)take(&r, 4);
	p.ctx.exec_ns = take(&r, 8);
	for (size_t i = 0; i < G_N_ELEMENTS(hist); i++) {
		hist[i].time_ns = take(&r, 8);
		hist[i].kind = (guint8)(take(&r, 1) % 6);
		hist[i].flags = (guint8)take(&r, 1);
		hist[i].cmdline_back = (guint32)(take(&r, 1) % 4);
		for (size_t k = 0; k < 4; k++)
			hist[i].ids[k] = (guint32)take(&r, 4);
		hist[i].exe = take_bytes(&r, &hist[i].exe_len);
		hist[i].cmdline = take_bytes(&r, &hist[i].cmdline_len);
	}
	p.ctx.hist = hist;
	p.ctx.hist_count = (guint)(take(&r, 1) % (G_N_ELEMENTS(hist) + 1));
	p.ctx.hist_dropped = (guint32)take(&r, 4);
	p.cmdline = (const char *)r.data;
	p.cmdline_len = r.size;

	for (int action = 0; action <= JOURNAL_ACTION_COUNT; action++) {
		json_error_t err;
		json_t *root;

		g_string_truncate(out, 0);
		journal_encode_process(out, &host, (enum journal_action)action, take(&r, 0), 1, &p);
		if (out->len == 0 || out->len > JOURNAL_LINE_MAX ||
		    out->str[out->len - 1] != '\n' ||
		    memchr(out->str, '\n', out->len - 1) != NULL ||
		    !g_utf8_validate(out->str, (gssize)out->len, NULL))
			fail("not one line of UTF-8", out->str);
		root = json_loadb(out->str, out->len, JSON_REJECT_DUPLICATES, &err);
		if (!root || !json_is_object(root))
			fail(err.text, out->str);
		if (action < JOURNAL_ACTION_COUNT &&
		    (journal_action_fields((enum journal_action)action) & JOURNAL_HAS_CMDLINE) &&
		    (p.has & JOURNAL_HAS_CMDLINE))
			check_cmdline(root, &p, out->str);
		json_decref(root);
	}
	g_string_free(out, TRUE);
	return 0;
}
