// README.md's flag lists ("## Flags" and the doctor's usage under "## Doctor")
// name exactly the flags the parser has: a flag added, renamed or made
// negatable without the README fails here.
#include <gtest/gtest.h>

#include <regex>

#include "exporter/app/flags.h"
#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

std::string Readme() { return testing::ReadFixture("README.md"); }

// "--name", "--[no-]name" (both spellings).
std::set<std::string> FlagsIn(const std::string& text) {
  std::set<std::string> out;
  static const std::regex kFlag(R"(--(\[no-\])?([a-z][a-z0-9.-]*[a-z0-9]))");
  for (std::sregex_iterator it(text.begin(), text.end(), kFlag), end; it != end; ++it) {
    out.insert((*it)[2]);
    if ((*it)[1].matched) out.insert("no-" + (*it)[2].str());
  }
  return out;
}

TEST(FlagsReadmeTest, ExporterFlagsMatch) {
  const std::string readme = Readme();
  // The fenced block under "## Flags".
  const size_t section = readme.find("\n## Flags\n");
  ASSERT_NE(section, std::string::npos) << "README.md has no ## Flags";
  const size_t open = readme.find("\n```", section);
  const size_t close = readme.find("\n```", open + 4);
  ASSERT_NE(close, std::string::npos);
  EXPECT_EQ(FlagsIn(readme.substr(open, close - open)), FlagNames(false));
}

TEST(FlagsReadmeTest, DoctorFlagsMatch) {
  const std::string readme = Readme();
  // The indented usage under "## Doctor", up to the blank line after it.
  const size_t open = readme.find("\n    gvisor-exporter doctor [");
  ASSERT_NE(open, std::string::npos) << "README.md has no doctor usage";
  const std::string usage = readme.substr(open, readme.find("\n\n", open) - open);
  std::set<std::string> parser = FlagNames(true);
  parser.erase("help");
  EXPECT_EQ(FlagsIn(usage), parser);
}

}  // namespace
}  // namespace gvisor_exporter
