// A byte-exact, strict upstream for framing tests: it records every byte each connection
// receives, splits them into requests with its own strict HTTP/1.1 rules (independent of
// rwproxy's codec: CRLF only, Content-Length digits only, Transfer-Encoding exactly "chunked"
// with canonical chunks and no trailers), answers each request ("200 ok" unless set_reply or
// set_reply_fn says otherwise), and reports any byte that does not frame a valid request as an
// error instead of tolerating it. A lenient test upstream would hide exactly the desync bugs this
// one exists to catch.
//
// Ownership: owned by the test; runs one accept thread and one thread per connection on
// 127.0.0.1, all joined by the destructor. Thread-safety: the accessors may be called from any
// thread.
#ifndef RWPROXY_TESTS_SUPPORT_RECORDING_UPSTREAM_H_
#define RWPROXY_TESTS_SUPPORT_RECORDING_UPSTREAM_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"

namespace rwtest {

class RecordingUpstream {
 public:
  struct Request {
    int connection = 0;  // index of the connection it arrived on
    std::string bytes;   // exactly as received: head and body
  };

  RecordingUpstream() = default;
  ~RecordingUpstream();
  RecordingUpstream(const RecordingUpstream&) = delete;
  RecordingUpstream& operator=(const RecordingUpstream&) = delete;

  absl::Status Start();
  // What every request is answered with (default: 200 with the body "ok").
  void set_reply(std::string reply) {
    std::lock_guard<std::mutex> lock(mu_);
    reply_ = std::move(reply);
  }
  // Optional: builds each reply from the request's exact bytes (e.g. a Location naming the
  // request's path); it replaces set_reply's fixed reply while set. Called on the connection's
  // thread, without the upstream's lock held; it must return one complete response.
  void set_reply_fn(std::function<std::string(const std::string& request_bytes)> fn) {
    std::lock_guard<std::mutex> lock(mu_);
    reply_fn_ = std::move(fn);
  }
  uint16_t port() const { return port_; }

  std::vector<Request> requests() const;
  // One line per framing error, with the offending bytes (empty when all was clean).
  std::vector<std::string> errors() const;
  int connections() const { return connections_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd, int index);

  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stopping_{false};
  std::atomic<int> connections_{0};
  std::thread accept_thread_;
  mutable std::mutex mu_;
  std::vector<std::thread> threads_;
  std::vector<int> fds_;
  std::vector<Request> requests_;
  std::vector<std::string> errors_;
  std::string reply_ = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
  std::function<std::string(const std::string&)> reply_fn_;
};

}  // namespace rwtest

#endif  // RWPROXY_TESTS_SUPPORT_RECORDING_UPSTREAM_H_
