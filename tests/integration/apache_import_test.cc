// `rwctl import apache` against a real Apache httpd (Debian's apache2): each case of
// tests/integration/apache_cases.cc runs Apache on its config in front of two strict recording
// upstreams, sends its requests and records what the upstreams received and what the client saw;
// then imports the very same config file (generated prelude included), runs rwproxy on the result
// in front of the same upstreams, sends the same requests and compares field by field. Every
// case must agree 100%, with no framing error at the upstreams and no `refused` directive in the
// import report. A second test counts upstream connections per 1,000 keep-alive requests: Apache
// with [P] (one per request, the problem rwproxy exists for), rwproxy (pooled), and Apache with
// ProxyPass (pooled).
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/integration/apache_cases.h"
#include "tests/integration/apache_cases_compare.h"
#include "tests/integration/apache_cases_run.h"
#include "tests/support/apache_server.h"
#include "tests/support/harness.h"
#include "tests/support/http_client.h"
#include "tests/support/recording_upstream.h"
#include "tests/support/wait.h"

#ifndef RWCTL_BIN
#error "RWCTL_BIN must name the rwctl binary"
#endif

namespace rwtest {
namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kImportTimeout{20000};
constexpr int kLoadRequests = 1000;

class ApacheImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ApacheServer::Installed()) {
      // In CI the project's own set-up installs it: a missing Apache there is a failure.
      const char* ci = std::getenv("CI");
      if (ci != nullptr && std::string_view(ci) == "true") {
        FAIL() << ApacheServer::kBinary << " is missing although CI=true: deploy/install-deps.sh "
               << "installs Debian's apache2";
      }
      GTEST_SKIP() << ApacheServer::kBinary
                   << " is not installed: this test compares rwproxy with a real Apache httpd "
                      "(deploy/install-deps.sh installs Debian's apache2; CI runs it)";
    }
    RW_ASSERT_OK(upstreams_.Start());
  }

  // OK iff `rwctl import apache --help` succeeds and talks about Apache (without the
  // subcommand, rwctl prints its main help and exits 0 too).
  absl::Status ImporterAvailable() {
    auto help = RunCommand(RWCTL_BIN, {"import", "apache", "--help"}, apache_.dir(), "help",
                           kImportTimeout);
    if (help.ok() && help->exit_code == 0 &&
        absl::StrContains(absl::AsciiStrToLower(help->out), "apache")) {
      return absl::OkStatus();
    }
    return absl::FailedPreconditionError(
        absl::StrCat("`rwctl import apache --help` failed: ",
                     help.ok() ? help->out + help->err : std::string(help.status().message())));
  }

  // Runs `config` under Apache, calls `observe` with its port, stops it.
  template <class Fn>
  void WithApache(const std::string& config, Fn observe) {
    RW_ASSERT_OK(apache_.Start(config, upstreams_.Placeholders()));
    observe(apache_.port());
    RW_EXPECT_OK(apache_.Stop());
  }

  // Apache's records for case `c` (normalized), after checking the case's facts on them.
  std::vector<Observation> ApacheSide(const ImportCase& c) {
    std::vector<Observation> apache;
    WithApache(c.config, [&](uint16_t port) {
      apache = Observe(port, c, upstreams_);
      for (Observation& o : apache) Normalize(upstreams_.Replacements(port), &o);
    });
    for (const Fact& fact : c.facts) {
      if (fact.request >= apache.size()) break;  // Apache did not run: failed above
      EXPECT_EQ(FieldOf(apache[fact.request], fact.field), fact.value)
          << "Apache's own answer (a harness check): request " << fact.request << " "
          << Describe(c.requests.at(fact.request)) << ", field " << fact.field;
    }
    return apache;
  }

  // Imports the config Apache just ran; fails on `refused` lines, prints `approximated` ones.
  absl::StatusOr<Imported> ImportChecked(const std::string& name) {
    auto imported = ImportApache(RWCTL_BIN, apache_.config_path(), apache_.dir(), kImportTimeout);
    if (!imported.ok()) return imported;
    const std::vector<std::string> refused = ReportLines(imported->report, "refused");
    EXPECT_TRUE(refused.empty()) << name << ": the import refused directives:\n"
                                 << Indented(refused);
    const std::vector<std::string> approximated = ReportLines(imported->report, "approximated");
    if (!approximated.empty()) {
      std::cout << "[" << name << "] approximated:\n" << Indented(approximated);
    }
    return imported;
  }

  // rwproxy's records for case `c` (normalized) on the imported config. One worker: round robin
  // is per worker, and each request comes on its own client connection.
  absl::StatusOr<std::vector<Observation>> RwproxySide(const ImportCase& c,
                                                       const std::string& yaml) {
    ProxyHarness env;
    absl::Status started = env.StartProxy(yaml, {"--workers", "1"});
    if (!started.ok()) {
      return absl::FailedPreconditionError(
          absl::StrCat("rwproxy on the imported config: ", started.ToString(), "\n", yaml));
    }
    std::vector<Observation> rwproxy = Observe(env.proxy_port(), c, upstreams_);
    for (Observation& o : rwproxy) Normalize(upstreams_.Replacements(env.proxy_port()), &o);
    return rwproxy;
  }

  // One case, both sides: its agreement row (a failed import or start agrees on nothing).
  Agreement RunCase(const ImportCase& c, bool importer_ok) {
    upstreams_.SetReply(c.reply);
    const std::vector<Observation> apache = ApacheSide(c);
    Agreement agreement;
    agreement.requests = c.requests.size();
    if (!importer_ok) {
      std::cout << "[" << c.name << "] Apache:\n" << Dump(c, apache);
      return agreement;
    }
    auto imported = ImportChecked(c.name);
    absl::StatusOr<std::vector<Observation>> rwproxy =
        imported.ok() ? RwproxySide(c, imported->yaml) : imported.status();
    if (!rwproxy.ok()) {
      agreement.disagreements.push_back(std::string(rwproxy.status().message()));
      return agreement;
    }
    agreement = Compare(c, apache, *rwproxy);
    if (agreement.agreed != agreement.fields) {
      std::cout << "[" << c.name << "] imported config:\n" << imported->yaml;
    }
    const std::vector<std::string> errors = upstreams_.Errors();
    EXPECT_TRUE(errors.empty()) << "framing errors at the upstreams:\n" << Indented(errors);
    return agreement;
  }

  Upstreams upstreams_;  // declared first, destroyed last: Apache stops before its upstreams
  ApacheServer apache_;
};

TEST_F(ApacheImportTest, ImportedConfigAgreesWithApache) {
  const auto started = Clock::now();
  const absl::Status importer = ImporterAvailable();
  EXPECT_TRUE(importer.ok()) << importer << " (Apache's side still runs; its records are printed)";
  std::vector<std::pair<std::string, Agreement>> rows;
  for (const ImportCase& c : ApacheImportCases()) {
    SCOPED_TRACE(c.name);
    rows.emplace_back(c.name, RunCase(c, importer.ok()));
  }
  std::cout << "\nApache vs rwproxy (rwctl import apache), field by field:\n"
            << AgreementTable(rows);
  for (const auto& [name, agreement] : rows) {
    for (const std::string& d : agreement.disagreements) {
      std::cout << "DISAGREE " << name << ": " << d << "\n";
    }
  }
  std::cout << "(" << std::chrono::duration_cast<milliseconds>(Clock::now() - started).count()
            << " ms)\n";
  for (const auto& [name, agreement] : rows) {
    EXPECT_TRUE(agreement.fields > 0 && agreement.agreed == agreement.fields)
        << name << " does not agree 100% with Apache (" << agreement.agreed << " of "
        << agreement.fields << " fields)";
  }
}

// GETs on one kept-alive client connection (a new one only when the server closes it).
struct LoadResult {
  int ok = 0;
  int client_connections = 0;
  std::string first_error;
};
LoadResult SendMany(uint16_t port, int count) {
  LoadResult result;
  const auto deadline = Clock::now() + std::chrono::seconds(20);
  std::unique_ptr<HttpConnection> conn;
  for (int i = 0; i < count && Clock::now() < deadline; ++i) {
    if (conn == nullptr) {
      auto c = HttpConnection::Connect(port);
      if (!c.ok()) {
        if (result.first_error.empty()) result.first_error = std::string(c.status().message());
        continue;
      }
      conn = std::move(*c);
      ++result.client_connections;
    }
    auto res = conn->Send("GET", absl::StrCat("/c/", i, "?x=1"), {{"Host", "example.com"}});
    if (res.ok() && res->status == 200) ++result.ok;
    if (!res.ok() && result.first_error.empty()) {
      result.first_error = std::string(res.status().message());
    }
    if (!res.ok() || !res->keep_alive) conn.reset();
  }
  return result;
}

// Every cluster's upstream_cx_total summed (the imported config names its own clusters).
absl::StatusOr<int64_t> UpstreamCxTotal(uint16_t admin_port) {
  auto stats = FetchStats(admin_port);
  if (!stats.ok()) return stats.status();
  int64_t total = 0;
  int found = 0;
  for (const auto& [name, value] : *stats) {
    if (absl::StartsWith(name, "cluster.") && absl::EndsWith(name, ".upstream_cx_total")) {
      total += value;
      ++found;
    }
  }
  if (found == 0) return absl::NotFoundError("no cluster.*.upstream_cx_total in /stats");
  return total;
}

TEST_F(ApacheImportTest, UpstreamConnectionsPerThousandRequests) {
  RecordingUpstream& up = upstreams_.up(0);
  auto through_apache = [&](const std::string& label, const std::string& config) {
    int opened = -1;
    WithApache(config, [&](uint16_t port) {
      const int before = up.connections();
      LoadResult load = SendMany(port, kLoadRequests);
      EXPECT_EQ(load.ok, kLoadRequests) << load.first_error;
      opened = up.connections() - before;
      std::cout << "apache " << label << ": " << load.client_connections
                << " client connections for " << kLoadRequests << " requests\n";
    });
    return opened;
  };
  const int apache_p = through_apache("[P]", kSeedConfig);
  ASSERT_FALSE(HasFatalFailure());
  std::cout << "apache [P]: " << apache_p << " upstream connections per " << kLoadRequests
            << " requests\n";
  RW_ASSERT_OK(ImporterAvailable());
  auto imported = ImportApache(RWCTL_BIN, apache_.config_path(), apache_.dir(), kImportTimeout);
  RW_ASSERT_OK(imported);
  ProxyHarness env;
  RW_ASSERT_OK(env.StartProxy(imported->yaml));
  const int before = up.connections();
  LoadResult load = SendMany(env.proxy_port(), kLoadRequests);
  EXPECT_EQ(load.ok, kLoadRequests) << load.first_error;
  EXPECT_EQ(load.client_connections, 1);
  const int rwproxy = up.connections() - before;
  int64_t counter = -1;
  // The counter is bumped on the worker as it connects; /stats gathers it by posting to workers.
  EXPECT_TRUE(WaitFor(
      [&] {
        auto total = UpstreamCxTotal(env.admin_port());
        counter = total.ok() ? *total : -1;
        return counter == up.connections() - before;
      },
      std::chrono::seconds(5), "upstream_cx_total == connections the upstream accepted"))
      << "counter " << counter << ", upstream accepted " << up.connections() - before;
  env.proxy().Stop();
  const int apache_proxypass = through_apache("ProxyPass", kProxyPassConfig);
  std::cout << "apache [P]: " << apache_p << " upstream connections per " << kLoadRequests
            << " requests; rwproxy: " << rwproxy << " (counter: " << counter << ")\n"
            << "apache ProxyPass: " << apache_proxypass << " upstream connections per "
            << kLoadRequests << " requests\n";
  EXPECT_LE(rwproxy, 4) << "rwproxy pools its upstream connections";
  EXPECT_GE(rwproxy, 1);
  EXPECT_EQ(counter, rwproxy);
  // The problem the project exists for: mod_rewrite [P] opens a connection per request.
  EXPECT_GT(apache_p, kLoadRequests / 2);
  EXPECT_GE(apache_proxypass, 1);
  EXPECT_TRUE(upstreams_.Errors().empty()) << Indented(upstreams_.Errors());
}

}  // namespace
}  // namespace rwtest
