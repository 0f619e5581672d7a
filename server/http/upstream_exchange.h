// Phases 5-10 of one proxied request (DESIGN.md §1):
//   5 PickEndpoint  a backend of a weighted split, the circuit breaker (max_requests), then
//                   ClusterManager::Choose: an available endpoint by the LB policy
//   6 Acquire       ConnPool::Acquire -> Lease (releases itself)
//   7 SendRequest   one gather-write: rewritten request line, the client's kept field lines,
//                   added fields, and a small body (read whole first, so it can be replayed)
//   8 ReadResponse  the upstream head; 1xx handled; the framing policy applied to it too
//   9 Relay         bodies in bounded pieces (body_relay.h); a small response body goes out in
//                   the same write as its head
//  10 Finish        the lease goes back reusable only if both messages were complete, framed,
//                   nothing stray is buffered and both sides allow it; counters
// A request that fails on a reused connection before any response byte is retried once on a
// fresh connection when it can be replayed (its body, if any, is still buffered).
// Phases 6-8 form a try. The route's retry policy (server/upstream/retry.h) may run more tries,
// each on an endpoint not tried yet, within the retry budget and max_retries, after a jittered
// backoff; per_try_timeout bounds each try and the route timeout all of them. Every try's
// outcome feeds outlier detection. The answer of the last try is what the client gets.
//
// Ownership: an Exchange lives on the session's coroutine frame, one per request.
// Thread-safety: the worker thread that owns the session.
#ifndef RWPROXY_SERVER_HTTP_UPSTREAM_EXCHANGE_H_
#define RWPROXY_SERVER_HTTP_UPSTREAM_EXCHANGE_H_

#include <string>
#include <string_view>

#include "server/http/codec.h"
#include "server/http/framing.h"
#include "server/http/io.h"
#include "server/http/request_state.h"
#include "server/http/worker_context.h"
#include "server/router/route_table.h"

namespace rwproxy {

// The client side of the exchange, owned by the session.
struct ClientSide {
  Socket& socket;
  Buffer& buffer;  // the request head at its front (not consumed yet)
  Deadline& deadline;
  const MessageHead& head;
  const RequestFraming& framing;
  std::string_view address;  // for X-Forwarded-For
  RequestState& state;       // heads, gather lists and strings for this request
  bool tls = false;          // the client connection is TLS (X-Forwarded-Proto: https)
  ListenerCounters* listener = nullptr;  // the counters of the listener it came through
};

struct ExchangeOutcome {
  int local_status = 0;  // set when nothing was sent to the client: the session replies
  std::string local_reason;
  bool request_consumed = false;  // head and body are consumed from the client buffer
  bool keep_alive = false;        // after a relayed response: the connection may continue
};

// Largest request body read whole before it is sent (so it can be replayed on a stale
// connection), and largest response body sent in the same write as its head.
inline constexpr uint64_t kMaxBufferedBody = 64 * 1024;
inline constexpr std::chrono::seconds kClientIoTimeout{60};

Task<ExchangeOutcome> ProxyToCluster(ClientSide client, WorkerContext& ctx,
                                     const Snapshot& snapshot, const RouteDecision& decision);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_UPSTREAM_EXCHANGE_H_
