// Helpers shared by this module's tests (header-only: only *_test.cc files
// are compiled into host_test).
#pragma once

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace gvisor_exporter::host_test {

inline std::string TestData(const std::string& rel) {
  return std::string(GVE_SOURCE_DIR) + "/exporter/sources/host/testdata/" + rel;
}

inline std::string ReadFileOrDie(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline std::string ReadFixture(const std::string& rel) { return ReadFileOrDie(TestData(rel)); }

// A scratch directory, removed with everything in it on destruction.
class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "gve-host.XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data()) != nullptr ? tmpl : "";
  }
  ~TempDir() {
    std::error_code ec;
    if (!path_.empty()) std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;

  const std::string& path() const { return path_; }

  // Writes `content` to path()/rel, creating parent directories.
  void Write(const std::string& rel, const std::string& content) const {
    const std::filesystem::path p = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary | std::ios::trunc) << content;
  }

  // Copies a directory tree from testdata into path()/rel.
  void CopyFixture(const std::string& fixture, const std::string& rel) const {
    const std::filesystem::path to = std::filesystem::path(path_) / rel;
    std::filesystem::create_directories(to);
    std::filesystem::copy(TestData(fixture), to, std::filesystem::copy_options::recursive);
  }

 private:
  std::string path_;
};

}  // namespace gvisor_exporter::host_test
