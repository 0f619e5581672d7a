// A small blocking TLS client for tests, on OpenSSL: connects to 127.0.0.1:port, handshakes with
// the options a test chooses (SNI, verification against a CA, a client certificate, ALPN, TLS
// versions, a session to resume), reports what was negotiated, and speaks HTTP/1.1 over it.
// Every operation is bounded by the connection's timeout (DeadlineExceeded after it).
//
// Errors carry OpenSSL's text, e.g. "certificate verify failed" (with the reason: "certificate
// has expired", "unable to get local issuer certificate", "hostname mismatch"), "alert handshake
// failure", "tlsv13 alert certificate required". Note that with TLS 1.3 a server checks the
// client's certificate after the client's handshake is complete: a refused (or missing) client
// certificate then fails the first read (Send, ReadResponse), not Connect. TlsFetch covers both.
//
// The first Connect sets SIGPIPE to SIG_IGN for the process (OpenSSL writes with write(2)).
//
// Ownership: a TlsConnection owns its socket and its OpenSSL objects; the test owns the
// TlsConnection. Thread-safety: one thread at a time per connection; distinct connections may be
// used from distinct threads.
#ifndef RWPROXY_TESTS_SUPPORT_TLS_CLIENT_H_
#define RWPROXY_TESTS_SUPPORT_TLS_CLIENT_H_

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "tests/support/http_client.h"

typedef struct ssl_session_st SSL_SESSION;  // as in <openssl/types.h>

namespace rwtest {

// A TLS session that a later connection may resume (shared: it may resume several).
using TlsSession = std::shared_ptr<SSL_SESSION>;

enum class TlsVersion : int { kDefault = 0, kTls12 = 0x0303, kTls13 = 0x0304 };

struct TlsOptions {
  std::string sni;          // the server name sent; "" = no SNI extension
  std::string ca_file;      // "" = no verification at all; else the server must chain to it
  std::string verify_host;  // with ca_file: the DNS name or IP the certificate must match;
                            // "" = sni (no name check when both are empty)
  std::string client_cert;  // PEM chain (leaf first); with client_key
  std::string client_key;
  std::vector<std::string> alpn = {"http/1.1"};  // offered, in order; empty = no ALPN
  TlsVersion min_version = TlsVersion::kDefault;
  TlsVersion max_version = TlsVersion::kDefault;
  TlsSession session;  // offered for resumption when set
  std::chrono::milliseconds timeout{10000};
};

class TlsConnection {
 public:
  static absl::StatusOr<std::unique_ptr<TlsConnection>> Connect(uint16_t port,
                                                                const TlsOptions& options = {});
  ~TlsConnection();
  TlsConnection(const TlsConnection&) = delete;
  TlsConnection& operator=(const TlsConnection&) = delete;

  // Deadline for each following operation.
  void set_timeout(std::chrono::milliseconds timeout) { timeout_ = timeout; }
  uint16_t port() const { return port_; }

  // What the handshake negotiated.
  const std::string& alpn() const { return alpn_; }        // "" if none
  const std::string& version() const { return version_; }  // "TLSv1.2", "TLSv1.3"
  bool resumed() const { return resumed_; }
  const std::string& peer_cn() const { return peer_cn_; }  // the server certificate's CN
  const std::vector<std::string>& peer_sans() const { return peer_sans_; }  // DNS names, IPs
  // The latest resumable session the server gave; nullptr if none yet. TLS 1.3 tickets arrive
  // after the handshake: read one response first.
  TlsSession session() const;

  // Sends one request and reads its response. Adds Host (sni, or 127.0.0.1:port without SNI)
  // unless `headers` has one, and Content-Length when `body` is not empty (or for POST/PUT)
  // unless `headers` frames the body.
  absl::StatusOr<HttpResponse> Send(std::string_view method, std::string_view target,
                                    const Headers& headers = {}, std::string_view body = {});
  // Bytes out exactly as given (inside TLS).
  absl::Status WriteRaw(std::string_view bytes);
  // Reads one response (an interim 1xx counts as one). `head_request`: it has no body.
  absl::StatusOr<HttpResponse> ReadResponse(bool head_request = false);
  // Reads until the peer ends the connection (close_notify, EOF or reset) or the timeout;
  // returns what arrived.
  absl::StatusOr<std::string> ReadUntilClose();
  // Whether the peer's end seen by the last read was a close_notify (not a bare TCP close).
  bool closed_cleanly() const { return closed_cleanly_; }

  // Sends close_notify (without waiting for the peer's).
  absl::Status Shutdown();
  // Closes the socket: a bare TCP close unless Shutdown() sent close_notify first.
  void Close();

 private:
  struct Impl;
  TlsConnection(std::unique_ptr<Impl> impl, uint16_t port, std::chrono::milliseconds timeout);

  // Appends at least one byte to the receive buffer; 0 and `ended` once the peer ended it.
  absl::StatusOr<size_t> ReadMore(std::chrono::steady_clock::time_point deadline,
                                  const std::string& what, bool& ended);

  std::unique_ptr<Impl> impl_;
  uint16_t port_;
  std::chrono::milliseconds timeout_;
  std::string host_;  // the default Host header
  std::string alpn_;
  std::string version_;
  bool resumed_ = false;
  std::string peer_cn_;
  std::vector<std::string> peer_sans_;
  bool closed_cleanly_ = false;
};

// One request on a fresh TLS connection (closed afterwards): a handshake failure and a failure
// of the first read (TLS 1.3 client certificate checks) both end up in the status.
absl::StatusOr<HttpResponse> TlsFetch(uint16_t port, const TlsOptions& options,
                                      std::string_view method, std::string_view target,
                                      const Headers& headers = {}, std::string_view body = {});

}  // namespace rwtest

#endif  // RWPROXY_TESTS_SUPPORT_TLS_CLIENT_H_
