// TLS to one cluster's endpoints (cluster `tls:`), built when a snapshot is compiled: one client
// SSL_CTX with the security defaults (tls_defaults.h), the trusted CAs (ca_file, else the
// system's), the optional client certificate, and per connection the SNI name and the name the
// certificate must carry (hostname verification; an IP literal is checked against the
// certificate's IP addresses and sent without SNI, RFC 6066 §3).
//
// Pools are per endpoint AND per TLS identity (PoolKey): a connection is reused only for the same
// address, server name and TLS settings, so two clusters that send different SNI to one address
// never share a connection, and changing a cluster's tls settings drains its old connections.
//
// Ownership: immutable, shared (shared_ptr<const>) by the snapshot's ClusterInfo and the pools
// built from it. Thread-safety: any thread (OpenSSL contexts are safe to share once configured).
#ifndef RWPROXY_SERVER_TLS_CLIENT_TLS_H_
#define RWPROXY_SERVER_TLS_CLIENT_TLS_H_

#include <openssl/ssl.h>

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "config/spec.h"

namespace rwproxy {

class UpstreamTls {
 public:
  // Reads ca_file and the client certificate and key; an error names the file and the reason.
  // Non-fatal problems (a world-readable client key) are appended to *warnings.
  static absl::StatusOr<std::shared_ptr<const UpstreamTls>> Create(
      const UpstreamTlsSpec& spec, std::vector<std::string>* warnings);
  ~UpstreamTls();
  UpstreamTls(const UpstreamTls&) = delete;
  UpstreamTls& operator=(const UpstreamTls&) = delete;

  SSL_CTX* context() const { return ctx_; }
  // The name sent as SNI and verified for an endpoint configured as `endpoint_host` (spec.sni
  // when set, else the endpoint's host).
  std::string ServerName(std::string_view endpoint_host) const;
  // Sets SNI and the verified name (or IP) on a new client SSL. False if OpenSSL refuses.
  bool Prepare(SSL* ssl, const std::string& server_name) const;
  // Distinguishes these settings in pool keys ("tls:<hash>").
  const std::string& identity() const { return identity_; }
  const UpstreamTlsSpec& spec() const { return spec_; }

 private:
  UpstreamTls() = default;
  SSL_CTX* ctx_ = nullptr;
  UpstreamTlsSpec spec_;
  std::string identity_;
};

// The host part of an endpoint as configured: "app.local:8443" -> "app.local", "[::1]:443" ->
// "::1".
std::string_view EndpointHost(std::string_view source);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_TLS_CLIENT_TLS_H_
