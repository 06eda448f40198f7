#include "exporter/collectors/exposition_body.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <random>

#include "exporter/collectors/testing_gzip.h"

namespace gvisor_exporter {
namespace {

std::string Join(const BodyPieces& pieces) {
  std::string out;
  for (const auto& p : pieces) out += *p;
  return out;
}

// Exposition-like text: repetitive lines with varying numbers, `bytes` long.
std::string SampleText(size_t bytes, unsigned seed) {
  std::mt19937 rng(seed);
  std::string out;
  while (out.size() < bytes) {
    out += "gvisor_sandbox_syscalls_total{namespace=\"ns" + std::to_string(rng() % 50) +
           "\",pod=\"p" + std::to_string(rng() % 1000) + "\",syscall=\"read\"} " +
           std::to_string(rng()) + "\n";
  }
  out.resize(bytes);
  return out;
}

std::string MustGunzip(const std::string& body) {
  std::string out, why;
  EXPECT_TRUE(GunzipOneMember(body, &out, &why)) << why;
  return out;
}

TEST(ExpositionBodyTest, IdentitySharesThePiecesItIsGiven) {
  auto cached = std::make_shared<const std::string>("cached text\n");
  ExpositionBody body(false);
  body.AddShared(cached);
  body.AddText("health\n");
  body.AddText("");
  const BodyPieces pieces = body.Finish();
  ASSERT_EQ(pieces.size(), 2u);
  EXPECT_EQ(pieces[0].get(), cached.get()) << "the cached text is not copied";
  EXPECT_EQ(Join(pieces), "cached text\nhealth\n");
}

TEST(ExpositionBodyTest, GzipIsOneMemberOfThePrecompressedTextAndTheRest) {
  const std::string text = SampleText(300000, 1), health = SampleText(5000, 2);
  auto shared = std::make_shared<const std::string>(text);
  auto deflated = std::make_shared<const DeflatedText>(DeflateText(text, 1));
  EXPECT_EQ(deflated->text_size, text.size());
  ExpositionBody body(true);
  body.AddShared(shared, deflated);
  body.AddText(health);
  const BodyPieces pieces = body.Finish();
  ASSERT_EQ(pieces.size(), 3u);  // header, cached deflate data, health + trailer
  EXPECT_EQ(pieces[0]->size(), 10u);
  EXPECT_EQ(pieces[1].get(), &deflated->data) << "the compressed text is not copied";
  EXPECT_EQ(MustGunzip(Join(pieces)), text + health);
}

TEST(ExpositionBodyTest, AnyMixOfPiecesIsOneValidMember) {
  const std::string a = SampleText(70000, 3), b = SampleText(100, 4), c = SampleText(40000, 5);
  auto da = std::make_shared<const DeflatedText>(DeflateText(a, 6));
  auto dc = std::make_shared<const DeflatedText>(DeflateText(c, 9));
  auto sa = std::make_shared<const std::string>(a), sc = std::make_shared<const std::string>(c);
  {  // text, compressed, text, compressed (last), nothing after
    ExpositionBody body(true);
    body.AddText(b);
    body.AddShared(sa, da);
    body.AddText(b);
    body.AddShared(sc, dc);
    EXPECT_EQ(MustGunzip(Join(body.Finish())), b + a + b + c);
  }
  {  // shared without its compressed form: compressed with the texts around it
    ExpositionBody body(true);
    body.AddShared(sa);
    body.AddText(b);
    body.AddShared(sc, dc);
    body.AddShared(sa, da);
    EXPECT_EQ(MustGunzip(Join(body.Finish())), a + b + c + a);
  }
  {  // the same compressed text twice in a row
    ExpositionBody body(true);
    body.AddShared(sa, da);
    body.AddShared(sa, da);
    EXPECT_EQ(MustGunzip(Join(body.Finish())), a + a);
  }
}

TEST(ExpositionBodyTest, EmptyPiecesAndEmptyBodies) {
  auto empty = std::make_shared<const std::string>();
  auto dempty = std::make_shared<const DeflatedText>(DeflateText("", 1));
  EXPECT_EQ(dempty->data, "");
  EXPECT_EQ(dempty->text_size, 0u);
  EXPECT_EQ(dempty->crc, 0u);
  {
    ExpositionBody body(true);
    const std::string gz = Join(body.Finish());
    EXPECT_EQ(MustGunzip(gz), "");
  }
  {
    ExpositionBody body(true);
    body.AddShared(empty, dempty);
    body.AddText("x\n");
    EXPECT_EQ(MustGunzip(Join(body.Finish())), "x\n");
  }
  {
    ExpositionBody body(true);
    body.AddShared(empty, dempty);
    EXPECT_EQ(MustGunzip(Join(body.Finish())), "");
  }
  ExpositionBody identity(false);
  identity.AddShared(empty);
  EXPECT_TRUE(identity.Finish().empty());
}

TEST(ExpositionBodyTest, PrecompressedTextIsByteAlignedAndNotFinal) {
  // A sync flush ends with an empty stored block: 00 00 ff ff.
  const DeflatedText d = DeflateText(SampleText(10000, 6), 1);
  ASSERT_GE(d.data.size(), 4u);
  EXPECT_EQ(d.data.substr(d.data.size() - 4), std::string("\x00\x00\xff\xff", 4));
  EXPECT_EQ(d.crc, crc32(0, reinterpret_cast<const Bytef*>(SampleText(10000, 6).data()), 10000));
}

TEST(ExpositionBodyTest, LargeIncompressibleTextGrowsTheOutput) {
  std::mt19937 rng(7);
  std::string noise(1 << 20, '\0');
  for (char& ch : noise) ch = static_cast<char>(rng());
  auto d = std::make_shared<const DeflatedText>(DeflateText(noise, 1));
  EXPECT_GT(d->data.size(), noise.size());  // stored blocks: a little larger
  ExpositionBody body(true);
  body.AddShared(std::make_shared<const std::string>(noise), d);
  body.AddText(noise);
  EXPECT_EQ(MustGunzip(Join(body.Finish())), noise + noise);
}

TEST(ExpositionBodyTest, TheCheckerRejectsWhatIsNotExactlyOneMember) {
  ExpositionBody body(true);
  body.AddText("abc\n");
  const std::string gz = Join(body.Finish());
  std::string out, why;
  EXPECT_TRUE(GunzipOneMember(gz, &out, &why)) << why;
  EXPECT_FALSE(GunzipOneMember(gz + gz, &out, &why));  // two members
  EXPECT_THAT(why, ::testing::HasSubstr("after the end"));
  EXPECT_FALSE(GunzipOneMember(gz.substr(0, gz.size() - 1), &out, &why));  // truncated
  std::string bad_crc = gz;
  bad_crc[bad_crc.size() - 8] ^= 1;
  EXPECT_FALSE(GunzipOneMember(bad_crc, &out, &why));
  // A sync-flushed stream alone never ends the member.
  const DeflatedText d = DeflateText("abc\n", 1);
  EXPECT_FALSE(GunzipOneMember(gz.substr(0, 10) + d.data + gz.substr(gz.size() - 8), &out, &why));
}

}  // namespace
}  // namespace gvisor_exporter
