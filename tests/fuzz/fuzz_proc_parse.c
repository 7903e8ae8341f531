// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the /proc text parsers: the same bytes go to
 * proc_scan_parse_stat() and proc_scan_parse_status(), as the content of a
 * /proc/<pid>/stat or status file that need not end in NUL or newline. A
 * stat that parses must also parse the same way from a copy with trailing
 * fields appended, since that is all a newer kernel changes.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proc_scan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct lin_status status;
	struct lin_stat stat;
	int ret;

	ret = proc_scan_parse_stat(text, size, &stat);
	if (ret != 0 && ret != -EINVAL)
		abort();
	if (ret == 0) {
		static const char more[] = " 0 0";
		struct lin_stat again;
		char *longer;

		/* The comm is a C string that fits, and the pid is one. */
		if (memchr(stat.comm, '\0', sizeof(stat.comm)) == NULL || stat.pid <= 0 ||
		    stat.ppid < 0)
			abort();
		longer = malloc(size + sizeof(more) - 1);
		if (!longer)
			abort();
		memcpy(longer, data, size);
		memcpy(longer + size, more, sizeof(more) - 1);
		if (proc_scan_parse_stat(longer, size + sizeof(more) - 1, &again) != 0 ||
		    memcmp(&stat, &again, sizeof(stat)) != 0)
			abort();
		free(longer);
	}

	ret = proc_scan_parse_status(text, size, &status);
	if (ret != 0 && ret != -EINVAL)
		abort();
	if (ret == 0 && status.tgid < 0)
		abort();
	return 0;
}
