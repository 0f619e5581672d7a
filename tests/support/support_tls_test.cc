// Checks the TLS and WebSocket test support against rwupstream alone (no proxy): TestPki's
// certificates, TlsConnection and WebSocketClient, rwupstream's TLS listener (SNI, ALPN, client
// certificates, resumption, the plaintext control port) and its WebSocket echo.
#include <sys/stat.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/support/harness.h"
#include "tests/support/http_client.h"
#include "tests/support/test_pki.h"
#include "tests/support/tls_client.h"
#include "tests/support/wait.h"
#include "tests/support/websocket_client.h"

namespace rwtest {
namespace {

using std::chrono::milliseconds;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// One PKI for the whole suite (each certificate costs two openssl runs).
class TlsSupportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const char* tmp = std::getenv("TMPDIR");
    std::string templ = std::string(tmp != nullptr && *tmp ? tmp : "/tmp") + "/rwpki.XXXXXX";
    ASSERT_NE(mkdtemp(templ.data()), nullptr);
    dir_ = new std::string(templ);
    auto pki = TestPki::Create(*dir_ + "/pki");
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = new TestPki(std::move(*pki));
    auto server = pki_->IssueServer("server", {"a.test", "127.0.0.1"});
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = new CertPaths(*server);
    auto client = pki_->IssueClient("client", "rwtest client");
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = new CertPaths(*client);
  }
  static void TearDownTestSuite() {
    std::error_code ignored;
    if (dir_ != nullptr) std::filesystem::remove_all(*dir_, ignored);
  }

  // Starts rwupstream "up" with TLS (server_ certificate) and `extra` flags.
  uint16_t StartTls(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--tls-cert", server_->cert, "--tls-key", server_->key};
    args.insert(args.end(), extra.begin(), extra.end());
    auto port = harness_.StartUpstream("up", args);
    EXPECT_TRUE(port.ok()) << port.status();
    return port.ok() ? *port : 0;
  }
  // Verifies against the CA, expecting the name a.test.
  static TlsOptions Verified() {
    TlsOptions options;
    options.sni = "a.test";
    options.ca_file = pki_->ca_cert();
    return options;
  }
  int64_t Stat(const std::string& key) {
    auto stats = harness_.UpstreamStats("up");
    EXPECT_TRUE(stats.ok()) << stats.status();
    return stats.ok() && stats->count(key) ? stats->at(key) : -1;
  }

  static std::string* dir_;
  static TestPki* pki_;
  static CertPaths* server_;
  static CertPaths* client_;
  ProxyHarness harness_;
};

std::string* TlsSupportTest::dir_ = nullptr;
TestPki* TlsSupportTest::pki_ = nullptr;
CertPaths* TlsSupportTest::server_ = nullptr;
CertPaths* TlsSupportTest::client_ = nullptr;

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

TEST_F(TlsSupportTest, PkiIssuesCertificatesThatOpensslVerifies) {
  RW_EXPECT_OK(pki_->Verify(server_->cert));
  RW_EXPECT_OK(pki_->Verify(client_->cert));
  auto text = pki_->Openssl({"x509", "-in", server_->cert, "-noout", "-subject", "-issuer", "-ext",
                             "subjectAltName,extendedKeyUsage"});
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("subject=CN = a.test"));
  EXPECT_THAT(*text, HasSubstr("issuer=CN = rwtest CA"));
  EXPECT_THAT(*text, HasSubstr("DNS:a.test, IP Address:127.0.0.1"));
  EXPECT_THAT(*text, HasSubstr("TLS Web Server Authentication"));
  text = pki_->Openssl(
      {"x509", "-in", client_->cert, "-noout", "-subject", "-ext", "extendedKeyUsage"});
  ASSERT_TRUE(text.ok()) << text.status();
  EXPECT_THAT(*text, HasSubstr("subject=CN = rwtest client"));
  EXPECT_THAT(*text, HasSubstr("TLS Web Client Authentication"));
  for (const std::string& key : {server_->key, client_->key, pki_->ca_key()}) {
    struct stat st {};
    ASSERT_EQ(stat(key.c_str(), &st), 0) << key;
    EXPECT_EQ(st.st_mode & 0777, 0600u) << key;
  }
}

TEST_F(TlsSupportTest, PkiExpiredNotYetValidAndUntrustedFailVerification) {
  auto expired = pki_->IssueExpired("expired", {"a.test"});
  ASSERT_TRUE(expired.ok()) << expired.status();
  EXPECT_THAT(pki_->Verify(expired->cert).message(), HasSubstr("certificate has expired"));
  auto future = pki_->IssueNotYetValid("future", {"a.test"});
  ASSERT_TRUE(future.ok()) << future.status();
  EXPECT_THAT(pki_->Verify(future->cert).message(), HasSubstr("certificate is not yet valid"));
  auto untrusted = pki_->IssueUntrusted("untrusted", {"a.test"});
  ASSERT_TRUE(untrusted.ok()) << untrusted.status();
  EXPECT_FALSE(pki_->Verify(untrusted->cert).ok());
  RW_EXPECT_OK(pki_->Verify(untrusted->cert, pki_->untrusted_ca_cert()));
  auto chain = pki_->WriteFullchain(*server_, "server-fullchain.pem");
  ASSERT_TRUE(chain.ok()) << chain.status();
  EXPECT_EQ(ReadAll(*chain), ReadAll(server_->cert) + ReadAll(pki_->ca_cert()));
}

TEST_F(TlsSupportTest, TlsUpstreamEchoesTlsDetails) {
  const uint16_t port = StartTls();
  auto conn = TlsConnection::Connect(port, Verified());
  ASSERT_TRUE(conn.ok()) << conn.status();
  EXPECT_EQ((*conn)->alpn(), "http/1.1");
  EXPECT_EQ((*conn)->version(), "TLSv1.3");
  EXPECT_FALSE((*conn)->resumed());
  EXPECT_EQ((*conn)->peer_cn(), "a.test");
  EXPECT_THAT((*conn)->peer_sans(), ElementsAre("a.test", "127.0.0.1"));
  for (int i = 0; i < 2; ++i) {
    auto res = (*conn)->Send("POST", "/hello?x=1", {{"X-Echo-Id", "7"}}, "abc");
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(res->status, 200);
    auto kv = ParseKeyValues(res->body);
    EXPECT_EQ(kv["name"], "up");
    EXPECT_EQ(kv["target"], "/hello?x=1");
    EXPECT_EQ(kv["host"], "a.test");
    EXPECT_EQ(kv["received"], "3");
    EXPECT_EQ(kv["tls"], "1");
    EXPECT_EQ(kv["sni"], "a.test");
    EXPECT_EQ(kv["alpn"], "http/1.1");
    EXPECT_EQ(kv["tls_version"], "TLSv1.3");
    EXPECT_EQ(kv["x-echo-id"], "7");
    EXPECT_EQ(kv["conn"], "1");
    EXPECT_EQ(kv.count("client_cn"), 0u);
  }
  auto bytes = (*conn)->Send("GET", "/bytes/100000?chunked=1");
  ASSERT_TRUE(bytes.ok()) << bytes.status();
  EXPECT_EQ(bytes->body.size(), 100000u);
  EXPECT_EQ(bytes->Header("Transfer-Encoding"), "chunked");
  // /close: Connection: close, then close_notify.
  auto closing = (*conn)->Send("GET", "/close");
  ASSERT_TRUE(closing.ok()) << closing.status();
  EXPECT_FALSE(closing->keep_alive);
  auto rest = (*conn)->ReadUntilClose();
  ASSERT_TRUE(rest.ok()) << rest.status();
  EXPECT_EQ(*rest, "");
  EXPECT_TRUE((*conn)->closed_cleanly());
}

TEST_F(TlsSupportTest, TlsConnectionReportsVerificationFailures) {
  const uint16_t port = StartTls();
  TlsOptions wrong_name = Verified();
  wrong_name.sni = "b.test";
  auto conn = TlsConnection::Connect(port, wrong_name);
  ASSERT_FALSE(conn.ok());
  EXPECT_THAT(conn.status().message(), HasSubstr("certificate verify failed"));
  EXPECT_THAT(conn.status().message(), HasSubstr("hostname mismatch"));
  TlsOptions by_ip;
  by_ip.ca_file = pki_->ca_cert();
  by_ip.verify_host = "127.0.0.1";
  RW_EXPECT_OK(TlsConnection::Connect(port, by_ip));
  TlsOptions other_ca = Verified();
  other_ca.ca_file = pki_->untrusted_ca_cert();
  conn = TlsConnection::Connect(port, other_ca);
  ASSERT_FALSE(conn.ok());
  EXPECT_THAT(conn.status().message(), HasSubstr("certificate verify failed"));

  auto expired = pki_->IssueExpired("expired-server", {"a.test"});
  ASSERT_TRUE(expired.ok()) << expired.status();
  auto expired_port =
      harness_.StartUpstream("old", {"--tls-cert", expired->cert, "--tls-key", expired->key});
  ASSERT_TRUE(expired_port.ok()) << expired_port.status();
  conn = TlsConnection::Connect(*expired_port, Verified());
  ASSERT_FALSE(conn.ok());
  EXPECT_THAT(conn.status().message(), HasSubstr("certificate has expired"));
  TlsOptions unverified;  // no ca_file: anything goes
  RW_EXPECT_OK(TlsConnection::Connect(*expired_port, unverified));
}

TEST_F(TlsSupportTest, MutualTlsRequiresAClientCertificate) {
  const uint16_t port = StartTls({"--tls-client-ca", pki_->ca_cert()});
  // TLS 1.3: the refusal comes with the first read.
  auto res = TlsFetch(port, Verified(), "GET", "/");
  ASSERT_FALSE(res.ok());
  EXPECT_THAT(res.status().message(), HasSubstr("tlsv13 alert certificate required"));
  // TLS 1.2: the handshake fails.
  TlsOptions tls12 = Verified();
  tls12.max_version = TlsVersion::kTls12;
  auto conn = TlsConnection::Connect(port, tls12);
  ASSERT_FALSE(conn.ok());
  EXPECT_THAT(conn.status().message(), HasSubstr("alert handshake failure"));
  // A certificate from another CA.
  auto stranger = pki_->Issue(
      {.name = "stranger", .server_auth = false, .client_auth = true, .untrusted = true});
  ASSERT_TRUE(stranger.ok()) << stranger.status();
  TlsOptions strange = Verified();
  strange.client_cert = stranger->cert;
  strange.client_key = stranger->key;
  res = TlsFetch(port, strange, "GET", "/");
  ASSERT_FALSE(res.ok());
  EXPECT_THAT(res.status().message(), HasSubstr("alert unknown ca"));

  TlsOptions with_cert = Verified();
  with_cert.client_cert = client_->cert;
  with_cert.client_key = client_->key;
  res = TlsFetch(port, with_cert, "GET", "/");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(ParseKeyValues(res->body)["client_cn"], "rwtest client");
  // The server fails every refused handshake (the TLS 1.3 clients' had completed already).
  EXPECT_EQ(Stat("tls_handshakes"), 1);
  EXPECT_TRUE(WaitFor([&] { return Stat("tls_handshake_errors") == 3; }, milliseconds(5000),
                      "tls_handshake_errors=3"));
}

TEST_F(TlsSupportTest, StatsCountHandshakesAndResumption) {
  const uint16_t port = StartTls();
  EXPECT_EQ(Stat("tls_handshakes"), 0);
  for (TlsVersion version : {TlsVersion::kTls13, TlsVersion::kTls12}) {
    TlsOptions options = Verified();
    options.max_version = version;
    auto first = TlsConnection::Connect(port, options);
    ASSERT_TRUE(first.ok()) << first.status();
    RW_ASSERT_OK((*first)->Send("GET", "/"));  // TLS 1.3: the tickets come after the handshake
    ASSERT_NE((*first)->session(), nullptr);
    options.session = (*first)->session();
    auto second = TlsConnection::Connect(port, options);
    ASSERT_TRUE(second.ok()) << second.status();
    EXPECT_TRUE((*second)->resumed());
    auto res = (*second)->Send("GET", "/");
    ASSERT_TRUE(res.ok()) << res.status();
    EXPECT_EQ(ParseKeyValues(res->body)["sni"], "a.test");
  }
  EXPECT_EQ(Stat("tls_handshakes"), 4);
  EXPECT_EQ(Stat("tls_resumed"), 2);
  EXPECT_EQ(Stat("connections"), 4);  // the harness's stats connection is on the control port
  EXPECT_EQ(Stat("control_connections"), 1);
}

TEST_F(TlsSupportTest, ControlPortServesTheHarnessAndNothingElse) {
  const uint16_t port = StartTls({"--tls-max-version", "1.2"});
  const uint16_t control = harness_.upstream_stats_port("up");
  ASSERT_NE(control, 0);
  ASSERT_NE(control, port);
  RW_ASSERT_OK(harness_.SetUpstream("up", "status=503"));
  auto res = TlsFetch(port, Verified(), "GET", "/");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 503);
  RW_ASSERT_OK(SetUpstream(control, "status=0"));
  res = TlsFetch(port, Verified(), "GET", "/");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(ParseKeyValues(res->body)["tls_version"], "TLSv1.2");
  auto other = Fetch(control, "GET", "/");
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_EQ(other->status, 404);
  auto stats = UpstreamStats(control);
  ASSERT_TRUE(stats.ok()) << stats.status();
  auto kv = ParseKeyValues(*stats);
  EXPECT_EQ(kv["tls_handshakes"], "2");
  EXPECT_EQ(kv["requests_default"], "2");
  // Plaintext on the TLS port is no HTTP at all.
  EXPECT_FALSE(Fetch(port, "GET", "/").ok());
}

TEST_F(TlsSupportTest, PlainUpstreamReportsNoTls) {
  auto port = harness_.StartUpstream("up");
  ASSERT_TRUE(port.ok()) << port.status();
  EXPECT_EQ(harness_.upstream_stats_port("up"), *port);
  auto res = Fetch(*port, "GET", "/");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(ParseKeyValues(res->body).count("tls"), 0u);
  EXPECT_EQ(Stat("tls_handshakes"), 0);
  EXPECT_EQ(Stat("websockets_total"), 0);
  EXPECT_FALSE(TlsConnection::Connect(*port, Verified()).ok());
}

TEST_F(TlsSupportTest, WebSocketEchoesOverPlainAndTls) {
  auto plain = harness_.StartUpstream("plain");
  ASSERT_TRUE(plain.ok()) << plain.status();
  auto ws = WebSocketClient::Connect(*plain, "/chat?room=1");
  ASSERT_TRUE(ws.ok()) << ws.status();
  EXPECT_EQ((*ws)->handshake_response().status, 101);
  EXPECT_EQ((*ws)->handshake_response().Header("X-Upstream-Name"), "plain");
  auto echo = (*ws)->Echo("hello");
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(*echo, "hello");
  RW_ASSERT_OK((*ws)->Send(std::string("\x00\x01\xff", 3), /*binary=*/true));
  auto binary = (*ws)->Read();
  ASSERT_TRUE(binary.ok()) << binary.status();
  EXPECT_EQ(binary->data, std::string("\x00\x01\xff", 3));
  EXPECT_FALSE(binary->text);
  auto stats = harness_.UpstreamStats("plain");
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->at("websockets_active"), 1);
  EXPECT_EQ(stats->at("websockets_total"), 1);
  RW_ASSERT_OK((*ws)->Close());
  EXPECT_TRUE(WaitFor(
      [&] {
        auto s = harness_.UpstreamStats("plain");
        return s.ok() && s->at("websockets_active") == 0;
      },
      milliseconds(5000), "websockets_active=0"));

  const uint16_t tls_port = StartTls();
  WebSocketOptions options;
  options.tls = true;
  options.tls_options = Verified();
  auto wss = WebSocketClient::Connect(tls_port, "/", options);
  ASSERT_TRUE(wss.ok()) << wss.status();
  echo = (*wss)->Echo(std::string(100000, 'x'));
  ASSERT_TRUE(echo.ok()) << echo.status();
  EXPECT_EQ(echo->size(), 100000u);
  RW_EXPECT_OK((*wss)->Close());
  EXPECT_EQ(Stat("websockets_total"), 1);
}

TEST_F(TlsSupportTest, WebSocketRefusals) {
  auto port = harness_.StartUpstream("up");
  ASSERT_TRUE(port.ok()) << port.status();
  HttpResponse response;
  auto ws = WebSocketClient::Connect(*port, "/ws-refuse", {}, &response);
  ASSERT_FALSE(ws.ok());
  EXPECT_THAT(ws.status().message(), HasSubstr("HTTP 403"));
  EXPECT_EQ(response.status, 403);
  EXPECT_EQ(response.body, "websocket refused\n");
  RW_ASSERT_OK(harness_.SetUpstream("up", "status=502"));
  ws = WebSocketClient::Connect(*port, "/", {}, &response);
  ASSERT_FALSE(ws.ok());
  EXPECT_EQ(response.status, 502);
  RW_ASSERT_OK(harness_.SetUpstream("up", "status=0"));
  // A malformed upgrade (here a WebSocket version other than 13) gets Beast's own answer.
  WebSocketOptions broken;
  broken.headers = {{"Sec-WebSocket-Version", "12"}};
  ws = WebSocketClient::Connect(*port, "/", broken, &response);
  ASSERT_FALSE(ws.ok());
  EXPECT_EQ(response.status, 426);
  EXPECT_EQ(Stat("websockets_total"), 0);
  // Without Upgrade, /ws-refuse is an ordinary path.
  auto res = Fetch(*port, "GET", "/ws-refuse");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(res->status, 200);
}

}  // namespace
}  // namespace rwtest
