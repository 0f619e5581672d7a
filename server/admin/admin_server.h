// The admin listener: plain HTTP/1.1, low traffic, so one thread of its own; it never runs on a
// worker. Endpoints (GET also answers HEAD, except /drain):
//
//   GET  /                    the dashboard page (dashboard.h)
//   GET  /ready               200 while serving, 503 while draining or before the first config
//   GET  /healthz             200 while the process runs
//   GET  /stats               `cluster.app.rq_total: 3` lines; ?format=json for one JSON object
//                             (StatsSnapshot::ToJson); ?filter=REGEX keeps the counters whose
//                             dotted name the RE2 regex matches (partial match; 400 if invalid)
//   GET  /metrics             Prometheus text format; ?filter=REGEX as for /stats
//   GET  /clusters            every cluster and endpoint with health and counters (JSON;
//                             ?format=text for a table)
//   GET  /config_dump         the live config with defaults filled in and endpoints as
//                             resolved now (JSON, config_dump.h)
//   GET  /server_info         version, build, uptime, workers, config version, state dir, flags
//   GET  /logging             the diagnostics log level
//   POST /logging?level=L     sets it: debug | info | warn | error (400 otherwise)
//   POST /drain               starts the graceful drain (/ready fails, keep-alive connections
//                             close after their response) without exiting; "draining"
//   GET  /drain?wait=D[&min=M]  the same, answering only when no client connection is left (and
//                             M has passed) or after D (at most 5m): {"drained":true|false,
//                             "open_connections":N,"waited_ms":T}. For a Kubernetes preStop hook
//   POST /quitquitquit        answers 200, then drains and exits 0 as on SIGTERM
//
// POST actions answer only clients on loopback (the pod itself: kubectl exec or port-forward);
// others get 403. GET /drain?wait= is open to the kubelet, which calls preStop hooks on the pod
// IP: it only starts the drain that deleting the pod starts anyway. Other methods get 405 with
// an Allow header; unknown paths 404 with the list above.
//
// Ownership: created by main. Thread-safety: Listen/Start/Stop from the main thread; the
// handlers are called on the admin thread.
#ifndef RWPROXY_SERVER_ADMIN_ADMIN_SERVER_H_
#define RWPROXY_SERVER_ADMIN_ADMIN_SERVER_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "server/config/snapshot.h"
#include "server/stats/counters.h"
#include "server/upstream/cluster_status.h"

namespace rwproxy {

namespace admin_internal {
class AdminRoutes;
}

// What GET /server_info reports besides version, build and uptime.
struct ServerInfo {
  int workers = 0;
  std::string state_dir;
  // The flags given on the command line, as given, in the order rwproxy declares them:
  // {"--config", "routes.yaml"}; a flag without a value ("--watch-config") has "true".
  std::vector<std::pair<std::string, std::string>> flags;
};

// What the admin endpoints call. Every member but ready and stats may stay empty; the endpoint
// then answers 503.
struct AdminHandlers {
  std::function<bool()> ready;
  std::function<StatsSnapshot()> stats;
  std::function<std::vector<ClusterStatus>()> clusters = {};
  // The live snapshot (/config_dump, /server_info's config_version).
  std::function<std::shared_ptr<const Snapshot>()> snapshot = {};
  // Starts the graceful drain (Server::BeginDrain); called again by every /drain.
  std::function<void()> begin_drain = {};
  // Makes the process drain and exit as on SIGTERM (main raises SIGTERM).
  std::function<void()> quit = {};
  // --drain-timeout: how long /quitquitquit waits for an admin drain before it exits.
  absl::Duration drain_timeout = absl::Seconds(20);
  ServerInfo info = {};
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
  std::unique_ptr<admin_internal::AdminRoutes> routes_;
  boost::asio::io_context io_{1};
  std::optional<boost::asio::ip::tcp::acceptor> acceptor_;
  std::thread thread_;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_ADMIN_ADMIN_SERVER_H_
