// The access log end to end: real rwproxy with --access-log FILE in front of the strict
// recording upstream. Lines are parsed as JSON and checked against what the upstream saw: the
// first request of a keep-alive client opens the upstream connection, the second reuses it;
// request IDs match; failures carry their flags; SIGUSR1 reopens the file.
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "boost/json.hpp"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/recording_upstream.h"

namespace rwtest {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr char kConfig[] = R"yaml(
clusters:
  - name: rec
    endpoints: ["{{rec}}"]
  - name: down
    endpoints: ["{{down}}"]
routes:
  - name: api
    match: {path_regex: "^/api/(.*)$"}
    rewrite: {path: "/$1"}
    cluster: rec
  - name: down
    match: {path_prefix: /down/}
    cluster: down
)yaml";

class AccessLogTest : public IntegrationTest {
 protected:
  void Start(const std::string& format) {
    log_path_ = fs::path(env_.dir()) / "access.log";
    RW_ASSERT_OK(upstream_.Start());
    env_.SetAddress("rec", upstream_.port());
    env_.SetAddress("down", 1);  // nothing listens on port 1
    RW_ASSERT_OK(env_.StartProxy(kConfig, {"--workers", "1", "--access-log", log_path_.string(),
                                           "--access-log-format", format}));
  }

  std::vector<std::string> Lines(const fs::path& path) {
    std::ifstream in(path);
    std::vector<std::string> lines;
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }

  // Waits (5 s) until the file has `n` lines; returns them parsed.
  std::vector<boost::json::object> WaitForRecords(size_t n) {
    std::vector<boost::json::object> out;
    EXPECT_TRUE(WaitFor([&] { return Lines(log_path_).size() >= n; }, milliseconds(5000),
                        "access log lines"));
    for (const std::string& line : Lines(log_path_)) {
      boost::system::error_code ec;
      boost::json::value v = boost::json::parse(line, ec);
      EXPECT_FALSE(ec) << line;
      if (!ec && v.is_object()) out.push_back(v.as_object());
    }
    return out;
  }

  static std::string Str(const boost::json::object& o, const char* key) {
    const boost::json::value* v = o.if_contains(key);
    return v && v->is_string() ? std::string(v->as_string()) : std::string("<missing>");
  }

  RecordingUpstream upstream_;
  fs::path log_path_;
};

TEST_F(AccessLogTest, KeepAliveClientFirstOpensThenReusesAndFieldsMatchTheUpstream) {
  ASSERT_NO_FATAL_FAILURE(Start("json"));
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  auto first = (*conn)->Send("GET", "/api/one?q=1", {{"User-Agent", "probe/1"}});
  RW_ASSERT_OK(first);
  auto second = (*conn)->Send("GET", "/api/two", {{"X-Request-Id", "client-id-2"}});
  RW_ASSERT_OK(second);
  ASSERT_EQ(first->status, 200);
  ASSERT_EQ(second->status, 200);
  auto records = WaitForRecords(2);
  ASSERT_EQ(records.size(), 2u);
  auto requests = upstream_.requests();
  ASSERT_EQ(requests.size(), 2u);
  ASSERT_EQ(upstream_.connections(), 1);
  EXPECT_TRUE(upstream_.errors().empty()) << upstream_.errors()[0];

  const auto& a = records[0];
  EXPECT_EQ(Str(a, "method"), "GET");
  EXPECT_EQ(Str(a, "path"), "/api/one?q=1");
  EXPECT_EQ(Str(a, "upstream_path"), "/one?q=1");
  EXPECT_TRUE(requests[0].bytes.starts_with("GET /one?q=1 HTTP/1.1\r\n"));
  EXPECT_EQ(a.at("status").as_int64(), 200);
  EXPECT_EQ(Str(a, "route"), "api");
  EXPECT_EQ(Str(a, "cluster"), "rec");
  EXPECT_EQ(Str(a, "endpoint"), "127.0.0.1:" + std::to_string(upstream_.port()));
  EXPECT_FALSE(a.at("upstream_reused").as_bool()) << "the first request opened the connection";
  EXPECT_GT(a.at("upstream_connect_ms").to_number<double>(), 0.0);
  EXPECT_GT(a.at("upstream_first_byte_ms").to_number<double>(), 0.0);
  EXPECT_EQ(Str(a, "user_agent"), "probe/1");
  EXPECT_EQ(Str(a, "client"), "127.0.0.1");
  EXPECT_EQ(Str(a, "flags"), "");
  EXPECT_EQ(a.at("retries").as_int64(), 0);
  EXPECT_GT(a.at("response_bytes").as_int64(), static_cast<int64_t>(first->body.size()));
  EXPECT_GT(a.at("request_bytes").as_int64(), 20);  // the head as received
  // The generated ID is the one the upstream got.
  const std::string id = Str(a, "request_id");
  EXPECT_NE(requests[0].bytes.find("X-Request-Id: " + id + "\r\n"), std::string::npos)
      << id << "\n" << requests[0].bytes;

  const auto& b = records[1];
  EXPECT_TRUE(b.at("upstream_reused").as_bool()) << "the second request reused it";
  EXPECT_EQ(b.at("upstream_connect_ms").to_number<double>(), 0.0);
  EXPECT_EQ(Str(b, "request_id"), "client-id-2");
  EXPECT_NE(requests[1].bytes.find("X-Request-Id: client-id-2\r\n"), std::string::npos);
  EXPECT_NE(Str(a, "ts"), "<missing>");
  EXPECT_EQ(Str(a, "ts").size(), std::string("2026-12-01T23:31:26.123456Z").size());
}

TEST_F(AccessLogTest, FailuresCarryFlags) {
  ASSERT_NO_FATAL_FAILURE(Start("json"));
  auto none = Get("/nothing");
  RW_ASSERT_OK(none);
  EXPECT_EQ(none->status, 404);
  auto down = Get("/down/x");
  RW_ASSERT_OK(down);
  EXPECT_EQ(down->status, 502);
  auto records = WaitForRecords(2);
  ASSERT_EQ(records.size(), 2u);
  EXPECT_EQ(Str(records[0], "flags"), "NR");
  EXPECT_EQ(records[0].at("status").as_int64(), 404);
  EXPECT_EQ(Str(records[0], "request_id"), none->Header("x-request-id"));
  EXPECT_EQ(Str(records[1], "flags"), "UF");
  EXPECT_EQ(records[1].at("status").as_int64(), 502);
  EXPECT_EQ(Str(records[1], "endpoint"), "127.0.0.1:1");
}

TEST_F(AccessLogTest, TextFormatAndReopenOnSigusr1) {
  ASSERT_NO_FATAL_FAILURE(Start("text"));
  RW_ASSERT_OK(Get("/api/a"));
  ASSERT_TRUE(WaitFor([&] { return Lines(log_path_).size() == 1; }, milliseconds(5000), "line"));
  const std::string line = Lines(log_path_)[0];
  EXPECT_NE(line.find(" 127.0.0.1 \"GET /api/a\" 200 api rec 127.0.0.1:"), std::string::npos)
      << line;
  EXPECT_NE(line.find(" reused=0 retries=0 "), std::string::npos) << line;
  // logrotate: move the file away, signal, and the next lines go to a new file.
  const fs::path rotated = log_path_.string() + ".1";
  fs::rename(log_path_, rotated);
  ASSERT_EQ(::kill(env_.proxy().pid(), SIGUSR1), 0);
  ASSERT_TRUE(WaitFor(
      [&] {
        auto res = Get("/api/b");  // until a line lands in the new file
        return res.ok() && fs::exists(log_path_) && !Lines(log_path_).empty();
      },
      milliseconds(5000), "a new access.log after SIGUSR1"));
  EXPECT_EQ(Lines(rotated).size(), 1u);
  EXPECT_NE(Lines(log_path_)[0].find("\"GET /api/b\""), std::string::npos);
}

}  // namespace
}  // namespace rwtest
