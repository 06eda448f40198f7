// Test-only: checked-in fixtures (testdata/ directories, deploy/ examples,
// METRICS.md), the one way unit tests find and read them. A fixture is named
// by its path relative to the repository root, so the name in a test is the
// path a reader greps for. Header-only (nothing here may enter a library);
// GVE_SOURCE_DIR is defined for every test binary by gve_module().
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace gvisor_exporter::testing {

// The absolute path of `path_relative_to_repo`, for code under test that
// opens files or walks directories itself. Not checked: a test may name a
// missing file on purpose.
inline std::string FixturePath(std::string_view path_relative_to_repo) {
  return std::string(GVE_SOURCE_DIR) + "/" + std::string(path_relative_to_repo);
}

// The bytes of the fixture file `path_relative_to_repo`. A missing or
// unreadable file is a failure of the calling test naming the path (and ""),
// rather than a confusing parse error further on.
inline std::string ReadFixture(std::string_view path_relative_to_repo) {
  std::ifstream in(FixturePath(path_relative_to_repo), std::ios::binary);
  if (!in.good()) {
    ADD_FAILURE() << "cannot read fixture " << path_relative_to_repo << " (below " << GVE_SOURCE_DIR
                  << ")";
    return "";
  }
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace gvisor_exporter::testing
