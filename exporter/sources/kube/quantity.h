// Kubernetes resource quantities ("120Mi", "64M", "250m", "0.5", "1e3"), as
// found in a RuntimeClass's overhead.podFixed. The API server has already
// validated them, but the reply is still input: the parser is strict and
// bounded, and fails with a Status rather than guessing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "exporter/common/status.h"

namespace gvisor_exporter {

// Longer strings are rejected before any parsing (real ones are < 20 bytes).
inline constexpr size_t kMaxQuantityBytes = 64;

// Parses the grammar of k8s.io/apimachinery resource.Quantity:
//   [+-] (digits | digits. | .digits | digits.digits) suffix
//   suffix: Ki Mi Gi Ti Pi Ei | n u m "" k M G T P E | (e|E)[+-]digits
// into its value. Magnitudes beyond 1e21 or exponents beyond +-30 fail with
// kTooLarge; anything else outside the grammar with kParse.
StatusOr<double> ParseQuantity(std::string_view s);

// A memory quantity in whole bytes (rounded up, like Quantity.Value()); fails
// when negative.
StatusOr<uint64_t> ParseMemoryBytes(std::string_view s);

// A CPU quantity in cores ("250m" = 0.25); fails when negative.
StatusOr<double> ParseCpuCores(std::string_view s);

}  // namespace gvisor_exporter
