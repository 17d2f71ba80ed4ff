#!/usr/bin/env bash
# Set-up command 2: installs what is missing, builds everything, and runs the whole test suite
# (one ctest run), then the decoder and config tests again under AddressSanitizer and
# UndefinedBehaviorSanitizer, then the DLMS decoder's libFuzzer target briefly (clang; a finding
# fails the run and is kept in build-fuzz/dlms-findings/). In CI (CI=true) warnings are errors.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh
ctest --test-dir build --output-on-failure -j2 --timeout 300
if [ "${WATTLINE_SKIP_SANITIZERS:-}" != "1" ]; then
  BUILD_DIR=build-sanitize TARGETS="${SANITIZE_TARGETS:-sanitize_tests}" \
    scripts/build.sh -DWATTLINE_SANITIZE=ON -DWATTLINE_BENCHMARKS=OFF
  ctest --test-dir build-sanitize --output-on-failure -j2 --timeout 300 -L sanitize
fi
if [ "${WATTLINE_SKIP_FUZZ:-}" != "1" ]; then
  scripts/fuzz.sh dlms "${WATTLINE_FUZZ_SECONDS:-30}"
fi
