// Test-only: golden files, the one way tests pin an output byte for byte.
// ExpectGolden compares a text with a checked-in file (named by its path from
// the repository root, like every fixture: fixtures.h); run the test with
// GVE_UPDATE_GOLDEN=1 to rewrite the file instead, then review its diff.
#pragma once

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <string_view>

#include "exporter/testing/fixtures.h"

namespace gvisor_exporter::testing {

inline bool UpdatingGoldenFiles() {
  const char* update = std::getenv("GVE_UPDATE_GOLDEN");
  return update != nullptr && std::string_view(update) == "1";
}

inline void ExpectGolden(std::string_view path_relative_to_repo, const std::string& text) {
  if (UpdatingGoldenFiles()) {
    std::ofstream(FixturePath(path_relative_to_repo), std::ios::binary) << text;
    return;
  }
  const std::string want = ReadFixture(path_relative_to_repo);
  if (text == want) return;
  // EXPECT_EQ on multi-megabyte strings prints too much: point at the first
  // difference instead.
  size_t i = 0;
  while (i < text.size() && i < want.size() && text[i] == want[i]) ++i;
  const size_t from = i < 200 ? 0 : i - 200;
  ADD_FAILURE()
      << path_relative_to_repo << " differs at byte " << i << " (got " << text.size()
      << " bytes, want " << want.size() << ")\n--- got:\n"
      << text.substr(from, 400) << "\n--- want:\n"
      << want.substr(from, 400)
      << "\nIf the change is intended: rerun with GVE_UPDATE_GOLDEN=1 and review the diff.";
}

}  // namespace gvisor_exporter::testing
