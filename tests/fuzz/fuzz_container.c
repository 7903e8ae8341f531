// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for the container-id parser: any bytes as a cgroup path.
 * What it finds must be a printable C string without '/', a 64-hex id for
 * the runtimes that use one, and the same when the path is given again
 * with a host slice in front (a container is named by its own components,
 * wherever it sits).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "container.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char prefix[] = "/system.slice/";
	struct container_id c, again;
	gboolean found = container_parse((const char *)data, size, &c);
	gsize len;
	char *longer;

	len = strnlen(c.id, sizeof(c.id));
	if (len == sizeof(c.id) || found != (c.runtime != CONTAINER_NONE) || found != (len > 0))
		abort();
	for (gsize i = 0; i < len; i++)
		if (c.id[i] < 0x20 || c.id[i] > 0x7e || c.id[i] == '/')
			abort();
	if ((c.runtime == CONTAINER_DOCKER || c.runtime == CONTAINER_PODMAN ||
	     c.runtime == CONTAINER_CRIO || c.runtime == CONTAINER_CONTAINERD) &&
	    len != 64)
		abort();

	if (size == 0)
		return 0;
	longer = malloc(sizeof(prefix) - 1 + size);
	if (!longer)
		abort();
	memcpy(longer, prefix, sizeof(prefix) - 1);
	memcpy(longer + sizeof(prefix) - 1, data, size);
	container_parse(longer, sizeof(prefix) - 1 + size, &again);
	/* Only the first component's parent changed, from none to
	 * "system.slice", and neither is a runtime's parent directory. */
	if (again.runtime != c.runtime || strcmp(again.id, c.id) != 0)
		abort();
	free(longer);
	return 0;
}
