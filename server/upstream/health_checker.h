// One active HTTP health check loop for one endpoint of one cluster: every `interval`, GET
// `path` with the configured Host, on a kept-alive connection (a new one only after a close or a
// failure), bounded by `timeout`. The response is read with the data plane's own strict codec
// and framing policy; a status in expected_statuses is a success. Each result goes to `report`.
//
// Ownership: shared by the EndpointMonitor's endpoint state and the check coroutine; Stop() ends
// the loop (no report after it). Thread-safety: the monitor thread only.
#ifndef RWPROXY_SERVER_UPSTREAM_HEALTH_CHECKER_H_
#define RWPROXY_SERVER_UPSTREAM_HEALTH_CHECKER_H_

#include <functional>
#include <memory>
#include <string>

#include "boost/asio/awaitable.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/steady_timer.hpp"
#include "server/config/spec.h"

namespace rwproxy {

class HealthChecker : public std::enable_shared_from_this<HealthChecker> {
 public:
  // The checker, ok, and a short detail for the endpoint's "reason" ("status 503",
  // "timeout after 500ms").
  using Report = std::function<void(HealthChecker* checker, bool ok, const std::string& detail)>;

  HealthChecker(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint address,
                std::string host, HealthCheckSpec spec, Report report);

  // The first check runs after `first_delay` (spreads a thousand checkers over the interval).
  void Start(std::chrono::milliseconds first_delay);
  void Stop();

 private:
  struct Result {
    bool ok = false;
    std::string detail;
  };
  boost::asio::awaitable<void> Loop();
  boost::asio::awaitable<Result> CheckOnce();
  boost::asio::awaitable<Result> Exchange();

  boost::asio::ip::tcp::endpoint address_;
  HealthCheckSpec spec_;
  std::string request_;  // the GET, built once
  Report report_;
  boost::asio::ip::tcp::socket socket_;
  boost::asio::steady_timer interval_;
  boost::asio::steady_timer deadline_;
  std::string buffer_;
  bool stopped_ = false;
  bool timed_out_ = false;
  std::chrono::milliseconds first_delay_{0};
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_HEALTH_CHECKER_H_
