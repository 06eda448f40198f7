#include "exporter/poller/poller.h"

#include <spdlog/spdlog.h>

#include <algorithm>

namespace gvisor_exporter {

namespace {

using Clock = std::chrono::steady_clock;

double SecondsSince(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

double WallNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Times one source call and folds the outcome into that source's health.
template <typename F>
auto Timed(const char* source, std::map<std::string, SourceHealth>* health, F&& f) {
  const auto t0 = Clock::now();
  auto result = f();
  SourceHealth& h = (*health)[source];
  h.duration_seconds += SecondsSince(t0);
  if (!result.ok() && result.status().reason() != Reason::kNotFound) h.success = false;
  return result;
}

void Merge(const std::map<std::string, SourceHealth>& from,
           std::map<std::string, SourceHealth>* to) {
  for (const auto& [name, h] : from) {
    SourceHealth& t = (*to)[name];
    t.success = t.success && h.success;
    t.duration_seconds += h.duration_seconds;
  }
}

}  // namespace

void ApplyRuntimeClasses(const std::vector<RuntimeClassInfo>& classes, std::vector<PodInfo>* pods) {
  // Several classes may share a handler; CRI only knows the handler, so the
  // first by name wins, deterministically.
  std::map<std::string, std::string> by_handler;
  for (const RuntimeClassInfo& c : classes) {
    auto [it, inserted] = by_handler.emplace(c.handler, c.name);
    if (!inserted && c.name < it->second) it->second = c.name;
  }
  for (PodInfo& p : *pods) {
    auto it = by_handler.find(p.runtime_handler);
    p.runtime_class = it == by_handler.end() ? "" : it->second;
  }
}

Poller::Poller(PollerOptions options, PollerSources sources, SnapshotStore* store,
               ErrorReporter* errors)
    : options_(options),
      sources_(std::move(sources)),
      store_(store),
      errors_(errors),
      workers_(static_cast<size_t>(std::max(1, options_.concurrency)) - 1) {}

Poller::~Poller() { Stop(); }

SandboxSnapshot Poller::ReadSandbox(const SandboxInfo& info,
                                    std::map<std::string, SourceHealth>* health) {
  const auto t0 = Clock::now();
  SandboxSnapshot s;
  s.info = info;
  // In-sandbox usage: the control socket first, the runsc CLI as fallback.
  auto usage =
      Timed("control_socket", health, [&] { return sources_.control_socket->Collect(info); });
  if (!usage.ok()) {
    errors_->Report("control_socket", usage.status(), info.id);
    if (sources_.cli && options_.cli_fallback) {
      usage = Timed("cli", health, [&] { return sources_.cli->Collect(info); });
      if (!usage.ok()) errors_->Report("cli", usage.status(), info.id);
    }
  }
  if (usage.ok()) s.usage = std::move(usage).value();

  if (!options_.host) {
    auto platform = Timed("platform", health, [&] { return sources_.host->Platform(info); });
    if (platform.ok()) s.platform = std::move(platform).value();
    s.poll_duration_seconds = SecondsSince(t0);
    return s;
  }
  auto procs = Timed("procfs", health, [&] { return sources_.host->Processes(info); });
  if (procs.ok()) {
    s.processes = std::move(procs).value();
  } else {
    errors_->Report("procfs", procs.status(), info.id);
    // The sentry died between discovery and now: the sandbox is gone, and its
    // series must not be served with half the data.
    if (procs.status().reason() == Reason::kNotFound) s.info.pid = 0;
  }
  if (info.cgroup.kind != CgroupRef::Kind::kNone) {
    auto cg = Timed("cgroup", health, [&] { return sources_.host->Cgroup(info); });
    if (cg.ok()) {
      s.cgroup = std::move(cg).value();
    } else {
      errors_->Report("cgroup", cg.status(), info.id);
    }
  }
  auto platform = Timed("platform", health, [&] { return sources_.host->Platform(info); });
  if (platform.ok()) {
    s.platform = std::move(platform).value();
  } else {
    errors_->Report("platform", platform.status(), info.id);
  }
  s.poll_duration_seconds = SecondsSince(t0);
  return s;
}

void Poller::PollOnce() {
  const auto t0 = Clock::now();
  auto snap = std::make_shared<NodeSnapshot>();

  if (sources_.node &&
      (polls_ == 0 || Clock::now() - last_node_probe_ >= options_.node_probe_interval)) {
    node_ = sources_.node->Probe();
    last_node_probe_ = Clock::now();
  }
  snap->node = node_;

  const auto td = Clock::now();
  Discovery d = sources_.discovery->Discover();
  snap->sources["runsc_state"] = {d.success, SecondsSince(td)};
  snap->roots = std::move(d.roots);

  // Read sandboxes with a fixed number of workers pulling from a shared index.
  const size_t n = d.sandboxes.size();
  snap->sandboxes.resize(n);
  std::atomic<size_t> next{0};
  std::mutex health_mu;
  auto work = [&] {
    std::map<std::string, SourceHealth> local;
    for (size_t i = next++; i < n; i = next++)
      snap->sandboxes[i] = ReadSandbox(d.sandboxes[i], &local);
    std::lock_guard<std::mutex> lock(health_mu);
    Merge(local, &snap->sources);
  };
  workers_.Run(std::min<size_t>(std::max(1, options_.concurrency), n), work);

  std::erase_if(snap->sandboxes, [](const SandboxSnapshot& s) { return s.info.pid == 0; });
  std::set<std::string> live;
  for (const auto& s : snap->sandboxes) live.insert(SandboxKey(s.info));
  sources_.control_socket->Retain(live);
  if (sources_.host) sources_.host->Retain(live);
  if (sources_.cli) sources_.cli->Retain(live);

  // Sources that work on the whole set of live sandboxes, known from here on.
  std::vector<SandboxInfo> infos;
  infos.reserve(snap->sandboxes.size());
  for (const auto& s : snap->sandboxes) infos.push_back(s.info);

  if (sources_.syscalls) {
    // Sessions follow the live, opted-in set.
    const auto ts = Clock::now();
    SyscallSync sync = sources_.syscalls->Sync(infos);
    snap->sources["syscalls"] = {sync.success, SecondsSince(ts)};
    for (auto& s : snap->sandboxes) {
      auto it = sync.sandboxes.find(SandboxKey(s.info));
      if (it != sync.sandboxes.end()) s.syscalls = std::move(it->second);
    }
    snap->trace_packets = sync.packets;
  }

  if (sources_.runtime_classes) {
    // Before the pods: the API's classes name this poll's pods already.
    const auto tk = Clock::now();
    RuntimeClassSync sync = sources_.runtime_classes->Refresh();
    snap->sources["kubernetes"] = {sync.success, SecondsSince(tk)};
    snap->kube = std::move(sync.state);
  }

  if (sources_.pods) {
    // The live sandboxes say which handlers are gVisor.
    const auto tc = Clock::now();
    PodSync sync = sources_.pods->Sync(infos);
    snap->sources["cri"] = {sync.success, SecondsSince(tc)};
    if (snap->kube && snap->kube->runtime_classes) {
      ApplyRuntimeClasses(*snap->kube->runtime_classes, &sync.state.pods);
    }
    std::map<std::string, const PodInfo*> by_id;
    for (const PodInfo& p : sync.state.pods) by_id[p.id] = &p;
    for (auto& s : snap->sandboxes) {
      auto it = by_id.find(s.info.id);
      if (it == by_id.end()) continue;
      s.runtime_handler = it->second->runtime_handler;
      s.runtime_class = it->second->runtime_class;
    }
    snap->cri = std::move(sync.state);
  }

  snap->poll_count = ++polls_;
  snap->poll_duration_seconds = SecondsSince(t0);
  snap->timestamp_seconds = WallNow();
  store_->Publish(std::move(snap));
  if (options_.after_publish) options_.after_publish();
}

void Poller::Start() {
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      lock.unlock();
      const auto start = Clock::now();
      PollOnce();
      lock.lock();
      // Fixed-rate ticks; a poll longer than the interval starts the next at once.
      cv_.wait_until(lock, start + options_.interval, [this] { return stop_; });
    }
  });
}

void Poller::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
  if (!shut_down_ && sources_.syscalls) sources_.syscalls->Shutdown();
  shut_down_ = true;
}

}  // namespace gvisor_exporter
