// A small blocking HTTP/1.1 client for tests, on Boost.Beast. Every operation is bounded by the
// connection's timeout (an expired operation closes the socket and returns DeadlineExceeded).
//
// Ownership: an HttpConnection owns its socket and a private io_context; the test owns the
// HttpConnection. Thread-safety: one thread at a time per connection; distinct connections may be
// used from distinct threads.
#ifndef RWPROXY_TESTS_SUPPORT_HTTP_CLIENT_H_
#define RWPROXY_TESTS_SUPPORT_HTTP_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"

namespace rwtest {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct HttpResponse {
  int status = 0;
  unsigned version = 11;  // 10 or 11
  Headers headers;        // in the order received
  std::string body;
  bool keep_alive = true;  // whether the response allows another request on the connection

  // The first header named `name` (any case), or "" if there is none.
  std::string Header(std::string_view name) const;
  bool HasHeader(std::string_view name) const;
};

// Result of a streamed download: the body is counted (and checked) but not kept.
struct StreamedResponse {
  int status = 0;
  Headers headers;
  uint64_t body_bytes = 0;
  bool chunked = false;
  bool pattern_ok = true;  // every byte i of the body was 'a' + i % 26 (rwupstream /bytes/N)
};

class HttpConnection {
 public:
  static constexpr std::chrono::milliseconds kDefaultTimeout{10000};

  // Connects to 127.0.0.1:port.
  static absl::StatusOr<std::unique_ptr<HttpConnection>> Connect(
      uint16_t port, std::chrono::milliseconds timeout = kDefaultTimeout);
  ~HttpConnection();

  // Deadline for each following operation (connect, write, read).
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  uint16_t port() const { return port_; }

  // Sends one request and reads its response. Adds Host: 127.0.0.1:port unless `headers` has a
  // Host, and Content-Length when `body` is not empty (or the method is POST/PUT).
  absl::StatusOr<HttpResponse> Send(std::string_view method, std::string_view target,
                                    const Headers& headers = {}, std::string_view body = {});

  // Sends `total_bytes` pattern bytes as a chunked request body (chunks of `chunk_bytes`, written
  // as they are produced), then reads the response.
  absl::StatusOr<HttpResponse> SendChunked(std::string_view method, std::string_view target,
                                           uint64_t total_bytes, size_t chunk_bytes = 1 << 20,
                                           const Headers& headers = {});

  // Sends a GET and reads the response body in pieces without keeping it.
  absl::StatusOr<StreamedResponse> Download(std::string_view target, const Headers& headers = {});

  // Raw access, e.g. for pipelining and Expect: 100-continue: bytes go out exactly as given.
  absl::Status WriteRaw(std::string_view bytes);
  // Reads one response (an interim 1xx counts as one). `head_request`: the response has no body.
  absl::StatusOr<HttpResponse> ReadResponse(bool head_request = false);
  // Reads until the peer closes the connection (or the timeout); returns what arrived.
  absl::StatusOr<std::string> ReadUntilClose();

  void Close();

 private:
  struct Impl;
  explicit HttpConnection(std::unique_ptr<Impl> impl, uint16_t port);

  std::unique_ptr<Impl> impl_;
  uint16_t port_;
  std::chrono::milliseconds timeout_ = kDefaultTimeout;
};

// One request on a fresh connection (closed afterwards).
absl::StatusOr<HttpResponse> Fetch(uint16_t port, std::string_view method, std::string_view target,
                                   const Headers& headers = {}, std::string_view body = {});

// Parses admin /stats text ("name: value" lines).
std::map<std::string, int64_t> ParseStats(std::string_view text);
// GET /stats from the admin port; every counter by name.
absl::StatusOr<std::map<std::string, int64_t>> FetchStats(uint16_t admin_port);
// One counter, e.g. "cluster.app.upstream_cx_total". NotFound if /stats does not list it.
absl::StatusOr<int64_t> FetchCounter(uint16_t admin_port, std::string_view name);

// Parses rwupstream's "key=value" lines (the echo body and /__stats).
std::map<std::string, std::string> ParseKeyValues(std::string_view text);

}  // namespace rwtest

#endif  // RWPROXY_TESTS_SUPPORT_HTTP_CLIENT_H_
