#include "exporter/sources/trace/session_record.h"

#include <gtest/gtest.h>

#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter {
namespace {

SandboxInfo Sandbox(const std::string& id, int64_t pid, uint64_t start) {
  SandboxInfo sb;
  sb.root = "/run/containerd/runsc/k8s.io";
  sb.id = id;
  sb.pid = pid;
  sb.pid_start_time = start;
  return sb;
}

TEST(SessionRecord, MissingFileIsEmpty) {
  testing::TempDir dir;
  SessionRecord r(dir.Sub("none/record.json"));
  EXPECT_TRUE(r.Load().ok());
  EXPECT_EQ(r.size(), 0u);
}

TEST(SessionRecord, SurvivesARestart) {
  testing::TempDir dir;
  const std::string path = dir.Sub("state/record.json");  // directory made on first save
  {
    SessionRecord r(path);
    ASSERT_TRUE(r.Load().ok());
    ASSERT_TRUE(r.Add(Sandbox("a", 10, 100)).ok());
    ASSERT_TRUE(r.Add(Sandbox("b", 11, 110)).ok());
    ASSERT_TRUE(r.Remove(Sandbox("b", 11, 110)).ok());
  }
  SessionRecord again(path);
  ASSERT_TRUE(again.Load().ok());
  EXPECT_TRUE(again.Contains(Sandbox("a", 10, 100)));
  EXPECT_FALSE(again.Contains(Sandbox("b", 11, 110)));
  // Same id, other sentry (pid reused or sandbox recreated): not ours.
  EXPECT_FALSE(again.Contains(Sandbox("a", 10, 999)));
  EXPECT_FALSE(again.Contains(Sandbox("a", 12, 100)));
}

TEST(SessionRecord, RetainLiveForgetsGoneSandboxes) {
  testing::TempDir dir;
  SessionRecord r(dir.Sub("record.json"));
  ASSERT_TRUE(r.Add(Sandbox("a", 10, 100)).ok());
  ASSERT_TRUE(r.Add(Sandbox("b", 11, 110)).ok());
  ASSERT_TRUE(r.RetainLive({Sandbox("b", 11, 110)}).ok());
  SessionRecord again(dir.Sub("record.json"));
  ASSERT_TRUE(again.Load().ok());
  EXPECT_EQ(again.size(), 1u);
  EXPECT_TRUE(again.Contains(Sandbox("b", 11, 110)));
}

TEST(SessionRecord, GarbledFileIsAnErrorAndEmpty) {
  testing::TempDir dir;
  dir.Write("record.json", "{\"sessions\": [");
  SessionRecord r(dir.Sub("record.json"));
  EXPECT_EQ(r.Load().reason(), Reason::kParse);
  EXPECT_EQ(r.size(), 0u);
  dir.Write("record.json", R"({"sessions":[{"root":"/r","id":"../x","pid":1,"start_time":1},)"
                           R"({"root":"/r","id":"ok","pid":1,"start_time":1},{"id":5}]})");
  EXPECT_TRUE(r.Load().ok());
  EXPECT_EQ(r.size(), 1u);  // bad entries skipped, the good one kept
}

TEST(SessionRecord, EmptyPathKeepsItInMemory) {
  SessionRecord r("");
  EXPECT_TRUE(r.Load().ok());
  EXPECT_TRUE(r.Add(Sandbox("a", 1, 1)).ok());
  EXPECT_TRUE(r.Contains(Sandbox("a", 1, 1)));
}

}  // namespace
}  // namespace gvisor_exporter
