#!/bin/sh
# SPDX-License-Identifier: MIT
# `make bench`: every bench/bench_*.py, each printing ratios measured within one run.
build=${1:-build}
status=0
for b in "$(dirname "$0")"/bench_*.py; do
	[ -f "$b" ] || continue
	echo "== $(basename "$b" .py)"
	WEFT_BUILD=$(cd "$build" && pwd) python3 "$b" || status=1
done
exit $status
