#include "server/admin/admin_server.h"

#include "absl/strings/str_cat.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/beast/core/flat_buffer.hpp"
#include "boost/beast/core/tcp_stream.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/write.hpp"
#include "server/admin/admin_routes.h"

namespace rwproxy {
namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

AdminServer::AdminServer(AdminHandlers handlers)
    : handlers_(std::move(handlers)),
      routes_(std::make_unique<admin_internal::AdminRoutes>(&handlers_)) {}

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
                                               endpoint.address().to_string(), ":", endpoint.port(),
                                               ": ", ec.message()));
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
  boost::system::error_code peer_ec;
  const bool from_loopback =
      admin_internal::IsLoopback(socket.remote_endpoint(peer_ec).address()) && !peer_ec;
  beast::tcp_stream stream(std::move(socket));
  beast::flat_buffer buffer;
  auto then = admin_internal::AdminRoutes::Then::kNothing;
  for (;;) {
    admin_internal::Request request;
    stream.expires_after(std::chrono::seconds(30));
    auto [ec, n] =
        co_await http::async_read(stream, buffer, request, asio::as_tuple(asio::use_awaitable));
    if (ec) break;
    admin_internal::Response response{http::status::ok, request.version()};
    stream.expires_never();  // GET /drain?wait= may take minutes
    then = co_await routes_->Handle(request, from_loopback, &response);
    const bool keep_alive =
        request.keep_alive() && then == admin_internal::AdminRoutes::Then::kNothing;
    response.keep_alive(keep_alive);
    response.prepare_payload();
    if (request.method() == http::verb::head) {  // the length of the body a GET would get
      const size_t length = response.body().size();
      response.body().clear();
      response.content_length(length);
    }
    stream.expires_after(std::chrono::seconds(30));
    auto [wec, wn] =
        co_await http::async_write(stream, response, asio::as_tuple(asio::use_awaitable));
    if (wec || !keep_alive) break;
  }
  boost::system::error_code ignored;
  stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream.socket().close(ignored);
  if (then == admin_internal::AdminRoutes::Then::kQuit) co_await routes_->Quit();
}

}  // namespace rwproxy
