// Bodies stream through the proxy: large downloads and uploads keep rwproxy's memory bounded
// (a real assertion on RSS: this is about bounded memory, not speed), and Expect: 100-continue.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <string>
#include <thread>

#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/process.h"

namespace rwtest {
namespace {

constexpr uint64_t kMiB = 1 << 20;
constexpr int64_t kMaxGrowth = 16 * kMiB;

// Samples a process's RSS on a helper thread while a transfer runs; Peak() also folds in VmHWM
// when the high-water mark rose during the sampling.
// Ownership: the test owns it. Thread-safety: construct, Peak() and destroy on one thread.
class RssSampler {
 public:
  explicit RssSampler(pid_t pid) : pid_(pid) {
    auto hwm = ReadPeakRssBytes(pid);
    hwm_before_ = hwm.ok() ? *hwm : 0;
    thread_ = std::thread([this] {
      while (!stop_.load()) {
        auto rss = ReadRssBytes(pid_);
        if (rss.ok()) max_ = std::max(max_.load(), *rss);
        std::this_thread::sleep_for(std::chrono::milliseconds(5));  // sampling period
      }
    });
  }
  ~RssSampler() { StopSampling(); }

  int64_t Peak() {
    StopSampling();
    auto hwm = ReadPeakRssBytes(pid_);
    if (hwm.ok() && *hwm > hwm_before_) return std::max(max_.load(), *hwm);
    return max_.load();
  }

 private:
  void StopSampling() {
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }

  pid_t pid_;
  int64_t hwm_before_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> max_{0};
  std::thread thread_;
};

class StreamingTest : public IntegrationTest {
 protected:
  // Starts everything and warms the path up so that first-use allocations are in the baseline.
  void SetUp() override {
    RW_ASSERT_OK(StartApp());
    auto conn = Connect();
    RW_ASSERT_OK(conn);
    auto warm = (*conn)->Download("/api/bytes/4194304");
    RW_ASSERT_OK(warm);
    ASSERT_EQ(warm->body_bytes, 4 * kMiB);
    auto up = (*conn)->SendChunked("POST", "/api/upload", 4 * kMiB);
    RW_ASSERT_OK(up);
    auto rss = ReadRssBytes(env_.proxy().pid());
    RW_ASSERT_OK(rss);
    baseline_ = *rss;
  }

  int64_t baseline_ = 0;
};

TEST_F(StreamingTest, Download256MiBKeepsProxyMemoryBounded) {
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  RssSampler sampler(env_.proxy().pid());
  auto res = (*conn)->Download("/api/bytes/268435456");
  const int64_t peak = sampler.Peak();
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body_bytes, 256 * kMiB);
  EXPECT_TRUE(res->pattern_ok);
  RecordProperty("proxy_rss_growth_bytes", std::to_string(peak - baseline_));
  EXPECT_LT(peak - baseline_, kMaxGrowth) << "baseline " << baseline_ << " peak " << peak;
}

TEST_F(StreamingTest, ChunkedDownloadKeepsProxyMemoryBounded) {
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  RssSampler sampler(env_.proxy().pid());
  auto res = (*conn)->Download("/api/bytes/67108864?chunked=1");
  const int64_t peak = sampler.Peak();
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body_bytes, 64 * kMiB);
  EXPECT_TRUE(res->pattern_ok);
  RecordProperty("proxy_rss_growth_bytes", std::to_string(peak - baseline_));
  EXPECT_LT(peak - baseline_, kMaxGrowth) << "baseline " << baseline_ << " peak " << peak;
}

TEST_F(StreamingTest, ChunkedUpload256MiBKeepsProxyMemoryBounded) {
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  RssSampler sampler(env_.proxy().pid());
  auto res = (*conn)->SendChunked("POST", "/api/upload", 256 * kMiB, 256 * 1024);
  const int64_t peak = sampler.Peak();
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200) << res->body;
  EXPECT_EQ(ParseKeyValues(res->body)["received"], std::to_string(256 * kMiB));
  RecordProperty("proxy_rss_growth_bytes", std::to_string(peak - baseline_));
  EXPECT_LT(peak - baseline_, kMaxGrowth) << "baseline " << baseline_ << " peak " << peak;
}

TEST_F(StreamingTest, ExpectContinueGetsInterim100ThenFinal200) {
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  (*conn)->set_timeout(std::chrono::milliseconds(3000));
  RW_ASSERT_OK(
      (*conn)->WriteRaw("POST /api/upload HTTP/1.1\r\nHost: e\r\nContent-Length: 11\r\n"
                        "Expect: 100-continue\r\n\r\n"));
  // Without the interim response the client would wait here until the timeout.
  auto interim = (*conn)->ReadResponse();
  RW_ASSERT_OK(interim);
  ASSERT_EQ(interim->status, 100);
  RW_ASSERT_OK((*conn)->WriteRaw("hello world"));
  auto res = (*conn)->ReadResponse();
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200) << res->body;
  auto echo = ParseKeyValues(res->body);
  EXPECT_EQ(echo["received"], "11");
  EXPECT_EQ(echo["target"], "/upload");
}

// A client that stops reading for longer than the route timeout while a large response
// streams is not cut off: the route timeout bounds the upstream, the client has its own.
TEST_F(StreamingTest, SlowClientIsNotCutOffByTheRouteTimeout) {  // SetUp started the app
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(env_.proxy_port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  constexpr uint64_t kBody = 32 * kMiB;  // far more than the socket buffers hold
  std::string request = "GET /short/bytes/" + std::to_string(kBody) +
                        " HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  char chunk[65536];
  uint64_t received = 0;
  ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
  ASSERT_GT(n, 0);
  received += static_cast<uint64_t>(n);
  // The stimulus, not a synchronisation: a client that reads nothing for 3x the route's 500 ms.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  while ((n = ::recv(fd, chunk, sizeof(chunk), 0)) > 0) received += static_cast<uint64_t>(n);
  ::close(fd);
  EXPECT_GT(received, kBody);  // the whole body (plus the head) arrived
  EXPECT_EQ(Counter("cluster.app.upstream_rq_timeout"), 0);
}

}  // namespace
}  // namespace rwtest
