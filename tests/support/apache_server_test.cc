// ApacheServer (a real Debian apache2 on a generated config) and RecordingUpstream's reply
// function: the pieces tests/integration/apache_import_test.cc stands on.
#include "tests/support/apache_server.h"

#include <signal.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/support/http_client.h"
#include "tests/support/recording_upstream.h"
#include "tests/support/wait.h"

namespace rwtest {
namespace {

std::string ReadText(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool PidRunning(pid_t pid) {
  const std::string stat = ReadText(absl::StrCat("/proc/", pid, "/stat"));
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z';
}

class ApacheServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ApacheServer::Installed()) {
      GTEST_SKIP() << ApacheServer::kBinary << " is not installed (deploy/install-deps.sh)";
    }
    RW_ASSERT_OK(upstream_.Start());
  }
  std::map<std::string, std::string> Placeholders() const {
    return {{"@UPSTREAM@", absl::StrCat("127.0.0.1:", upstream_.port())}};
  }
  RecordingUpstream upstream_;
};

// Apache proxies through the generated prelude + body; Stop leaves neither the parent nor a child.
TEST_F(ApacheServerTest, ProxiesAndStopsEveryProcess) {
  ApacheServer apache;
  RW_ASSERT_OK(apache.Start("ProxyPass / http://@UPSTREAM@/back/\n", Placeholders()));
  const pid_t parent = apache.pid();
  ASSERT_GT(parent, 0);
  EXPECT_EQ(ReadText(apache.dir() + "/httpd.pid").substr(0, absl::StrCat(parent).size()),
            absl::StrCat(parent));
  const std::string config = ReadText(apache.config_path());
  EXPECT_TRUE(absl::StrContains(config, absl::StrCat("Listen 127.0.0.1:", apache.port(), "\n")));
  EXPECT_TRUE(absl::StrContains(
      config, absl::StrCat("ProxyPass / http://127.0.0.1:", upstream_.port(), "/back/\n")));
  auto res = Fetch(apache.port(), "GET", "/x?y=1", {{"Host", "example.com"}});
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok");
  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 1u);
  EXPECT_TRUE(absl::StartsWith(requests[0].bytes, "GET /back/x?y=1 HTTP/1.1\r\n"))
      << requests[0].bytes;
  RW_ASSERT_OK(apache.Stop());
  EXPECT_FALSE(PidRunning(parent));
  EXPECT_TRUE(upstream_.errors().empty()) << upstream_.errors()[0];
  RW_EXPECT_OK(apache.Stop());  // idempotent
}

// A config Apache rejects fails Start with apache2 -t's own message, before anything runs.
TEST_F(ApacheServerTest, ReportsConfigErrorsFromApache) {
  ApacheServer apache;
  absl::Status status = apache.Start("NoSuchDirective on\n", Placeholders());
  EXPECT_EQ(status.code(), absl::StatusCode::kInvalidArgument) << status;
  EXPECT_TRUE(absl::StrContains(status.message(), "NoSuchDirective")) << status;
  EXPECT_LE(apache.pid(), 0);
}

// Start substitutes @PORT@ with Apache's own port (for <VirtualHost *:@PORT@>).
TEST_F(ApacheServerTest, SubstitutesItsOwnPort) {
  ApacheServer apache;
  RW_ASSERT_OK(
      apache.Start("<VirtualHost *:@PORT@>\n  ServerName a.test\n  ProxyPass / http://@UPSTREAM@/\n"
                   "</VirtualHost>\n",
                   Placeholders()));
  EXPECT_TRUE(absl::StrContains(ReadText(apache.config_path()),
                                absl::StrCat("<VirtualHost *:", apache.port(), ">")));
  auto res = Fetch(apache.port(), "GET", "/v", {{"Host", "a.test"}});
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
}

// The reply function answers from the request's bytes; framing stays strict around it.
TEST(RecordingUpstreamTest, ReplyFnBuildsEachReplyFromTheRequest) {
  RecordingUpstream upstream;
  RW_ASSERT_OK(upstream.Start());
  upstream.set_reply_fn([](const std::string& request) {
    const std::string line = request.substr(0, request.find("\r\n"));
    return absl::StrCat("HTTP/1.1 302 Found\r\nLocation: http://u",
                        line.substr(4, line.find(' ', 4) - 4), "\r\nContent-Length: 0\r\n\r\n");
  });
  auto conn = HttpConnection::Connect(upstream.port());
  RW_ASSERT_OK(conn);
  for (const char* path : {"/a", "/b/c"}) {
    auto res = (*conn)->Send("GET", path, {{"Host", "h"}});
    RW_ASSERT_OK(res);
    EXPECT_EQ(res->status, 302);
    EXPECT_EQ(res->Header("Location"), absl::StrCat("http://u", path));
  }
  upstream.set_reply_fn(nullptr);  // back to the fixed reply
  auto res = (*conn)->Send("GET", "/d", {{"Host", "h"}});
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  RW_ASSERT_OK((*conn)->WriteRaw("GET /e HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n"));
  EXPECT_TRUE(WaitFor([&] { return upstream.errors().size() == 1; }, std::chrono::seconds(5),
                      "the framing error to be recorded"));
  EXPECT_EQ(upstream.requests().size(), 3u);
}

}  // namespace
}  // namespace rwtest
