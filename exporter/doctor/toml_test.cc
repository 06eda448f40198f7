#include "exporter/doctor/toml.h"

#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <utility>

#include "exporter/testing/temp_dir.h"

namespace gvisor_exporter {
namespace {

using testing::ReadFixture;

constexpr char kCri[] = "io.containerd.grpc.v1.cri";

TomlValue MustParse(const std::string& text) {
  StatusOr<TomlValue> v = ParseToml(text);
  EXPECT_TRUE(v.ok()) << v.status().ToString() << "\n" << text;
  return v.ok() ? std::move(v).value() : TomlValue();
}

TEST(TomlTest, OurContainerdConfig) {
  TomlValue doc = MustParse(ReadFixture("deploy/containerd/config.toml"));
  EXPECT_EQ(doc.Find("version")->as_integer(), 2);
  const TomlValue* runtimes = doc.FindPath({"plugins", kCri, "containerd", "runtimes"});
  ASSERT_NE(runtimes, nullptr);
  ASSERT_EQ(runtimes->table().size(), 3u);
  for (const char* h : {"runsc", "runsc-kvm", "runsc-ptrace"}) {
    const TomlValue* rt = runtimes->Find(h);
    ASSERT_NE(rt, nullptr) << h;
    EXPECT_EQ(rt->GetString("runtime_type"), "io.containerd.runsc.v1");
    ASSERT_TRUE(rt->Find("pod_annotations")->is_array());
    EXPECT_EQ(rt->Find("pod_annotations")->array()[1].as_string(), "gvisor-exporter.io/*");
    EXPECT_EQ(rt->FindPath({"options", "TypeUrl"})->as_string(), "io.containerd.runsc.v1.options");
  }
  EXPECT_EQ(runtimes->FindPath({"runsc-kvm", "options", "ConfigPath"})->as_string(),
            "/etc/containerd/runsc-kvm.toml");
}

TEST(TomlTest, OurRunscTomls) {
  const std::pair<const char*, const char*> files[] = {{"runsc.toml", "systrap"},
                                                       {"runsc-kvm.toml", "kvm"},
                                                       {"runsc-ptrace.toml", "ptrace"},
                                                       {"runsc-network-host.toml", "systrap"},
                                                       {"runsc-syscalls.toml", "systrap"}};
  for (const auto& [file, platform] : files) {
    TomlValue doc = MustParse(ReadFixture(std::string("deploy/containerd/") + file));
    EXPECT_EQ(doc.GetString("binary_name"), "/usr/local/bin/runsc") << file;
    EXPECT_EQ(doc.GetString("root"), "/run/containerd/runsc") << file;
    EXPECT_EQ(doc.FindPath({"runsc_config", "platform"})->as_string(), platform) << file;
  }
  TomlValue syscalls = MustParse(ReadFixture("deploy/containerd/runsc-syscalls.toml"));
  EXPECT_EQ(syscalls.FindPath({"runsc_config", "pod-init-config"})->as_string(),
            "/etc/gvisor-exporter/pod-init.json");
}

// The config tests/e2e/containerd_env.py generates (a real containerd 1.6
// runs it): runc + a gVisor handler through a wrapper.
TEST(TomlTest, ContainerdEnvConfig) {
  TomlValue doc = MustParse(ReadFixture("exporter/doctor/testdata/containerd_env_config.toml"));
  EXPECT_EQ(doc.GetString("root"), "/tmp/gve-ctrd-example/root");
  EXPECT_EQ(doc.Find("disabled_plugins")->array().size(), 6u);
  EXPECT_EQ(doc.FindPath({"grpc", "address"})->as_string(),
            "/tmp/gve-ctrd-example/containerd.sock");
  EXPECT_EQ(doc.FindPath({"debug", "address"})->as_string(), "");
  EXPECT_TRUE(doc.FindPath({"plugins", kCri, "restrict_oom_score_adj"})->as_bool());
  const TomlValue* runsc = doc.FindPath({"plugins", kCri, "containerd", "runtimes", "runsc"});
  ASSERT_NE(runsc, nullptr);
  EXPECT_EQ(runsc->GetString("runtime_type"), "io.containerd.runc.v2");
  EXPECT_EQ(runsc->FindPath({"options", "BinaryName"})->as_string(),
            "/tmp/gve-ctrd-example/bin/runsc-wrapper");
  EXPECT_EQ(doc.FindPath({"plugins", kCri, "containerd", "default_runtime_name"})->as_string(),
            "runc");
}

TEST(TomlTest, Values) {
  TomlValue doc = MustParse(
      "# comment\n"
      "s = \"a\\tb\\\"c\\\\ \\u00e9 \\U0001F600\"  # trailing\n"
      "l = 'C:\\path\\'\n"
      "ml = \"\"\"\nline1\nline2 \\\n    joined\"\"\"\n"
      "mll = '''\nraw \\n '''\n"
      "i = -1_000\n"
      "h = 0xff\n"
      "o = 0o17\n"
      "b = 0b101\n"
      "f = 6.5e-1\n"
      "inf = -inf\n"
      "t = true\n"
      "arr = [ 1, [2, 3], \"x\", # comment\n  { k = 'v' }, ]\n"
      "inline = { a.b = 1, c = \"d\" }\n"
      "dotted.key = \"x\"\n"
      "\"quoted key\" = 1\n"
      "[a.\"b.c\".d]\n"
      "e = 1\n"
      "[[arr2]]\n"
      "n = 1\n"
      "[[arr2]]\n"
      "n = 2\n"
      "[arr2.sub]\n"
      "m = 3\n");
  EXPECT_EQ(doc.GetString("s"), "a\tb\"c\\ \xc3\xa9 \xf0\x9f\x98\x80");
  EXPECT_EQ(doc.GetString("l"), "C:\\path\\");
  EXPECT_EQ(doc.GetString("ml"), "line1\nline2 joined");
  EXPECT_EQ(doc.GetString("mll"), "raw \\n ");
  EXPECT_EQ(doc.Find("i")->as_integer(), -1000);
  EXPECT_EQ(doc.Find("h")->as_integer(), 255);
  EXPECT_EQ(doc.Find("o")->as_integer(), 15);
  EXPECT_EQ(doc.Find("b")->as_integer(), 5);
  EXPECT_DOUBLE_EQ(doc.Find("f")->as_float(), 0.65);
  EXPECT_TRUE(std::isinf(doc.Find("inf")->as_float()));
  EXPECT_TRUE(doc.Find("t")->as_bool());
  EXPECT_EQ(doc.Find("arr")->ToJson().dump(), R"([1,[2,3],"x",{"k":"v"}])");
  EXPECT_EQ(doc.Find("inline")->ToJson().dump(), R"({"a":{"b":1},"c":"d"})");
  EXPECT_EQ(doc.FindPath({"dotted", "key"})->as_string(), "x");
  EXPECT_EQ(doc.Find("quoted key")->as_integer(), 1);
  EXPECT_EQ(doc.FindPath({"a", "b.c", "d", "e"})->as_integer(), 1);
  ASSERT_EQ(doc.Find("arr2")->array().size(), 2u);
  EXPECT_EQ(doc.Find("arr2")->array()[1].ToJson().dump(), R"({"n":2,"sub":{"m":3}})");
  EXPECT_EQ(doc.Find("inf")->ToJson(), "-inf");
}

// toml++ 3.3.0 hit __builtin_unreachable on these (toml.cc patches it); the
// ASan/UBSan build and toml_fuzz would flag a regression.
TEST(TomlTest, NonAsciiAfterLineEndingBackslash) {
  TomlValue doc = MustParse("s = \"\"\"\\\n\xc2\xa7\"\"\"\n");
  EXPECT_EQ(doc.GetString("s"), "\xc2\xa7");
  doc = MustParse("x = \"\"\"\nml\\\n  \xcf\x96nf\"\"\"\n");
  EXPECT_EQ(doc.GetString("x"), "ml\xcf\x96nf");
  EXPECT_FALSE(ParseToml("\xcc\xaa").ok());
}

TEST(TomlTest, CrlfAndEmpty) {
  EXPECT_TRUE(MustParse("").table().empty());
  TomlValue doc = MustParse("a = 1\r\n[t]\r\nb = 'x' # c\r\n");
  EXPECT_EQ(doc.FindPath({"t", "b"})->as_string(), "x");
}

TEST(TomlTest, DatesAndTimesAreValues) {
  // containerd accepts these (TOML 1.0), so the doctor must too; reports show
  // them as RFC 3339 text.
  TomlValue doc = MustParse(
      "odt = 1979-05-27T07:32:00Z\n"
      "odt_frac = 1979-05-27T00:32:00.999999-07:00\n"
      "odt_space = 1979-05-27 07:32:00+05:30\n"
      "ldt = 1979-05-27T07:32:00\n"
      "ld = 1979-05-27\n"
      "lt = 07:32:00\n"
      "lt_frac = 00:32:00.5\n"
      "in_array = [1979-05-27, 07:32:00]\n");
  const std::pair<const char*, const char*> want[] = {
      {"odt", "1979-05-27T07:32:00Z"},
      {"odt_frac", "1979-05-27T00:32:00.999999-07:00"},
      {"odt_space", "1979-05-27T07:32:00+05:30"},
      {"ldt", "1979-05-27T07:32:00"},
      {"ld", "1979-05-27"},
      {"lt", "07:32:00"},
      {"lt_frac", "00:32:00.5"},
  };
  for (const auto& [key, text] : want) {
    const TomlValue* v = doc.Find(key);
    ASSERT_NE(v, nullptr) << key;
    EXPECT_EQ(v->type(), TomlValue::Type::kDateTime) << key;
    EXPECT_EQ(v->as_string(), text) << key;
    EXPECT_EQ(v->ToJson(), text) << key;
  }
  // Not a string: a string-typed field holding a date is a decode error in Go.
  EXPECT_FALSE(doc.Find("ld")->is_string());
  EXPECT_EQ(doc.GetString("ld", "fallback"), "fallback");
  EXPECT_EQ(doc.Find("in_array")->ToJson().dump(), R"(["1979-05-27","07:32:00"])");
}

struct BadCase {
  const char* text;
  const char* where;  // the message's prefix
  const char* what;   // a substring of the rest
};

// Messages are toml++'s; each names the line and column where it stopped.
TEST(TomlTest, MalformedInputsNameTheLine) {
  const BadCase cases[] = {
      {"a = 1\nb = \n", "line 2, column 5: ", "expected value"},
      {"a = 1\na = 2\n", "line 2, column 5: ", "cannot redefine existing integer 'a'"},
      {"[t]\nx = 1\n[t]\n", "line 3, column 1: ", "cannot redefine existing table 't'"},
      {"a = \"unterminated\n", "line 1, column 18: ", "unescaped control characters"},
      {"\n\ns = \"bad \\q escape\"\n", "line 3, column 11: ", "unknown escape sequence '\\q'"},
      {"[plugins.\"io.containerd.grpc.v1.cri\"\nx = 1\n", "line 1, column 37: ", "expected ']'"},
      {"a = 1 b = 2\n", "line 1, column 7: ", "expected a comment or whitespace, saw 'b'"},
      {"a = [1, 2\nb = 3\n", "line 2, column 1: ", "expected comma or closing ']'"},
      {"d = 1979-13-27\n", "line 1, column 12: ", "expected month between 1 and 12"},
      {"t = 25:00:00\n", "line 1, column 7: ", "expected hour between"},
      {"x = 01\n", "line 1, column 7: ", "leading zeroes are prohibited"},
      {"x = 1__0\n", "line 1, column 7: ", "underscores may only follow digits"},
      {"x = 99999999999999999999\n", "line 1, column 25: ", "not representable in 64 bits"},
      {"t = { a = 1,\n b = 2 }\n", "line 1, column 13: ", "expected key or closing '}'"},
      {"t = {a = 1}\n[t]\n", "line 2, column 1: ", "cannot redefine existing table 't'"},
      {"t = {a = 1}\n[t.b]\n",
       "line 2, column 7: ", "cannot insert 't.b' into existing inline table"},
      {"a.b = 1\n[a]\n", "line 2, column 1: ", "cannot redefine existing table 'a'"},
      {"a = 1\na.b = 2\n",
       "line 2, column 1: ", "cannot redefine existing integer as dotted key-value pair"},
      {"[[a]]\n[a]\n", "line 2, column 1: ", "cannot redefine existing array 'a' as table"},
      {"a = 1\n[[a]]\n",
       "line 2, column 1: ", "cannot redefine existing integer 'a' as array-of-tables"},
      {"x = \"a\x01b\"\n", "line 1, column 7: ", "unescaped control characters"},
      {"ok = 1\n# a \x02 comment\n", "line 2, column 5: ", "control characters other than TAB"},
      {"a = 1\nb = \"\xff\"\n", "line 2, column 5: ", "invalid utf-8"},
      {"a = 1\nb = \"\xed\xa0\x80\"\n", "line 2, column 5: ", "invalid utf-8"},  // a surrogate
      {"s = \"\\ud800\"\n", "line 1, column 12: ", "unicode surrogates"},
      {"= 1\n", "line 1, column 1: ", "expected keys, tables, whitespace or comments, saw '='"},
      {"a = truex\n", "line 1, column 9: ", "expected value-terminator, saw 'x'"},
      {"m = '''never closed\n", "line 1, column 21: ", "encountered end-of-file"},
      {"[a]]\n", "line 1, column 4: ", "expected a comment or whitespace, saw ']'"},
  };
  for (const BadCase& c : cases) {
    StatusOr<TomlValue> v = ParseToml(c.text);
    ASSERT_FALSE(v.ok()) << c.text;
    EXPECT_EQ(v.status().reason(), Reason::kParse) << c.text;
    const std::string got = v.status().message();
    EXPECT_EQ(got.rfind(c.where, 0), 0u) << "input: " << c.text << "\ngot: " << got;
    EXPECT_NE(got.find(c.what), std::string::npos) << "input: " << c.text << "\ngot: " << got;
  }
}

TEST(TomlTest, ErrorNamesLineAndColumn) {
  StatusOr<TomlValue> v = ParseToml("a = 1\nb = 2\nc = [1, 2,\n     3 4]\n");
  ASSERT_FALSE(v.ok());
  EXPECT_EQ(v.status().message(),
            "line 4, column 8: Error while parsing array: expected comma or closing ']', saw '4'");
}

TEST(TomlTest, DuplicatesAreErrors) {
  for (const char* text : {"a = 1\na = 2\n", "a = 1\n\"a\" = 2\n", "t = {a = 1, a = 2}\n",
                           "[t]\nx = 1\n[t]\n", "[t]\n[t]\n", "[t.u]\n[t]\n[t.u]\n"}) {
    StatusOr<TomlValue> v = ParseToml(text);
    ASSERT_FALSE(v.ok()) << text;
    EXPECT_EQ(v.status().reason(), Reason::kParse) << text;
    EXPECT_NE(v.status().message().find("line "), std::string::npos) << v.status().message();
  }
}

TEST(TomlTest, Limits) {
  TomlLimits limits;
  limits.max_input_bytes = 16;
  StatusOr<TomlValue> big = ParseToml("a = \"0123456789abcdef\"", limits);
  EXPECT_EQ(big.status().reason(), Reason::kTooLarge);
  EXPECT_NE(big.status().message().find("16-byte limit"), std::string::npos);
  EXPECT_TRUE(ParseToml("a = \"0123456789\"", limits).ok());  // 16 bytes exactly

  // Nested arrays and inline tables: toml++'s own cap (TOML_MAX_NESTED_VALUES).
  std::string deep = "a = " + std::string(100, '[') + std::string(100, ']') + "\n";
  StatusOr<TomlValue> v = ParseToml(deep);
  EXPECT_EQ(v.status().reason(), Reason::kParse);
  EXPECT_NE(v.status().message().find("nested value depth of 32"), std::string::npos)
      << v.status().message();

  std::string deep_inline = "a = ";
  for (int i = 0; i < 40; ++i) deep_inline += "{b = ";
  deep_inline += "1" + std::string(40, '}') + "\n";
  EXPECT_EQ(ParseToml(deep_inline).status().reason(), Reason::kParse);

  // Dotted keys and [table.headers]: our cap, the dots on one line.
  std::string long_key = "x = 1\n[" + std::string(40, 'a');
  for (int i = 0; i < 80; ++i) long_key += ".a";
  StatusOr<TomlValue> k = ParseToml(long_key + "]\n");
  EXPECT_EQ(k.status().reason(), Reason::kTooLarge);
  EXPECT_NE(k.status().message().find("line 2 has more than 64 dots"), std::string::npos)
      << k.status().message();
  std::string ok_key = "[a";
  for (int i = 0; i < 60; ++i) ok_key += ".a";
  EXPECT_TRUE(ParseToml(ok_key + "]\n").ok());
}

// The deepest tree the bounds allow (~1,100 levels: a 65-component header,
// then arrays of inline tables with 64-component keys, one per line, up to
// the nesting cap) parses, converts and renders without exhausting the stack
// (the ASan build runs this too).
TEST(TomlTest, DeepestAllowedTree) {
  std::string key = "a";
  for (int i = 0; i < 63; ++i) key += ".a";
  const auto document = [&](int levels) {
    std::string text = "[" + key + ".a]\n" + key + " = [\n";
    for (int i = 0; i < levels; ++i) text += "{" + key + " = [\n";
    text += "1\n";
    for (int i = 0; i < levels; ++i) text += "]}\n";
    return text + "]\n";
  };
  // 1 + 2 * 15 + 1 nested values: exactly the cap of 32.
  StatusOr<TomlValue> doc = ParseToml(document(15));
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_NE(doc->ToJson().dump().find("[1]"), std::string::npos);
  StatusOr<TomlValue> deeper = ParseToml(document(16));
  EXPECT_NE(deeper.status().message().find("nested value depth"), std::string::npos)
      << deeper.status().ToString();
}

TEST(TomlTest, LookupsOnWrongTypes) {
  TomlValue doc = MustParse("a = 1\n");
  EXPECT_EQ(doc.Find("a")->Find("x"), nullptr);
  EXPECT_EQ(doc.FindPath({"a", "b"}), nullptr);
  EXPECT_EQ(doc.GetString("a", "fallback"), "fallback");
  EXPECT_EQ(doc.GetString("missing"), "");
}

}  // namespace
}  // namespace gvisor_exporter
