// One client connection, through the request life cycle's phases (DESIGN.md §1):
//   1 ReadHead      bytes -> MessageHead (spans over this connection's buffer; codec.h)
//   2 CheckFraming  the framing policy (framing.h): accept, or reject with a status and close
//   3 Normalize     the path, before matching (path_normalize.h)
//   4 Route         RouteTable::Route on the snapshot current when the head arrived
//   then a local reply, or phases 5-10 in upstream_exchange.h. Keep-alive and pipelining: the
//   next request is read from the same buffer, so pipelined requests are answered in order.
// An idle connection (waiting for a request with nothing buffered) holds no buffer and no
// coroutine frame beyond Run's; deadlines are a time point checked by the worker's sweep.
//
// Ownership: the coroutine spawned by the Listener owns the session (it lives on that frame).
// Thread-safety: the worker thread that accepted the connection, only.
#ifndef RWPROXY_SERVER_HTTP_DOWNSTREAM_SESSION_H_
#define RWPROXY_SERVER_HTTP_DOWNSTREAM_SESSION_H_

#include <string>
#include <string_view>

#include "server/http/buffer.h"
#include "server/http/codec.h"
#include "server/http/framing.h"
#include "server/http/io.h"
#include "server/http/worker_context.h"
#include "server/tls/server_tls.h"

namespace rwproxy {

class DownstreamSession {
 public:
  // Takes the accepted (non-blocking) fd; `address` is the client IP. `counters`: the listener's
  // (plain or TLS); `tls`: the certificates current when the connection was accepted, null for
  // plain HTTP (a TLS session starts with the handshake).
  DownstreamSession(int fd, std::string address, WorkerContext& ctx, ListenerCounters* counters,
                    std::shared_ptr<const ServerTlsContexts> tls);
  ~DownstreamSession();
  DownstreamSession(const DownstreamSession&) = delete;
  DownstreamSession& operator=(const DownstreamSession&) = delete;

  Task<void> Run();
  // Draining: ends the connection now if it waits for a next request with nothing buffered;
  // otherwise the current request finishes and its response says Connection: close.
  void CloseIfIdle();
  // Worker shutdown: ends whatever the connection waits for, now.
  void Abort();
  // The worker's sweep: cancels the connection's I/O once its deadline has passed.
  void CheckDeadline(Clock::time_point now) { deadline_.Check(now); }

 private:
  // The TLS handshake (a plain HTTP request gets a plain 400). False: close.
  Task<bool> Handshake();
  // Waits, holding no buffer, until the client sends something. False: close.
  Task<bool> WaitForRequest(bool first);
  // Serves one request whose first bytes are buffered. False: close the connection.
  Task<bool> ServeOne();
  // Sends a local reply; returns whether the connection is kept.
  Task<bool> SendReply(std::string_view reply, bool keep_alive);

  Socket socket_;
  Buffer buffer_;
  WorkerContext& ctx_;
  Deadline deadline_;
  std::string address_;  // client IP, for X-Forwarded-For
  ListenerCounters* counters_;
  std::shared_ptr<const ServerTlsContexts> tls_;
  bool idle_ = true;     // waiting for a request with nothing buffered
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_DOWNSTREAM_SESSION_H_
