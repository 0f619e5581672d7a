#include "server/tls/tls_stream.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <sys/socket.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace rwproxy {

// The socket BIO: recv/send on the fd (never closing it: the EventSocket does), recording
// whether the last recv came back short, i.e. found the socket drained (see TlsStream::Read).
int TlsStream::BioRead(BIO* bio, char* out, int size) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  for (;;) {
    ssize_t n = ::recv(self->fd_, out, static_cast<size_t>(size), 0);
    if (n > 0) {
      if (n < size) self->drained_ = true;
      return static_cast<int>(n);
    }
    if (n == 0) return 0;  // end of stream
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      self->drained_ = true;
      BIO_set_retry_read(bio);
    }
    return -1;
  }
}

int TlsStream::BioWrite(BIO* bio, const char* in, int size) {
  auto* self = static_cast<TlsStream*>(BIO_get_data(bio));
  BIO_clear_retry_flags(bio);
  for (;;) {
    ssize_t n = ::send(self->fd_, in, static_cast<size_t>(size), MSG_NOSIGNAL);
    if (n >= 0) return static_cast<int>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) BIO_set_retry_write(bio);
    return -1;
  }
}

long TlsStream::BioCtrl(BIO*, int cmd, long, void*) {
  return cmd == BIO_CTRL_FLUSH ? 1 : 0;  // nothing is buffered in the BIO itself
}

namespace {
BIO_METHOD* SocketMethod() {
  static BIO_METHOD* method = [] {
    BIO_METHOD* m = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "rwproxy socket");
    BIO_meth_set_read(m, &TlsStream::BioRead);
    BIO_meth_set_write(m, &TlsStream::BioWrite);
    BIO_meth_set_ctrl(m, &TlsStream::BioCtrl);
    return m;
  }();
  return method;
}
}  // namespace

std::unique_ptr<TlsStream> TlsStream::Create(SSL_CTX* ctx, int fd, bool server,
                                             BufferPool* buffers) {
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) return nullptr;
  BIO* bio = BIO_new(SocketMethod());
  if (bio == nullptr) {
    SSL_free(ssl);
    return nullptr;
  }
  std::unique_ptr<TlsStream> stream(new TlsStream(ssl, buffers));
  stream->fd_ = fd;
  BIO_set_data(bio, stream.get());
  BIO_set_init(bio, 1);
  SSL_set_bio(ssl, bio, bio);  // the SSL owns the BIO
  if (server) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
  }
  return stream;
}

TlsStream::~TlsStream() {
  SSL_free(ssl_);
  if (out_ && buffers_) buffers_->Give(std::move(out_));
}

TlsStream::Result TlsStream::Fail(int ret) {
  switch (SSL_get_error(ssl_, ret)) {
    case SSL_ERROR_WANT_READ:
      return Result::kWantRead;
    case SSL_ERROR_WANT_WRITE:
      return Result::kWantWrite;
    case SSL_ERROR_ZERO_RETURN:  // close_notify (or, with IGNORE_UNEXPECTED_EOF, a bare close)
      return Result::kEof;
    case SSL_ERROR_SYSCALL:
      if (ERR_peek_error() == 0) {
        shutdown_ = true;  // no close_notify after a failed transport
        if (ret == 0) return Result::kEof;
        error_ = std::string("TLS transport error: ") + std::strerror(errno);
        return Result::kError;
      }
      [[fallthrough]];
    default: {
      shutdown_ = true;
      char text[256];
      unsigned long e = ERR_peek_error();
      error_reason_ = ERR_GET_REASON(e);
      ERR_error_string_n(e, text, sizeof(text));
      const char* reason = ERR_reason_error_string(e);
      error_ = reason ? reason : text;
      long verify = SSL_get_verify_result(ssl_);
      if (verify != X509_V_OK) {
        error_ += ": ";
        error_ += X509_verify_cert_error_string(verify);
      }
      ERR_clear_error();
      return Result::kError;
    }
  }
}

TlsStream::Result TlsStream::Handshake() {
  ERR_clear_error();
  int ret = SSL_do_handshake(ssl_);
  return ret == 1 ? Result::kOk : Fail(ret);
}

TlsStream::Result TlsStream::Read(char* out, size_t room, size_t* n) {
  ERR_clear_error();
  drained_ = false;  // set by a recv of this call that found the socket empty
  int ret = SSL_read(ssl_, out, static_cast<int>(std::min<size_t>(room, 1 << 30)));
  if (ret > 0) {
    *n = static_cast<size_t>(ret);
    return Result::kOk;
  }
  return Fail(ret);
}

TlsStream::Result TlsStream::Write(std::span<boost::asio::const_buffer>* span) {
  std::span<boost::asio::const_buffer>& buffers = *span;
  for (;;) {
    if (pending_ == 0) {
      while (!buffers.empty() && buffers.front().size() == 0) buffers = buffers.subspan(1);
      if (buffers.empty()) return Result::kOk;
      if (!out_) out_ = buffers_ ? buffers_->Take() : std::unique_ptr<char[]>(new char[kRecord]);
      // One record from as many pieces as fit: SSL_write may need to be called again with the
      // same bytes (after kWantWrite), so they are taken out of the caller's list only here.
      while (!buffers.empty() && pending_ < kRecord) {
        boost::asio::const_buffer& piece = buffers.front();
        size_t take = std::min(piece.size(), kRecord - pending_);
        std::memcpy(out_.get() + pending_, piece.data(), take);
        pending_ += take;
        piece += take;
        if (piece.size() == 0) buffers = buffers.subspan(1);
      }
    }
    ERR_clear_error();
    int ret = SSL_write(ssl_, out_.get(), static_cast<int>(pending_));
    if (ret <= 0) return Fail(ret);
    pending_ = 0;  // without SSL_MODE_ENABLE_PARTIAL_WRITE, a success wrote all of it
  }
}

bool TlsStream::Unusable() {
  char byte;
  ERR_clear_error();
  int ret = SSL_peek(ssl_, &byte, 1);
  if (ret > 0) return true;  // application bytes nobody asked for
  int e = SSL_get_error(ssl_, ret);
  ERR_clear_error();
  if (e == SSL_ERROR_WANT_READ) return false;  // nothing but, perhaps, a session ticket
  shutdown_ = e != SSL_ERROR_ZERO_RETURN;
  return true;
}

void TlsStream::Shutdown() {
  if (shutdown_) return;
  shutdown_ = true;
  if (!SSL_is_init_finished(ssl_)) return;
  ERR_clear_error();
  SSL_shutdown(ssl_);  // one try: close_notify goes out if the socket takes it
  ERR_clear_error();
}

void TlsStream::ReleaseBuffers() {
  if (pending_ != 0 || !out_) return;
  if (buffers_) {
    buffers_->Give(std::move(out_));
  } else {
    out_.reset();
  }
}

}  // namespace rwproxy
