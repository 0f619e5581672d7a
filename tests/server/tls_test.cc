// Loading TLS settings: the listener's certificates (ServerTlsContexts: checks, SNI lookup,
// warnings, Describe) and a cluster's upstream TLS (UpstreamTls: errors naming the file, pool
// identity, server names). Certificates are made at test time (tls_test_util.h).
#include <sys/stat.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "gtest/gtest.h"
#include "tests/server/tls_test_util.h"

namespace rwproxy::tlstest {
namespace {

using ServerTlsContextsTest = TlsTest;
using UpstreamTlsTest = TlsTest;

// A copy of `from` at DIR/NAME with `mode`.
std::string CopyWithMode(const std::string& from, const std::string& to, mode_t mode) {
  std::filesystem::copy_file(from, to, std::filesystem::copy_options::overwrite_existing);
  EXPECT_EQ(::chmod(to.c_str(), mode), 0);
  return to;
}

TEST_F(ServerTlsContextsTest, FindsExactNamesBeforeOneLabelWildcards) {
  auto app = pki().IssueServer("app", {"app.example.com", "API.example.com", "127.0.0.1"});
  auto wild = pki().IssueServer("wild", {"*.example.org"});
  auto www = pki().IssueServer("www", {"www.example.org"});
  ASSERT_TRUE(app.ok() && wild.ok() && www.ok()) << app.status() << wild.status() << www.status();
  // The wildcard comes before the exact name: the exact name must still win.
  auto loaded = LoadServer({*app, *wild, *www});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  const ServerTlsContexts& contexts = **loaded;
  SSL_CTX* first = contexts.default_context();
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(ContextCn(first), "app.example.com");
  EXPECT_EQ(contexts.Find("app.example.com"), first);
  EXPECT_EQ(contexts.Find("api.example.com"), first);  // SAN names are lowercased
  EXPECT_EQ(contexts.Find("APP.Example.Com"), first);  // and so is the name looked up
  SSL_CTX* wild_ctx = contexts.Find("a.example.org");
  EXPECT_EQ(ContextCn(wild_ctx), "*.example.org");
  EXPECT_EQ(contexts.Find("B-2.EXAMPLE.org"), wild_ctx);
  EXPECT_EQ(ContextCn(contexts.Find("www.example.org")), "www.example.org");
  EXPECT_NE(contexts.Find("www.example.org"), wild_ctx);
  // One label only, and never the parent itself.
  EXPECT_EQ(contexts.Find("a.b.example.org"), nullptr);
  EXPECT_EQ(contexts.Find("example.org"), nullptr);
  EXPECT_EQ(contexts.Find(".example.org"), nullptr);
  EXPECT_EQ(contexts.Find("*.example.org"), wild_ctx);  // the name as written matches exactly
  // No match: null (the handshake then keeps the default certificate). IP SANs are not names.
  EXPECT_EQ(contexts.Find("other.example.net"), nullptr);
  EXPECT_EQ(contexts.Find("127.0.0.1"), nullptr);
  EXPECT_EQ(contexts.Find(""), nullptr);
}

// A certificate without SAN DNS names is found by its subject CN.
TEST_F(ServerTlsContextsTest, NamesComeFromTheCommonNameWithoutSan) {
  auto app = pki().IssueServer("app", {"app.example.com"});
  auto legacy = pki().Issue({.name = "legacy", .cn = "Legacy.Example.NET"});
  ASSERT_TRUE(app.ok() && legacy.ok()) << app.status() << legacy.status();
  auto loaded = LoadServer({*app, *legacy});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(ContextCn((*loaded)->Find("legacy.example.net")), "Legacy.Example.NET");
  EXPECT_EQ((*loaded)->Describe()[1].substr(0, 27), "legacy.example.net (until 2");
}

TEST_F(ServerTlsContextsTest, DescribeListsNamesAndExpiryPerCertificate) {
  auto app = pki().Issue({.name = "app",
                          .sans = {"app.example.com", "api.example.com", "::1"},
                          .not_after = "20991231235959Z"});
  auto wild =
      pki().Issue({.name = "wild", .sans = {"*.example.org"}, .not_after = "20400101000000Z"});
  ASSERT_TRUE(app.ok() && wild.ok()) << app.status() << wild.status();
  auto loaded = LoadServer({*app, *wild});
  ASSERT_TRUE(loaded.ok()) << loaded.status();
  EXPECT_EQ(
      (*loaded)->Describe(),
      (std::vector<std::string>{"app.example.com,api.example.com (until 2099-12-31 23:59:59Z)",
                                "*.example.org (until 2040-01-01 00:00:00Z)"}));
}

TEST_F(ServerTlsContextsTest, RefusesAnExpiredCertificate) {
  auto expired = pki().IssueExpired("expired", {"old.example.com"});
  ASSERT_TRUE(expired.ok()) << expired.status();
  auto loaded = LoadServer({*expired});
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(std::string(loaded.status().message()),
            "TLS certificate " + expired->cert + " expired at 2020-01-02 00:00:00Z");
}

TEST_F(ServerTlsContextsTest, RefusesACertificateNotValidYet) {
  auto future = pki().IssueNotYetValid("future", {"new.example.com"});
  ASSERT_TRUE(future.ok()) << future.status();
  auto loaded = LoadServer({*future});
  ASSERT_FALSE(loaded.ok());
  EXPECT_EQ(std::string(loaded.status().message()),
            "TLS certificate " + future->cert + " is not valid before 2099-01-01 00:00:00Z");
}

// Every certificate is checked: one bad one among good ones refuses the whole set (so a reload
// keeps the previous set).
TEST_F(ServerTlsContextsTest, OneBadCertificateRefusesTheSet) {
  auto app = pki().IssueServer("app", {"app.example.com"});
  auto expired = pki().IssueExpired("expired", {"old.example.com"});
  ASSERT_TRUE(app.ok() && expired.ok());
  auto loaded = LoadServer({*app, *expired});
  ASSERT_FALSE(loaded.ok());
  EXPECT_TRUE(absl::StrContains(loaded.status().message(), expired->cert)) << loaded.status();
}

// A key that is not the certificate's is refused, naming both files, whether OpenSSL notices
// when the key is loaded (same key type: EC) or only at the explicit check (another type: RSA).
TEST_F(ServerTlsContextsTest, RefusesAKeyThatDoesNotMatch) {
  auto app = pki().IssueServer("app", {"app.example.com"});
  auto other = pki().IssueServer("other", {"other.example.com"});
  ASSERT_TRUE(app.ok() && other.ok());
  const std::string rsa_key = dir() + "/rsa.key";
  auto made = pki().Openssl(
      {"genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048", "-out", rsa_key});
  ASSERT_TRUE(made.ok()) << made.status();
  ASSERT_EQ(::chmod(rsa_key.c_str(), 0600), 0);
  for (const std::string& key : {other->key, rsa_key}) {
    auto loaded = LoadServer({{.cert = app->cert, .key = key, .ca = ""}});
    ASSERT_FALSE(loaded.ok()) << key;
    EXPECT_EQ(loaded.status().code(), absl::StatusCode::kInvalidArgument);
    const std::string message(loaded.status().message());
    EXPECT_TRUE(absl::StartsWith(message, "TLS key " + key)) << message;
    EXPECT_TRUE(absl::EndsWith(message, "does not match certificate " + app->cert)) << message;
  }
}

TEST_F(ServerTlsContextsTest, ErrorsNameTheMissingFile) {
  auto app = pki().IssueServer("app", {"app.example.com"});
  ASSERT_TRUE(app.ok());
  const std::string missing = dir() + "/missing.pem";
  auto no_cert = LoadServer({{.cert = missing, .key = app->key, .ca = ""}});
  ASSERT_FALSE(no_cert.ok());
  EXPECT_TRUE(absl::StartsWith(no_cert.status().message(), "TLS certificate " + missing + ": "))
      << no_cert.status();
  auto no_key = LoadServer({{.cert = app->cert, .key = missing, .ca = ""}});
  ASSERT_FALSE(no_key.ok());
  EXPECT_TRUE(absl::StartsWith(no_key.status().message(), "TLS key " + missing + ": "))
      << no_key.status();
  auto none = LoadServer({});
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(std::string(none.status().message()), "no TLS certificate given");
}

TEST_F(ServerTlsContextsTest, WarnsAboutAWorldReadableKey) {
  auto app = pki().IssueServer("app", {"app.example.com"});
  ASSERT_TRUE(app.ok());
  std::vector<std::string> warnings;
  ASSERT_TRUE(LoadServer({*app}, TlsVersion::kTls12, &warnings).ok());
  EXPECT_TRUE(warnings.empty()) << warnings[0];  // TestPki writes keys 0600
  const std::string group_key = CopyWithMode(app->key, dir() + "/group.key", 0640);
  ASSERT_TRUE(LoadServer({{app->cert, group_key, ""}}, TlsVersion::kTls12, &warnings).ok());
  EXPECT_TRUE(warnings.empty()) << warnings[0];
  const std::string open_key = CopyWithMode(app->key, dir() + "/open.key", 0644);
  ASSERT_TRUE(LoadServer({{app->cert, open_key, ""}}, TlsVersion::kTls12, &warnings).ok());
  EXPECT_EQ(warnings, std::vector<std::string>{"TLS key " + open_key +
                                               " is readable by every user: make it mode 0600 "
                                               "(or 0640)"});
}

TEST_F(UpstreamTlsTest, ErrorsNameTheFileAndTheSetting) {
  auto client = pki().IssueClient("client");
  auto other = pki().IssueClient("other");
  ASSERT_TRUE(client.ok() && other.ok());
  const std::string missing = dir() + "/missing.pem";
  std::vector<std::string> warnings;
  auto expect_error = [&](const UpstreamTlsSpec& spec, const std::string& prefix) {
    auto made = UpstreamTls::Create(spec, &warnings);
    ASSERT_FALSE(made.ok()) << prefix;
    EXPECT_EQ(made.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(made.status().message(), prefix)) << made.status();
  };
  expect_error(Spec(missing), "ca_file " + missing + ": ");
  // A PEM file that holds no certificate is refused as a CA bundle too.
  expect_error(Spec(client->key), "ca_file " + client->key + ": ");
  UpstreamTlsSpec spec = Spec();
  spec.client_cert = missing;
  spec.client_key = client->key;
  expect_error(spec, "client_cert " + missing + ": ");
  spec.client_cert = client->cert;
  spec.client_key = missing;
  expect_error(spec, "client_key " + missing + ": ");
  spec.client_key = other->key;  // another certificate's key
  expect_error(spec, "client_key " + other->key);
  auto mismatch = UpstreamTls::Create(spec, &warnings);
  ASSERT_FALSE(mismatch.ok());
  EXPECT_TRUE(
      absl::EndsWith(mismatch.status().message(), "does not match client_cert " + client->cert))
      << mismatch.status();
  EXPECT_TRUE(warnings.empty());
}

TEST_F(UpstreamTlsTest, IdentityIsEqualForEqualSettingsOnly) {
  auto client = pki().IssueClient("client");
  ASSERT_TRUE(client.ok());
  UpstreamTlsSpec base = Spec();
  base.sni = "app.internal";
  std::vector<std::string> warnings;
  auto identity = [&](const UpstreamTlsSpec& spec) {
    auto made = UpstreamTls::Create(spec, &warnings);
    EXPECT_TRUE(made.ok()) << made.status();
    return made.ok() ? (*made)->identity() : std::string("error");
  };
  const std::string id = identity(base);
  EXPECT_TRUE(absl::StartsWith(id, "tls:")) << id;
  EXPECT_GT(id.size(), 4u);
  EXPECT_EQ(identity(base), id);  // a second context for the same settings
  std::vector<UpstreamTlsSpec> variants(6, base);
  variants[0].sni = "other.internal";
  variants[1].sni = "";
  variants[2].ca_file = pki().untrusted_ca_cert();
  variants[3].verify = false;
  variants[4].min_version = TlsVersion::kTls13;
  variants[5].client_cert = client->cert;
  variants[5].client_key = client->key;
  std::vector<std::string> ids = {id};
  for (const UpstreamTlsSpec& v : variants) {
    const std::string other = identity(v);
    for (const std::string& seen : ids) EXPECT_NE(other, seen);
    ids.push_back(other);
  }
}

TEST_F(UpstreamTlsTest, ServerNameIsSniElseTheEndpointHost) {
  auto plain = Client();
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ((*plain)->ServerName("app.local"), "app.local");
  EXPECT_EQ((*plain)->ServerName(EndpointHost("app.local:8443")), "app.local");
  UpstreamTlsSpec spec = Spec();
  spec.sni = "api.internal";
  auto sni = Client(spec);
  ASSERT_TRUE(sni.ok()) << sni.status();
  EXPECT_EQ((*sni)->ServerName("app.local"), "api.internal");
  EXPECT_EQ((*sni)->spec().sni, "api.internal");
}

TEST_F(UpstreamTlsTest, WarnsAboutAWorldReadableClientKey) {
  auto client = pki().IssueClient("client");
  ASSERT_TRUE(client.ok());
  std::vector<std::string> warnings;
  UpstreamTlsSpec spec = Spec();
  spec.client_cert = client->cert;
  spec.client_key = client->key;
  ASSERT_TRUE(UpstreamTls::Create(spec, &warnings).ok());
  EXPECT_TRUE(warnings.empty());
  spec.client_key = CopyWithMode(client->key, dir() + "/open.key", 0604);
  ASSERT_TRUE(UpstreamTls::Create(spec, &warnings).ok());
  EXPECT_EQ(warnings, std::vector<std::string>{"client_key " + spec.client_key +
                                               " is readable by every user: make it mode 0600"});
}

TEST(EndpointHostTest, HostPartOfAnEndpoint) {
  EXPECT_EQ(EndpointHost("app.local:8443"), "app.local");
  EXPECT_EQ(EndpointHost("app.local"), "app.local");
  EXPECT_EQ(EndpointHost("10.0.0.1:80"), "10.0.0.1");
  EXPECT_EQ(EndpointHost("[::1]:443"), "::1");
  EXPECT_EQ(EndpointHost("[fe80::1]"), "fe80::1");
}

}  // namespace
}  // namespace rwproxy::tlstest
