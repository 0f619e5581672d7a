// Server::Publish with a wedged worker: the publish returns at its deadline naming the worker,
// the worker is reported (Lagging, which /ready uses) until it catches up, counters are still
// collected from the others, and later publishes are not blocked.
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "gtest/gtest.h"
#include "server/runtime/server.h"
#include "tests/support/wait.h"

namespace rwproxy {
namespace {

std::shared_ptr<const Snapshot> Empty(uint64_t version) {
  auto snapshot = std::make_shared<Snapshot>();
  snapshot->version = version;
  return snapshot;
}

class Latch {
 public:
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return open_; });
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    open_ = true;
    cv_.notify_all();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool open_ = false;
};

TEST(PublishTest, WedgedWorkerIsReportedAndDoesNotBlockLaterPublishes) {
  Server server(2, 1);
  ASSERT_TRUE(server.Listen(boost::asio::ip::tcp::endpoint(
                                boost::asio::ip::make_address("127.0.0.1"), 0))
                  .ok());
  ASSERT_TRUE(server.Publish(Empty(1), absl::Seconds(5)).ok());  // before Start: applied inline
  server.Start();
  ASSERT_TRUE(server.Publish(Empty(2), absl::Seconds(5)).ok());
  EXPECT_EQ(server.Lagging(), "");

  auto latch = std::make_shared<Latch>();
  server.RunOnWorker(1, [latch] { latch->Wait(); });  // worker 1 is stuck from now on
  absl::Status late = server.Publish(Empty(3), absl::Milliseconds(200));
  EXPECT_EQ(late.code(), absl::StatusCode::kDeadlineExceeded) << late;
  EXPECT_NE(late.message().find("worker(s) 1 did not confirm config version 3"),
            absl::string_view::npos)
      << late;
  EXPECT_EQ(server.current()->version, 3u);
  EXPECT_EQ(server.Lagging(), "worker 1 (version 2 of 3)");
  // Counters: the stuck worker is left out and counted, the call still returns.
  StatsSnapshot stats = server.CollectStats();
  EXPECT_EQ(stats.server["workers_unresponsive"], 1u);
  // The next publish is not blocked behind the stuck one; it too reports worker 1.
  EXPECT_EQ(server.Publish(Empty(4), absl::Milliseconds(100)).code(),
            absl::StatusCode::kDeadlineExceeded);

  latch->Open();  // worker 1 runs again and catches up with both snapshots
  EXPECT_TRUE(rwtest::WaitFor([&] { return server.Lagging().empty(); }, std::chrono::seconds(10),
                              "worker 1 catches up"));
  EXPECT_TRUE(server.Publish(Empty(5), absl::Seconds(5)).ok());
  EXPECT_EQ(server.CollectStats().server["workers_unresponsive"], 0u);
  server.Stop();
}

}  // namespace
}  // namespace rwproxy
