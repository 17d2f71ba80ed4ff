#!/usr/bin/env bash
# Set-up command 1: installs what is missing, builds wattline, and runs the demo pipeline:
# a bundled encrypted smart-meter capture (examples/captures/) decoded, priced and written to
# out/demo.jsonl.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
TARGETS=wattline scripts/build.sh
mkdir -p out
rm -f out/demo.jsonl
echo "demo: running pipelines/demo.yaml" >&2
./build/wattline run pipelines/demo.yaml --status-address off --data-dir out/data
echo
echo "demo: $(wc -l < out/demo.jsonl) records written to $(pwd)/out/demo.jsonl; the first one:"
head -n 1 out/demo.jsonl
