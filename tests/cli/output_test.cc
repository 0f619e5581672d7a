#include "cli/output.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "proto/control.pb.h"

namespace rwproxy::cli {
namespace {

struct CodeCase {
  grpc::StatusCode code;
  int exit_code;
};

class ExitCodeTest : public ::testing::TestWithParam<CodeCase> {};

TEST_P(ExitCodeTest, MapsStatusCode) {
  EXPECT_EQ(ExitCodeFor(GetParam().code), GetParam().exit_code) << StatusCodeName(GetParam().code);
}

INSTANTIATE_TEST_SUITE_P(
    AllCodes, ExitCodeTest,
    ::testing::Values(
        CodeCase{grpc::StatusCode::OK, 0}, CodeCase{grpc::StatusCode::INVALID_ARGUMENT, 1},
        CodeCase{grpc::StatusCode::FAILED_PRECONDITION, 1},
        CodeCase{grpc::StatusCode::NOT_FOUND, 1}, CodeCase{grpc::StatusCode::ABORTED, 1},
        CodeCase{grpc::StatusCode::ALREADY_EXISTS, 1}, CodeCase{grpc::StatusCode::OUT_OF_RANGE, 1},
        CodeCase{grpc::StatusCode::RESOURCE_EXHAUSTED, 1}, CodeCase{grpc::StatusCode::INTERNAL, 1},
        CodeCase{grpc::StatusCode::UNKNOWN, 1}, CodeCase{grpc::StatusCode::UNIMPLEMENTED, 1},
        CodeCase{grpc::StatusCode::CANCELLED, 1}, CodeCase{grpc::StatusCode::DATA_LOSS, 1},
        CodeCase{grpc::StatusCode::UNAVAILABLE, 3},
        CodeCase{grpc::StatusCode::DEADLINE_EXCEEDED, 3},
        CodeCase{grpc::StatusCode::UNAUTHENTICATED, 3},
        CodeCase{grpc::StatusCode::PERMISSION_DENIED, 3}));

struct CombineCase {
  std::vector<int> codes;
  int want;
};

class CombineExitCodesTest : public ::testing::TestWithParam<CombineCase> {};

TEST_P(CombineExitCodesTest, RejectionWinsOverUnreachable) {
  EXPECT_EQ(CombineExitCodes(GetParam().codes), GetParam().want);
}

INSTANTIATE_TEST_SUITE_P(Fleet, CombineExitCodesTest,
                         ::testing::Values(CombineCase{{0}, 0}, CombineCase{{0, 0, 0}, 0},
                                           CombineCase{{0, 3, 0}, 3}, CombineCase{{0, 1}, 1},
                                           CombineCase{{3, 1, 3}, 1}, CombineCase{{3, 3}, 3},
                                           CombineCase{{}, 0}));

TEST(DescribeErrorTest, NamesCodeAndKeepsFirstLine) {
  EXPECT_EQ(DescribeError(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                       "expected version 3, live is 4")),
            "error: failed_precondition: expected version 3, live is 4");
  EXPECT_EQ(DescribeError(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a: b\nc: d")),
            "error: invalid_argument: a: b");
  EXPECT_EQ(DescribeError(grpc::Status(grpc::StatusCode::UNAVAILABLE, "")), "error: unavailable");
}

TEST(ToJsonTest, PrintsProtoNamesAndDefaults) {
  control::v1::ApplyResponse response;
  response.set_version(7);
  std::string json = ToJson(response, /*multiline=*/false);
  EXPECT_EQ(json, R"({"version":"7","changed":false,"content_hash":""})");
  EXPECT_NE(ToJson(response).find("\n"), std::string::npos);
}

TEST(ComparisonExitCodeTest, NeverOneSoItCannotBeMistakenForDiffersOrNoMatch) {
  EXPECT_EQ(ComparisonExitCode(ExitCodeFor(grpc::StatusCode::INTERNAL)), kExitError);
  EXPECT_EQ(ComparisonExitCode(ExitCodeFor(grpc::StatusCode::NOT_FOUND)), 4);
  EXPECT_EQ(ComparisonExitCode(ExitCodeFor(grpc::StatusCode::UNAVAILABLE)), 3);
  EXPECT_EQ(ComparisonExitCode(kExitUsage), 2);
  EXPECT_EQ(ComparisonExitCode(kExitOk), 0);
}

TEST(JsonQuoteTest, EscapesQuotesBackslashesAndControls) {
  EXPECT_EQ(JsonQuote("plain"), R"("plain")");
  EXPECT_EQ(JsonQuote("a\"b\\c\nd\te\x01"), R"("a\"b\\c\nd\te\u0001")");
  EXPECT_EQ(JsonQuote(""), R"("")");
}

TEST(FormatUnixMsTest, Utc) {
  EXPECT_EQ(FormatUnixMs(0), "-");
  EXPECT_EQ(FormatUnixMs(1714557600123), "2024-05-01T10:00:00Z");
}

}  // namespace
}  // namespace rwproxy::cli
