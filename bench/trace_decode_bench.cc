// Syscall statistics hot path: decode one remote-sink packet and fold it into
// the per-sandbox aggregate, as the trace reader does for every event. Fed
// with packets captured from runsc 20221219 (enter and exit events of a few
// containers), one thread. Target (issue: syscall statistics): >= 2 million
// events per second on one core.
#include <benchmark/benchmark.h>

#include <string>
#include <vector>

#include "exporter/common/file_util.h"
#include "exporter/sources/trace/syscall_aggregator.h"
#include "exporter/sources/trace/trace_wire.h"
#include "proto/gvisor_trace.pb.h"

namespace gvisor_exporter {
namespace {

std::string Captured(const char* name) {
  auto data = ReadFileBounded(
      std::string(GVE_SOURCE_DIR) + "/exporter/sources/trace/testdata/" + name, 1 << 16);
  return data.ok() ? *data : std::string();
}

// Real packets, plus the same shapes for other containers and syscalls, so
// the container cache and the per-syscall arrays see realistic variety.
std::vector<std::string> Workload() {
  std::vector<std::string> packets = {
      Captured("raw_getppid_enter.bin"),       Captured("raw_getppid_exit.bin"),
      Captured("raw_read_enter.bin"),          Captured("raw_read_exit.bin"),
      Captured("raw_fanotify_init_enter.bin"), Captured("raw_fanotify_init_exit_enosys.bin")};
  const char* containers[] = {"4f8c1a2b3c4d5e6f4f8c1a2b3c4d5e6f4f8c1a2b3c4d5e6f4f8c1a2b3c4d5e6f",
                              "9a8b7c6d5e4f3a2b9a8b7c6d5e4f3a2b9a8b7c6d5e4f3a2b9a8b7c6d5e4f3a2b"};
  for (const char* c : containers) {
    for (uint64_t nr : {0, 1, 3, 9, 202, 232, 257, 262}) {
      trace::Syscall s;
      s.set_sysno(nr);
      s.mutable_context_data()->set_container_id(c);
      s.set_arg1(3);
      s.set_arg2(0x7ffd12345678);
      s.set_arg3(4096);
      packets.push_back(std::string("\x08\x00\x06\x00\x00\x00\x00\x00", 8) + s.SerializeAsString());
      s.mutable_exit()->set_result(-2);
      s.mutable_exit()->set_errorno(nr == 257 ? 2 : 0);
      packets.push_back(std::string("\x08\x00\x06\x00\x00\x00\x00\x00", 8) + s.SerializeAsString());
    }
  }
  return packets;
}

void BM_DecodeAndAggregate(benchmark::State& state) {
  const std::vector<std::string> packets = Workload();
  TraceDecoder decoder;
  SyscallAggregator agg(Arch::kX86_64, {});
  size_t i = 0;
  for (auto _ : state) {
    auto ev = decoder.Decode(packets[i]);
    benchmark::DoNotOptimize(agg.Add(*ev));
    if (++i == packets.size()) i = 0;
  }
  state.counters["events_per_second"] =
      benchmark::Counter(static_cast<double>(state.iterations()), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecodeAndAggregate);

// Rendering the aggregate into model values (once per poll per sandbox).
void BM_AggregateSnapshot(benchmark::State& state) {
  const std::vector<std::string> packets = Workload();
  TraceDecoder decoder;
  SyscallAggregator agg(Arch::kX86_64, {});
  for (const auto& p : packets) agg.Add(*decoder.Decode(p));
  for (auto _ : state) benchmark::DoNotOptimize(agg.Containers());
}
BENCHMARK(BM_AggregateSnapshot)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace gvisor_exporter

BENCHMARK_MAIN();
