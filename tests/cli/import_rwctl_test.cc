// `rwctl import apache` as a process: stdout/stderr, --report, -o json, --strict and the exit
// codes, and that its output reads back (`rwctl validate --offline -`).
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/rwctl_runner.h"

namespace rwtest {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kSeed[] = R"(RewriteEngine On
RewriteRule ^(.*)$ http://localhost:8081$1 [P,L]
ProxyPreserveHost On
)";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(RwctlImportTest, PrintsTheConfigOnStdoutAndTheReportOnStderr) {
  RwctlRunner runner;
  const std::string conf = runner.WriteFile("httpd.conf", kSeed);
  auto r = runner.Run({"import", "apache", conf});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << r->Describe();
  EXPECT_THAT(r->out,
              StartsWith("# rwctl import apache " + conf +
                         ": 3 directives: 3 converted, 0 approximated, 0 refused, 0 ignored\n"
                         "clusters:\n  - name: localhost_8081\n"));
  EXPECT_THAT(r->err, HasSubstr(conf + ":2: converted: RewriteRule ^(.*)$ http://localhost:8081$1 "
                                       "[P,L] -> route rewrite-1\n"));

  // What it prints is a config rwctl reads back.
  auto check = runner.Run({"validate", "--offline", "-"}, r->out);
  ASSERT_TRUE(check.ok()) << check.status();
  EXPECT_EQ(check->exit_code, 0) << check->Describe();
}

TEST(RwctlImportTest, WritesTheReportToAFileAndJsonToStdout) {
  RwctlRunner runner;
  const std::string conf = runner.WriteFile("httpd.conf", kSeed);
  const std::string report = runner.dir() + "/report.txt";
  auto r = runner.Run({"import", "apache", conf, "--report", report, "-o", "json"});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << r->Describe();
  EXPECT_THAT(r->out, StartsWith("{\n"));
  EXPECT_THAT(r->out, HasSubstr("\"path_regex\": \"^(.*)$\""));
  EXPECT_EQ(r->err,
            "rwctl: import apache: 3 directives: 3 converted, 0 approximated, 0 refused, 0 "
            "ignored (report in " +
                report + ")\n");
  EXPECT_THAT(ReadFile(report), HasSubstr(":3: converted: ProxyPreserveHost On\n"));
}

TEST(RwctlImportTest, StrictFailsOnApproximationsOrRefusalsAndPrintsNoConfig) {
  RwctlRunner runner;
  const std::string approximated =
      runner.WriteFile("a.conf", "ProxyPass / http://b/\nProxyPassReverse / http://b/\n");
  const std::string refused = runner.WriteFile("r.conf", "ProxyPass / http://b/\nSSLEngine on\n");
  const std::string ignored = runner.WriteFile("i.conf", "Listen 80\nProxyPass / http://b/\n");
  for (const std::string& conf : {approximated, refused}) {
    auto plain = runner.Run({"import", "apache", conf});
    ASSERT_TRUE(plain.ok()) << plain.status();
    EXPECT_EQ(plain->exit_code, 0) << plain->Describe();
    auto strict = runner.Run({"import", "apache", conf, "--strict"});
    ASSERT_TRUE(strict.ok()) << strict.status();
    EXPECT_EQ(strict->exit_code, 1) << strict->Describe();
    EXPECT_EQ(strict->out, "");
    EXPECT_THAT(strict->err, HasSubstr("rwctl: import apache --strict: "));
  }
  auto fine = runner.Run({"import", "apache", ignored, "--strict"});
  ASSERT_TRUE(fine.ok()) << fine.status();
  EXPECT_EQ(fine->exit_code, 0) << fine->Describe();
}

TEST(RwctlImportTest, UnreadableUnparsableOrEmptyConfigsAreUsageErrors) {
  RwctlRunner runner;
  struct Case {
    std::vector<std::string> args;
    const char* err;
  };
  const std::string broken = runner.WriteFile("broken.conf", "Listen 80\n<VirtualHost *:80>\n");
  const std::string nothing = runner.WriteFile("nothing.conf", "Listen 80\nLoadModule a b\n");
  const Case cases[] = {
      {{"import", "apache", runner.dir() + "/absent.conf"}, "cannot read"},
      {{"import", "apache", broken}, "broken.conf:2: <VirtualHost> is not closed"},
      {{"import", "apache", nothing}, "nothing to convert"},
      {{"import", "apache"}, "FILE is required"},
      {{"import"}, "subcommand"},
      {{"import", "apache", nothing, "-o", "xml"}, "xml"},
  };
  for (const Case& c : cases) {
    auto r = runner.Run(c.args);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->exit_code, 2) << r->Describe();
    EXPECT_THAT(r->err, HasSubstr(c.err)) << r->Describe();
  }
}

TEST(RwctlImportTest, HelpNamesTheCommandAndItsExitCodes) {
  RwctlRunner runner;
  auto top = runner.Run({"--help"});
  ASSERT_TRUE(top.ok()) << top.status();
  EXPECT_THAT(top->out, HasSubstr("  import"));
  auto help = runner.Run({"import", "apache", "--help"});
  ASSERT_TRUE(help.ok()) << help.status();
  EXPECT_EQ(help->exit_code, 0) << help->Describe();
  for (const char* text : {"--strict", "--report", "--server-root", "--port",
                           "Exit codes:", "1  --strict: a directive was approximated or refused"}) {
    EXPECT_THAT(help->out, HasSubstr(text));
  }
}

}  // namespace
}  // namespace rwtest
