#!/usr/bin/env bash
# Sets everything up, checks style (clang-format) and lint (clang-tidy), and
# runs all tests: unit + real-sandbox gtests, end-to-end (real runsc sandboxes,
# real exporter binary, real HTTP; once with Debian's runsc 20221219 and once
# with bookworm-backports' 20240729), the gtests (ctest labels `unit` and
# `real`) again under ASan/UBSan, and every libFuzzer target for a bounded time.
# Needs root (runsc, cgroups). Usage: sudo scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "scripts/test.sh must run as root (runsc sandboxes, cgroups)"; exit 1; }
JOBS=${JOBS:-2}
# 10 s per fuzzer keeps CI under its 60 minutes (57 at 20 s); scripts/bench.sh
# fuzzes 60 s each.
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
scripts/install-deps.sh

echo "== style: clang-format (check only; .clang-format)"
git ls-files -z '*.cc' '*.h' | xargs -0 clang-format --dry-run --Werror

echo "== build (RelWithDebInfo, warnings are errors)"
cmake -S . -B build -DGVE_BENCH=ON -DGVE_WERROR=ON >/dev/null
cmake --build build -j"$JOBS"

echo "== lint: clang-tidy (.clang-tidy; any finding fails)"
JOBS=$JOBS scripts/clang-tidy.sh build

LOGS=$(mktemp -d); trap 'rm -rf "$LOGS"' EXIT
count() { sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$1" | tail -1; }

# One serial ctest run of every label: `unit` (no root, no runsc), `real`
# (gtests that start real runsc sandboxes or need root; RUN_SERIAL in
# CMakeLists.txt), `e2e` and the Prometheus rule checks.
echo "== unit + real-sandbox + end-to-end tests"
(cd build && ctest --output-on-failure --timeout 1500) | tee "$LOGS/main"

# One sanitizer build (clang, ASan + UBSan) serves both the gtests and the
# libFuzzer targets: a second, gcc-built ASan tree cost ~17 minutes of CI.
echo "== sanitizer build (clang, ASan + UBSan): gtests and fuzz targets"
CC=clang CXX=clang++ cmake -S . -B build-fuzz -DGVE_FUZZ=ON -DGVE_BENCH=OFF >/dev/null
cmake --build build-fuzz -j"$JOBS"

echo "== unit and real-sandbox gtests under ASan + UBSan"
(cd build-fuzz && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=halt_on_error=1 \
  ctest -L '^(unit|real)$' --output-on-failure) | tee "$LOGS/asan"

echo "== fuzz targets (libFuzzer, ${FUZZ_SECONDS}s each)"
scripts/run-fuzzers.sh build-fuzz "$FUZZ_SECONDS" | tee "$LOGS/fuzz"
fuzz=$(sed -n 's/^fuzzers: \([0-9]*\) passed, 0 failed$/\1/p' "$LOGS/fuzz")
echo "all test stages passed (ctest $(count "$LOGS/main"), ctest under ASan/UBSan $(count "$LOGS/asan"), fuzzers $fuzz)"
echo "$(( $(count "$LOGS/main") + $(count "$LOGS/asan") + fuzz )) passed, 0 failed"
