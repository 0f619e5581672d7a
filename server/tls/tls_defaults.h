// The security defaults every rwproxy SSL_CTX starts from, client and server side alike: TLS 1.2
// or 1.3 only (min_version picks), no compression, no renegotiation, the ECDHE + AEAD cipher
// suites of Mozilla's "intermediate" profile for TLS 1.2 (OpenSSL's defaults for 1.3), curves
// X25519, P-256, P-384, and OpenSSL's buffers released while a connection is idle.
//
// Free functions. Thread-safety: call while the context is being built (one thread).
#ifndef RWPROXY_SERVER_TLS_TLS_DEFAULTS_H_
#define RWPROXY_SERVER_TLS_TLS_DEFAULTS_H_

#include <openssl/ssl.h>

#include <string>

#include "absl/status/statusor.h"
#include "config/spec.h"

namespace rwproxy {

// A new context with the defaults; an error names what OpenSSL refused.
absl::StatusOr<SSL_CTX*> NewTlsContext(bool server, TlsVersion min_version);

// The text of OpenSSL's oldest queued error (and clears the queue); `fallback` if none.
std::string OpenSslError(const char* fallback);

// Whether `path` can be read by users other than its owner and group ("world-readable").
bool WorldReadable(const std::string& path);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_TLS_TLS_DEFAULTS_H_
