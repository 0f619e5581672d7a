// Names that do not resolve yet (issue #10), against real processes: rwproxy starts and serves
// the clusters it can while a cluster's name is missing, answers 503 for that cluster (saying
// why), lists the name in /clusters, and brings it in when it appears; and a config saved in
// --state-dir whose name no longer resolves is still restored after a restart.
//
// Names resolve through --dns-hosts-file, which the test rewrites. Each name has a label longer
// than 63 octets, so the system resolver cannot send it to DNS: a name missing from the file fails
// at once, without the network.
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "config/config_yaml.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "proto/control.grpc.pb.h"
#include "tests/integration/integration_fixture.h"

namespace rwtest {
namespace {

namespace fs = std::filesystem;
namespace v1 = rwproxy::control::v1;
using std::chrono::milliseconds;

constexpr char kName[] =
    "app-this-label-is-longer-than-sixty-three-octets-so-glibc-never-sends-it.test";

// Cluster `dark` is the name (re-resolved only every 30 s: only the retries of an unresolved
// name can bring it in during the test); cluster `lit` is an IP literal.
constexpr char kTwoClusters[] = R"yaml(
clusters:
  - name: dark
    endpoints: ["NAME:PORT"]
    dns_refresh: 30s
  - name: lit
    endpoints: ["{{lit}}"]
routes:
  - name: dark-TAG
    match: {path_regex: "^/dark/(.*)$"}
    rewrite: {path: "/TAG/$1"}
    cluster: dark
    timeout: 5s
  - name: lit-TAG
    match: {path_regex: "^/lit/(.*)$"}
    rewrite: {path: "/TAG/$1"}
    cluster: lit
    timeout: 5s
)yaml";

class DnsUnresolvedTest : public IntegrationTest {
 protected:
  // Upstreams "app" (behind the name) and "lit", and an empty hosts file.
  void SetUp() override {
    auto port = env_.StartUpstream("app");
    RW_ASSERT_OK(port);
    app_port_ = *port;
    RW_ASSERT_OK(env_.StartUpstream("lit"));
    ASSERT_NO_FATAL_FAILURE(WriteHosts("127.0.0.9 other.test\n"));
  }

  // The config tagged `tag` (its routes rewrite /dark/x and /lit/x to /TAG/x).
  std::string Yaml(const std::string& tag) const {
    return absl::StrReplaceAll(kTwoClusters, {{"NAME", kName},
                                              {"PORT", std::to_string(app_port_)},
                                              {"TAG", tag}});
  }

  std::string Source() const { return absl::StrCat(kName, ":", app_port_); }

  // GET `target` through the proxy: "name target" of the upstream that answered, or
  // "STATUS body" for anything but a 200.
  std::string Answer(const std::string& target) {
    auto res = Get(target);
    if (!res.ok()) return res.status().ToString();
    if (res->status != 200) return absl::StrCat(res->status, " ", res->body);
    auto fields = ParseKeyValues(res->body);
    return absl::StrCat(fields["name"], " ", fields["target"]);
  }

  std::string ProxyLog() { return ReadFileTail(env_.proxy().log_path(), 64 * 1024); }

  uint16_t app_port_ = 0;
};

TEST_F(DnsUnresolvedTest, StartsWithoutTheNameServesTheRestThenPicksItUpWhenItResolves) {
  // Starts (/ready), rather than exiting 1 for a config that "does not compile".
  RW_ASSERT_OK(env_.StartProxy(Yaml("v1"), {"--dns-hosts-file", HostsPath()}));
  EXPECT_EQ(Answer("/lit/x"), "lit /v1/x");
  EXPECT_EQ(Answer("/dark/x"),
            absl::StrCat("503 no resolved endpoint in cluster dark (", Source(),
                         " does not resolve yet)\n"));

  auto dark = env_.Cluster("dark");
  RW_ASSERT_OK(dark);
  EXPECT_TRUE(dark->endpoints.empty());
  ASSERT_EQ(dark->unresolved.size(), 1u);
  const EndpointHealth& name = dark->unresolved[0];
  EXPECT_EQ(name.source, Source());
  EXPECT_EQ(name.health, "unresolved");
  EXPECT_NE(name.reason.find(absl::StrCat("cannot resolve '", kName, "'")), std::string::npos)
      << name.reason;
  EXPECT_GT(name.since_unix_ms, 0);
  EXPECT_GE(name.retry_unix_ms, name.since_unix_ms);
  EXPECT_GE(name.counters.at("dns_resolution_failure"), 1);
  auto text = Fetch(env_.admin_port(), "GET", "/clusters?format=text");
  RW_ASSERT_OK(text);
  EXPECT_NE(text->body.find("dark  (no resolved endpoint; 1 unresolved)"), std::string::npos)
      << text->body;
  EXPECT_EQ(Counter("cluster.dark.dns_unresolved"), 1);
  EXPECT_EQ(Counter("cluster.lit.dns_unresolved"), 0);
  EXPECT_GE(Counter("cluster.dark.dns_resolution_failure"), 1);
  EXPECT_NE(ProxyLog().find(absl::StrCat("cluster dark: endpoint ", Source(),
                                         " does not resolve yet")),
            std::string::npos)
      << ProxyLog();

  // The name appears: a background retry (1 s, 2 s, 4 s ... not the 30 s refresh) brings it in.
  ASSERT_NO_FATAL_FAILURE(WriteHosts(absl::StrCat("127.0.0.1 ", kName, "\n")));
  std::string last;
  EXPECT_TRUE(WaitFor(
      [&] {
        last = Answer("/dark/x");
        return last == "app /v1/x";
      },
      milliseconds(15000), "requests to cluster dark reach app"))
      << "last answer: " << last;
  EXPECT_EQ(Counter("cluster.dark.dns_unresolved"), 0);
  dark = env_.Cluster("dark");
  RW_ASSERT_OK(dark);
  EXPECT_TRUE(dark->unresolved.empty());
  ASSERT_EQ(dark->endpoints.size(), 1u);
  EXPECT_EQ(dark->endpoints[0].address, absl::StrCat("127.0.0.1:", app_port_));
  EXPECT_EQ(dark->endpoints[0].source, Source());
  EXPECT_NE(ProxyLog().find(absl::StrCat("cluster dark: endpoint ", Source(), " resolves now")),
            std::string::npos);
  EXPECT_EQ(Answer("/lit/x"), "lit /v1/x");
}

// Applies `yaml` over the control API; the new version (0 on failure, with a test failure).
uint64_t ApplyYaml(uint16_t control_port, const std::string& yaml) {
  v1::ApplyRequest request;
  std::vector<rwproxy::yaml::YamlError> errors;
  EXPECT_TRUE(rwproxy::yaml::ParseConfig(yaml, request.mutable_config(), nullptr, &errors));
  request.set_description("dns test");
  auto stub = v1::ControlPlane::NewStub(grpc::CreateChannel(
      absl::StrCat("127.0.0.1:", control_port), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  v1::ApplyResponse response;
  grpc::Status status = stub->Apply(&context, request, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  return status.ok() ? response.version() : 0;
}

TEST_F(DnsUnresolvedTest, RestartWithStateDirRestoresTheSameVersionWhenItsNameNoLongerResolves) {
  const std::string state_dir = env_.dir() + "/state";
  const std::vector<std::string> args = {"--state-dir", state_dir, "--dns-hosts-file", HostsPath(),
                                         "--drain-timeout", "0s"};
  ASSERT_NO_FATAL_FAILURE(WriteHosts(absl::StrCat("127.0.0.1 ", kName, "\n")));
  RW_ASSERT_OK(env_.StartProxy(Yaml("boot"), args));
  const uint64_t applied = ApplyYaml(env_.control_port(), env_.Expand(Yaml("applied")));
  ASSERT_GT(applied, 0u);
  EXPECT_EQ(Answer("/dark/x"), "app /applied/x");
  ASSERT_EQ(env_.proxy().Stop(), 0);

  // The name is gone when the proxy comes back (DNS down at container start); --config differs.
  ASSERT_NO_FATAL_FAILURE(WriteHosts("127.0.0.9 other.test\n"));
  RW_ASSERT_OK(env_.StartProxy(Yaml("fallback"), args));
  auto dump = Fetch(env_.admin_port(), "GET", "/config_dump");
  RW_ASSERT_OK(dump);
  EXPECT_EQ(dump->body.rfind(absl::StrCat("{\"version\":", applied, ","), 0), 0u)
      << "not the applied version " << applied << ": " << dump->body.substr(0, 200);
  EXPECT_NE(dump->body.find("\"dark-applied\""), std::string::npos) << dump->body;
  EXPECT_EQ(ProxyLog().find("does not compile"), std::string::npos) << ProxyLog();
  EXPECT_EQ(ProxyLog().find("cannot restore"), std::string::npos) << ProxyLog();
  EXPECT_EQ(Answer("/lit/x"), "lit /applied/x");
  EXPECT_EQ(Answer("/dark/x"),
            absl::StrCat("503 no resolved endpoint in cluster dark (", Source(),
                         " does not resolve yet)\n"));

  // And it comes back when the name does.
  ASSERT_NO_FATAL_FAILURE(WriteHosts(absl::StrCat("127.0.0.1 ", kName, "\n")));
  std::string last;
  EXPECT_TRUE(WaitFor(
      [&] {
        last = Answer("/dark/x");
        return last == "app /applied/x";
      },
      milliseconds(15000), "requests to cluster dark reach app"))
      << "last answer: " << last;
}

}  // namespace
}  // namespace rwtest
