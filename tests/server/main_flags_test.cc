#include "server/main_flags.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace rwproxy {
namespace {

TEST(CheckControlAddressTest, RefusesNonLoopbackWithoutToken) {
  struct Row {
    std::string address;
    bool has_token;
    absl::StatusCode code;
  };
  const Row rows[] = {
      {"127.0.0.1:15010", false, absl::StatusCode::kOk},
      {"127.0.0.1:0", false, absl::StatusCode::kOk},
      {"127.1.2.3:80", false, absl::StatusCode::kOk},
      {"[::1]:15010", false, absl::StatusCode::kOk},
      {"localhost:15010", false, absl::StatusCode::kOk},
      {"unix:/run/rwproxy.sock", false, absl::StatusCode::kOk},
      {"off", false, absl::StatusCode::kOk},
      {"0.0.0.0:15010", false, absl::StatusCode::kFailedPrecondition},
      {"[::]:15010", false, absl::StatusCode::kFailedPrecondition},
      {"10.0.0.5:15010", false, absl::StatusCode::kFailedPrecondition},
      {"0.0.0.0:15010", true, absl::StatusCode::kOk},
      {"10.0.0.5:15010", true, absl::StatusCode::kOk},
      {"unix:", false, absl::StatusCode::kInvalidArgument},
      {"15010", false, absl::StatusCode::kInvalidArgument},
      {"example.com:15010", true, absl::StatusCode::kInvalidArgument},
  };
  for (const Row& row : rows) {
    absl::Status status = CheckControlAddress(row.address, row.has_token);
    EXPECT_EQ(status.code(), row.code)
        << row.address << " token=" << row.has_token << ": " << status;
    if (row.code == absl::StatusCode::kFailedPrecondition) {
      EXPECT_NE(status.message().find("--control-token-file"), absl::string_view::npos);
    }
  }
}

TEST(ReadTokenFileTest, TrimsWhitespaceAndRejectsEmptyOrMissing) {
  std::string dir = (std::filesystem::temp_directory_path() / "rwflags.XXXXXX").string();
  ASSERT_NE(mkdtemp(dir.data()), nullptr);
  struct Row {
    std::string content;
    absl::StatusCode code;
    std::string token;
  };
  const Row rows[] = {
      {"tok\n", absl::StatusCode::kOk, "tok"},
      {"  \tsecret value \r\n\n", absl::StatusCode::kOk, "secret value"},
      {"", absl::StatusCode::kInvalidArgument, ""},
      {" \n\t ", absl::StatusCode::kInvalidArgument, ""},
  };
  for (const Row& row : rows) {
    const std::string path = dir + "/token";
    std::ofstream(path, std::ios::trunc) << row.content;
    auto token = ReadTokenFile(path);
    EXPECT_EQ(token.status().code(), row.code) << token.status();
    if (token.ok()) {
      EXPECT_EQ(*token, row.token);
    }
  }
  EXPECT_EQ(ReadTokenFile(dir + "/missing").status().code(), absl::StatusCode::kNotFound);
  std::filesystem::remove_all(dir);
}

TEST(LogFlagsTest, DefaultsAreInfoAndText) {
  Flags flags;
  CLI::App app;
  RegisterFlags(&app, &flags);
  app.parse(std::vector<std::string>{"c.yaml", "--config"});  // CLI11 takes argv reversed
  EXPECT_EQ(flags.log_level, "info");
  EXPECT_EQ(flags.log_format, "text");
  EXPECT_TRUE(CheckLogFlags(flags).ok());
}

TEST(LogFlagsTest, AcceptsTheLevelsAndFormatsAndNamesTheFlagOtherwise) {
  struct Row {
    std::string level;
    std::string format;
    std::string error;  // "" when valid, else a substring of the message
  };
  const Row rows[] = {
      {"debug", "text", ""},
      {"info", "json", ""},
      {"warn", "json", ""},
      {"error", "text", ""},
      {"verbose", "text", "--log-level: 'verbose' is not one of debug, info, warn, error"},
      {"", "text", "--log-level"},
      {"info", "yaml", "--log-format: 'yaml' is not one of text, json"},
      {"info", "", "--log-format"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.level + " " + row.format);
    Flags flags;
    CLI::App app;
    RegisterFlags(&app, &flags);
    app.parse(std::vector<std::string>{row.format, "--log-format", row.level, "--log-level",
                                       "c.yaml", "--config"});
    EXPECT_EQ(flags.log_level, row.level);
    EXPECT_EQ(flags.log_format, row.format);
    absl::Status status = CheckLogFlags(flags);
    if (row.error.empty()) {
      EXPECT_TRUE(status.ok()) << status;
    } else {
      EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument);
      EXPECT_NE(status.message().find(row.error), absl::string_view::npos) << status;
    }
  }
}

TEST(StateAndControlFlagsTest, SizesTakeSuffixesAndDefaultsFitTheManifests) {
  Flags defaults;
  EXPECT_EQ(defaults.history_limit, 50u);
  EXPECT_EQ(defaults.history_max_bytes, 8u * 1024 * 1024);  // the manifests' state volume: 16Mi
  EXPECT_EQ(defaults.publish_timeout, "10s");
  Flags flags;
  CLI::App app;
  RegisterFlags(&app, &flags);
  app.parse(std::vector<std::string>{"5", "--control-max-watch-streams", "2MiB",
                                     "--control-max-message-bytes", "512KiB",
                                     "--history-max-bytes", "7", "--history-limit", "c.yaml",
                                     "--config"});  // CLI11 takes argv reversed
  EXPECT_EQ(flags.history_limit, 7u);
  EXPECT_EQ(flags.history_max_bytes, 512u * 1024);
  EXPECT_EQ(flags.control_max_message_bytes, 2u * 1024 * 1024);
  EXPECT_EQ(flags.control_max_watch_streams, 5u);
  Flags zero;
  CLI::App strict;
  RegisterFlags(&strict, &zero);
  EXPECT_THROW(strict.parse(std::vector<std::string>{"0", "--history-limit", "c.yaml", "--config"}),
               CLI::ValidationError);
}

TEST(ParseAddressTest, FormatsBack) {
  for (const std::string text : {"127.0.0.1:80", "[::1]:8080", "0.0.0.0:0"}) {
    auto endpoint = ParseAddress(text);
    ASSERT_TRUE(endpoint.ok()) << text;
    EXPECT_EQ(FormatEndpoint(*endpoint), text);
  }
  EXPECT_FALSE(ParseAddress("localhost:80").ok());
  EXPECT_FALSE(ParseAddress("127.0.0.1:65536").ok());
  EXPECT_FALSE(ParseAddress("127.0.0.1").ok());
}

}  // namespace
}  // namespace rwproxy
