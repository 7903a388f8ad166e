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

TEST(ControlProtocol, ExplainArgsByNameOrId) {
  auto parsed = ParseControlRequest(
      R"({"version":1,"command":"explain","args":{"name":"A-B","show_secrets":true}})");
  ASSERT_TRUE(parsed.has_value()) << parsed.error();
  auto args = ParseExplainArgs(parsed->args);
  ASSERT_TRUE(args.has_value()) << args.error();
  EXPECT_EQ(*args, (ExplainArgs{.name = "A-B", .id = 0, .show_secrets = true}));

  args = ParseExplainArgs(nlohmann::json{{"id", 7}});
  ASSERT_TRUE(args.has_value()) << args.error();
  EXPECT_EQ(*args, (ExplainArgs{.name = "", .id = 7, .show_secrets = false}));  // default: hidden

  // What minivpnctl explain sends parses back to the same arguments.
  ControlRequest request{.command = "explain", .args = {{"name", "A-B"}}};
  std::string line = FormatControlRequest(request);
  auto round = ParseControlRequest(line.substr(0, line.size() - 1));
  ASSERT_TRUE(round.has_value());
  EXPECT_EQ(ParseExplainArgs(round->args)->name, "A-B");
}

TEST(ControlProtocol, ExplainArgsRejected) {
  using nlohmann::json;
  const std::string one_of =
      "explain needs exactly one of \"name\" (a connection) or \"id\" (an IKE SA uniqueid)";
  EXPECT_EQ(ParseExplainArgs(json::object()).error(), one_of);
  EXPECT_EQ(ParseExplainArgs(json{{"name", "A-B"}, {"id", 1}}).error(), one_of);
  EXPECT_EQ(ParseExplainArgs(json{{"name", ""}}).error(),
            "explain: \"name\" must be a non-empty string");
  EXPECT_EQ(ParseExplainArgs(json{{"name", 3}}).error(),
            "explain: \"name\" must be a non-empty string");
  for (const json& id : {json(0), json(-1), json("1"), json(1.5)}) {
    EXPECT_EQ(ParseExplainArgs(json{{"id", id}}).error(),
              "explain: \"id\" must be an IKE SA uniqueid (a positive integer)")
        << id.dump();
  }
  EXPECT_EQ(ParseExplainArgs(json{{"name", "A-B"}, {"show_secrets", "yes"}}).error(),
            "explain: \"show_secrets\" must be a boolean");
  EXPECT_EQ(ParseExplainArgs(json::array()).error(), "\"args\" must be an object");
}

}  // namespace
}  // namespace minivpn::daemon
