// Parser of the Kubernetes API's RuntimeClassList (GET
// /apis/node.k8s.io/v1/runtimeclasses). The reply is input like any other:
// size, depth, count and every field are checked. A malformed document fails
// as a whole; a malformed item is skipped and named in `rejected`, so one bad
// class cannot hide the others.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/common/status.h"
#include "exporter/model/sandbox.h"

namespace gvisor_exporter {

inline constexpr size_t kMaxRuntimeClasses = 1000;
inline constexpr size_t kMaxRuntimeClassListBytes = 4 << 20;  // also the HTTP body cap

struct RuntimeClassList {
  std::vector<RuntimeClassInfo> classes;  // sorted by name, names unique
  std::vector<Status> rejected;           // one per skipped item
};

// A DNS-1123 subdomain (RuntimeClass names): 1..253 bytes of [a-z0-9.-],
// starting and ending with [a-z0-9].
bool IsValidDnsSubdomain(std::string_view s);
// A DNS-1123 label (RuntimeClass handlers): the same in 1..63 bytes, no '.'.
bool IsValidDnsLabel(std::string_view s);

StatusOr<RuntimeClassList> ParseRuntimeClassList(std::string_view json);

}  // namespace gvisor_exporter
