// The golden exposition of a recorded node (node_exporter's e2e-output.txt,
// in-process): the exporter's own flags, sources, poller and collector over
// fixtures captured from a real runsc 20221219 sandbox (`gvhptrace`, ptrace:
// its /proc entries and cgroup v1 files, exporter/sources/host/testdata), its
// state file (the captured one of exporter/sources/runsc_state/testdata with
// this sandbox's id and pids), `runsc events`/`runsc usage`/`runsc --version`
// outputs (exporter/sources/cli/testdata) served by a stand-in runsc, and
// recorded CRI replies from a fake runtime. The control socket is absent (no
// sentry listens), so this also pins the CLI fallback's exposition.
//
// Any change to what the node's metrics say shows as a diff against
// testdata/recorded_node.prom. Rewrite it on purpose with
// GVE_UPDATE_GOLDEN=1 build/app_test --gtest_filter='RecordedNode*', and
// review the diff (exporter/testing/golden.h). Values that are timings (durations, snapshot age) or
// the build's version are masked.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <regex>
#include <sstream>

#include "exporter/app/flags.h"
#include "exporter/app/source_list.h"
#include "exporter/collectors/snapshot_collector.h"
#include "exporter/poller/poller.h"
#include "exporter/sources/cri/fake_cri_server.h"
#include "exporter/sources/cri/test_util.h"
#include "exporter/sources/runsc_state/test_util.h"
#include "exporter/testing/fixtures.h"
#include "exporter/testing/golden.h"
#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter {
namespace {

constexpr char kGolden[] = "exporter/app/testdata/recorded_node.prom";
constexpr char kSandbox[] = "gvhptrace";
constexpr int64_t kSentryPid = 8680, kGoferPid = 8676;  // in testdata/proc_ptrace

// Series whose values are timings, the build's version and the temporary
// directory: not recorded.
std::string MaskVolatile(std::string text, const std::string& tmp) {
  for (size_t at = text.find(tmp); at != std::string::npos; at = text.find(tmp, at)) {
    text.replace(at, tmp.size(), "<tmp>");
  }
  static const std::regex kTiming(
      R"(^((gvisor_exporter_collector_duration_seconds|gvisor_exporter_poll_duration_seconds|)"
      R"(gvisor_exporter_snapshot_age_seconds|gvisor_sandbox_poll_duration_seconds)(\{[^}]*\})?) .*$)");
  static const std::regex kVersion(R"(^(gvisor_exporter_build_info)\{.*\} 1$)");
  std::istringstream in(text);
  std::string out;
  for (std::string line; std::getline(in, line);) {
    line = std::regex_replace(line, kTiming, "$1 <timing>");
    line = std::regex_replace(line, kVersion, "$1{<this build>} 1");
    out += line + "\n";
  }
  return out;
}

// A stand-in runsc answering as the recorded one did.
std::string FakeRunsc(const std::string& dir) {
  const std::string cli = testing::FixturePath("exporter/sources/cli/testdata/");
  std::string path = dir + "/runsc";
  std::ofstream(path) << "#!/bin/sh\n"
                         "case \"$*\" in\n"
                         "  --version) cat '"
                      << cli
                      << "version.txt' ;;\n"
                         "  *' events -stats '*) sed s/capsb1/"
                      << kSandbox << "/ '" << cli
                      << "events-stats-single.txt' ;;\n"
                         "  *' usage '*) cat '"
                      << cli
                      << "usage-full.txt' ;;\n"
                         "  *) echo \"unexpected: $*\" >&2; exit 1 ;;\n"
                         "esac\n";
  chmod(path.c_str(), 0755);
  return path;
}

TEST(RecordedNodeTest, ExpositionMatchesTheGoldenFile) {
  testing::TempDir dir("gve-recorded-node");
  const std::string root = dir.MakeDir("root");
  nlohmann::json state = testing::StateJson(kSandbox, kSandbox, kSentryPid, kGoferPid);
  state["sandbox"]["cgroup"]["cgroupv1"]["name"] = std::string("/gve-host-test/") + kSandbox;
  testing::WriteState(root, kSandbox, kSandbox, state.dump());
  const std::string devfs = dir.MakeDir("dev");  // no /dev/kvm

  cri_testing::FakeRuntime runtime;
  runtime.list =
      cri_testing::LoadReply<runtime::v1::ListPodSandboxResponse>("list_pod_sandbox.json");
  auto* pod = runtime.list.add_items();
  pod->set_id(kSandbox);
  pod->mutable_metadata()->set_name("pod-gvhptrace");
  pod->mutable_metadata()->set_namespace_("ns-gvhptrace");
  pod->mutable_metadata()->set_uid("uid-gvhptrace");
  pod->set_state(runtime::v1::SANDBOX_READY);
  pod->set_runtime_handler("runsc");
  const std::string cri_socket = dir.Sub("cri.sock");
  cri_testing::FakeCriServer cri(cri_socket, &runtime);
  ASSERT_TRUE(cri.ok());

  auto flags = ParseFlags({
      "--runsc.root=" + root,
      "--runsc.root-parent=",
      "--runsc.path=" + FakeRunsc(dir.path()),
      "--path.procfs=" + testing::FixturePath("exporter/sources/host/testdata/proc_ptrace"),
      "--path.cgroupfs=" + testing::FixturePath("exporter/sources/host/testdata/cgroup_v1"),
      "--path.devfs=" + devfs,
      "--cri.endpoint=unix://" + cri_socket,
      "--cri.pod-labels=app",
      "--policy.sandboxed-namespaces=default",
      "--no-syscalls.attach",
  });
  ASSERT_TRUE(flags.ok()) << flags.status().message();

  SnapshotStore store;
  ErrorReporter errors;
  Poller poller({}, MakeSources(*flags, &errors), &store, &errors);
  poller.PollOnce();
  SnapshotCollector collector(&store, &errors);
  std::string text;
  collector.AppendExposition(&text);
  const std::string got = MaskVolatile(text, dir.path());

  testing::ExpectGolden(kGolden, got);
  // The golden file is not empty by accident: the sandbox was found, read
  // through the CLI fallback, costed from /proc and its cgroup, and joined
  // with its pod.
  for (const char* series :
       {"gvisor_sandbox_info{namespace=\"ns-gvhptrace\",pod=\"pod-gvhptrace\"",
        "sandbox_id=\"gvhptrace\",path=\"cli\"} 1", "gvisor_sandbox_host_memory_pss_bytes{",
        "gvisor_sandbox_cgroup_memory_usage_bytes{",
        "runtime_handler=\"runsc\",runtime_class=\"gvisor\"", "gvisor_cri_up 1"}) {
    EXPECT_NE(got.find(series), std::string::npos) << series;
  }
}

}  // namespace
}  // namespace gvisor_exporter
