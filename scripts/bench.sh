#!/usr/bin/env bash
# Runs every benchmark behind BENCHMARKS.md in one go, on real sandboxes where
# the figure is about them, and keeps each one's output:
#   render_bench, trace_decode_bench, scrape_latency_bench   (C++, synthetic snapshots)
#   bench/poll_vs_exec.py      exporter vs `runsc events -stats` + `runsc usage`,
#                              RSS/threads and time to first series (1, 10, 30 sandboxes)
#   bench/cri_poll_cost.py     CRI cost per poll against a private containerd
#   bench/syscall_trace_cost.py  what syscall statistics cost a sandboxed workload
#   the load test for 60 s (200 wrk connections), the churn test (100 cycles),
#   the fault-injection tests, and every fuzzer for $FUZZ_SECONDS (60; 0 skips)
# Results: $BENCH_OUT (default build/bench-results/<date>-<time>), one file per
# benchmark; BENCHMARKS.md quotes them. Takes about 45 minutes on 2 cores (25
# without fuzzers); run it on an otherwise idle machine. Needs root.
# Usage: sudo scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "scripts/bench.sh must run as root (runsc sandboxes, cgroups)"; exit 1; }
JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
OUT=${BENCH_OUT:-build/bench-results/$(date +%Y-%m-%d-%H%M)}
[ -n "${SKIP_DEPS:-}" ] || scripts/install-deps.sh

echo "== build (RelWithDebInfo, benchmarks on)"
cmake -S . -B build -DGVE_BENCH=ON -DGVE_SANITIZE=OFF >/dev/null
cmake --build build -j"$JOBS"
mkdir -p "$OUT"
PY=/usr/bin/python3  # Debian's, which has pytest
EXPORTER=build/gvisor-exporter

run() {  # name command...: runs it, keeps its output in $OUT/name.txt
  local name=$1; shift
  echo "== $name: $*"
  "$@" 2>&1 | tee "$OUT/$name.txt"
}

{
  echo "date: $(date -u +%FT%TZ)"
  echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
  echo "cpus: $(nproc) x $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
  echo "memory: $(awk '/MemTotal/ {printf "%.1f GiB", $2 / 1048576}' /proc/meminfo)"
  echo "kernel: $(uname -r)"
  echo "runsc: $(runsc --version | head -1)"
} | tee "$OUT/machine.txt"

run render_bench build/render_bench
run trace_decode_bench build/trace_decode_bench
run scrape_latency build/scrape_latency_bench
run poll_vs_exec "$PY" bench/poll_vs_exec.py --exporter "$EXPORTER" --sandboxes 1,10,30 --polls 12
run cri_poll_cost "$PY" bench/cri_poll_cost.py --exporter "$EXPORTER" --runc-pods 0,30
run syscall_trace_cost "$PY" bench/syscall_trace_cost.py --exporter "$EXPORTER" --probe build/syscall_probe
run load_60s env LOAD_SECONDS=60 "$PY" -m pytest -q -s -p no:cacheprovider \
  tests/e2e/test_load_e2e.py --exporter="$EXPORTER"
run churn_100 env CHURN_CYCLES=100 "$PY" -m pytest -q -s -p no:cacheprovider \
  tests/e2e/test_churn_e2e.py --exporter="$EXPORTER"
run faults "$PY" -m pytest -q -p no:cacheprovider tests/e2e/test_faults_e2e.py \
  tests/e2e/test_faults_node_e2e.py --exporter="$EXPORTER"
if [ "$FUZZ_SECONDS" != 0 ]; then
  CC=clang CXX=clang++ cmake -S . -B build-fuzz -DGVE_FUZZ=ON -DGVE_BENCH=OFF >/dev/null
  cmake --build build-fuzz -j"$JOBS"
  run fuzzers scripts/run-fuzzers.sh build-fuzz "$FUZZ_SECONDS"
fi
echo "benchmarks done; results in $OUT"
