#include "exporter/collectors/chunked_render.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "bench/synthetic_snapshot.h"
#include "exporter/collectors/render.h"
#include "exporter/collectors/testing_snapshot.h"
#include "exporter/collectors/text_format.h"

namespace gvisor_exporter {
namespace {

// What was served before chunking: every family of the whole snapshot, from
// the public renderers, in one AppendTextFormat.
std::string Reference(const NodeSnapshot& snap) {
  Families f;
  RenderSandboxes(snap, &f);
  RenderHostCost(snap, &f);
  RenderSyscalls(snap, &f);
  RenderPods(snap, &f);
  RenderKube(snap, &f);
  RenderNode(snap, &f);
  std::string text;
  AppendTextFormat(f, &text);
  return text;
}

std::string Chunked(const NodeSnapshot& snap, size_t chunk) {
  std::string text;
  RenderSnapshotText(snap, &text, chunk);
  return text;
}

// Byte-identical, with the first difference in the message.
void ExpectSameText(const std::string& ours, const std::string& want, const std::string& what) {
  if (ours == want) return;
  size_t i = 0;
  while (i < ours.size() && i < want.size() && ours[i] == want[i]) ++i;
  ADD_FAILURE() << what << ": sizes " << ours.size() << " vs " << want.size()
                << ", first difference at byte " << i
                << ":\n ours: " << ours.substr(i > 80 ? i - 80 : 0, 160)
                << "\n want: " << want.substr(i > 80 ? i - 80 : 0, 160);
}

void ExpectSameForAllChunkSizes(const NodeSnapshot& snap, const std::string& what) {
  const std::string want = Reference(snap);
  {
    Families f;
    RenderSnapshot(snap, &f);
    std::string text;
    AppendTextFormat(f, &text);
    ExpectSameText(text, want, what + " RenderSnapshot");
  }
  for (size_t chunk : {size_t{0}, size_t{1}, size_t{3}, size_t{7}, kRenderChunkSandboxes,
                       size_t{64}, size_t{100000}}) {
    ExpectSameText(Chunked(snap, chunk), want, what + " chunk " + std::to_string(chunk));
  }
}

TEST(ChunkedRender, TestSnapshot) {
  NodeSnapshot n = MakeTestSnapshot();
  ExpectSameForAllChunkSizes(n, "test snapshot");
  // With CRI, Kubernetes and trace packets too.
  n.cri = CriState{};
  n.cri->up = true;
  n.cri->label_names = {"app"};
  PodInfo p;
  p.id = "sb1";
  p.name = "web-0";
  p.pod_namespace = "shop";
  p.uid = "u-1";
  p.labels = {"web"};
  n.cri->pods = {p};
  KubeState k;
  k.up = true;
  k.runtime_classes = std::vector<RuntimeClassInfo>{{"gvisor", "runsc", 64u << 20, 0.1}};
  n.kube = k;
  n.trace_packets = TracePacketCounts{};
  ExpectSameForAllChunkSizes(n, "test snapshot with cri/kube/packets");
}

TEST(ChunkedRender, EmptySnapshot) {
  ExpectSameForAllChunkSizes(NodeSnapshot{}, "empty");
  EXPECT_EQ(Chunked(NodeSnapshot{}, kRenderChunkSandboxes), Reference(NodeSnapshot{}));
}

TEST(ChunkedRender, SyntheticNodes) {
  for (int n : {0, 1, 17, 50, 200}) {
    for (bool syscalls : {false, true}) {
      const NodeSnapshot snap = synthetic::MakeNode(n, syscalls);
      const std::string what = std::to_string(n) + (syscalls ? " syscalls" : "");
      const std::string want = Reference(snap);
      ExpectSameText(Chunked(snap, kRenderChunkSandboxes), want, what);
      ExpectSameText(Chunked(snap, 1), want, what + " chunk 1");
      ExpectSameText(Chunked(snap, 7), want, what + " chunk 7");
    }
  }
}

// Families that only later chunks have (and ones only earlier chunks have)
// keep their place: the order is the renderers', not the order seen.
TEST(ChunkedRender, FamiliesMissingFromSomeChunks) {
  NodeSnapshot snap = synthetic::MakeNode(60, true);
  for (size_t i = 0; i < snap.sandboxes.size(); ++i) {
    SandboxSnapshot& s = snap.sandboxes[i];
    if (i < 20) {
      // Early sandboxes: no usage, no host data, no syscall statistics.
      s.usage.memory.reset();
      s.usage.pids.reset();
      s.usage.container_cpu_ns.clear();
      s.processes.clear();
      s.cgroup.reset();
      s.syscalls.reset();
      s.info.containers.clear();
    } else if (i < 40) {
      // Middle ones: sessions that are not active, odd label values.
      s.syscalls->state = i % 2 ? TraceSessionState::kForeign : TraceSessionState::kError;
      if (i % 3 == 0) s.syscalls->containers.clear();
      s.info.pod_name = "we\"ird\\pod\nname-" + std::to_string(i);
      s.cgroup->memory_usage_bytes.reset();
    } else {
      // Late ones: a short-lived "other" host process, no pids.
      s.processes.push_back(s.processes.back());
      s.processes.back().role = ProcessRole::kOther;
      s.usage.pids.reset();
    }
  }
  ExpectSameForAllChunkSizes(snap, "mixed");
  // Only the last sandbox has what the others lack.
  NodeSnapshot late = synthetic::MakeNode(33, true);
  for (size_t i = 0; i + 1 < late.sandboxes.size(); ++i) {
    late.sandboxes[i].syscalls.reset();
    late.sandboxes[i].cgroup.reset();
    late.sandboxes[i].usage.memory.reset();
  }
  ExpectSameForAllChunkSizes(late, "late");
}

}  // namespace
}  // namespace gvisor_exporter
