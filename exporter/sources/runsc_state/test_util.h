// Test helpers for the runsc_state tests (header-only: *.cc files here would
// be linked into the library). Builds fake runsc roots and fake /proc trees
// in temporary directories (exporter/testing/temp_dir.h), from the fixtures
// captured from real runsc.
#pragma once

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdint>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "exporter/common/error_reporter.h"
#include "exporter/testing/fixtures.h"
#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter::testing {

// The real captured sandbox state file, with ids, pids and annotations replaced.
inline nlohmann::json StateJson(const std::string& container_id, const std::string& sandbox_id,
                                int64_t sentry_pid, int64_t gofer_pid) {
  const bool pause = container_id == sandbox_id;
  nlohmann::json j = nlohmann::json::parse(ReadFixture(
      pause ? "exporter/sources/runsc_state/testdata/real_root/gvst-pod1_sandbox:gvst-pod1.state"
            : "exporter/sources/runsc_state/testdata/real_root/gvst-app1_sandbox:gvst-pod1.state"));
  j["id"] = container_id;
  j["sandbox"]["id"] = sandbox_id;
  j["sandbox"]["pid"] = sentry_pid;
  j["goferPid"] = gofer_pid;
  j["sandbox"]["cgroup"]["cgroupv1"]["name"] = "/gve-state-test/" + sandbox_id;
  auto& a = j["spec"]["annotations"];
  a["io.kubernetes.cri.sandbox-id"] = sandbox_id;
  a["io.kubernetes.cri.sandbox-name"] = "pod-" + sandbox_id;
  a["io.kubernetes.cri.sandbox-namespace"] = "ns-" + sandbox_id;
  a["io.kubernetes.cri.sandbox-uid"] = "uid-" + sandbox_id;
  if (!pause) a["io.kubernetes.cri.container-name"] = "name-" + container_id;
  return j;
}

inline std::string StateFileName(const std::string& container_id, const std::string& sandbox_id) {
  return container_id + "_sandbox:" + sandbox_id + ".state";
}
inline std::string LockFileName(const std::string& container_id, const std::string& sandbox_id) {
  return container_id + "_sandbox:" + sandbox_id + ".lock";
}

// Writes a .state (and its empty .lock, as runsc does) into `root`.
inline void WriteState(const std::string& root, const std::string& container_id,
                       const std::string& sandbox_id, const std::string& content) {
  WriteFile(root + "/" + StateFileName(container_id, sandbox_id), content);
  WriteFile(root + "/" + LockFileName(container_id, sandbox_id), "");
}

inline void WriteState(const std::string& root, const std::string& container_id,
                       const std::string& sandbox_id, int64_t sentry_pid, int64_t gofer_pid) {
  WriteState(root, container_id, sandbox_id,
             StateJson(container_id, sandbox_id, sentry_pid, gofer_pid).dump());
}

// A fake /proc: <root>/<pid>/{cmdline,stat}.
class FakeProc {
 public:
  explicit FakeProc(std::string root) : root_(std::move(root)) {
    std::filesystem::create_directories(root_);
  }
  const std::string& root() const { return root_; }

  void AddProcess(int64_t pid, const std::vector<std::string>& argv, uint64_t start_time) {
    const std::string dir = root_ + "/" + std::to_string(pid);
    std::filesystem::create_directories(dir);
    std::string cmdline;
    for (const std::string& arg : argv) cmdline += arg + '\0';
    WriteFile(dir + "/cmdline", cmdline);
    // Field 22 is starttime; comm deliberately contains ") " to catch naive parsers.
    std::string stat = std::to_string(pid) + " (exe) x) S 1 " + std::to_string(pid) + " 0";
    for (int field = 7; field < 22; ++field) stat += " 0";
    stat += " " + std::to_string(start_time) + " 1839783936 6616\n";
    WriteFile(dir + "/stat", stat);
  }
  void AddSentry(int64_t pid, const std::string& sandbox_id, uint64_t start_time = 1000) {
    AddProcess(pid,
               {"runsc-sandbox", "--root=/r", "--network=none", "boot", "--bundle=/b", sandbox_id},
               start_time);
  }
  void AddGofer(int64_t pid) {
    AddProcess(pid, {"runsc-gofer", "--root=/r", "gofer", "--bundle", "/b"}, 1001);
  }
  void Remove(int64_t pid) { std::filesystem::remove_all(root_ + "/" + std::to_string(pid)); }

 private:
  std::string root_;
};

inline uint64_t ErrorCount(const ErrorReporter& r, const std::string& reason) {
  auto counts = r.Counts();
  auto it = counts.find({"runsc_state", reason});
  return it == counts.end() ? 0 : it->second;
}

inline uint64_t TotalErrors(const ErrorReporter& r) {
  uint64_t n = 0;
  for (const auto& [key, count] : r.Counts()) n += count;
  return n;
}

}  // namespace gvisor_exporter::testing
