#!/bin/sh
# SPDX-License-Identifier: MIT
# Runs the integration tests (root: they load BPF programs) against build/.
build=${1:-build}
WEFT_BUILD=$(cd "$build" && pwd) exec python3 "$(dirname "$0")/run_all.py"
