// Test-only: scratch directories and whole-file helpers shared by the test
// binaries. Header-only (nothing here may enter a library). Checked-in
// fixtures are read with fixtures.h, included here because scratch trees are
// often copies of them (TempDir::CopyTree(FixturePath(...), ...)).
#pragma once

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include "exporter/testing/fixtures.h"

namespace gvisor_exporter::testing {

// The contents of `path`; "" when it cannot be read.
inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// Replaces `path` with `content` (a failed ASSERT when it cannot be written).
inline void WriteFile(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
  ASSERT_TRUE(out.good()) << path;
}

// A mkdtemp directory below ::testing::TempDir(), removed with everything in
// it on destruction. `prefix` names it, so leftovers say which test made them.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix = "gve-test") {
    std::string tmpl = ::testing::TempDir() + prefix + ".XXXXXX";
    const char* p = ::mkdtemp(tmpl.data());
    EXPECT_NE(p, nullptr) << tmpl;
    if (p != nullptr) path_ = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }
  std::string Sub(const std::string& rel) const { return path_ + "/" + rel; }

  // Creates path()/rel (and its parents); returns it.
  std::string MakeDir(const std::string& rel) const {
    std::filesystem::create_directories(Sub(rel));
    return Sub(rel);
  }

  // Writes `content` to path()/rel, creating parent directories.
  void Write(const std::string& rel, const std::string& content) const {
    std::filesystem::create_directories(std::filesystem::path(Sub(rel)).parent_path());
    WriteFile(Sub(rel), content);
  }

  // Copies the directory tree `from` into path()/rel.
  void CopyTree(const std::string& from, const std::string& rel) const {
    std::filesystem::copy(from, MakeDir(rel), std::filesystem::copy_options::recursive);
  }

 private:
  std::string path_;
};

}  // namespace gvisor_exporter::testing
