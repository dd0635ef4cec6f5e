// Tests for logchannel/crypto.h: HKDF against RFC 5869, AES-256-GCM round
// trips and every kind of tampering, and the helpers.
#include "logchannel/crypto.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "gtest/gtest.h"

namespace ft::logchannel::crypto {
namespace {

std::vector<uint8_t> Hex(const std::string& hex) {
  const std::string bytes = absl::HexStringToBytes(hex);
  return {bytes.begin(), bytes.end()};
}

TEST(CryptoTest, HkdfMatchesRfc5869TestCase1) {
  const std::vector<uint8_t> ikm(22, 0x0b);
  const std::vector<uint8_t> salt = Hex("000102030405060708090a0b0c");
  const std::vector<uint8_t> info = Hex("f0f1f2f3f4f5f6f7f8f9");
  absl::StatusOr<std::vector<uint8_t>> okm = HkdfSha256(ikm, salt, info, 42);
  ASSERT_TRUE(okm.ok()) << okm.status();
  EXPECT_EQ(*okm, Hex("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56"
                      "ecc4c5bf34007208d5b887185865"));
}

TEST(CryptoTest, Sha256OfAbc) {
  const std::string abc = "abc";
  const Digest d = Sha256({reinterpret_cast<const uint8_t*>(abc.data()), 3});
  EXPECT_EQ(std::vector<uint8_t>(d.begin(), d.end()),
            Hex("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015"
                "ad"));
}

TEST(CryptoTest, RandomBytesDiffer) {
  std::array<uint8_t, 32> a{}, b{};
  ASSERT_TRUE(RandomBytes(a).ok());
  ASSERT_TRUE(RandomBytes(b).ok());
  EXPECT_NE(a, b);
}

TEST(CryptoTest, ConstantTimeEqual) {
  const std::vector<uint8_t> a = {1, 2, 3};
  EXPECT_TRUE(ConstantTimeEqual(a, std::vector<uint8_t>{1, 2, 3}));
  EXPECT_FALSE(ConstantTimeEqual(a, std::vector<uint8_t>{1, 2, 4}));
  EXPECT_FALSE(ConstantTimeEqual(a, std::vector<uint8_t>{1, 2}));
}

class AesGcmTest : public ::testing::Test {
 protected:
  void SetUp() override {
    key_.fill(0x42);
    nonce_.fill(0);
    nonce_[11] = 1;
    auto s = AesGcm::Create(key_, AesGcm::Mode::kSeal);
    auto o = AesGcm::Create(key_, AesGcm::Mode::kOpen);
    ASSERT_TRUE(s.ok() && o.ok());
    sealer_.emplace(std::move(*s));
    opener_.emplace(std::move(*o));
  }

  Key key_;
  GcmNonce nonce_;
  std::optional<AesGcm> sealer_;
  std::optional<AesGcm> opener_;
  const std::vector<uint8_t> aad_ = {9, 9, 9};
  const std::vector<uint8_t> plain_ = {'l', 'o', 'g', ' ', 'e',
                                       'n', 't', 'r', 'y'};
};

TEST_F(AesGcmTest, RoundTripHidesThePlaintext) {
  std::vector<uint8_t> sealed;
  ASSERT_TRUE(sealer_->Seal(nonce_, aad_, plain_, sealed).ok());
  ASSERT_EQ(sealed.size(), plain_.size() + kGcmTagBytes);
  EXPECT_NE(std::vector<uint8_t>(sealed.begin(), sealed.begin() + 9), plain_);
  std::vector<uint8_t> out;
  ASSERT_TRUE(opener_->Open(nonce_, aad_, sealed, out).ok());
  EXPECT_EQ(out, plain_);
  // The key schedule is reused: a second record under another nonce.
  GcmNonce n2 = nonce_;
  n2[11] = 2;
  std::vector<uint8_t> sealed2;
  ASSERT_TRUE(sealer_->Seal(n2, aad_, plain_, sealed2).ok());
  EXPECT_NE(sealed, sealed2);
  out.clear();
  ASSERT_TRUE(opener_->Open(n2, aad_, sealed2, out).ok());
  EXPECT_EQ(out, plain_);
}

TEST_F(AesGcmTest, AnyTamperingFailsAndYieldsNothing) {
  std::vector<uint8_t> sealed;
  ASSERT_TRUE(sealer_->Seal(nonce_, aad_, plain_, sealed).ok());
  for (size_t i = 0; i < sealed.size(); ++i) {
    std::vector<uint8_t> bad = sealed;
    bad[i] ^= 0x01;
    std::vector<uint8_t> out = {7};
    absl::Status s = opener_->Open(nonce_, aad_, bad, out);
    EXPECT_TRUE(absl::IsDataLoss(s)) << "byte " << i << ": " << s;
    EXPECT_EQ(out, std::vector<uint8_t>{7}) << "byte " << i;
  }
  std::vector<uint8_t> out;
  std::vector<uint8_t> other_aad = aad_;
  other_aad[0] = 8;
  EXPECT_TRUE(absl::IsDataLoss(opener_->Open(nonce_, other_aad, sealed, out)));
  GcmNonce other_nonce = nonce_;
  other_nonce[0] = 1;
  EXPECT_TRUE(absl::IsDataLoss(opener_->Open(other_nonce, aad_, sealed, out)));
  EXPECT_TRUE(absl::IsDataLoss(
      opener_->Open(nonce_, aad_, std::span(sealed).first(15), out)));
  // And the opener still works afterwards.
  ASSERT_TRUE(opener_->Open(nonce_, aad_, sealed, out).ok());
  EXPECT_EQ(out, plain_);
}

TEST_F(AesGcmTest, AuthenticateOnly) {
  std::vector<uint8_t> tag;
  ASSERT_TRUE(sealer_->Seal(nonce_, plain_, {}, tag).ok());
  EXPECT_EQ(tag.size(), kGcmTagBytes);
  std::vector<uint8_t> out;
  EXPECT_TRUE(opener_->Open(nonce_, plain_, tag, out).ok());
  EXPECT_TRUE(out.empty());
  std::vector<uint8_t> changed = plain_;
  changed[0] ^= 1;
  EXPECT_TRUE(absl::IsDataLoss(opener_->Open(nonce_, changed, tag, out)));
}

}  // namespace
}  // namespace ft::logchannel::crypto
