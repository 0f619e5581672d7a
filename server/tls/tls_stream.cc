#include "server/tls/tls_stream.h"

#include <openssl/err.h>
#include <openssl/x509.h>

#include <algorithm>
#include <cstring>

namespace rwproxy {

std::unique_ptr<TlsStream> TlsStream::Create(SSL_CTX* ctx, int fd, bool server,
                                             BufferPool* buffers) {
  SSL* ssl = SSL_new(ctx);
  if (ssl == nullptr) return nullptr;
  if (SSL_set_fd(ssl, fd) != 1) {  // a socket BIO that does not close the fd (the socket does)
    SSL_free(ssl);
    return nullptr;
  }
  if (server) {
    SSL_set_accept_state(ssl);
  } else {
    SSL_set_connect_state(ssl);
  }
  return std::unique_ptr<TlsStream>(new TlsStream(ssl, buffers));
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
