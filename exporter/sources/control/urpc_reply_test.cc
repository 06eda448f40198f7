#include "exporter/sources/control/urpc_reply.h"

#include <gtest/gtest.h>

#include <string>

#include "exporter/testing/fixtures.h"

namespace gvisor_exporter {
namespace {

using State = JsonValueScanner::State;
using testing::ReadFixture;

const char* const kFixtures[] = {
    "exporter/sources/control/testdata/urpc-event-single.json",
    "exporter/sources/control/testdata/urpc-event-multi.json",
    "exporter/sources/control/testdata/urpc-usage.json",
    "exporter/sources/control/testdata/urpc-usage-full.json",
    "exporter/sources/control/testdata/urpc-event-string-arg-error.json",
    "exporter/sources/control/testdata/urpc-unknown-method.json",
};

TEST(JsonValueScannerTest, RealRepliesCompleteExactlyAtTheirEnd) {
  for (const char* path : kFixtures) {
    const std::string reply = ReadFixture(path);
    ASSERT_FALSE(reply.empty()) << path;
    JsonValueScanner whole;
    EXPECT_EQ(whole.Feed(reply), State::kComplete) << path;
    EXPECT_EQ(whole.end_offset(), reply.size());
    // Byte by byte, the value ends at the same place and not before.
    JsonValueScanner bytes;
    for (size_t i = 0; i < reply.size(); ++i) {
      State s = bytes.Feed(std::string_view(&reply[i], 1));
      ASSERT_EQ(s, i + 1 == reply.size() ? State::kComplete : State::kNeedMore) << path << i;
    }
    EXPECT_EQ(bytes.end_offset(), reply.size());
  }
}

TEST(JsonValueScannerTest, BracketsInsideStringsAndEscapesDoNotCount) {
  const std::string v = R"({"a":"}]\"{[\\","b":["\\\"}"]})";
  JsonValueScanner s;
  EXPECT_EQ(s.Feed(v + "  trailing"), State::kComplete);
  EXPECT_EQ(s.end_offset(), v.size());
}

TEST(JsonValueScannerTest, EscapeSplitAcrossChunks) {
  JsonValueScanner s;
  EXPECT_EQ(s.Feed(R"({"a":"x\)"), State::kNeedMore);
  EXPECT_EQ(s.Feed(R"("}")"), State::kNeedMore);  // the first quote was escaped
  EXPECT_EQ(s.Feed("}"), State::kComplete);
}

TEST(JsonValueScannerTest, LeadingWhitespaceThenArray) {
  JsonValueScanner s;
  EXPECT_EQ(s.Feed(" \n\t"), State::kNeedMore);
  EXPECT_EQ(s.Feed("[1,[2]]"), State::kComplete);
  EXPECT_EQ(s.end_offset(), 10u);
}

TEST(JsonValueScannerTest, ScalarsAndGarbageAreMalformed) {
  for (const char* text : {"garbage", "42", "\"str\"", "null", "}"}) {
    JsonValueScanner s;
    EXPECT_EQ(s.Feed(text), State::kMalformed) << text;
    EXPECT_EQ(s.Feed("{}"), State::kMalformed);  // final
  }
}

TEST(JsonValueScannerTest, DepthLimit) {
  JsonValueScanner s(4);
  EXPECT_EQ(s.Feed("[[[["), State::kNeedMore);
  EXPECT_EQ(s.Feed("["), State::kTooDeep);
}

TEST(ParseUrpcReplyTest, SuccessReturnsResult) {
  auto r = ParseUrpcReply(ReadFixture("exporter/sources/control/testdata/urpc-usage.json"));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)["Total"], 4042752);
}

TEST(ParseUrpcReplyTest, RealErrorRepliesAreRemote) {
  auto r =
      ParseUrpcReply(ReadFixture("exporter/sources/control/testdata/urpc-unknown-method.json"));
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().reason(), Reason::kRemote);
  EXPECT_EQ(r.status().message(), "unknown method");
}

TEST(ParseUrpcReplyTest, MissingResultIsNull) {
  auto r = ParseUrpcReply(R"({"success":true})");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->is_null());
}

TEST(ParseUrpcReplyTest, NotAnEnvelope) {
  for (const char* text : {"[]", R"({"success":"yes"})", R"({"result":1})", "{", "{} x"}) {
    auto r = ParseUrpcReply(text);
    ASSERT_FALSE(r.ok()) << text;
    EXPECT_EQ(r.status().reason(), Reason::kParse) << text;
  }
}

TEST(ParseUrpcReplyTest, NulBytesAreRejectedNotTreatedAsTheEnd) {
  EXPECT_EQ(ParseUrpcReply(std::string("{\"success\":true}\0junk", 21)).status().reason(),
            Reason::kParse);
}

TEST(ParseUrpcReplyTest, LongRemoteErrorIsTruncated) {
  nlohmann::json j = {{"success", false}, {"err", std::string(10000, 'e')}};
  auto r = ParseUrpcReply(j.dump());
  ASSERT_EQ(r.status().reason(), Reason::kRemote);
  EXPECT_LE(r.status().message().size(), 512u);
}

TEST(ParseUrpcReplyTest, EmptyRemoteErrorStillSaysSomething) {
  auto r = ParseUrpcReply(R"({"success":false,"err":""})");
  ASSERT_EQ(r.status().reason(), Reason::kRemote);
  EXPECT_FALSE(r.status().message().empty());
}

TEST(EncodeUrpcRequestTest, MatchesWhatRunscAccepts) {
  EXPECT_EQ(EncodeUrpcRequest("Usage.Collect", {{"Full", true}}),
            R"({"arg":{"Full":true},"method":"Usage.Collect"})");
  EXPECT_EQ(EncodeUrpcRequest("containerManager.Event", nlohmann::json("abc")),
            R"({"arg":"abc","method":"containerManager.Event"})");
}

TEST(EncodeUrpcRequestTest, InvalidUtf8DoesNotThrow) {
  std::string s = EncodeUrpcRequest("m\xff", nlohmann::json(std::string("\xc3")));
  EXPECT_NE(s.find("method"), std::string::npos);
}

}  // namespace
}  // namespace gvisor_exporter
