#include "server/tls/tls_defaults.h"

#include <openssl/err.h>
#include <sys/stat.h>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"

namespace rwproxy {

namespace {
constexpr char kTls12Ciphers[] =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr char kGroups[] = "X25519:P-256:P-384";
}  // namespace

std::string OpenSslError(const char* fallback) {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0) return fallback;
  const char* reason = ERR_reason_error_string(e);
  if (reason != nullptr) return reason;
  char text[256];
  ERR_error_string_n(e, text, sizeof(text));
  return text;
}

absl::StatusOr<SSL_CTX*> NewTlsContext(bool server, TlsVersion min_version) {
  ERR_clear_error();
  SSL_CTX* ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
  if (ctx == nullptr) return absl::InternalError(OpenSslError("cannot create a TLS context"));
  const int min = min_version == TlsVersion::kTls13 ? TLS1_3_VERSION : TLS1_2_VERSION;
  SSL_CTX_set_min_proto_version(ctx, min);
  SSL_CTX_set_max_proto_version(ctx, TLS1_3_VERSION);
  // An EOF without close_notify is a plain end of stream: HTTP framing (not the TLS close) says
  // where a message ends, as in nginx.
  SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
                               SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_IGNORE_UNEXPECTED_EOF);
  SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
  // Read as much as the buffer takes in one recv: a short recv then shows the socket drained
  // (TlsStream::Drained), which saves the EAGAIN read after every request.
  SSL_CTX_set_read_ahead(ctx, 1);
  if (SSL_CTX_set_cipher_list(ctx, kTls12Ciphers) != 1 || SSL_CTX_set1_groups_list(ctx, kGroups) != 1) {
    std::string error = OpenSslError("cannot set the cipher list");
    SSL_CTX_free(ctx);
    return absl::InternalError(error);
  }
  return ctx;
}

bool WorldReadable(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return false;
  return (st.st_mode & S_IROTH) != 0;
}

}  // namespace rwproxy
