#include "logchannel/control_message.h"

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace ft::logchannel {
namespace {

using ::testing::HasSubstr;

TEST(ControlMessageTest, AResyncRequestRoundTrips) {
  const ResyncRequest request{.position = 0x0102030405060708,
                              .reason = "divergence at 12: exit differs"};
  const std::vector<uint8_t> bytes = EncodeControlMessage(request);
  EXPECT_EQ(bytes.size(), 4 + 8 + 2 + request.reason.size());
  absl::StatusOr<ControlMessage> back = DecodeControlMessage(bytes);
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(std::get<ResyncRequest>(*back), request);
}

TEST(ControlMessageTest, ALongReasonIsTruncatedToTheBound) {
  const ResyncRequest request{.position = 7, .reason = std::string(5000, 'x')};
  absl::StatusOr<ControlMessage> back =
      DecodeControlMessage(EncodeControlMessage(request));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(std::get<ResyncRequest>(*back).reason.size(),
            kMaxResyncReasonBytes);
}

TEST(ControlMessageTest, MalformedMessagesAreRefusedByName) {
  const std::vector<uint8_t> good =
      EncodeControlMessage(ResyncRequest{.position = 1, .reason = "why"});
  auto refused = [](std::vector<uint8_t> bytes) {
    absl::StatusOr<ControlMessage> m = DecodeControlMessage(bytes);
    EXPECT_FALSE(m.ok());
    EXPECT_TRUE(absl::IsDataLoss(m.status())) << m.status();
    return std::string(m.status().message());
  };
  EXPECT_THAT(refused({}), HasSubstr("magic"));
  std::vector<uint8_t> b = good;
  b[0] = 'X';
  EXPECT_THAT(refused(b), HasSubstr("magic"));
  b = good;
  b[2] = 2;
  EXPECT_THAT(refused(b), HasSubstr("version 2"));
  b = good;
  b[3] = 9;
  EXPECT_THAT(refused(b), HasSubstr("unknown kind 9"));
  b = good;
  b.pop_back();
  EXPECT_THAT(refused(b), HasSubstr("exactly"));
  b = good;
  b.push_back(0);
  EXPECT_THAT(refused(b), HasSubstr("exactly"));
  b.assign(good.begin(), good.begin() + 10);
  EXPECT_THAT(refused(b), HasSubstr("fixed part"));
  b = good;
  b[12] = 0xff;  // reason length 0x..ff: beyond the bound
  b[13] = 0xff;
  EXPECT_THAT(refused(b), HasSubstr("at most"));
}

}  // namespace
}  // namespace ft::logchannel
