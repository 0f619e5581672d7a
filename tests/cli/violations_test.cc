#include "cli/violations.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace rwproxy::cli {
namespace {

constexpr char kFile[] = R"(clusters:
  - name: app
    endpoints: ["127.0.0.1:8081"]
routes:
  - name: api
    match: {path_regex: "^/api/(.*$"}
    cluster: app
  - name: canary
    match:
      path_prefix: /
      headers: {x-canary: "1"}
    cluster: nope
)";

FieldViolation V(std::string field, std::string message) {
  FieldViolation v;
  v.set_field(std::move(field));
  v.set_message(std::move(message));
  return v;
}

std::vector<std::pair<std::string, std::string>> Pairs(const std::vector<FieldViolation>& vs) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& v : vs) out.emplace_back(v.field(), v.message());
  return out;
}

struct MessageCase {
  std::string message;
  std::vector<std::pair<std::string, std::string>> want;
};

class ParseViolationMessageTest : public ::testing::TestWithParam<MessageCase> {};

TEST_P(ParseViolationMessageTest, SplitsFieldAndMessage) {
  EXPECT_EQ(Pairs(ParseViolationMessage(GetParam().message)), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Lines, ParseViolationMessageTest,
    ::testing::Values(
        MessageCase{"routes[0].cluster: unknown cluster 'x'",
                    {{"routes[0].cluster", "unknown cluster 'x'"}}},
        MessageCase{"a: one\nclusters[1].endpoints[0]: bad: really\n",
                    {{"a", "one"}, {"clusters[1].endpoints[0]", "bad: really"}}},
        MessageCase{
            "invalid config (2 errors)\n\n  routes[1].match.headers.x-canary: bad  \n",
            {{"", "invalid config (2 errors)"}, {"routes[1].match.headers.x-canary", "bad"}}},
        MessageCase{"no colon here", {{"", "no colon here"}}},
        MessageCase{": starts with a separator", {{"", ": starts with a separator"}}},
        MessageCase{"", {}}));

TEST(ExtractViolationsTest, PrefersMetadata) {
  control::v1::ValidateResponse response;
  *response.add_violations() = V("routes[0].match.path_regex", "missing )");
  *response.add_violations() = V("routes[1].cluster", "unknown cluster 'nope'");
  const std::string bin = response.SerializeAsString();
  grpc::Status status(grpc::StatusCode::INVALID_ARGUMENT, "something else: entirely");
  EXPECT_EQ(Pairs(ExtractViolations(status, &bin).violations),
            (std::vector<std::pair<std::string, std::string>>{
                {"routes[0].match.path_regex", "missing )"},
                {"routes[1].cluster", "unknown cluster 'nope'"}}));
}

TEST(ExtractViolationsTest, FallsBackToMessageLines) {
  grpc::Status status(grpc::StatusCode::INVALID_ARGUMENT, "routes[1].cluster: unknown");
  const std::string garbage = "\xff\xff\xff";
  const std::string empty = control::v1::ValidateResponse().SerializeAsString();
  for (const std::string* bin : {static_cast<const std::string*>(nullptr), &garbage, &empty}) {
    EXPECT_EQ(Pairs(ExtractViolations(status, bin).violations),
              (std::vector<std::pair<std::string, std::string>>{{"routes[1].cluster", "unknown"}}));
  }
  EXPECT_TRUE(ExtractViolations(grpc::Status::OK, nullptr).violations.empty());
}

// A rejection as the server sends it: a summary message, and the first violations with their
// total in the status details (a google.rpc.Status holding a ValidateResponse).
grpc::Status WithDetails(const control::v1::ValidateResponse& list) {
  control::v1::RpcStatus rpc;
  rpc.set_code(grpc::StatusCode::INVALID_ARGUMENT);
  rpc.set_message("config has 500 violations; first: routes[0].cluster: unknown cluster 'x'");
  rpc.add_details()->PackFrom(list);
  return grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, rpc.message(), rpc.SerializeAsString());
}

TEST(ExtractViolationsTest, ReadsStatusDetailsWithTotalAndTruncated) {
  control::v1::ValidateResponse first;
  *first.add_violations() = V("routes[0].cluster", "unknown cluster 'x'");
  *first.add_violations() = V("routes[1].cluster", "unknown cluster 'x'");
  first.set_total_violations(500);
  first.set_truncated(true);
  control::v1::ValidateResponse legacy;
  *legacy.add_violations() = V("other", "ignored when details are present");
  const std::string legacy_bin = legacy.SerializeAsString();
  Rejection r = ExtractViolations(WithDetails(first), &legacy_bin);
  EXPECT_EQ(Pairs(r.violations), (std::vector<std::pair<std::string, std::string>>{
                                     {"routes[0].cluster", "unknown cluster 'x'"},
                                     {"routes[1].cluster", "unknown cluster 'x'"}}));
  EXPECT_EQ(r.total, 500u);
  EXPECT_TRUE(r.truncated);

  first.set_total_violations(2);
  first.set_truncated(false);
  r = ExtractViolations(WithDetails(first), nullptr);
  EXPECT_EQ(r.violations.size(), 2u);
  EXPECT_EQ(r.total, 2u);
  EXPECT_FALSE(r.truncated);

  // A total larger than the list means truncated even if the flag is missing.
  first.set_total_violations(3);
  EXPECT_TRUE(ExtractViolations(WithDetails(first), nullptr).truncated);
}

TEST(ExtractViolationsTest, DetailsOfAnotherTypeAreIgnored) {
  control::v1::RpcStatus rpc;
  rpc.set_code(grpc::StatusCode::INVALID_ARGUMENT);
  rpc.add_details()->PackFrom(control::v1::ApplyResponse());
  grpc::Status status(grpc::StatusCode::INVALID_ARGUMENT, "routes[1].cluster: unknown",
                      rpc.SerializeAsString());
  control::v1::ValidateResponse out;
  EXPECT_FALSE(ParseStatusDetails(status, &out));
  Rejection r = ExtractViolations(status, nullptr);
  EXPECT_EQ(Pairs(r.violations),
            (std::vector<std::pair<std::string, std::string>>{{"routes[1].cluster", "unknown"}}));
  EXPECT_FALSE(r.truncated);
}

struct LocateCase {
  std::string field;
  std::string want;
};

class FormatViolationTest : public ::testing::TestWithParam<LocateCase> {};

TEST_P(FormatViolationTest, LocatesFieldInTheSentFile) {
  config::v1::Config config;
  yaml::SourceMap map;
  std::vector<yaml::YamlError> errors;
  ASSERT_TRUE(yaml::ParseConfig(kFile, &config, &map, &errors));
  EXPECT_EQ(FormatViolation("routes.yaml", map, V(GetParam().field, "msg")), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(
    Fields, FormatViolationTest,
    ::testing::Values(LocateCase{"routes[0].match.path_regex",
                                 "routes.yaml:6:13: routes[0].match.path_regex: msg"},
                      LocateCase{"routes[1].cluster", "routes.yaml:12:5: routes[1].cluster: msg"},
                      LocateCase{"routes[1].match.headers.x-canary",
                                 "routes.yaml:11:17: routes[1].match.headers.x-canary: msg"},
                      // Not written in the file: the closest enclosing field.
                      LocateCase{"routes[0].timeout", "routes.yaml:5:5: routes[0].timeout: msg"},
                      LocateCase{"clusters[0].pool.max_idle",
                                 "routes.yaml:2:5: clusters[0].pool.max_idle: msg"},
                      // Not about a field: no position.
                      LocateCase{"", "routes.yaml: msg"}));

TEST(FormatYamlErrorTest, UsesPositionAndField) {
  EXPECT_EQ(FormatYamlError("f.yaml", {{3, 7}, "routes[0].nmae", "unknown field 'nmae'"}),
            "f.yaml:3:7: routes[0].nmae: unknown field 'nmae'");
  EXPECT_EQ(FormatYamlError("<stdin>", {{}, "", "syntax error"}), "<stdin>: syntax error");
}

}  // namespace
}  // namespace rwproxy::cli
