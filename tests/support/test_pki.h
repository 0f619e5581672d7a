// Certificates for TLS tests, generated at test time with Debian's openssl command-line tool (so
// nothing checked in ever expires): an ECDSA P-256 CA "rwtest CA", a second, unrelated CA
// "rwtest untrusted CA", and leaf certificates signed by either, with SAN DNS and IP entries and
// the extended key usages servers and clients need, including expired and not-yet-valid ones.
// Key files are mode 0600. Every openssl run's stdout and stderr are in the error if it fails.
//
// Ownership: a TestPki owns its directory's contents (the caller owns the directory itself and
// removes it, e.g. ProxyHarness::dir()). Move-only. Thread-safety: one thread at a time (the
// test's thread); the files it wrote may be read from anywhere.
#ifndef RWPROXY_TESTS_SUPPORT_TEST_PKI_H_
#define RWPROXY_TESTS_SUPPORT_TEST_PKI_H_

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rwtest {

// A PEM certificate (leaf only), its PEM private key, and the signing CA's certificate.
struct CertPaths {
  std::string cert;
  std::string key;
  std::string ca;
};

// What to issue. Validity: `not_before` / `not_after` as "YYYYMMDDHHMMSSZ" (UTC) when set;
// otherwise from one hour ago (a little clock skew is harmless) for `days` days.
struct CertSpec {
  std::string name = "";  // file stem: DIR/NAME.crt, DIR/NAME.key (letters, digits, -_.)
  std::vector<std::string> sans = {};  // DNS names and IP addresses (IPv4 or IPv6), in this order
  std::string cn = "";                 // subject CN; "" = the first SAN, or NAME when there is none
  bool server_auth = true;             // extendedKeyUsage serverAuth
  bool client_auth = false;            // extendedKeyUsage clientAuth
  bool untrusted = false;              // signed by the untrusted CA instead
  int days = 30;
  std::string not_before = "";
  std::string not_after = "";
};

class TestPki {
 public:
  static constexpr char kOpenssl[] = "/usr/bin/openssl";
  static constexpr std::chrono::milliseconds kCommandTimeout{30000};

  // Creates `dir` if needed and both CAs in it (ca.crt/ca.key, untrusted-ca.crt/.key).
  static absl::StatusOr<TestPki> Create(const std::string& dir);

  TestPki(TestPki&&) = default;
  TestPki& operator=(TestPki&&) = default;
  TestPki(const TestPki&) = delete;
  TestPki& operator=(const TestPki&) = delete;

  const std::string& dir() const { return dir_; }
  // The trusted CA's certificate (what clients and --tls-client-ca verify against) and key.
  const std::string& ca_cert() const { return ca_.cert; }
  const std::string& ca_key() const { return ca_.key; }
  // The unrelated CA: certificates it signed fail verification against ca_cert().
  const std::string& untrusted_ca_cert() const { return untrusted_ca_.cert; }

  absl::StatusOr<CertPaths> Issue(const CertSpec& spec);
  // serverAuth, SANs as given, CN = the first SAN (NAME if none).
  absl::StatusOr<CertPaths> IssueServer(const std::string& name,
                                        const std::vector<std::string>& sans);
  // clientAuth, CN = `cn` ("" = NAME), SANs as given.
  absl::StatusOr<CertPaths> IssueClient(const std::string& name, const std::string& cn = "",
                                        const std::vector<std::string>& sans = {});
  // serverAuth, valid from 2020-01-01 to 2020-01-02: expired.
  absl::StatusOr<CertPaths> IssueExpired(const std::string& name,
                                         const std::vector<std::string>& sans);
  // serverAuth, valid from 2099-01-01: not yet valid.
  absl::StatusOr<CertPaths> IssueNotYetValid(const std::string& name,
                                             const std::vector<std::string>& sans);
  // serverAuth, signed by the untrusted CA.
  absl::StatusOr<CertPaths> IssueUntrusted(const std::string& name,
                                           const std::vector<std::string>& sans);

  // Writes DIR/FILE_NAME: the leaf certificate followed by the CA that signed it (PEM), e.g. for
  // a server that sends its chain. Returns the path.
  absl::StatusOr<std::string> WriteFullchain(const CertPaths& leaf, const std::string& file_name);

  // `openssl verify -CAfile CA CERT` (CA: ca_cert() by default). OK iff it prints "CERT: OK";
  // otherwise the error has openssl's output (e.g. "certificate has expired").
  absl::Status Verify(const std::string& cert, const std::string& ca = "") const;

  // Runs `openssl args...` (stdin /dev/null; stdout and stderr captured under DIR/logs), waiting
  // up to kCommandTimeout. Returns stdout; an error with both outputs unless it exits 0.
  absl::StatusOr<std::string> Openssl(const std::vector<std::string>& args) const;

 private:
  struct Ca {
    std::string cert;
    std::string key;
    std::string db_dir;  // index.txt, serial, the copies `openssl ca` keeps
  };

  explicit TestPki(std::string dir) : dir_(std::move(dir)) {}
  absl::StatusOr<Ca> CreateCa(const std::string& stem, const std::string& cn);
  // The `openssl ca` config for `ca` (database paths, policy) plus one [leaf] section.
  std::string CaConfig(const Ca& ca, const CertSpec& spec) const;

  std::string dir_;
  Ca ca_;
  Ca untrusted_ca_;
  mutable int commands_ = 0;  // numbers the captured output files
};

}  // namespace rwtest

#endif  // RWPROXY_TESTS_SUPPORT_TEST_PKI_H_
