#!/usr/bin/env bash
# Builds the pipeline loader's libFuzzer target with clang (ASan + UBSan) and runs it for N
# seconds (default 60), seeded with every pipeline file of the repository.
#
#   scripts/fuzz-config.sh [seconds] [extra libFuzzer flags...]
#
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (ninja -j, default 2).
set -euo pipefail
seconds=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DWATTLINE_FUZZ=ON \
  -DWATTLINE_BENCHMARKS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j "${FUZZ_JOBS:-2}" config_fuzz

corpus="$build/config-corpus"
mkdir -p "$corpus"
find "$root/pipelines" "$root/tests/data/config" -name '*.yaml' -o -name '*.yml' |
  while read -r f; do cp "$f" "$corpus/$(echo "$f" | sed "s|$root/||; s|/|_|g")"; done

fuzzer=$(find "$build" -name config_fuzz -type f -perm -u+x | head -n1)
mkdir -p "$build/config-findings"
# rss_limit_mb: a parser that allocates without bound is a finding, not a dead machine.
exec "$fuzzer" -max_total_time="$seconds" -max_len=8192 -timeout=10 -rss_limit_mb=1024 \
  -artifact_prefix="$build/config-findings/" "$@" "$corpus"
