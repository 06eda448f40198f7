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
  libcli11-dev  # command line: one flag table for the exporter and doctor (header-only)
  libssl-dev libyaml-cpp-dev libcrypt-dev apache2-utils  # --web.config.file: TLS, YAML, bcrypt; htpasswd in its e2e test
  libtomlplusplus-dev  # doctor: containerd and runsc.toml configs
  clang libclang-rt-14-dev
  clang-format  # style check in scripts/test.sh (.clang-format)
  clang-tidy  # lint in scripts/test.sh (scripts/clang-tidy.sh, .clang-tidy)
  runsc busybox-static prometheus
  containerd runc containernetworking-plugins  # private containerd for the CRI e2e test
  python3 python3-pytest python3-yaml curl jq ca-certificates
  wrk  # 200 concurrent scrapers in the load e2e test
  strace  # system calls per poll, counted in an e2e test
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
# A second, newer runsc for the e2e suite (tests/e2e --runsc=PATH): Debian's
# bookworm-backports build, unpacked into a private directory. The system's
# runsc (bookworm, 20221219) stays the one on PATH. Backports is never added to
# the system's apt sources: a throwaway source list, lists dir and cache in a
# temp dir serve this one download (so no pin file is needed and no package can
# ever be upgraded from backports); apt still verifies the Release signature
# (Signed-By) and the .deb's hash.
RUNSC_NEW_VERSION=0.0~20240729.0
RUNSC_NEW=/opt/gvisor-exporter/runsc-20240729/runsc
runsc_is_new() { [ "$("$1" --version 2>/dev/null | head -1)" = "runsc version $RUNSC_NEW_VERSION" ]; }
if ! runsc_is_new "$RUNSC_NEW"; then
  echo "installing: runsc $RUNSC_NEW_VERSION (bookworm-backports) into $RUNSC_NEW"
  bpo=$(mktemp -d); trap 'rm -rf "$bpo"' EXIT
  mkdir -p "$bpo/sources" "$bpo/lists/partial" "$bpo/cache/archives/partial" "$bpo/deb" "$bpo/x"
  printf '%s\n' 'Types: deb' 'URIs: http://deb.debian.org/debian' 'Suites: bookworm-backports' \
    'Components: main' 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' \
    >"$bpo/sources/bookworm-backports.sources"
  apt_private=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$bpo/sources"
               -o Dir::State::Lists="$bpo/lists" -o Dir::Cache="$bpo/cache"
               -o Dir::Cache::pkgcache= -o Dir::Cache::srcpkgcache= -o APT::Sandbox::User=root)
  apt-get "${apt_private[@]}" update -qq
  (cd "$bpo/deb" && apt-get "${apt_private[@]}" download -qq runsc/bookworm-backports)
  deb=$(echo "$bpo"/deb/runsc_*.deb)
  case "$(dpkg-deb -f "$deb" Version)" in
    "$RUNSC_NEW_VERSION"-*) ;;
    *) echo "bookworm-backports has runsc $(dpkg-deb -f "$deb" Version), expected $RUNSC_NEW_VERSION-*" >&2
       exit 1 ;;
  esac
  dpkg -x "$deb" "$bpo/x"
  runsc_is_new "$bpo/x/usr/bin/runsc" || { echo "$deb: runsc --version is not $RUNSC_NEW_VERSION" >&2; exit 1; }
  install -D -m 0755 "$bpo/x/usr/bin/runsc" "$RUNSC_NEW"
  rm -rf "$bpo"
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
