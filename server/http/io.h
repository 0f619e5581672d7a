// Socket I/O for the request path: concrete executor types, non-blocking sockets with
// edge-triggered readiness flags (event_socket.h), so a read or write is tried at once when the
// flags allow and waits cost no syscall, and per-connection deadlines instead of a timer per
// operation: a Deadline is a time point that the worker's sweep checks; when it passes, the sweep
// cancels the connection's waits and the operation returns kTimeout.
//
// Free functions and a plain struct; the owning worker thread only.
#ifndef RWPROXY_SERVER_HTTP_IO_H_
#define RWPROXY_SERVER_HTTP_IO_H_

#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <span>
#include <string_view>

#include "boost/asio/as_tuple.hpp"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/buffer.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "server/http/buffer.h"
#include "server/http/event_socket.h"

namespace rwproxy {

using Clock = std::chrono::steady_clock;
using Executor = boost::asio::io_context::executor_type;
using Socket = EventSocket;
template <typename T>
using Task = boost::asio::awaitable<T, Executor>;
inline constexpr auto kUseTuple = boost::asio::as_tuple(boost::asio::use_awaitable_t<Executor>{});

// One connection's deadline, shared by the client socket and the upstream socket it is using.
struct Deadline {
  Clock::time_point at = Clock::time_point::max();
  bool expired = false;
  Socket* client = nullptr;
  Socket* upstream = nullptr;  // the upstream socket the request waits on, if any

  void After(Clock::duration d) {
    at = Clock::now() + d;
    expired = false;
  }
  // Called by the worker's sweep.
  void Check(Clock::time_point now) {
    if (expired || now < at) return;
    expired = true;
    if (client) client->Cancel();
    if (upstream) upstream->Cancel();
  }
};

enum class IoStatus { kOk, kEof, kTimeout, kError, kWait };

// Without waiting: what ReadSome / WriteAll would do now, or kWait if the socket must become
// ready first. Hot paths call these and fall back to the coroutines (or wait inline) only on
// kWait, so a request that needs no wait allocates no coroutine frame for its I/O.
IoStatus TryRead(Socket& socket, Buffer& buffer, const Deadline& deadline, size_t min_room,
                 size_t max_size);
IoStatus TryWrite(Socket& socket, std::span<boost::asio::const_buffer>* buffers,
                  const Deadline& deadline);
// After a readiness wait: kWait to try again, else why the wait ended.
inline IoStatus AfterWait(const boost::system::error_code& ec, const Deadline& deadline) {
  if (deadline.expired) return IoStatus::kTimeout;
  return ec ? IoStatus::kError : IoStatus::kWait;
}

// The TLS forms of TryRead / TryWrite (io_tls.cc), which those call for a socket with a
// TlsStream: a TLS read is never "short" (OpenSSL may hold the rest of a record), so it clears
// `readable` only when OpenSSL finds the socket drained.
IoStatus TryReadTls(Socket& socket, Buffer& buffer, const Deadline& deadline, size_t min_room,
                    size_t max_size);
IoStatus TryWriteTls(Socket& socket, std::span<boost::asio::const_buffer>* buffers,
                     const Deadline& deadline);
// The TLS handshake of socket.tls(), either side, until done, failed (kError: the reason is
// socket.tls()->error()), closed or past the deadline.
Task<IoStatus> TlsHandshake(Socket& socket, Deadline& deadline);

// Reads what is available into `buffer` (at least one byte unless the result is not kOk), growing
// it so that `min_room` bytes are free, up to `max_size` in all.
Task<IoStatus> ReadSome(Socket& socket, Buffer& buffer, Deadline& deadline, size_t min_room,
                        size_t max_size);

// Writes every byte of `buffers` (the span is updated in place while writing).
Task<IoStatus> WriteAll(Socket& socket, std::span<boost::asio::const_buffer> buffers,
                        Deadline& deadline);

Task<IoStatus> WriteAll(Socket& socket, std::string_view data, Deadline& deadline);

// A gather list with a fixed capacity (no allocation): pieces of heads and bodies for one write.
class Gather {
 public:
  static constexpr size_t kCapacity = 128;
  bool Add(const void* data, size_t size) {
    if (size == 0) return true;
    if (count_ == kCapacity) return false;
    pieces_[count_++] = boost::asio::const_buffer(data, size);
    return true;
  }
  bool Add(std::string_view s) { return Add(s.data(), s.size()); }
  bool full() const { return count_ == kCapacity; }
  size_t count() const { return count_; }
  void Clear() { count_ = 0; }
  // Copies the pieces only (a write adjusts a partly written piece in place).
  void CopyFrom(const Gather& other) {
    std::copy(other.pieces_, other.pieces_ + other.count_, pieces_);
    count_ = other.count_;
  }
  std::span<boost::asio::const_buffer> span() { return {pieces_, count_}; }
  // Points piece i (< count()) at `s` instead.
  void Replace(size_t i, std::string_view s) { pieces_[i] = boost::asio::const_buffer(s.data(), s.size()); }

 private:
  boost::asio::const_buffer pieces_[kCapacity];
  size_t count_ = 0;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_IO_H_
