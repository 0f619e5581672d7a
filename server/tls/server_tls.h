// The TLS side of the client listener: one SSL_CTX per certificate (the first is the default;
// the others are chosen by the SNI name the client sends, matched against each certificate's DNS
// names, "*.example.com" wildcards included), with the security defaults of tls_defaults.h,
// ALPN "http/1.1", optional client certificates (mTLS) and session tickets whose keys are shared
// by every context and every reload (so a certificate rotation does not end resumption).
//
// Certificates are replaced as a whole: control/cert_reloader.h loads a new ServerTlsContexts
// when a file changes and, only if every file loads and checks, stores it in the ServerTlsSlot;
// a connection takes the current one when it is accepted and keeps it for its handshake.
//
// Ownership: ServerTlsContexts is immutable and shared (shared_ptr<const>) by the slot and the
// connections in their handshake; the Server owns the slot. Thread-safety: ServerTlsContexts is
// read-only after Load (OpenSSL's SSL_CTX is safe to share once configured); ServerTlsSlot may
// be read and written from any thread.
#ifndef RWPROXY_SERVER_TLS_SERVER_TLS_H_
#define RWPROXY_SERVER_TLS_SERVER_TLS_H_

#include <openssl/ssl.h>

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "config/spec.h"

namespace rwproxy {

struct CertKeyFiles {
  std::string cert;  // PEM: the certificate, then its chain
  std::string key;   // PEM private key
};

struct ServerTlsOptions {
  std::vector<CertKeyFiles> certs;  // the first is the default (no SNI, or no name matched)
  TlsVersion min_version = TlsVersion::kTls12;
  std::string client_ca;            // PEM CAs that sign client certificates; empty: none asked
  bool require_client_cert = false;  // with client_ca: refuse a client without a certificate
  bool session_tickets = true;
};

// Session ticket keys (name, HMAC and AES keys), random per process, never written anywhere.
using TicketKeys = std::array<unsigned char, 80>;
TicketKeys RandomTicketKeys();

class ServerTlsContexts {
 public:
  // Reads and checks every file (the key matches its certificate, the certificate is within its
  // validity period). Problems that do not stop it (a private key file others can read) are
  // appended to *warnings.
  static absl::StatusOr<std::shared_ptr<const ServerTlsContexts>> Load(
      const ServerTlsOptions& options, const TicketKeys& keys, std::vector<std::string>* warnings);
  ~ServerTlsContexts();
  ServerTlsContexts(const ServerTlsContexts&) = delete;
  ServerTlsContexts& operator=(const ServerTlsContexts&) = delete;

  SSL_CTX* default_context() const { return entries_.front().ctx; }
  // The context whose certificate names `server_name` (exact before wildcard), else null.
  SSL_CTX* Find(std::string_view server_name) const;
  // "a.example.com,*.example.com (until 2027-03-01 00:00:00Z)" per certificate, for logs.
  std::vector<std::string> Describe() const;

 private:
  struct Entry {
    SSL_CTX* ctx = nullptr;
    std::vector<std::string> names;  // lowercase DNS names (SAN, else CN)
    std::string not_after;
  };
  ServerTlsContexts() = default;
  static int OnServerName(SSL* ssl, int* alert, void* arg);
  std::vector<Entry> entries_;
};

class ServerTlsSlot {
 public:
  explicit ServerTlsSlot(std::shared_ptr<const ServerTlsContexts> initial)
      : current_(std::move(initial)) {}
  std::shared_ptr<const ServerTlsContexts> Get() const { return current_.load(); }
  void Set(std::shared_ptr<const ServerTlsContexts> next) { current_.store(std::move(next)); }
  // Reload outcomes, reported in /stats as server.tls_cert_reloads / tls_cert_reload_fail.
  std::atomic<uint64_t> reloads{0};
  std::atomic<uint64_t> reload_failures{0};

 private:
  std::atomic<std::shared_ptr<const ServerTlsContexts>> current_;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_TLS_SERVER_TLS_H_
