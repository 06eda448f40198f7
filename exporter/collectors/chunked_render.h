// A NodeSnapshot's metrics (everything but the exporter's own health), as
// families and as text.
//
// RenderSnapshotText writes the same bytes as AppendTextFormat of
// RenderSnapshot's families without holding those families: they are about
// four times the size of their text (7.5 MB at 200 sandboxes with syscall
// statistics), which made rendering the process's peak memory (VmHWM 46 MiB
// against 14 MiB steady; 30 MiB chunked).
// The per-sandbox families are rendered a chunk of sandboxes at a time; each
// chunk's samples are written, as text, to a buffer per family and the chunk's
// families freed; then the buffers are joined behind their families' HELP and
// TYPE, in the order RenderSnapshot has them, and the node-level families
// (rendered once, from the whole snapshot) follow. The peak is about the text
// twice (the buffers and the joined text) plus one chunk's families.
#pragma once

#include <cstddef>
#include <string>

#include "exporter/collectors/render.h"

namespace gvisor_exporter {

// All of a snapshot's families: per-sandbox ones, then node-level ones.
void RenderSnapshot(const NodeSnapshot& snap, Families* out);

inline constexpr size_t kRenderChunkSandboxes = 16;

// Appends the text of RenderSnapshot(snap)'s families to `out`, rendering
// `chunk` sandboxes at a time (0 is taken as 1).
void RenderSnapshotText(const NodeSnapshot& snap, std::string* out,
                        size_t chunk = kRenderChunkSandboxes);

}  // namespace gvisor_exporter
