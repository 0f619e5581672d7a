// Rejections of any size fit gRPC's trailers (a summary message, the first violations in the
// status details) and Explain refuses oversized input naming the field and the limit.
#include "control/explain.h"
#include "control/violations.h"
#include "gmock/gmock.h"
#include "tests/control/control_limits_fixture.h"

namespace rwproxy::control {
namespace {

using ::testing::StartsWith;

// ---- Rejections of any size ----

std::vector<FieldError> ManyViolations(int n) {
  std::vector<FieldError> errors;
  for (int i = 0; i < n; ++i) {
    errors.push_back({absl::StrCat("routes[", i, "].cluster"),
                      absl::StrCat("unknown cluster 'backend-", i, "' (defined: app, pool)")});
  }
  return errors;
}

TEST(ToGrpcStatusTest, TrailersStayUnderTheMetadataLimitFor10000Violations) {
  const std::vector<FieldError> errors = ManyViolations(10000);
  grpc::Status status = ToGrpcStatus(InvalidConfigError(errors));
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(),
            "config has 10000 violations; first: routes[0].cluster: unknown cluster 'backend-0' "
            "(defined: app, pool)");
  EXPECT_LT(TrailerWireBytes(status.error_message(), status.error_details()), 8 * 1024u);
  EXPECT_LE(TrailerWireBytes(status.error_message(), status.error_details()), kMaxTrailerBytes);

  v1::ValidateResponse details;
  ASSERT_TRUE(ParseRejectionDetails(status.error_details(), &details));
  EXPECT_EQ(details.total_violations(), 10000u);
  EXPECT_TRUE(details.truncated());
  ASSERT_GT(details.violations_size(), 10);  // as many as fit, in order
  for (int i = 0; i < details.violations_size(); ++i) {
    EXPECT_EQ(details.violations(i).field(), errors[i].field);
    EXPECT_EQ(details.violations(i).message(), errors[i].message);
  }
}

TEST(ToGrpcStatusTest, HugeAndNonAsciiViolationsAreCutToFit) {
  // grpc-message percent-encodes every non-ASCII byte (3 bytes on the wire each).
  std::vector<FieldError> errors = {
      {"routes[0].match.path_regex", std::string(100000, 'x')},
      {"routes[1].name", std::string(30000, '\xc3') + std::string(1, '\xa9')}};
  for (int i = 0; i < 5000; ++i) errors.push_back({"routes[2].name", "caf\xc3\xa9 \xe2\x82\xac"});
  errors.front().message = std::string(5000, '\xe2') + errors.front().message;  // not UTF-8 either
  grpc::Status status = ToGrpcStatus(InvalidConfigError(errors));
  EXPECT_LE(status.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_LE(TrailerWireBytes(status.error_message(), status.error_details()), kMaxTrailerBytes);
  v1::ValidateResponse details;
  ASSERT_TRUE(ParseRejectionDetails(status.error_details(), &details));
  EXPECT_TRUE(details.truncated());
  EXPECT_EQ(details.total_violations(), errors.size());
}

TEST(ToGrpcStatusTest, SmallRejectionIsCompleteAndOtherMessagesAreBounded) {
  grpc::Status status = ToGrpcStatus(InvalidConfigError({{"routes[0].cluster", "unknown"}}));
  EXPECT_EQ(status.error_message(), "config has 1 violation: routes[0].cluster: unknown");
  v1::ValidateResponse details;
  ASSERT_TRUE(ParseRejectionDetails(status.error_details(), &details));
  EXPECT_EQ(details.violations_size(), 1);
  EXPECT_FALSE(details.truncated());

  status = ToGrpcStatus(absl::NotFoundError(std::string(50000, 'n')));
  EXPECT_EQ(status.error_code(), grpc::StatusCode::NOT_FOUND);
  EXPECT_EQ(status.error_message().size(), kMaxStatusMessageBytes);
  EXPECT_TRUE(status.error_details().empty());
  EXPECT_TRUE(ToGrpcStatus(absl::OkStatus()).ok());
}

TEST(TruncateTest, CutsAtAUtf8Boundary) {
  EXPECT_EQ(Truncate("short", 10), "short");
  EXPECT_EQ(Truncate("abcdefghij", 6), "abc...");
  EXPECT_EQ(Truncate("ab\xc3\xa9\xc3\xa9", 6), "ab\xc3\xa9\xc3\xa9");  // fits
  EXPECT_EQ(Truncate("ab\xc3\xa9\xc3\xa9x", 6), "ab...");              // never half of an é
  EXPECT_EQ(Truncate("abcdef", 2), "..");
}

// 10,000 violations through a real server and a channel with the default 8 KiB metadata limit:
// INVALID_ARGUMENT with the first violations, never a transport error; Validate has them all.
TEST_F(ControlLimitsTest, TenThousandViolationsArriveAsInvalidArgument) {
  Start();
  Config config = Parse(kConfig);
  for (int i = 0; i < 10000; ++i) {
    auto* route = config.add_routes();
    route->set_name(absl::StrCat("r", i));
    route->mutable_match()->set_path_prefix(absl::StrCat("/r", i, "/"));
    route->set_cluster(absl::StrCat("missing-", i));
  }
  v1::ApplyRequest request;
  *request.mutable_config() = config;
  v1::ApplyResponse response;
  auto context = Context();
  grpc::Status status = stub_->Apply(context.get(), request, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << status.error_message();
  EXPECT_THAT(status.error_message(),
              StartsWith("config has 10000 violations; first: routes[4].cluster: unknown cluster "
                         "'missing-0'"));
  v1::ValidateResponse details;
  ASSERT_TRUE(ParseRejectionDetails(status.error_details(), &details));
  EXPECT_EQ(details.total_violations(), 10000u);
  EXPECT_TRUE(details.truncated());
  EXPECT_GT(details.violations_size(), 0);

  v1::ValidateRequest validate;
  *validate.mutable_config() = config;
  v1::ValidateResponse all;
  auto again = Context();
  ASSERT_TRUE(stub_->Validate(again.get(), validate, &all).ok());
  EXPECT_EQ(all.violations_size(), 10000);
  EXPECT_EQ(all.total_violations(), 10000u);
  EXPECT_FALSE(all.truncated());
  EXPECT_EQ(store_.live().info.version(), 1u);
}

// ---- Explain's input limits and exceptions in handlers ----

struct ExplainCase {
  std::string name;
  std::function<void(v1::ExplainRequest*)> fill;
  std::string want;  // "" = accepted
};

class CheckExplainRequestTest : public ::testing::TestWithParam<ExplainCase> {};

TEST_P(CheckExplainRequestTest, NamesTheFieldAndTheLimit) {
  v1::ExplainRequest request;
  request.set_path("/api/x");
  GetParam().fill(&request);
  absl::Status status = CheckExplainRequest(request);
  if (GetParam().want.empty()) {
    EXPECT_TRUE(status.ok()) << status;
  } else {
    EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
    EXPECT_EQ(status.message(), GetParam().want);
  }
}

INSTANTIATE_TEST_SUITE_P(
    Limits, CheckExplainRequestTest,
    ::testing::Values(
        ExplainCase{"Ordinary", [](auto* r) { (*r->mutable_headers())["x-a"] = "1"; }, ""},
        ExplainCase{"ValueAtTheLimit",
                    [](auto* r) { (*r->mutable_headers())["x-a"] = std::string(65536, 'v'); }, ""},
        ExplainCase{"ValueOverTheLimit",
                    [](auto* r) { (*r->mutable_headers())["x-big"] = std::string(70000, 'v'); },
                    "headers.x-big: value of 70000 bytes, limit 65536"},
        ExplainCase{"NameOverTheLimit",
                    [](auto* r) { (*r->mutable_headers())[std::string(70000, 'n')] = "1"; },
                    absl::StrCat("headers.", std::string(61, 'n'),
                                 "...: name of 70000 bytes, limit 65536")},
        ExplainCase{"TooManyHeaders",
                    [](auto* r) {
                      for (int i = 0; i < 96; ++i) (*r->mutable_headers())[absl::StrCat("h", i)];
                    },
                    "headers: 96 headers, limit 95"},
        ExplainCase{"PathOverTheLimit", [](auto* r) { r->set_path("/" + std::string(65536, 'p')); },
                    "path: 65537 bytes, limit 65536"},
        ExplainCase{"MethodOverTheLimit", [](auto* r) { r->set_method(std::string(257, 'M')); },
                    "method: 257 bytes, limit 256"}),
    [](const auto& info) { return info.param.name; });

TEST_F(ControlLimitsTest, ExplainWithAHugeHeaderIsInvalidArgumentAndTheServerAnswersOn) {
  Start();
  v1::ExplainRequest request;
  request.set_path("/api/x");
  (*request.mutable_headers())["x-big"] = std::string(70000, 'v');
  v1::ExplainResponse response;
  auto context = Context();
  grpc::Status status = stub_->Explain(context.get(), request, &response);
  EXPECT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_EQ(status.error_message(), "headers.x-big: value of 70000 bytes, limit 65536");

  request.mutable_headers()->clear();
  auto again = Context();
  ASSERT_TRUE(stub_->Explain(again.get(), request, &response).ok());
  EXPECT_EQ(response.route(), "api");
}

}  // namespace
}  // namespace rwproxy::control
