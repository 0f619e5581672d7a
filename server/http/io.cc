#include "server/http/io.h"

#include "boost/asio/error.hpp"

namespace rwproxy {
namespace asio = boost::asio;

namespace {
IoStatus Classify(const boost::system::error_code& ec, const Deadline& deadline) {
  if (deadline.expired) return IoStatus::kTimeout;
  if (ec == asio::error::eof) return IoStatus::kEof;
  return IoStatus::kError;
}
}  // namespace

Task<IoStatus> ReadSome(Socket& socket, Buffer& buffer, Deadline& deadline, size_t min_room,
                        size_t max_size) {
  if (!buffer.Prepare(min_room, max_size)) co_return IoStatus::kError;
  if (deadline.expired) co_return IoStatus::kTimeout;
  // async_read_some tries the read at once and, only if nothing is there, waits on the reactor
  // (the socket is registered once; unlike async_wait, this costs no epoll_ctl per wait).
  auto [ec, n] = co_await socket.async_read_some(
      asio::buffer(buffer.write_ptr(), buffer.write_room()), kUseTuple);
  if (ec) co_return Classify(ec, deadline);
  buffer.Commit(n);
  co_return IoStatus::kOk;
}

Task<IoStatus> WriteAll(Socket& socket, std::span<asio::const_buffer> buffers,
                        Deadline& deadline) {
  while (!buffers.empty()) {
    boost::system::error_code ec;
    size_t n = socket.write_some(buffers, ec);
    if (ec == asio::error::would_block || ec == asio::error::try_again) {
      if (deadline.expired) co_return IoStatus::kTimeout;
      auto [wait_ec] = co_await socket.async_wait(Socket::wait_write, kUseTuple);
      if (wait_ec) co_return Classify(wait_ec, deadline);
      continue;
    }
    if (ec) co_return Classify(ec, deadline);
    while (n > 0) {  // drop what was written
      if (n >= buffers.front().size()) {
        n -= buffers.front().size();
        buffers = buffers.subspan(1);
      } else {
        buffers.front() += n;
        n = 0;
      }
    }
    while (!buffers.empty() && buffers.front().size() == 0) buffers = buffers.subspan(1);
  }
  co_return IoStatus::kOk;
}

}  // namespace rwproxy
