// rwupstream's internals shared by its translation units (upstream_main.cc: flags, listeners;
// upstream_http.cc: the HTTP/1.1 keep-alive loop and its answers; upstream_tls.cc: the TLS
// listener; upstream_websocket.cc: the WebSocket echo). Not part of rw_test_support.
//
// Ownership: main() owns the one Server for the whole process; every session holds a reference.
// Thread-safety: Options is read-only once serving starts; Counters and Faults are atomics, so
// any io_context thread may use them. A session (and its stream) belongs to one coroutine, which
// runs on the connection's strand (or the single io_context thread).
#ifndef RWPROXY_TESTS_SUPPORT_UPSTREAM_SERVER_H_
#define RWPROXY_TESTS_SUPPORT_UPSTREAM_SERVER_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "boost/asio/awaitable.hpp"
#include "boost/asio/ip/tcp.hpp"
#include "boost/beast/core.hpp"
#include "boost/beast/http.hpp"
#include "boost/beast/ssl.hpp"
#include "tests/support/upstream_faults.h"

namespace rwupstream {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

struct Options {
  std::string listen = "127.0.0.1:0";
  std::string ports_file;
  std::string name = "upstream";
  int threads = 1;
  int idle_close_ms = 0;
  int close_after = 0;
  int drop_after = 0;
  int health_status = 200;
  // TLS on the listen port (both set, or neither).
  std::string tls_cert;         // PEM certificate chain, leaf first
  std::string tls_key;          // PEM private key
  std::string tls_client_ca;    // when set: a client certificate signed by it is required
  std::string tls_max_version;  // "1.2" or "1.3" ("" = 1.3)
  bool tls() const { return !tls_cert.empty(); }
};

// What /__stats reports besides the Faults counters.
struct Counters {
  std::atomic<uint64_t> connections{0};          // accepted on the listen port (TLS or not)
  std::atomic<uint64_t> control_connections{0};  // accepted on the control port
  std::atomic<uint64_t> requests{0};             // every request read, control paths included
  std::atomic<uint64_t> tls_handshakes{0};       // completed TLS handshakes
  std::atomic<uint64_t> tls_resumed{0};          // ... of which resumed a session
  std::atomic<uint64_t> tls_handshake_errors{0};
  std::atomic<uint64_t> websockets_active{0};
  std::atomic<uint64_t> websockets_total{0};  // upgrades accepted
};

struct Server {
  Options options;
  Counters counters;
  Faults faults;
};

// One accepted connection, as the echo body reports it.
struct ConnInfo {
  uint64_t id = 0;            // conn=: the connection's number on its port
  bool control_only = false;  // the control port: only the control paths are served
  bool tls = false;
  std::string sni;          // the server name the client sent ("" if none)
  std::string alpn;         // the negotiated protocol ("" if none)
  std::string tls_version;  // "TLSv1.3"
  std::string client_cn;    // the verified client certificate's CN ("" if none)
};

// A request body that is only counted: nothing is stored. Owned by its message; used on the
// connection's executor only.
struct CountingBody {
  using value_type = uint64_t;
  class reader {
   public:
    template <bool kIsRequest, class Fields>
    reader(http::header<kIsRequest, Fields>&, value_type& bytes) : bytes_(bytes) {}
    void init(const boost::optional<uint64_t>&, beast::error_code& ec) {
      bytes_ = 0;
      ec = {};
    }
    template <class ConstBufferSequence>
    size_t put(const ConstBufferSequence& buffers, beast::error_code& ec) {
      size_t n = asio::buffer_size(buffers);
      bytes_ += n;
      ec = {};
      return n;
    }
    void finish(beast::error_code& ec) { ec = {}; }

   private:
    value_type& bytes_;
  };
};

using Request = http::request<CountingBody>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// 26 * 2520 bytes: every chunk starts at a multiple of 26, so byte i of a body is 'a' + i % 26.
inline constexpr size_t kPatternSize = 26 * 2520;
const char* Pattern();

bool ParseUint(std::string_view s, uint64_t& out);

// Serves HTTP/1.1 requests on an established connection until either side ends it; the caller
// then closes the stream. Instantiated for beast::tcp_stream and TlsStream (upstream_http.cc).
template <class Stream>
asio::awaitable<void> ServeHttp(Server& server, Stream& stream, const ConnInfo& info);

// Plain sessions: the listen port without TLS, and the control port (`control_only`).
asio::awaitable<void> PlainSession(Server& server, tcp::socket socket, bool control_only);

// Whether `req` asks for a WebSocket (an Upgrade header naming "websocket").
bool IsWebSocketUpgrade(const Request& req);
// Accepts the upgrade `req` (read in full already) and echoes every message (text stays text)
// until the client closes or the connection breaks. The connection is not reusable afterwards.
// Instantiated for beast::tcp_stream and TlsStream (upstream_websocket.cc).
template <class Stream>
asio::awaitable<void> ServeWebSocket(Server& server, Stream& stream, const Request& req);

// The server TLS context for --tls-cert/--tls-key[/--tls-client-ca]; "" or what is wrong in
// `error` (then nullptr).
std::unique_ptr<asio::ssl::context> MakeTlsContext(const Options& options, std::string& error);
// A TLS session on the listen port: handshake, ServeHttp, close_notify.
asio::awaitable<void> TlsSession(Server& server, asio::ssl::context& context, tcp::socket socket);

}  // namespace rwupstream

#endif  // RWPROXY_TESTS_SUPPORT_UPSTREAM_SERVER_H_
