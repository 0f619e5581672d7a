// rwctl as a process against an in-process fake ControlPlane: flags, output, exit codes,
// violations (metadata and message), tokens, fleet push, get/diff, watch, validate, get clusters
// and explain. Routes, stats, JSON output, history, version and completion are in
// rwctl_fake_server_more_test.cc.
#include "tests/cli/rwctl_fake_server_fixture.h"

namespace rwtest {
namespace {

using ::testing::ContainsRegex;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::Not;

TEST_F(RwctlFakeServerTest, ApplyReportsAppliedUnchangedAndDryRun) {
  RwctlResult r = Ctl({"apply", routes_, "-m", "first push"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "applied version 2\n");
  r = Ctl({"apply", "-f", routes_});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "unchanged, version 2\n");
  std::string changed =
      runner_.WriteFile("changed.yaml", absl::StrReplaceAll(kRoutes, {{"api", "v1"}}));
  r = Ctl({"apply", changed, "--dry-run"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "valid (dry run): would apply version 3\n");
  EXPECT_EQ(fake_.version(), 2u);
  EXPECT_EQ(fake_.descriptions().back(), "first push");
}

TEST_F(RwctlFakeServerTest, ApplyReadsStdin) {
  RwctlResult r = Ctl({"apply", "-"}, kRoutes);
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "applied version 2\n");
  r = Ctl({"apply", "-f", "-"}, kRoutes);
  EXPECT_EQ(r.out, "unchanged, version 2\n") << r.Describe();
  r = Ctl({"apply", "-"}, "  \n");
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("empty input"));
}

TEST_F(RwctlFakeServerTest, YamlErrorsAreLocatedAndNothingIsSent) {
  std::string bad = runner_.WriteFile(
      "bad.yaml", absl::StrReplaceAll(kRoutes, {{"    cluster: app", "    clustr: app"}}));
  RwctlResult r = Ctl({"apply", bad});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr(bad + ":8:5: routes[0].clustr"));
  EXPECT_EQ(fake_.version(), 1u);
}

TEST_F(RwctlFakeServerTest, RejectionFromMetadataIsLocatedInTheFile) {
  fake_.set_reject(
      FakeControlPlane::Reject::kWithMetadata,
      {V("routes[0].match.path_regex", "missing )"), V("routes[0].cluster", "unknown")});
  RwctlResult r = Ctl({"apply", routes_});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr(routes_ + ":6:13: routes[0].match.path_regex: missing )\n"));
  EXPECT_THAT(r.err, HasSubstr(routes_ + ":8:5: routes[0].cluster: unknown\n"));
  EXPECT_THAT(r.err, HasSubstr("rejected: 2 violations"));
  EXPECT_THAT(r.err, Not(HasSubstr("see metadata")));
}

TEST_F(RwctlFakeServerTest, RejectionFromMessageLinesIsLocatedInTheFile) {
  fake_.set_reject(FakeControlPlane::Reject::kMessageOnly,
                   {V("routes[0].rewrite.path", "group $1 out of range")});
  RwctlResult r = Ctl({"apply", routes_});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr(routes_ + ":7:15: routes[0].rewrite.path: group $1 out of range"));
}

TEST_F(RwctlFakeServerTest, StaleExpectVersionFails) {
  RwctlResult r = Ctl({"apply", routes_, "--expect-version", "5"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("failed_precondition: expected version 5, live is 1"));
  r = Ctl({"apply", routes_, "--expect-version", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
}

TEST_F(RwctlFakeServerTest, UnreachableServerExits3) {
  auto port = UnusedPort();
  ASSERT_TRUE(port.ok());
  RwctlResult r = Rwctl({"get", "--server", absl::StrCat("127.0.0.1:", *port)});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("unavailable"));
}

TEST_F(RwctlFakeServerTest, UsageErrorsExit2) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"frobnicate"},
      {"apply"},
      {"apply", routes_, "-f", routes_},
      {"apply", routes_, "--bogus"},
      {"get", "-o", "xml"},
      {"get", "--timeout", "ten"},
      {"get", "--server", "a:1", "--server", "b:2"},
      {"rollback"},
      {"explain", "GET", "/", "-H", "no-colon"},
      {"history", "--servers-file", "/nonexistent/servers"},
      {"get", "routes", "-o", "xml"},
      {"stats", "--count", "2"},
      {"stats", "--watch", "soon"},
      {"stats", "--watch", "0s"},
      {"stats", "--watch", "1s", "--count", "0"},
      {"stats", "--filter", "(unclosed"},
      {"version", "-o", "yaml"},
      {"apply", routes_, "-o", "yaml"},
  };
  for (const auto& args : cases) {
    RwctlResult r = Rwctl(args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(args, " ") << "\n" << r.Describe();
  }
  RwctlResult help = Rwctl({"--help"});
  EXPECT_EQ(help.exit_code, 0);
  EXPECT_THAT(help.out, HasSubstr("Exit codes:"));
}

TEST_F(RwctlFakeServerTest, TokenFromFileOrEnv) {
  fake_.set_token("s3cret");
  RwctlResult r = Ctl({"get"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("unauthenticated"));
  std::string token = runner_.WriteFile("token", "s3cret\n");
  r = Ctl({"get", "--token-file", token});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  r = Rwctl({"get"}, "", {"RWCTL_TOKEN=s3cret", "RWCTL_SERVER=" + fake_.address()});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
}

TEST_F(RwctlFakeServerTest, FleetPushReportsEveryTargetInOrder) {
  FakeControlPlane second;
  auto port = UnusedPort();
  ASSERT_TRUE(port.ok());
  const std::string down = absl::StrCat("127.0.0.1:", *port);
  RwctlResult r = Rwctl({"apply", routes_, "--server", fake_.address(), "--server", down,
                         "--server", second.address()});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r.Describe();
  EXPECT_EQ(lines[0], fake_.address() + ": applied version 2");
  EXPECT_THAT(lines[1], HasSubstr(down + ": error: unavailable"));
  EXPECT_EQ(lines[2], second.address() + ": applied version 2");

  second.set_reject(FakeControlPlane::Reject::kWithMetadata, {V("routes[0].cluster", "unknown")});
  std::string servers = runner_.WriteFile(
      "servers",
      absl::StrCat("# fleet\n", fake_.address(), "\n", second.address(), " # b\n", down, "\n"));
  r = Rwctl({"apply", routes_, "--servers-file", servers});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr(fake_.address() + ": unchanged, version 2\n" + second.address() +
                               ": rejected: 1 violation\n  " + routes_ +
                               ":8:5: routes[0].cluster: unknown\n" + down + ": error:"));
}

TEST_F(RwctlFakeServerTest, GetYamlAppliesAsNoOpAndDiff) {
  ASSERT_EQ(Ctl({"apply", routes_}).exit_code, 0);
  RwctlResult get = Ctl({"get", "-o", "yaml"});
  ASSERT_EQ(get.exit_code, 0) << get.Describe();
  EXPECT_THAT(get.out, HasSubstr("# rwproxy config version 2"));
  RwctlResult r = Ctl({"apply", "-"}, get.out);
  EXPECT_EQ(r.out, "unchanged, version 2\n") << r.Describe();

  r = Ctl({"diff", routes_});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "");
  std::string changed =
      runner_.WriteFile("changed.yaml", absl::StrReplaceAll(kRoutes, {{"/$1", "/v2/$1"}}));
  r = Ctl({"diff", changed});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("--- live (version 2)\n+++ " + changed + "\n@@ "));
  EXPECT_THAT(r.out, HasSubstr("\n-      path: /$1\n+      path: /v2/$1\n"));

  RwctlResult json = Ctl({"get", "-o", "json"});
  ASSERT_EQ(json.exit_code, 0) << json.Describe();
  rwproxy::control::v1::GetConfigResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json.out, &parsed).ok()) << json.out;
  EXPECT_EQ(parsed.version(), 2u);
  EXPECT_THAT(json.out, HasSubstr("\"config_file_error\": \"\""));
}

TEST_F(RwctlFakeServerTest, WatchUntilVersion) {
  RwctlResult r = Ctl({"watch", "--until-version", "1"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("1 "));

  auto child = runner_.Start(
      {"watch", "--until-version", "2", "--timeout", "20s", "--server", fake_.address()});
  ASSERT_TRUE(child.ok()) << child.status();
  ASSERT_EQ(Ctl({"apply", routes_, "-m", "pushed"}).exit_code, 0);
  auto waited = runner_.Wait(*child);
  ASSERT_TRUE(waited.ok()) << waited.status();
  EXPECT_EQ(waited->exit_code, 0) << waited->Describe();
  EXPECT_THAT(waited->out, HasSubstr("pushed"));

  r = Ctl({"watch", "--until-version", "99", "--timeout", "300ms"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr("timed out waiting for version 99 (live version 2)"));
}

TEST_F(RwctlFakeServerTest, ValidateOnlineAndOffline) {
  RwctlResult r = Ctl({"validate", routes_});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, routes_ + ": valid\n");
  fake_.set_reject(FakeControlPlane::Reject::kWithMetadata, {V("routes[0].cluster", "unknown")});
  r = Ctl({"validate", routes_});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr(routes_ + ":8:5: routes[0].cluster: unknown"));
  fake_.set_reject(FakeControlPlane::Reject::kMessageOnly, {V("routes[0].cluster", "nope")});
  r = Ctl({"validate", routes_});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err, HasSubstr(routes_ + ":8:5: routes[0].cluster: nope"));

  std::string bad =
      runner_.WriteFile("bad.yaml", absl::StrReplaceAll(kRoutes, {{"(.*)$", "(.*$"}}));
  r = Rwctl({"validate", "--offline", bad});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.err,
              HasSubstr(bad + ":6:13: routes[0].match.path_regex: missing ): ^/api/(.*$"));
  r = Rwctl({"validate", "--offline", routes_});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
}

TEST_F(RwctlFakeServerTest, GetClustersPrintsTableAndJson) {
  rwproxy::control::v1::GetClustersResponse clusters;
  auto* app = clusters.add_clusters();
  app->set_name("app");
  auto* endpoint = app->add_endpoints();
  endpoint->set_address("127.0.0.1:8081");
  endpoint->set_source("127.0.0.1:8081");
  endpoint->set_health("ejected");
  endpoint->set_since_unix_ms(1714557600000);
  endpoint->set_reason("5 consecutive 5xx");
  endpoint->set_cx_active(3);
  (*endpoint->mutable_counters())["rq_total"] = 12;
  (*endpoint->mutable_counters())["rq_5xx"] = 5;
  fake_.set_clusters(clusters);

  RwctlResult r = Ctl({"get", "clusters"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 3u) << r.out;
  EXPECT_THAT(lines[0], HasSubstr("HEALTH"));
  EXPECT_EQ(lines[1], "app");
  EXPECT_THAT(lines[2], HasSubstr("127.0.0.1:8081  ejected  2024-05-01T10:00:00Z  3/0/0"));
  EXPECT_THAT(lines[2], HasSubstr("12        5       5 consecutive 5xx"));

  r = Ctl({"get", "clusters", "-o", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  rwproxy::control::v1::GetClustersResponse parsed;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(r.out, &parsed).ok()) << r.out;
  ASSERT_EQ(parsed.clusters_size(), 1);
  ASSERT_EQ(parsed.clusters(0).endpoints_size(), 1);
  EXPECT_EQ(parsed.clusters(0).endpoints(0).health(), "ejected");
  EXPECT_EQ(parsed.clusters(0).endpoints(0).counters().at("rq_5xx"), 5u);
  for (const char* field : {"\"panic\": false", "\"since_unix_ms\": \"1714557600000\"",
                            "\"cx_idle\": \"0\"", "\"ejections\": 0", "\"source\""}) {
    EXPECT_THAT(r.out, HasSubstr(field));
  }

  r = Ctl({"get", "clusters", "-o", "yaml"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("clusters:\n  - name: app\n    panic: false\n    endpoints:\n"
                               "      - address: 127.0.0.1:8081\n"));
  EXPECT_THAT(r.out, HasSubstr("        since_unix_ms: 1714557600000\n"));
  EXPECT_THAT(r.out, HasSubstr("        counters:\n          rq_5xx: 5\n          rq_total: 12\n"));
  fake_.set_token("s3cret");
  r = Ctl({"get", "clusters"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
}

TEST_F(RwctlFakeServerTest, ExplainPrintsOneLinePerWeightedBackend) {
  rwproxy::control::v1::ExplainResponse explain;
  explain.set_version(4);
  explain.set_matched(true);
  explain.set_route("split");
  explain.set_action("cluster");
  explain.set_rewritten_path("/x");
  explain.set_cluster("app");
  explain.set_endpoint("round_robin over 127.0.0.1:8081, 127.0.0.1:8082");
  auto* app = explain.add_backends();
  app->set_cluster("app");
  app->set_weight(90);
  app->set_probability(0.9);
  app->set_endpoint("round_robin over 127.0.0.1:8081, 127.0.0.1:8082");
  auto* canary = explain.add_backends();
  canary->set_cluster("canary");
  canary->set_weight(10);
  canary->set_probability(0.1);
  canary->set_endpoint("127.0.0.1:9001");
  fake_.set_explain(explain);

  RwctlResult r = Ctl({"explain", "GET", "/split/x"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("route: split\naction: cluster\nrewritten path: /x\n"
                               "backend app 90% (round_robin over 127.0.0.1:8081, "
                               "127.0.0.1:8082)\nbackend canary 10% (127.0.0.1:9001)\n"));
  EXPECT_THAT(r.out, Not(HasSubstr("cluster: app")));

  // One backend (or an older server that sends none): the cluster and endpoint lines.
  explain.clear_backends();
  fake_.set_explain(explain);
  r = Ctl({"explain", "GET", "/split/x"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("cluster: app\nendpoint: round_robin over"));
  EXPECT_THAT(r.out, Not(HasSubstr("backend ")));
}

TEST_F(RwctlFakeServerTest, ExplainPrintsConditionsAndCaptures) {
  rwproxy::control::v1::ExplainResponse explain;
  explain.set_version(5);
  auto* desktop = explain.add_checks();
  desktop->set_route("desktop");
  desktop->set_reason("header user-agent matches Mobile (inverted)");
  auto* path = desktop->add_conditions();
  path->set_condition("path starts with /shop/");
  path->set_matched(true);
  auto* ua = desktop->add_conditions();
  ua->set_condition("header user-agent matches Mobile (inverted)");
  auto* mobile = explain.add_checks();
  mobile->set_route("mobile");
  mobile->set_matched(true);
  auto* host = mobile->add_conditions();
  host->set_condition("host is one of *.example.com");
  host->set_matched(true);
  explain.set_matched(true);
  explain.set_route("mobile");
  explain.set_action("cluster");
  explain.set_rewritten_path("/m/15E148/cart?lang=de");
  explain.add_path_captures("/shop/cart");
  explain.add_path_captures("cart");
  explain.add_condition_captures("Mobile/15E148 x");
  explain.add_condition_captures("15E148");
  explain.add_condition_captures("");
  explain.set_capture_source("header user-agent matches Mobile/(\\w+)( x)?");
  fake_.set_explain(explain);

  RwctlResult r = Ctl({"explain", "GET", "/shop/cart?lang=de", "-H", "User-Agent: Mobile/15E148"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("  desktop              no match: header user-agent matches Mobile "
                               "(inverted)\n"
                               "      yes  path starts with /shop/\n"
                               "      no   header user-agent matches Mobile (inverted)\n"
                               "  mobile               match\n"
                               "      yes  host is one of *.example.com\n"
                               "route: mobile\n"));
  EXPECT_THAT(r.out, HasSubstr("rewritten path: /m/15E148/cart?lang=de\n"));
  EXPECT_THAT(r.out, HasSubstr("captures: $0=/shop/cart $1=cart\n"
                               "captures from header user-agent matches Mobile/(\\w+)( x)?: "
                               "%0=\"Mobile/15E148 x\" %1=15E148 %2=\"\"\n"));

  r = Ctl({"explain", "GET", "/shop/cart", "-o", "json"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("\"condition_captures\": ["));
  EXPECT_THAT(r.out, HasSubstr("\"conditions\""));
}

}  // namespace
}  // namespace rwtest
