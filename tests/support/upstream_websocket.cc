// rwupstream's WebSocket echo: a request with "Upgrade: websocket" (any path but /ws-refuse, on a
// plain or a TLS connection) is accepted with Beast, and every message is sent back as it came
// (text as text, binary as binary) until the client closes.
#include "boost/beast/websocket.hpp"
#include "boost/beast/websocket/ssl.hpp"
#include "tests/support/upstream_server.h"

namespace rwupstream {

namespace websocket = beast::websocket;

bool IsWebSocketUpgrade(const Request& req) {
  for (const auto& token : http::token_list(req[http::field::upgrade])) {
    if (beast::iequals(token, "websocket")) return true;
  }
  return false;
}

template <class Stream>
asio::awaitable<void> ServeWebSocket(Server& server, Stream& stream, const Request& req) {
  // Beast answers a malformed upgrade (no Sec-WebSocket-Key, no "Connection: upgrade", a version
  // other than 13, not GET/1.1) itself with 400 or 426, and the accept then fails.
  websocket::stream<Stream&> ws(stream);
  const std::string& name = server.options.name;
  ws.set_option(websocket::stream_base::decorator(
      [&name](websocket::response_type& res) { res.set("X-Upstream-Name", name); }));
  auto [ec] = co_await ws.async_accept(req, asio::as_tuple(asio::use_awaitable));
  if (ec) co_return;
  ++server.counters.websockets_total;
  ++server.counters.websockets_active;
  beast::flat_buffer buffer;
  for (;;) {
    // A close frame from the client ends the read with websocket::error::closed, after Beast
    // has answered it and shut the connection down.
    auto [rec, rn] = co_await ws.async_read(buffer, asio::as_tuple(asio::use_awaitable));
    if (rec) break;
    ws.text(ws.got_text());
    auto [wec, wn] = co_await ws.async_write(buffer.data(), asio::as_tuple(asio::use_awaitable));
    buffer.consume(buffer.size());
    if (wec) break;
  }
  --server.counters.websockets_active;
}

template asio::awaitable<void> ServeWebSocket(Server&, beast::tcp_stream&, const Request&);
template asio::awaitable<void> ServeWebSocket(Server&, TlsStream&, const Request&);

}  // namespace rwupstream
