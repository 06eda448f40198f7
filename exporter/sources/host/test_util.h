// Helpers shared by this module's tests (header-only: only *_test.cc files
// are compiled into host_test). Scratch directories and file helpers are the
// shared ones of exporter/testing/temp_dir.h.
#pragma once

#include <string>

#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter::host_test {

using testing::TempDir;

inline std::string TestData(const std::string& rel) {
  return testing::SourcePath("exporter/sources/host/testdata/" + rel);
}

inline std::string ReadFixture(const std::string& rel) {
  return testing::ReadFixture("exporter/sources/host/testdata/" + rel);
}

}  // namespace gvisor_exporter::host_test
