/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The container a process belongs to, told from its cgroup v2 path alone:
 * every container runtime puts its containers in cgroups named after the
 * container, in a handful of well-known shapes (docker, containerd and
 * CRI-O under Kubernetes, podman, systemd-nspawn, LXC/LXD). A pure parser
 * of bytes that need not be NUL-terminated, so it also faces a fuzzer.
 */
#pragma once

#include <glib.h>

enum container_runtime {
	CONTAINER_NONE = 0,
	CONTAINER_DOCKER,     /* /docker/<id>, docker-<id>.scope */
	CONTAINER_CONTAINERD, /* cri-containerd-<id>.scope, /kubepods/.../pod<uid>/<id> */
	CONTAINER_CRIO,       /* crio-<id>.scope */
	CONTAINER_PODMAN,     /* libpod-<id>.scope, /libpod_parent/libpod-<id> */
	CONTAINER_NSPAWN,     /* machine-<name>.scope, systemd-nspawn@<name>.service */
	CONTAINER_LXC,        /* /lxc.payload.<name>, /lxc/<name> */
};

/* Longest id kept: a 64-hex id, or a machine or LXC name (a cgroup
 * component is at most 255 bytes; longer names are refused). */
#define CONTAINER_ID_MAX 256

struct container_id {
	enum container_runtime runtime;
	char id[CONTAINER_ID_MAX]; /* NUL-terminated; "" when runtime is NONE */
};

/* Finds the innermost container named in the cgroup path path[0..len) (as
 * in /proc/<pid>/cgroup after "0::"). Always fills out; returns TRUE when
 * a container was found. */
gboolean container_parse(const char *path, gsize len, struct container_id *out);

/* "docker", "containerd", "crio", "podman", "systemd-nspawn", "lxc", or
 * "-" for CONTAINER_NONE. */
const char *container_runtime_name(enum container_runtime runtime);
