// The admin endpoints of issue #9 against a real rwproxy: /stats?format=json and ?filter=,
// /metrics?filter=, /config_dump, /server_info, /logging, /drain (POST, and GET ?wait= that
// returns only once the in-flight requests are done), /quitquitquit, and the method checks.
// A few cases that a loopback client cannot produce (a client outside the pod) call the admin
// routes in-process (AdminRoutesTest).
#include <signal.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/io_context.hpp"
#include "boost/json.hpp"
#include "server/admin/admin_routes.h"
#include "server/log/log.h"
#include "tests/integration/integration_fixture.h"

namespace rwtest {
namespace {

namespace json = boost::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

// A JSON string's text (or a marker naming what the value is instead).
std::string Str(const json::value& value) {
  return value.is_string() ? std::string(value.as_string())
                           : "<not a string: " + json::serialize(value) + ">";
}

class AdminTest : public IntegrationTest {
 protected:
  absl::StatusOr<HttpResponse> Admin(std::string_view method, std::string_view target) {
    return Fetch(env_.admin_port(), method, target);
  }

  // GET `target` on the admin port, expecting 200 and a JSON object.
  json::object AdminJson(std::string_view target) {
    auto response = Admin("GET", target);
    if (!response.ok()) {
      ADD_FAILURE() << target << ": " << response.status();
      return {};
    }
    EXPECT_EQ(response->status, 200) << target << ": " << response->body;
    EXPECT_EQ(response->Header("Content-Type"), "application/json") << target;
    boost::system::error_code ec;
    json::value value = json::parse(response->body, ec);
    if (ec || !value.is_object()) {
      ADD_FAILURE() << target << ": not a JSON object: " << response->body;
      return {};
    }
    return value.as_object();
  }

  int ReadyStatus() {
    auto response = Admin("GET", "/ready");
    return response.ok() ? response->status : -1;
  }

  ::testing::AssertionResult Exits(milliseconds within) {
    return WaitFor([&] { return !env_.proxy().Alive(); }, within, "rwproxy exits");
  }
};

TEST_F(AdminTest, StatsJsonParsesAndHasClusterCounters) {
  RW_ASSERT_OK(StartApp());
  auto response = Get("/api/x");
  RW_ASSERT_OK(response);
  ASSERT_EQ(response->status, 200);
  ASSERT_TRUE(CounterReaches("cluster.app.rq_total", 1));
  json::object stats = AdminJson("/stats?format=json");
  EXPECT_EQ(stats.at("config_version").as_int64(), 1);
  EXPECT_GE(stats.at("clusters").at("app").at("rq_total").as_int64(), 1);
  EXPECT_GE(stats.at("clusters").at("app").at("upstream_cx_total").as_int64(), 1);
  EXPECT_GE(stats.at("listeners").at("proxy").at("downstream_rq_total").as_int64(), 1);
  for (const char* group : {"server", "routes", "route_backends", "endpoints"}) {
    EXPECT_TRUE(stats.contains(group) && stats.at(group).is_object()) << group;
  }
  auto bad = Admin("GET", "/stats?format=yaml");
  RW_ASSERT_OK(bad);
  EXPECT_EQ(bad->status, 400);
}

TEST_F(AdminTest, FilterKeepsMatchingCountersAndRejectsABadRegex) {
  RW_ASSERT_OK(StartApp());
  RW_ASSERT_OK(Get("/api/x"));
  ASSERT_TRUE(CounterReaches("cluster.app.rq_total", 1));
  // ^cluster\.app\.rq_total$, percent-encoded.
  auto text = Admin("GET", "/stats?filter=%5Ecluster%5C.app%5C.rq_total%24");
  RW_ASSERT_OK(text);
  EXPECT_EQ(text->status, 200);
  EXPECT_EQ(text->body, "cluster.app.rq_total: 1\n");

  json::object filtered = AdminJson("/stats?format=json&filter=downstream_cx");
  EXPECT_TRUE(filtered.at("clusters").as_object().empty()) << json::serialize(filtered);
  const json::object& proxy = filtered.at("listeners").at("proxy").as_object();
  EXPECT_TRUE(proxy.contains("downstream_cx_active") && proxy.contains("downstream_cx_total"));
  EXPECT_FALSE(proxy.contains("downstream_rq_total"));

  auto metrics = Admin("GET", "/metrics?filter=%5Ecluster%5C.app%5C.rq_");
  RW_ASSERT_OK(metrics);
  EXPECT_EQ(metrics->status, 200);
  EXPECT_NE(metrics->body.find("rwproxy_cluster_rq_total{cluster=\"app\"} 1\n"), std::string::npos)
      << metrics->body;
  EXPECT_EQ(metrics->body.find("upstream_cx_total"), std::string::npos) << metrics->body;
  EXPECT_EQ(metrics->body.find("listener"), std::string::npos) << metrics->body;

  for (const char* target :
       {"/stats?filter=(", "/metrics?filter=(", "/stats?format=json&filter=("}) {
    auto bad = Admin("GET", target);
    RW_ASSERT_OK(bad);
    EXPECT_EQ(bad->status, 400) << target;
    EXPECT_NE(bad->body.find("missing )"), std::string::npos) << target << ": " << bad->body;
  }
}

TEST_F(AdminTest, ConfigDumpHasResolvedEndpointsAndDefaults) {
  RW_ASSERT_OK(env_.StartUpstream("app").status());
  const uint16_t port = env_.upstream_port("app");
  const std::string hosts = env_.dir() + "/hosts";
  std::ofstream(hosts) << "127.0.0.1 app.test\n";
  const std::string config = absl::StrCat(R"yaml(
clusters:
  - name: app
    endpoints: ["app.test:)yaml",
                                          port, R"yaml("]
routes:
  - name: api
    match:
      path_prefix: /api/
      case_insensitive: true
      hosts: [Shop.Example.com]
      headers: [{name: user-agent, regex: Mobile, invert: true}, {name: x-debug, present: false}]
      query: {regex: "a=1"}
    rewrite: {query: discard}
    cluster: app
  - name: deny
    match: {path_exact: /admin, methods: [GET], headers: {X-A: "1"}}
    respond: {status: 403, body: "no\n"}
)yaml");
  RW_ASSERT_OK(env_.StartProxy(config, {"--dns-hosts-file", hosts}));
  json::object dump = AdminJson("/config_dump");
  EXPECT_EQ(dump.at("version").as_int64(), 1);
  const json::object& cluster = dump.at("config").at("clusters").at(0).as_object();
  EXPECT_EQ(cluster.at("name"), "app");
  EXPECT_EQ(cluster.at("endpoints"), json::array({absl::StrCat("app.test:", port)}));
  const json::object& resolved = cluster.at("resolved_endpoints").at(0).as_object();
  EXPECT_EQ(Str(resolved.at("address")), absl::StrCat("127.0.0.1:", port));
  EXPECT_EQ(Str(resolved.at("source")), absl::StrCat("app.test:", port));
  EXPECT_EQ(resolved.at("health"), "healthy");
  // Defaults of fields the YAML does not set.
  EXPECT_EQ(cluster.at("connect_timeout"), "1s");
  EXPECT_EQ(cluster.at("lb_policy"), "round_robin");
  EXPECT_EQ(cluster.at("dns_refresh"), "5s");
  EXPECT_EQ(cluster.at("pool").at("max_connections").as_int64(), 1024);
  EXPECT_EQ(cluster.at("pool").at("idle_timeout"), "55s");
  EXPECT_TRUE(cluster.at("health_check").is_null());
  EXPECT_EQ(cluster.at("circuit_breakers").at("max_requests").as_int64(), 1024);
  EXPECT_DOUBLE_EQ(cluster.at("retry_budget").at("ratio").to_number<double>(), 0.2);
  const json::array& routes = dump.at("config").at("routes").as_array();
  ASSERT_EQ(routes.size(), 2u);
  EXPECT_EQ(routes[0].at("match").at("path_prefix"), "/api/");
  EXPECT_EQ(routes[0].at("timeout"), "15s");
  EXPECT_EQ(routes[0].at("backends"), json::parse(R"([{"cluster":"app","weight":1}])"));
  EXPECT_TRUE(routes[0].at("retry").is_null());
  EXPECT_EQ(routes[1].at("match").at("path_exact"), "/admin");
  EXPECT_EQ(routes[1].at("match").at("methods"), json::array({"GET"}));
  // Match conditions as config.proto writes them; the map form of headers is exact conditions.
  EXPECT_EQ(routes[0].at("match"), json::parse(R"({"path_prefix":"/api/","case_insensitive":true,
      "methods":[],"hosts":["shop.example.com"],"headers":[
      {"name":"user-agent","regex":"Mobile","invert":true},
      {"name":"x-debug","present":false,"invert":false}],"query":{"regex":"a=1","invert":false}})"));
  EXPECT_EQ(routes[0].at("rewrite").at("query"), "discard");
  EXPECT_EQ(routes[1].at("match").at("headers"),
            json::parse(R"([{"name":"x-a","exact":"1","invert":false}])"));
  EXPECT_TRUE(routes[1].at("match").at("query").is_null());
  EXPECT_EQ(routes[1].at("respond"), json::parse(R"({"status":403,"body":"no\n"})"));
  EXPECT_EQ(dump.at("config").at("http").at("normalize_path"), true);
}

TEST_F(AdminTest, ServerInfoReportsVersionBuildWorkersAndFlags) {
  const std::string state_dir = env_.dir() + "/state";
  RW_ASSERT_OK(StartApp({}, {"--state-dir", state_dir, "--workers", "3"}));
  json::object info = AdminJson("/server_info");
  EXPECT_EQ(info.at("version"), RWPROXY_VERSION);
  EXPECT_FALSE(info.at("build").at("compiler").as_string().empty());
  EXPECT_FALSE(info.at("build").at("build_type").as_string().empty());
  EXPECT_GE(info.at("uptime_s").as_int64(), 0);
  EXPECT_EQ(info.at("workers").as_int64(), 3);
  EXPECT_EQ(info.at("config_version").as_int64(), 1);
  EXPECT_EQ(Str(info.at("state_dir")), state_dir);
  const json::object& flags = info.at("flags").as_object();
  EXPECT_EQ(flags.at("--workers"), "3");
  EXPECT_EQ(Str(flags.at("--state-dir")), state_dir);
  EXPECT_EQ(flags.at("--drain-timeout"), "0s");
  EXPECT_TRUE(flags.at("--config").as_string().ends_with("routes.yaml"));
  EXPECT_FALSE(flags.contains("--seed")) << "only the flags given";
}

TEST_F(AdminTest, PostLoggingChangesTheLevel) {
  RW_ASSERT_OK(StartApp());
  auto level = Admin("GET", "/logging");
  RW_ASSERT_OK(level);
  EXPECT_EQ(level->body, "level: info\n");
  auto set = Admin("POST", "/logging?level=debug");
  RW_ASSERT_OK(set);
  EXPECT_EQ(set->status, 200) << set->body;
  EXPECT_EQ(set->body, "level: debug (was info)\n");
  level = Admin("GET", "/logging");
  RW_ASSERT_OK(level);
  EXPECT_EQ(level->body, "level: debug\n");
  for (const char* bad : {"/logging?level=loud", "/logging"}) {
    auto response = Admin("POST", bad);
    RW_ASSERT_OK(response);
    EXPECT_EQ(response->status, 400) << bad;
  }
  level = Admin("GET", "/logging");
  RW_ASSERT_OK(level);
  EXPECT_EQ(level->body, "level: debug\n");
}

TEST_F(AdminTest, WrongMethodsGet405WithAllowAndUnknownPaths404) {
  RW_ASSERT_OK(StartApp());
  const struct {
    const char* method;
    const char* target;
    const char* allow;
  } cases[] = {{"POST", "/stats", "GET, HEAD"},
               {"DELETE", "/drain", "GET, POST"},
               {"HEAD", "/drain?wait=1s", "GET, POST"},
               {"GET", "/quitquitquit", "POST"},
               {"PUT", "/logging", "GET, HEAD, POST"}};
  for (const auto& c : cases) {
    auto response = Admin(c.method, c.target);
    RW_ASSERT_OK(response);
    EXPECT_EQ(response->status, 405) << c.method << " " << c.target;
    EXPECT_EQ(response->Header("Allow"), c.allow) << c.method << " " << c.target;
  }
  auto unknown = Admin("GET", "/nope");
  RW_ASSERT_OK(unknown);
  EXPECT_EQ(unknown->status, 404);
  for (const char* path : {"/config_dump", "/server_info", "/drain", "/quitquitquit", "/logging"}) {
    EXPECT_NE(unknown->body.find(path), std::string::npos) << path << " missing from the help";
  }
  auto head = Admin("HEAD", "/server_info");
  RW_ASSERT_OK(head);
  EXPECT_EQ(head->status, 200);
  EXPECT_TRUE(head->body.empty());
  EXPECT_NE(head->Header("Content-Length"), "0");
  // A GET /drain without ?wait=, or with a bad one, changes nothing.
  for (const char* target : {"/drain", "/drain?wait=abc", "/drain?wait=6m", "/drain?wait=-1s",
                             "/drain?wait=1s&min=2s"}) {
    auto response = Admin("GET", target);
    RW_ASSERT_OK(response);
    EXPECT_EQ(response->status, 400) << target << ": " << response->body;
  }
  EXPECT_EQ(ReadyStatus(), 200);
}

TEST_F(AdminTest, DrainWaitAnswersOnlyAfterTheInFlightRequestCompletes) {
  RW_ASSERT_OK(StartApp());
  constexpr milliseconds kSlow{1500};
  const auto sent = steady_clock::now();
  absl::StatusOr<HttpResponse> slow = absl::UnknownError("not run");
  std::thread client([&] { slow = Get(absl::StrCat("/api/sleep/", kSlow.count())); });
  ASSERT_TRUE(CounterReaches("listener.proxy.downstream_rq_total", 1));
  json::object result = AdminJson("/drain?wait=5s");
  const auto answered = steady_clock::now();
  client.join();
  // The upstream answers kSlow after it got the request, which was after `sent`.
  EXPECT_GE(answered - sent, kSlow) << json::serialize(result);
  EXPECT_LT(answered - sent, milliseconds(4500)) << "returned at the wait's end, not when drained";
  EXPECT_EQ(result.at("drained"), true) << json::serialize(result);
  EXPECT_EQ(result.at("open_connections").as_int64(), 0);
  EXPECT_GT(result.at("waited_ms").as_int64(), 0);
  EXPECT_LT(result.at("waited_ms").as_int64(), 5000);
  RW_ASSERT_OK(slow);
  EXPECT_EQ(slow->status, 200);
  EXPECT_EQ(slow->Header("Connection"), "close");
  EXPECT_EQ(ReadyStatus(), 503);
  EXPECT_TRUE(env_.proxy().Alive());
}

TEST_F(AdminTest, DrainWaitEndsAtTheWaitWithConnectionsStillOpen) {
  RW_ASSERT_OK(StartApp());
  std::thread client([&] { (void)Get("/api/sleep/1500"); });
  ASSERT_TRUE(CounterReaches("listener.proxy.downstream_rq_total", 1));
  json::object result = AdminJson("/drain?wait=300ms");
  EXPECT_EQ(result.at("drained"), false) << json::serialize(result);
  EXPECT_EQ(result.at("open_connections").as_int64(), 1);
  EXPECT_GE(result.at("waited_ms").as_int64(), 300);
  client.join();
}

TEST_F(AdminTest, PostDrainFailsReadyWithoutExiting) {
  RW_ASSERT_OK(StartApp());
  ASSERT_EQ(ReadyStatus(), 200);
  auto drain = Admin("POST", "/drain");
  RW_ASSERT_OK(drain);
  EXPECT_EQ(drain->status, 200);
  EXPECT_EQ(drain->body, "draining\n");
  EXPECT_EQ(ReadyStatus(), 503);
  // Still serving: a new connection gets its response (and is then closed).
  auto response = Get("/api/x");
  RW_ASSERT_OK(response);
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->Header("Connection"), "close");
  json::object idle = AdminJson("/drain?wait=2s");
  EXPECT_EQ(idle.at("drained"), true);
  EXPECT_TRUE(env_.proxy().Alive());
  auto healthz = Admin("GET", "/healthz");
  RW_ASSERT_OK(healthz);
  EXPECT_EQ(healthz->status, 200);
  EXPECT_TRUE(env_.proxy().Alive());
}

TEST_F(AdminTest, QuitQuitQuitDrainsThenExitsZero) {
  RW_ASSERT_OK(StartApp({}, {"--drain-timeout", "10s"}));
  constexpr milliseconds kSlow{1000};
  const auto sent = steady_clock::now();
  absl::StatusOr<HttpResponse> slow = absl::UnknownError("not run");
  std::thread client([&] { slow = Get(absl::StrCat("/api/sleep/", kSlow.count())); });
  ASSERT_TRUE(CounterReaches("listener.proxy.downstream_rq_total", 1));
  auto quit = Admin("POST", "/quitquitquit");
  RW_ASSERT_OK(quit);
  EXPECT_EQ(quit->status, 200);
  ASSERT_TRUE(Exits(milliseconds(8000)));
  EXPECT_GE(steady_clock::now() - sent, kSlow);
  EXPECT_EQ(env_.proxy().exit_code(), 0);
  client.join();
  RW_ASSERT_OK(slow);
  EXPECT_EQ(slow->status, 200);
}

// After an admin drain a signal would exit at once (it counts as the second one), so
// /quitquitquit first waits for the connections itself.
TEST_F(AdminTest, QuitQuitQuitAfterPostDrainStillWaitsForRequests) {
  RW_ASSERT_OK(StartApp({}, {"--drain-timeout", "10s"}));
  constexpr milliseconds kSlow{1000};
  const auto sent = steady_clock::now();
  absl::StatusOr<HttpResponse> slow = absl::UnknownError("not run");
  std::thread client([&] { slow = Get(absl::StrCat("/api/sleep/", kSlow.count())); });
  ASSERT_TRUE(CounterReaches("listener.proxy.downstream_rq_total", 1));
  auto drain = Admin("POST", "/drain");
  RW_ASSERT_OK(drain);
  auto quit = Admin("POST", "/quitquitquit");
  RW_ASSERT_OK(quit);
  EXPECT_EQ(quit->status, 200);
  ASSERT_TRUE(Exits(milliseconds(8000)));
  EXPECT_GE(steady_clock::now() - sent, kSlow);
  EXPECT_EQ(env_.proxy().exit_code(), 0);
  client.join();
  RW_ASSERT_OK(slow);
  EXPECT_EQ(slow->status, 200);
}

// deploy/k8s relies on this: after the app's preStop GET /drain?wait=, the sidecar's SIGTERM
// (sent once the app has exited) ends it at once instead of draining for --drain-timeout again,
// which keeps preStop wait + exit within terminationGracePeriodSeconds.
TEST_F(AdminTest, SigtermAfterAnAdminDrainExitsAtOnce) {
  RW_ASSERT_OK(StartApp({}, {"--drain-timeout", "60s"}));
  std::thread client([&] { (void)Get("/api/sleep/20000"); });
  ASSERT_TRUE(CounterReaches("listener.proxy.downstream_rq_total", 1));
  json::object result = AdminJson("/drain?wait=100ms");
  EXPECT_EQ(result.at("drained"), false);
  ASSERT_EQ(kill(env_.proxy().pid(), SIGTERM), 0);
  EXPECT_TRUE(Exits(milliseconds(3000)));
  EXPECT_EQ(env_.proxy().exit_code(), 0);
  client.join();
}

// ---- in-process: what a loopback test client cannot be ----------------------------------------

namespace admin = rwproxy::admin_internal;
namespace http = boost::beast::http;

struct Routed {
  admin::Response response;
  admin::AdminRoutes::Then then = admin::AdminRoutes::Then::kNothing;
};

Routed Route(admin::AdminRoutes& routes, http::verb method, std::string_view target,
             bool from_loopback) {
  boost::asio::io_context io;
  admin::Request request{method, target, 11};
  Routed out;
  boost::asio::co_spawn(io, routes.Handle(request, from_loopback, &out.response),
                        [&](std::exception_ptr e, admin::AdminRoutes::Then then) {
                          if (e) std::rethrow_exception(e);
                          out.then = then;
                        });
  io.run();
  return out;
}

TEST(AdminRoutesTest, PostActionsAnswerOnlyLoopbackClients) {
  int drains = 0;
  rwproxy::AdminHandlers handlers{.ready = [] { return true; },
                                  .stats = [] { return rwproxy::StatsSnapshot(); },
                                  .begin_drain = [&] { ++drains; },
                                  .quit = [] { FAIL() << "quit must not be called by Handle"; }};
  admin::AdminRoutes routes(&handlers);
  for (const char* target : {"/quitquitquit", "/drain", "/logging?level=debug"}) {
    Routed outside = Route(routes, http::verb::post, target, /*from_loopback=*/false);
    EXPECT_EQ(outside.response.result(), http::status::forbidden) << target;
    EXPECT_EQ(outside.then, admin::AdminRoutes::Then::kNothing) << target;
  }
  EXPECT_EQ(drains, 0);
  EXPECT_EQ(rwproxy::log::GetLevel(), rwproxy::log::Level::kInfo);
  // The kubelet's preStop hook comes from the node, not loopback.
  Routed pre_stop = Route(routes, http::verb::get, "/drain?wait=0s", false);
  EXPECT_EQ(pre_stop.response.result(), http::status::ok) << pre_stop.response.body();
  EXPECT_EQ(drains, 1);
  Routed read = Route(routes, http::verb::get, "/stats?format=json", false);
  EXPECT_EQ(read.response.result(), http::status::ok);
  Routed quit = Route(routes, http::verb::post, "/quitquitquit", true);
  EXPECT_EQ(quit.response.result(), http::status::ok);
  EXPECT_EQ(quit.then, admin::AdminRoutes::Then::kQuit);
}

TEST(AdminRoutesTest, LoopbackAddresses) {
  namespace ip = boost::asio::ip;
  for (const char* address : {"127.0.0.1", "127.1.2.3", "::1", "::ffff:127.0.0.1"}) {
    EXPECT_TRUE(admin::IsLoopback(ip::make_address(address))) << address;
  }
  for (const char* address : {"10.0.0.7", "0.0.0.0", "::", "::ffff:10.0.0.7", "fe80::1"}) {
    EXPECT_FALSE(admin::IsLoopback(ip::make_address(address))) << address;
  }
}

TEST(AdminRoutesTest, QueryParamsArePercentDecoded) {
  EXPECT_EQ(*admin::QueryParam("/stats?a=1&filter=%5Ea%2Bb%24", "filter"), "^a+b$");
  EXPECT_EQ(*admin::QueryParam("/stats?filter=a+b", "filter"), "a+b");  // '+' stays
  EXPECT_EQ(*admin::QueryParam("/stats?filter", "filter"), "");
  EXPECT_EQ(*admin::QueryParam("/stats?other=1", "filter"), std::nullopt);
  EXPECT_EQ(*admin::QueryParam("/stats", "filter"), std::nullopt);
  EXPECT_FALSE(admin::QueryParam("/stats?filter=%zz", "filter").ok());
  EXPECT_FALSE(admin::QueryParam("/stats?filter=abc%2", "filter").ok());
}

}  // namespace
}  // namespace rwtest
