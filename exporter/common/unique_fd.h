// The one RAII file-descriptor owner of the exporter (fd-relative /proc,
// cgroupfs and runsc-root readers, subprocess pipes).
#pragma once

namespace gvisor_exporter {

// Owns a file descriptor; closes it on destruction, reset and move-assignment.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  UniqueFd(UniqueFd&& other) noexcept : fd_(other.release()) {}
  UniqueFd& operator=(UniqueFd&& other) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd();

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  // Gives up ownership without closing: returns the fd (-1 when none).
  int release();
  // Closes the fd owned so far (if any) and owns `fd` instead (-1: none).
  void reset(int fd = -1);

 private:
  int fd_ = -1;
};

}  // namespace gvisor_exporter
