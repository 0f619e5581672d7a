// One TLS connection over a non-blocking socket fd (OpenSSL reads and writes the fd itself, as
// nginx's ngx_ssl_recv / ngx_ssl_write do): handshake, read, write and close_notify, each
// returning at once with what the socket must wait for (kWantRead / kWantWrite) instead of
// blocking. server/http/io_tls.cc maps these onto the EventSocket's readiness flags, so plain and
// TLS connections share every phase above the byte level (pooling, relays, tunnels).
//
// Writes are coalesced: pieces of a gather list are copied into one buffer of up to a record
// (16 KiB) and written as one TLS record, not one record per piece. The buffer is taken from the
// worker's BufferPool (or allocated, without one) when first needed and given back by
// ReleaseBuffers() (idle connections hold none; OpenSSL's own buffers are released by
// SSL_MODE_RELEASE_BUFFERS).
//
// Ownership: owned by the EventSocket it belongs to (which owns the fd). Thread-safety: the
// owning worker thread only.
#ifndef RWPROXY_SERVER_TLS_TLS_STREAM_H_
#define RWPROXY_SERVER_TLS_TLS_STREAM_H_

#include <openssl/ssl.h>

#include <cstddef>
#include <memory>
#include <span>
#include <string>

#include "boost/asio/buffer.hpp"
#include "server/http/buffer.h"

namespace rwproxy {

class TlsStream {
 public:
  enum class Result { kOk, kWantRead, kWantWrite, kEof, kError };

  // A server (accept) or client (connect) side for `fd`; null if OpenSSL cannot create it.
  // `buffers` (optional) supplies the write buffer and must outlive the stream.
  static std::unique_ptr<TlsStream> Create(SSL_CTX* ctx, int fd, bool server,
                                           BufferPool* buffers = nullptr);
  ~TlsStream();
  TlsStream(const TlsStream&) = delete;
  TlsStream& operator=(const TlsStream&) = delete;

  Result Handshake();
  // Up to `room` bytes into `out`; *n is what arrived (kOk only).
  Result Read(char* out, size_t room, size_t* n);
  // Writes the pieces of *buffers (advancing the span as they are taken). kOk: all written.
  Result Write(std::span<boost::asio::const_buffer>* buffers);
  // Without blocking: whether the peer closed or sent application bytes since the last read (an
  // idle pooled connection must have neither). TLS 1.3 session tickets are read and kept.
  bool Unusable();
  // Sends close_notify once, without waiting for the peer's.
  void Shutdown();
  // Gives back the write buffer when nothing is pending in it.
  void ReleaseBuffers();
  bool write_pending() const { return pending_ > 0; }
  // After a Read that returned kOk: whether it found the socket drained (a recv came back short,
  // with OpenSSL reading ahead as much as its buffer takes) and nothing is left buffered in
  // OpenSSL, so the caller may wait for the next readiness edge instead of reading again (the
  // EAGAIN read every TLS read would otherwise end with).
  bool Drained() const { return drained_ && SSL_has_pending(ssl_) == 0; }

  // The BIO's callbacks (tls_stream.cc).
  static int BioRead(BIO* bio, char* out, int size);
  static int BioWrite(BIO* bio, const char* in, int size);
  static long BioCtrl(BIO* bio, int cmd, long num, void* ptr);

  SSL* ssl() const { return ssl_; }
  // Why the last kError happened: "certificate verify failed: certificate has expired", ...
  const std::string& error() const { return error_; }
  // OpenSSL's reason code of the last kError (ERR_GET_REASON), e.g. SSL_R_HTTP_REQUEST when a
  // plain HTTP request reached a TLS port; 0 if none.
  int error_reason() const { return error_reason_; }

 private:
  TlsStream(SSL* ssl, BufferPool* buffers) : ssl_(ssl), buffers_(buffers) {}
  Result Fail(int ret);
  static constexpr size_t kRecord = BufferPool::kBlockSize;  // one TLS record's plaintext
  SSL* ssl_;
  BufferPool* buffers_;
  int fd_ = -1;
  bool drained_ = false;
  std::unique_ptr<char[]> out_;  // the record being written
  size_t pending_ = 0;           // bytes of out_ given to SSL_write that it has not taken yet
  bool shutdown_ = false;
  std::string error_;
  int error_reason_ = 0;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_TLS_TLS_STREAM_H_
