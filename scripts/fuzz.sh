#!/usr/bin/env bash
# Builds one of the libFuzzer targets in tests/fuzz/ with clang (ASan + UBSan) and runs it for N
# seconds (default 60) on a seed corpus made from the repository's data:
#   dlms    the DLMS push decoder, seeded with tests/data/dlms/frames.json;
#   config  the pipeline loader, seeded with every pipeline file of the repository;
#   jsonl   the JSON Lines record reader, seeded with the lines of its golden file.
#
#   scripts/fuzz.sh dlms|config|jsonl [seconds] [extra libFuzzer flags...]
#
# Environment: FUZZ_BUILD_DIR (default build-fuzz), FUZZ_JOBS (ninja -j, default 2).
set -euo pipefail
target=${1:-}
case "$target" in
dlms | config | jsonl) ;;
*)
  echo "usage: $0 dlms|config|jsonl [seconds] [libFuzzer flags...]" >&2
  exit 2
  ;;
esac
shift
seconds=${1:-60}
shift || true
root=$(cd "$(dirname "$0")/.." && pwd)
build=${FUZZ_BUILD_DIR:-$root/build-fuzz}

CC=clang CXX=clang++ cmake -S "$root" -B "$build" -G Ninja -DWATTLINE_FUZZ=ON \
  -DWATTLINE_BENCHMARKS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build" -j "${FUZZ_JOBS:-2}" "${target}_fuzz"

corpus="$build/$target-corpus"
mkdir -p "$corpus"
if [ "$target" = dlms ]; then
  # One file per frames.json entry, prefixed with the configuration byte that decodes it (see
  # tests/fuzz/dlms_fuzz.cpp: bits 0-1 transport, 2-4 key set, 5-7 profile) and a chunking seed.
  python3 - "$root/tests/data/dlms/frames.json" "$corpus" <<'PY'
import json, sys, pathlib
frames = json.load(open(sys.argv[1]))
out = pathlib.Path(sys.argv[2])
keyset = {3: 6, 7: 1, 13: 3, 14: 2, 15: 7, 16: 4, 24: 5}
for i, e in enumerate(frames):
    transport = 3 if i in (21, 23) else 0
    profile = 6 if i == 20 else 7 if i == 24 else 1
    sel = transport | keyset.get(i, 0) << 2 | profile << 5
    (out / f"frame{i:02d}").write_bytes(bytes([sel, i]) + bytes.fromhex(e["hex"]))
PY
  max_len=4096
elif [ "$target" = config ]; then
  find "$root/pipelines" "$root/tests/data/config" -name '*.yaml' -o -name '*.yml' |
    while read -r f; do cp "$f" "$corpus/$(echo "${f#"$root"/}" | tr / _)"; done
  max_len=8192
else
  n=0
  while IFS= read -r line; do
    n=$((n + 1))
    printf '%s' "$line" >"$corpus/golden$n"
  done <"$root/tests/data/file_io/sample.golden.jsonl"
  max_len=4096
fi

fuzzer=$(find "$build" -name "${target}_fuzz" -type f -perm -u+x | head -n1)
mkdir -p "$build/$target-findings"
# rss_limit_mb: a parser that allocates without bound is a finding, not a dead machine.
exec "$fuzzer" -max_total_time="$seconds" -max_len="$max_len" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$build/$target-findings/" "$@" "$corpus"
