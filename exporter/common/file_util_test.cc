#include "exporter/common/file_util.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include <string>

#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter {
namespace {

using testing::TempDir;

TEST(OpenDirTest, NotADirectoryIsNotFoundOrInvalidAsAsked) {
  TempDir tmp;
  tmp.Write("file", "x");
  EXPECT_TRUE(OpenDir(tmp.path()).ok());
  EXPECT_TRUE(OpenDir(tmp.path(), NotADirectory::kInvalid).ok());
  EXPECT_EQ(OpenDir(tmp.Sub("file")).status().reason(), Reason::kNotFound);
  EXPECT_EQ(OpenDir(tmp.Sub("file/below")).status().reason(), Reason::kNotFound);
  EXPECT_EQ(OpenDir(tmp.Sub("file"), NotADirectory::kInvalid).status().reason(), Reason::kInvalid);
  EXPECT_EQ(OpenDir(tmp.Sub("missing"), NotADirectory::kInvalid).status().reason(),
            Reason::kNotFound);
}

TEST(ReadFileAtBoundedTest, ReadsOneComponentWithinTheBound) {
  TempDir tmp;
  tmp.Write("sub/file", "12345");
  StatusOr<UniqueFd> dir = OpenDir(tmp.path());
  ASSERT_TRUE(dir.ok());
  EXPECT_EQ(ReadFileAtBounded(dir->get(), "sub/file", 100).status().reason(), Reason::kInvalid);
  StatusOr<UniqueFd> sub = OpenDir(tmp.Sub("sub"));
  ASSERT_TRUE(sub.ok());
  StatusOr<std::string> text = ReadFileAtBounded(sub->get(), "file", 5);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  EXPECT_EQ(*text, "12345");
  EXPECT_EQ(ReadFileAtBounded(sub->get(), "file", 4).status().reason(), Reason::kTooLarge);
}

TEST(ReadFdBoundedTest, ReadsToTheEndAndBoundsOutput) {
  TempDir tmp;
  tmp.Write("big", std::string(40000, 'a'));  // more than one read() chunk
  StatusOr<std::string> all =
      ReadFdBounded(UniqueFd(::open(tmp.Sub("big").c_str(), O_RDONLY | O_CLOEXEC)), "big", 40000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 40000u);
  StatusOr<std::string> cut =
      ReadFdBounded(UniqueFd(::open(tmp.Sub("big").c_str(), O_RDONLY | O_CLOEXEC)), "big", 39999);
  EXPECT_EQ(cut.status().reason(), Reason::kTooLarge);
  EXPECT_NE(cut.status().message().find("big exceeds 39999 bytes"), std::string::npos);
}

}  // namespace
}  // namespace gvisor_exporter
