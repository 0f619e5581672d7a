#include "server/admin/admin_server.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/string_body.hpp"
#include "boost/beast/http/write.hpp"

namespace rwproxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// The value of `name` in the target's query string; "" when it is absent.
std::string_view QueryValue(std::string_view target, std::string_view name) {
  const size_t q = target.find('?');
  if (q == std::string_view::npos) return {};
  std::string_view query = target.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string_view param = query.substr(0, amp);
    query = amp == std::string_view::npos ? std::string_view() : query.substr(amp + 1);
    const size_t eq = param.find('=');
    if (param.substr(0, eq) == name) {
      return eq == std::string_view::npos ? std::string_view() : param.substr(eq + 1);
    }
  }
  return {};
}

// GET /clusters: JSON by default, a table with ?format=text.
void RespondClusters(const AdminHandlers& handlers, std::string_view target, Response* response) {
  const std::string_view format = QueryValue(target, "format");
  if (format != "" && format != "json" && format != "text") {
    response->result(http::status::bad_request);
    response->body() = "format must be json or text\n";
  } else if (!handlers.clusters) {
    response->result(http::status::service_unavailable);
    response->body() = "cluster status is not available\n";
  } else if (format == "text") {
    response->body() = ClustersToText(handlers.clusters());
  } else {
    response->set(http::field::content_type, "application/json");
    response->body() = ClustersToJson(handlers.clusters());
  }
}

void Respond(const AdminHandlers& handlers, const Request& request, Response* response) {
  response->set(http::field::content_type, "text/plain; charset=utf-8");
  std::string_view target = request.target();
  const std::string_view path = target.substr(0, target.find('?'));
  if (request.method() != http::verb::get && request.method() != http::verb::head) {
    response->result(http::status::method_not_allowed);
    response->body() = "admin endpoints take GET\n";
  } else if (path == "/ready") {
    const bool ready = handlers.ready();
    response->result(ready ? http::status::ok : http::status::service_unavailable);
    response->body() = ready ? "ready\n" : "not ready (draining or not configured)\n";
  } else if (path == "/healthz") {
    response->body() = "ok\n";
  } else if (path == "/stats") {
    response->body() = handlers.stats().ToText();
  } else if (path == "/metrics") {
    response->set(http::field::content_type, "text/plain; version=0.0.4");
    response->body() = handlers.stats().ToPrometheus();
  } else if (path == "/clusters") {
    RespondClusters(handlers, target, response);
  } else {
    response->result(http::status::not_found);
    response->body() =
        "unknown admin path; try /ready /healthz /stats /metrics /clusters "
        "/clusters?format=text\n";
  }
}

}  // namespace

AdminServer::AdminServer(AdminHandlers handlers) : handlers_(std::move(handlers)) {}

AdminServer::~AdminServer() { Stop(); }

absl::Status AdminServer::Listen(const tcp::endpoint& endpoint) {
  boost::system::error_code ec;
  acceptor_.emplace(io_);
  acceptor_->open(endpoint.protocol(), ec);
  if (!ec) acceptor_->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_->bind(endpoint, ec);
  if (!ec) acceptor_->listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    return absl::UnavailableError(absl::StrCat("cannot listen on admin address ",
                                               endpoint.address().to_string(), ":",
                                               endpoint.port(), ": ", ec.message()));
  }
  return absl::OkStatus();
}

tcp::endpoint AdminServer::local_endpoint() const {
  boost::system::error_code ec;
  return acceptor_ ? acceptor_->local_endpoint(ec) : tcp::endpoint();
}

void AdminServer::Start() {
  asio::co_spawn(io_, Accept(), asio::detached);
  thread_ = std::thread([this] { io_.run(); });
}

void AdminServer::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] { io_.stop(); });
  thread_.join();
}

asio::awaitable<void> AdminServer::Accept() {
  for (;;) {
    auto [ec, socket] = co_await acceptor_->async_accept(asio::as_tuple(asio::use_awaitable));
    if (ec == asio::error::operation_aborted) co_return;
    if (ec) continue;
    asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
  }
}

asio::awaitable<void> AdminServer::Serve(tcp::socket socket) {
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  for (;;) {
    http::request<http::string_body> request;
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] = co_await http::async_read(stream, buffer, request,
                                             asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    http::response<http::string_body> response{http::status::ok, request.version()};
    Respond(handlers_, request, &response);
    response.keep_alive(request.keep_alive());
    response.prepare_payload();
    auto [wec, wn] = co_await http::async_write(stream, response,
                                                asio::as_tuple(asio::use_awaitable));
    if (wec || !request.keep_alive()) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
}

}  // namespace rwproxy
