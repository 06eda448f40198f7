#include "exporter/collectors/chunked_render.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "exporter/collectors/text_format.h"

namespace gvisor_exporter {

namespace {

// The families that have a series per sandbox, in RenderSnapshot's order.
void RenderPerSandbox(SandboxRange sandboxes, bool keep_empty, Families* out) {
  RenderSandboxes(sandboxes, keep_empty, out);
  RenderHostCost(sandboxes, keep_empty, out);
  RenderSandboxSyscalls(sandboxes, keep_empty, out);
}

// The rest, after them.
void RenderPerNode(const NodeSnapshot& snap, Families* out) {
  RenderTracePackets(snap, out);
  RenderPods(snap, out);
  RenderKube(snap, out);
  RenderNode(snap, out);
}

}  // namespace

void RenderSnapshot(const NodeSnapshot& snap, Families* out) {
  RenderPerSandbox(SandboxRange::All(snap), false, out);
  RenderPerNode(snap, out);
}

void RenderSnapshotText(const NodeSnapshot& snap, std::string* out, size_t chunk) {
  chunk = std::max<size_t>(chunk, 1);
  const SandboxRange all = SandboxRange::All(snap);
  const size_t n = snap.sandboxes.size();
  // With keep_empty every chunk has the same families in the same order, so
  // family i of a chunk is family i of the others (metadata kept from the
  // first, samples dropped).
  Families meta;
  std::vector<std::string> samples;
  for (size_t begin = 0; begin < n; begin += chunk) {
    Families families;
    RenderPerSandbox({all.first + begin, all.first + std::min(n, begin + chunk)}, true, &families);
    if (meta.empty()) {
      samples.resize(families.size());
      for (size_t i = 0; i < families.size(); ++i) AppendFamilySamples(families[i], &samples[i]);
      // The first chunk's text times the number of chunks, with some slack
      // (sandboxes differ), saves most regrowing of the buffers.
      const size_t chunks = (n + chunk - 1) / chunk;
      for (std::string& s : samples) s.reserve(s.size() * chunks + s.size() / 8);
      for (prometheus::MetricFamily& f : families) {
        f.metric.clear();
        f.metric.shrink_to_fit();
      }
      meta = std::move(families);
      continue;
    }
    for (size_t i = 0; i < families.size() && i < samples.size(); ++i) {
      AppendFamilySamples(families[i], &samples[i]);
    }
  }
  std::string node;
  {
    Families families;
    RenderPerNode(snap, &families);
    AppendTextFormat(families, &node);
  }
  std::vector<std::string> headers(meta.size());
  size_t size = node.size();
  for (size_t i = 0; i < meta.size(); ++i) {
    // As AppendTextFormat: nothing for a family without samples.
    if (!samples[i].empty() && AppendFamilyHeader(meta[i], &headers[i])) {
      size += headers[i].size() + samples[i].size();
    }
  }
  out->reserve(out->size() + size);
  for (size_t i = 0; i < meta.size(); ++i) {
    if (!headers[i].empty()) out->append(headers[i]).append(samples[i]);
    std::string().swap(samples[i]);  // freed as soon as copied
  }
  out->append(node);
}

}  // namespace gvisor_exporter
