// Active HTTP health checks of one endpoint of one cluster: every `interval`, GET `path` with the
// configured Host, on a kept-alive connection (a new one only after a close or a failure),
// bounded by `timeout`. The response is read with the data plane's own strict codec and framing
// policy; a status in expected_statuses is a success. Each result goes to `report`.
//
// Cheap at scale: a checker has no timer of its own. The EndpointMonitor's tick (every 100 ms)
// calls Tick() on every checker, which starts the checks that are due and ends those past their
// timeout; so a thousand endpoints' checks are sent in batches and their answers handled in a few
// epoll wake-ups, instead of one timer and several wake-ups per check.
//
// Ownership: shared by the EndpointMonitor's endpoint state and a running check's coroutine;
// Stop() ends it (no report after it). Thread-safety: the monitor thread only.
#ifndef RWPROXY_SERVER_UPSTREAM_HEALTH_CHECKER_H_
#define RWPROXY_SERVER_UPSTREAM_HEALTH_CHECKER_H_

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "boost/asio/awaitable.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "config/spec.h"
#include "server/tls/client_tls.h"
#include "server/tls/tls_stream.h"

namespace rwproxy {

class HealthChecker : public std::enable_shared_from_this<HealthChecker> {
 public:
  // The checker, ok, and a short detail for the endpoint's "reason" ("status 503",
  // "timeout after 500ms").
  using Report = std::function<void(HealthChecker* checker, bool ok, const std::string& detail)>;

  HealthChecker(boost::asio::io_context& io, boost::asio::ip::tcp::endpoint address,
                std::string host, HealthCheckSpec spec, Report report);

  using Clock = std::chrono::steady_clock;
  // The first check is due at `first` (spread over the interval by the monitor).
  void Start(Clock::time_point first) { next_ = first; }
  // Starts the check if it is due; ends a running one that is past its timeout.
  void Tick(Clock::time_point now);
  void Stop();
  // The cluster speaks TLS: checks handshake like the data plane's connections (same context,
  // server name and verification), before the first check.
  void SetTls(std::shared_ptr<const UpstreamTls> tls, std::string server_name) {
    tls_ = std::move(tls);
    server_name_ = std::move(server_name);
  }

 private:
  struct Result {
    bool ok = false;
    std::string detail;
    bool nothing_received = false;  // the send or read failed before any answer byte
  };
  boost::asio::awaitable<void> Run();
  boost::asio::awaitable<Result> Exchange();
  boost::asio::awaitable<Result> ExchangeOnce();
  bool PeerClosed();
  void Close();
  // Reads more of the answer: waits for readability (no speculative read that finds nothing).
  boost::asio::awaitable<boost::system::error_code> ReadMore();
  // TLS: the handshake ("" when done, else why it failed), the request write, and a readiness
  // wait for what OpenSSL asked for.
  boost::asio::awaitable<std::string> Handshake();
  boost::asio::awaitable<boost::system::error_code> WriteRequest();
  boost::asio::awaitable<boost::system::error_code> WaitFor(TlsStream::Result want);
  std::shared_ptr<const UpstreamTls> tls_;
  std::string server_name_;
  std::unique_ptr<TlsStream> stream_;  // the open connection's TLS (freed before the socket)

  boost::asio::ip::tcp::endpoint address_;
  HealthCheckSpec spec_;
  std::string request_;  // the GET, built once
  Report report_;
  boost::asio::ip::tcp::socket socket_;
  std::string buffer_;
  Clock::time_point next_{};
  Clock::time_point started_{};
  bool running_ = false;
  bool stopped_ = false;
  bool timed_out_ = false;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_HEALTH_CHECKER_H_
