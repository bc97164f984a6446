#!/bin/sh
# SPDX-License-Identifier: MIT
# The README's two commands:  quickstart.sh demo  |  quickstart.sh test
set -eu
cd "$(dirname "$0")/.."
what=${1:-demo}
jobs=$(nproc 2>/dev/null || echo 2)

scripts/install-deps.sh
case "$what" in
demo)
	make -j"$jobs" all
	out=weft-demo.pftrace
	echo "== weft run -- build/samples/threads/pingpong (a trace and a summary come out)"
	build/weft run -f -o "$out" --summary-json weft-demo.json -- \
		build/samples/threads/pingpong 20000 50
	echo "== trace: $out   summary as JSON: weft-demo.json   view: build/weft open $out"
	;;
test)
	make -j"$jobs" all unit-tests
	make test
	;;
*)
	echo "usage: $0 demo|test" >&2
	exit 2
	;;
esac
