#!/usr/bin/env bash
# Installs everything gvisor-exporter needs to build, test and demo, from
# Debian 12 packages only. Idempotent: skips apt when all packages are present.
set -euo pipefail
PKGS=(
  cmake g++ make pkg-config
  prometheus-cpp-dev libcivetweb-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc  # proto/ at build time
  clang libclang-rt-14-dev
  runsc busybox-static prometheus
  containerd runc containernetworking-plugins  # private containerd for the CRI e2e test
  python3 python3-pytest python3-yaml curl jq ca-certificates
  chromium  # headless: renders /sandboxes in the e2e test
)
missing=()
for p in "${PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "installing: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
