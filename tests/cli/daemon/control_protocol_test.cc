#include "cli/daemon/control_protocol.h"

#include <gtest/gtest.h>

namespace minivpn::daemon {
namespace {

TEST(ControlProtocol, RequestRoundTrip) {
  ControlRequest request{.command = "initiate", .args = {{"name", "A-B"}}};
  std::string line = FormatControlRequest(request);
  ASSERT_EQ(line.back(), '\n');
  auto parsed = ParseControlRequest(line.substr(0, line.size() - 1));
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  EXPECT_EQ(parsed->command, "initiate");
  EXPECT_EQ(parsed->args.at("name"), "A-B");
}

TEST(ControlProtocol, ArgsDefaultToEmptyObject) {
  auto parsed = ParseControlRequest(R"({"version":1,"command":"list-sas"})");
  ASSERT_TRUE(parsed.has_value());
  EXPECT_TRUE(parsed->args.is_object());
  EXPECT_TRUE(parsed->args.empty());
}

TEST(ControlProtocol, RejectsWhatIsNotARequest) {
  EXPECT_EQ(ParseControlRequest("not json").error(), "request is not a JSON object");
  EXPECT_EQ(ParseControlRequest("[1,2]").error(), "request is not a JSON object");
  EXPECT_EQ(ParseControlRequest(R"({"command":"x"})").error(),
            "request has no integer \"version\"");
  EXPECT_EQ(ParseControlRequest(R"({"version":1})").error(), "request has no \"command\" string");
  EXPECT_EQ(ParseControlRequest(R"({"version":1,"command":""})").error(),
            "request has no \"command\" string");
  EXPECT_EQ(ParseControlRequest(R"({"version":1,"command":"x","args":[]})").error(),
            "\"args\" must be an object");
}

TEST(ControlProtocol, OtherVersionsAreRefusedWithTheVersionWeSpeak) {
  auto parsed = ParseControlRequest(R"({"version":2,"command":"list-sas"})");
  ASSERT_FALSE(parsed.has_value());
  EXPECT_EQ(parsed.error(), "protocol version 2 not supported (this minivpnd speaks 1)");
}

TEST(ControlProtocol, OverlongRequestIsRefused) {
  std::string line(kMaxControlLine + 1, ' ');
  EXPECT_EQ(ParseControlRequest(line).error(), "request longer than 64 KiB");
}

TEST(ControlProtocol, ReplyRoundTrip) {
  auto ok = ParseControlReply(FormatControlReply(ControlReply::Ok({{"sas", 3}})));
  ASSERT_TRUE(ok.has_value());
  EXPECT_TRUE(ok->ok);
  EXPECT_EQ(ok->result.at("sas"), 3);

  auto fail = ParseControlReply(FormatControlReply(ControlReply::Fail("no connection 'x'")));
  ASSERT_TRUE(fail.has_value());
  EXPECT_FALSE(fail->ok);
  EXPECT_EQ(fail->error, "no connection 'x'");
}

TEST(ControlProtocol, InvalidUtf8InAReplyIsReplacedNotThrown) {
  std::string bad = "conn\xff";
  std::string line = FormatControlReply(ControlReply::Fail(bad));
  auto parsed = ParseControlReply(line);
  ASSERT_TRUE(parsed.has_value());
  EXPECT_EQ(parsed->error, "conn\xEF\xBF\xBD");
}

}  // namespace
}  // namespace minivpn::daemon
