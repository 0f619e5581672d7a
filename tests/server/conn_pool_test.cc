#include "server/upstream/conn_pool.h"

#include <deque>
#include <optional>

#include "boost/asio/co_spawn.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/write.hpp"
#include "gtest/gtest.h"

namespace rwproxy {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using std::chrono::milliseconds;

class ConnPoolTest : public testing::Test {
 protected:
  ConnPoolTest() : acceptor_(io_, tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
    poller_.Start();
    endpoint_ = {"127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()),
                 acceptor_.local_endpoint()};
    Accept();
  }

  void Accept() {
    acceptor_.async_accept([this](boost::system::error_code ec, tcp::socket socket) {
      if (ec) return;
      accepted_.push_back(std::move(socket));
      Accept();
    });
  }

  std::unique_ptr<ConnPool> MakePool(PoolSpec spec, std::shared_ptr<EndpointShared> shared = {}) {
    return std::make_unique<ConnPool>(io_.get_executor(), &poller_, &buffers_, endpoint_,
                                      shared ? shared : shared_, spec);
  }

  // Runs the io_context until `done` holds or 5 s pass.
  bool RunUntil(const std::function<bool()>& done) {
    auto deadline = Clock::now() + std::chrono::seconds(5);
    while (!done() && Clock::now() < deadline) {
      io_.restart();
      io_.run_one_for(milliseconds(10));
    }
    return done();
  }

  // Starts an Acquire; the result lands in *out when it completes.
  void StartAcquire(ConnPool& pool, std::optional<Lease>* out, bool fresh_only = false,
                    milliseconds wait = milliseconds(2000)) {
    Deadline& deadline = deadlines_.emplace_back();
    deadline.After(wait);
    asio::co_spawn(io_, pool.Acquire(&counters_, absl::Seconds(1), &deadline, fresh_only),
                   [out](std::exception_ptr, Lease lease) { *out = std::move(lease); });
  }

  Lease Acquire(ConnPool& pool, bool fresh_only = false) {
    std::optional<Lease> lease;
    StartAcquire(pool, &lease, fresh_only);
    EXPECT_TRUE(RunUntil([&] { return lease.has_value(); }));
    return lease ? std::move(*lease) : Lease{};
  }

  asio::io_context io_;
  Poller poller_{io_};
  BufferPool buffers_;
  std::deque<Deadline> deadlines_;  // one per Acquire; stable addresses
  tcp::acceptor acceptor_;
  std::vector<tcp::socket> accepted_;
  EndpointInfo endpoint_;
  std::shared_ptr<EndpointShared> shared_ = std::make_shared<EndpointShared>();
  ClusterCounters counters_;
};

TEST_F(ConnPoolTest, ReleasedConnectionIsReused) {
  auto pool = MakePool({});
  Lease first = Acquire(*pool);
  ASSERT_EQ(first.error(), AcquireError::kNone);
  EXPECT_FALSE(first.reused());
  UpstreamConn* raw = &first.conn();
  first.Release(true, 0);
  EXPECT_EQ(pool->idle(), 1u);
  EXPECT_EQ(pool->busy(), 0u);

  Lease second = Acquire(*pool);
  EXPECT_TRUE(second.reused());
  EXPECT_EQ(&second.conn(), raw);
  EXPECT_EQ(counters_.upstream_cx_total, 1u);
  EXPECT_EQ(counters_.upstream_rq_reused, 1u);
  EXPECT_TRUE(RunUntil([&] { return accepted_.size() == 1; }));
}

TEST_F(ConnPoolTest, NonReusableReleaseClosesAndFreesTheSlot) {
  auto pool = MakePool({});
  Lease lease = Acquire(*pool);
  EXPECT_EQ(shared_->connections.load(), 1u);
  lease.Release(false, 0);
  EXPECT_EQ(pool->idle(), 0u);
  EXPECT_EQ(shared_->connections.load(), 0u);
  EXPECT_TRUE(pool->empty());
}

TEST_F(ConnPoolTest, FreshOnlySkipsIdleConnections) {
  auto pool = MakePool({});
  Lease lease = Acquire(*pool);
  lease.Release(true, 0);
  Lease fresh = Acquire(*pool, /*fresh_only=*/true);
  EXPECT_FALSE(fresh.reused());
  EXPECT_EQ(counters_.upstream_cx_total, 2u);
}

TEST_F(ConnPoolTest, UpstreamCloseRemovesIdleConnection) {
  auto pool = MakePool({});
  Lease lease = Acquire(*pool);
  lease.Release(true, 0);
  ASSERT_TRUE(RunUntil([&] { return accepted_.size() == 1; }));
  accepted_[0].close();
  // Seen as a readiness event on the idle connection; the worker's sweep closes it.
  EXPECT_TRUE(RunUntil([&] {
    pool->Sweep(Clock::now());
    return pool->idle() == 0;
  }));
  EXPECT_EQ(shared_->connections.load(), 0u);
}

TEST_F(ConnPoolTest, ClosedIdleConnectionIsNeverHandedOut) {
  auto pool = MakePool({});
  Lease lease = Acquire(*pool);
  UpstreamConn* first = &lease.conn();
  lease.Release(true, 0);
  ASSERT_TRUE(RunUntil([&] { return accepted_.size() == 1; }));
  accepted_[0].close();
  ASSERT_TRUE(RunUntil([&] { return first->socket.peer_closed; }));
  Lease next = Acquire(*pool);  // no sweep in between: the take itself checks
  EXPECT_FALSE(next.reused());
  EXPECT_EQ(counters_.upstream_cx_total, 2u);
}

TEST_F(ConnPoolTest, LeaseReleasesItselfAsNotReusable) {
  auto pool = MakePool({});
  {
    Lease lease = Acquire(*pool);
    ASSERT_TRUE(lease);
    EXPECT_EQ(pool->busy(), 1u);
  }  // dropped without Release: an incomplete exchange must not be pooled
  EXPECT_EQ(pool->busy(), 0u);
  EXPECT_EQ(pool->idle(), 0u);
  EXPECT_EQ(shared_->connections.load(), 0u);
}

TEST_F(ConnPoolTest, CloseArrivingWithTheResponseIsNotPooled) {
  auto pool = MakePool({});
  Lease lease = Acquire(*pool);
  ASSERT_TRUE(RunUntil([&] { return accepted_.size() == 1; }));
  accepted_[0].close();  // the upstream's FIN is already there when the lease comes back
  ASSERT_TRUE(RunUntil([&] {
    char byte;
    return ::recv(lease->socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }));
  lease.Release(true, 0);  // the FIN is already there: never pooled
  EXPECT_EQ(pool->idle(), 0u);
  EXPECT_EQ(shared_->connections.load(), 0u);
}

TEST_F(ConnPoolTest, StrayBytesAfterTheResponseAreNotPooled) {
  auto pool = MakePool({});
  Lease lease = Acquire(*pool);
  ASSERT_TRUE(RunUntil([&] { return accepted_.size() == 1; }));
  asio::write(accepted_[0], asio::buffer(std::string_view("HTTP/1.1 200 OK\r\n")));
  ASSERT_TRUE(RunUntil([&] {
    char byte;
    return ::recv(lease->socket.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 1;
  }));
  lease.Release(true, 0);
  EXPECT_EQ(pool->idle(), 0u);
}

TEST_F(ConnPoolTest, WokenWaiterKeepsADrainedPoolAlive) {
  auto pool = MakePool({.max_connections = 1, .max_pending = 1});
  Lease held = Acquire(*pool);
  std::optional<Lease> waiting;
  StartAcquire(*pool, &waiting);
  ASSERT_TRUE(RunUntil([&] { return io_.poll() == 0; }));
  pool->Drain();
  held.Release(false, 0);  // frees the slot and wakes the waiter, which has not resumed yet
  EXPECT_FALSE(pool->empty());  // so the ClusterManager must not delete the pool now
  ASSERT_TRUE(RunUntil([&] { return waiting.has_value(); }));
  waiting.reset();
  EXPECT_TRUE(pool->empty());
}

TEST_F(ConnPoolTest, OverflowWhenFullAndNoQueue) {
  auto pool = MakePool({.max_connections = 1, .max_pending = 0});
  Lease held = Acquire(*pool);
  ASSERT_EQ(held.error(), AcquireError::kNone);
  Lease second = Acquire(*pool);
  EXPECT_EQ(second.error(), AcquireError::kOverflow);
  EXPECT_EQ(counters_.upstream_rq_overflow, 1u);
}

TEST_F(ConnPoolTest, WaiterReceivesReleasedConnection) {
  auto pool = MakePool({.max_connections = 1, .max_pending = 1});
  Lease held = Acquire(*pool);
  UpstreamConn* raw = &held.conn();
  std::optional<Lease> waiting;
  StartAcquire(*pool, &waiting);
  ASSERT_TRUE(RunUntil([&] { return pool->busy() == 1 && io_.poll() == 0; }));
  EXPECT_FALSE(waiting.has_value());  // queued: the only slot is held
  held.Release(true, 0);
  ASSERT_TRUE(RunUntil([&] { return waiting.has_value(); }));
  EXPECT_EQ(waiting->error(), AcquireError::kNone);
  EXPECT_TRUE(waiting->reused());
  EXPECT_EQ(&waiting->conn(), raw);
  EXPECT_EQ(pool->busy(), 1u);
}

TEST_F(ConnPoolTest, WaiterGivesUpAtDeadline) {
  auto pool = MakePool({.max_connections = 1, .max_pending = 4});
  Lease held = Acquire(*pool);
  std::optional<Lease> waiting;
  StartAcquire(*pool, &waiting, false, milliseconds(20));
  // The worker's sweep ends queued requests at their deadline.
  ASSERT_TRUE(RunUntil([&] {
    pool->Sweep(Clock::now());
    return waiting.has_value();
  }));
  EXPECT_EQ(waiting->error(), AcquireError::kOverflow);
}

TEST_F(ConnPoolTest, MaxConnectionsHoldsAcrossWorkersPools) {
  PoolSpec spec{.max_connections = 1, .max_pending = 0};
  auto worker_a = MakePool(spec);
  auto worker_b = MakePool(spec);  // same EndpointShared, as another worker's pool
  Lease held = Acquire(*worker_a);
  ASSERT_EQ(held.error(), AcquireError::kNone);
  EXPECT_EQ(Acquire(*worker_b).error(), AcquireError::kOverflow);
  held.Release(false, 0);
  EXPECT_EQ(Acquire(*worker_b).error(), AcquireError::kNone);
}

TEST_F(ConnPoolTest, IdleTimeoutClosesOnSweep) {
  auto pool = MakePool({.idle_timeout = absl::Seconds(10)});
  Lease lease = Acquire(*pool);
  lease.Release(true, 0);
  pool->Sweep(Clock::now() + std::chrono::seconds(5));
  EXPECT_EQ(pool->idle(), 1u);
  pool->Sweep(Clock::now() + std::chrono::seconds(11));
  EXPECT_EQ(pool->idle(), 0u);
}

TEST_F(ConnPoolTest, KeepAliveHintShortensIdleTime) {
  auto pool = MakePool({.idle_timeout = absl::Seconds(55)});
  Lease lease = Acquire(*pool);
  lease.Release(true, 2000);  // Keep-Alive: timeout=2
  pool->Sweep(Clock::now() + milliseconds(500));
  EXPECT_EQ(pool->idle(), 1u);
  pool->Sweep(Clock::now() + milliseconds(1500));  // closed a second before the upstream would
  EXPECT_EQ(pool->idle(), 0u);
}

TEST_F(ConnPoolTest, MaxRequestsPerConnectionRetiresConnection) {
  auto pool = MakePool({.max_requests_per_connection = 2});
  Lease lease = Acquire(*pool);
  lease->requests = 2;
  lease.Release(true, 0);
  EXPECT_EQ(pool->idle(), 0u);
}

TEST_F(ConnPoolTest, MaxIdleClosesTheSurplus) {
  auto pool = MakePool({.max_idle = 1});
  Lease a = Acquire(*pool);
  Lease b = Acquire(*pool);
  a.Release(true, 0);
  b.Release(true, 0);
  EXPECT_EQ(pool->idle(), 1u);
  EXPECT_EQ(shared_->connections.load(), 1u);
}

TEST_F(ConnPoolTest, DrainClosesIdleNowAndBusyOnRelease) {
  auto pool = MakePool({});
  Lease idle = Acquire(*pool);
  Lease busy = Acquire(*pool);
  idle.Release(true, 0);
  pool->Drain();
  EXPECT_EQ(pool->idle(), 0u);
  EXPECT_EQ(pool->busy(), 1u);
  busy.Release(true, 0);
  EXPECT_TRUE(pool->empty());
  EXPECT_EQ(shared_->connections.load(), 0u);
}

TEST_F(ConnPoolTest, ConnectFailureIsCountedAndFreesTheSlot) {
  tcp::endpoint closed = acceptor_.local_endpoint();
  acceptor_.close();
  endpoint_.address = closed;
  auto pool = MakePool({});
  Lease lease = Acquire(*pool);
  EXPECT_EQ(lease.error(), AcquireError::kConnectFailed);
  EXPECT_EQ(counters_.upstream_cx_connect_fail, 1u);
  EXPECT_EQ(shared_->connections.load(), 0u);
}

}  // namespace
}  // namespace rwproxy
