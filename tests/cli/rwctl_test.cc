// rwctl against a real rwproxy (and rwupstream) on loopback: the control service end to end.
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "gtest/gtest.h"
#include "proto/control.pb.h"
#include "tests/cli/rwctl_runner.h"
#include "tests/support/harness.h"
#include "tests/support/wait.h"

namespace rwtest {
namespace {

using ::testing::HasSubstr;

constexpr char kConfig[] = R"(clusters:
  - name: app
    endpoints: ["{{app}}"]
routes:
  - name: canary
    match: {path_prefix: /api/, headers: {x-canary: "1"}}
    respond: {status: 200, body: "canary\n"}
  - name: api
    match: {path_regex: "^/api/(.*)$"}
    rewrite: {path: "/$1"}
    cluster: app
)";

class RwctlTest : public ::testing::Test {
 protected:
  void SetUp() override {
    RW_ASSERT_OK(env_.StartUpstream("app"));
    RW_ASSERT_OK(env_.StartProxy(kConfig, {"--drain-timeout", "0s"}));
    auto ports = WaitForPortsFile(env_.dir() + "/proxy.ports", {"control"},
                                  ProxyHarness::kStartTimeout, &env_.proxy());
    ASSERT_TRUE(ports.ok()) << ports.status() << "\n" << env_.Logs();
    server_ = absl::StrCat("127.0.0.1:", ports->at("control"));
  }

  // rwctl ARGS --server <rwproxy's control address>
  RwctlResult Ctl(std::vector<std::string> args, const std::string& stdin_text = "") {
    args.insert(args.end(), {"--server", server_});
    auto result = runner_.Run(args, stdin_text);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : RwctlResult{};
  }

  // kConfig with `from` replaced by `to`, written to NAME.
  std::string Variant(const std::string& name, const std::string& from, const std::string& to) {
    return runner_.WriteFile(name, absl::StrReplaceAll(env_.Expand(kConfig), {{from, to}}));
  }

  ProxyHarness env_;
  RwctlRunner runner_;
  std::string server_;
};

TEST_F(RwctlTest, ApplyChangesRoutingBeforeItReturns) {
  std::string file = Variant("v2.yaml", "/$1", "/v2/$1");
  RwctlResult r = Ctl({"apply", file, "-m", "v2 paths"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "applied version 2\n");
  auto res = Fetch(env_.proxy_port(), "GET", "/api/users/7");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(ParseKeyValues(res->body)["target"], "/v2/users/7") << res->body;
  r = Ctl({"apply", file});
  EXPECT_EQ(r.out, "unchanged, version 2\n") << r.Describe();
  r = Ctl({"apply", file, "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("valid (dry run)"));
}

TEST_F(RwctlTest, InvalidConfigIsRejectedWithLineAndColumn) {
  std::string file = Variant("bad.yaml", "^/api/(.*)$", "^/api/(.*$");
  RwctlResult r = Ctl({"apply", file});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr(file + ":9:13: routes[1].match.path_regex: "));
  file = Variant("bad2.yaml", "cluster: app", "cluster: nope");
  r = Ctl({"apply", file});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr(file + ":11:5: routes[1].cluster: "));
  r = Ctl({"get"});
  EXPECT_THAT(r.out, HasSubstr("# rwproxy config version 1 ")) << r.Describe();
}

TEST_F(RwctlTest, StaleExpectVersionIsRefused) {
  std::string file = Variant("v2.yaml", "/$1", "/v2/$1");
  RwctlResult r = Ctl({"apply", file, "--expect-version", "7"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("failed_precondition"));
  r = Ctl({"apply", file, "--expect-version", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
}

TEST_F(RwctlTest, UnreachableAndUsage) {
  auto port = UnusedPort();
  ASSERT_TRUE(port.ok());
  auto r = runner_.Run({"stats", "--server", absl::StrCat("127.0.0.1:", *port)});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 3) << r->Describe();
  r = runner_.Run({"apply", "--no-such-flag", "--server", server_});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->exit_code, 2) << r->Describe();
}

TEST_F(RwctlTest, GetYamlAppliedBackIsANoOpAndDiffIsEmpty) {
  RwctlResult get = Ctl({"get", "-o", "yaml"});
  ASSERT_EQ(get.exit_code, 0) << get.Describe();
  RwctlResult r = Ctl({"apply", "-"}, get.out);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "unchanged, version 1\n");
  std::string live = runner_.WriteFile("live.yaml", get.out);
  r = Ctl({"diff", live});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  r = Ctl({"diff", Variant("v2.yaml", "/$1", "/v2/$1")});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("--- live (version 1)\n"));
}

TEST_F(RwctlTest, HistoryAndRollback) {
  ASSERT_EQ(Ctl({"apply", Variant("v2.yaml", "/$1", "/v2/$1"), "-m", "second"}).exit_code, 0);
  RwctlResult r = Ctl({"history"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("VERSION"));
  EXPECT_THAT(r.out, HasSubstr("second"));
  r = Ctl({"history", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  rwproxy::control::v1::ListVersionsResponse history;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &history).ok()) << r.out;
  ASSERT_GE(history.versions_size(), 2);
  EXPECT_EQ(history.versions(0).version(), 2u);
  EXPECT_EQ(history.versions(0).description(), "second");

  r = Ctl({"rollback", "1", "--expect-version", "2"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "rolled back to version 1: applied version 3\n");
  auto res = Fetch(env_.proxy_port(), "GET", "/api/users/7");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(ParseKeyValues(res->body)["target"], "/users/7") << res->body;
  r = Ctl({"rollback", "999"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
}

TEST_F(RwctlTest, ExplainShowsChecksAndTheMatch) {
  RwctlResult r = Ctl({"explain", "GET", "/api/users/7"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("canary"));
  EXPECT_THAT(r.out, HasSubstr("route: api\n"));
  EXPECT_THAT(r.out, HasSubstr("rewritten path: /users/7\n"));
  EXPECT_THAT(r.out, HasSubstr("cluster: app\n"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("endpoint: 127.0.0.1:", env_.upstream_port("app"))));
  // Every condition of every route tried, and the groups the matched route's template used.
  EXPECT_THAT(r.out, HasSubstr("  canary               no match: header x-canary is missing\n"
                               "      yes  path starts with /api/\n"
                               "      no   header x-canary is '1'\n"
                               "  api                  match\n"
                               "      yes  path matches ^/api/(.*)$\n"));
  EXPECT_THAT(r.out, HasSubstr("captures: $0=/api/users/7 $1=users/7\n"));
  r = Ctl({"explain", "GET", "/api/users/7", "-H", "x-canary: 1"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("route: canary\naction: respond\n"));
  r = Ctl({"explain", "GET", "/nothing"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("no route matches"));
}

TEST_F(RwctlTest, StatsJsonParses) {
  ASSERT_TRUE(Fetch(env_.proxy_port(), "GET", "/api/x").ok());
  RwctlResult r = Ctl({"stats", "-o", "json"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  rwproxy::control::v1::GetStatsResponse stats;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &stats).ok()) << r.out;
  EXPECT_EQ(stats.version(), 1u);
  bool found_app = false;
  for (const auto& cluster : stats.clusters()) found_app |= cluster.name() == "app";
  EXPECT_TRUE(found_app) << r.out;
}

TEST_F(RwctlTest, WatchUntilVersionReturnsOnceApplied) {
  auto child =
      runner_.Start({"watch", "--until-version", "2", "--timeout", "20s", "--server", server_});
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_EQ(Ctl({"apply", Variant("v2.yaml", "/$1", "/v2/$1")}).exit_code, 0);
  auto watched = runner_.Wait(*child);
  ASSERT_TRUE(watched.ok()) << watched.status();
  EXPECT_EQ(watched->exit_code, 0) << watched->Describe();
  RwctlResult r = Ctl({"watch", "--until-version", "9", "--timeout", "300ms"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
}

// 500 routes that name a cluster that does not exist: more violations than gRPC's trailers can
// hold. rwctl still prints every one at its line:col, exits 1 and reports no transport error.
TEST_F(RwctlTest, FiveHundredViolationsArePrintedEachAtItsLine) {
  std::string yaml = "clusters:\n  - name: app\n    endpoints: [\"127.0.0.1:1\"]\nroutes:\n";
  for (int i = 0; i < 500; ++i) {  // route i: lines 5+3i..7+3i, its cluster on line 7+3i
    absl::StrAppend(&yaml, "  - name: r", i, "\n    match: {path_prefix: /r", i,
                    "/}\n    cluster: nope\n");
  }
  const std::string file = runner_.WriteFile("many.yaml", yaml);
  RwctlResult r = Ctl({"apply", file});
  EXPECT_EQ(r.exit_code, 1) << r.Describe().substr(0, 2000);
  for (int i = 0; i < 500; ++i) {
    EXPECT_THAT(r.err, HasSubstr(absl::StrCat(file, ":", 7 + 3 * i, ":5: routes[", i,
                                              "].cluster: unknown cluster 'nope'")))
        << i;
  }
  EXPECT_THAT(r.err, HasSubstr("rwctl: rejected: 500 violations\n"));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("unavailable")));
  EXPECT_THAT(r.err, ::testing::Not(HasSubstr("internal")));

  r = Ctl({"apply", file, "-o", "json"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_THAT(r.out, HasSubstr(R"("error":"rejected: 500 violations","code":"invalid_argument")"));
  EXPECT_THAT(r.out, HasSubstr(absl::StrCat("\"", file, ":1504:5: routes[499].cluster: ")));
  EXPECT_EQ(Ctl({"get"}).out.find("# rwproxy config version 1 "), 0u);
}

// 50,000 routes (over gRPC's default 4 MiB message limit) apply, serve and read back.
TEST_F(RwctlTest, FiftyThousandRouteConfigApplies) {
  std::string yaml = env_.Expand("clusters:\n  - name: app\n    endpoints: [\"{{app}}\"]\n");
  yaml += "routes:\n";
  for (int i = 0; i < 50000; ++i) {
    absl::StrAppend(&yaml, "  - name: tenant-service-route-", i, "\n    match: {path_prefix: ",
                    "/tenants/tenant-", i, "/api/v1/}\n    rewrite: {prefix: /api/v1/, host: tenant-", i,
                    ".internal}\n",
                    "    cluster: app\n");
  }
  const std::string file = runner_.WriteFile("large.yaml", yaml);

  RwctlResult r = Ctl({"apply", file, "--timeout", "60s"});
  ASSERT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "applied version 2\n");
  auto res = Fetch(env_.proxy_port(), "GET", "/tenants/tenant-49999/api/v1/users");
  ASSERT_TRUE(res.ok()) << res.status();
  EXPECT_EQ(ParseKeyValues(res->body)["target"], "/api/v1/users") << res->body;
  r = Ctl({"get", "-o", "json", "--timeout", "60s"});  // GetConfig: the whole config back
  ASSERT_EQ(r.exit_code, 0) << r.Describe().substr(0, 2000);
  rwproxy::control::v1::GetConfigResponse live;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &live).ok());
  EXPECT_EQ(live.version(), 2u);
  EXPECT_EQ(live.config().routes_size(), 50000);
  EXPECT_GT(live.config().ByteSizeLong(), 4u << 20);  // over gRPC's default 4 MiB limit
}

TEST_F(RwctlTest, ExplainWithAHugeHeaderIsRefusedAndTheServerAnswersOn) {
  RwctlResult r = Ctl({"explain", "GET", "/api/x", "-H", "x-big: " + std::string(70000, 'v')});
  EXPECT_EQ(r.exit_code, 4) << r.Describe().substr(0, 2000);
  EXPECT_THAT(r.err, HasSubstr("invalid_argument: headers.x-big: value of 70000 bytes, limit "
                               "65536"));
  r = Ctl({"explain", "GET", "/api/x"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("route: api\n"));
}

}  // namespace
}  // namespace rwtest
