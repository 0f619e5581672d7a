// EndpointMonitor with its real thread: outlier ejection and return, state kept across applies,
// and active health checks against a tiny loopback HTTP server.
#include "server/upstream/endpoint_monitor.h"

#include <condition_variable>
#include <mutex>

#include "boost/asio/read_until.hpp"
#include "boost/asio/write.hpp"
#include "gtest/gtest.h"

namespace rwproxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Answers every request on every connection with `status` (settable), keep-alive. Its threads
// end (sockets shut down, joined) before it is destroyed.
class TinyServer {
 public:
  TinyServer() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    accept_thread_ = std::thread([this] {
      for (;;) {
        auto socket = std::make_shared<tcp::socket>(io_);
        boost::system::error_code ec;
        acceptor_.accept(*socket, ec);
        if (ec || stop_) return;
        std::lock_guard<std::mutex> lock(mu_);
        sockets_.push_back(socket);
        threads_.emplace_back([this, socket] { Serve(*socket); });
      }
    });
  }
  ~TinyServer() {
    stop_ = true;
    boost::system::error_code ec;
    tcp::socket poke(io_);
    poke.connect(acceptor_.local_endpoint(), ec);
    accept_thread_.join();
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& socket : sockets_) socket->shutdown(tcp::socket::shutdown_both, ec);
    for (auto& thread : threads_) thread.join();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }
  std::atomic<int> status{200};
  std::atomic<bool> close_after_reply{false};  // a keep-alive timeout shorter than the interval

 private:
  void Serve(tcp::socket& socket) {
    std::string buffer;
    for (;;) {
      boost::system::error_code ec;
      size_t n = asio::read_until(socket, asio::dynamic_buffer(buffer), "\r\n\r\n", ec);
      if (ec || stop_) return;
      buffer.erase(0, n);
      std::string reply =
          "HTTP/1.1 " + std::to_string(status.load()) + " X\r\nContent-Length: 2\r\n\r\nok";
      asio::write(socket, asio::buffer(reply), ec);
      if (ec) return;
      if (close_after_reply) {
        socket.shutdown(tcp::socket::shutdown_both, ec);
        return;
      }
    }
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::atomic<bool> stop_{false};
  std::mutex mu_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
  std::thread accept_thread_;
};

class EndpointMonitorTest : public testing::Test {
 protected:
  EndpointMonitorTest()
      : monitor_(&registry_, [this](std::shared_ptr<const HostMap> map) {
          std::lock_guard<std::mutex> lock(mu_);
          latest_ = std::move(map);
          cv_.notify_all();
        }) {}

  std::shared_ptr<const Snapshot> Make(std::vector<uint16_t> ports,
                                       std::function<void(ClusterSpec*)> edit) {
    ConfigSpec spec;
    ClusterSpec& cluster = spec.clusters.emplace_back();
    cluster.name = "app";
    for (uint16_t port : ports) cluster.endpoints.push_back({"127.0.0.1", port});
    if (edit) edit(&cluster);
    std::vector<FieldError> errors;
    auto snapshot = Compile(spec, ++version_, &errors);
    EXPECT_TRUE(errors.empty());
    return snapshot;
  }

  // Waits (5 s at most) for a published map in which `available` endpoints of "app" are up.
  bool WaitAvailable(size_t available) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(5), [&] {
      return latest_ && latest_->clusters.at("app")->available.size() == available;
    });
  }

  EndpointStatus StatusOf(const std::string& key) {
    for (const auto& cluster : monitor_.Status()) {
      for (const auto& endpoint : cluster.endpoints) {
        if (endpoint.address == key) return endpoint;
      }
    }
    ADD_FAILURE() << "no endpoint " << key;
    return {};
  }

  EndpointRegistry registry_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const HostMap> latest_;
  uint64_t version_ = 0;
  EndpointMonitor monitor_;
};

OutlierSpec FastOutlier() {
  OutlierSpec spec;
  spec.consecutive_5xx = 3;
  spec.base_ejection_time = absl::Milliseconds(300);
  spec.max_ejection_time = absl::Seconds(10);
  spec.max_ejection_percent = 100;
  return spec;
}

TEST_F(EndpointMonitorTest, UpdateReturnsEveryEndpointAvailable) {
  auto map = monitor_.Update(Make({2001, 2002}, {}));
  ASSERT_EQ(map->clusters.count("app"), 1u);
  EXPECT_EQ(map->clusters.at("app")->endpoints.size(), 2u);
  EXPECT_EQ(map->clusters.at("app")->available.size(), 2u);
  auto next = monitor_.Update(Make({2001}, {}));
  EXPECT_GT(next->generation, map->generation);
  EXPECT_EQ(next->clusters.at("app")->endpoints.size(), 1u);
}

TEST_F(EndpointMonitorTest, EjectsAtTheThresholdThenReturns) {
  monitor_.Update(Make({2001, 2002}, [](ClusterSpec* c) { c->outlier = FastOutlier(); }));
  // A report without the count behind it (a success reset it) ejects nobody.
  monitor_.ReportOutlier("app", "127.0.0.1:2001", OutlierKind::k5xx);
  registry_.Get("127.0.0.1:2001")->consecutive_5xx = 3;
  monitor_.ReportOutlier("app", "127.0.0.1:2001", OutlierKind::k5xx);
  ASSERT_TRUE(WaitAvailable(1));
  EndpointStatus ejected = StatusOf("127.0.0.1:2001");
  EXPECT_EQ(ejected.health, "ejected");
  EXPECT_EQ(ejected.reason, "3 consecutive 5xx; ejected for 300ms");
  EXPECT_EQ(registry_.Get("127.0.0.1:2001")->consecutive_5xx.load(), 0u);
  ASSERT_TRUE(WaitAvailable(2));  // back after 300 ms
  EXPECT_EQ(StatusOf("127.0.0.1:2001").health, "healthy");
  // Failing again right away: twice as long.
  registry_.Get("127.0.0.1:2001")->consecutive_5xx = 3;
  monitor_.ReportOutlier("app", "127.0.0.1:2001", OutlierKind::k5xx);
  ASSERT_TRUE(WaitAvailable(1));
  EXPECT_EQ(StatusOf("127.0.0.1:2001").reason, "3 consecutive 5xx; ejected for 600ms");
  EXPECT_EQ(StatusOf("127.0.0.1:2001").ejections, 2u);
}

TEST_F(EndpointMonitorTest, AnApplyKeepsTheStateOfEndpointsThatStay) {
  monitor_.Update(Make({2001, 2002}, [](ClusterSpec* c) { c->outlier = FastOutlier(); }));
  registry_.Get("127.0.0.1:2002")->consecutive_5xx = 3;
  monitor_.ReportOutlier("app", "127.0.0.1:2002", OutlierKind::k5xx);
  ASSERT_TRUE(WaitAvailable(1));
  // New outlier settings and one more endpoint: 2002 stays ejected.
  auto map = monitor_.Update(Make({2001, 2002, 2003}, [](ClusterSpec* c) {
    OutlierSpec outlier = FastOutlier();
    outlier.base_ejection_time = absl::Seconds(5);
    c->outlier = outlier;
  }));
  const HostSet& set = *map->clusters.at("app");
  ASSERT_EQ(set.endpoints.size(), 3u);
  EXPECT_EQ(set.available.size(), 2u);
  EXPECT_EQ(StatusOf("127.0.0.1:2002").health, "ejected");
}

TEST_F(EndpointMonitorTest, MaxEjectionPercentKeepsEndpointsIn) {
  monitor_.Update(Make({2001, 2002}, [](ClusterSpec* c) {
    OutlierSpec outlier = FastOutlier();
    outlier.max_ejection_percent = 50;
    outlier.base_ejection_time = absl::Seconds(30);
    c->outlier = outlier;
  }));
  for (const char* key : {"127.0.0.1:2001", "127.0.0.1:2002"}) {
    registry_.Get(key)->consecutive_5xx = 3;
    monitor_.ReportOutlier("app", key, OutlierKind::k5xx);
  }
  ASSERT_TRUE(WaitAvailable(1));
  // Both reports are handled in order on the monitor thread; Status runs after them.
  int ejected = 0;
  for (const auto& endpoint : monitor_.Status()[0].endpoints)
    ejected += endpoint.health == "ejected";
  EXPECT_EQ(ejected, 1);
}

TEST_F(EndpointMonitorTest, ActiveChecksMarkUnhealthyAndHealthyAgain) {
  TinyServer server;
  monitor_.Update(Make({server.port()}, [](ClusterSpec* c) {
    HealthCheckSpec check;
    check.path = "/healthz";
    check.interval = absl::Milliseconds(50);
    check.timeout = absl::Milliseconds(50);
    check.unhealthy_threshold = 2;
    check.healthy_threshold = 2;
    c->health_check = check;
  }));
  const std::string key = "127.0.0.1:" + std::to_string(server.port());
  server.status = 503;
  ASSERT_TRUE(WaitAvailable(0));
  EndpointStatus status = StatusOf(key);
  EXPECT_EQ(status.health, "unhealthy");
  EXPECT_NE(status.reason.find("consecutive failed health checks: status 503"), std::string::npos)
      << status.reason;
  server.status = 204;
  ASSERT_TRUE(WaitAvailable(1));
  EXPECT_EQ(StatusOf(key).health, "healthy");
  StatsSnapshot stats;
  monitor_.Collect(&stats);
  EXPECT_GE(stats.clusters["app"]["health_check_failure"], 2u);
  EXPECT_GE(stats.clusters["app"]["health_check_success"], 2u);
  EXPECT_EQ(stats.clusters["app"]["endpoints_healthy"], 1u);
}

TEST_F(EndpointMonitorTest, AKeptAliveCheckConnectionTheEndpointClosedIsNotAFailure) {
  TinyServer server;
  server.close_after_reply = true;  // every check finds its kept-alive connection closed
  monitor_.Update(Make({server.port()}, [](ClusterSpec* c) {
    HealthCheckSpec check;
    check.path = "/healthz";
    check.interval = absl::Milliseconds(50);
    check.timeout = absl::Milliseconds(50);
    check.unhealthy_threshold = 1;
    check.healthy_threshold = 2;
    c->health_check = check;
  }));
  server.status = 503;
  ASSERT_TRUE(WaitAvailable(0));
  server.status = 200;
  ASSERT_TRUE(WaitAvailable(1));  // needs 2 successes in a row: none may fail on a stale socket
  StatsSnapshot before;
  monitor_.Collect(&before);
  std::unique_lock<std::mutex> lock(mu_);
  // Stays healthy over several more checks.
  EXPECT_FALSE(cv_.wait_for(lock, std::chrono::milliseconds(600),
                            [&] { return latest_->clusters.at("app")->available.empty(); }));
  lock.unlock();
  StatsSnapshot after;
  monitor_.Collect(&after);
  EXPECT_GE(after.clusters["app"]["health_check_success"] -
                before.clusters["app"]["health_check_success"],
            3u);
  EXPECT_EQ(after.clusters["app"]["health_check_failure"],
            before.clusters["app"]["health_check_failure"]);
}

}  // namespace
}  // namespace rwproxy
