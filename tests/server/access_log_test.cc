// The access log: record formatting (JSON and text), flags, request IDs, the writer's bounded
// queue (a sink that blocks drops and counts lines instead of blocking), and reopen on SIGUSR1.
#include "server/log/access_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "gtest/gtest.h"
#include "server/http/access_record.h"

namespace rwproxy {
namespace {

namespace fs = std::filesystem;

AccessRecord Sample() {
  AccessRecord r;
  r.started = true;
  r.start_unix_us = 1764632000123456;  // 2025-12-01T23:33:20.123456Z
  r.start = std::chrono::steady_clock::time_point(std::chrono::seconds(100));
  r.method = "GET";
  r.authority = "app.local";
  r.path = "/api/users/7?x=\"1\"";
  r.upstream_path = "/users/7?x=\"1\"";
  r.status = 200;
  r.route = "api";
  r.cluster = "app";
  r.endpoint = "127.0.0.1:8081";
  r.upstream_reused = true;
  r.retries = 1;
  r.request_bytes = 120;
  r.response_bytes = 345;
  r.connect_us = 0;
  r.first_byte_us = 1500;
  r.client = "127.0.0.1";
  r.request_id = "abc-1";
  r.user_agent = "curl/8";
  r.flags = kFlagRetryLimit | kFlagReset;
  return r;
}

TEST(AccessRecordTest, JsonLineHasEveryField) {
  std::string line;
  AccessRecord r = Sample();
  FormatAccessRecord(r, AccessLogFormat::kJson, r.start + std::chrono::microseconds(2250), &line);
  EXPECT_EQ(line,
            "{\"ts\":\"2025-12-01T23:33:20.123456Z\",\"method\":\"GET\",\"authority\":\"app.local\","
            "\"path\":\"/api/users/7?x=\\\"1\\\"\",\"upstream_path\":\"/users/7?x=\\\"1\\\"\","
            "\"status\":200,\"route\":\"api\",\"cluster\":\"app\",\"endpoint\":\"127.0.0.1:8081\","
            "\"upstream_reused\":true,\"retries\":1,\"request_bytes\":120,\"response_bytes\":345,"
            "\"duration_ms\":2.250,\"upstream_connect_ms\":0.000,\"upstream_first_byte_ms\":1.500,"
            "\"client\":\"127.0.0.1\",\"request_id\":\"abc-1\",\"user_agent\":\"curl/8\","
            "\"flags\":\"UR,RL\"}\n");
}

TEST(AccessRecordTest, TextLineIsOneLine) {
  std::string line;
  AccessRecord r = Sample();
  r.user_agent = "evil\nagent";
  FormatAccessRecord(r, AccessLogFormat::kText, r.start + std::chrono::microseconds(2250), &line);
  EXPECT_EQ(line,
            "2025-12-01T23:33:20.123456Z 127.0.0.1 \"GET /api/users/7?x=?1?\" 200 api app "
            "127.0.0.1:8081 reused=1 retries=1 120 345 2.250 0.000 1.500 \"/users/7?x=\\\"1\\\"\" "
            "app.local abc-1 \"evil?agent\" UR,RL\n");
}

TEST(AccessRecordTest, JsonLinesStayValidUtf8) {
  std::string line;
  AccessRecord r = Sample();
  r.user_agent = "caf\xc3\xa9 \xff";  // valid UTF-8, then a stray byte
  FormatAccessRecord(r, AccessLogFormat::kJson, r.start, &line);
  EXPECT_NE(line.find("\"user_agent\":\"caf\xc3\xa9 \\ufffd\""), std::string::npos) << line;
}

TEST(AccessRecordTest, FlagCodes) {
  EXPECT_EQ(FlagCodes(0), "");
  EXPECT_EQ(FlagCodes(kFlagNoRoute), "NR");
  EXPECT_EQ(FlagCodes(kFlagConnectFailure | kFlagOverflow | kFlagTimeout | kFlagDownstreamClosed |
                      kFlagBadRequest | kFlagBadResponse),
            "UF,UO,UT,DC,BR,UM");
}

TEST(RequestIdTest, ValidIdsAreKeptOthersReplaced) {
  EXPECT_TRUE(IsValidRequestId("7f3c9a2e-1b4d-4c8e-9f00-123456789abc"));
  EXPECT_TRUE(IsValidRequestId("a.b_c:d+e=f/g"));
  EXPECT_FALSE(IsValidRequestId(""));
  EXPECT_FALSE(IsValidRequestId("with space"));
  EXPECT_FALSE(IsValidRequestId("quote\""));
  EXPECT_FALSE(IsValidRequestId(std::string(201, 'a')));
}

TEST(RequestIdTest, GeneratedIdsAreUniqueAcrossWorkersAndValid) {
  RequestIdGenerator a(0x123456789abcULL, 0);
  RequestIdGenerator b(0x123456789abcULL, 1);
  std::set<std::string> seen;
  std::string id;
  for (int i = 0; i < 1000; ++i) {
    a.Next(&id);
    EXPECT_TRUE(IsValidRequestId(id)) << id;
    seen.insert(id);
    b.Next(&id);
    seen.insert(id);
  }
  EXPECT_EQ(seen.size(), 2000u);
  EXPECT_EQ(*seen.begin(), "123456789abc-0-1");
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

TEST(AccessLogTest, WritesSubmittedLinesToAFile) {
  const fs::path path = fs::temp_directory_path() / ("rw_access_" + std::to_string(::getpid()));
  fs::remove(path);
  {
    auto log = AccessLog::Open(path.string(), AccessLogFormat::kJson);
    ASSERT_TRUE(log.ok()) << log.status();
    AccessLogBuffer buffer(log->get());
    buffer.line().append("one\n");
    buffer.End();
    buffer.line().append("two\n");
    buffer.End();
    buffer.Hand();
    (*log)->Flush();
    EXPECT_EQ(ReadFile(path), "one\ntwo\n");
    EXPECT_EQ((*log)->written(), 2u);
  }
  fs::remove(path);
}

TEST(AccessLogTest, ABlockedSinkDropsAndCountsInsteadOfBlocking) {
  const fs::path fifo = fs::temp_directory_path() / ("rw_fifo_" + std::to_string(::getpid()));
  fs::remove(fifo);
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  const int reader = ::open(fifo.c_str(), O_RDONLY | O_NONBLOCK);  // open, but never read
  ASSERT_GE(reader, 0);
  auto log = AccessLog::Open(fifo.string(), AccessLogFormat::kJson);
  ASSERT_TRUE(log.ok()) << log.status();
  const std::string chunk(64 * 1024, 'x');
  const auto start = std::chrono::steady_clock::now();
  constexpr int kChunks = 200;  // 12.5 MiB: far more than the pipe and the queue hold
  for (int i = 0; i < kChunks; ++i) (*log)->Submit(chunk, 10);
  const auto took = std::chrono::steady_clock::now() - start;
  EXPECT_LT(took, std::chrono::seconds(2)) << "Submit blocked on the sink";
  EXPECT_GE((*log)->dropped(), 10u * (kChunks - AccessLog::kMaxQueuedChunks - 2));
  // Unblock the writer so that the log can stop: drain the pipe until it is done.
  std::atomic<bool> done{false};
  std::thread drain([&] {
    char buf[65536];
    while (!done) {
      if (::read(reader, buf, sizeof(buf)) <= 0) std::this_thread::yield();
    }
  });
  log->reset();
  done = true;
  drain.join();
  ::close(reader);
  fs::remove(fifo);
}

TEST(AccessLogTest, Sigusr1ReopensTheFile) {
  const fs::path path = fs::temp_directory_path() / ("rw_rotate_" + std::to_string(::getpid()));
  const fs::path rotated = path.string() + ".1";
  fs::remove(path);
  fs::remove(rotated);
  auto log = AccessLog::Open(path.string(), AccessLogFormat::kText);
  ASSERT_TRUE(log.ok());
  (*log)->Submit("before\n", 1);
  (*log)->Flush();
  fs::rename(path, rotated);  // logrotate moves the file, then signals
  ASSERT_EQ(::kill(::getpid(), SIGUSR1), 0);
  (*log)->Submit("after\n", 1);
  (*log)->Flush();
  EXPECT_EQ(ReadFile(rotated), "before\n");
  EXPECT_EQ(ReadFile(path), "after\n");
  log->reset();
  fs::remove(path);
  fs::remove(rotated);
}

}  // namespace
}  // namespace rwproxy
