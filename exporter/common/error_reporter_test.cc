#include "exporter/common/error_reporter.h"

#include <gtest/gtest.h>

namespace gvisor_exporter {
namespace {

TEST(ErrorReporterTest, CountsEveryErrorButLogsOncePerInterval) {
  ErrorReporter r(std::chrono::hours(1));
  for (int i = 0; i < 5; ++i) r.Report("control_socket", TimeoutError("no answer"), "sb1");
  r.Report("control_socket", ParseError("garbage"), "sb1");
  r.Report("runsc_state", ParseError("garbage"), "/root/x.state");
  r.Report("runsc_state", Status::Ok(), "ignored");
  auto c = r.Counts();
  EXPECT_EQ((c[{"control_socket", "timeout"}]), 5u);
  EXPECT_EQ((c[{"control_socket", "parse"}]), 1u);
  EXPECT_EQ((c[{"runsc_state", "parse"}]), 1u);
  EXPECT_EQ(c.size(), 3u);
  EXPECT_EQ(r.suppressed_logs(), 4u);
}

TEST(ErrorReporterTest, LogsAgainAfterInterval) {
  ErrorReporter r(std::chrono::nanoseconds(0));
  r.Report("cli", TimeoutError("hung"), "sb1");
  r.Report("cli", TimeoutError("hung"), "sb1");
  EXPECT_EQ(r.suppressed_logs(), 0u);
}

}  // namespace
}  // namespace gvisor_exporter
