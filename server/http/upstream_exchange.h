// Proxies ONE client request whose head has been read to a cluster: picks an endpoint, acquires a
// pooled connection, sends the request (small bodies buffered so a stale keep-alive connection can
// be retried once on a fresh one; large bodies streamed), and relays the response to the client.
//
// Ownership: a short-lived object on the DownstreamSession's coroutine frame, one per request.
// Thread-safety: the worker thread that owns the session.
#ifndef RWPROXY_SERVER_HTTP_UPSTREAM_EXCHANGE_H_
#define RWPROXY_SERVER_HTTP_UPSTREAM_EXCHANGE_H_

#include <optional>
#include <string>
#include <vector>

#include "boost/asio/awaitable.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/buffer_body.hpp"
#include "boost/beast/http/parser.hpp"
#include "server/http/worker_context.h"
#include "server/router/route_table.h"

namespace rwproxy {

namespace http = boost::beast::http;

// The client side of the exchange, owned by the session.
struct ClientSide {
  boost::beast::tcp_stream& stream;
  boost::beast::flat_buffer& buffer;
  http::request_parser<http::buffer_body>& parser;
  const std::string& address;  // for X-Forwarded-For
  unsigned version;            // the client's HTTP version (10 or 11), before any rewriting
  bool keep_alive;             // the client allows another request on this connection
  std::string& scratch;        // reusable buffer for small bodies
  std::string& wire;           // reusable buffer for serialized heads
  std::vector<char>& chunk;    // reusable buffer for streamed bodies
};

struct ExchangeOutcome {
  // Set when nothing was sent to the client yet and the session must send this local reply.
  std::optional<unsigned> local_status;
  std::string local_reason;
  bool keep_alive = false;  // the client connection may serve another request
};

// Largest body read whole before it is sent (so the request can be replayed on a stale
// connection), and largest response body sent to the client in one write.
inline constexpr uint64_t kMaxBufferedBody = 64 * 1024;
inline constexpr size_t kRelayChunk = 64 * 1024;

boost::asio::awaitable<ExchangeOutcome> ProxyToCluster(ClientSide client, WorkerContext& ctx,
                                                       const Snapshot& snapshot,
                                                       const RouteDecision& decision);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_UPSTREAM_EXCHANGE_H_
