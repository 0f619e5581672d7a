// One client connection: the keep-alive loop. Reads a request head (with limits and deadlines),
// routes it on the snapshot current at that moment, answers locally (404, redirect, fixed reply)
// or hands it to ProxyToCluster, then loops while both sides allow keep-alive. Pipelined requests
// are read from the same buffer and so answered in order.
//
// Ownership: the coroutine spawned by the Listener owns the session (it lives on that frame).
// Thread-safety: the worker thread that accepted the connection, only.
#ifndef RWPROXY_SERVER_HTTP_DOWNSTREAM_SESSION_H_
#define RWPROXY_SERVER_HTTP_DOWNSTREAM_SESSION_H_

#include <string>
#include <vector>

#include "boost/asio/awaitable.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/buffer_body.hpp"
#include "boost/beast/http/parser.hpp"
#include "server/http/worker_context.h"

namespace rwproxy {

class DownstreamSession {
 public:
  DownstreamSession(boost::asio::ip::tcp::socket socket, WorkerContext& ctx);
  ~DownstreamSession();
  boost::asio::awaitable<void> Run();
  // Draining: ends the connection now if it waits for a next request with nothing buffered;
  // otherwise the current request finishes and its response says Connection: close.
  void CloseIfIdle();

 private:
  using Parser = boost::beast::http::request_parser<boost::beast::http::buffer_body>;
  // Returns whether the connection may serve another request.
  boost::asio::awaitable<bool> Handle(Parser& parser);
  boost::asio::awaitable<bool> Reply(Parser& parser, unsigned status, std::string body,
                                     std::string_view location = {});
  // The client's version and keep-alive wish, read before the head is rewritten for upstream.
  unsigned version_ = 11;
  bool keep_alive_ = true;
  boost::asio::awaitable<bool> DiscardBody(Parser& parser);

  boost::beast::tcp_stream stream_;
  boost::beast::flat_buffer buffer_;
  WorkerContext& ctx_;
  std::string address_;
  std::string scratch_;
  std::string wire_;
  std::vector<char> chunk_;
  bool idle_ = true;  // waiting for a request head
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_DOWNSTREAM_SESSION_H_
