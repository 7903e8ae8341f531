#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Print the ancestry of a process by walking lineagefs `parent` links: the
# process first, init last, one line each: <pid>-<start>, state, command line.
# Works for processes that have exited, and for orphans (parent is the
# creator, not the process the kernel reparented them to).
#
# Usage: ancestry.sh PID [MOUNTPOINT]     (MOUNTPOINT defaults to /run/lineagefs)
set -euo pipefail

die() {
	echo "ancestry.sh: $*" >&2
	exit 1
}

# A command line, arguments joined by spaces, on one line that is safe to
# print: a newline or tab in an argument would break the one-process-per-line
# output, and an escape sequence in a hostile process's argv must not reach
# the terminal of whoever investigates it. So backslash, newline and tab are
# written \\, \n and \t, other control bytes as \xHH; UTF-8 text is kept.
printable() {
	local arg line="" sep="" code ctl hex
	while IFS= read -r -d '' arg || [ -n "$arg" ]; do
		arg=${arg//\\/\\\\}
		arg=${arg//$'\n'/\\n}
		arg=${arg//$'\t'/\\t}
		# Builtins only, and only for an argument that needs it: a fork
		# per control byte made a long ancestry take seconds.
		if [[ $arg == *[[:cntrl:]]* ]]; then
			for code in {1..8} {11..31} 127; do
				printf -v hex %02x "$code"
				printf -v ctl "\\x$hex"
				if [[ $arg == *"$ctl"* ]]; then
					arg=${arg//"$ctl"/\\x$hex}
				fi
			done
		fi
		line+=$sep$arg
		sep=" "
	done
	printf '%s' "$line"
}

[ $# -ge 1 ] && [ $# -le 2 ] || die "usage: ancestry.sh PID [MOUNTPOINT]"
pid=$1
mnt=${2:-/run/lineagefs}
[[ $pid =~ ^[0-9]+$ ]] || die "PID must be a number, not '$pid'"
[ -e "$mnt/stats" ] || die "$mnt is not a lineagefs mount (start it with: lineagefs $mnt)"

# by-pid/<pid> names the newest process that had that pid.
link=$(readlink "$mnt/by-pid/$pid" 2>/dev/null) || die "no process with pid $pid in $mnt"
dir=$mnt/${link#../}

# A cycle cannot happen, but a script should not spin if one ever did.
for ((depth = 0; depth < 4096; depth++)); do
	name=${dir##*/}
	state=$(awk -F'\t' '$1 == "State:" { print $2 }' "$dir/status")
	cmdline=$(printable <"$dir/cmdline")
	if [ -z "$cmdline" ]; then
		# Kernel threads (and missed cmdlines) have none: show the name, as ps does.
		cmdline="[$(cat "$dir/comm")]"
	fi
	printf '%s\t%s\t%s\n' "$name" "$state" "$cmdline"

	parent=$(readlink "$dir/parent" 2>/dev/null) || break
	dir=$mnt/${parent#../}
	[ -d "$dir" ] || break
done
