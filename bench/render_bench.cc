// Scrape cost vs number of sandboxes: a synthetic snapshot served through the
// real HTTP handler, as a scrape does (the snapshot's text is rendered once per
// snapshot, see SnapshotCollector); the render itself per new snapshot; and
// the /sandboxes page. range(0): sandboxes; range(1) of the first two:
// syscall statistics off (0) or on (1) (bench/synthetic_snapshot.h).
// Over real HTTP, with percentiles and RSS: scrape_latency_bench.
#include <benchmark/benchmark.h>

#include "bench/synthetic_snapshot.h"
#include "exporter/collectors/snapshot_collector.h"
#include "exporter/http/http_server.h"

namespace gvisor_exporter {
namespace {

NodeSnapshot SnapshotWith(int sandboxes, bool syscalls = false) {
  return synthetic::MakeNode(sandboxes, syscalls);
}

void BM_Scrape(benchmark::State& state) {
  SnapshotStore store;
  store.Publish(std::make_shared<NodeSnapshot>(
      SnapshotWith(static_cast<int>(state.range(0)), state.range(1) != 0)));
  ErrorReporter errors;
  auto collector = std::make_shared<SnapshotCollector>(&store, &errors);
  collector->Prepare();  // as the poller does after publishing
  HttpServer server({"127.0.0.1:0", "/metrics", 1}, {collector}, nullptr);
  std::string type, body;
  for (auto _ : state) {
    server.Handle({"/metrics", "", ""}, &type, &body);
    benchmark::DoNotOptimize(body);
  }
  state.counters["exposition_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_Scrape)
    ->ArgNames({"sandboxes", "syscalls"})
    ->ArgsProduct({{10, 100, 200, 500}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

// What each poll pays instead: rendering a newly published snapshot to text
// (SnapshotCollector::Prepare, on the poll thread). Alternates between two
// equal snapshots so that every iteration renders.
void BM_RenderNewSnapshot(benchmark::State& state) {
  SnapshotStore store;
  ErrorReporter errors;
  SnapshotCollector collector(&store, &errors);
  const int sandboxes = static_cast<int>(state.range(0));
  const bool syscalls = state.range(1) != 0;
  std::shared_ptr<NodeSnapshot> snaps[2] = {
      std::make_shared<NodeSnapshot>(SnapshotWith(sandboxes, syscalls)),
      std::make_shared<NodeSnapshot>(SnapshotWith(sandboxes, syscalls))};
  uint64_t n = 0;
  for (auto _ : state) {
    auto& s = snaps[n % 2];
    s->poll_count = ++n;  // newer each time, as published snapshots are
    store.Publish(s);
    collector.Prepare();
  }
}
BENCHMARK(BM_RenderNewSnapshot)
    ->ArgNames({"sandboxes", "syscalls"})
    ->ArgsProduct({{10, 100, 200, 500}, {0, 1}})
    ->Unit(benchmark::kMillisecond);

// The /sandboxes page (range(1): 0 = HTML, 1 = JSON) through the same handler.
void BM_SandboxesPage(benchmark::State& state) {
  SnapshotStore store;
  store.Publish(std::make_shared<NodeSnapshot>(SnapshotWith(static_cast<int>(state.range(0)))));
  HttpServer server({"127.0.0.1:0", "/metrics", 1}, {}, nullptr, &store);
  const HttpRequest req{"/sandboxes", state.range(1) ? "format=json" : "", ""};
  std::string type, body;
  for (auto _ : state) {
    server.Handle(req, &type, &body);
    benchmark::DoNotOptimize(body);
  }
  state.counters["page_bytes"] = static_cast<double>(body.size());
}
BENCHMARK(BM_SandboxesPage)->ArgsProduct({{100, 500}, {0, 1}})->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace gvisor_exporter

BENCHMARK_MAIN();
