// Errors travel as values: Status / StatusOr<T>. Every Status carries a
// short machine-readable reason (used as the `reason` label of the error
// counters, so it must come from a small fixed set) and a human message.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace gvisor_exporter {

// The bounded set of failure reasons, used as metric label values.
enum class Reason {
  kOk,
  kNotFound,     // file/process/socket does not exist (often normal: gone sandbox)
  kPermission,   // EACCES/EPERM
  kTimeout,      // deadline exceeded
  kTooLarge,     // input over a size/depth limit
  kParse,        // malformed input
  kInvalid,      // well-formed but semantically invalid (bad id, symlink escape)
  kUnavailable,  // connection refused / closed / peer gone
  kRemote,       // peer answered with an error
  kIo,           // other I/O error
  kInternal,
};

const char* ReasonName(Reason r);

class Status {
 public:
  Status() = default;
  Status(Reason reason, std::string message) : reason_(reason), message_(std::move(message)) {}
  static Status Ok() { return Status(); }

  bool ok() const { return reason_ == Reason::kOk; }
  Reason reason() const { return reason_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

  // Returns a copy with `context` prepended to the message ("context: message").
  Status WithContext(const std::string& context) const;

 private:
  Reason reason_ = Reason::kOk;
  std::string message_;
};

// Convenience constructors.
Status NotFoundError(std::string msg);
Status PermissionError(std::string msg);
Status TimeoutError(std::string msg);
Status TooLargeError(std::string msg);
Status ParseError(std::string msg);
Status InvalidError(std::string msg);
Status UnavailableError(std::string msg);
Status RemoteError(std::string msg);
Status IoError(std::string msg);
Status InternalError(std::string msg);
// Maps an errno value to a Status with the right Reason.
Status ErrnoError(int err, const std::string& what);

template <typename T>
class StatusOr {
 public:
  StatusOr(T value) : v_(std::move(value)) {}        // NOLINT(google-explicit-constructor)
  StatusOr(Status status) : v_(std::move(status)) {  // NOLINT(google-explicit-constructor)
    assert(!std::get<Status>(v_).ok());
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  Status status() const { return ok() ? Status::Ok() : std::get<Status>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T& value() & { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<T, Status> v_;
};

#define GVE_RETURN_IF_ERROR(expr)          \
  do {                                     \
    ::gvisor_exporter::Status _s = (expr); \
    if (!_s.ok()) return _s;               \
  } while (0)

}  // namespace gvisor_exporter
