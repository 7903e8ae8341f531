#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's first command: install what is missing, build, mount
# lineagefs at /run/lineagefs (or $LINEAGEFS_MOUNT) and show what it holds.
# The daemon keeps running afterwards; the last line says how to stop it.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
repo=$PWD
mnt=${LINEAGEFS_MOUNT:-/run/lineagefs}
journal=${LINEAGEFS_JOURNAL:-/var/lib/lineagefs-demo}

if [ "$(id -u)" -ne 0 ]; then
	echo "demo.sh: run as root: mounting and the kernel's process events need it" >&2
	exit 1
fi

bash .ci/install-deps

if [ ! -f build/build.ninja ]; then
	meson setup build >/dev/null
fi
# Quiet when it works; on failure run again so the errors show.
ninja -C build >/dev/null || ninja -C build

is_mounted() {
	awk -v m="$1" '$5 == m { found = 1 } END { exit !found }' /proc/self/mountinfo
}

# A daemon from an earlier run, or a dead one (ENOTCONN): unmount it first.
if is_mounted "$mnt"; then
	echo "# unmounting the lineagefs already at $mnt"
	fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -uz "$mnt"
fi
mkdir -p "$mnt"

# start_daemon: without -f the daemon goes to the background once the
# mount is up; the journal keeps its history across restarts.
start_daemon() {
	"$repo/build/src/lineagefs" --journal="$journal" "$mnt"
	for _ in $(seq 100); do
		[ -e "$mnt/stats" ] && break
		sleep 0.1
	done
	[ -e "$mnt/stats" ] || {
		echo "demo.sh: $mnt did not come up" >&2
		exit 1
	}
}
start_daemon

# show 'COMMAND': print it as typed, then run it.
show() {
	printf '\n$ %s\n' "$1"
	eval "$1"
}

cd "$mnt"
echo "lineagefs is mounted at $mnt"
show 'ls | sed -n 1,8p'
show "cat self/status"
show "cat by-pid/$$/ancestry"
show "bash $repo/examples/ancestry.sh $$ $mnt | cut -c 1-120"

# A process that is gone already: the directory stays, with its exit code.
sh -c 'exit 3' &
pid=$!
wait $pid || true
exited=
for _ in $(seq 100); do
	# by-pid names the newest holder of the pid once the daemon saw the fork.
	link=$(readlink "by-pid/$pid" 2>/dev/null) || link=
	if [ -n "$link" ] && grep -q '^ExitCode:	exited 3$' "${link#../}/status"; then
		exited=${link#../}
		break
	fi
	sleep 0.05
done
[ -n "$exited" ] || {
	echo "demo.sh: the exited process $pid did not show up" >&2
	exit 1
}
printf '\n# %s was sh -c '"'"'exit 3'"'"', which has exited\n' "$exited"
show "cat $exited/status"
show "cat stats"
cd / >/dev/null

# The history outlives the daemon: stop it, start it again on the same
# journal, and the exited process is back with everything it had.
daemon=$(pgrep -f -- "--journal=$journal $mnt\$" | head -n 1) || daemon=
printf '\n# restarting the daemon on the journal in %s\n' "$journal"
show "fusermount3 -u $mnt"
for _ in $(seq 100); do
	[ -n "$daemon" ] && kill -0 "$daemon" 2>/dev/null || break
	sleep 0.1
done
start_daemon
cd "$mnt"
show "ls -d $exited && grep -E '^(Name|State|ExitCode|Creator):' $exited/status"
show "grep -E '^(journal_lines|exits_while_down) ' stats"
show "ls $journal"
cd / >/dev/null

printf '\nlineagefs keeps running. Browse %s; stop it with: fusermount3 -u %s\n' "$mnt" "$mnt"
