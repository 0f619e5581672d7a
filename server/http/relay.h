// Streams one HTTP message body from a parser's stream to another stream through a fixed chunk
// buffer (Beast's relay pattern with buffer_body): memory stays bounded whatever the body size,
// and each chunk is forwarded as soon as it arrives.
//
// Free function template; runs on the worker thread that owns both streams.
#ifndef RWPROXY_SERVER_HTTP_RELAY_H_
#define RWPROXY_SERVER_HTTP_RELAY_H_

#include <chrono>
#include <span>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core/error.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/buffer_body.hpp"
#include "boost/beast/http/parser.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/serializer.hpp"
#include "boost/beast/http/write.hpp"

namespace rwproxy {

enum class RelayError { kNone, kReadFailed, kReadTimeout, kWriteFailed };

// Writes the head of p's message (already rewritten in place), then relays the body until the
// parser is done. *body_bytes counts body bytes written to `out`.
template <bool isRequest>
boost::asio::awaitable<RelayError> RelayMessage(
    boost::beast::tcp_stream& in, boost::beast::flat_buffer& in_buffer,
    boost::beast::http::parser<isRequest, boost::beast::http::buffer_body>& p,
    boost::beast::tcp_stream& out, std::span<char> chunk, std::chrono::milliseconds io_timeout,
    uint64_t* body_bytes) {
  namespace http = boost::beast::http;
  constexpr auto kUseTuple = boost::asio::as_tuple(boost::asio::use_awaitable);
  auto& body = p.get().body();
  body.data = nullptr;
  body.size = 0;
  body.more = !p.is_done();
  http::serializer<isRequest, http::buffer_body> sr{p.get()};
  // Beast reads at most the buffer's spare capacity (512 bytes when it has none): give it room
  // for a whole chunk while streaming, and hand the memory back afterwards.
  in_buffer.reserve(chunk.size());
  out.expires_after(io_timeout);
  auto [head_ec, head_n] = co_await http::async_write_header(out, sr, kUseTuple);
  if (head_ec) co_return RelayError::kWriteFailed;
  while (!sr.is_done()) {
    if (!p.is_done()) {
      body.data = chunk.data();
      body.size = chunk.size();
      in.expires_after(io_timeout);
      auto [ec, n] = co_await http::async_read_some(in, in_buffer, p, kUseTuple);
      if (ec == http::error::need_buffer) ec = {};
      if (ec) {
        co_return ec == boost::beast::error::timeout ? RelayError::kReadTimeout
                                                     : RelayError::kReadFailed;
      }
      body.size = chunk.size() - body.size;
      body.data = chunk.data();
      body.more = !p.is_done();
      if (body.size == 0 && body.more) continue;  // only framing was parsed
    } else {
      body.data = nullptr;
      body.size = 0;
      body.more = false;
    }
    size_t size = body.size;
    out.expires_after(io_timeout);
    auto [ec, n] = co_await http::async_write(out, sr, kUseTuple);
    if (ec == http::error::need_buffer) ec = {};
    if (ec) co_return RelayError::kWriteFailed;
    *body_bytes += size;
  }
  if (in_buffer.size() == 0) in_buffer.shrink_to_fit();
  co_return RelayError::kNone;
}

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_RELAY_H_
