// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the context parsers: the same bytes as the text of
 * /proc/<pid>/cgroup, an ns/pid link, loginuid, and an environ block
 * filtered for a few names. A path found must lie inside the input; what
 * the environ filter keeps must be whole "NAME=" entries of asked names.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc_context.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *names[] = {"LD_PRELOAD", "A", "SSH_CONNECTION", NULL};
	const char *text = (const char *)data;
	const char *path;
	size_t path_len, pos = 0;
	guint32 v;
	GString *kept;

	if (proc_context_parse_cgroup(text, size, &path, &path_len) == 0) {
		if (path < text || path + path_len > text + size || path_len == 0 || path[0] != '/')
			abort();
	}
	if (proc_context_parse_ns_link(text, size, &v) != 0 &&
	    proc_context_parse_ns_link(text, size, &v) != -EINVAL)
		abort();
	proc_context_parse_u32(text, size, &v);

	kept = g_string_new(NULL);
	proc_context_filter_environ(text, size, names, kept);
	while (pos < kept->len) {
		const char *entry = kept->str + pos;
		size_t len = strnlen(entry, kept->len - pos);
		gboolean asked = FALSE;

		if (pos + len == kept->len)
			abort(); /* every kept entry ends in NUL */
		for (int i = 0; names[i]; i++)
			if (len > strlen(names[i]) && entry[strlen(names[i])] == '=' &&
			    memcmp(entry, names[i], strlen(names[i])) == 0)
				asked = TRUE;
		if (!asked)
			abort();
		pos += len + 1;
	}
	g_string_free(kept, TRUE);
	return 0;
}
