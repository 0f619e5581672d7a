// rwupstream's TLS listener: the server context from --tls-cert/--tls-key[/--tls-client-ca],
// the handshake (counted in /__stats), what the echo body reports about it (tls=1, sni=, alpn=,
// tls_version=, client_cn=), then the same HTTP/1.1 loop as without TLS.
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <chrono>
#include <string>

#include "boost/asio.hpp"
#include "boost/asio/ssl.hpp"
#include "tests/support/upstream_server.h"

namespace rwupstream {
namespace {

namespace ssl = asio::ssl;

constexpr auto kHandshakeTimeout = std::chrono::seconds(10);
// close_notify waits this long for the peer's; the socket is closed after it either way.
constexpr auto kShutdownTimeout = std::chrono::seconds(1);

// ALPN: "http/1.1" when the client offers it; otherwise the handshake goes on without ALPN.
int SelectAlpn(SSL*, const unsigned char** out, unsigned char* out_len, const unsigned char* in,
               unsigned int in_len, void*) {
  static constexpr unsigned char kHttp11[] = "\x08http/1.1";
  unsigned char* selected = nullptr;
  if (SSL_select_next_proto(&selected, out_len, kHttp11, sizeof kHttp11 - 1, in, in_len) !=
      OPENSSL_NPN_NEGOTIATED) {
    return SSL_TLSEXT_ERR_NOACK;
  }
  *out = selected;
  return SSL_TLSEXT_ERR_OK;
}

// The connection's ConnInfo, for the servername callback.
int ConnInfoIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

// Records the server name of the ClientHello: after the handshake, SSL_get_servername reports a
// resumed session's name instead (none for TLS 1.3 resumption).
int RecordServerName(SSL* ssl, int*, void*) {
  auto* info = static_cast<ConnInfo*>(SSL_get_ex_data(ssl, ConnInfoIndex()));
  const char* sni = SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name);
  if (info != nullptr) info->sni = sni != nullptr ? sni : "";
  return SSL_TLSEXT_ERR_OK;
}

std::string PeerCommonName(SSL* ssl) {
  X509* cert = SSL_get1_peer_certificate(ssl);
  if (cert == nullptr) return "";
  char cn[256] = {0};
  int n = X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof cn);
  X509_free(cert);
  return n > 0 ? std::string(cn, static_cast<size_t>(n)) : "";
}

void Describe(SSL* ssl, ConnInfo& info) {
  const unsigned char* alpn = nullptr;
  unsigned int alpn_len = 0;
  SSL_get0_alpn_selected(ssl, &alpn, &alpn_len);
  if (alpn != nullptr) info.alpn.assign(reinterpret_cast<const char*>(alpn), alpn_len);
  info.tls_version = SSL_get_version(ssl);
  info.client_cn = PeerCommonName(ssl);
}

}  // namespace

std::unique_ptr<ssl::context> MakeTlsContext(const Options& opt, std::string& error) {
  auto ctx = std::make_unique<ssl::context>(ssl::context::tls_server);
  SSL_CTX* native = ctx->native_handle();
  beast::error_code ec;
  auto fail = [&](const std::string& what) {
    error = what + ": " + ec.message();
    return nullptr;
  };
  SSL_CTX_set_min_proto_version(native, TLS1_2_VERSION);
  if (opt.tls_max_version == "1.2") {
    SSL_CTX_set_max_proto_version(native, TLS1_2_VERSION);
  } else if (!opt.tls_max_version.empty() && opt.tls_max_version != "1.3") {
    error = "--tls-max-version wants 1.2 or 1.3, got " + opt.tls_max_version;
    return nullptr;
  }
  ctx->use_certificate_chain_file(opt.tls_cert, ec);
  if (ec) return fail("--tls-cert " + opt.tls_cert);
  ctx->use_private_key_file(opt.tls_key, ssl::context::pem, ec);
  if (ec) return fail("--tls-key " + opt.tls_key);
  if (SSL_CTX_check_private_key(native) != 1) {
    error = "--tls-key " + opt.tls_key + " does not match --tls-cert " + opt.tls_cert;
    return nullptr;
  }
  // Sessions resume by ticket (TLS 1.3 and 1.2) or by id (TLS 1.2); with client verification,
  // OpenSSL refuses to resume without a session id context.
  static constexpr unsigned char kSessionContext[] = "rwupstream";
  SSL_CTX_set_session_id_context(native, kSessionContext, sizeof kSessionContext - 1);
  SSL_CTX_set_alpn_select_cb(native, SelectAlpn, nullptr);
  SSL_CTX_set_tlsext_servername_callback(native, RecordServerName);
  ConnInfoIndex();  // allocated before any thread serves
  if (!opt.tls_client_ca.empty()) {
    ctx->load_verify_file(opt.tls_client_ca, ec);
    if (ec) return fail("--tls-client-ca " + opt.tls_client_ca);
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(opt.tls_client_ca.c_str());
    if (names != nullptr) SSL_CTX_set_client_CA_list(native, names);
    ctx->set_verify_mode(ssl::verify_peer | ssl::verify_fail_if_no_peer_cert, ec);
    if (ec) return fail("set_verify_mode");
  }
  return ctx;
}

asio::awaitable<void> TlsSession(Server& server, ssl::context& context, tcp::socket socket) {
  ConnInfo info;
  info.id = ++server.counters.connections;
  info.tls = true;
  beast::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);
  TlsStream stream(std::move(socket), context);
  SSL_set_ex_data(stream.native_handle(), ConnInfoIndex(), &info);
  beast::get_lowest_layer(stream).expires_after(kHandshakeTimeout);
  auto [ec] = co_await stream.async_handshake(ssl::stream_base::server,
                                              asio::as_tuple(asio::use_awaitable));
  beast::get_lowest_layer(stream).expires_never();
  if (ec) {
    ++server.counters.tls_handshake_errors;
  } else {
    ++server.counters.tls_handshakes;
    if (SSL_session_reused(stream.native_handle())) ++server.counters.tls_resumed;
    Describe(stream.native_handle(), info);
    co_await ServeHttp(server, stream, info);
    // close_notify (a no-op when the connection is gone already, e.g. after an idle timeout or
    // a WebSocket close), bounded: the peer need not answer it.
    beast::get_lowest_layer(stream).expires_after(kShutdownTimeout);
    co_await stream.async_shutdown(asio::as_tuple(asio::use_awaitable));
  }
  tcp::socket& raw = beast::get_lowest_layer(stream).socket();
  raw.shutdown(tcp::socket::shutdown_both, ignored);
  raw.close(ignored);
}

}  // namespace rwupstream
