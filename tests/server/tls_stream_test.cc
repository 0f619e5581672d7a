// TlsStream over a non-blocking socketpair: the handshake, reads and writes return kWantRead /
// kWantWrite instead of blocking, so both ends are driven by one thread in bounded loops. Server
// contexts come from ServerTlsContexts and client contexts from UpstreamTls (the code under
// test), with certificates made at test time (tls_test_util.h).
#include <openssl/err.h>
#include <openssl/ssl.h>

#include <span>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "server/tls/tls_defaults.h"
#include "tests/server/tls_test_util.h"

namespace rwproxy::tlstest {
namespace {

using R = TlsStream::Result;

class TlsStreamTest : public TlsTest {
 protected:
  void SetUp() override {
    TlsTest::SetUp();
    if (HasFatalFailure()) return;
    auto app = pki().IssueServer("app", {"app.example.com", "127.0.0.1"});
    ASSERT_TRUE(app.ok()) << app.status();
    app_ = *app;
  }

  // A pair whose handshake completed: server with app_'s certificate, client verifying it as
  // app.example.com against the test CA.
  std::unique_ptr<StreamPair> Connected(int sndbuf = 0) {
    auto server = LoadServer({app_});
    EXPECT_TRUE(server.ok()) << server.status();
    auto client = Client();
    EXPECT_TRUE(client.ok()) << client.status();
    if (!server.ok() || !client.ok()) return nullptr;
    server_ = *server;
    client_ = *client;
    auto pair = MakePair(server_->default_context(), client_->context(), sndbuf);
    EXPECT_NE(pair, nullptr);
    if (pair == nullptr) return nullptr;
    EXPECT_TRUE(client_->Prepare(pair->client->ssl(), "app.example.com"));
    HandshakeResult hs = DriveHandshake(*pair);
    EXPECT_EQ(hs.client, R::kOk) << ResultName(hs.client) << " " << pair->client->error();
    EXPECT_EQ(hs.server, R::kOk) << ResultName(hs.server) << " " << pair->server->error();
    if (hs.client != R::kOk || hs.server != R::kOk) return nullptr;
    return pair;
  }

  rwtest::CertPaths app_;
  std::shared_ptr<const ServerTlsContexts> server_;
  std::shared_ptr<const UpstreamTls> client_;
};

TEST_F(TlsStreamTest, HandshakeNeverBlocks) {
  auto server = LoadServer({app_});
  auto client = Client();
  ASSERT_TRUE(server.ok() && client.ok()) << server.status() << client.status();
  auto pair = MakePair((*server)->default_context(), (*client)->context());
  ASSERT_NE(pair, nullptr);
  ASSERT_TRUE((*client)->Prepare(pair->client->ssl(), "app.example.com"));
  HandshakeResult hs = DriveHandshake(*pair);
  // Nothing has arrived at the server's first call; the client then waits for the server hello.
  EXPECT_EQ(hs.server_first, R::kWantRead);
  EXPECT_EQ(hs.client_first, R::kWantRead);
  ASSERT_EQ(hs.client, R::kOk) << pair->client->error();
  ASSERT_EQ(hs.server, R::kOk) << pair->server->error();
  EXPECT_EQ(SSL_version(pair->client->ssl()), TLS1_3_VERSION);
  EXPECT_EQ(PeerCn(pair->client->ssl()), "app.example.com");
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(pair->server->ssl(), &alpn, &alpn_len);
  EXPECT_EQ(alpn_len, 0u);  // the client offered none: none chosen, the handshake still goes on
  EXPECT_TRUE(pair->server->error().empty());
  EXPECT_EQ(pair->server->error_reason(), 0);
}

// ALPN: http/1.1 when offered; a client offering only other protocols is refused.
TEST_F(TlsStreamTest, AlpnChoosesHttp11OrRefuses) {
  auto server = LoadServer({app_});
  auto client = Client();
  ASSERT_TRUE(server.ok() && client.ok());
  static const unsigned char kBoth[] = "\x02h2\x08http/1.1";
  static const unsigned char kH2[] = "\x02h2";
  auto both = MakePair((*server)->default_context(), (*client)->context());
  ASSERT_NE(both, nullptr);
  ASSERT_EQ(SSL_set_alpn_protos(both->client->ssl(), kBoth, sizeof(kBoth) - 1), 0);
  HandshakeResult hs = DriveHandshake(*both);
  ASSERT_EQ(hs.server, R::kOk) << both->server->error();
  ASSERT_EQ(hs.client, R::kOk) << both->client->error();
  const unsigned char* alpn = nullptr;
  unsigned alpn_len = 0;
  SSL_get0_alpn_selected(both->client->ssl(), &alpn, &alpn_len);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(alpn), alpn_len), "http/1.1");

  auto h2 = MakePair((*server)->default_context(), (*client)->context());
  ASSERT_NE(h2, nullptr);
  ASSERT_EQ(SSL_set_alpn_protos(h2->client->ssl(), kH2, sizeof(kH2) - 1), 0);
  hs = DriveHandshake(*h2);
  EXPECT_EQ(hs.server, R::kError);
  EXPECT_EQ(h2->server->error_reason(), SSL_R_NO_APPLICATION_PROTOCOL) << h2->server->error();
  EXPECT_EQ(hs.client, R::kError);
}

// Several pieces, an empty one among them, go out as one record, in order.
TEST_F(TlsStreamTest, WriteCoalescesPiecesIntoOneRecord) {
  auto pair = Connected();
  ASSERT_NE(pair, nullptr);
  RecordCounter counter;
  counter.Attach(pair->client->ssl());
  const std::vector<std::string> pieces = {"GET /a HTTP/1.1\r\n", "Host: app.example.com\r\n", "",
                                           "X-A: 1\r\n", "\r\n"};
  std::vector<boost::asio::const_buffer> buffers;
  std::string expected;
  for (const std::string& p : pieces) {
    buffers.emplace_back(p.data(), p.size());
    expected += p;
  }
  std::span<boost::asio::const_buffer> span(buffers);
  ASSERT_EQ(pair->client->Write(&span), R::kOk) << pair->client->error();
  EXPECT_TRUE(span.empty());
  EXPECT_FALSE(pair->client->write_pending());
  EXPECT_EQ(counter.records, 1);
  std::string received;
  EXPECT_EQ(ReadAvailable(*pair->server, &received), R::kWantRead);
  EXPECT_EQ(received, expected);
}

// 100 KiB while the peer is not reading: the socket fills, Write says kWantWrite, and once the
// peer reads, further calls with the same (advanced) span finish it. Every record but the last is
// full (16 KiB), and the bytes arrive exactly, in order.
TEST_F(TlsStreamTest, LargeWriteWaitsForThePeerAndDeliversEveryByteInOrder) {
  auto pair = Connected(/*sndbuf=*/4096);
  ASSERT_NE(pair, nullptr);
  RecordCounter counter;
  counter.Attach(pair->client->ssl());
  std::string data(100 * 1024, '\0');
  for (size_t i = 0; i < data.size(); ++i) data[i] = static_cast<char>((i * 7 + i / 251) % 256);
  const size_t cuts[] = {1, 5000, 70000};  // pieces of 1, 4999, 65000 and 32401 bytes
  std::vector<boost::asio::const_buffer> buffers;
  size_t from = 0;
  for (size_t cut : cuts) {
    buffers.emplace_back(data.data() + from, cut - from);
    from = cut;
  }
  buffers.emplace_back(data.data() + from, data.size() - from);
  std::span<boost::asio::const_buffer> span(buffers);

  R first = pair->client->Write(&span);
  EXPECT_EQ(first, R::kWantWrite);  // nobody reads yet
  EXPECT_TRUE(pair->client->write_pending());
  int want_writes = first == R::kWantWrite ? 1 : 0;
  std::string received;
  R result = first;
  const auto deadline = std::chrono::steady_clock::now() + kDeadline;
  for (int round = 0;
       result != R::kOk && round < kMaxRounds && std::chrono::steady_clock::now() < deadline;
       ++round) {
    ASSERT_EQ(result, R::kWantWrite) << ResultName(result) << " " << pair->client->error();
    ASSERT_EQ(ReadAvailable(*pair->server, &received), R::kWantRead) << pair->server->error();
    result = pair->client->Write(&span);
    if (result == R::kWantWrite) ++want_writes;
  }
  ASSERT_EQ(result, R::kOk) << ResultName(result);
  EXPECT_TRUE(span.empty());
  EXPECT_FALSE(pair->client->write_pending());
  EXPECT_GE(want_writes, 2);
  for (int round = 0; received.size() < data.size() && round < kMaxRounds; ++round) {
    ASSERT_EQ(ReadAvailable(*pair->server, &received), R::kWantRead);
  }
  ASSERT_EQ(received.size(), data.size());
  EXPECT_TRUE(received == data) << "the bytes differ or are out of order";
  EXPECT_EQ(counter.records, 7);  // ceil(102400 / 16384)
  pair->client->ReleaseBuffers();
  EXPECT_FALSE(pair->client->write_pending());
}

// The write buffer comes from the BufferPool and goes back to it with ReleaseBuffers, but only
// once nothing is pending in it.
TEST_F(TlsStreamTest, WriteBufferComesFromThePoolAndGoesBack) {
  auto server = LoadServer({app_});
  auto client = Client();
  ASSERT_TRUE(server.ok() && client.ok());
  BufferPool pool;
  auto block = pool.Take();
  const char* const block_address = block.get();
  pool.Give(std::move(block));
  auto pair = MakePair((*server)->default_context(), (*client)->context(), 4096, &pool);
  ASSERT_NE(pair, nullptr);
  ASSERT_TRUE((*client)->Prepare(pair->client->ssl(), "app.example.com"));
  HandshakeResult hs = DriveHandshake(*pair);
  ASSERT_TRUE(hs.client == R::kOk && hs.server == R::kOk) << pair->client->error();

  const std::string data(64 * 1024, 'z');
  std::vector<boost::asio::const_buffer> buffers = {{data.data(), data.size()}};
  std::span<boost::asio::const_buffer> span(buffers);
  ASSERT_EQ(pair->client->Write(&span), R::kWantWrite);  // the pool's block is now in use
  pair->client->ReleaseBuffers();                        // pending: kept
  auto taken = pool.Take();
  EXPECT_NE(taken.get(), block_address);
  taken.reset();
  std::string received;
  R result = R::kWantWrite;
  for (int round = 0; result == R::kWantWrite && round < kMaxRounds; ++round) {
    ASSERT_EQ(ReadAvailable(*pair->server, &received), R::kWantRead);
    result = pair->client->Write(&span);
  }
  ASSERT_EQ(result, R::kOk);
  pair->client->ReleaseBuffers();
  EXPECT_EQ(pool.Take().get(), block_address);  // given back
  for (int round = 0; received.size() < data.size() && round < kMaxRounds; ++round) {
    ASSERT_EQ(ReadAvailable(*pair->server, &received), R::kWantRead);
  }
  EXPECT_TRUE(received == data);
}

// An idle connection (the TLS 1.3 session tickets the server sent are not application bytes) is
// usable; a byte from the peer makes it unusable and is still there to be read.
TEST_F(TlsStreamTest, UnusableWhenThePeerSentBytes) {
  auto pair = Connected();
  ASSERT_NE(pair, nullptr);
  EXPECT_FALSE(pair->client->Unusable());
  EXPECT_FALSE(pair->client->Unusable());
  std::string x = "x";
  std::vector<boost::asio::const_buffer> buffers = {{x.data(), x.size()}};
  std::span<boost::asio::const_buffer> span(buffers);
  ASSERT_EQ(pair->server->Write(&span), R::kOk);
  EXPECT_TRUE(pair->client->Unusable());
  std::string received;
  EXPECT_EQ(ReadAvailable(*pair->client, &received), R::kWantRead);
  EXPECT_EQ(received, "x");
  EXPECT_FALSE(pair->client->Unusable());  // read: idle again
}

TEST_F(TlsStreamTest, UnusableAfterThePeerSentCloseNotify) {
  auto pair = Connected();
  ASSERT_NE(pair, nullptr);
  ASSERT_FALSE(pair->client->Unusable());
  pair->server->Shutdown();
  EXPECT_TRUE(pair->client->Unusable());
  std::string received;
  EXPECT_EQ(ReadAvailable(*pair->client, &received), R::kEof);
  EXPECT_EQ(received, "");
}

TEST_F(TlsStreamTest, UnusableAfterThePeerClosedTheSocket) {
  auto pair = Connected();
  ASSERT_NE(pair, nullptr);
  ASSERT_FALSE(pair->client->Unusable());
  pair->server.reset();
  pair->CloseServerFd();  // no close_notify
  EXPECT_TRUE(pair->client->Unusable());
  std::string received;
  EXPECT_EQ(ReadAvailable(*pair->client, &received), R::kEof);  // IGNORE_UNEXPECTED_EOF
}

// min_version 1.3 refuses a client that can do at most 1.2; min_version 1.2 accepts it.
TEST_F(TlsStreamTest, MinVersionRefusesOlderClients) {
  auto client_ctx = NewTlsContext(false, TlsVersion::kTls12);
  ASSERT_TRUE(client_ctx.ok()) << client_ctx.status();
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> client(*client_ctx, &SSL_CTX_free);
  SSL_CTX_set_verify(client.get(), SSL_VERIFY_NONE, nullptr);
  ASSERT_EQ(SSL_CTX_set_max_proto_version(client.get(), TLS1_2_VERSION), 1);

  auto strict = LoadServer({app_}, TlsVersion::kTls13);
  ASSERT_TRUE(strict.ok()) << strict.status();
  auto refused = MakePair((*strict)->default_context(), client.get());
  ASSERT_NE(refused, nullptr);
  HandshakeResult hs = DriveHandshake(*refused);
  EXPECT_EQ(hs.server, R::kError);
  EXPECT_EQ(refused->server->error_reason(), SSL_R_UNSUPPORTED_PROTOCOL)
      << refused->server->error();
  EXPECT_EQ(hs.client, R::kError);
  EXPECT_TRUE(absl::StrContains(refused->client->error(), "protocol version"))
      << refused->client->error();

  auto lenient = LoadServer({app_}, TlsVersion::kTls12);
  ASSERT_TRUE(lenient.ok()) << lenient.status();
  auto accepted = MakePair((*lenient)->default_context(), client.get());
  ASSERT_NE(accepted, nullptr);
  hs = DriveHandshake(*accepted);
  ASSERT_EQ(hs.server, R::kOk) << accepted->server->error();
  ASSERT_EQ(hs.client, R::kOk) << accepted->client->error();
  EXPECT_EQ(SSL_version(accepted->server->ssl()), TLS1_2_VERSION);
}

// A client that trusts another CA fails with the verification reason in error().
TEST_F(TlsStreamTest, VerifyFailureAgainstAnotherCaIsReported) {
  auto server = LoadServer({app_});
  auto client = Client(pki().untrusted_ca_cert());
  ASSERT_TRUE(server.ok() && client.ok()) << server.status() << client.status();
  auto pair = MakePair((*server)->default_context(), (*client)->context());
  ASSERT_NE(pair, nullptr);
  ASSERT_TRUE((*client)->Prepare(pair->client->ssl(), "app.example.com"));
  HandshakeResult hs = DriveHandshake(*pair);
  EXPECT_EQ(hs.client, R::kError);
  EXPECT_EQ(pair->client->error(),
            "certificate verify failed: unable to get local issuer certificate");
  EXPECT_EQ(pair->client->error_reason(), SSL_R_CERTIFICATE_VERIFY_FAILED);
  EXPECT_EQ(hs.server, R::kError);  // the client's alert ends the server's handshake too
}

// Prepare sets the name (or IP) the certificate must carry.
TEST_F(TlsStreamTest, VerifiesTheServerNameOrAddress) {
  auto server = LoadServer({app_});
  auto client = Client();
  ASSERT_TRUE(server.ok() && client.ok());
  struct Case {
    std::string name;
    std::string error;  // "" = handshake succeeds
  };
  for (const Case& c : {Case{"app.example.com", ""}, Case{"127.0.0.1", ""},
                        Case{"other.example.com", "certificate verify failed: hostname mismatch"},
                        Case{"127.0.0.2", "certificate verify failed: IP address mismatch"}}) {
    auto pair = MakePair((*server)->default_context(), (*client)->context());
    ASSERT_NE(pair, nullptr);
    ASSERT_TRUE((*client)->Prepare(pair->client->ssl(), c.name)) << c.name;
    HandshakeResult hs = DriveHandshake(*pair);
    EXPECT_EQ(hs.client, c.error.empty() ? R::kOk : R::kError) << c.name;
    EXPECT_EQ(pair->client->error(), c.error) << c.name;
    // An IP literal is sent without SNI (RFC 6066 §3).
    const char* sni = SSL_get_servername(pair->server->ssl(), TLSEXT_NAMETYPE_host_name);
    EXPECT_EQ(sni == nullptr ? "" : std::string(sni),
              absl::StrContains(c.name, "example") ? c.name : "")
        << c.name;
  }
}

// The SNI name picks the certificate: exact name, wildcard, or the default when none matches.
TEST_F(TlsStreamTest, ServerNamePicksTheCertificate) {
  auto wild = pki().IssueServer("wild", {"*.example.org"});
  ASSERT_TRUE(wild.ok());
  auto server = LoadServer({app_, *wild});
  ASSERT_TRUE(server.ok()) << server.status();
  UpstreamTlsSpec spec;
  spec.verify = false;
  auto client = Client(spec);
  ASSERT_TRUE(client.ok()) << client.status();
  struct Case {
    std::string sni;
    std::string cn;
  };
  for (const Case& c :
       {Case{"a.example.org", "*.example.org"}, Case{"app.example.com", "app.example.com"},
        Case{"a.b.example.org", "app.example.com"}, Case{"", "app.example.com"}}) {
    auto pair = MakePair((*server)->default_context(), (*client)->context());
    ASSERT_NE(pair, nullptr);
    ASSERT_TRUE((*client)->Prepare(pair->client->ssl(), c.sni));
    HandshakeResult hs = DriveHandshake(*pair);
    ASSERT_EQ(hs.client, R::kOk) << c.sni << ": " << pair->client->error();
    ASSERT_EQ(hs.server, R::kOk) << c.sni << ": " << pair->server->error();
    EXPECT_EQ(PeerCn(pair->client->ssl()), c.cn) << c.sni;
  }
}

// A plain-text HTTP request on a TLS port is recognised (so the listener can say so).
TEST_F(TlsStreamTest, PlainHttpRequestIsRecognised) {
  auto server = LoadServer({app_});
  ASSERT_TRUE(server.ok());
  auto pair = MakePair((*server)->default_context(), nullptr);
  ASSERT_NE(pair, nullptr);
  EXPECT_EQ(pair->server->Handshake(), R::kWantRead);
  const std::string request = "GET / HTTP/1.1\r\n\r\n";
  ASSERT_EQ(::write(pair->client_fd, request.data(), request.size()),
            static_cast<ssize_t>(request.size()));
  EXPECT_EQ(pair->server->Handshake(), R::kError);
  EXPECT_EQ(pair->server->error_reason(), SSL_R_HTTP_REQUEST);
  EXPECT_EQ(pair->server->error(), "http request");
}

// With client_ca and require_client_cert, a client without a certificate is refused and one with
// a certificate from that CA is accepted.
TEST_F(TlsStreamTest, RequiredClientCertificate) {
  auto cert = pki().IssueClient("client");
  ASSERT_TRUE(cert.ok());
  ServerTlsOptions options{
      .certs = {{app_.cert, app_.key}}, .client_ca = pki().ca_cert(), .require_client_cert = true};
  std::vector<std::string> warnings;
  auto server = ServerTlsContexts::Load(options, RandomTicketKeys(), &warnings);
  ASSERT_TRUE(server.ok()) << server.status();
  auto anonymous = Client();
  UpstreamTlsSpec spec = Spec();
  spec.client_cert = cert->cert;
  spec.client_key = cert->key;
  auto with_cert = Client(spec);
  ASSERT_TRUE(anonymous.ok() && with_cert.ok()) << anonymous.status() << with_cert.status();

  auto refused = MakePair((*server)->default_context(), (*anonymous)->context());
  ASSERT_NE(refused, nullptr);
  HandshakeResult hs = DriveHandshake(*refused);
  EXPECT_EQ(hs.server, R::kError);
  EXPECT_EQ(refused->server->error_reason(), SSL_R_PEER_DID_NOT_RETURN_A_CERTIFICATE)
      << refused->server->error();

  auto accepted = MakePair((*server)->default_context(), (*with_cert)->context());
  ASSERT_NE(accepted, nullptr);
  hs = DriveHandshake(*accepted);
  ASSERT_EQ(hs.server, R::kOk) << accepted->server->error();
  ASSERT_EQ(hs.client, R::kOk) << accepted->client->error();
  EXPECT_EQ(PeerCn(accepted->server->ssl()), "client");
}

}  // namespace
}  // namespace rwproxy::tlstest
