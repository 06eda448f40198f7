#include "exporter/common/text.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

namespace gvisor_exporter {
namespace {

const std::string R(kUtf8Replacement);

// What nlohmann's replacing dump makes of `s`: the behaviour ToValidUtf8
// promises to match, so /metrics, /sandboxes and the logs agree.
std::string NlohmannReplaced(const std::string& s) {
  const std::string quoted =
      nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return nlohmann::json::parse(quoted).get<std::string>();
}

TEST(IsValidUtf8Test, AcceptsWellFormed) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("plain ascii\n\t\x01\x7f"));
  EXPECT_TRUE(IsValidUtf8("\xC2\x80"));          // U+0080, smallest 2-byte
  EXPECT_TRUE(IsValidUtf8("\xDF\xBF"));          // U+07FF
  EXPECT_TRUE(IsValidUtf8("\xE0\xA0\x80"));      // U+0800, smallest 3-byte
  EXPECT_TRUE(IsValidUtf8("\xED\x9F\xBF"));      // U+D7FF, just below surrogates
  EXPECT_TRUE(IsValidUtf8("\xEE\x80\x80"));      // U+E000, just above
  EXPECT_TRUE(IsValidUtf8("\xEF\xBF\xBF"));      // U+FFFF
  EXPECT_TRUE(IsValidUtf8("\xF0\x90\x80\x80"));  // U+10000, smallest 4-byte
  EXPECT_TRUE(IsValidUtf8("\xF4\x8F\xBF\xBF"));  // U+10FFFF, largest
  EXPECT_TRUE(
      IsValidUtf8("p\xC3\xB6"
                  "d-\xE2\x9C\x93"));                // "pöd-✓"
  EXPECT_TRUE(IsValidUtf8(std::string("a\0b", 3)));  // NUL is a character
}

TEST(IsValidUtf8Test, RejectsOverlongEncodings) {
  EXPECT_FALSE(IsValidUtf8("\xC0\xAF"));  // '/' in 2 bytes
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xE0\x80\xAF"));      // '/' in 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xE0\x9F\xBF"));      // U+07FF in 3 bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x80\x80\xAF"));  // '/' in 4 bytes
  EXPECT_FALSE(IsValidUtf8("\xF0\x8F\xBF\xBF"));  // U+FFFF in 4 bytes
}

TEST(IsValidUtf8Test, RejectsSurrogates) {
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\x80"));              // U+D800
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));              // U+DFFF
  EXPECT_FALSE(IsValidUtf8("\xED\xA0\xBD\xED\xB2\xA9"));  // CESU-8 pair
}

TEST(IsValidUtf8Test, RejectsAboveU10FFFF) {
  EXPECT_FALSE(IsValidUtf8("\xF4\x90\x80\x80"));  // U+110000
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));
  EXPECT_FALSE(IsValidUtf8("\xF7\xBF\xBF\xBF"));
  EXPECT_FALSE(IsValidUtf8("\xF8\x88\x80\x80\x80"));  // old 5-byte form
  EXPECT_FALSE(IsValidUtf8("\xFE"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
}

TEST(IsValidUtf8Test, RejectsTruncatedAndStraySequences) {
  EXPECT_FALSE(IsValidUtf8("\xC3"));
  EXPECT_FALSE(IsValidUtf8("\xE2\x9C"));
  EXPECT_FALSE(IsValidUtf8("\xF0\x9F\x98"));
  EXPECT_FALSE(
      IsValidUtf8("a\xE2\x9C"
                  "b"));
  EXPECT_FALSE(IsValidUtf8("\x80"));          // continuation without a lead
  EXPECT_FALSE(IsValidUtf8("\xC3\xB6\xB6"));  // one continuation too many
}

TEST(ToValidUtf8Test, KeepsValidInput) {
  // "p\u00F6d" is "p\xC3\xB6d" (UTF-8), without a hex escape swallowing the d.
  for (const std::string s : {"", "abc", "p\u00F6d", "\xF4\x8F\xBF\xBF", "\x01\x7f"}) {
    EXPECT_EQ(ToValidUtf8(s), s);
  }
}

TEST(ToValidUtf8Test, ReplacesEachMaximalSubpartOnce) {
  EXPECT_EQ(ToValidUtf8("a\xFF"
                        "b"),
            "a" + R + "b");
  EXPECT_EQ(ToValidUtf8("\xFF\xFE"), R + R);
  // A truncated sequence is one subpart, whether at the end or not.
  EXPECT_EQ(ToValidUtf8("a\xE2\x9C"), "a" + R);
  EXPECT_EQ(ToValidUtf8("\xE2\x9C"
                        "b"),
            R + "b");
  EXPECT_EQ(ToValidUtf8("\xF0\x9F\x98"
                        "\xC3\xB6"),
            R + "\xC3\xB6");
  // The byte that ended a subpart is read again: here it starts a valid one.
  EXPECT_EQ(ToValidUtf8("\xE2\xE2\x9C\x93"), R + "\xE2\x9C\x93");
  // Overlong, surrogate and > U+10FFFF leads reject at the second byte, so
  // every byte is its own subpart.
  EXPECT_EQ(ToValidUtf8("\xC0\xAF"), R + R);
  EXPECT_EQ(ToValidUtf8("\xE0\x80\xAF"), R + R + R);
  EXPECT_EQ(ToValidUtf8("\xED\xA0\x80"), R + R + R);
  EXPECT_EQ(ToValidUtf8("\xF4\x90\x80\x80"), R + R + R + R);
  EXPECT_EQ(ToValidUtf8("\xF5\x80"), R + R);
}

TEST(ToValidUtf8Test, MatchesNlohmannReplace) {
  for (const std::string s : {"a\xFF"
                              "b",
                              "\xE2\x9C", "\xE2\xE2\x9C\x93", "\xC0\xAF", "\xED\xA0\x80",
                              "\xF4\x90\x80\x80", "\xF0\x9F\x98\x80\x80", "\x80\x80\xC3",
                              "x\xF0\x9F"
                              "y\xC3"}) {
    EXPECT_EQ(ToValidUtf8(s), NlohmannReplaced(s))
        << nlohmann::json(s).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  }
}

TEST(ToValidUtf8Test, KeepsControlCharacters) {
  // Escaping them is the output format's job (JSON, HTML, exposition).
  EXPECT_EQ(ToValidUtf8(std::string("a\0\n\x1b[31m", 8)), std::string("a\0\n\x1b[31m", 8));
}

TEST(Utf8PrefixTest, CutsAtACharacterBoundary) {
  const std::string s =
      "ab\xE2\x9C\x93"
      "cd";  // "ab✓cd"
  EXPECT_EQ(Utf8Prefix(s, 100), s);
  EXPECT_EQ(Utf8Prefix(s, s.size()), s);
  EXPECT_EQ(Utf8Prefix(s, 5), "ab\xE2\x9C\x93");
  EXPECT_EQ(Utf8Prefix(s, 4), "ab");
  EXPECT_EQ(Utf8Prefix(s, 3), "ab");
  EXPECT_EQ(Utf8Prefix(s, 2), "ab");
  EXPECT_EQ(Utf8Prefix(s, 0), "");
  EXPECT_EQ(Utf8Prefix("\xF0\x9F\x98\x80", 3), "");
}

TEST(Utf8PrefixTest, BacksOffAtMostThreeBytesOnInvalidInput) {
  const std::string stray(10, '\x80');
  EXPECT_EQ(Utf8Prefix(stray, 8), std::string(5, '\x80'));
}

TEST(PrintableAsciiTest, ReplacesEverythingButPrintableAscii) {
  EXPECT_EQ(PrintableAscii("ok: a-Z ~"), "ok: a-Z ~");
  EXPECT_EQ(PrintableAscii(std::string("a\nb\rc\0d\x1b[0m\x7f", 12)), "a?b?c?d?[0m?");
  EXPECT_EQ(PrintableAscii("p\xC3\xB6"
                           "d\xFF"),
            "p??d?");
  EXPECT_EQ(PrintableAscii("quote\"s"), "quote\"s");
}

TEST(PrintableAsciiTest, BoundsWithAMarker) {
  EXPECT_EQ(PrintableAscii("abcdef", 6), "abcdef");
  EXPECT_EQ(PrintableAscii("abcdefg", 6), "abcdef...");
  EXPECT_EQ(PrintableAscii("\n\n\n", 2), "??...");
}

TEST(QuotedForMessageTest, QuotesReplacesAndBounds) {
  EXPECT_EQ(QuotedForMessage("runsc"), "\"runsc\"");
  EXPECT_EQ(QuotedForMessage(""), "\"\"");
  EXPECT_EQ(QuotedForMessage("a\"b\nc\xC3\xB6"), "\"a?b?c??\"");
  EXPECT_EQ(QuotedForMessage(std::string(80, 'x')), "\"" + std::string(80, 'x') + "\"");
  EXPECT_EQ(QuotedForMessage(std::string(81, 'x')), "\"" + std::string(80, 'x') + "...\"");
  EXPECT_EQ(QuotedForMessage("abcd", 2), "\"ab...\"");
}

TEST(ReplaceAsciiControlsTest, KeepsNonAsciiBytes) {
  EXPECT_EQ(ReplaceAsciiControls("ok \"quoted\""), "ok \"quoted\"");
  EXPECT_EQ(ReplaceAsciiControls("a\tb\nc\x1b[0m\x7f"), "a?b?c?[0m?");
  EXPECT_EQ(ReplaceAsciiControls("/var/run/p\xC3\xB6"
                                 "d\xFF"),
            "/var/run/p\xC3\xB6"
            "d\xFF");
}

}  // namespace
}  // namespace gvisor_exporter
