// DNS refresh of a hostname endpoint (issue #8), against real processes: the name resolves
// through --dns-hosts-file, which the test rewrites. Two rwupstreams share one port on two
// loopback addresses (127.0.0.1 and 127.0.0.2), so each address the name gets is a distinct
// endpoint "ADDR:PORT".
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace rwtest {
namespace {

namespace fs = std::filesystem;
using std::chrono::milliseconds;

constexpr char kDnsConfig[] = R"yaml(
clusters:
  - name: app
    endpoints: ["app.resolve.test:PORT"]
    dns_refresh: 200ms
routes:
  - name: api
    match: {path_prefix: /}
    cluster: app
    timeout: 5s
)yaml";

class ResilienceDnsTest : public IntegrationTest {
 protected:

  // The endpoint addresses of cluster app in /clusters (each must come from the name).
  std::set<std::string> Addresses() {
    std::set<std::string> out;
    auto cluster = env_.Cluster("app");
    if (!cluster.ok()) {
      ADD_FAILURE() << cluster.status();
      return out;
    }
    for (const auto& e : cluster->endpoints) {
      out.insert(e.address);
      EXPECT_EQ(e.source, source_) << e.address;
    }
    return out;
  }
  ::testing::AssertionResult AddressesBecome(const std::set<std::string>& want) {
    std::set<std::string> last;
    auto result = WaitFor(
        [&] {
          last = Addresses();
          return last == want;
        },
        milliseconds(5000), absl::StrCat("endpoints {", absl::StrJoin(want, ", "), "}"));
    if (!result) result << " (last: {" << absl::StrJoin(last, ", ") << "})";
    return result;
  }

  // `n` GETs on the kept-alive client connection; answers by X-Upstream-Name ("error" for
  // anything but a 200).
  std::map<std::string, int> Send(int n) {
    std::map<std::string, int> by;
    for (int i = 0; i < n; ++i) {
      if (conn_ == nullptr) {
        auto conn = Connect();
        if (!conn.ok()) {
          ++by["error"];
          continue;
        }
        conn_ = std::move(*conn);
      }
      auto res = conn_->Send("GET", "/dns");
      if (!res.ok() || !res->keep_alive) conn_.reset();
      if (!res.ok() || res->status != 200) {
        ++by["error"];
        continue;
      }
      ++by[res->Header("X-Upstream-Name")];
    }
    return by;
  }

  static std::string Describe(const std::map<std::string, int>& by) {
    return absl::StrJoin(by, " ", absl::PairFormatter("="));
  }

  std::string source_;
  std::unique_ptr<HttpConnection> conn_;
};

TEST_F(ResilienceDnsTest, HostsFileChangesAddAndDrainEndpointsAndFailuresKeepTheLastAddresses) {
  auto port = env_.StartUpstream("one");  // 127.0.0.1:P
  RW_ASSERT_OK(port);
  RW_ASSERT_OK(env_.StartUpstream("two", {}, *port, "127.0.0.2"));  // 127.0.0.2:P
  const std::string one = env_.address("one");
  const std::string two = env_.address("two");
  ASSERT_EQ(two, absl::StrCat("127.0.0.2:", *port));
  source_ = absl::StrCat("app.resolve.test:", *port);
  ASSERT_NO_FATAL_FAILURE(WriteHosts("127.0.0.1 app.resolve.test\n"));
  RW_ASSERT_OK(env_.StartProxy(absl::StrReplaceAll(kDnsConfig, {{"PORT", std::to_string(*port)}}),
                               {"--dns-hosts-file", HostsPath()}));
  EXPECT_EQ(Addresses(), std::set<std::string>{one});
  auto by = Send(10);
  EXPECT_EQ(by["one"], 10) << Describe(by);

  // A second address: a new endpoint that gets its share.
  ASSERT_NO_FATAL_FAILURE(WriteHosts("127.0.0.1 app.resolve.test\n127.0.0.2 app.resolve.test\n"));
  ASSERT_TRUE(AddressesBecome({one, two}));
  Send(4);  // the workers have the new host map
  by = Send(20);
  EXPECT_GE(by["one"], 5) << Describe(by);
  EXPECT_GE(by["two"], 5) << Describe(by);
  EXPECT_EQ(by["one"] + by["two"], 20) << Describe(by);

  // The first address goes: its endpoint is removed and gets nothing more; the other serves.
  ASSERT_NO_FATAL_FAILURE(WriteHosts("127.0.0.2 app.resolve.test\n"));
  ASSERT_TRUE(AddressesBecome({two}));
  Send(4);
  const int64_t one_before = UpstreamCount("requests_default", "one");
  by = Send(20);
  EXPECT_EQ(by["two"], 20) << Describe(by);
  EXPECT_EQ(UpstreamCount("requests_default", "one"), one_before);

  // The name disappears from the file (and the system resolver does not know it): failed
  // refreshes are counted and the last addresses stay.
  const int64_t failures = Counter("cluster.app.dns_resolution_failure");
  ASSERT_NO_FATAL_FAILURE(WriteHosts("127.0.0.9 other.resolve.test\n"));
  ASSERT_TRUE(CounterReaches("cluster.app.dns_resolution_failure", failures + 2));
  EXPECT_EQ(Addresses(), std::set<std::string>{two});
  by = Send(10);
  EXPECT_EQ(by["two"], 10) << Describe(by);

  // So does a deleted file.
  fs::remove(HostsPath());
  const int64_t failures2 = Counter("cluster.app.dns_resolution_failure");
  ASSERT_TRUE(CounterReaches("cluster.app.dns_resolution_failure", failures2 + 2));
  EXPECT_EQ(Addresses(), std::set<std::string>{two});
  by = Send(10);
  EXPECT_EQ(by["two"], 10) << Describe(by);

  // Resolvable again: the refresh picks the new answer up.
  ASSERT_NO_FATAL_FAILURE(WriteHosts("127.0.0.1 app.resolve.test\n"));
  ASSERT_TRUE(AddressesBecome({one}));
  Send(4);
  by = Send(10);
  EXPECT_EQ(by["one"], 10) << Describe(by);
  RecordProperty("dns_resolution_failure",
                 std::to_string(Counter("cluster.app.dns_resolution_failure")));
}

}  // namespace
}  // namespace rwtest
