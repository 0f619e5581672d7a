#include "server/upstream/health_checker.h"

#include <sys/socket.h>

#include <cerrno>

#include "absl/strings/str_cat.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/connect.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/read.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "server/http/codec.h"
#include "server/http/framing.h"

namespace rwproxy {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

constexpr auto kTuple = asio::as_tuple(asio::use_awaitable);
constexpr size_t kMaxBody = 64 * 1024;  // a larger body is not read: the connection closes

bool Expected(const std::vector<StatusRange>& ranges, int status) {
  for (const StatusRange& range : ranges) {
    if (status >= range.low && status <= range.high) return true;
  }
  return false;
}

}  // namespace

HealthChecker::HealthChecker(asio::io_context& io, tcp::endpoint address, std::string host,
                             HealthCheckSpec spec, Report report)
    : address_(address), spec_(std::move(spec)), report_(std::move(report)), socket_(io) {
  request_ = absl::StrCat("GET ", spec_.path, " HTTP/1.1\r\nHost: ", host,
                          "\r\nUser-Agent: rwproxy-health-check\r\n\r\n");
}

void HealthChecker::Stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  socket_.close(ignored);
}

void HealthChecker::Tick(Clock::time_point now) {
  if (stopped_) return;
  if (running_) {
    if (!timed_out_ && now - started_ >= absl::ToChronoNanoseconds(spec_.timeout)) {
      timed_out_ = true;  // the pending connect, write or read ends with an error
      boost::system::error_code ignored;
      socket_.close(ignored);
    }
    return;
  }
  if (now < next_) return;
  running_ = true;
  timed_out_ = false;
  started_ = now;
  asio::co_spawn(
      socket_.get_executor(), [self = shared_from_this()] { return self->Run(); }, asio::detached);
}

asio::awaitable<void> HealthChecker::Run() {
  Result result = co_await Exchange();
  running_ = false;
  if (stopped_) co_return;
  if (timed_out_) {
    result.ok = false;
    result.detail = absl::StrCat("timeout after ", absl::FormatDuration(spec_.timeout));
  }
  if (!result.ok && socket_.is_open()) Close();  // never reuse a connection after a failure
  next_ = started_ + absl::ToChronoNanoseconds(spec_.interval);
  report_(this, result.ok, result.detail);
}

asio::awaitable<boost::system::error_code> HealthChecker::WaitFor(TlsStream::Result want) {
  auto [ec] = co_await socket_.async_wait(
      want == TlsStream::Result::kWantWrite ? tcp::socket::wait_write : tcp::socket::wait_read,
      kTuple);
  co_return ec;
}

asio::awaitable<std::string> HealthChecker::Handshake() {
  stream_ = TlsStream::Create(tls_->context(), socket_.native_handle(), /*server=*/false);
  if (!stream_ || !tls_->Prepare(stream_->ssl(), server_name_)) co_return "cannot set up TLS";
  for (;;) {
    TlsStream::Result r = stream_->Handshake();
    if (r == TlsStream::Result::kOk) co_return "";
    if (r == TlsStream::Result::kError) co_return stream_->error();
    if (r == TlsStream::Result::kEof) co_return "connection closed";
    if (auto ec = co_await WaitFor(r)) co_return ec.message();
  }
}

asio::awaitable<boost::system::error_code> HealthChecker::WriteRequest() {
  if (!stream_) {
    auto [ec, n] = co_await asio::async_write(socket_, asio::buffer(request_), kTuple);
    co_return ec;
  }
  asio::const_buffer request(request_.data(), request_.size());
  std::span<asio::const_buffer> rest(&request, 1);
  for (;;) {
    TlsStream::Result r = stream_->Write(&rest);
    if (r == TlsStream::Result::kOk) co_return boost::system::error_code();
    if (r == TlsStream::Result::kEof || r == TlsStream::Result::kError) {
      co_return asio::error::connection_reset;
    }
    if (auto ec = co_await WaitFor(r)) co_return ec;
  }
}

asio::awaitable<boost::system::error_code> HealthChecker::ReadMore() {
  char chunk[4096];
  while (stream_) {
    size_t n = 0;
    TlsStream::Result r = stream_->Read(chunk, sizeof(chunk), &n);
    if (r == TlsStream::Result::kOk) {
      buffer_.append(chunk, n);
      co_return boost::system::error_code();
    }
    if (r == TlsStream::Result::kEof) co_return asio::error::eof;
    if (r == TlsStream::Result::kError) co_return asio::error::connection_reset;
    if (auto ec = co_await WaitFor(r)) co_return ec;
  }
  for (;;) {
    boost::system::error_code ec;
    size_t n = socket_.read_some(asio::buffer(chunk), ec);
    if (!ec) {
      buffer_.append(chunk, n);
      co_return ec;
    }
    if (ec != asio::error::would_block && ec != asio::error::try_again) co_return ec;
    auto [wait_ec] = co_await socket_.async_wait(tcp::socket::wait_read, kTuple);
    if (wait_ec) co_return wait_ec;
  }
}

asio::awaitable<HealthChecker::Result> HealthChecker::Exchange() {
  // A kept-alive connection the endpoint closed meanwhile (its keep-alive timeout may be shorter
  // than the interval) is not a failed check: look first, and if it still fails before any
  // answer byte, try once more on a fresh connection.
  if (socket_.is_open() && PeerClosed()) Close();
  const bool reused = socket_.is_open();
  Result result = co_await ExchangeOnce();
  if (!result.ok && result.nothing_received && reused && !timed_out_ && !stopped_) {
    Close();
    result = co_await ExchangeOnce();
  }
  co_return result;
}

bool HealthChecker::PeerClosed() {
  if (stream_) return stream_->Unusable();
  char byte;
  ssize_t n = ::recv(socket_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return !(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));  // EOF, stray bytes or error
}

void HealthChecker::Close() {
  stream_.reset();  // frees the session; nothing more is written on the fd
  boost::system::error_code ignored;
  socket_.close(ignored);
}

asio::awaitable<HealthChecker::Result> HealthChecker::ExchangeOnce() {
  if (!socket_.is_open()) {
    buffer_.clear();
    stream_.reset();
    auto [ec] = co_await socket_.async_connect(address_, kTuple);
    if (ec) co_return Result{false, absl::StrCat("connect: ", ec.message())};
    boost::system::error_code ignored;
    socket_.set_option(tcp::no_delay(true), ignored);
    socket_.non_blocking(true, ignored);  // ReadMore reads without blocking
    if (tls_) {
      if (std::string error = co_await Handshake(); !error.empty()) {
        co_return Result{false, absl::StrCat("TLS handshake: ", error)};
      }
    }
  }
  if (auto ec = co_await WriteRequest(); ec) {
    co_return Result{false, absl::StrCat("write: ", ec.message()), true};
  }
  size_t scanned = 0;
  size_t end = 0;
  while ((end = buffer_.empty() ? 0 : FindHeadEnd(buffer_, &scanned)) == 0) {
    if (buffer_.size() > kMaxHeadSize) co_return Result{false, "response head too large"};
    if (auto ec = co_await ReadMore()) {
      co_return Result{false, absl::StrCat("read: ", ec.message()), buffer_.empty()};
    }
  }
  MessageHead head;
  ParseError parse_error;
  if (ParseResponseHead(std::string_view(buffer_).substr(0, end), &head, &parse_error) !=
      ParseStatus::kComplete) {
    co_return Result{false, absl::StrCat("malformed response: ", parse_error.reason)};
  }
  ResponseFraming framing;
  PolicyError policy;
  if (!CheckResponse(head, buffer_.data(), false, &framing, &policy)) {
    co_return Result{false, absl::StrCat("malformed response: ", policy.reason)};
  }
  const int status = head.status;
  Result result{Expected(spec_.expected_statuses, status), absl::StrCat("status ", status)};
  if (framing.interim) co_return Result{false, "interim response"};
  bool keep = framing.reusable;
  if (framing.body == BodyKind::kLength && framing.length <= kMaxBody) {
    const size_t want = end + framing.length;
    while (buffer_.size() < want) {
      if (auto ec = co_await ReadMore())
        co_return Result{false, absl::StrCat("read: ", ec.message())};
    }
    keep = keep && buffer_.size() == want;  // nothing stray after the response
  } else if (framing.body != BodyKind::kNone) {
    keep = false;  // chunked, until close or large: not worth reading for a check
  }
  buffer_.clear();
  if (!keep) Close();
  co_return result;
}

}  // namespace rwproxy
