#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# The README's second command, and what CI runs: install what is missing,
# build with AddressSanitizer + UndefinedBehaviorSanitizer, run the unit and
# integration suites, the unit suite again in a release build (and the fuzz
# suite in a clang build when the fuzzers exist), check the formatting, and
# end with one line:
#   N passed, N failed, N skipped
# The exit status is non-zero when anything failed.
set -uo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

bash .ci/install-deps || exit 1

# Sanitizer reports must end the process and be readable; leaks count too.
# meson test keeps these when they are set.
export ASAN_OPTIONS=${ASAN_OPTIONS:-halt_on_error=1:abort_on_error=0:print_stacktrace=1:detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-print_suppressions=0}

status=0
broken=0 # builds that failed: each counts as one failed test
testlogs=()
format_result=

# setup_build DIR ARGS...: configure DIR once, then keep its options in step.
setup_build() {
	local dir=$1
	shift
	if [ -f "$dir/build.ninja" ]; then
		meson configure "$dir" "$@" >/dev/null
	else
		meson setup "$dir" "$@" >/dev/null
	fi
}

# run_suites DIR SUITE...: build DIR and run the named suites in it.
run_suites() {
	local dir=$1
	shift
	local args=()
	for suite in "$@"; do
		args+=(--suite "$suite")
	done
	rm -f "$dir/meson-logs/testlog.json"
	if ! ninja -C "$dir" >"$dir/ninja.log" 2>&1; then
		cat "$dir/ninja.log"
		echo "run-all.sh: build in $dir failed" >&2
		status=1
		broken=$((broken + 1))
		return
	fi
	meson test -C "$dir" --print-errorlogs "${args[@]}" || status=1
	testlogs+=("$dir/meson-logs/testlog.json")
}

echo "== build-asan: ASan + UBSan build, unit and integration suites"
# debug_hooks: the test-only trigger of a forbidden system call (test_harden.py).
if setup_build build-asan -Db_sanitize=address,undefined -Db_lundef=false -Dtests=true \
	-Ddebug_hooks=true; then
	run_suites build-asan unit integration
else
	echo "run-all.sh: meson setup build-asan failed" >&2
	status=1
	broken=$((broken + 1))
fi

echo "== build-release: an optimized build, where the compiler warns about more, unit suite"
# -O3 finds maybe-uninitialized paths that -O2 does not; warnings are errors.
# The unit suite runs here too: without the sanitizers' slowness, threads
# interleave otherwise (a test hung one run in four only in this build).
if setup_build build-release -Dbuildtype=release -Dtests=true; then
	run_suites build-release unit
else
	echo "run-all.sh: meson setup build-release failed" >&2
	status=1
	broken=$((broken + 1))
fi

if [ -f tests/fuzz/meson.build ]; then
	echo "== build-fuzz: clang build with the libFuzzer targets, fuzz suite"
	# CC only matters when the directory is first configured.
	# The fuzz targets bring their own -fsanitize=fuzzer,address,undefined.
	if CC=clang setup_build build-fuzz -Dfuzz=true; then
		run_suites build-fuzz fuzz
	else
		echo "run-all.sh: meson setup build-fuzz failed" >&2
		status=1
		broken=$((broken + 1))
	fi
fi

echo "== clang-format --dry-run --Werror"
mapfile -d '' sources < <(find . \( -path './build*' -o -path ./.git \) -prune -o \
	\( -name '*.c' -o -name '*.h' \) -type f -print0 | sort -z)
if [ "${#sources[@]}" -eq 0 ] || clang-format --dry-run --Werror "${sources[@]}"; then
	format_result=passed
else
	format_result=failed
	status=1
fi

# One count per test case where the runner says (pytest's and cmocka's
# closing lines in the log), else one per meson test.
summary=$(
	/usr/bin/python3 - "$format_result" "$broken" "${testlogs[@]}" <<'EOF'
import json
import re
import sys

passed = failed = skipped = 0
if sys.argv[1] == "passed":
    passed += 1
else:
    failed += 1
failed += int(sys.argv[2])

PYTEST = re.compile(r"^=+ (.*) in [\d.]+s.*=+$", re.M)
CMOCKA = re.compile(r"^\[  (PASSED|FAILED|SKIPPED) *\] (\d+) test", re.M)

for path in sys.argv[3:]:
    try:
        lines = open(path, encoding="utf-8", errors="replace").read().splitlines()
    except FileNotFoundError:
        failed += 1  # the suite did not even write its log
        continue
    for line in lines:
        entry = json.loads(line)
        result = entry.get("result")
        out = (entry.get("stdout") or "") + "\n" + (entry.get("stderr") or "")
        p = f = s = 0
        m = PYTEST.findall(out)
        if m:
            for count, word in re.findall(r"(\d+) (\w+)", m[-1]):
                if word == "passed":
                    p += int(count)
                elif word in ("failed", "error", "errors"):
                    f += int(count)
                elif word == "skipped":
                    s += int(count)
        else:
            for word, count in CMOCKA.findall(out):
                if word == "PASSED":
                    p += int(count)
                elif word == "FAILED":
                    f += int(count)
                else:
                    s += int(count)
        if result in ("OK", "EXPECTEDFAIL"):
            if p + f + s == 0:
                p = 1
        elif result == "SKIP":
            if p + f + s == 0 or s == 0:
                s = max(s, 1)
        else:
            # FAIL, TIMEOUT, ERROR, UNEXPECTEDPASS: at least one failure,
            # even when the runner died before its closing line.
            f = max(f, 1)
        passed += p
        failed += f
        skipped += s
print("%d passed, %d failed, %d skipped" % (passed, failed, skipped))
EOF
)
if [ -z "$summary" ]; then
	summary="0 passed, 1 failed, 0 skipped"
	status=1
fi
case $summary in
*" 0 failed,"*) ;;
*) status=1 ;;
esac

echo
echo "$summary"
exit "$status"
