#include "exporter/doctor/toml.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <utility>

namespace gvisor_exporter {

TomlValue TomlValue::String(std::string s) {
  TomlValue v;
  v.type_ = Type::kString;
  v.string_ = std::move(s);
  return v;
}
TomlValue TomlValue::Integer(int64_t i) {
  TomlValue v;
  v.type_ = Type::kInteger;
  v.integer_ = i;
  return v;
}
TomlValue TomlValue::Float(double d) {
  TomlValue v;
  v.type_ = Type::kFloat;
  v.float_ = d;
  return v;
}
TomlValue TomlValue::Bool(bool b) {
  TomlValue v;
  v.type_ = Type::kBool;
  v.bool_ = b;
  return v;
}
TomlValue TomlValue::MakeArray() {
  TomlValue v;
  v.type_ = Type::kArray;
  return v;
}
TomlValue TomlValue::MakeTable() { return TomlValue(); }

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
      return string_;
    case Type::kInteger:
      return integer_;
    case Type::kFloat:
      // JSON has no inf/nan: show them as TOML spells them.
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

namespace {

bool IsBareKeyChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// Length of the UTF-8 sequence starting at s[i], 0 when it is invalid
// (overlong forms, surrogates and code points above U+10FFFF included).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  const auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char c = b(i);
  if (c < 0x80) return 1;
  size_t n;
  uint32_t cp;
  if ((c & 0xE0) == 0xC0) {
    n = 2, cp = c & 0x1F;
  } else if ((c & 0xF0) == 0xE0) {
    n = 3, cp = c & 0x0F;
  } else if ((c & 0xF8) == 0xF0) {
    n = 4, cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3F);
  }
  static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[n] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return 0;
  return n;
}

void AppendUtf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// Keys end up in error messages: quoted, bounded, printable.
std::string ShowKey(std::string_view key) {
  std::string out = "\"";
  for (char c : key.substr(0, 120)) out += (c >= 0x20 && c < 0x7f) ? c : '?';
  if (key.size() > 120) out += "...";
  return out + "\"";
}

}  // namespace

class TomlParser {
 public:
  TomlParser(std::string_view text, const TomlLimits& limits) : s_(text), limits_(limits) {}

  StatusOr<TomlValue> Parse() {
    if (s_.size() > limits_.max_input_bytes) {
      return TooLargeError("config larger than " + std::to_string(limits_.max_input_bytes) +
                           " bytes");
    }
    GVE_RETURN_IF_ERROR(CheckUtf8());
    TomlValue root;
    current_ = &root;
    while (true) {
      GVE_RETURN_IF_ERROR(SkipBlankLinesAndComments());
      if (AtEnd()) break;
      if (Peek() == '[') {
        GVE_RETURN_IF_ERROR(ParseHeader(&root));
      } else {
        GVE_RETURN_IF_ERROR(ParseKeyValue(current_));
      }
      GVE_RETURN_IF_ERROR(ExpectLineEnd());
    }
    return root;
  }

 private:
  using Table = TomlValue::Table;

  bool AtEnd() const { return pos_ >= s_.size(); }
  char Peek(size_t ahead = 0) const { return pos_ + ahead < s_.size() ? s_[pos_ + ahead] : '\0'; }
  bool LookingAt(std::string_view t) const { return s_.substr(pos_, t.size()) == t; }

  Status Error(const std::string& msg) const {
    return ParseError("line " + std::to_string(line_) + ": " + msg);
  }

  // Whole-document check first, so string code can copy bytes verbatim.
  Status CheckUtf8() {
    for (size_t i = 0; i < s_.size();) {
      const size_t n = Utf8SequenceLength(s_, i);
      if (n == 0) {
        line_ = 1;
        for (size_t k = 0; k < i; ++k) line_ += s_[k] == '\n';
        return Error("invalid UTF-8");
      }
      i += n;
    }
    return Status::Ok();
  }

  void SkipWs() {
    while (!AtEnd() && (Peek() == ' ' || Peek() == '\t')) ++pos_;
  }

  // A comment runs to the end of the line; control characters other than tab
  // are not allowed in it.
  Status SkipComment() {
    if (Peek() != '#') return Status::Ok();
    while (!AtEnd() && Peek() != '\n') {
      const unsigned char c = Peek();
      if ((c < 0x20 && c != '\t' && !(c == '\r' && Peek(1) == '\n')) || c == 0x7f) {
        return Error("control character in comment");
      }
      ++pos_;
    }
    return Status::Ok();
  }

  bool SkipNewline() {
    if (Peek() == '\n') {
      ++pos_;
      ++line_;
      return true;
    }
    if (Peek() == '\r' && Peek(1) == '\n') {
      pos_ += 2;
      ++line_;
      return true;
    }
    return false;
  }

  Status SkipBlankLinesAndComments() {
    while (true) {
      SkipWs();
      GVE_RETURN_IF_ERROR(SkipComment());
      if (!SkipNewline()) return Status::Ok();
    }
  }

  // Whitespace, comments and newlines inside arrays.
  Status SkipArrayFiller() { return SkipBlankLinesAndComments(); }

  Status ExpectLineEnd() {
    SkipWs();
    GVE_RETURN_IF_ERROR(SkipComment());
    if (AtEnd() || SkipNewline()) return Status::Ok();
    return Error("unexpected " + Describe() + " after value (one key = value per line)");
  }

  std::string Describe() const {
    if (AtEnd()) return "end of file";
    const unsigned char c = Peek();
    if (c == '\n' || c == '\r') return "end of line";
    if (c >= 0x20 && c < 0x7f) return std::string("'") + static_cast<char>(c) + "'";
    return "byte 0x" + std::string(1, "0123456789abcdef"[c >> 4]) + "0123456789abcdef"[c & 15];
  }

  Status CountValue() {
    if (++values_ > limits_.max_values) {
      return TooLargeError("line " + std::to_string(line_) + ": more than " +
                           std::to_string(limits_.max_values) + " values");
    }
    return Status::Ok();
  }

  // ---- keys

  StatusOr<std::string> ParseSimpleKey() {
    if (Peek() == '"') {
      if (LookingAt("\"\"\"")) return Error("multi-line string used as a key");
      return ParseBasicString();
    }
    if (Peek() == '\'') {
      if (LookingAt("'''")) return Error("multi-line string used as a key");
      return ParseLiteralString();
    }
    const size_t start = pos_;
    while (!AtEnd() && IsBareKeyChar(Peek())) ++pos_;
    if (pos_ == start) return Error("expected a key, found " + Describe());
    return std::string(s_.substr(start, pos_ - start));
  }

  StatusOr<std::vector<std::string>> ParseKey() {
    std::vector<std::string> parts;
    while (true) {
      SkipWs();
      StatusOr<std::string> k = ParseSimpleKey();
      if (!k.ok()) return k.status();
      parts.push_back(std::move(k).value());
      if (parts.size() > limits_.max_depth) {
        return TooLargeError("line " + std::to_string(line_) + ": key has more than " +
                             std::to_string(limits_.max_depth) + " components");
      }
      SkipWs();
      if (Peek() != '.') return parts;
      ++pos_;
    }
  }

  // ---- tables

  // [a.b.c] or [[a.b.c]]: makes `current_` the table the header names.
  Status ParseHeader(TomlValue* root) {
    const bool array = LookingAt("[[");
    pos_ += array ? 2 : 1;
    StatusOr<std::vector<std::string>> key = ParseKey();
    if (!key.ok()) return key.status();
    SkipWs();
    if (array ? !LookingAt("]]") : Peek() != ']') {
      return Error(std::string("expected '") + (array ? "]]" : "]") + "' after table name, found " +
                   Describe());
    }
    pos_ += array ? 2 : 1;
    TomlValue* t = root;
    for (size_t i = 0; i + 1 < key->size(); ++i) {
      StatusOr<TomlValue*> next = DescendForHeader(t, (*key)[i]);
      if (!next.ok()) return next.status();
      t = *next;
    }
    const std::string& last = key->back();
    auto it = t->table_.find(last);
    if (array) {
      if (it == t->table_.end()) {
        GVE_RETURN_IF_ERROR(CountValue());
        TomlValue arr = TomlValue::MakeArray();
        arr.array_of_tables_ = true;
        it = t->table_.emplace(last, std::move(arr)).first;
      } else if (!it->second.array_of_tables_) {
        return Error("[[" + ShowKey(last) + "]] names a key that is not an array of tables");
      }
      GVE_RETURN_IF_ERROR(CountValue());
      it->second.array_.emplace_back();
      current_ = &it->second.array_.back();
      current_->header_defined_ = true;
      return Status::Ok();
    }
    if (it == t->table_.end()) {
      GVE_RETURN_IF_ERROR(CountValue());
      it = t->table_.emplace(last, TomlValue()).first;
    } else if (!it->second.is_table() || it->second.header_defined_ || it->second.dotted_defined_ ||
               it->second.frozen_) {
      return Error("table " + ShowKey(last) + " defined more than once");
    }
    it->second.header_defined_ = true;
    current_ = &it->second;
    return Status::Ok();
  }

  StatusOr<TomlValue*> DescendForHeader(TomlValue* t, const std::string& k) {
    auto it = t->table_.find(k);
    if (it == t->table_.end()) {
      GVE_RETURN_IF_ERROR(CountValue());
      return &t->table_.emplace(k, TomlValue()).first->second;
    }
    TomlValue& v = it->second;
    if (v.array_of_tables_) return &v.array_.back();
    if (!v.is_table() || v.frozen_) return Error("key " + ShowKey(k) + " is not a table");
    return &v;
  }

  // ---- key = value

  Status ParseKeyValue(TomlValue* table) {
    StatusOr<std::vector<std::string>> key = ParseKey();
    if (!key.ok()) return key.status();
    SkipWs();
    if (Peek() != '=') return Error("expected '=' after key, found " + Describe());
    ++pos_;
    SkipWs();
    TomlValue* t = table;
    for (size_t i = 0; i + 1 < key->size(); ++i) {
      const std::string& k = (*key)[i];
      auto it = t->table_.find(k);
      if (it == t->table_.end()) {
        GVE_RETURN_IF_ERROR(CountValue());
        it = t->table_.emplace(k, TomlValue()).first;
        it->second.dotted_defined_ = true;
      } else if (!it->second.is_table() || it->second.frozen_ || it->second.header_defined_ ||
                 it->second.array_of_tables_) {
        return Error("dotted key " + ShowKey(k) + " would extend an already defined value");
      }
      t = &it->second;
    }
    const std::string& last = key->back();
    if (t->table_.count(last) != 0) return Error("duplicate key " + ShowKey(last));
    StatusOr<TomlValue> value = ParseValue(1);
    if (!value.ok()) return value.status();
    GVE_RETURN_IF_ERROR(CountValue());
    t->table_.emplace(last, std::move(value).value());
    return Status::Ok();
  }

  StatusOr<TomlValue> ParseValue(size_t depth) {
    if (depth > limits_.max_depth) {
      return TooLargeError("line " + std::to_string(line_) + ": nested deeper than " +
                           std::to_string(limits_.max_depth));
    }
    const char c = Peek();
    if (c == '"') {
      StatusOr<std::string> s = LookingAt("\"\"\"") ? ParseMultilineBasic() : ParseBasicString();
      if (!s.ok()) return s.status();
      return TomlValue::String(std::move(s).value());
    }
    if (c == '\'') {
      StatusOr<std::string> s = LookingAt("'''") ? ParseMultilineLiteral() : ParseLiteralString();
      if (!s.ok()) return s.status();
      return TomlValue::String(std::move(s).value());
    }
    if (c == '[') return ParseArray(depth);
    if (c == '{') return ParseInlineTable(depth);
    if (LookingAt("true") && !IsBareKeyChar(Peek(4))) {
      pos_ += 4;
      return TomlValue::Bool(true);
    }
    if (LookingAt("false") && !IsBareKeyChar(Peek(5))) {
      pos_ += 5;
      return TomlValue::Bool(false);
    }
    if ((c >= '0' && c <= '9') || c == '+' || c == '-' || c == 'i' || c == 'n') {
      return ParseNumber();
    }
    return Error("expected a value, found " + Describe());
  }

  StatusOr<TomlValue> ParseArray(size_t depth) {
    ++pos_;  // '['
    TomlValue arr = TomlValue::MakeArray();
    arr.frozen_ = true;
    while (true) {
      GVE_RETURN_IF_ERROR(SkipArrayFiller());
      if (Peek() == ']') {
        ++pos_;
        return arr;
      }
      StatusOr<TomlValue> v = ParseValue(depth + 1);
      if (!v.ok()) return v.status();
      GVE_RETURN_IF_ERROR(CountValue());
      arr.array_.push_back(std::move(v).value());
      GVE_RETURN_IF_ERROR(SkipArrayFiller());
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == ']') continue;
      return Error("expected ',' or ']' in array, found " + Describe());
    }
  }

  StatusOr<TomlValue> ParseInlineTable(size_t depth) {
    ++pos_;  // '{'
    TomlValue t;
    SkipWs();
    if (Peek() == '}') {
      ++pos_;
      t.frozen_ = true;
      return t;
    }
    while (true) {
      SkipWs();
      StatusOr<std::vector<std::string>> key = ParseKey();
      if (!key.ok()) return key.status();
      SkipWs();
      if (Peek() != '=') return Error("expected '=' in inline table, found " + Describe());
      ++pos_;
      SkipWs();
      TomlValue* target = &t;
      for (size_t i = 0; i + 1 < key->size(); ++i) {
        auto it = target->table_.find((*key)[i]);
        if (it == target->table_.end()) {
          it = target->table_.emplace((*key)[i], TomlValue()).first;
          it->second.dotted_defined_ = true;
        } else if (!it->second.is_table() || !it->second.dotted_defined_) {
          return Error("dotted key " + ShowKey((*key)[i]) + " would extend a defined value");
        }
        target = &it->second;
      }
      if (target->table_.count(key->back()) != 0) {
        return Error("duplicate key " + ShowKey(key->back()));
      }
      StatusOr<TomlValue> v = ParseValue(depth + 1);
      if (!v.ok()) return v.status();
      GVE_RETURN_IF_ERROR(CountValue());
      target->table_.emplace(key->back(), std::move(v).value());
      SkipWs();
      if (Peek() == ',') {
        ++pos_;
        continue;
      }
      if (Peek() == '}') {
        ++pos_;
        // Inline tables are complete as written: no [header] or dotted key
        // may add to them later (TOML 1.0), at any level.
        Freeze(&t);
        return t;
      }
      return Error("expected ',' or '}' in inline table (on one line), found " + Describe());
    }
  }

  static void Freeze(TomlValue* v) {
    v->frozen_ = true;
    for (auto& [k, child] : v->table_) {
      if (child.is_table()) Freeze(&child);
    }
  }

  // ---- strings

  Status CheckStringChar(unsigned char c, bool multiline) {
    if (c == '\t' || (multiline && (c == '\n' || c == '\r'))) return Status::Ok();
    if (c < 0x20 || c == 0x7f) {
      return Error(c == '\n' ? "newline in a single-line string (unterminated string?)"
                             : "control character in string");
    }
    return Status::Ok();
  }

  StatusOr<std::string> ParseBasicString() {
    ++pos_;  // '"'
    std::string out;
    while (true) {
      if (AtEnd()) return Error("unterminated string");
      const char c = Peek();
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c == '\\') {
        GVE_RETURN_IF_ERROR(ParseEscape(&out));
        continue;
      }
      GVE_RETURN_IF_ERROR(CheckStringChar(c, false));
      out += c;
      ++pos_;
    }
  }

  StatusOr<std::string> ParseMultilineBasic() {
    pos_ += 3;
    SkipNewline();  // a newline right after the opening quotes is trimmed
    std::string out;
    while (true) {
      if (AtEnd()) return Error("unterminated multi-line string");
      if (LookingAt("\"\"\"")) {
        // Up to two quotes may end the content: """a"""""
        size_t quotes = 3;
        while (quotes < 5 && Peek(quotes) == '"') ++quotes;
        out.append(quotes - 3, '"');
        pos_ += quotes;
        return out;
      }
      const char c = Peek();
      if (c == '\\') {
        // Line-ending backslash: trims the newline and following whitespace.
        size_t k = 1;
        while (Peek(k) == ' ' || Peek(k) == '\t') ++k;
        if (Peek(k) == '\n' || (Peek(k) == '\r' && Peek(k + 1) == '\n')) {
          pos_ += k;
          while (SkipNewline() || Peek() == ' ' || Peek() == '\t') {
            if (Peek() == ' ' || Peek() == '\t') ++pos_;
          }
          continue;
        }
        GVE_RETURN_IF_ERROR(ParseEscape(&out));
        continue;
      }
      if (c == '\r' && Peek(1) != '\n') return Error("bare carriage return in string");
      GVE_RETURN_IF_ERROR(CheckStringChar(c, true));
      if (SkipNewline()) {
        out += '\n';
        continue;
      }
      out += c;
      ++pos_;
    }
  }

  Status ParseEscape(std::string* out) {
    ++pos_;  // '\'
    const char e = Peek();
    ++pos_;
    // The one-character escapes of TOML basic strings.
    static constexpr std::string_view kFrom = "btnfr\"\\", kTo = "\b\t\n\f\r\"\\";
    if (const size_t i = kFrom.find(e); e != '\0' && i != std::string_view::npos) {
      *out += kTo[i];
      return Status::Ok();
    }
    switch (e) {
      case 'u':
      case 'U': {
        const size_t n = e == 'u' ? 4 : 8;
        uint32_t cp = 0;
        for (size_t i = 0; i < n; ++i) {
          const char h = Peek();
          int d;
          if (h >= '0' && h <= '9') {
            d = h - '0';
          } else if (h >= 'a' && h <= 'f') {
            d = h - 'a' + 10;
          } else if (h >= 'A' && h <= 'F') {
            d = h - 'A' + 10;
          } else {
            return Error("bad \\" + std::string(1, e) + " escape");
          }
          cp = (cp << 4) | static_cast<uint32_t>(d);
          ++pos_;
        }
        if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          return Error("escape is not a Unicode scalar value");
        }
        AppendUtf8(cp, out);
        return Status::Ok();
      }
      default:
        --pos_;
        return Error("invalid escape \\" + Describe());
    }
  }

  StatusOr<std::string> ParseLiteralString() {
    ++pos_;  // '\''
    const size_t start = pos_;
    while (true) {
      if (AtEnd()) return Error("unterminated string");
      const char c = Peek();
      if (c == '\'') {
        std::string out(s_.substr(start, pos_ - start));
        ++pos_;
        return out;
      }
      GVE_RETURN_IF_ERROR(CheckStringChar(c, false));
      ++pos_;
    }
  }

  StatusOr<std::string> ParseMultilineLiteral() {
    pos_ += 3;
    SkipNewline();
    std::string out;
    while (true) {
      if (AtEnd()) return Error("unterminated multi-line string");
      if (LookingAt("'''")) {
        size_t quotes = 3;
        while (quotes < 5 && Peek(quotes) == '\'') ++quotes;
        out.append(quotes - 3, '\'');
        pos_ += quotes;
        return out;
      }
      const char c = Peek();
      if (c == '\r' && Peek(1) != '\n') return Error("bare carriage return in string");
      GVE_RETURN_IF_ERROR(CheckStringChar(c, true));
      if (SkipNewline()) {
        out += '\n';
        continue;
      }
      out += c;
      ++pos_;
    }
  }

  // ---- numbers

  // Digits with single underscores between digits (TOML's rule).
  static bool ValidDigits(std::string_view d, bool (*is_digit)(char)) {
    if (d.empty() || d.front() == '_' || d.back() == '_') return false;
    for (size_t i = 0; i < d.size(); ++i) {
      if (d[i] == '_') {
        if (d[i + 1] == '_') return false;
      } else if (!is_digit(d[i])) {
        return false;
      }
    }
    return true;
  }
  static bool IsDec(char c) { return c >= '0' && c <= '9'; }
  static bool IsHex(char c) { return IsDec(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
  static bool IsOct(char c) { return c >= '0' && c <= '7'; }
  static bool IsBin(char c) { return c == '0' || c == '1'; }
  static std::string NoUnderscores(std::string_view d) {
    std::string out;
    for (char c : d) {
      if (c != '_') out += c;
    }
    return out;
  }

  StatusOr<TomlValue> ParseNumber() {
    const size_t start = pos_;
    while (!AtEnd() && (IsBareKeyChar(Peek()) || Peek() == '.' || Peek() == '+' || Peek() == ':' ||
                        Peek() == '-')) {
      ++pos_;
    }
    std::string_view tok = s_.substr(start, pos_ - start);
    if (tok.find(':') != std::string_view::npos ||
        (tok.size() >= 5 && IsDec(tok[0]) && IsDec(tok[1]) && IsDec(tok[2]) && IsDec(tok[3]) &&
         tok[4] == '-')) {
      return Error("dates and times are not supported here");
    }
    std::string_view body = tok;
    bool negative = false;
    if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
      negative = body[0] == '-';
      body.remove_prefix(1);
    }
    if (body == "inf" || body == "nan") {
      const double v = body == "inf" ? std::numeric_limits<double>::infinity()
                                     : std::numeric_limits<double>::quiet_NaN();
      return TomlValue::Float(negative ? -v : v);
    }
    if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'o' || body[1] == 'b')) {
      if (tok[0] == '+' || tok[0] == '-') return Error("sign on a non-decimal integer");
      const int base = body[1] == 'x' ? 16 : body[1] == 'o' ? 8 : 2;
      std::string_view digits = body.substr(2);
      if (!ValidDigits(digits, base == 16 ? IsHex : base == 8 ? IsOct : IsBin)) {
        return Error("invalid number '" + std::string(tok.substr(0, 40)) + "'");
      }
      return ParseInteger(NoUnderscores(digits), base, tok);
    }
    const size_t dot = body.find('.');
    const size_t exp = body.find_first_of("eE");
    if (dot == std::string_view::npos && exp == std::string_view::npos) {
      if (!ValidDigits(body, IsDec) || (body.size() > 1 && body[0] == '0')) {
        return Error("invalid number '" + std::string(tok.substr(0, 40)) + "'");
      }
      return ParseInteger(std::string(negative ? "-" : "") + NoUnderscores(body), 10, tok);
    }
    // Float: int-part [ '.' digits ] [ e [+-] digits ].
    std::string_view int_part = body.substr(0, std::min(dot, exp));
    bool ok = ValidDigits(int_part, IsDec) && !(int_part.size() > 1 && int_part[0] == '0');
    if (ok && dot != std::string_view::npos) {
      if (exp != std::string_view::npos && exp < dot) {
        ok = false;
      } else {
        const size_t end = exp == std::string_view::npos ? body.size() : exp;
        ok = ValidDigits(body.substr(dot + 1, end - dot - 1), IsDec);
      }
    }
    if (ok && exp != std::string_view::npos) {
      std::string_view e = body.substr(exp + 1);
      if (!e.empty() && (e[0] == '+' || e[0] == '-')) e.remove_prefix(1);
      ok = ValidDigits(e, IsDec);
    }
    if (!ok) return Error("invalid number '" + std::string(tok.substr(0, 40)) + "'");
    const std::string clean = std::string(negative ? "-" : "") + NoUnderscores(body);
    errno = 0;
    char* end = nullptr;
    const double v = std::strtod(clean.c_str(), &end);
    if (end != clean.c_str() + clean.size()) {
      return Error("invalid number '" + std::string(tok.substr(0, 40)) + "'");
    }
    return TomlValue::Float(v);
  }

  StatusOr<TomlValue> ParseInteger(const std::string& digits, int base, std::string_view tok) {
    errno = 0;
    char* end = nullptr;
    const long long v = std::strtoll(digits.c_str(), &end, base);
    if (errno == ERANGE)
      return Error("integer out of range '" + std::string(tok.substr(0, 40)) + "'");
    if (end != digits.c_str() + digits.size()) {
      return Error("invalid number '" + std::string(tok.substr(0, 40)) + "'");
    }
    return TomlValue::Integer(v);
  }

  std::string_view s_;
  const TomlLimits& limits_;
  size_t pos_ = 0;
  size_t line_ = 1;
  size_t values_ = 0;
  TomlValue* current_ = nullptr;
};

StatusOr<TomlValue> ParseToml(std::string_view text, const TomlLimits& limits) {
  return TomlParser(text, limits).Parse();
}

}  // namespace gvisor_exporter
