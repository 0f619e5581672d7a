#include "server/http/downstream_session.h"

#include "absl/strings/str_cat.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core/error.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"
#include "server/http/headers.h"
#include "server/util/sv.h"
#include "server/http/upstream_exchange.h"

namespace rwproxy {
namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {
constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::seconds kFirstRequestTimeout{30};
constexpr std::chrono::seconds kKeepAliveTimeout{60};
constexpr std::chrono::seconds kBodyTimeout{60};
constexpr uint64_t kMaxDiscardedBody = 1024 * 1024;
constexpr uint32_t kHeaderLimit = 64 * 1024;

// "http://host:port/p?q" (absolute-form, RFC 9112 3.2.2) -> "/p?q"; origin-form is returned as is.
std::string_view OriginForm(std::string_view target) {
  if (target.empty() || target[0] == '/') return target;
  size_t scheme = target.find("://");
  if (scheme == std::string_view::npos) return target;
  size_t path = target.find('/', scheme + 3);
  return path == std::string_view::npos ? std::string_view("/") : target.substr(path);
}
}  // namespace

DownstreamSession::DownstreamSession(asio::ip::tcp::socket socket, WorkerContext& ctx)
    : stream_(std::move(socket)), ctx_(ctx) {
  boost::system::error_code ec;
  auto remote = stream_.socket().remote_endpoint(ec);
  if (!ec) address_ = remote.address().to_string();
  stream_.socket().set_option(asio::ip::tcp::no_delay(true), ec);
  ctx_.sessions.insert(this);
}

DownstreamSession::~DownstreamSession() { ctx_.sessions.erase(this); }

void DownstreamSession::CloseIfIdle() {
  if (idle_ && buffer_.size() == 0) stream_.cancel();
}

asio::awaitable<void> DownstreamSession::Run() {
  ++ctx_.listener.downstream_cx_total;
  ++ctx_.listener.downstream_cx_active;
  for (bool first = true;; first = false) {
    Parser parser;
    parser.header_limit(kHeaderLimit);
    parser.body_limit(boost::none);
    stream_.expires_after(first ? kFirstRequestTimeout : kKeepAliveTimeout);
    idle_ = true;
    if (ctx_.draining && !first && buffer_.size() == 0) break;
    auto [ec, n] = co_await beast::http::async_read_header(stream_, buffer_, parser, kUseTuple);
    idle_ = false;
    if (ec) {
      bool quiet = ec == beast::http::error::end_of_stream || ec == beast::error::timeout ||
                   ec == asio::error::operation_aborted || !parser.got_some();
      if (!quiet) {
        ++ctx_.listener.downstream_rq_bad;
        unsigned status = ec == beast::http::error::header_limit ? 431 : 400;
        co_await Reply(parser, status, absl::StrCat("bad request: ", ec.message(), "\n"));
      }
      break;
    }
    ++ctx_.listener.downstream_rq_total;
    if (!co_await Handle(parser)) break;
  }
  --ctx_.listener.downstream_cx_active;
  boost::system::error_code ignored;
  stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_send, ignored);
  stream_.socket().close(ignored);
}

asio::awaitable<bool> DownstreamSession::Handle(Parser& parser) {
  std::shared_ptr<const Snapshot> snapshot = ctx_.snapshot;  // the config this request runs on
  auto& request = parser.get();
  version_ = request.version() == 10 ? 10 : 11;
  keep_alive_ = request.keep_alive();
  RouteRequest route_request;
  route_request.method = request.method_string();
  SplitTarget(OriginForm(request.target()), &route_request.path, &route_request.query);
  route_request.headers = &request;
  RouteDecision decision = snapshot->routes.Route(route_request);
  if (!decision.route) {
    ++ctx_.server.no_route;
    co_return co_await Reply(parser, 404, absl::StrCat("no route matched ", Sv(request.method_string()),
                                                       " ", Sv(route_request.path), "\n"));
  }
  const CompiledRoute& route = *decision.route;
  switch (route.action) {
    case CompiledRoute::Action::kRedirect:
      ++ctx_.server.local_reply_redirect;
      co_return co_await Reply(parser, route.status,
                               absl::StrCat("redirecting to ", decision.target, "\n"),
                               decision.target);
    case CompiledRoute::Action::kRespond:
      ++ctx_.server.local_reply_respond;
      co_return co_await Reply(parser, route.status, route.body);
    case CompiledRoute::Action::kCluster:
      break;
  }
  ClientSide client{stream_, buffer_, parser, address_, version_, keep_alive_, scratch_, wire_,
                    chunk_};
  ExchangeOutcome outcome = co_await ProxyToCluster(client, ctx_, *snapshot, decision);
  if (outcome.local_status) {
    co_return co_await Reply(parser, *outcome.local_status, outcome.local_reason + "\n");
  }
  co_return outcome.keep_alive;
}

asio::awaitable<bool> DownstreamSession::DiscardBody(Parser& parser) {
  // A client waiting for 100 Continue has not sent its body: do not wait for it.
  if (ExpectsContinue(parser.get())) co_return false;
  char sink[8192];
  uint64_t total = 0;
  while (!parser.is_done()) {
    auto& body = parser.get().body();
    body.data = sink;
    body.size = sizeof(sink);
    stream_.expires_after(kBodyTimeout);
    auto [ec, n] = co_await beast::http::async_read_some(stream_, buffer_, parser, kUseTuple);
    if (ec && ec != beast::http::error::need_buffer) co_return false;
    total += sizeof(sink) - body.size;
    if (total > kMaxDiscardedBody) co_return false;
  }
  co_return true;
}

asio::awaitable<bool> DownstreamSession::Reply(Parser& parser, unsigned status, std::string body,
                                               std::string_view location) {
  const auto& request = parser.get();
  bool keep = keep_alive_ && !ctx_.draining && parser.is_header_done() &&
              (parser.is_done() || co_await DiscardBody(parser));
  beast::http::response<beast::http::string_body> response{
      static_cast<beast::http::status>(status), version_};
  response.set(beast::http::field::content_type, "text/plain; charset=utf-8");
  if (!location.empty()) response.set(beast::http::field::location, location);
  if (request.method() != beast::http::verb::head) response.body() = std::move(body);
  response.keep_alive(keep);
  response.prepare_payload();
  stream_.expires_after(kBodyTimeout);
  auto [ec, n] = co_await beast::http::async_write(stream_, response, kUseTuple);
  co_return keep && !ec;
}

}  // namespace rwproxy
