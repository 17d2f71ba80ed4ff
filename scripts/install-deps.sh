#!/usr/bin/env bash
# Installs the Debian 12 packages wattline needs to build, test and run. Idempotent: does nothing
# when everything is present; otherwise one `apt-get update`, then `apt-get install -y`.
set -euo pipefail
packages=(
  build-essential cmake ninja-build pkg-config git clang libclang-rt-14-dev clang-format
  libcaf-dev libyaml-cpp-dev libpaho-mqtt-dev libssl-dev openssl libcurl4-openssl-dev zlib1g-dev
  nlohmann-json3-dev libfmt-dev libhowardhinnant-date-dev tzdata libcli11-dev libcpp-httplib-dev
  libjemalloc-dev libgtest-dev libgmock-dev libbenchmark-dev
  mosquitto mosquitto-clients influxdb curl socat
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "install-deps: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update
  $sudo apt-get install -y --no-install-recommends "${missing[@]}"
fi
