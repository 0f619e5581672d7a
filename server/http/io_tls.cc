// TLS under the socket I/O of io.h: TryRead / TryWrite call these for a socket with a TlsStream,
// and map OpenSSL's "want read" / "want write" onto the EventSocket's edge-triggered flags, so
// that every wait above (ReadSome, WriteAll, relays, tunnels) is the same for plain and TLS.
#include "server/http/io.h"

namespace rwproxy {

IoStatus TryReadTls(Socket& socket, Buffer& buffer, const Deadline& deadline, size_t min_room,
                    size_t max_size) {
  if (deadline.expired) return IoStatus::kTimeout;
  if (!socket.is_open()) return IoStatus::kError;
  const bool ready = socket.read_wants_write ? socket.writable
                                             : socket.readable || socket.peer_closed;
  if (!ready) return IoStatus::kWait;
  if (!buffer.Prepare(min_room, max_size)) return IoStatus::kError;
  size_t n = 0;
  switch (socket.tls()->Read(buffer.write_ptr(), buffer.write_room(), &n)) {
    case TlsStream::Result::kOk:
      // Drained only if OpenSSL's own recv found it so and holds nothing back (a short SSL_read
      // alone proves nothing: OpenSSL may hold the rest of a record).
      socket.read_wants_write = false;
      if (socket.tls()->Drained()) socket.readable = false;
      buffer.Commit(n);
      return IoStatus::kOk;
    case TlsStream::Result::kWantRead:
      socket.read_wants_write = false;
      socket.readable = false;
      return socket.peer_closed ? IoStatus::kEof : IoStatus::kWait;
    case TlsStream::Result::kWantWrite:
      socket.read_wants_write = true;
      socket.writable = false;
      return IoStatus::kWait;
    case TlsStream::Result::kEof:
      return IoStatus::kEof;
    case TlsStream::Result::kError:
      break;
  }
  return IoStatus::kError;
}

IoStatus TryWriteTls(Socket& socket, std::span<boost::asio::const_buffer>* buffers,
                     const Deadline& deadline) {
  TlsStream& tls = *socket.tls();
  for (;;) {
    if (deadline.expired) return IoStatus::kTimeout;
    if (!socket.is_open()) return IoStatus::kError;
    const bool ready = socket.write_wants_read ? socket.readable || socket.peer_closed
                                               : socket.writable;
    if (!ready) return IoStatus::kWait;
    switch (tls.Write(buffers)) {
      case TlsStream::Result::kOk:
        socket.write_wants_read = false;
        return IoStatus::kOk;
      case TlsStream::Result::kWantWrite:
        socket.write_wants_read = false;
        socket.writable = false;
        return IoStatus::kWait;
      case TlsStream::Result::kWantRead:
        socket.write_wants_read = true;
        socket.readable = false;
        if (socket.peer_closed) return IoStatus::kError;
        return IoStatus::kWait;
      case TlsStream::Result::kEof:
      case TlsStream::Result::kError:
        return IoStatus::kError;
    }
  }
}

Task<IoStatus> TlsHandshake(Socket& socket, Deadline& deadline) {
  socket.read_wants_write = socket.write_wants_read = false;
  for (;;) {
    if (deadline.expired) co_return IoStatus::kTimeout;
    if (!socket.is_open() || socket.tls() == nullptr) co_return IoStatus::kError;
    Socket::Direction wait = Socket::kRead;
    switch (socket.tls()->Handshake()) {
      case TlsStream::Result::kOk:
        co_return IoStatus::kOk;
      case TlsStream::Result::kWantRead:
        socket.readable = false;
        if (socket.peer_closed) co_return IoStatus::kEof;
        break;
      case TlsStream::Result::kWantWrite:
        socket.writable = false;
        wait = Socket::kWrite;
        break;
      case TlsStream::Result::kEof:
        co_return IoStatus::kEof;
      case TlsStream::Result::kError:
        co_return IoStatus::kError;
    }
    auto [ec] = co_await socket.Wait(wait, kUseTuple);
    if (IoStatus io = AfterWait(ec, deadline); io != IoStatus::kWait) co_return io;
  }
}

}  // namespace rwproxy
