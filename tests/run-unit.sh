#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs every cmocka unit test binary; fails if any fails or if none ran.
build=${1:-build}
n=0; failed=0
for t in "$build"/tests/test_*; do
	[ -x "$t" ] || continue
	n=$((n + 1))
	echo "== $(basename "$t")"
	if ! (cd "$build/tests" && "./$(basename "$t")"); then failed=$((failed + 1)); fi
done
if [ "$n" -eq 0 ]; then echo "unit tests: none built" >&2; exit 1; fi
echo "unit: $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
