// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the names a reader looks up: fs_parse_process_name()
 * and fs_parse_pid() on any bytes (as a NUL-terminated name, the way FUSE
 * hands it over). A name that parses must render back to the very same
 * bytes: one spelling per process, so no two names reach one record and a
 * listing never shows a name twice.
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "render.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *name = malloc(size + 1);
	char again[FS_NAME_MAX];
	struct lin_name parsed;
	pid_t pid;
	int n;

	if (!name)
		abort();
	memcpy(name, data, size);
	name[size] = '\0';
	if (fs_parse_process_name(name, &parsed) == 0) {
		if (parsed.pid <= 0 || parsed.instance < 1)
			abort();
		n = fs_process_name(&parsed, again, sizeof(again));
		if (n < 0 || (size_t)n != strlen(name) || strcmp(again, name) != 0)
			abort();
	}
	if (fs_parse_pid(name, &pid) == 0 && pid <= 0)
		abort();
	free(name);
	return 0;
}
