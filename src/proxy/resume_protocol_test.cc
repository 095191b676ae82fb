#include "proxy/resume_protocol.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace blockyard::proxy {
namespace {

TEST(ResumeQuery, PlainWebSocketHasNone) {
  EXPECT_FALSE(parse_resume_query(""));
  EXPECT_FALSE(parse_resume_query("w=abc&s=def"));
  EXPECT_FALSE(parse_resume_query("blockyard_resumex=1"));
}

TEST(ResumeQuery, NewSessionKeepsTheOtherParametersForTheWorker) {
  auto q = parse_resume_query("w=1&blockyard_resume=new&s=2");
  ASSERT_TRUE(q);
  EXPECT_TRUE(q->fresh);
  EXPECT_TRUE(q->token.empty());
  EXPECT_EQ(q->other_query, "w=1&s=2");
}

TEST(ResumeQuery, ResumeCarriesTokenAndLast) {
  auto q = parse_resume_query("blockyard_resume=AbC123&last=42");
  ASSERT_TRUE(q);
  EXPECT_FALSE(q->fresh);
  EXPECT_EQ(q->token, "AbC123");
  EXPECT_EQ(q->last, 42u);
  EXPECT_EQ(q->other_query, "");
  auto bad = parse_resume_query("blockyard_resume=t&last=-1");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->last, 0u);
}

TEST(TextFrames, ApplicationTextRoundTripsEvenWithTheMarkInFront) {
  for (std::string app :
       {std::string("{\"method\":\"init\"}"), std::string(""),
        std::string(1, kControlMark) + "{\"t\":\"ack\"}", std::string(2, kControlMark)}) {
    auto frame = decode_text_frame(encode_app_text(app));
    EXPECT_FALSE(frame.control) << app;
    EXPECT_EQ(frame.payload, app);
  }
}

TEST(TextFrames, ControlMessagesAreRecognised) {
  auto frame = decode_text_frame(control_ack(7));
  ASSERT_TRUE(frame.control);
  EXPECT_EQ(parse_control_ack(frame.payload), 7u);

  auto hello = decode_text_frame(control_hello("tok", 3, true, 60000));
  ASSERT_TRUE(hello.control);
  auto body = nlohmann::json::parse(hello.payload);
  EXPECT_EQ(body["t"], "hello");
  EXPECT_EQ(body["token"], "tok");
  EXPECT_EQ(body["ack"], 3);
  EXPECT_EQ(body["resumed"], true);
  EXPECT_EQ(body["ttl"], 60000);
  EXPECT_FALSE(parse_control_ack(hello.payload));

  auto ended = decode_text_frame(control_ended("gone"));
  ASSERT_TRUE(ended.control);
  EXPECT_EQ(nlohmann::json::parse(ended.payload)["t"], "ended");
}

TEST(TextFrames, CloseControlIsRecognised) {
  EXPECT_TRUE(is_control_close("{\"t\":\"close\"}"));
  EXPECT_FALSE(is_control_close("{\"t\":\"ack\",\"n\":1}"));
  EXPECT_FALSE(is_control_close("close"));
}

TEST(TextFrames, MalformedAcksAreRejected) {
  EXPECT_FALSE(parse_control_ack("not json"));
  EXPECT_FALSE(parse_control_ack("{\"t\":\"ack\"}"));
  EXPECT_FALSE(parse_control_ack("{\"t\":\"ack\",\"n\":-1}"));
  EXPECT_FALSE(parse_control_ack("{\"t\":\"ack\",\"n\":\"3\"}"));
  EXPECT_EQ(parse_control_ack("{\"t\":\"ack\",\"n\":0}"), 0u);
}

}  // namespace
}  // namespace blockyard::proxy
