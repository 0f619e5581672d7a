// Shared by tls_test.cc and tls_stream_test.cc: a private temporary directory with a TestPki in
// it (certificates made by the openssl tool at test time), server and client contexts built by
// the code under test, and a TlsStream pair over a non-blocking socketpair driven by bounded
// loops (no sleeps, no threads).
//
// Ownership: TlsTest owns its directory and removes it in TearDown; StreamPair owns both fds and
// both streams. Thread-safety: the test's thread only.
#ifndef RWPROXY_TESTS_SERVER_TLS_TEST_UTIL_H_
#define RWPROXY_TESTS_SERVER_TLS_TEST_UTIL_H_

#include <openssl/objects.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/tls/client_tls.h"
#include "server/tls/server_tls.h"
#include "server/tls/tls_stream.h"
#include "tests/support/test_pki.h"

namespace rwproxy::tlstest {

inline const char* ResultName(TlsStream::Result r) {
  switch (r) {
    case TlsStream::Result::kOk:
      return "kOk";
    case TlsStream::Result::kWantRead:
      return "kWantRead";
    case TlsStream::Result::kWantWrite:
      return "kWantWrite";
    case TlsStream::Result::kEof:
      return "kEof";
    case TlsStream::Result::kError:
      return "kError";
  }
  return "?";
}

// The subject CN of the certificate a context serves ("" if none).
inline std::string ContextCn(SSL_CTX* ctx) {
  if (ctx == nullptr) return "";
  X509* cert = SSL_CTX_get0_certificate(ctx);
  char cn[256] = {};
  if (cert == nullptr ||
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn)) <= 0) {
    return "";
  }
  return cn;
}

// The subject CN of the certificate the peer of `ssl` presented ("" if none).
inline std::string PeerCn(SSL* ssl) {
  X509* cert = SSL_get0_peer_certificate(ssl);
  char cn[256] = {};
  if (cert == nullptr ||
      X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, cn, sizeof(cn)) <= 0) {
    return "";
  }
  return cn;
}

// Counts the application-data records a stream writes. Attach it after the handshake: in TLS
// 1.3 the encrypted handshake records are application-data records on the wire too.
struct RecordCounter {
  int records = 0;
  static void Callback(int write_p, int, int content_type, const void* buf, size_t len, SSL*,
                       void* arg) {
    if (write_p == 1 && content_type == SSL3_RT_HEADER && len >= 1 &&
        static_cast<const unsigned char*>(buf)[0] == SSL3_RT_APPLICATION_DATA) {
      ++static_cast<RecordCounter*>(arg)->records;
    }
  }
  void Attach(SSL* ssl) {
    SSL_set_msg_callback(ssl, &RecordCounter::Callback);
    SSL_set_msg_callback_arg(ssl, this);
  }
};

// Both ends of a connected AF_UNIX socketpair, non-blocking, each with a TlsStream (the server
// end accepts, the client end connects).
struct StreamPair {
  int server_fd = -1;
  int client_fd = -1;
  std::unique_ptr<TlsStream> server;
  std::unique_ptr<TlsStream> client;

  StreamPair() = default;
  StreamPair(const StreamPair&) = delete;
  StreamPair& operator=(const StreamPair&) = delete;
  ~StreamPair() {
    server.reset();
    client.reset();
    if (server_fd >= 0) ::close(server_fd);
    if (client_fd >= 0) ::close(client_fd);
  }
  void CloseServerFd() {
    if (server_fd >= 0) ::close(server_fd);
    server_fd = -1;
  }
};

// `sndbuf` > 0: SO_SNDBUF of both ends (the kernel doubles it), so that a large write fills the
// socket and has to wait for the peer. A null `client_ctx`: no client stream (raw client fd).
// `client_buffers`: the client stream's BufferPool (none by default).
inline std::unique_ptr<StreamPair> MakePair(SSL_CTX* server_ctx, SSL_CTX* client_ctx,
                                            int sndbuf = 0, BufferPool* client_buffers = nullptr) {
  auto pair = std::make_unique<StreamPair>();
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds) != 0) {
    return nullptr;
  }
  pair->server_fd = fds[0];
  pair->client_fd = fds[1];
  if (sndbuf > 0) {
    for (int fd : fds) {
      if (::setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf)) != 0) return nullptr;
    }
  }
  pair->server = TlsStream::Create(server_ctx, pair->server_fd, true);
  if (pair->server == nullptr) return nullptr;
  if (client_ctx != nullptr) {
    pair->client = TlsStream::Create(client_ctx, pair->client_fd, false, client_buffers);
    if (pair->client == nullptr) return nullptr;
  }
  return pair;
}

inline constexpr int kMaxRounds = 1000;
inline constexpr std::chrono::seconds kDeadline{10};

struct HandshakeResult {
  TlsStream::Result client = TlsStream::Result::kWantRead;
  TlsStream::Result server = TlsStream::Result::kWantRead;
  TlsStream::Result client_first = TlsStream::Result::kOk;  // the first call's result
  TlsStream::Result server_first = TlsStream::Result::kOk;
};

inline bool Finished(TlsStream::Result r) {
  return r == TlsStream::Result::kOk || r == TlsStream::Result::kError ||
         r == TlsStream::Result::kEof;
}

// Calls each side's Handshake in turn until both have finished (kOk, kError or kEof) or a bound
// is reached. The server's first call comes before the client has sent anything.
inline HandshakeResult DriveHandshake(StreamPair& pair) {
  HandshakeResult result;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  for (int round = 0; round < kMaxRounds && std::chrono::steady_clock::now() < deadline; ++round) {
    if (!Finished(result.server)) result.server = pair.server->Handshake();
    if (round == 0) result.server_first = result.server;
    if (!Finished(result.client)) result.client = pair.client->Handshake();
    if (round == 0) result.client_first = result.client;
    if (Finished(result.client) && Finished(result.server)) break;
  }
  return result;
}

// Reads from `stream` into *out until it has nothing more for now; returns the last result
// (kWantRead when it simply ran dry).
inline TlsStream::Result ReadAvailable(TlsStream& stream, std::string* out) {
  char buffer[8192];
  for (;;) {
    size_t n = 0;
    TlsStream::Result r = stream.Read(buffer, sizeof(buffer), &n);
    if (r != TlsStream::Result::kOk) return r;
    out->append(buffer, n);
  }
}

// A fixture with a private directory (mode 0700, removed in TearDown) and a TestPki in it.
class TlsTest : public testing::Test {
 protected:
  void SetUp() override {
    std::string templ = (std::filesystem::temp_directory_path() / "rwtls-XXXXXX").string();
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = templ;
    auto pki = rwtest::TestPki::Create(dir_ + "/pki");
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_.emplace(std::move(*pki));
  }
  void TearDown() override {
    pki_.reset();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }

  rwtest::TestPki& pki() { return *pki_; }
  const std::string& dir() const { return dir_; }

  // ServerTlsContexts for these certificates (the first is the default).
  absl::StatusOr<std::shared_ptr<const ServerTlsContexts>> LoadServer(
      const std::vector<rwtest::CertPaths>& certs, TlsVersion min_version = TlsVersion::kTls12,
      std::vector<std::string>* warnings = nullptr) {
    ServerTlsOptions options;
    for (const rwtest::CertPaths& c : certs) options.certs.push_back({c.cert, c.key});
    options.min_version = min_version;
    std::vector<std::string> ignored;
    return ServerTlsContexts::Load(options, RandomTicketKeys(),
                                   warnings != nullptr ? warnings : &ignored);
  }

  // An upstream TLS spec that trusts `ca` (the test CA by default).
  UpstreamTlsSpec Spec(std::string ca = "") {
    UpstreamTlsSpec spec;
    spec.ca_file = ca.empty() ? pki().ca_cert() : ca;
    return spec;
  }
  // An upstream (client) context for `spec` (warnings ignored).
  static absl::StatusOr<std::shared_ptr<const UpstreamTls>> Client(const UpstreamTlsSpec& spec) {
    std::vector<std::string> warnings;
    return UpstreamTls::Create(spec, &warnings);
  }
  // One that trusts `ca` (the test CA by default).
  absl::StatusOr<std::shared_ptr<const UpstreamTls>> Client(std::string ca = "") {
    return Client(Spec(ca));
  }

 private:
  std::string dir_;
  std::optional<rwtest::TestPki> pki_;
};

}  // namespace rwproxy::tlstest

#endif  // RWPROXY_TESTS_SERVER_TLS_TEST_UTIL_H_
