#include "server/router/route_table.h"

#include <utility>
#include <vector>

#include "gtest/gtest.h"
#include "tests/server/route_test_util.h"

namespace rwproxy {
namespace {

class RouteTableTest : public testing::Test {
 protected:
  RouteTable Build(const std::vector<RouteSpec>& routes) {
    errors_.clear();
    return RouteTable::Build(routes, {{"app", 0}}, &errors_);
  }
  RouteDecision Lookup(const RouteTable& table, std::string_view target,
                      std::string_view method = "GET") {
    RouteRequest request;
    request.method = method;
    SplitTarget(target, &request.path, &request.query);
    request.headers = &headers_;
    return table.Route(request);
  }
  std::vector<FieldError> errors_;
  TestHeaders headers_;
};

TEST_F(RouteTableTest, RegexRewriteUsesGroupsAndKeepsQuery) {
  RouteSpec r = MakeRoute("api", MatchSpec::Kind::kRegex, "^/api/(.*)$");
  r.rewrite.path = "/$1";
  RouteTable table = Build({r});
  ASSERT_TRUE(errors_.empty());
  RouteDecision d = Lookup(table, "/api/users/7?x=1");
  ASSERT_NE(d.route, nullptr);
  EXPECT_EQ(d.target, "/users/7?x=1");
}

TEST_F(RouteTableTest, QueryDroppedWhenRewriteHasOne) {
  RouteSpec r = MakeRoute("api", MatchSpec::Kind::kRegex, "^/u/(\\d+)$");
  r.rewrite.path = "/user?id=$1";
  RouteTable table = Build({r});
  EXPECT_EQ(Lookup(table, "/u/42?old=1").target, "/user?id=42");
}

TEST_F(RouteTableTest, PathMatchIgnoresQuery) {
  RouteTable table = Build({MakeRoute("exact", MatchSpec::Kind::kExact, "/health")});
  EXPECT_NE(Lookup(table, "/health?verbose=1").route, nullptr);
  EXPECT_EQ(Lookup(table, "/healthz").route, nullptr);
}

TEST_F(RouteTableTest, PrefixRewriteReplacesOnlyThePrefix) {
  RouteSpec r = MakeRoute("v1", MatchSpec::Kind::kPrefix, "/v1/");
  r.rewrite.prefix = "/v2/";
  RouteTable table = Build({r});
  EXPECT_EQ(Lookup(table, "/v1/a/b?c").target, "/v2/a/b?c");
}

TEST_F(RouteTableTest, FirstMatchWins) {
  RouteTable table = Build({MakeRoute("a", MatchSpec::Kind::kPrefix, "/a"),
                            MakeRoute("all", MatchSpec::Kind::kPrefix, "/")});
  EXPECT_EQ(Lookup(table, "/a/x").route->name, "a");
  EXPECT_EQ(Lookup(table, "/b").route->name, "all");
}

TEST_F(RouteTableTest, MethodsAndHeadersMustMatch) {
  RouteSpec r = MakeRoute("canary", MatchSpec::Kind::kPrefix, "/");
  r.match.methods = {"GET", "HEAD"};
  r.match.headers = {Exact("x-canary", "1")};
  RouteTable table = Build({r});
  EXPECT_EQ(Lookup(table, "/").route, nullptr);  // header missing
  headers_.set("X-Canary", "1");
  EXPECT_NE(Lookup(table, "/").route, nullptr);
  EXPECT_EQ(Lookup(table, "/", "POST").route, nullptr);
  headers_.set("X-Canary", "2");
  EXPECT_EQ(Lookup(table, "/").route, nullptr);
}

TEST_F(RouteTableTest, RedirectLocationExpandsWholePath) {
  RouteSpec r = MakeRoute("moved", MatchSpec::Kind::kPrefix, "/docs/");
  r.action = RedirectSpec{"https://docs.example.com$0", 301};
  RouteTable table = Build({r});
  RouteDecision d = Lookup(table, "/docs/a?b=1");
  ASSERT_NE(d.route, nullptr);
  EXPECT_EQ(d.route->action, CompiledRoute::Action::kRedirect);
  EXPECT_EQ(d.route->status, 301);
  EXPECT_EQ(d.target, "https://docs.example.com/docs/a?b=1");
}

TEST_F(RouteTableTest, ExplainSaysWhyEarlierRoutesDidNotMatch) {
  RouteSpec post = MakeRoute("post-only", MatchSpec::Kind::kPrefix, "/");
  post.match.methods = {"POST"};
  RouteTable table = Build({MakeRoute("docs", MatchSpec::Kind::kPrefix, "/docs/"), post,
                            MakeRoute("rx", MatchSpec::Kind::kRegex, "^/api/(\\d+)$")});
  RouteRequest request{"GET", "/api/7", "", &headers_};
  std::vector<RouteTable::Check> checks;
  RouteDecision d = table.Explain(request, &checks);
  ASSERT_NE(d.route, nullptr);
  ASSERT_EQ(checks.size(), 3u);
  EXPECT_EQ(checks[0].reason, "path does not start with /docs/");
  EXPECT_EQ(checks[1].reason, "method GET is not one of POST");
  EXPECT_TRUE(checks[2].matched);
}

struct BadRoute {
  std::string name;
  RouteSpec route;
  std::string field;
  std::string message;
};

class RouteTableErrorTest : public testing::TestWithParam<BadRoute> {};

TEST_P(RouteTableErrorTest, ReportsFieldPath) {
  std::vector<FieldError> errors;
  RouteTable::Build({GetParam().route}, {{"app", 0}}, &errors);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0].field, GetParam().field);
  EXPECT_NE(errors[0].message.find(GetParam().message), std::string::npos) << errors[0].message;
}

std::vector<BadRoute> BadRoutes() {
  std::vector<BadRoute> cases;
  cases.push_back({"BadRegex", MakeRoute("r", MatchSpec::Kind::kRegex, "^/api/(.*$"),
                   "routes[0].match.path_regex", "missing )"});
  RouteSpec too_many = MakeRoute("r", MatchSpec::Kind::kRegex, "^/(a)/(b)$");
  too_many.rewrite.path = "/$3";
  cases.push_back({"GroupOutOfRange", too_many, "routes[0].rewrite.path", "$3 refers to a group"});
  RouteSpec unknown = MakeRoute("r", MatchSpec::Kind::kPrefix, "/");
  unknown.action = ClusterAction{{BackendSpec{"nope", 1}}};
  cases.push_back({"UnknownCluster", unknown, "routes[0].cluster", "unknown cluster 'nope'"});
  RouteSpec redirect = MakeRoute("r", MatchSpec::Kind::kPrefix, "/");
  redirect.action = RedirectSpec{"https://x$1", 302};
  cases.push_back({"RedirectGroup", redirect, "routes[0].redirect.location", "$1"});
  std::string huge = "^/(";
  for (int i = 0; i < 300; ++i) huge += "a{1,50}|";
  huge += "b)$";
  cases.push_back({"RegexTooLarge", MakeRoute("r", MatchSpec::Kind::kRegex, huge),
                   "routes[0].match.path_regex", "regex too large"});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(All, RouteTableErrorTest, testing::ValuesIn(BadRoutes()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace rwproxy
