#include "exporter/sources/trace/syscall_aggregator.h"

#include <algorithm>
#include <cerrno>

#include "exporter/common/ids.h"

namespace gvisor_exporter {

SyscallAggregator::SyscallAggregator(Arch arch, SyscallLimits limits)
    : arch_(arch), limits_(limits) {}

SyscallAggregator::PerContainer& SyscallAggregator::Lookup(std::string_view id) {
  if (last_ != nullptr && last_->id == id) return *last_;
  if (!id.empty() && !IsValidId(id)) id = "";
  for (auto& c : containers_) {
    if (c->id == id) return *(last_ = c.get());
  }
  if (!id.empty() && containers_.size() >= limits_.max_containers) return Lookup("");
  containers_.push_back(std::make_unique<PerContainer>());
  containers_.back()->id = std::string(id);
  return *(last_ = containers_.back().get());
}

SyscallAggregator::AddResult SyscallAggregator::Add(const TraceEvent& ev) {
  // dropped_count is cumulative per sink and wraps at 2^32: add the
  // difference modulo 2^32. The first packet's value counts in full (events
  // dropped before we read anything are still lost events).
  const uint32_t raw = ev.dropped_count;
  header_drops_ += have_header_drops_ ? static_cast<uint32_t>(raw - last_header_drops_) : raw;
  last_header_drops_ = raw;
  have_header_drops_ = true;

  if (ev.kind != TraceEvent::Kind::kSyscallEnter && ev.kind != TraceEvent::Kind::kSyscallExit) {
    return AddResult::kIgnored;
  }
  if (ev.sysno >= kMaxTracedSysno) return AddResult::kInvalidSysno;
  PerContainer& c = Lookup(ev.container_id);
  const auto nr = static_cast<uint16_t>(ev.sysno);
  if (ev.kind == TraceEvent::Kind::kSyscallEnter) {
    if (!c.admitted[nr]) {
      if (c.admitted_count >= limits_.max_syscalls) {
        ++c.other_calls;
        return AddResult::kCounted;
      }
      c.admitted[nr] = true;
      ++c.admitted_count;
    }
    ++c.calls[nr];
    return AddResult::kCounted;
  }
  if (ev.errorno == 0) return AddResult::kCounted;
  if (ev.errorno == ENOSYS) ++c.enosys[nr];
  auto it = c.errors.find({nr, ev.errorno});
  if (it != c.errors.end()) {
    ++it->second;
  } else if (c.errors.size() < limits_.max_errors) {
    c.errors.emplace(std::make_pair(nr, ev.errorno), 1);
  } else {
    ++c.other_errors;
  }
  return AddResult::kCounted;
}

void SyscallAggregator::ObserveSessionDrops(uint64_t total) {
  session_drops_ = std::max(session_drops_, total);
}

uint64_t SyscallAggregator::dropped() const {
  return earlier_sessions_drops_ + std::max(header_drops_, session_drops_);
}

void SyscallAggregator::BeginSession() {
  earlier_sessions_drops_ += std::max(header_drops_, session_drops_);
  have_header_drops_ = false;
  last_header_drops_ = 0;
  header_drops_ = 0;
  session_drops_ = 0;
}

void SyscallAggregator::RetainContainers(const std::set<std::string>& live_ids) {
  std::erase_if(containers_, [&](const std::unique_ptr<PerContainer>& c) {
    if (live_ids.count(c->id)) {
      c->was_live = true;
      return false;
    }
    return c->was_live;
  });
  last_ = nullptr;
}

std::vector<std::string> SyscallAggregator::container_ids() const {
  std::vector<std::string> ids;
  for (const auto& c : containers_) ids.push_back(c->id);
  return ids;
}

std::vector<ContainerSyscalls> SyscallAggregator::Containers() const {
  std::vector<ContainerSyscalls> out;
  for (const auto& c : containers_) {
    ContainerSyscalls cs;
    cs.container_id = c->id;
    for (uint64_t nr = 0; nr < kMaxTracedSysno; ++nr) {
      if (c->admitted[nr]) cs.calls.emplace_back(SyscallLabel(arch_, nr), c->calls[nr]);
      if (c->enosys[nr] != 0) cs.unimplemented.emplace_back(SyscallLabel(arch_, nr), c->enosys[nr]);
    }
    if (c->other_calls != 0) cs.calls.emplace_back("other", c->other_calls);
    for (const auto& [key, count] : c->errors) {
      cs.errors.push_back({SyscallLabel(arch_, key.first), ErrnoLabel(key.second), count});
    }
    if (c->other_errors != 0) cs.errors.push_back({"other", "other", c->other_errors});
    out.push_back(std::move(cs));
  }
  std::sort(out.begin(), out.end(), [](const ContainerSyscalls& a, const ContainerSyscalls& b) {
    return a.container_id < b.container_id;
  });
  return out;
}

}  // namespace gvisor_exporter
