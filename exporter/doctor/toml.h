// TOML documents for the doctor: containerd's config.toml, its imports and
// every runsc.toml a handler names.
//
// Those files decide whether pods start, so the doctor must accept exactly
// what containerd (BurntSushi/toml) and containerd-shim-runsc-v1 (pelletier)
// accept: TOML 1.0, dates and times included. Parsing is toml++ (Debian's
// libtomlplusplus-dev); this adapter keeps toml++ (and its configuration
// macros) inside toml.cc and hands callers a plain, owned tree, so no other
// file depends on toml++'s API or on how it is built.
//
// A config is still input, so parsing is bounded (see TomlLimits) and errors
// never throw: they name the line and column.
#pragma once

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "exporter/common/status.h"

namespace gvisor_exporter {

// Why each bound exists: toml++ itself caps nested arrays and inline tables
// (TOML_MAX_NESTED_VALUES, set to 32 in toml.cc) but not the components of a
// dotted key or [table.header], and its parser, its destructors and our
// conversion all recurse once per level of the tree. Keys never span lines,
// so limiting the dots on one line limits how deep one key can reach; with the
// nesting cap that keeps the tree a few thousand levels deep at most.
struct TomlLimits {
  size_t max_input_bytes = 1 << 20;  // real configs are a few KB
  size_t max_dots_per_line = 64;     // real lines have about 10
};

class TomlValue {
 public:
  // kDateTime holds any of TOML's four date/time types as its RFC 3339 text
  // (as_string()); it is not is_string(): containerd and the shim do not
  // decode a date into a string field either.
  enum class Type { kString, kInteger, kFloat, kBool, kDateTime, kArray, kTable };
  using Array = std::vector<TomlValue>;
  using Table = std::map<std::string, TomlValue, std::less<>>;

  TomlValue() = default;  // an empty table

  Type type() const { return type_; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_table() const { return type_ == Type::kTable; }
  bool is_array() const { return type_ == Type::kArray; }
  const std::string& as_string() const { return string_; }  // kString and kDateTime
  int64_t as_integer() const { return integer_; }
  double as_float() const { return float_; }
  bool as_bool() const { return bool_; }
  const Array& array() const { return array_; }
  const Table& table() const { return table_; }

  // Table lookups; nullptr when this is not a table or the key is absent.
  const TomlValue* Find(std::string_view key) const;
  const TomlValue* FindPath(std::initializer_list<std::string_view> path) const;
  // The string at `key`, or `fallback` when absent or not a string.
  std::string GetString(std::string_view key, const std::string& fallback = "") const;

  // For reports. JSON lacks inf/nan and dates: those become strings as TOML
  // spells them ("-inf", "1979-05-27T07:32:00Z").
  nlohmann::json ToJson() const;

 private:
  friend class TomlBuilder;
  Type type_ = Type::kTable;
  std::string string_;
  int64_t integer_ = 0;
  double float_ = 0;
  bool bool_ = false;
  Array array_;
  Table table_;
};

// Parses a whole document into its root table. Errors are kParse ("line N,
// column M: ...") or kTooLarge (a TomlLimits bound), never exceptions.
StatusOr<TomlValue> ParseToml(std::string_view text, const TomlLimits& limits = {});

}  // namespace gvisor_exporter
