// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Unit tests of the container-id parser on cgroup v2 paths as real hosts
 * show them in /proc/<pid>/cgroup (docker with both cgroup drivers,
 * containerd and CRI-O under Kubernetes, podman rootful and rootless,
 * systemd-nspawn, LXC and LXD), on paths that only look like containers
 * (monitors, host services), and on truncated or hostile bytes, always
 * from exact-size heap copies so ASan sees any read past the length.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "container.h"

#define ID_A "4f1c4ab2a8d6b1f7e1b5c43a3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5"
#define ID_B "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static gboolean parse(const char *path, struct container_id *out)
{
	gsize len = strlen(path);
	g_autofree char *copy = g_memdup2(path, len);

	return container_parse(copy, len, out);
}

static void expect(const char *path, enum container_runtime runtime, const char *id)
{
	struct container_id c;
	gboolean found = parse(path, &c);

	if (runtime == CONTAINER_NONE) {
		if (found)
			fail_msg("%s: found %s %s, expected none", path,
			         container_runtime_name(c.runtime), c.id);
		assert_int_equal(c.runtime, CONTAINER_NONE);
		assert_string_equal(c.id, "");
		return;
	}
	if (!found)
		fail_msg("%s: no container found, expected %s", path,
		         container_runtime_name(runtime));
	assert_string_equal(container_runtime_name(c.runtime), container_runtime_name(runtime));
	assert_string_equal(c.id, id);
}

static void test_docker(void **state)
{
	(void)state;
	/* systemd cgroup driver (Docker's default on systemd hosts). */
	expect("/system.slice/docker-" ID_A ".scope", CONTAINER_DOCKER, ID_A);
	/* cgroupfs driver, and a process in a sub-cgroup of the container. */
	expect("/docker/" ID_A, CONTAINER_DOCKER, ID_A);
	expect("/docker/" ID_A "/init.scope", CONTAINER_DOCKER, ID_A);
	/* Docker in docker: the inner one is the process's. */
	expect("/docker/" ID_A "/docker/" ID_B, CONTAINER_DOCKER, ID_B);
	/* The daemon itself is not in a container. */
	expect("/system.slice/docker.service", CONTAINER_NONE, NULL);
	expect("/system.slice/containerd.service", CONTAINER_NONE, NULL);
}

static void test_kubernetes(void **state)
{
	(void)state;
	expect("/kubepods.slice/kubepods-burstable.slice/"
	       "kubepods-burstable-pod6c4ad7b1_6f5e_4b0e_9d9e_0a5c2b3d4e5f.slice/"
	       "cri-containerd-" ID_A ".scope",
	       CONTAINER_CONTAINERD, ID_A);
	expect("/kubepods.slice/kubepods-besteffort.slice/"
	       "kubepods-besteffort-pod1b2c3d4e_0000_1111_2222_333344445555.slice/"
	       "crio-" ID_B ".scope",
	       CONTAINER_CRIO, ID_B);
	/* CRI-O's monitor runs beside the container, outside it. */
	expect("/kubepods.slice/kubepods-pod1.slice/crio-conmon-" ID_B ".scope", CONTAINER_NONE,
	       NULL);
	/* cgroupfs driver: /kubepods/<qos>/pod<uid>/<id>, Guaranteed without qos. */
	expect("/kubepods/burstable/pod6c4ad7b1-6f5e-4b0e-9d9e-0a5c2b3d4e5f/" ID_A,
	       CONTAINER_CONTAINERD, ID_A);
	expect("/kubepods/pod6c4ad7b1-6f5e-4b0e-9d9e-0a5c2b3d4e5f/" ID_B, CONTAINER_CONTAINERD,
	       ID_B);
	/* The pod's own cgroup holds no container. */
	expect("/kubepods/burstable/pod6c4ad7b1-6f5e-4b0e-9d9e-0a5c2b3d4e5f", CONTAINER_NONE, NULL);
	/* nerdctl (plain containerd). */
	expect("/system.slice/nerdctl-" ID_A ".scope", CONTAINER_CONTAINERD, ID_A);
}

static void test_podman(void **state)
{
	(void)state;
	expect("/machine.slice/libpod-" ID_A ".scope", CONTAINER_PODMAN, ID_A);
	/* Rootless, under the user's manager; with a systemd container inside. */
	expect("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID_B
	       ".scope/container",
	       CONTAINER_PODMAN, ID_B);
	/* cgroupfs manager. */
	expect("/libpod_parent/libpod-" ID_A, CONTAINER_PODMAN, ID_A);
	/* conmon is the monitor, not the container. */
	expect("/machine.slice/libpod-conmon-" ID_A ".scope", CONTAINER_NONE, NULL);
}

static void test_nspawn(void **state)
{
	(void)state;
	expect("/machine.slice/machine-debian.scope/payload", CONTAINER_NSPAWN, "debian");
	/* systemd escapes '-' in unit names as \x2d. */
	expect("/machine.slice/machine-build\\x2dbox\\x2d1.scope", CONTAINER_NSPAWN, "build-box-1");
	expect("/machine.slice/systemd-nspawn@web.service/payload/system.slice/nginx.service",
	       CONTAINER_NSPAWN, "web");
	/* Docker inside an nspawn machine: the docker container is innermost. */
	expect("/machine.slice/machine-web.scope/payload/docker/" ID_A, CONTAINER_DOCKER, ID_A);
	/* A bad escape is kept as it is; a control byte refuses the name. */
	expect("/machine.slice/machine-a\\x2.scope", CONTAINER_NSPAWN, "a\\x2");
	expect("/machine.slice/machine-a\\x01.scope", CONTAINER_NONE, NULL);
	expect("/machine.slice/machine-.scope", CONTAINER_NONE, NULL);
}

static void test_lxc(void **state)
{
	(void)state;
	expect("/lxc.payload.web01", CONTAINER_LXC, "web01");
	expect("/lxc.payload.web01/system.slice/ssh.service", CONTAINER_LXC, "web01");
	expect("/lxc.monitor.web01", CONTAINER_NONE, NULL);
	expect("/lxc/old-style", CONTAINER_LXC, "old-style");
	expect("/lxc", CONTAINER_NONE, NULL);
}

static void test_host(void **state)
{
	(void)state;
	expect("/", CONTAINER_NONE, NULL);
	expect("", CONTAINER_NONE, NULL);
	expect("/init.scope", CONTAINER_NONE, NULL);
	expect("/user.slice/user-1000.slice/session-3.scope", CONTAINER_NONE, NULL);
	expect("/system.slice/ssh.service", CONTAINER_NONE, NULL);
}

static void test_near_misses(void **state)
{
	(void)state;
	/* One hex digit short or long, upper case, or not hex. */
	expect("/docker/"
	       "4f1c4ab2a8d6b1f7e1b5c43a3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c",
	       CONTAINER_NONE, NULL);
	expect("/docker/" ID_A "0", CONTAINER_NONE, NULL);
	expect("/docker/"
	       "4F1C4AB2A8D6B1F7E1B5C43A3E4F5A6B7C8D9E0F1A2B3C4D5E6F708192A3B4C5",
	       CONTAINER_NONE, NULL);
	expect("/system.slice/docker-" ID_A, CONTAINER_NONE, NULL);
	expect("/system.slice/docker-" ID_A ".scop", CONTAINER_NONE, NULL);
	/* A bare id under an unknown parent is not guessed at. */
	expect("/myapp/" ID_A, CONTAINER_NONE, NULL);
	/* Doubled slashes are tolerated. */
	expect("//docker//" ID_A "/", CONTAINER_DOCKER, ID_A);
}

static void test_truncated(void **state)
{
	const char *full = "/system.slice/docker-" ID_A ".scope";
	gsize len = strlen(full);

	(void)state;
	/* Every prefix of a real path: found only when whole. */
	for (gsize n = 0; n < len; n++) {
		g_autofree char *copy = g_memdup2(full, n);
		struct container_id c;

		assert_false(container_parse(copy, n, &c));
	}
	/* NUL bytes in the middle are just bytes. */
	{
		const char with_nul[] = "/docker/\0/docker/" ID_B;
		g_autofree char *copy = g_memdup2(with_nul, sizeof(with_nul) - 1);
		struct container_id c;

		assert_true(container_parse(copy, sizeof(with_nul) - 1, &c));
		assert_string_equal(c.id, ID_B);
	}
	/* A name longer than CONTAINER_ID_MAX is refused, not cut. */
	{
		g_autofree char *name = g_strnfill(CONTAINER_ID_MAX, 'n');
		g_autofree char *path = g_strconcat("/lxc.payload.", name, NULL);
		struct container_id c;

		assert_false(parse(path, &c));
	}
	assert_false(container_parse(NULL, 0, &(struct container_id){0}));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker),      cmocka_unit_test(test_kubernetes),
	    cmocka_unit_test(test_podman),      cmocka_unit_test(test_nspawn),
	    cmocka_unit_test(test_lxc),         cmocka_unit_test(test_host),
	    cmocka_unit_test(test_near_misses), cmocka_unit_test(test_truncated),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
