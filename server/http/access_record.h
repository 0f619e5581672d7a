// What the access log says about one request, filled by the session (phases 1-4, local replies)
// and the exchange (phases 5-10), and formatted once at the end of the request into the
// worker's AccessLogBuffer. Strings are copied into the record (their capacity is reused with
// the pooled RequestState), because the client buffer moves on while the request runs.
// Also: request IDs (x-request-id kept when valid, else generated per worker).
//
// Ownership: one per RequestState. Thread-safety: the worker thread that owns the request.
#ifndef RWPROXY_SERVER_HTTP_ACCESS_RECORD_H_
#define RWPROXY_SERVER_HTTP_ACCESS_RECORD_H_

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "server/log/access_log.h"

namespace rwproxy {

// Short codes of what went wrong, in the `flags` field (README, "Access log").
enum AccessFlag : uint32_t {
  kFlagNoRoute = 1 << 0,          // NR
  kFlagConnectFailure = 1 << 1,   // UF: upstream connect failure (any try)
  kFlagOverflow = 1 << 2,         // UO: pool full or circuit breaker open
  kFlagTimeout = 1 << 3,          // UT: upstream timeout (route or per-try)
  kFlagReset = 1 << 4,            // UR: upstream closed or reset before a whole answer
  kFlagDownstreamClosed = 1 << 5, // DC: the client went away before the response was sent
  kFlagRetryLimit = 1 << 6,       // RL: a retry was wanted but max, budget or max_retries said no
  kFlagBadRequest = 1 << 7,       // BR: the request was rejected (framing, path, body)
  kFlagBadResponse = 1 << 8,      // UM: malformed upstream response
};

struct AccessRecord {
  bool started = false;  // a request head was parsed
  int64_t start_unix_us = 0;
  std::chrono::steady_clock::time_point start;
  std::string method;
  std::string authority;
  std::string path;           // the request target as received
  std::string upstream_path;  // after normalization and rewrite
  std::string route;
  std::string cluster;
  std::string endpoint;
  std::string client;
  std::string request_id;
  std::string user_agent;
  int status = 0;
  bool upstream_reused = false;
  int retries = 0;
  uint64_t request_bytes = 0;
  uint64_t response_bytes = 0;
  int64_t connect_us = 0;     // 0 when the connection was reused
  int64_t first_byte_us = -1;  // request sent -> response head; -1: none
  uint32_t flags = 0;

  void Reset() {
    started = false;
    method.clear();
    authority.clear();
    path.clear();
    client.clear();
    request_id.clear();
    user_agent.clear();
    upstream_path.clear();
    route.clear();
    cluster.clear();
    endpoint.clear();
    status = 0;
    upstream_reused = false;
    retries = 0;
    request_bytes = response_bytes = 0;
    connect_us = 0;
    first_byte_us = -1;
    flags = 0;
  }
};

// Wall-clock microseconds for a steady-clock time point, from an offset this thread refreshes
// once a second (one clock read per request instead of two).
int64_t UnixMicros(std::chrono::steady_clock::time_point at);

// Appends one line (with its newline) for `record`, ended at `end`.
void FormatAccessRecord(const AccessRecord& record, AccessLogFormat format,
                        std::chrono::steady_clock::time_point end, std::string* out);

// "NR,UF": the flags' codes, comma-separated ("-" when none, in text).
std::string FlagCodes(uint32_t flags);

// A client's x-request-id is kept when it is 1..200 characters of [A-Za-z0-9._:+=/-].
bool IsValidRequestId(std::string_view id);

// Generates request IDs unique per process and worker: "<process nonce>-<worker>-<counter>".
class RequestIdGenerator {
 public:
  RequestIdGenerator(uint64_t process_nonce, unsigned worker);
  // Overwrites *out.
  void Next(std::string* out);

 private:
  char prefix_[24];
  size_t prefix_size_ = 0;
  uint64_t counter_ = 0;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_ACCESS_RECORD_H_
