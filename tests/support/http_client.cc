#include "tests/support/http_client.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "boost/asio.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"

namespace rwtest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

constexpr size_t kReadPiece = 64 * 1024;

// Pattern bytes 'a' + i % 26, long enough to compare any piece at any phase.
const std::string& PatternBuffer() {
  static const std::string* pattern = [] {
    auto* p = new std::string(kReadPiece + 26, '\0');
    for (size_t i = 0; i < p->size(); ++i) (*p)[i] = static_cast<char>('a' + i % 26);
    return p;
  }();
  return *pattern;
}

absl::Status ToStatus(const beast::error_code& ec, absl::string_view what) {
  if (!ec) return absl::OkStatus();
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
  }
  return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
}

template <class Fields>
Headers CopyHeaders(const Fields& fields) {
  Headers headers;
  for (const auto& f : fields) headers.emplace_back(f.name_string(), f.value());
  return headers;
}

}  // namespace

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (beast::iequals(k, name)) return v;
  }
  return "";
}

bool HttpResponse::HasHeader(std::string_view name) const {
  return std::any_of(headers.begin(), headers.end(),
                     [&](const auto& kv) { return beast::iequals(kv.first, name); });
}

struct HttpConnection::Impl {
  // Beast reads max(512, capacity - size) bytes at a time: reserve so bodies arrive in big reads.
  Impl() { buffer.reserve(kReadPiece); }

  asio::io_context ioc{1};
  beast::tcp_stream stream{ioc};
  beast::flat_buffer buffer;

  // Starts one async operation with `start(handler)` and runs until it completes (or the stream's
  // deadline cancels it).
  template <class Start>
  beast::error_code Run(std::chrono::milliseconds timeout, Start&& start) {
    stream.expires_after(timeout);
    beast::error_code result = asio::error::operation_aborted;
    bool done = false;
    start([&](beast::error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    ioc.restart();
    while (!done && ioc.run_one() > 0) {
    }
    return result;
  }
};

HttpConnection::HttpConnection(std::unique_ptr<Impl> impl, uint16_t port)
    : impl_(std::move(impl)), port_(port) {}

HttpConnection::~HttpConnection() { Close(); }

absl::StatusOr<std::unique_ptr<HttpConnection>> HttpConnection::Connect(
    uint16_t port, std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
  beast::error_code ec = impl->Run(timeout, [&](auto handler) {
    impl->stream.async_connect(endpoint, [handler](beast::error_code e) mutable { handler(e, 0); });
  });
  if (ec) return ToStatus(ec, absl::StrCat("connect 127.0.0.1:", port));
  beast::error_code ignored;
  impl->stream.socket().set_option(tcp::no_delay(true), ignored);
  std::unique_ptr<HttpConnection> conn(new HttpConnection(std::move(impl), port));
  conn->timeout_ = timeout;
  return conn;
}

absl::StatusOr<HttpResponse> HttpConnection::Send(std::string_view method, std::string_view target,
                                                  const Headers& headers, std::string_view body) {
  http::request<http::string_body> req;
  http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    req.method_string(method);
  } else {
    req.method(verb);
  }
  req.target(target);
  req.version(11);
  bool has_host = false;
  bool has_length = false;
  for (const auto& [name, value] : headers) {
    req.insert(name, value);
    has_host |= beast::iequals(name, "host");
    has_length |=
        beast::iequals(name, "content-length") || beast::iequals(name, "transfer-encoding");
  }
  if (!has_host) req.set(http::field::host, absl::StrCat("127.0.0.1:", port_));
  req.body() = std::string(body);
  if (!has_length && (!body.empty() || verb == http::verb::post || verb == http::verb::put)) {
    req.prepare_payload();
  }
  beast::error_code ec =
      impl_->Run(timeout_, [&](auto handler) { http::async_write(impl_->stream, req, handler); });
  if (ec) return ToStatus(ec, "write request");
  return ReadResponse(verb == http::verb::head);
}

absl::StatusOr<HttpResponse> HttpConnection::SendChunked(std::string_view method,
                                                         std::string_view target,
                                                         uint64_t total_bytes, size_t chunk_bytes,
                                                         const Headers& headers) {
  http::request<http::empty_body> req;
  req.method_string(method);
  req.target(target);
  req.version(11);
  req.set(http::field::host, absl::StrCat("127.0.0.1:", port_));
  for (const auto& [name, value] : headers) req.insert(name, value);
  req.chunked(true);
  http::request_serializer<http::empty_body> sr(req);
  beast::error_code ec = impl_->Run(
      timeout_, [&](auto handler) { http::async_write_header(impl_->stream, sr, handler); });
  if (ec) return ToStatus(ec, "write chunked request head");

  std::string chunk(std::max<size_t>(chunk_bytes, 1), '\0');
  for (size_t i = 0; i < chunk.size(); ++i) chunk[i] = static_cast<char>('a' + i % 26);
  for (uint64_t sent = 0; sent < total_bytes;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(chunk.size(), total_bytes - sent));
    char size_line[32];
    const int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", n);
    std::array<asio::const_buffer, 3> buffers = {
        asio::buffer(size_line, len), asio::buffer(chunk.data(), n), asio::buffer("\r\n", 2)};
    ec = impl_->Run(timeout_,
                    [&](auto handler) { asio::async_write(impl_->stream, buffers, handler); });
    if (ec) return ToStatus(ec, absl::StrCat("write chunk at byte ", sent));
    sent += n;
  }
  absl::Status last = WriteRaw("0\r\n\r\n");
  if (!last.ok()) return last;
  return ReadResponse(false);
}

absl::StatusOr<StreamedResponse> HttpConnection::Download(std::string_view target,
                                                          const Headers& headers) {
  http::request<http::empty_body> req{http::verb::get, target, 11};
  req.set(http::field::host, absl::StrCat("127.0.0.1:", port_));
  for (const auto& [name, value] : headers) req.insert(name, value);
  beast::error_code ec =
      impl_->Run(timeout_, [&](auto handler) { http::async_write(impl_->stream, req, handler); });
  if (ec) return ToStatus(ec, "write request");

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(boost::none);
  ec = impl_->Run(timeout_, [&](auto handler) {
    http::async_read_header(impl_->stream, impl_->buffer, parser, handler);
  });
  if (ec) return ToStatus(ec, "read response head");
  StreamedResponse out;
  out.status = static_cast<int>(parser.get().result_int());
  out.headers = CopyHeaders(parser.get());
  out.chunked = parser.chunked();
  const std::string& pattern = PatternBuffer();
  std::vector<char> piece(kReadPiece);
  // Bounded: every round either reads at least one byte or ends the loop.
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    ec = impl_->Run(timeout_, [&](auto handler) {
      http::async_read_some(impl_->stream, impl_->buffer, parser, handler);
    });
    if (ec == http::error::need_buffer) ec = {};
    if (ec) return ToStatus(ec, absl::StrCat("read body after ", out.body_bytes, " bytes"));
    const size_t n = piece.size() - parser.get().body().size;
    if (out.pattern_ok && n > 0 &&
        std::memcmp(piece.data(), pattern.data() + out.body_bytes % 26, n) != 0) {
      out.pattern_ok = false;
    }
    out.body_bytes += n;
  }
  return out;
}

absl::Status HttpConnection::WriteRaw(std::string_view bytes) {
  beast::error_code ec = impl_->Run(timeout_, [&](auto handler) {
    asio::async_write(impl_->stream, asio::buffer(bytes.data(), bytes.size()), handler);
  });
  return ToStatus(ec, "write");
}

absl::StatusOr<HttpResponse> HttpConnection::ReadResponse(bool head_request) {
  http::response_parser<http::string_body> parser;
  parser.body_limit(64 << 20);
  if (head_request) parser.skip(true);
  beast::error_code ec = impl_->Run(timeout_, [&](auto handler) {
    http::async_read(impl_->stream, impl_->buffer, parser, handler);
  });
  if (ec) return ToStatus(ec, "read response");
  const auto& msg = parser.get();
  HttpResponse out;
  out.status = static_cast<int>(msg.result_int());
  out.version = msg.version();
  out.headers = CopyHeaders(msg);
  out.body = msg.body();
  out.keep_alive = msg.keep_alive();
  return out;
}

absl::StatusOr<std::string> HttpConnection::ReadUntilClose() {
  std::string out(static_cast<const char*>(impl_->buffer.data().data()), impl_->buffer.size());
  impl_->buffer.consume(impl_->buffer.size());
  std::vector<char> piece(kReadPiece);
  while (true) {
    size_t got = 0;
    beast::error_code ec = impl_->Run(timeout_, [&](auto handler) {
      impl_->stream.async_read_some(asio::buffer(piece),
                                    [&got, handler](beast::error_code e, size_t n) mutable {
                                      got = n;
                                      handler(e, n);
                                    });
    });
    out.append(piece.data(), got);
    if (ec == asio::error::eof || ec == asio::error::connection_reset) return out;
    if (ec) return ToStatus(ec, absl::StrCat("read until close after ", out.size(), " bytes"));
  }
}

void HttpConnection::Close() {
  if (!impl_) return;
  beast::error_code ignored;
  impl_->stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  impl_->stream.socket().close(ignored);
}

absl::StatusOr<HttpResponse> Fetch(uint16_t port, std::string_view method, std::string_view target,
                                   const Headers& headers, std::string_view body) {
  auto conn = HttpConnection::Connect(port);
  if (!conn.ok()) return conn.status();
  return (*conn)->Send(method, target, headers, body);
}

std::map<std::string, int64_t> ParseStats(std::string_view text) {
  std::map<std::string, int64_t> stats;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n', absl::SkipWhitespace())) {
    auto colon = line.rfind(':');
    if (colon == absl::string_view::npos) continue;
    int64_t value = 0;
    if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(line.substr(colon + 1)), &value)) continue;
    stats[std::string(absl::StripAsciiWhitespace(line.substr(0, colon)))] = value;
  }
  return stats;
}

absl::StatusOr<std::map<std::string, int64_t>> FetchStats(uint16_t admin_port) {
  auto res = Fetch(admin_port, "GET", "/stats");
  if (!res.ok()) return res.status();
  if (res->status != 200) {
    return absl::UnavailableError(absl::StrCat("GET /stats: status ", res->status));
  }
  return ParseStats(res->body);
}

absl::StatusOr<int64_t> FetchCounter(uint16_t admin_port, std::string_view name) {
  auto stats = FetchStats(admin_port);
  if (!stats.ok()) return stats.status();
  auto it = stats->find(std::string(name));
  if (it == stats->end())
    return absl::NotFoundError(absl::StrCat("/stats has no ", std::string(name)));
  return it->second;
}

std::map<std::string, std::string> ParseKeyValues(std::string_view text) {
  std::map<std::string, std::string> out;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n', absl::SkipWhitespace())) {
    auto eq = line.find('=');
    if (eq == absl::string_view::npos) continue;
    out[std::string(line.substr(0, eq))] = std::string(line.substr(eq + 1));
  }
  return out;
}

}  // namespace rwtest
