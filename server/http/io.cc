#include "server/http/io.h"

#include <sys/socket.h>
#include <sys/uio.h>

#include <cerrno>

namespace rwproxy {
namespace asio = boost::asio;

namespace {
constexpr size_t kMaxIov = 64;
}  // namespace

IoStatus TryRead(Socket& socket, Buffer& buffer, const Deadline& deadline, size_t min_room,
                 size_t max_size) {
  if (socket.tls()) return TryReadTls(socket, buffer, deadline, min_room, max_size);
  if (deadline.expired) return IoStatus::kTimeout;
  if (!socket.is_open()) return IoStatus::kError;
  if (!socket.readable && !socket.peer_closed) return IoStatus::kWait;
  if (!buffer.Prepare(min_room, max_size)) return IoStatus::kError;
  for (;;) {
    const size_t room = buffer.write_room();
    ssize_t n = ::recv(socket.native_handle(), buffer.write_ptr(), room, 0);
    if (n > 0) {
      // Fewer bytes than asked for: the socket is drained until its next edge.
      if (static_cast<size_t>(n) < room) socket.readable = false;
      buffer.Commit(static_cast<size_t>(n));
      return IoStatus::kOk;
    }
    if (n == 0) return IoStatus::kEof;
    if (errno == EINTR) continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK) return IoStatus::kError;
    socket.readable = false;
    return socket.peer_closed ? IoStatus::kEof : IoStatus::kWait;
  }
}

IoStatus TryWrite(Socket& socket, std::span<asio::const_buffer>* span, const Deadline& deadline) {
  if (socket.tls()) return TryWriteTls(socket, span, deadline);
  std::span<asio::const_buffer>& buffers = *span;
  while (!buffers.empty() && buffers.front().size() == 0) buffers = buffers.subspan(1);
  while (!buffers.empty()) {
    if (deadline.expired) return IoStatus::kTimeout;
    if (!socket.is_open()) return IoStatus::kError;
    if (!socket.writable) return IoStatus::kWait;
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
      if (errno != EAGAIN && errno != EWOULDBLOCK) return IoStatus::kError;
      socket.writable = false;
      return IoStatus::kWait;
    }
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
  }
  return IoStatus::kOk;
}

Task<IoStatus> ReadSome(Socket& socket, Buffer& buffer, Deadline& deadline, size_t min_room,
                        size_t max_size) {
  for (;;) {
    IoStatus io = TryRead(socket, buffer, deadline, min_room, max_size);
    if (io != IoStatus::kWait) co_return io;
    auto [ec] = co_await socket.Wait(Socket::kRead, kUseTuple);
    if (io = AfterWait(ec, deadline); io != IoStatus::kWait) co_return io;
  }
}

Task<IoStatus> WriteAll(Socket& socket, std::span<asio::const_buffer> buffers,
                        Deadline& deadline) {
  for (;;) {
    IoStatus io = TryWrite(socket, &buffers, deadline);
    if (io != IoStatus::kWait) co_return io;
    auto [ec] = co_await socket.Wait(Socket::kWrite, kUseTuple);
    if (io = AfterWait(ec, deadline); io != IoStatus::kWait) co_return io;
  }
}

Task<IoStatus> WriteAll(Socket& socket, std::string_view data, Deadline& deadline) {
  asio::const_buffer one(data.data(), data.size());
  co_return co_await WriteAll(socket, std::span<asio::const_buffer>(&one, 1), deadline);
}

}  // namespace rwproxy
