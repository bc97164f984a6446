#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the integration tests (root: they load BPF programs) against build/, or only the ones
# named after the build directory.
build=${1:-build}
[ $# -gt 0 ] && shift
WEFT_BUILD=$(cd "$build" && pwd) exec python3 "$(dirname "$0")/run_all.py" "$@"
