#include "tests/support/test_pki.h"

#include <arpa/inet.h>
#include <sys/stat.h>

#include <cctype>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "tests/support/apache_server.h"  // RunCommand

namespace rwtest {
namespace {

using Clock = std::chrono::system_clock;

// "YYYYMMDDHHMMSSZ", what `openssl ca -startdate/-enddate` take.
std::string FormatUtc(Clock::time_point t) {
  std::time_t secs = Clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char out[32];
  std::strftime(out, sizeof out, "%Y%m%d%H%M%SZ", &tm);
  return out;
}

bool IsIpAddress(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// -subj "/CN=..." with the characters that format gives a meaning escaped.
std::string SubjectCn(const std::string& cn) {
  std::string out = "/CN=";
  for (char c : cn) {
    if (c == '/' || c == '\\' || c == '+' || c == '=') out.push_back('\\');
    out.push_back(c);
  }
  return out;
}

bool ValidStem(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return false;
    }
  }
  return true;
}

absl::Status WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", path));
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

absl::Status PrivateKeyMode(const std::string& path) {
  if (chmod(path.c_str(), 0600) != 0) {
    return absl::InternalError(absl::StrCat("chmod 0600 ", path));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<TestPki> TestPki::Create(const std::string& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir + "/logs", ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", dir, ": ", ec.message()));
  TestPki pki(std::filesystem::absolute(dir).string());
  auto ca = pki.CreateCa("ca", "rwtest CA");
  if (!ca.ok()) return ca.status();
  pki.ca_ = std::move(*ca);
  auto untrusted = pki.CreateCa("untrusted-ca", "rwtest untrusted CA");
  if (!untrusted.ok()) return untrusted.status();
  pki.untrusted_ca_ = std::move(*untrusted);
  return pki;
}

absl::StatusOr<TestPki::Ca> TestPki::CreateCa(const std::string& stem, const std::string& cn) {
  Ca ca;
  ca.cert = absl::StrCat(dir_, "/", stem, ".crt");
  ca.key = absl::StrCat(dir_, "/", stem, ".key");
  ca.db_dir = absl::StrCat(dir_, "/", stem, "-db");
  std::error_code ec;
  std::filesystem::create_directories(ca.db_dir, ec);
  if (ec) return absl::InternalError(absl::StrCat("mkdir ", ca.db_dir, ": ", ec.message()));
  // A random first serial: certificates of distinct runs never share issuer + serial.
  std::random_device random;
  const uint64_t serial = (uint64_t{random()} << 32 | random()) & 0x3fffffffffffffffULL;
  char serial_hex[32];
  std::snprintf(serial_hex, sizeof serial_hex, "%016llX",
                static_cast<unsigned long long>(serial | 0x1000000000000000ULL));
  absl::Status written = WriteFile(ca.db_dir + "/index.txt", "");
  if (written.ok()) written = WriteFile(ca.db_dir + "/serial", absl::StrCat(serial_hex, "\n"));
  const std::string config = absl::StrCat(dir_, "/", stem, ".cnf");
  if (written.ok()) {
    written = WriteFile(
        config,
        absl::StrCat("[req]\ndistinguished_name = dn\nprompt = no\n", "[dn]\nCN = ", cn,
                     "\n[v3_ca]\n", "basicConstraints = critical,CA:TRUE\n",
                     "keyUsage = critical,keyCertSign,cRLSign\n", "subjectKeyIdentifier = hash\n"));
  }
  if (!written.ok()) return written;
  auto out = Openssl(
      {"req",     "-x509",   "-new", "-newkey",     "ec",    "-pkeyopt", "ec_paramgen_curve:P-256",
       "-nodes",  "-keyout", ca.key, "-out",        ca.cert, "-days",    "3650",
       "-sha256", "-config", config, "-extensions", "v3_ca", "-subj",    SubjectCn(cn)});
  if (!out.ok()) return out.status();
  absl::Status mode = PrivateKeyMode(ca.key);
  if (!mode.ok()) return mode;
  return ca;
}

std::string TestPki::CaConfig(const Ca& ca, const CertSpec& spec) const {
  std::string config = absl::StrCat(
      "[req]\ndistinguished_name = dn\n[dn]\n", "[ca]\ndefault_ca = rwca\n",
      "[rwca]\ndatabase = ", ca.db_dir, "/index.txt\nserial = ", ca.db_dir, "/serial\n",
      "new_certs_dir = ", ca.db_dir, "\ncertificate = ", ca.cert, "\nprivate_key = ", ca.key,
      "\ndefault_md = sha256\npolicy = any\nunique_subject = no\ncopy_extensions = none\n",
      "[any]\ncommonName = supplied\n",
      "[leaf]\nbasicConstraints = critical,CA:FALSE\nkeyUsage = critical,digitalSignature\n",
      "subjectKeyIdentifier = hash\nauthorityKeyIdentifier = keyid\n");
  std::vector<std::string> usages;
  if (spec.server_auth) usages.push_back("serverAuth");
  if (spec.client_auth) usages.push_back("clientAuth");
  if (!usages.empty())
    absl::StrAppend(&config, "extendedKeyUsage = ", absl::StrJoin(usages, ","), "\n");
  std::vector<std::string> sans;
  for (const std::string& san : spec.sans) {
    sans.push_back(absl::StrCat(IsIpAddress(san) ? "IP:" : "DNS:", san));
  }
  if (!sans.empty()) absl::StrAppend(&config, "subjectAltName = ", absl::StrJoin(sans, ","), "\n");
  return config;
}

absl::StatusOr<CertPaths> TestPki::Issue(const CertSpec& spec) {
  if (!ValidStem(spec.name)) {
    return absl::InvalidArgumentError(absl::StrCat("bad certificate name '", spec.name, "'"));
  }
  const Ca& ca = spec.untrusted ? untrusted_ca_ : ca_;
  CertPaths paths;
  paths.cert = absl::StrCat(dir_, "/", spec.name, ".crt");
  paths.key = absl::StrCat(dir_, "/", spec.name, ".key");
  paths.ca = ca.cert;
  const std::string csr = absl::StrCat(dir_, "/", spec.name, ".csr");
  const std::string config = absl::StrCat(dir_, "/", spec.name, ".cnf");
  absl::Status written = WriteFile(config, CaConfig(ca, spec));
  if (!written.ok()) return written;
  const std::string cn = !spec.cn.empty()     ? spec.cn
                         : !spec.sans.empty() ? spec.sans.front()
                                              : spec.name;
  auto out =
      Openssl({"req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
               "-keyout", paths.key, "-out", csr, "-config", config, "-subj", SubjectCn(cn)});
  if (!out.ok()) return out.status();
  absl::Status mode = PrivateKeyMode(paths.key);
  if (!mode.ok()) return mode;
  const Clock::time_point start = Clock::now() - std::chrono::hours(1);
  const std::string not_before = spec.not_before.empty() ? FormatUtc(start) : spec.not_before;
  const std::string not_after = spec.not_after.empty()
                                    ? FormatUtc(start + std::chrono::hours(24) * spec.days)
                                    : spec.not_after;
  out = Openssl({"ca", "-batch", "-notext", "-config", config, "-in", csr, "-out", paths.cert,
                 "-extensions", "leaf", "-startdate", not_before, "-enddate", not_after});
  if (!out.ok()) return out.status();
  return paths;
}

absl::StatusOr<CertPaths> TestPki::IssueServer(const std::string& name,
                                               const std::vector<std::string>& sans) {
  return Issue({.name = name, .sans = sans});
}

absl::StatusOr<CertPaths> TestPki::IssueClient(const std::string& name, const std::string& cn,
                                               const std::vector<std::string>& sans) {
  return Issue({.name = name,
                .sans = sans,
                .cn = cn.empty() ? name : cn,
                .server_auth = false,
                .client_auth = true});
}

absl::StatusOr<CertPaths> TestPki::IssueExpired(const std::string& name,
                                                const std::vector<std::string>& sans) {
  return Issue({.name = name,
                .sans = sans,
                .not_before = "20200101000000Z",
                .not_after = "20200102000000Z"});
}

absl::StatusOr<CertPaths> TestPki::IssueNotYetValid(const std::string& name,
                                                    const std::vector<std::string>& sans) {
  return Issue({.name = name,
                .sans = sans,
                .not_before = "20990101000000Z",
                .not_after = "20990201000000Z"});
}

absl::StatusOr<CertPaths> TestPki::IssueUntrusted(const std::string& name,
                                                  const std::vector<std::string>& sans) {
  return Issue({.name = name, .sans = sans, .untrusted = true});
}

absl::StatusOr<std::string> TestPki::WriteFullchain(const CertPaths& leaf,
                                                    const std::string& file_name) {
  if (!ValidStem(file_name)) {
    return absl::InvalidArgumentError(absl::StrCat("bad file name '", file_name, "'"));
  }
  auto leaf_pem = ReadFile(leaf.cert);
  if (!leaf_pem.ok()) return leaf_pem.status();
  auto ca_pem = ReadFile(leaf.ca.empty() ? ca_.cert : leaf.ca);
  if (!ca_pem.ok()) return ca_pem.status();
  const std::string path = absl::StrCat(dir_, "/", file_name);
  absl::Status written = WriteFile(path, *leaf_pem + *ca_pem);
  if (!written.ok()) return written;
  return path;
}

absl::Status TestPki::Verify(const std::string& cert, const std::string& ca) const {
  auto out = Openssl({"verify", "-CAfile", ca.empty() ? ca_.cert : ca, cert});
  if (!out.ok()) return out.status();
  if (out->find(": OK") == std::string::npos) {
    return absl::FailedPreconditionError(absl::StrCat("openssl verify ", cert, ": ", *out));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> TestPki::Openssl(const std::vector<std::string>& args) const {
  const std::string tag = absl::StrCat("openssl-", ++commands_);
  auto result = RunCommand(kOpenssl, args, dir_ + "/logs", tag, kCommandTimeout);
  if (!result.ok()) return result.status();
  if (result->exit_code != 0) {
    return absl::FailedPreconditionError(absl::StrCat("openssl ", absl::StrJoin(args, " "),
                                                      " exited ", result->exit_code, ": ",
                                                      result->err, result->out));
  }
  return std::move(result->out);
}

}  // namespace rwtest
