// Runtime fault controls of rwupstream, for resilience tests (health checks, outlier ejection,
// retries): the mode that `GET /__set?KEY=VALUE&...` switches on a live upstream, and the
// counters that /__stats prints besides connections= and requests=.
//
// Ownership: rwupstream has one process-wide Faults object. Thread-safety: every member is an
// atomic, so any io_context thread may read or change it at any time. A /__set query is validated
// as a whole before anything changes, then applied key by key: a request that runs concurrently
// with the /__set may see some of its keys applied and others not yet.
#ifndef RWPROXY_TESTS_SUPPORT_UPSTREAM_FAULTS_H_
#define RWPROXY_TESTS_SUPPORT_UPSTREAM_FAULTS_H_

#include <atomic>
#include <cstdint>
#include <string>
#include <string_view>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/buffer.hpp"
#include "boost/asio/use_awaitable.hpp"

namespace rwupstream {

// The control paths: faults never apply to them and requests_default does not count them.
inline constexpr std::string_view kSetPath = "/__set";
inline constexpr std::string_view kStatsPath = "/__stats";
inline constexpr std::string_view kHealthPath = "/healthz";
bool IsControlPath(std::string_view path);

// A status a test may set for the default path or /healthz: 200..599.
bool ValidStatus(uint64_t status);

class Faults {
 public:
  // Applies a /__set query such as "status=503&delay_ms=20". Keys: status (0 = off, else
  // 200..599), hang (0/1), delay_ms (0..3600000), health (200..599), health_delay_ms
  // (0..3600000). Returns "" once applied, or what is wrong (an unknown key, a bad or missing
  // value, an empty query), in which case nothing changed.
  std::string Apply(std::string_view query);

  // Default-path mode. status() == 0: normal answers.
  unsigned status() const { return status_.load(std::memory_order_relaxed); }
  bool hang() const { return hang_.load(std::memory_order_relaxed); }
  uint64_t delay_ms() const { return delay_ms_.load(std::memory_order_relaxed); }

  // GET /healthz.
  unsigned health_status() const { return health_status_.load(std::memory_order_relaxed); }
  void set_health_status(unsigned status) {
    health_status_.store(status, std::memory_order_relaxed);
  }
  uint64_t health_delay_ms() const { return health_delay_ms_.load(std::memory_order_relaxed); }

  // Counts one received request by its path (control paths other than /healthz count nowhere).
  void Count(std::string_view path);
  uint64_t requests_default() const { return requests_default_.load(); }
  uint64_t health_checks() const { return health_checks_.load(); }

 private:
  std::atomic<unsigned> status_{0};
  std::atomic<bool> hang_{false};
  std::atomic<uint64_t> delay_ms_{0};
  std::atomic<unsigned> health_status_{200};
  std::atomic<uint64_t> health_delay_ms_{0};
  std::atomic<uint64_t> requests_default_{0};
  std::atomic<uint64_t> health_checks_{0};
};

// The hang fault: never answers, reads (and discards) whatever else the client sends and returns
// once the client closes the connection (or the read fails). `Stream`: a plain or TLS stream.
template <class Stream>
boost::asio::awaitable<void> HangUntilClosed(Stream& stream) {
  char scratch[4096];
  for (;;) {
    auto [ec, n] = co_await stream.async_read_some(
        boost::asio::buffer(scratch), boost::asio::as_tuple(boost::asio::use_awaitable));
    if (ec) co_return;
  }
}

}  // namespace rwupstream

#endif  // RWPROXY_TESTS_SUPPORT_UPSTREAM_FAULTS_H_
