#!/usr/bin/env bash
# Sets everything up and runs gvisor-exporter for real against a demo gVisor
# sandbox under a private runsc root. Runs until Ctrl-C (or DEMO_SECONDS), then
# removes the sandbox, its cgroup and the root. Usage: sudo scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "scripts/demo.sh must run as root (runsc needs it)"; exit 1; }
ADDR=${DEMO_ADDRESS:-127.0.0.1:9787}
RUNSC=${RUNSC:-runsc}  # the runsc binary (the e2e test passes the one under test)
scripts/install-deps.sh
cmake -S . -B build -DGVE_BENCH=OFF >/dev/null
cmake --build build -j"${JOBS:-2}" --target gvisor-exporter

DEMO=$(mktemp -d /tmp/gvisor-exporter-demo.XXXXXX)
ROOT="$DEMO/root"; BUNDLE="$DEMO/bundle"; ID="demo$$"; CG="gvisor-exporter-demo/$ID"
EXPORTER_PID=""
cleanup() {
  [ -n "$EXPORTER_PID" ] && kill "$EXPORTER_PID" 2>/dev/null && wait "$EXPORTER_PID" 2>/dev/null || true
  "$RUNSC" --root "$ROOT" kill "$ID" KILL >/dev/null 2>&1 || true
  "$RUNSC" --root "$ROOT" delete -force "$ID" >/dev/null 2>&1 || true
  for d in /sys/fs/cgroup/*/"$CG" /sys/fs/cgroup/"$CG"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null || true; done
  for d in /sys/fs/cgroup/*/gvisor-exporter-demo /sys/fs/cgroup/gvisor-exporter-demo; do
    [ -d "$d" ] && rmdir "$d" 2>/dev/null || true
  done
  rm -rf "$DEMO"
}
trap cleanup EXIT INT TERM

# A busybox rootfs and an OCI bundle carrying the CRI annotations a Kubernetes
# pod would have; the app keeps 32 MiB in tmpfs so the numbers say something.
mkdir -p "$BUNDLE/rootfs/bin" "$ROOT"
cp /bin/busybox "$BUNDLE/rootfs/bin/"
for a in sh sleep dd; do ln -s busybox "$BUNDLE/rootfs/bin/$a"; done
(cd "$BUNDLE" && "$RUNSC" spec -- /bin/sh -c 'dd if=/dev/zero of=/tmp/fill bs=1M count=32 2>/dev/null; sleep 100000')
jq --arg id "$ID" --arg cg "/$CG" '.process.terminal=false | .linux.cgroupsPath=$cg |
  .annotations={"io.kubernetes.cri.container-type":"sandbox","io.kubernetes.cri.sandbox-id":$id,
  "io.kubernetes.cri.sandbox-name":"demo-pod","io.kubernetes.cri.sandbox-namespace":"demo",
  "io.kubernetes.cri.sandbox-uid":"00000000-0000-0000-0000-000000000001",
  "gvisor-exporter.io/syscalls":"true"}' \
  "$BUNDLE/config.json" >"$BUNDLE/config.tmp" && mv "$BUNDLE/config.tmp" "$BUNDLE/config.json"
"$RUNSC" --root "$ROOT" --network=none run --detach --bundle "$BUNDLE" "$ID" </dev/null >"$DEMO/runsc.log" 2>&1
echo "started gVisor sandbox $ID (runsc root $ROOT)"

# The pod's annotation gvisor-exporter.io/syscalls=true opts it in to syscall
# statistics (the exporter attaches a trace session over the control socket).
build/gvisor-exporter --web.listen-address="$ADDR" --runsc.root="$ROOT" --runsc.path="$RUNSC" --poll.interval=2s \
  --syscalls.record-file="$DEMO/trace-sessions.json" &
EXPORTER_PID=$!
for _ in $(seq 100); do
  curl -sf "http://$ADDR/metrics" | grep -q 'gvisor_sandbox_syscall_session_state{.*state="active"} 1' && break
  sleep 0.2
done
# Some syscalls to count: 1000 one-byte reads and writes inside the sandbox.
"$RUNSC" --root "$ROOT" exec "$ID" /bin/dd if=/dev/zero of=/dev/null bs=1 count=1000 >/dev/null 2>&1
sleep 2.5  # one more poll
echo
echo "gvisor-exporter is serving http://$ADDR/metrics (landing page http://$ADDR/). A few real lines:"
curl -sf "http://$ADDR/metrics" | grep -E '^gvisor_(sandbox_(info|memory_total_bytes|memory_overhead_bytes|host_memory_pss_bytes|platform_info)|sandbox_cpu|runsc_info)' | head -12
echo "... and its busiest syscalls (gVisor runtime monitoring):"
curl -sf "http://$ADDR/metrics" | grep '^gvisor_container_syscalls_total' | sort -k2 -g -r | head -4
echo
if [ -n "${DEMO_SECONDS:-}" ]; then sleep "$DEMO_SECONDS"; else
  echo "Ctrl-C stops the exporter and removes the demo sandbox."; wait "$EXPORTER_PID"; fi
