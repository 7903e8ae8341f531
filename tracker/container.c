// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The container-id parser. Runtimes name a container's cgroup after it:
 * docker "docker-<64 hex>.scope" (systemd driver) or "docker/<64 hex>"
 * (cgroupfs driver); containerd "cri-containerd-<64 hex>.scope" and CRI-O
 * "crio-<64 hex>.scope" under kubepods slices, or "kubepods/<qos>/pod<uid>/
 * <64 hex>" with the cgroupfs driver; podman "libpod-<64 hex>.scope" or
 * "libpod_parent/libpod-<64 hex>"; systemd-nspawn "machine-<name>.scope" or
 * "systemd-nspawn@<name>.service" (systemd-escaped names); LXC and LXD
 * "lxc.payload.<name>", older LXC "lxc/<name>". Monitors (conmon,
 * lxc.monitor) are not containers. The path is read component by component
 * and the last match wins, so a container nested in another is named by
 * the inner one, as the process sees itself.
 */
#include "config.h"

#include "container.h"

#include <string.h>

/* Length of a full container id in hex (sha256). */
#define HEX_ID_LEN 64

struct component {
	const char *data;
	gsize len;
};

static gboolean has_prefix(const struct component *c, const char *prefix)
{
	gsize n = strlen(prefix);

	return c->len >= n && memcmp(c->data, prefix, n) == 0;
}

static gboolean has_suffix(const struct component *c, const char *suffix)
{
	gsize n = strlen(suffix);

	return c->len >= n && memcmp(c->data + c->len - n, suffix, n) == 0;
}

static gboolean equals(const struct component *c, const char *word)
{
	return c->len == strlen(word) && memcmp(c->data, word, c->len) == 0;
}

static gboolean is_hex_id(const char *data, gsize len)
{
	if (len != HEX_ID_LEN)
		return FALSE;
	for (gsize i = 0; i < len; i++)
		if (!g_ascii_isxdigit(data[i]) || g_ascii_isupper(data[i]))
			return FALSE;
	return TRUE;
}

/* "<prefix><64 hex>" with an optional ".scope" after it. */
static gboolean match_hex(const struct component *c, const char *prefix, gboolean scope_optional,
                          struct container_id *out, enum container_runtime runtime)
{
	gsize plen = strlen(prefix);
	gsize len = c->len;

	if (!has_prefix(c, prefix))
		return FALSE;
	if (has_suffix(c, ".scope"))
		len -= strlen(".scope");
	else if (!scope_optional)
		return FALSE;
	if (len < plen || !is_hex_id(c->data + plen, len - plen))
		return FALSE;
	memcpy(out->id, c->data + plen, HEX_ID_LEN);
	out->id[HEX_ID_LEN] = '\0';
	out->runtime = runtime;
	return TRUE;
}

/* A name, systemd-unescaped when escaped ("\x2d" is '-'): printable bytes
 * only, none of them '/', not empty. */
static gboolean copy_name(const char *data, gsize len, gboolean systemd_escaped,
                          struct container_id *out, enum container_runtime runtime)
{
	char name[CONTAINER_ID_MAX];
	gsize n = 0;

	for (gsize i = 0; i < len; i++) {
		int c = (guchar)data[i];

		if (systemd_escaped && c == '\\' && i + 3 < len && data[i + 1] == 'x' &&
		    g_ascii_isxdigit(data[i + 2]) && g_ascii_isxdigit(data[i + 3])) {
			c = g_ascii_xdigit_value(data[i + 2]) * 16 +
			    g_ascii_xdigit_value(data[i + 3]);
			i += 3;
		}
		if (c < 0x20 || c > 0x7e || c == '/' || n + 1 >= sizeof(name))
			return FALSE;
		name[n++] = (char)c;
	}
	if (n == 0)
		return FALSE;
	memcpy(out->id, name, n);
	out->id[n] = '\0';
	out->runtime = runtime;
	return TRUE;
}

/* "<prefix><name><suffix>" as a name. */
static gboolean match_name(const struct component *c, const char *prefix, const char *suffix,
                           gboolean systemd_escaped, struct container_id *out,
                           enum container_runtime runtime)
{
	gsize plen = strlen(prefix), slen = strlen(suffix);

	if (!has_prefix(c, prefix) || !has_suffix(c, suffix) || c->len < plen + slen)
		return FALSE;
	return copy_name(c->data + plen, c->len - plen - slen, systemd_escaped, out, runtime);
}

/* Whether component c, after prev (len 0 at the root), names a container. */
static gboolean match_component(const struct component *prev, const struct component *c,
                                struct container_id *out)
{
	if (match_hex(c, "docker-", FALSE, out, CONTAINER_DOCKER) ||
	    match_hex(c, "cri-containerd-", TRUE, out, CONTAINER_CONTAINERD) ||
	    match_hex(c, "nerdctl-", FALSE, out, CONTAINER_CONTAINERD) ||
	    match_hex(c, "crio-", TRUE, out, CONTAINER_CRIO) ||
	    match_hex(c, "libpod-", TRUE, out, CONTAINER_PODMAN))
		return TRUE;
	if (is_hex_id(c->data, c->len)) {
		/* cgroupfs drivers: the bare id under its runtime's parent. */
		if (equals(prev, "docker"))
			return match_hex(c, "", TRUE, out, CONTAINER_DOCKER);
		if (has_prefix(prev, "pod"))
			return match_hex(c, "", TRUE, out, CONTAINER_CONTAINERD);
		return FALSE;
	}
	if (match_name(c, "machine-", ".scope", TRUE, out, CONTAINER_NSPAWN) ||
	    match_name(c, "systemd-nspawn@", ".service", TRUE, out, CONTAINER_NSPAWN) ||
	    match_name(c, "lxc.payload.", "", FALSE, out, CONTAINER_LXC))
		return TRUE;
	if (equals(prev, "lxc"))
		return copy_name(c->data, c->len, FALSE, out, CONTAINER_LXC);
	return FALSE;
}

gboolean container_parse(const char *path, gsize len, struct container_id *out)
{
	struct component prev = {"", 0};
	struct container_id found;
	gsize pos = 0;

	memset(out, 0, sizeof(*out));
	if (!path)
		return FALSE;
	while (pos < len) {
		struct component c;
		const char *slash;

		while (pos < len && path[pos] == '/')
			pos++;
		if (pos >= len)
			break;
		slash = memchr(path + pos, '/', len - pos);
		c.data = path + pos;
		c.len = slash ? (gsize)(slash - (path + pos)) : len - pos;
		pos += c.len;
		if (match_component(&prev, &c, &found))
			*out = found;
		prev = c;
	}
	return out->runtime != CONTAINER_NONE;
}

const char *container_runtime_name(enum container_runtime runtime)
{
	switch (runtime) {
	case CONTAINER_NONE:
		return "-";
	case CONTAINER_DOCKER:
		return "docker";
	case CONTAINER_CONTAINERD:
		return "containerd";
	case CONTAINER_CRIO:
		return "crio";
	case CONTAINER_PODMAN:
		return "podman";
	case CONTAINER_NSPAWN:
		return "systemd-nspawn";
	case CONTAINER_LXC:
		return "lxc";
	}
	return "-";
}
