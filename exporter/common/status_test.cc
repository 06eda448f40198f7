#include "exporter/common/status.h"

#include <gtest/gtest.h>

#include <cerrno>

namespace gvisor_exporter {
namespace {

TEST(StatusTest, OkAndError) {
  EXPECT_TRUE(Status::Ok().ok());
  Status s = ParseError("bad json").WithContext("state file x");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.reason(), Reason::kParse);
  EXPECT_EQ(s.message(), "state file x: bad json");
  EXPECT_EQ(s.ToString(), "parse: state file x: bad json");
}

TEST(StatusTest, ErrnoMapping) {
  EXPECT_EQ(ErrnoError(ENOENT, "open").reason(), Reason::kNotFound);
  EXPECT_EQ(ErrnoError(EACCES, "open").reason(), Reason::kPermission);
  EXPECT_EQ(ErrnoError(ECONNREFUSED, "connect").reason(), Reason::kUnavailable);
  EXPECT_EQ(ErrnoError(ELOOP, "open").reason(), Reason::kInvalid);
  EXPECT_EQ(ErrnoError(EIO, "read").reason(), Reason::kIo);
}

TEST(StatusOrTest, ValueAndError) {
  StatusOr<int> v = 42;
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(*v, 42);
  StatusOr<int> e = NotFoundError("gone");
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().reason(), Reason::kNotFound);
}

}  // namespace
}  // namespace gvisor_exporter
