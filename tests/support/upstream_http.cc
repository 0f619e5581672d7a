// rwupstream's HTTP/1.1 side: the keep-alive loop and every path's answer (see upstream_main.cc
// for the list), over a plain or a TLS stream.
#include <cctype>
#include <charconv>
#include <string>
#include <string_view>

#include "boost/asio.hpp"
#include "tests/support/upstream_server.h"

namespace rwupstream {
namespace {

// A response body of `size` pattern bytes generated on the fly from one static buffer. Owned by
// its message; used on the connection's executor only.
struct PatternBody {
  struct value_type {
    uint64_t size = 0;
  };
  static uint64_t size(const value_type& v) { return v.size; }
  class writer {
   public:
    using const_buffers_type = asio::const_buffer;
    template <bool kIsRequest, class Fields>
    writer(const http::header<kIsRequest, Fields>&, const value_type& v) : remaining_(v.size) {}
    void init(beast::error_code& ec) { ec = {}; }
    boost::optional<std::pair<const_buffers_type, bool>> get(beast::error_code& ec) {
      ec = {};
      if (remaining_ == 0) return boost::none;
      size_t n = remaining_ < kPatternSize ? static_cast<size_t>(remaining_) : kPatternSize;
      remaining_ -= n;
      return std::make_pair(asio::const_buffer(Pattern(), n), remaining_ > 0);
    }

   private:
    uint64_t remaining_;
  };
};

bool ConsumePrefix(std::string_view& s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix) return false;
  s.remove_prefix(prefix.size());
  return true;
}

std::string EchoBody(const Options& opt, const Request& req, const ConnInfo& info) {
  std::string body;
  body.reserve(256);
  auto line = [&body](std::string_view key, std::string_view value) {
    body.append(key).append("=").append(value).append("\n");
  };
  line("name", opt.name);
  line("method", req.method_string());
  line("target", req.target());
  line("host", req[http::field::host]);
  line("xff", req["X-Forwarded-For"]);
  line("xfp", req["X-Forwarded-Proto"]);
  line("conn", std::to_string(info.id));
  line("received", std::to_string(req.body()));
  if (info.tls) {
    line("tls", "1");
    line("sni", info.sni);
    line("alpn", info.alpn);
    line("tls_version", info.tls_version);
    if (!opt.tls_client_ca.empty()) line("client_cn", info.client_cn);
  }
  for (const auto& field : req) {
    std::string name(field.name_string());
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (name.rfind("x-echo-", 0) == 0) line(name, field.value());
  }
  return body;
}

template <class Body>
void Fill(http::response<Body>& res, const Request& req, http::status status) {
  res.version(11);
  res.result(status);
  res.keep_alive(req.keep_alive());
}

asio::awaitable<void> SleepMs(uint64_t ms) {
  asio::steady_timer timer(co_await asio::this_coro::executor);
  timer.expires_after(std::chrono::milliseconds(ms));
  co_await timer.async_wait(asio::as_tuple(asio::use_awaitable));
}

// Writes `res` (only its head for HEAD requests). Returns false when the connection is broken.
template <class Stream, class Body>
asio::awaitable<bool> Write(Stream& stream, http::response<Body>& res, bool head_only) {
  http::response_serializer<Body> sr(res);
  auto [ec, n] =
      head_only ? co_await http::async_write_header(stream, sr, asio::as_tuple(asio::use_awaitable))
                : co_await http::async_write(stream, sr, asio::as_tuple(asio::use_awaitable));
  co_return !ec;
}

std::string StatsBody(Server& server) {
  const Counters& c = server.counters;
  std::string body;
  auto line = [&body](std::string_view key, uint64_t value) {
    body.append(key).append("=").append(std::to_string(value)).append("\n");
  };
  line("connections", c.connections.load());
  line("requests", c.requests.load());
  line("requests_default", server.faults.requests_default());
  line("health_checks", server.faults.health_checks());
  line("control_connections", c.control_connections.load());
  line("tls_handshakes", c.tls_handshakes.load());
  line("tls_resumed", c.tls_resumed.load());
  line("tls_handshake_errors", c.tls_handshake_errors.load());
  line("websockets_active", c.websockets_active.load());
  line("websockets_total", c.websockets_total.load());
  return body;
}

// Answers /__stats, /healthz or /__set (or 404 for another path on the control port). Returns
// whether the connection may serve another request.
template <class Stream>
asio::awaitable<bool> RespondControl(Server& server, Stream& stream, const Request& req,
                                     std::string_view path, std::string_view query) {
  http::response<http::string_body> res;
  Fill(res, req, http::status::ok);
  res.set(http::field::content_type, "text/plain");
  if (path == kStatsPath) {
    res.body() = StatsBody(server);
  } else if (path == kHealthPath) {
    if (uint64_t delay = server.faults.health_delay_ms(); delay > 0) co_await SleepMs(delay);
    const unsigned status = server.faults.health_status();
    res.result(status);
    res.body() = status == 200 ? "ok\n" : "status=" + std::to_string(status) + "\n";
  } else if (path != kSetPath) {
    res.result(http::status::not_found);
    res.body() = "control port: only /__stats, /__set and /healthz\n";
  } else if (std::string error = server.faults.Apply(query); error.empty()) {
    res.body() = "ok\n";
  } else {
    res.result(http::status::bad_request);
    res.body() = "error: " + error + "\n";
  }
  if (res.result() == http::status::no_content || res.result() == http::status::not_modified) {
    res.body().clear();
  }
  res.prepare_payload();
  co_return co_await Write(stream, res, req.method() == http::verb::head) && res.keep_alive();
}

// The runtime faults, then the path's answer. Returns whether the connection may serve another
// request.
template <class Stream>
asio::awaitable<bool> Respond(Server& server, Stream& stream, const Request& req,
                              const ConnInfo& info) {
  const Options& opt = server.options;
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  std::string_view query = target.size() > path.size() ? target.substr(path.size() + 1) : "";
  const bool head = req.method() == http::verb::head;
  std::string_view rest = path;
  uint64_t n = 0;

  if (IsControlPath(path) || info.control_only) {
    co_return co_await RespondControl(server, stream, req, path, query);
  }
  if (server.faults.hang()) {
    co_await HangUntilClosed(stream);
    co_return false;
  }
  if (uint64_t delay = server.faults.delay_ms(); delay > 0) co_await SleepMs(delay);
  if (unsigned status = server.faults.status(); status != 0) {
    http::response<http::string_body> res;
    Fill(res, req, static_cast<http::status>(status));
    res.set(http::field::content_type, "text/plain");
    res.set("X-Upstream-Name", opt.name);
    if (status != 204 && status != 304) {
      res.body() = "name=" + opt.name + " status=" + std::to_string(status) + "\n";
    }
    res.prepare_payload();
    co_return co_await Write(stream, res, head) && res.keep_alive();
  }
  if (IsWebSocketUpgrade(req) && path != "/ws-refuse") {
    co_await ServeWebSocket(server, stream, req);
    co_return false;
  }

  if (ConsumePrefix(rest, "/bytes/") && ParseUint(rest, n)) {
    http::response<PatternBody> res;
    Fill(res, req, http::status::ok);
    res.set(http::field::content_type, "application/octet-stream");
    res.body().size = n;
    if (query.find("chunked=1") != std::string_view::npos) {
      res.chunked(true);
    } else {
      res.content_length(n);
    }
    co_return co_await Write(stream, res, head) && res.keep_alive();
  }
  if (path == "/malformed") {
    static constexpr std::string_view kGarbage = "NOT-HTTP \x01\x02 garbage\r\n\r\n";
    co_await asio::async_write(stream, asio::buffer(kGarbage), asio::as_tuple(asio::use_awaitable));
    co_return false;
  }

  http::response<http::string_body> res;
  Fill(res, req, http::status::ok);
  res.set(http::field::content_type, "text/plain");
  res.set("X-Upstream-Name", opt.name);
  rest = path;
  if (path == "/ws-refuse" && IsWebSocketUpgrade(req)) {
    res.result(http::status::forbidden);
    res.body() = "websocket refused\n";
  } else if (ConsumePrefix(rest, "/status/") && ParseUint(rest, n) && n >= 200 && n <= 599) {
    res.result(static_cast<unsigned>(n));
    if (n != 204 && n != 304) res.body() = "status=" + std::to_string(n) + "\n";
  } else {
    rest = path;
    if (ConsumePrefix(rest, "/sleep/") && ParseUint(rest, n)) co_await SleepMs(n);
    rest = path;
    if (ConsumePrefix(rest, "/keepalive-timeout/") && ParseUint(rest, n)) {
      res.set("Keep-Alive", "timeout=" + std::to_string(n));
    }
    if (path == "/close") res.keep_alive(false);
    if (path == "/http10") {
      res.version(10);
      res.keep_alive(false);
    }
    res.body() = EchoBody(opt, req, info);
  }
  res.prepare_payload();
  co_return co_await Write(stream, res, head) && res.keep_alive();
}

}  // namespace

const char* Pattern() {
  static const std::string* pattern = [] {
    auto* p = new std::string(kPatternSize, '\0');
    for (size_t i = 0; i < kPatternSize; ++i) (*p)[i] = static_cast<char>('a' + i % 26);
    return p;
  }();
  return pattern->data();
}

bool ParseUint(std::string_view s, uint64_t& out) {
  if (s.empty()) return false;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

template <class Stream>
asio::awaitable<void> ServeHttp(Server& server, Stream& stream, const ConnInfo& info) {
  const Options& opt = server.options;
  beast::flat_buffer buffer;
  for (int responses = 0;; ++responses) {
    http::request_parser<CountingBody> parser;
    parser.body_limit(boost::none);
    if (opt.idle_close_ms > 0 && !info.control_only) {
      beast::get_lowest_layer(stream).expires_after(std::chrono::milliseconds(opt.idle_close_ms));
    }
    auto [ec, n] = co_await http::async_read_header(stream, buffer, parser,
                                                    asio::as_tuple(asio::use_awaitable));
    beast::get_lowest_layer(stream).expires_never();
    if (ec) break;
    ++server.counters.requests;
    {
      std::string_view target = parser.get().target();
      std::string_view path = target.substr(0, target.find('?'));
      if (!info.control_only || IsControlPath(path)) server.faults.Count(path);
    }
    // The connection faults never apply to the control port.
    if (!info.control_only && opt.drop_after > 0 && responses >= opt.drop_after) break;
    if (beast::iequals(parser.get()[http::field::expect], "100-continue")) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      auto [wec, wn] = co_await asio::async_write(stream, asio::buffer(kContinue),
                                                  asio::as_tuple(asio::use_awaitable));
      if (wec) break;
    }
    if (!parser.is_done()) {
      // Beast reads max(512, capacity - size) bytes at a time: big reads for bodies only, so
      // connections that never carry a body stay small.
      buffer.reserve(kPatternSize);
      auto [rec, rn] =
          co_await http::async_read(stream, buffer, parser, asio::as_tuple(asio::use_awaitable));
      if (rec) break;
    }
    if (!co_await Respond(server, stream, parser.get(), info)) break;
    if (!info.control_only && opt.close_after > 0 && responses + 1 >= opt.close_after) break;
  }
}

template asio::awaitable<void> ServeHttp(Server&, beast::tcp_stream&, const ConnInfo&);
template asio::awaitable<void> ServeHttp(Server&, TlsStream&, const ConnInfo&);

asio::awaitable<void> PlainSession(Server& server, tcp::socket socket, bool control_only) {
  ConnInfo info;
  info.control_only = control_only;
  info.id = control_only ? ++server.counters.control_connections : ++server.counters.connections;
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  beast::tcp_stream stream(std::move(socket));
  co_await ServeHttp(server, stream, info);
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
}

}  // namespace rwupstream
