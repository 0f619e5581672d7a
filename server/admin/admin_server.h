// The admin listener: GET /ready (200 once serving, 503 while draining), GET /healthz (200 while
// the process runs), GET /stats (text), GET /metrics (Prometheus text format) and GET /clusters
// (every cluster and endpoint with its health, connections and counters: JSON, or a table with
// ?format=text). Low traffic, so one thread of its own; it never runs on a worker.
//
// Ownership: created by main. Thread-safety: Listen/Start/Stop from the main thread; the
// handlers are called on the admin thread.
#ifndef RWPROXY_SERVER_ADMIN_ADMIN_SERVER_H_
#define RWPROXY_SERVER_ADMIN_ADMIN_SERVER_H_

#include <functional>
#include <optional>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "server/stats/counters.h"
#include "server/upstream/cluster_status.h"

namespace rwproxy {

struct AdminHandlers {
  std::function<bool()> ready;
  std::function<StatsSnapshot()> stats;
  // Empty: /clusters answers 503.
  std::function<std::vector<ClusterStatus>()> clusters = {};
};

class AdminServer {
 public:
  explicit AdminServer(AdminHandlers handlers);
  ~AdminServer();

  absl::Status Listen(const boost::asio::ip::tcp::endpoint& endpoint);
  void Start();
  void Stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const;

 private:
  boost::asio::awaitable<void> Accept();
  boost::asio::awaitable<void> Serve(boost::asio::ip::tcp::socket socket);

  AdminHandlers handlers_;
  boost::asio::io_context io_{1};
  std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
  std::thread thread_;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_ADMIN_ADMIN_SERVER_H_
