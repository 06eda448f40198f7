// Test-only helpers of the doctor's unit tests (header-only, never in the library).
#pragma once

#include <sys/stat.h>

#include <string>

#include "exporter/testing/fixtures.h"
#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter::doctor::testing {

using gvisor_exporter::testing::FixturePath;
using gvisor_exporter::testing::ReadFixture;
using gvisor_exporter::testing::TempDir;

// Writes an executable shell script path()/rel; returns its path.
inline std::string WriteScript(const TempDir& dir, const std::string& rel,
                               const std::string& body) {
  dir.Write(rel, "#!/bin/sh\n" + body + "\n");
  ::chmod(dir.Sub(rel).c_str(), 0755);
  return dir.Sub(rel);
}

}  // namespace gvisor_exporter::doctor::testing
