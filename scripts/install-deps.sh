#!/usr/bin/env bash
# Installs everything gvisor-exporter needs to build, test and demo, from
# Debian 12 packages only. Idempotent: skips apt when all packages are present.
set -euo pipefail
PKGS=(
  cmake g++ make pkg-config
  prometheus-cpp-dev libcivetweb-dev libspdlog-dev libfmt-dev nlohmann-json3-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  libprotobuf-dev protobuf-compiler libgrpc++-dev protobuf-compiler-grpc  # proto/ at build time
  libcurl4-openssl-dev openssl  # Kubernetes API client; the e2e test's CA
  zlib1g-dev  # gzip of /metrics
  libssl-dev libyaml-cpp-dev libcrypt-dev apache2-utils  # --web.config.file: TLS, YAML, bcrypt; htpasswd in its e2e test
  clang libclang-rt-14-dev
  runsc busybox-static prometheus
  containerd runc containernetworking-plugins  # private containerd for the CRI e2e test
  python3 python3-pytest python3-yaml curl jq ca-certificates
  wrk  # 200 concurrent scrapers in the load e2e test
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
# Tools for the deployment checks (tests/deploy). kubectl may already come
# from another package that owns /usr/bin/kubectl (e.g. google-cloud-cli);
# only install Debian's when there is none. Node/npm likewise.
extra=()
command -v kubectl >/dev/null || extra+=(kubernetes-client)
command -v npm >/dev/null || extra+=(npm)
if ((${#extra[@]})); then
  echo "installing: ${extra[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${extra[@]}" >/dev/null
fi
# Kubernetes, prometheus-operator and Grafana schemas, pinned by
# tests/deploy/package-lock.json (from the npm registry, never at test time).
deploy_dir="$(dirname "$0")/../tests/deploy"
if [ ! -d "$deploy_dir/node_modules" ] || [ "$deploy_dir/package-lock.json" -nt "$deploy_dir/node_modules" ]; then
  npm ci --prefix "$deploy_dir" --no-audit --no-fund --loglevel=error >/dev/null
  touch "$deploy_dir/node_modules"
fi
