// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * libFuzzer target for cnproc_parse(): arbitrary bytes as a received
 * datagram. ASan catches any read past the input (libFuzzer hands over an
 * exact-size heap copy) and UBSan any misaligned access; the callback checks
 * that every reported event is one the parser could legitimately produce.
 */
#include "config.h"

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cnproc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_event(const struct cnproc_event *ev, void *user)
{
	int *count = user;

	switch (ev->type) {
	case CNPROC_EV_COMM:
		/* Always a C string within the 17 bytes. */
		if (memchr(ev->u.comm.comm, '\0', sizeof(ev->u.comm.comm)) == NULL)
			abort();
		break;
	case CNPROC_EV_FORK:
	case CNPROC_EV_EXEC:
	case CNPROC_EV_EXIT:
	case CNPROC_EV_UID:
	case CNPROC_EV_GID:
	case CNPROC_EV_OTHER:
		break;
	default:
		abort();
	}
	(*count)++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	int count = 0;
	int ret = cnproc_parse(data, size, check_event, &count);

	/* The number of events reported, or an errno (-EBADMSG, -ENOBUFS, or
	 * an NLMSG_ERROR's code) after the events before the fault. */
	if (ret >= 0 && ret != count)
		abort();
	if (ret < -4095)
		abort();
	return 0;
}
