#include "exporter/doctor/toml.h"

#include <cmath>
#include <sstream>
#include <utility>

// toml++ is compiled into this file alone (header-only mode), not linked from
// Debian's libtomlplusplus.so: that library is built with exceptions on
// (toml::v3::ex), and we want parse errors as values (parse_result). Being the
// only includer also makes these settings safe: no other translation unit can
// see toml++ configured differently.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 0
#define TOML_ENABLE_FORMATTERS 0  // we only read
// Nested arrays / inline tables; toml++'s default is 256. Each level is a
// recursion in its parser and destructors (see TomlLimits).
#define TOML_MAX_NESTED_VALUES 32
#include <toml++/toml.h>

static_assert(TOML_LIB_MAJOR == 3, "the adapter is written against toml++ 3.x");

namespace gvisor_exporter {

const TomlValue* TomlValue::Find(std::string_view key) const {
  if (type_ != Type::kTable) return nullptr;
  auto it = table_.find(key);
  return it == table_.end() ? nullptr : &it->second;
}

const TomlValue* TomlValue::FindPath(std::initializer_list<std::string_view> path) const {
  const TomlValue* v = this;
  for (std::string_view k : path) {
    v = v->Find(k);
    if (v == nullptr) return nullptr;
  }
  return v;
}

std::string TomlValue::GetString(std::string_view key, std::string fallback) const {
  const TomlValue* v = Find(key);
  return v != nullptr && v->is_string() ? v->as_string() : fallback;
}

nlohmann::json TomlValue::ToJson() const {
  switch (type_) {
    case Type::kString:
    case Type::kDateTime:
      return string_;
    case Type::kInteger:
      return integer_;
    case Type::kFloat:
      if (!std::isfinite(float_)) return std::isnan(float_) ? "nan" : (float_ > 0 ? "inf" : "-inf");
      return float_;
    case Type::kBool:
      return bool_;
    case Type::kArray: {
      nlohmann::json out = nlohmann::json::array();
      for (const TomlValue& v : array_) out.push_back(v.ToJson());
      return out;
    }
    case Type::kTable: {
      nlohmann::json out = nlohmann::json::object();
      for (const auto& [k, v] : table_) out[k] = v.ToJson();
      return out;
    }
  }
  return nullptr;
}

// Copies toml++'s tree into ours (TomlValue's friend).
class TomlBuilder {
 public:
  static TomlValue Convert(const toml::node& node) {
    TomlValue out;
    if (const toml::table* t = node.as_table()) {
      for (const auto& [key, child] : *t) out.table_.emplace(key.str(), Convert(child));
    } else if (const toml::array* a = node.as_array()) {
      out.type_ = TomlValue::Type::kArray;
      out.array_.reserve(a->size());
      for (const toml::node& child : *a) out.array_.push_back(Convert(child));
    } else if (const auto* s = node.as_string()) {
      out.type_ = TomlValue::Type::kString;
      out.string_ = s->get();
    } else if (const auto* i = node.as_integer()) {
      out.type_ = TomlValue::Type::kInteger;
      out.integer_ = i->get();
    } else if (const auto* f = node.as_floating_point()) {
      out.type_ = TomlValue::Type::kFloat;
      out.float_ = f->get();
    } else if (const auto* b = node.as_boolean()) {
      out.type_ = TomlValue::Type::kBool;
      out.bool_ = b->get();
    } else {
      // toml++ prints all four date/time kinds in RFC 3339 form (offset
      // datetimes with 'Z' or +hh:mm; local ones as RFC 3339's partial forms).
      std::ostringstream text;
      if (const auto* d = node.as_date()) {
        text << d->get();
      } else if (const auto* tm = node.as_time()) {
        text << tm->get();
      } else if (const auto* dt = node.as_date_time()) {
        text << dt->get();
      }
      out.type_ = TomlValue::Type::kDateTime;
      out.string_ = std::move(text).str();
    }
    return out;
  }
};

namespace {

// See TomlLimits: bounds how deep one key can reach before toml++ recurses.
Status CheckDotsPerLine(std::string_view text, size_t max_dots) {
  size_t line = 1, dots = 0;
  for (char c : text) {
    if (c == '\n') {
      ++line;
      dots = 0;
    } else if (c == '.' && ++dots > max_dots) {
      return TooLargeError("line " + std::to_string(line) + " has more than " +
                           std::to_string(max_dots) + " dots (a key nested too deeply?)");
    }
  }
  return Status::Ok();
}

}  // namespace

StatusOr<TomlValue> ParseToml(std::string_view text, const TomlLimits& limits) {
  if (text.size() > limits.max_input_bytes) {
    return TooLargeError("document is " + std::to_string(text.size()) + " bytes, over the " +
                         std::to_string(limits.max_input_bytes) + "-byte limit");
  }
  if (Status s = CheckDotsPerLine(text, limits.max_dots_per_line); !s.ok()) return s;
  toml::parse_result result = toml::parse(text);
  if (!result) {
    const toml::parse_error& e = result.error();
    return ParseError("line " + std::to_string(e.source().begin.line) + ", column " +
                      std::to_string(e.source().begin.column) + ": " +
                      std::string(e.description()));
  }
  return TomlBuilder::Convert(result.table());
}

}  // namespace gvisor_exporter
