#include "tests/support/tls_client.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "boost/asio/buffer.hpp"
#include "boost/beast/http.hpp"
#include "tests/support/tls_context.h"

namespace rwtest {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;

namespace {

constexpr size_t kReadPiece = 64 * 1024;

// How an SSL call ended, for the callers that treat the peer's end as a result.
enum class End { kNone, kCloseNotify, kEof };

absl::Status TimedOut(const std::string& what) {
  return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
}

// Waits until `fd` is ready for `events` or `deadline` passes.
absl::Status WaitFd(int fd, short events, Clock::time_point deadline, const std::string& what) {
  while (true) {
    const auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return TimedOut(what);
    pollfd p{fd, events, 0};
    const int n = poll(&p, 1, static_cast<int>(std::min<int64_t>(left, 1000)));
    if (n > 0) return absl::OkStatus();
    if (n < 0 && errno != EINTR) {
      return absl::InternalError(absl::StrCat(what, ": poll: ", std::strerror(errno)));
    }
  }
}

}  // namespace

struct TlsConnection::Impl {
  ~Impl() {
    if (ssl != nullptr) SSL_free(ssl);
    if (ctx != nullptr) SSL_CTX_free(ctx);
    if (fd >= 0) close(fd);
  }

  // Runs `op` (an SSL_* call) until it returns > 0, waiting for the socket as OpenSSL asks until
  // `deadline`. With `end`, the peer's close_notify / EOF / reset is a result (0), not an error.
  absl::StatusOr<int> Drive(const std::function<int()>& op, Clock::time_point deadline,
                            const std::string& what, End* end = nullptr) {
    while (true) {
      ERR_clear_error();
      errno = 0;
      const int r = op();
      if (r > 0) return r;
      const int error = SSL_get_error(ssl, r);
      const int saved_errno = errno;
      short events = 0;
      if (error == SSL_ERROR_WANT_READ) {
        events = POLLIN;
      } else if (error == SSL_ERROR_WANT_WRITE) {
        events = POLLOUT;
      } else if (error == SSL_ERROR_ZERO_RETURN && end != nullptr) {
        *end = End::kCloseNotify;
        return 0;
      } else if (end != nullptr &&
                 ((error == SSL_ERROR_SYSCALL && (saved_errno == 0 || saved_errno == ECONNRESET)) ||
                  (error == SSL_ERROR_SSL &&
                   ERR_GET_REASON(ERR_peek_error()) == SSL_R_UNEXPECTED_EOF_WHILE_READING))) {
        ERR_clear_error();
        *end = End::kEof;
        return 0;
      } else if (error == SSL_ERROR_ZERO_RETURN) {
        return absl::UnavailableError(absl::StrCat(what, ": the peer sent close_notify"));
      } else if (error == SSL_ERROR_SYSCALL && ERR_peek_error() == 0) {
        return absl::UnavailableError(absl::StrCat(
            what, ": ",
            saved_errno == 0 ? "connection closed by the peer" : std::strerror(saved_errno)));
      } else {
        return absl::UnavailableError(absl::StrCat(what, ": ", SslErrorText(ssl)));
      }
      absl::Status ready = WaitFd(fd, events, deadline, what);
      if (!ready.ok()) return ready;
    }
  }

  int fd = -1;
  SSL_CTX* ctx = nullptr;
  SSL* ssl = nullptr;
  std::string buffer;  // received, not parsed yet
  TlsSession session;  // the latest from the new-session callback
};

TlsConnection::TlsConnection(std::unique_ptr<Impl> impl, uint16_t port,
                             std::chrono::milliseconds timeout)
    : impl_(std::move(impl)), port_(port), timeout_(timeout) {}

TlsConnection::~TlsConnection() { Close(); }

absl::StatusOr<std::unique_ptr<TlsConnection>> TlsConnection::Connect(uint16_t port,
                                                                      const TlsOptions& options) {
  static std::once_flag ignore_sigpipe;
  std::call_once(ignore_sigpipe, [] { signal(SIGPIPE, SIG_IGN); });
  const auto deadline = Clock::now() + options.timeout;
  const std::string where = absl::StrCat("127.0.0.1:", port);
  auto impl = std::make_unique<Impl>();
  impl->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (impl->fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  int one = 1;
  setsockopt(impl->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(impl->fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      return absl::UnavailableError(absl::StrCat("connect ", where, ": ", std::strerror(errno)));
    }
    absl::Status ready = WaitFd(impl->fd, POLLOUT, deadline, absl::StrCat("connect ", where));
    if (!ready.ok()) return ready;
    int error = 0;
    socklen_t len = sizeof error;
    getsockopt(impl->fd, SOL_SOCKET, SO_ERROR, &error, &len);
    if (error != 0) {
      return absl::UnavailableError(absl::StrCat("connect ", where, ": ", std::strerror(error)));
    }
  }
  auto ctx = NewClientContext(options);
  if (!ctx.ok()) return ctx.status();
  impl->ctx = *ctx;
  // Every session the server hands out (TLS 1.2: in the handshake; 1.3: tickets after it).
  SSL_CTX_sess_set_new_cb(impl->ctx, [](SSL* ssl, SSL_SESSION* session) -> int {
    static_cast<Impl*>(SSL_get_app_data(ssl))->session = TlsSession(session, SSL_SESSION_free);
    return 1;  // we own it now
  });
  impl->ssl = SSL_new(impl->ctx);
  if (impl->ssl == nullptr) return absl::InternalError("SSL_new: " + SslErrorText(nullptr));
  SSL_set_app_data(impl->ssl, impl.get());
  SSL_set_fd(impl->ssl, impl->fd);
  absl::Status configured = ConfigureClient(impl->ssl, options);
  if (!configured.ok()) return configured;
  SSL* ssl = impl->ssl;
  auto handshake = impl->Drive([ssl] { return SSL_connect(ssl); }, deadline,
                               absl::StrCat("TLS handshake with ", where));
  if (!handshake.ok()) return handshake.status();

  std::unique_ptr<TlsConnection> conn(new TlsConnection(std::move(impl), port, options.timeout));
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn != nullptr) conn->alpn_.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  conn->version_ = SSL_get_version(ssl);
  conn->resumed_ = SSL_session_reused(ssl) == 1;
  DescribePeer(ssl, conn->peer_cn_, conn->peer_sans_);
  conn->host_ = options.sni.empty() ? where : options.sni;
  return conn;
}

TlsSession TlsConnection::session() const { return impl_ ? impl_->session : nullptr; }

absl::StatusOr<HttpResponse> TlsConnection::Send(std::string_view method, std::string_view target,
                                                 const Headers& headers, std::string_view body) {
  std::string request =
      absl::StrCat(std::string(method), " ", std::string(target), " HTTP/1.1\r\n");
  bool has_host = false;
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    absl::StrAppend(&request, name, ": ", value, "\r\n");
    has_host |= boost::beast::iequals(name, "host");
    has_length |= boost::beast::iequals(name, "content-length") ||
                  boost::beast::iequals(name, "transfer-encoding");
  }
  if (!has_host) absl::StrAppend(&request, "Host: ", host_, "\r\n");
  if (!has_length && (!body.empty() || method == "POST" || method == "PUT")) {
    absl::StrAppend(&request, "Content-Length: ", body.size(), "\r\n");
  }
  absl::StrAppend(&request, "\r\n", std::string(body));
  absl::Status written = WriteRaw(request);
  if (!written.ok()) return written;
  return ReadResponse(method == "HEAD");
}

absl::Status TlsConnection::WriteRaw(std::string_view bytes) {
  if (!impl_ || impl_->ssl == nullptr) return absl::FailedPreconditionError("closed");
  const auto deadline = Clock::now() + timeout_;
  SSL* ssl = impl_->ssl;
  while (!bytes.empty()) {
    const int size = static_cast<int>(std::min<size_t>(bytes.size(), 1 << 20));
    const char* data = bytes.data();
    auto n = impl_->Drive([ssl, data, size] { return SSL_write(ssl, data, size); }, deadline,
                          "TLS write");
    if (!n.ok()) return n.status();
    bytes.remove_prefix(static_cast<size_t>(*n));
  }
  return absl::OkStatus();
}

absl::StatusOr<size_t> TlsConnection::ReadMore(Clock::time_point deadline, const std::string& what,
                                               bool& ended) {
  if (!impl_ || impl_->ssl == nullptr) return absl::FailedPreconditionError("closed");
  char piece[kReadPiece];
  SSL* ssl = impl_->ssl;
  End end = End::kNone;
  auto n = impl_->Drive([ssl, &piece] { return SSL_read(ssl, piece, sizeof piece); }, deadline,
                        what, &end);
  if (!n.ok()) return n.status();
  ended = end != End::kNone;
  if (ended) closed_cleanly_ = end == End::kCloseNotify;
  impl_->buffer.append(piece, static_cast<size_t>(*n));
  return static_cast<size_t>(*n);
}

absl::StatusOr<HttpResponse> TlsConnection::ReadResponse(bool head_request) {
  if (!impl_) return absl::FailedPreconditionError("closed");
  const auto deadline = Clock::now() + timeout_;
  http::response_parser<http::string_body> parser;
  parser.eager(true);
  parser.body_limit(64 << 20);
  if (head_request) parser.skip(true);
  std::string& buffer = impl_->buffer;
  while (!parser.is_done()) {
    if (!buffer.empty()) {
      boost::beast::error_code ec;
      const size_t used = parser.put(boost::asio::buffer(buffer), ec);
      buffer.erase(0, used);
      if (ec && ec != http::error::need_more) {
        return absl::DataLossError(absl::StrCat("bad response: ", ec.message()));
      }
      if (parser.is_done() || (used > 0 && !ec)) continue;
    }
    bool ended = false;
    auto n = ReadMore(deadline, "read response", ended);
    if (!n.ok()) return n.status();
    if (ended) {
      boost::beast::error_code ec;
      parser.put_eof(ec);
      if (ec || !parser.is_done()) {
        return absl::UnavailableError("read response: the peer closed the connection");
      }
    }
  }
  const auto& msg = parser.get();
  HttpResponse out;
  out.status = static_cast<int>(msg.result_int());
  out.version = msg.version();
  for (const auto& f : msg) out.headers.emplace_back(f.name_string(), f.value());
  out.body = msg.body();
  out.keep_alive = msg.keep_alive();
  return out;
}

absl::StatusOr<std::string> TlsConnection::ReadUntilClose() {
  if (!impl_) return absl::FailedPreconditionError("closed");
  const auto deadline = Clock::now() + timeout_;
  while (true) {
    bool ended = false;
    auto n = ReadMore(
        deadline, absl::StrCat("read until close after ", impl_->buffer.size(), " bytes"), ended);
    if (!n.ok()) return n.status();
    if (ended) break;
  }
  std::string out = std::move(impl_->buffer);
  impl_->buffer.clear();
  return out;
}

absl::Status TlsConnection::Shutdown() {
  if (!impl_ || impl_->ssl == nullptr) return absl::FailedPreconditionError("closed");
  SSL* ssl = impl_->ssl;
  // 0: close_notify sent, the peer's not received (we do not wait for it); 1: both done.
  auto done = impl_->Drive([ssl] { return SSL_shutdown(ssl) >= 0 ? 1 : -1; },
                           Clock::now() + timeout_, "TLS shutdown");
  return done.status();
}

void TlsConnection::Close() {
  if (!impl_) return;
  if (impl_->fd >= 0) shutdown(impl_->fd, SHUT_RDWR);
  impl_.reset();
}

absl::StatusOr<HttpResponse> TlsFetch(uint16_t port, const TlsOptions& options,
                                      std::string_view method, std::string_view target,
                                      const Headers& headers, std::string_view body) {
  auto conn = TlsConnection::Connect(port, options);
  if (!conn.ok()) return conn.status();
  return (*conn)->Send(method, target, headers, body);
}

}  // namespace rwtest
