// A Poll (exporter/model/source.h) over a snapshot the test owns, reading
// sandboxes one after another on the calling thread: to test one source's
// Read without a Poller.
#pragma once

#include "exporter/model/source.h"

namespace gvisor_exporter::testing {

class TestPoll : public Poll {
 public:
  explicit TestPoll(NodeSnapshot* snap) : snap_(snap) {}
  NodeSnapshot& snapshot() override { return *snap_; }
  ErrorReporter& errors() override { return errors_; }
  uint64_t completed_polls() const override { return 0; }
  void ForEachSandbox(const std::function<void(SandboxPoll&)>& read) override {
    std::map<std::string, SourceHealth> health;
    for (SandboxSnapshot& s : snap_->sandboxes) {
      SandboxPoll sb(&s, &health, &errors_);
      read(sb);
    }
    for (const auto& [name, h] : health) {
      SourceHealth& t = snap_->sources[name];
      t.success = t.success && h.success;
      t.duration_seconds += h.duration_seconds;
    }
  }

 private:
  NodeSnapshot* snap_;
  ErrorReporter errors_;
};

}  // namespace gvisor_exporter::testing
