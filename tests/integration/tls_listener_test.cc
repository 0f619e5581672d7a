// The HTTPS listener (--tls-listen, issue #13): SNI certificate choice, ALPN, versions, mTLS,
// session tickets, plain HTTP on the TLS port, and certificate rotation under load (a Kubernetes
// Secret mount's `..data` symlink swap) with no failed request.
#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/tls_fixture.h"

namespace rwtest {
namespace {

namespace fs = std::filesystem;

bool Has(const std::vector<std::string>& names, const std::string& name) {
  return std::find(names.begin(), names.end(), name) != names.end();
}

TEST_F(TlsTest, SniPicksTheCertificateAndRequestsSayHttps) {
  auto a = pki().IssueServer("a", {"a.test", "127.0.0.1"});
  auto b = pki().IssueServer("b", {"b.test"});
  auto wild = pki().IssueServer("wild", {"*.wild.test"});
  RW_ASSERT_OK(a);
  RW_ASSERT_OK(b);
  RW_ASSERT_OK(wild);
  RW_ASSERT_OK(StartApp({}, TlsFlags({*a, *b, *wild})));
  ASSERT_NE(env_.tls_port(), 0);

  auto conn = TlsConnection::Connect(env_.tls_port(), Client("b.test"));
  RW_ASSERT_OK(conn);
  EXPECT_EQ((*conn)->peer_cn(), "b.test");
  EXPECT_EQ((*conn)->alpn(), "http/1.1");
  EXPECT_EQ((*conn)->version(), "TLSv1.3");
  auto res = (*conn)->Send("GET", "/api/hello");
  RW_ASSERT_OK(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(ParseKeyValues(res->body)["xfp"], "https") << res->body;
  EXPECT_EQ(ParseKeyValues(res->body)["target"], "/hello");

  // One label under the wildcard; no SNI and an unknown name get the first (default) pair.
  auto sub = TlsConnection::Connect(env_.tls_port(), Client("x.wild.test"));
  RW_ASSERT_OK(sub);
  EXPECT_EQ((*sub)->peer_cn(), "*.wild.test");
  TlsOptions none = Client("");
  none.verify_host = "a.test";
  auto plain_sni = TlsConnection::Connect(env_.tls_port(), none);
  RW_ASSERT_OK(plain_sni);
  EXPECT_EQ((*plain_sni)->peer_cn(), "a.test");
  TlsOptions unknown = Client("nobody.test");
  unknown.ca_file.clear();  // it will not match: look at what is served without verifying
  auto other = TlsConnection::Connect(env_.tls_port(), unknown);
  RW_ASSERT_OK(other);
  EXPECT_EQ((*other)->peer_cn(), "a.test");
  TlsOptions deep = Client("a.b.wild.test");
  deep.ca_file.clear();
  auto two_labels = TlsConnection::Connect(env_.tls_port(), deep);
  RW_ASSERT_OK(two_labels);
  EXPECT_EQ((*two_labels)->peer_cn(), "a.test");

  // The plain listener still says http.
  auto http = Get("/api/hello");
  RW_ASSERT_OK(http);
  EXPECT_EQ(ParseKeyValues(http->body)["xfp"], "http");
  EXPECT_TRUE(CounterReaches("listener.tls.downstream_tls_handshakes", 5));
  EXPECT_EQ(Counter("listener.proxy.downstream_tls_handshakes"), 0);
}

TEST_F(TlsTest, RefusesOldVersionsAndProtocolsItDoesNotSpeak) {
  auto a = pki().IssueServer("a", {"a.test"});
  RW_ASSERT_OK(a);
  std::vector<std::string> flags = TlsFlags({*a});
  flags.insert(flags.end(), {"--tls-min-version", "1.3"});
  RW_ASSERT_OK(StartApp({}, flags));
  TlsOptions tls12 = Client("a.test");
  tls12.max_version = TlsVersion::kTls12;
  auto old = TlsConnection::Connect(env_.tls_port(), tls12);
  EXPECT_FALSE(old.ok()) << "TLS 1.2 accepted with --tls-min-version 1.3";
  TlsOptions h2_only = Client("a.test");
  h2_only.alpn = {"h2"};
  auto h2 = TlsConnection::Connect(env_.tls_port(), h2_only);
  ASSERT_FALSE(h2.ok()) << "a client offering only h2 was accepted";
  EXPECT_TRUE(absl::StrContains(h2.status().message(), "no application protocol"))
      << h2.status();
  TlsOptions no_alpn = Client("a.test");
  no_alpn.alpn.clear();
  auto fine = TlsConnection::Connect(env_.tls_port(), no_alpn);
  RW_ASSERT_OK(fine);
  EXPECT_EQ((*fine)->alpn(), "");
  EXPECT_TRUE(CounterReaches("listener.tls.downstream_tls_handshake_fail", 2));
}

TEST_F(TlsTest, PlainHttpOnTheTlsPortGetsA400AndTheConnectionCloses) {
  auto a = pki().IssueServer("a", {"a.test"});
  RW_ASSERT_OK(a);
  RW_ASSERT_OK(StartApp({}, TlsFlags({*a})));
  auto conn = HttpConnection::Connect(env_.tls_port());
  RW_ASSERT_OK(conn);
  (*conn)->set_timeout(std::chrono::seconds(5));
  RW_ASSERT_OK((*conn)->WriteRaw("GET /api/x HTTP/1.1\r\nHost: a.test\r\n\r\n"));
  auto reply = (*conn)->ReadUntilClose();
  RW_ASSERT_OK(reply);  // closed, not a timeout
  EXPECT_TRUE(absl::StartsWith(*reply, "HTTP/1.1 400 ")) << *reply;
  EXPECT_TRUE(absl::StrContains(*reply, "plain HTTP sent to the TLS port")) << *reply;
  EXPECT_TRUE(absl::StrContains(*reply, "Connection: close")) << *reply;
  // Bytes that are neither TLS nor HTTP: closed, without a reply.
  auto junk = HttpConnection::Connect(env_.tls_port());
  RW_ASSERT_OK(junk);
  (*junk)->set_timeout(std::chrono::seconds(5));
  RW_ASSERT_OK((*junk)->WriteRaw(std::string(64, '\x01')));
  auto nothing = (*junk)->ReadUntilClose();
  RW_ASSERT_OK(nothing);
  EXPECT_EQ(Counter("listener.tls.downstream_tls_plaintext"), 1);
  EXPECT_EQ(UpstreamCount("requests_default"), 0);  // nothing reached the app
}

TEST_F(TlsTest, MutualTlsAcceptsOnlyClientsWithACertificateFromTheClientCa) {
  auto a = pki().IssueServer("a", {"a.test"});
  auto client = pki().IssueClient("client", "svc-1");
  CertSpec stranger_spec;
  stranger_spec.name = "stranger";
  stranger_spec.server_auth = false;
  stranger_spec.client_auth = true;
  stranger_spec.untrusted = true;
  auto stranger = pki().Issue(stranger_spec);
  RW_ASSERT_OK(a);
  RW_ASSERT_OK(client);
  RW_ASSERT_OK(stranger);
  std::vector<std::string> flags = TlsFlags({*a});
  flags.insert(flags.end(),
               {"--tls-client-ca", pki().ca_cert(), "--tls-require-client-cert"});
  RW_ASSERT_OK(StartApp({}, flags));

  auto anonymous = TlsFetch(env_.tls_port(), Client("a.test"), "GET", "/api/x");
  EXPECT_FALSE(anonymous.ok()) << "a client without a certificate was served";
  TlsOptions bad = Client("a.test");
  bad.client_cert = stranger->cert;
  bad.client_key = stranger->key;
  auto refused = TlsFetch(env_.tls_port(), bad, "GET", "/api/x");
  EXPECT_FALSE(refused.ok()) << "a certificate from another CA was accepted";
  TlsOptions good = Client("a.test");
  good.client_cert = client->cert;
  good.client_key = client->key;
  auto ok = TlsFetch(env_.tls_port(), good, "GET", "/api/x");
  RW_ASSERT_OK(ok);
  EXPECT_EQ(ok->status, 200);
  EXPECT_EQ(UpstreamCount("requests_default"), 1);
}

TEST_F(TlsTest, SessionTicketsResumeAcrossConnections) {
  auto a = pki().IssueServer("a", {"a.test"});
  RW_ASSERT_OK(a);
  RW_ASSERT_OK(StartApp({}, TlsFlags({*a})));
  auto first = TlsConnection::Connect(env_.tls_port(), Client("a.test"));
  RW_ASSERT_OK(first);
  RW_ASSERT_OK((*first)->Send("GET", "/api/x"));  // TLS 1.3 tickets come after the handshake
  TlsOptions again = Client("a.test");
  again.session = (*first)->session();
  ASSERT_NE(again.session, nullptr);
  auto second = TlsConnection::Connect(env_.tls_port(), again);
  RW_ASSERT_OK(second);
  EXPECT_TRUE((*second)->resumed());
  RW_ASSERT_OK((*second)->Send("GET", "/api/y"));
  EXPECT_TRUE(CounterReaches("listener.tls.downstream_tls_resumed", 1));
}

TEST_F(TlsTest, WithoutSessionTicketsNothingResumes) {
  auto a = pki().IssueServer("a", {"a.test"});
  RW_ASSERT_OK(a);
  std::vector<std::string> flags = TlsFlags({*a});
  flags.push_back("--no-tls-session-tickets");
  RW_ASSERT_OK(StartApp({}, flags));
  auto first = TlsConnection::Connect(env_.tls_port(), Client("a.test"));
  RW_ASSERT_OK(first);
  RW_ASSERT_OK((*first)->Send("GET", "/api/x"));
  TlsOptions again = Client("a.test");
  again.session = (*first)->session();
  auto second = TlsConnection::Connect(env_.tls_port(), again);
  RW_ASSERT_OK(second);
  EXPECT_FALSE((*second)->resumed());
  EXPECT_EQ(Counter("listener.tls.downstream_tls_resumed"), 0);
}

TEST_F(TlsTest, StartUpRefusesAMismatchedKeyAndWarnsAboutAReadableKey) {
  auto a = pki().IssueServer("a", {"a.test"});
  auto b = pki().IssueServer("b", {"b.test"});
  RW_ASSERT_OK(a);
  RW_ASSERT_OK(b);
  RW_ASSERT_OK(env_.StartUpstream("app"));
  auto run = env_.RunProxyToExit(
      kBaseConfig, {"--tls-listen", "127.0.0.1:0", "--tls-cert", a->cert, "--tls-key", b->key});
  RW_ASSERT_OK(run);
  EXPECT_NE(run->first, 0);
  EXPECT_TRUE(absl::StrContains(run->second, "does not match")) << run->second;

  fs::permissions(a->key, fs::perms::others_read | fs::perms::owner_read | fs::perms::owner_write);
  RW_ASSERT_OK(env_.StartProxy(kBaseConfig, TlsFlags({*a})));
  EXPECT_TRUE(WaitFor(
      [&] {
        std::ifstream log(env_.proxy().log_path());
        std::string text((std::istreambuf_iterator<char>(log)), {});
        return absl::StrContains(text, "is readable by every user");
      },
      std::chrono::seconds(5), "the world-readable key warning in the proxy log"));
}

}  // namespace
}  // namespace rwtest
