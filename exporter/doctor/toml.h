// A small, strict, bounded parser for the TOML subset containerd and
// containerd-shim-runsc-v1 configs use.
//
// The doctor reads /etc/containerd/config.toml, its imports and every
// runsc.toml a handler names. Those files decide whether pods start, so a
// config the real parsers (BurntSushi/toml in containerd, pelletier in the
// shim) would reject must be reported, not half-understood: the parser is
// strict where TOML 1.0 is (duplicate keys, tables defined twice, control
// characters, bad escapes, invalid UTF-8, newlines in inline tables) and
// every error names its line. It is also bounded, since a config is still
// input: size, nesting depth and value count are limited, and recursion only
// follows nesting (arrays, inline tables), which the depth limit caps.
//
// Supported: comments; bare, "basic" and 'literal' keys, dotted keys;
// [tables] and [[arrays of tables]] with quoted dotted components such as
// [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runsc]; basic,
// literal and both multi-line strings; integers (decimal, 0x, 0o, 0b,
// underscores); floats (incl. inf/nan); booleans; arrays; inline tables.
// Not supported (a clear error, never a silent misread): dates and times.
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

struct TomlLimits {
  size_t max_input_bytes = 1 << 20;  // real configs are a few KB
  size_t max_depth = 32;             // nested arrays / inline tables / table path components
  size_t max_values = 100'000;       // keys + array elements over the whole document
};

class TomlValue {
 public:
  enum class Type { kString, kInteger, kFloat, kBool, kArray, kTable };
  using Array = std::vector<TomlValue>;
  using Table = std::map<std::string, TomlValue, std::less<>>;

  TomlValue() : type_(Type::kTable) {}
  static TomlValue String(std::string s);
  static TomlValue Integer(int64_t i);
  static TomlValue Float(double d);
  static TomlValue Bool(bool b);
  static TomlValue MakeArray();
  static TomlValue MakeTable();

  Type type() const { return type_; }
  bool is_string() const { return type_ == Type::kString; }
  bool is_table() const { return type_ == Type::kTable; }
  bool is_array() const { return type_ == Type::kArray; }
  const std::string& as_string() const { return string_; }
  int64_t as_integer() const { return integer_; }
  double as_float() const { return float_; }
  bool as_bool() const { return bool_; }
  const Array& array() const { return array_; }
  const Table& table() const { return table_; }

  // Table lookups; nullptr when this is not a table or the key is absent.
  const TomlValue* Find(std::string_view key) const;
  const TomlValue* FindPath(std::initializer_list<std::string_view> path) const;
  // The string at `key`, or `fallback` when absent or not a string.
  std::string GetString(std::string_view key, std::string fallback = "") const;

  // For reports: strings, numbers, bools, arrays and tables as JSON.
  nlohmann::json ToJson() const;

 private:
  friend class TomlParser;
  Type type_;
  std::string string_;
  int64_t integer_ = 0;
  double float_ = 0;
  bool bool_ = false;
  Array array_;
  Table table_;
  // Parser bookkeeping for TOML's "define once" rules.
  bool header_defined_ = false;   // [this] appeared
  bool dotted_defined_ = false;   // created by a dotted key (a.b = 1)
  bool frozen_ = false;           // an inline table or a static array: complete as written
  bool array_of_tables_ = false;  // made by [[this]]
};

// Parses a whole document into its root table. Errors are kParse ("line N:
// ...") or kTooLarge (a limit), never exceptions.
StatusOr<TomlValue> ParseToml(std::string_view text, const TomlLimits& limits = {});

}  // namespace gvisor_exporter
