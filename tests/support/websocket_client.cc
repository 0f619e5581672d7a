#include "tests/support/websocket_client.h"

#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <optional>
#include <type_traits>

#include "absl/strings/str_cat.h"
#include "boost/asio.hpp"
#include "boost/asio/ssl.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/ssl.hpp"
#include "boost/beast/websocket.hpp"
#include "boost/beast/websocket/ssl.hpp"
#include "tests/support/tls_context.h"

namespace rwtest {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;

// The operations WebSocketClient needs, over a plain or a TLS stream. Each returns the error of
// one Beast operation bounded by `timeout`.
class WebSocketTransport {
 public:
  virtual ~WebSocketTransport() = default;
  // TCP connect, then (wss) the TLS handshake; `error` gets the text for a failure.
  virtual beast::error_code Connect(uint16_t port, const WebSocketOptions& options,
                                    std::string& error) = 0;
  virtual beast::error_code Handshake(const std::string& host, std::string_view target,
                                      const Headers& headers, websocket::response_type& response,
                                      std::chrono::milliseconds timeout) = 0;
  virtual beast::error_code Write(std::string_view message, bool binary,
                                  std::chrono::milliseconds timeout) = 0;
  virtual beast::error_code Read(beast::flat_buffer& buffer, bool& text,
                                 std::chrono::milliseconds timeout) = 0;
  virtual beast::error_code Close(std::chrono::milliseconds timeout) = 0;
  // The close frame's code and reason once the peer closed.
  virtual std::string CloseReason() const = 0;
};

namespace {

using TlsStream = beast::ssl_stream<beast::tcp_stream>;

template <class Next>
class Transport final : public WebSocketTransport {
 public:
  static constexpr bool kTls = std::is_same_v<Next, TlsStream>;

  explicit Transport(std::unique_ptr<asio::ssl::context> context)
      : ssl_context_(std::move(context)) {
    if constexpr (kTls) {
      ws_.emplace(ioc_, *ssl_context_);
    } else {
      ws_.emplace(ioc_);
    }
  }

  beast::error_code Connect(uint16_t port, const WebSocketOptions& options,
                            std::string& error) override {
    tcp::endpoint endpoint(asio::ip::make_address_v4("127.0.0.1"), port);
    beast::error_code ec = Run(options.timeout, [&](auto handler) {
      beast::get_lowest_layer(*ws_).async_connect(
          endpoint, [handler](beast::error_code e) mutable { handler(e, 0); });
    });
    if (ec) {
      error = absl::StrCat("connect 127.0.0.1:", port, ": ", ec.message());
      return ec;
    }
    beast::get_lowest_layer(*ws_).socket().set_option(tcp::no_delay(true), ec);
    if constexpr (kTls) {
      SSL* ssl = ws_->next_layer().native_handle();
      absl::Status configured = ConfigureClient(ssl, options.tls_options);
      if (!configured.ok()) {
        error = std::string(configured.message());
        return asio::error::invalid_argument;
      }
      ec = Run(options.timeout, [&](auto handler) {
        ws_->next_layer().async_handshake(
            asio::ssl::stream_base::client,
            [handler](beast::error_code e) mutable { handler(e, 0); });
      });
      if (ec) {
        error = absl::StrCat("TLS handshake with 127.0.0.1:", port, ": ", ec.message(),
                             SslErrorText(ssl));
      }
    }
    return ec;
  }

  beast::error_code Handshake(const std::string& host, std::string_view target,
                              const Headers& headers, websocket::response_type& response,
                              std::chrono::milliseconds timeout) override {
    ws_->set_option(websocket::stream_base::decorator([headers](websocket::request_type& req) {
      for (const auto& [name, value] : headers) req.set(name, value);
    }));
    return Run(timeout, [&](auto handler) {
      ws_->async_handshake(response, host, target,
                           [handler](beast::error_code e) mutable { handler(e, 0); });
    });
  }

  beast::error_code Write(std::string_view message, bool binary,
                          std::chrono::milliseconds timeout) override {
    ws_->binary(binary);
    return Run(timeout, [&](auto handler) {
      ws_->async_write(asio::buffer(message.data(), message.size()), handler);
    });
  }

  beast::error_code Read(beast::flat_buffer& buffer, bool& text,
                         std::chrono::milliseconds timeout) override {
    beast::error_code ec = Run(timeout, [&](auto handler) { ws_->async_read(buffer, handler); });
    text = ws_->got_text();
    return ec;
  }

  beast::error_code Close(std::chrono::milliseconds timeout) override {
    return Run(timeout, [&](auto handler) {
      ws_->async_close(websocket::close_code::normal,
                       [handler](beast::error_code e) mutable { handler(e, 0); });
    });
  }

  std::string CloseReason() const override {
    const websocket::close_reason& reason = ws_->reason();
    return absl::StrCat(static_cast<int>(reason.code), " ",
                        std::string(reason.reason.data(), reason.reason.size()));
  }

 private:
  // Starts one async operation with `start(handler)` and runs until it completes (or the
  // lowest layer's deadline cancels it and closes the socket).
  template <class Start>
  beast::error_code Run(std::chrono::milliseconds timeout, Start&& start) {
    beast::get_lowest_layer(*ws_).expires_after(timeout);
    beast::error_code result = asio::error::operation_aborted;
    bool done = false;
    start([&](beast::error_code ec, std::size_t) {
      result = ec;
      done = true;
    });
    ioc_.restart();
    while (!done && ioc_.run_one() > 0) {
    }
    return result;
  }

  asio::io_context ioc_{1};
  std::unique_ptr<asio::ssl::context> ssl_context_;  // wss only
  std::optional<websocket::stream<Next>> ws_;
};

absl::Status ToStatus(const beast::error_code& ec, const std::string& what) {
  if (ec == beast::error::timeout) {
    return absl::DeadlineExceededError(absl::StrCat(what, ": timed out"));
  }
  return absl::UnavailableError(absl::StrCat(what, ": ", ec.message()));
}

HttpResponse ToHttpResponse(const websocket::response_type& res) {
  HttpResponse out;
  out.status = static_cast<int>(res.result_int());
  out.version = res.version();
  for (const auto& f : res) out.headers.emplace_back(f.name_string(), f.value());
  out.body = res.body();
  out.keep_alive = res.keep_alive();
  return out;
}

}  // namespace

WebSocketClient::WebSocketClient(std::unique_ptr<WebSocketTransport> transport,
                                 std::chrono::milliseconds timeout)
    : transport_(std::move(transport)), timeout_(timeout) {}

WebSocketClient::~WebSocketClient() = default;

absl::StatusOr<std::unique_ptr<WebSocketClient>> WebSocketClient::Connect(
    uint16_t port, std::string_view target, const WebSocketOptions& options,
    HttpResponse* response) {
  std::unique_ptr<WebSocketTransport> transport;
  if (options.tls) {
    auto ctx = NewClientContext(options.tls_options);
    if (!ctx.ok()) return ctx.status();
    // asio::ssl::context takes ownership of the native handle.
    transport = std::make_unique<Transport<TlsStream>>(std::make_unique<asio::ssl::context>(*ctx));
  } else {
    transport = std::make_unique<Transport<beast::tcp_stream>>(nullptr);
  }
  std::string error;
  if (beast::error_code ec = transport->Connect(port, options, error)) {
    return ec == beast::error::timeout ? absl::DeadlineExceededError(error + " (timed out)")
                                       : absl::UnavailableError(error);
  }
  std::string host = options.host;
  if (host.empty()) {
    host = options.tls && !options.tls_options.sni.empty() ? options.tls_options.sni
                                                           : absl::StrCat("127.0.0.1:", port);
  }
  websocket::response_type res;
  beast::error_code ec = transport->Handshake(host, target, options.headers, res, options.timeout);
  HttpResponse http_response = ToHttpResponse(res);
  if (response != nullptr) *response = http_response;
  const std::string what =
      absl::StrCat("websocket upgrade of ", std::string(target), " on 127.0.0.1:", port);
  if (ec == websocket::error::upgrade_declined) {
    return absl::FailedPreconditionError(absl::StrCat(
        what, ": upgrade declined: HTTP ", http_response.status, ": ", http_response.body));
  }
  if (ec) return ToStatus(ec, what);
  std::unique_ptr<WebSocketClient> client(
      new WebSocketClient(std::move(transport), options.timeout));
  client->handshake_response_ = std::move(http_response);
  return client;
}

absl::Status WebSocketClient::Send(std::string_view message, bool binary) {
  beast::error_code ec = transport_->Write(message, binary, timeout_);
  return ec ? ToStatus(ec, "websocket write") : absl::OkStatus();
}

absl::StatusOr<WebSocketMessage> WebSocketClient::Read() {
  beast::flat_buffer buffer;
  WebSocketMessage message;
  beast::error_code ec = transport_->Read(buffer, message.text, timeout_);
  if (ec == websocket::error::closed) {
    return absl::UnavailableError(
        absl::StrCat("websocket read: closed by the peer: ", transport_->CloseReason()));
  }
  if (ec) return ToStatus(ec, "websocket read");
  message.data = beast::buffers_to_string(buffer.data());
  return message;
}

absl::StatusOr<std::string> WebSocketClient::Echo(std::string_view message, bool binary) {
  absl::Status sent = Send(message, binary);
  if (!sent.ok()) return sent;
  auto reply = Read();
  if (!reply.ok()) return reply.status();
  return std::move(reply->data);
}

absl::Status WebSocketClient::Close() {
  beast::error_code ec = transport_->Close(timeout_);
  return ec ? ToStatus(ec, "websocket close") : absl::OkStatus();
}

}  // namespace rwtest
