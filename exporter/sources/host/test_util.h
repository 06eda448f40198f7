// Helpers shared by this module's tests (header-only: only *_test.cc files
// are compiled into host_test). Scratch directories and file helpers are the
// shared ones of exporter/testing/temp_dir.h, fixtures are read with
// exporter/testing/fixtures.h.
#pragma once

#include <string>

#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter::host_test {

using testing::TempDir;

}  // namespace gvisor_exporter::host_test
