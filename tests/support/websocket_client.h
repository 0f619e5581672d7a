// A small blocking WebSocket client for tests, on Boost.Beast: connects to 127.0.0.1:port (plain,
// or TLS for wss with the same TlsOptions as TlsConnection), sends the upgrade request, then
// sends and reads whole messages. Every operation is bounded by the client's timeout (an expired
// operation closes the socket and returns DeadlineExceeded).
//
// Ownership: a WebSocketClient owns its socket (and TLS context) and a private io_context; the
// test owns the WebSocketClient. Thread-safety: one thread at a time per client; distinct
// clients may be used from distinct threads.
#ifndef RWPROXY_TESTS_SUPPORT_WEBSOCKET_CLIENT_H_
#define RWPROXY_TESTS_SUPPORT_WEBSOCKET_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/http_client.h"
#include "tests/support/tls_client.h"

namespace rwtest {

struct WebSocketOptions {
  std::string host;  // the Host header; "" = the TLS SNI if any, else 127.0.0.1:PORT
  Headers headers;   // set on the upgrade request after Beast's own (so they may replace them)
  bool tls = false;  // wss: a TLS handshake first, with tls_options (its timeout is not used)
  TlsOptions tls_options;
  std::chrono::milliseconds timeout{10000};
};

struct WebSocketMessage {
  std::string data;
  bool text = true;  // false: a binary message
};

class WebSocketTransport;  // websocket_client.cc: the Beast stream, plain or TLS

class WebSocketClient {
 public:
  // Connects and upgrades. `response` (optional) receives the handshake's HTTP response either
  // way: 101 on success; on a refusal its status (e.g. 403, 404, 502), headers and body, and
  // the error is FailedPrecondition naming the status ("upgrade declined: HTTP 403").
  static absl::StatusOr<std::unique_ptr<WebSocketClient>> Connect(
      uint16_t port, std::string_view target = "/", const WebSocketOptions& options = {},
      HttpResponse* response = nullptr);
  ~WebSocketClient();
  WebSocketClient(const WebSocketClient&) = delete;
  WebSocketClient& operator=(const WebSocketClient&) = delete;

  // Deadline for each following operation.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  // The 101 response (e.g. its X-Upstream-Name).
  const HttpResponse& handshake_response() const { return handshake_response_; }

  // Sends one message (text unless `binary`).
  absl::Status Send(std::string_view message, bool binary = false);
  // Reads one message. Unavailable ("closed by the peer: CODE REASON") once the peer closed.
  absl::StatusOr<WebSocketMessage> Read();
  // Send, then Read: the data of the next message.
  absl::StatusOr<std::string> Echo(std::string_view message, bool binary = false);
  // Sends a close frame (code 1000) and waits for the peer's, then closes the connection.
  absl::Status Close();

 private:
  WebSocketClient(std::unique_ptr<WebSocketTransport> transport, std::chrono::milliseconds timeout);

  std::unique_ptr<WebSocketTransport> transport_;
  std::chrono::milliseconds timeout_;
  HttpResponse handshake_response_;
};

}  // namespace rwtest

#endif  // RWPROXY_TESTS_SUPPORT_WEBSOCKET_CLIENT_H_
