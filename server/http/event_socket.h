// Edge-triggered readiness for the request path, in the model of nginx and HAProxy: each socket
// is registered once with the worker's epoll set (EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET) and
// keeps `readable` / `writable` flags. A read that returns less than it asked for clears
// `readable`, so the next wait costs no syscall at all: no speculative read that finds nothing,
// no epoll_ctl per wait (Asio 1.26's reactor does one or the other for every wait). An upstream
// connection's close is seen from the flags (EPOLLRDHUP), even when it came with the response.
//
// A worker thread runs Poller::Run: one loop that blocks in epoll_wait on the worker's own set
// and, between waits, runs the io_context's ready handlers and expired timers (io_context::poll),
// so coroutines, timers and posted tasks keep running on Asio while socket readiness bypasses its
// reactor. Other threads post to the io_context and then call Wake(). (Start() instead watches
// the epoll fd through the io_context itself, for code that drives the io_context directly, such
// as unit tests.)
//
// Ownership: the Worker owns its Poller; an EventSocket is owned by a session or an upstream
// connection and must be closed (or destroyed) before the Poller. Thread-safety: the worker
// thread only.
#ifndef RWPROXY_SERVER_HTTP_EVENT_SOCKET_H_
#define RWPROXY_SERVER_HTTP_EVENT_SOCKET_H_

#include <sys/epoll.h>

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <string>

#include "boost/asio/any_completion_handler.hpp"
#include "boost/asio/async_result.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/posix/stream_descriptor.hpp"
#include "server/tls/tls_stream.h"

namespace rwproxy {

class Poller {
 public:
  explicit Poller(boost::asio::io_context& io);
  ~Poller();
  Poller(const Poller&) = delete;
  Poller& operator=(const Poller&) = delete;

  // The worker's loop, until `io` is stopped: ready handlers, socket readiness, and `on_tick`
  // every `tick` (the worker's sweep). The io_context is only polled, so it must not need a
  // reactor of its own: no Asio timers or Asio sockets on it (its poll would cost a syscall).
  void Run(boost::asio::io_context& io, std::chrono::milliseconds tick,
           const std::function<void()>& on_tick);
  // Any thread: makes Run look at the io_context now (after a post).
  void Wake();
  // Alternative to Run: watch the epoll fd through the io_context (nested epoll).
  void Start();
  void Stop();
  // Calls `handler` (no error) from the worker loop once `at` has passed: short waits such as a
  // retry's backoff, without an Asio timer (Run only; not in Start() mode).
  void After(std::chrono::steady_clock::time_point at,
             boost::asio::any_completion_handler<void(boost::system::error_code)> handler);
  // The time of the current batch of events, read once per loop iteration (as nginx caches its
  // time per event loop): timings that tolerate a few microseconds of skew (the access log) cost
  // no clock read. Outside Run (nested Start mode), the clock itself.
  std::chrono::steady_clock::time_point Now() const {
    return running_ ? now_ : std::chrono::steady_clock::now();
  }
  // Worker shutdown: every pending After() handler runs now with operation_aborted, and so does
  // every later one (posted).
  void CancelTimers();
  boost::asio::io_context::executor_type executor() const { return executor_; }
  int epoll_fd() const { return epfd_; }

 private:
  void Arm();
  // Fills events_ (waiting at most timeout_ms); returns how many.
  int Wait(int timeout_ms);
  // Sets the flags of the sockets in events_ and resumes their waiters.
  void HandleEvents();
  static constexpr int kMaxEvents = 256;
  epoll_event events_[kMaxEvents];
  int pending_ = 0;

  boost::asio::io_context::executor_type executor_;
  int epfd_ = -1;
  int wake_fd_ = -1;  // eventfd in the epoll set; its events carry data.ptr == nullptr
  // Only for Start(): creating it would start the io_context's own reactor.
  std::optional<boost::asio::posix::basic_stream_descriptor<boost::asio::io_context::executor_type>>
      watch_;
  bool stopped_ = false;
  std::deque<boost::asio::any_completion_handler<void(boost::system::error_code)>> ready_;
  std::multimap<std::chrono::steady_clock::time_point,
                boost::asio::any_completion_handler<void(boost::system::error_code)>>
      timers_;
  void FireTimers(std::chrono::steady_clock::time_point now);
  bool timers_cancelled_ = false;
  bool running_ = false;
  std::chrono::steady_clock::time_point now_{};
};

class EventSocket {
 public:
  using Handler = boost::asio::any_completion_handler<void(boost::system::error_code)>;
  enum Direction { kRead = 0, kWrite = 1 };

  explicit EventSocket(Poller* poller) : poller_(poller) {}
  ~EventSocket() { Close(); }
  EventSocket(const EventSocket&) = delete;
  EventSocket& operator=(const EventSocket&) = delete;

  // Takes ownership of a connected (or connecting) fd, already non-blocking (accept4 or socket
  // with SOCK_NONBLOCK), and registers it.
  bool Adopt(int fd);
  // TCP_NODELAY, once: set on upstream connections, and on a client connection only when a
  // response is written in several pieces (a one-write response needs no syscall for it).
  void SetNoDelay();

  // Starts a non-blocking connect; the result comes with the first write readiness.
  boost::system::error_code StartConnect(const boost::asio::ip::tcp::endpoint& to);
  // The pending error of a finished connect (SO_ERROR).
  boost::system::error_code ConnectResult() const;

  // TLS over this socket (server/http/io_tls.cc): set after Adopt or StartConnect; Close sends
  // close_notify (once, without waiting) and frees it. Null: plain TCP.
  void SetTls(std::unique_ptr<TlsStream> tls) { tls_ = std::move(tls); }
  TlsStream* tls() const { return tls_.get(); }

  bool is_open() const { return fd_ >= 0; }
  int native_handle() const { return fd_; }
  // Completes pending waits with operation_aborted.
  void Cancel();
  void Close();

  // Waits until the direction is ready (returns at once if its flag says so).
  template <typename Token>
  auto Wait(Direction d, Token&& token) {
    return boost::asio::async_initiate<Token, void(boost::system::error_code)>(
        [this, d](auto handler) {
          if (fd_ < 0 || Ready(d)) {
            auto ex = poller_->executor();
            boost::system::error_code ec =
                fd_ < 0 ? boost::asio::error::bad_descriptor : boost::system::error_code();
            boost::asio::post(ex, [h = std::move(handler), ec]() mutable { std::move(h)(ec); });
            return;
          }
          // Boost 1.81's any_completion_handler move-assignment recurses: construct and swap.
          Handler stored(std::move(handler));
          waiters_[d].swap(stored);
        },
        token);
  }

  bool readable = true;     // not known to be drained
  bool writable = true;     // not known to be full
  bool peer_closed = false; // the peer shut down its side (EPOLLRDHUP / HUP / ERR seen)
  // TLS: a read that needs the socket writable first (or a write that needs it readable).
  bool read_wants_write = false;
  bool write_wants_read = false;

  // Whether an operation in direction `d` may make progress without waiting (the flags above;
  // a TLS read that needs write readiness counts as not ready to read).
  bool Ready(Direction d) const {
    if (d == kRead) return read_wants_write ? writable : readable || peer_closed;
    return write_wants_read ? readable || peer_closed : writable;
  }

 private:
  friend class Poller;
  void OnEvents(uint32_t events);

  Poller* poller_;
  int fd_ = -1;
  bool nodelay_ = false;
  Handler waiters_[2];
  std::unique_ptr<TlsStream> tls_;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_EVENT_SOCKET_H_
