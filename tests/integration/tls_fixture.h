// Shared by the TLS and upgrade integration tests (issue #13): a TestPki in the test's temp dir
// (certificates made at test time), a TLS rwupstream, and rwproxy with --tls-listen.
//
// Ownership: gtest owns the fixture; the fixture owns the PKI files (in the harness's dir) and,
// through IntegrationTest, the processes. Thread-safety: the test's main thread; the TlsOptions
// helpers may be called from client threads once SetUp has run.
#ifndef RWPROXY_TESTS_INTEGRATION_TLS_FIXTURE_H_
#define RWPROXY_TESTS_INTEGRATION_TLS_FIXTURE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"
#include "tests/support/test_pki.h"
#include "tests/support/tls_client.h"

namespace rwtest {

class TlsTest : public IntegrationTest {
 protected:
  void SetUp() override {
    auto pki = TestPki::Create(env_.dir() + "/pki");
    RW_ASSERT_OK(pki);
    pki_.emplace(std::move(*pki));
  }

  TestPki& pki() { return *pki_; }

  // What a client that trusts the test CA sends for `sni` (verifying that name).
  TlsOptions Client(const std::string& sni) const {
    TlsOptions options;
    options.sni = sni;
    options.ca_file = pki_->ca_cert();
    return options;
  }

  // The proxy's TLS listener flags for `certs` (the first is the default).
  static std::vector<std::string> TlsFlags(const std::vector<CertPaths>& certs) {
    std::vector<std::string> flags = {"--tls-listen", "127.0.0.1:0"};
    for (const CertPaths& c : certs) flags.insert(flags.end(), {"--tls-cert", c.cert, "--tls-key", c.key});
    return flags;
  }

  // rwupstream NAME serving TLS with `cert` (plus `extra` flags); its port.
  absl::StatusOr<uint16_t> StartTlsUpstream(const std::string& name, const CertPaths& cert,
                                            std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"--tls-cert", cert.cert, "--tls-key", cert.key};
    args.insert(args.end(), extra.begin(), extra.end());
    return env_.StartUpstream(name, args);
  }

  // One upstream stat of NAME ("tls_handshakes", "websockets_active", ...); -1 on error.
  int64_t UpstreamStat(const std::string& name, const std::string& key) {
    auto stats = env_.UpstreamStats(name);
    if (!stats.ok() || !stats->count(key)) {
      ADD_FAILURE() << "upstream " << name << " stat " << key << ": "
                    << (stats.ok() ? "missing" : stats.status().ToString());
      return -1;
    }
    return stats->at(key);
  }

  std::optional<TestPki> pki_;
};

}  // namespace rwtest

#endif  // RWPROXY_TESTS_INTEGRATION_TLS_FIXTURE_H_
