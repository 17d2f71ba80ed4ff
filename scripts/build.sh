#!/usr/bin/env bash
# Configures and builds wattline into ./build (Release with debug info, Ninja, 2 jobs).
# Usage: scripts/build.sh [extra cmake args...]   Env: BUILD_DIR (default build), JOBS (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}
jobs=${JOBS:-2}
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
cmake -S . -B "$build_dir" -G Ninja -DWATTLINE_WERROR="$werror" "$@" >/dev/null
ninja -C "$build_dir" -j"$jobs" ${TARGETS:-}
