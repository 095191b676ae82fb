#include "proxy/resume_buffer.h"

#include <gtest/gtest.h>

namespace blockyard::proxy {
namespace {

SharedMessage text(std::string payload) {
  return std::make_shared<const WsMessage>(WsMessage{false, std::move(payload)});
}

TEST(ReplayBuffer, NumbersMessagesFromOneAndKeepsThemUntilAcknowledged) {
  ReplayBuffer buffer(1024);
  EXPECT_EQ(buffer.push(text("a")), 1u);
  EXPECT_EQ(buffer.push(text("bb")), 2u);
  EXPECT_EQ(buffer.push(text("ccc")), 3u);
  EXPECT_EQ(buffer.last(), 3u);
  EXPECT_EQ(buffer.kept_bytes(), 6u);

  ASSERT_TRUE(buffer.acknowledge(2));
  EXPECT_EQ(buffer.acknowledged(), 2u);
  EXPECT_EQ(buffer.kept_bytes(), 3u);
  EXPECT_EQ(buffer.at(1), nullptr);
  EXPECT_EQ(buffer.at(2), nullptr);
  ASSERT_NE(buffer.at(3), nullptr);
  EXPECT_EQ(buffer.at(3)->payload, "ccc");
  EXPECT_EQ(buffer.at(4), nullptr);
  // Numbering continues after acknowledgements.
  EXPECT_EQ(buffer.push(text("d")), 4u);
  EXPECT_EQ(buffer.at(4)->payload, "d");
}

TEST(ReplayBuffer, RefusesAcknowledgementsOfUnsentMessages) {
  ReplayBuffer buffer(1024);
  buffer.push(text("a"));
  EXPECT_FALSE(buffer.acknowledge(2));
  EXPECT_EQ(buffer.acknowledged(), 0u);
  EXPECT_NE(buffer.at(1), nullptr);
  // A stale (lower) acknowledgement changes nothing.
  ASSERT_TRUE(buffer.acknowledge(1));
  ASSERT_TRUE(buffer.acknowledge(0));
  EXPECT_EQ(buffer.acknowledged(), 1u);
}

TEST(ReplayBuffer, ReplayAfterReconnectYieldsExactlyTheMissedMessagesInOrder) {
  ReplayBuffer buffer(1024);
  for (int i = 1; i <= 10; ++i) buffer.push(text("m" + std::to_string(i)));
  buffer.acknowledge(4);  // the peer acknowledged 4, then received up to 6 before the drop
  const std::uint64_t last_received = 6;
  ASSERT_TRUE(buffer.can_resume_from(last_received));
  ASSERT_TRUE(buffer.acknowledge(last_received));
  std::vector<std::string> replayed;
  for (auto seq = last_received + 1; seq <= buffer.last(); ++seq) {
    replayed.push_back(buffer.at(seq)->payload);
  }
  EXPECT_EQ(replayed, (std::vector<std::string>{"m7", "m8", "m9", "m10"}));
}

TEST(ReplayBuffer, CannotResumeAPeerThatClaimsTooLittleOrTooMuch) {
  ReplayBuffer buffer(1024);
  for (int i = 0; i < 5; ++i) buffer.push(text("x"));
  buffer.acknowledge(3);
  EXPECT_FALSE(buffer.can_resume_from(2));  // message 3 is gone
  EXPECT_TRUE(buffer.can_resume_from(3));
  EXPECT_TRUE(buffer.can_resume_from(5));
  EXPECT_FALSE(buffer.can_resume_from(6));  // never sent
}

TEST(ReplayBuffer, OverflowForbidsResumeEvenAfterTheBytesAreAcknowledged) {
  ReplayBuffer buffer(10);
  buffer.push(text("12345"));
  EXPECT_FALSE(buffer.over_limit());
  buffer.push(text("123456"));
  EXPECT_TRUE(buffer.over_limit());
  EXPECT_FALSE(buffer.can_resume_from(0));
  buffer.acknowledge(2);
  EXPECT_EQ(buffer.kept_bytes(), 0u);
  EXPECT_TRUE(buffer.over_limit());
  EXPECT_FALSE(buffer.can_resume_from(2));
}

TEST(InboundCounter, BatchesAcknowledgements) {
  InboundCounter counter(3);
  EXPECT_FALSE(counter.ack_pending());
  counter.on_message();
  counter.on_message();
  EXPECT_TRUE(counter.ack_pending());
  EXPECT_FALSE(counter.ack_urgent());
  counter.on_message();
  EXPECT_TRUE(counter.ack_urgent());
  EXPECT_EQ(counter.take_ack(), 3u);
  EXPECT_FALSE(counter.ack_pending());
  counter.on_message();
  EXPECT_EQ(counter.received(), 4u);
  EXPECT_EQ(counter.take_ack(), 4u);
}

}  // namespace
}  // namespace blockyard::proxy
