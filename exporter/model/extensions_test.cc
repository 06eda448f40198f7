#include <gtest/gtest.h>

#include "exporter/model/sandbox.h"

namespace gvisor_exporter {
namespace {

struct UptimeFacts {
  double seconds = 0;
};
struct OtherFacts {
  int n = 0;
};

TEST(ExtensionsTest, AFactStructIsReadBackByItsTypeAndSharedByCopies) {
  SandboxSnapshot s;
  EXPECT_EQ(s.extensions.Get<UptimeFacts>(), nullptr);
  s.extensions.Put(UptimeFacts{12.5});
  ASSERT_NE(s.extensions.Get<UptimeFacts>(), nullptr);
  EXPECT_EQ(s.extensions.Get<UptimeFacts>()->seconds, 12.5);
  EXPECT_EQ(s.extensions.Get<OtherFacts>(), nullptr);

  const SandboxSnapshot copy = s;
  EXPECT_EQ(copy.extensions.Get<UptimeFacts>(), s.extensions.Get<UptimeFacts>());
  s.extensions.Put(UptimeFacts{1});  // a new fact; the copy keeps the old one
  EXPECT_EQ(copy.extensions.Get<UptimeFacts>()->seconds, 12.5);
}

}  // namespace
}  // namespace gvisor_exporter
