#include "exporter/common/status.h"

#include <cerrno>
#include <cstring>

namespace gvisor_exporter {

const char* ReasonName(Reason r) {
  switch (r) {
    case Reason::kOk:
      return "ok";
    case Reason::kNotFound:
      return "not_found";
    case Reason::kPermission:
      return "permission";
    case Reason::kTimeout:
      return "timeout";
    case Reason::kTooLarge:
      return "too_large";
    case Reason::kParse:
      return "parse";
    case Reason::kInvalid:
      return "invalid";
    case Reason::kUnavailable:
      return "unavailable";
    case Reason::kRemote:
      return "remote_error";
    case Reason::kIo:
      return "io";
    case Reason::kInternal:
      return "internal";
  }
  return "internal";
}

std::string Status::ToString() const {
  if (ok()) return "ok";
  return std::string(ReasonName(reason_)) + ": " + message_;
}

Status Status::WithContext(const std::string& context) const {
  if (ok()) return *this;
  return Status(reason_, context + ": " + message_);
}

Status NotFoundError(std::string m) { return {Reason::kNotFound, std::move(m)}; }
Status PermissionError(std::string m) { return {Reason::kPermission, std::move(m)}; }
Status TimeoutError(std::string m) { return {Reason::kTimeout, std::move(m)}; }
Status TooLargeError(std::string m) { return {Reason::kTooLarge, std::move(m)}; }
Status ParseError(std::string m) { return {Reason::kParse, std::move(m)}; }
Status InvalidError(std::string m) { return {Reason::kInvalid, std::move(m)}; }
Status UnavailableError(std::string m) { return {Reason::kUnavailable, std::move(m)}; }
Status RemoteError(std::string m) { return {Reason::kRemote, std::move(m)}; }
Status IoError(std::string m) { return {Reason::kIo, std::move(m)}; }
Status InternalError(std::string m) { return {Reason::kInternal, std::move(m)}; }

Status ErrnoError(int err, const std::string& what) {
  std::string msg = what + ": " + std::strerror(err);
  switch (err) {
    case ENOENT:
    case ESRCH:
    case ENOTDIR:
      return NotFoundError(msg);
    case EACCES:
    case EPERM:
      return PermissionError(msg);
    case ETIMEDOUT:
    case EAGAIN:
      return TimeoutError(msg);
    case ECONNREFUSED:
    case ECONNRESET:
    case EPIPE:
    case ENOTCONN:
      return UnavailableError(msg);
    case ELOOP:
      return InvalidError(msg);
    default:
      return IoError(msg);
  }
}

}  // namespace gvisor_exporter
