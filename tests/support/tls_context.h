// OpenSSL client setup shared by TlsConnection and WebSocketClient (wss): the SSL_CTX for a set
// of TlsOptions, the per-connection settings, error text and what the peer's certificate says.
//
// Ownership: NewClientContext's caller owns the SSL_CTX (SSL_CTX_free, or hand it to an
// asio::ssl::context). Thread-safety: free functions; each SSL object on one thread at a time.
#ifndef RWPROXY_TESTS_SUPPORT_TLS_CONTEXT_H_
#define RWPROXY_TESTS_SUPPORT_TLS_CONTEXT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/tls_client.h"

typedef struct ssl_ctx_st SSL_CTX;  // as in <openssl/types.h>
typedef struct ssl_st SSL;

namespace rwtest {

// A client context for `options`: TLS versions, verification against ca_file (or none), the
// client certificate, ALPN, and a client session cache that keeps nothing itself.
absl::StatusOr<SSL_CTX*> NewClientContext(const TlsOptions& options);

// Per connection: SNI, the name or IP the certificate must match, the session to resume.
absl::Status ConfigureClient(SSL* ssl, const TlsOptions& options);

// OpenSSL's error queue as text (and emptied), plus the verification failure's reason when there
// was one (`ssl` may be null).
std::string SslErrorText(SSL* ssl);

// The peer certificate's subject CN and its SAN DNS names and IP addresses ("" / none if the
// peer sent no certificate).
void DescribePeer(SSL* ssl, std::string& cn, std::vector<std::string>& sans);

}  // namespace rwtest

#endif  // RWPROXY_TESTS_SUPPORT_TLS_CONTEXT_H_
