#include "server/http/io.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

#include "boost/asio/error.hpp"

namespace rwproxy {
namespace asio = boost::asio;

namespace {
constexpr size_t kMaxIov = 64;

IoStatus Waited(const boost::system::error_code& ec, const Deadline& deadline) {
  if (deadline.expired) return IoStatus::kTimeout;
  return ec ? IoStatus::kError : IoStatus::kOk;
}
}  // namespace

Task<IoStatus> ReadSome(Socket& socket, Buffer& buffer, Deadline& deadline, size_t min_room,
                        size_t max_size) {
  if (!buffer.Prepare(min_room, max_size)) co_return IoStatus::kError;
  for (;;) {
    if (deadline.expired) co_return IoStatus::kTimeout;
    if (!socket.is_open()) co_return IoStatus::kError;
    if (socket.readable || socket.peer_closed) {
      const size_t room = buffer.write_room();
      ssize_t n = ::recv(socket.native_handle(), buffer.write_ptr(), room, 0);
      if (n > 0) {
        // Fewer bytes than asked for: the socket is drained until its next edge.
        if (static_cast<size_t>(n) < room) socket.readable = false;
        buffer.Commit(static_cast<size_t>(n));
        co_return IoStatus::kOk;
      }
      if (n == 0) co_return IoStatus::kEof;
      if (errno == EINTR) continue;
      if (errno != EAGAIN && errno != EWOULDBLOCK) co_return IoStatus::kError;
      socket.readable = false;
      if (socket.peer_closed) co_return IoStatus::kEof;
    }
    auto [ec] = co_await socket.Wait(Socket::kRead, kUseTuple);
    if (IoStatus status = Waited(ec, deadline); status != IoStatus::kOk) co_return status;
  }
}

Task<IoStatus> WriteAll(Socket& socket, std::span<asio::const_buffer> buffers,
                        Deadline& deadline) {
  while (!buffers.empty() && buffers.front().size() == 0) buffers = buffers.subspan(1);
  while (!buffers.empty()) {
    if (deadline.expired) co_return IoStatus::kTimeout;
    if (!socket.is_open()) co_return IoStatus::kError;
    if (socket.writable) {
      iovec iov[kMaxIov];
      size_t count = 0;
      size_t total = 0;
      for (; count < buffers.size() && count < kMaxIov; ++count) {
        iov[count].iov_base = const_cast<void*>(buffers[count].data());
        iov[count].iov_len = buffers[count].size();
        total += iov[count].iov_len;
      }
      msghdr msg{};
      msg.msg_iov = iov;
      msg.msg_iovlen = count;
      ssize_t n = ::sendmsg(socket.native_handle(), &msg, MSG_NOSIGNAL);
      if (n < 0) {
        if (errno == EINTR) continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK) co_return IoStatus::kError;
        socket.writable = false;
      } else {
        if (static_cast<size_t>(n) < total) socket.writable = false;  // the send buffer is full
        size_t left = static_cast<size_t>(n);
        while (left > 0) {  // drop what was written
          if (left >= buffers.front().size()) {
            left -= buffers.front().size();
            buffers = buffers.subspan(1);
          } else {
            buffers.front() += left;
            left = 0;
          }
        }
        while (!buffers.empty() && buffers.front().size() == 0) buffers = buffers.subspan(1);
        continue;
      }
    }
    auto [ec] = co_await socket.Wait(Socket::kWrite, kUseTuple);
    if (IoStatus status = Waited(ec, deadline); status != IoStatus::kOk) co_return status;
  }
  co_return IoStatus::kOk;
}

}  // namespace rwproxy
