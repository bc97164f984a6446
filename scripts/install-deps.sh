#!/bin/sh
# SPDX-License-Identifier: MIT
# Installs what building and testing weft needs on Debian/Ubuntu, skipping what is there.
set -eu

need=""
have_pkg() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }
for p in make gcc g++ clang libbpf-dev libelf-dev libdw-dev zlib1g-dev protobuf-c-compiler \
	libprotobuf-c-dev libcmocka-dev python3 python3.11 util-linux git libuv1-dev libevent-dev \
	golang-go binutils systemtap-sdt-dev erlang-base libcaf-dev valgrind; do
	have_pkg "$p" || need="$need $p"
done
command -v bpftool >/dev/null 2>&1 || need="$need bpftool"
command -v node >/dev/null 2>&1 || need="$need nodejs"
command -v npm >/dev/null 2>&1 || need="$need npm"

if [ -n "$need" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "install-deps: missing:$need; run as root (sudo) to install them" >&2
		exit 1
	fi
	echo "install-deps: installing$need"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	# Ubuntu ships bpftool in linux-tools; Debian as its own package.
	if echo "$need" | grep -q bpftool && ! apt-cache show bpftool >/dev/null 2>&1; then
		need=$(echo "$need" | sed 's/bpftool/linux-tools-common linux-tools-generic/')
	fi
	apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
