// Rewrites that depend on route conditions: %N from the last regex condition, rewrite.query
// (keep, discard, append), compile errors of condition regexes and templates, and Explain's
// conditions and captures.
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/router/route_table.h"
#include "tests/server/route_test_util.h"

namespace rwproxy {
namespace {

using Kind = MatchSpec::Kind;
using Check = RouteTable::Check;
using ConditionCheck = RouteTable::ConditionCheck;

class RouteRewriteTest : public testing::Test {
 protected:
  void Build(const std::vector<RouteSpec>& routes) {
    std::vector<FieldError> errors;
    table_ = RouteTable::Build(routes, {{"app", 0}}, &errors);
    for (const FieldError& e : errors) ADD_FAILURE() << e.field << ": " << e.message;
  }
  RouteRequest Request(std::string_view target, std::string_view host = "") {
    RouteRequest request;
    request.method = "GET";
    request.host = host;
    SplitTarget(target, &request.path, &request.query);
    request.headers = &headers_;
    return request;
  }
  std::string Target(std::string_view target) {
    RouteDecision d = table_.Route(Request(target));
    EXPECT_NE(d.route, nullptr) << target;
    return d.target;
  }
  RouteTable table_;
  TestHeaders headers_;
};

TEST_F(RouteRewriteTest, PercentGroupsComeFromAHeaderRegex) {
  RouteSpec r = MakeRoute("m", Kind::kRegex, "^/shop/(.*)$");
  r.match.headers = {Regex("user-agent", "Mobile/(\\w+)")};
  r.rewrite.path = "/m/%1/$1";
  Build({r});
  headers_.set("User-Agent", "Foo Mobile/15E148 Safari");
  EXPECT_EQ(Target("/shop/cart?x=1"), "/m/15E148/cart?x=1");
}

TEST_F(RouteRewriteTest, TheLastRegexConditionThatIsNotInvertedWins) {
  RouteSpec query_last = MakeRoute("q", Kind::kPrefix, "/");
  query_last.match.headers = {Regex("user-agent", "Mobile/(\\w+)"),
                              Regex("x-env", "^(\\w+)$", /*invert=*/true)};
  query_last.match.query = QueryCondition{"(^|&)lang=(\\w+)", false};
  query_last.rewrite.path = "/%2/%0";
  RouteSpec later_header = MakeRoute("h", Kind::kPrefix, "/h");
  later_header.match.headers = {Regex("x-a", "(\\w+)"), Regex("x-b", "(\\w+)"),
                                Regex("x-c", "(\\w+)", /*invert=*/true)};
  later_header.rewrite.path = "/%1";
  Build({later_header, query_last});
  headers_.set("User-Agent", "Mobile/ios");
  headers_.set("X-Env", "not a word");
  EXPECT_EQ(Target("/x?a=1&lang=de"), "/de/&lang=de?a=1&lang=de");
  headers_.set("X-A", "first");
  headers_.set("X-B", "second");
  EXPECT_EQ(Target("/h"), "/second");
}

TEST_F(RouteRewriteTest, PercentIsLiteralWithoutARegexCondition) {
  RouteSpec r = MakeRoute("p", Kind::kPrefix, "/");
  r.match.headers = {Exact("x-a", "1"), Regex("x-b", "(\\w+)", /*invert=*/true)};
  r.rewrite.path = "/a%20b/%1";
  Build({r});
  headers_.set("x-a", "1");
  EXPECT_EQ(Target("/"), "/a%20b/%1");
}

TEST_F(RouteRewriteTest, PercentGroupsArePercentEncoded) {
  RouteSpec r = MakeRoute("p", Kind::kPrefix, "/");
  r.match.headers = {Regex("x-user", "^(.*)$")};
  r.rewrite.path = "/u/%1";
  Build({r});
  headers_.set("x-user", "Jo Doe\"<x>#\xc3\xa9");
  EXPECT_EQ(Target("/"), "/u/Jo%20Doe%22%3Cx%3E%23%C3%A9");
}

TEST_F(RouteRewriteTest, PercentGroupWithADotSegmentIsFlagged) {
  RouteSpec r = MakeRoute("t", Kind::kPrefix, "/");
  r.match.headers = {Regex("x-tenant", "^(.*)$")};
  r.rewrite.path = "/tenants/%1/api";
  Build({r});
  headers_.set("x-tenant", "acme");
  RouteDecision ok = table_.Route(Request("/"));
  EXPECT_FALSE(ok.dot_segment_capture);
  EXPECT_EQ(ok.target, "/tenants/acme/api");
  headers_.set("x-tenant", "../admin");
  RouteDecision bad = table_.Route(Request("/"));
  ASSERT_NE(bad.route, nullptr);
  EXPECT_TRUE(bad.dot_segment_capture);  // the session answers 400 instead of forwarding it
}

TEST_F(RouteRewriteTest, ClusterTargetAlwaysStartsWithASlash) {
  RouteSpec r = MakeRoute("g", Kind::kRegex, "^/?(.*)$");
  r.rewrite.path = "$1";
  Build({r});
  EXPECT_EQ(Target("/a/b?x=1"), "/a/b?x=1");
  EXPECT_EQ(Target("/"), "/");  // "$1" is "": never an empty request target
}

TEST_F(RouteRewriteTest, RedirectLocationTakesPercentGroups) {
  RouteSpec r = MakeRoute("r", Kind::kPrefix, "/");
  r.match.query = QueryCondition{"^id=(\\d+)$", false};
  r.action = RedirectSpec{"https://example.com/items/%1", 301};
  RouteSpec own_query = MakeRoute("q", Kind::kPrefix, "/q");
  own_query.match.query = QueryCondition{"^id=(\\d+)$", false};
  own_query.action = RedirectSpec{"https://example.com/items?n=%1", 301};
  Build({own_query, r});
  // A redirect keeps the query unless its location writes one (rewrite.query is for clusters).
  EXPECT_EQ(Target("/old?id=42"), "https://example.com/items/42?id=42");
  EXPECT_EQ(Target("/q?id=42"), "https://example.com/items?n=42");
}

struct QueryRow {
  QueryMode mode;
  const char* rewrite;  // rewrite.path; "" none; "prefix:/new" a prefix rewrite
  const char* target;   // the request (the route matches prefix /old)
  const char* expected;
};

TEST_F(RouteRewriteTest, QueryModes) {
  const QueryRow rows[] = {
      {QueryMode::kKeep, "/new", "/old?a=1", "/new?a=1"},
      {QueryMode::kKeep, "/new", "/old", "/new"},
      {QueryMode::kKeep, "/new", "/old?", "/new?"},  // as before rewrite.query existed
      {QueryMode::kKeep, "/new?src=m", "/old?a=1", "/new?src=m"},
      {QueryMode::kKeep, "", "/old/x?a=1", "/old/x?a=1"},
      {QueryMode::kKeep, "prefix:/new", "/old/x?a=1", "/new/x?a=1"},
      {QueryMode::kDiscard, "/new", "/old?a=1", "/new"},
      {QueryMode::kDiscard, "/new?src=m", "/old?a=1", "/new?src=m"},
      {QueryMode::kDiscard, "", "/old/x?a=1", "/old/x"},
      {QueryMode::kDiscard, "prefix:/new", "/old/x?a=1", "/new/x"},
      {QueryMode::kAppend, "/new?src=m", "/old?a=1&b=2", "/new?src=m&a=1&b=2"},
      {QueryMode::kAppend, "/new?src=m", "/old", "/new?src=m"},
      {QueryMode::kAppend, "/new?src=m", "/old?", "/new?src=m"},
      {QueryMode::kAppend, "/new?src=m&", "/old?a=1", "/new?src=m&a=1"},
      {QueryMode::kAppend, "/new?src=m&", "/old", "/new?src=m"},
      {QueryMode::kAppend, "/new?", "/old?a=1", "/new?a=1"},
      {QueryMode::kAppend, "/new?", "/old", "/new"},
      {QueryMode::kAppend, "/new", "/old?a=1", "/new?a=1"},
      {QueryMode::kAppend, "/new", "/old?", "/new"},
      {QueryMode::kAppend, "/new", "/old", "/new"},
      {QueryMode::kAppend, "", "/old/x?a=1", "/old/x?a=1"},
      {QueryMode::kAppend, "", "/old/x?", "/old/x"},
      {QueryMode::kAppend, "prefix:/new", "/old/x?a=1", "/new/x?a=1"},
  };
  for (const QueryRow& row : rows) {
    RouteSpec r = MakeRoute("q", Kind::kPrefix, "/old");
    r.rewrite.query = row.mode;
    const std::string rewrite = row.rewrite;
    if (rewrite.starts_with("prefix:")) {
      r.rewrite.prefix = rewrite.substr(7);
    } else if (!rewrite.empty()) {
      r.rewrite.path = rewrite;
    }
    Build({r});
    EXPECT_EQ(Target(row.target), row.expected)
        << "mode " << static_cast<int>(row.mode) << ", rewrite '" << row.rewrite << "', "
        << row.target;
  }
}

TEST_F(RouteRewriteTest, ExplainListsEveryConditionAndTheFirstFailure) {
  RouteSpec hosts = MakeRoute("hosts", Kind::kPrefix, "/");
  hosts.match.hosts = {"shop.example.com", "*.shop.example.com"};
  RouteSpec desktop = MakeRoute("desktop", Kind::kPrefix, "/");
  desktop.match.headers = {Regex("user-agent", "Mobile", /*invert=*/true)};
  RouteSpec all_fail = MakeRoute("all-fail", Kind::kPrefix, "/docs/");
  all_fail.match.case_insensitive = true;
  all_fail.match.methods = {"POST"};
  all_fail.match.headers = {Exact("x-a", "1"), Present("x-b", true), Present("user-agent", false),
                            Regex(":method", "^P")};
  all_fail.match.query = QueryCondition{"debug", false};
  RouteSpec shop = MakeRoute("shop", Kind::kRegex, "^/shop/(.*)$");
  shop.match.headers = {Regex("user-agent", "(Mobile)/(\\w+)")};
  shop.match.query = QueryCondition{"debug", /*invert=*/true};
  shop.rewrite.path = "/m/%2/$1";
  Build({hosts, desktop, all_fail, shop});
  headers_.set("User-Agent", "Mobile/15E148");
  std::vector<Check> checks;
  RouteTable::Captures captures;
  RouteDecision d =
      table_.Explain(Request("/shop/cart?lang=de", "a.example:8080"), &checks, &captures);
  ASSERT_NE(d.route, nullptr);
  EXPECT_EQ(d.target, "/m/15E148/cart?lang=de");
  ASSERT_EQ(checks.size(), 4u);
  EXPECT_EQ(checks[0].reason, "host a.example is not one of shop.example.com, *.shop.example.com");
  EXPECT_EQ(checks[0].conditions,
            (std::vector<ConditionCheck>{
                {"path starts with /", true},
                {"host is one of shop.example.com, *.shop.example.com", false}}));
  EXPECT_EQ(checks[1].reason, "header user-agent matches Mobile (inverted)");
  EXPECT_EQ(checks[2].reason, "path does not start with /docs/ (any case)");
  EXPECT_EQ(checks[2].conditions,
            (std::vector<ConditionCheck>{{"path starts with /docs/ (any case)", false},
                                         {"method is one of POST", false},
                                         {"header x-a is '1'", false},
                                         {"header x-b is present", false},
                                         {"header user-agent is absent", false},
                                         {":method matches ^P", false},
                                         {"query matches debug", false}}));
  EXPECT_TRUE(checks[3].matched);
  EXPECT_EQ(checks[3].reason, "matched");
  EXPECT_EQ(checks[3].conditions,
            (std::vector<ConditionCheck>{{"path matches ^/shop/(.*)$", true},
                                         {"header user-agent matches (Mobile)/(\\w+)", true},
                                         {"query matches debug (inverted)", true}}));
  EXPECT_EQ(captures.path, (std::vector<std::string>{"/shop/cart", "cart"}));
  EXPECT_EQ(captures.condition, (std::vector<std::string>{"Mobile/15E148", "Mobile", "15E148"}));
  EXPECT_EQ(captures.condition_source, "header user-agent matches (Mobile)/(\\w+)");
}

struct ReasonRow {
  HeaderCondition condition;
  const char* value;  // x-h; nullptr: not sent
  const char* reason;
};

TEST_F(RouteRewriteTest, ExplainReasonsForHeaderConditions) {
  const ReasonRow rows[] = {
      {Exact("x-h", "1"), nullptr, "header x-h is missing"},
      {Exact("x-h", "1"), "2", "header x-h is not '1'"},
      {Exact("x-h", "1", true), "1", "header x-h is '1' (inverted)"},
      {Regex("x-h", "^a"), nullptr, "header x-h is missing"},
      {Regex("x-h", "^a"), "b", "header x-h does not match ^a"},
      {Present("x-h", true), nullptr, "header x-h is missing"},
      {Present("x-h", false), "v", "header x-h is present (must be absent)"},
      {Regex(":path", "^/a"), nullptr, ":path does not match ^/a"},
  };
  for (const ReasonRow& row : rows) {
    RouteSpec r = MakeRoute("r", Kind::kPrefix, "/");
    r.match.headers = {row.condition};
    Build({r});
    headers_.clear();
    if (row.value != nullptr) headers_.set("x-h", row.value);
    std::vector<Check> checks;
    EXPECT_EQ(table_.Explain(Request("/b"), &checks).route, nullptr) << row.reason;
    ASSERT_EQ(checks.size(), 1u);
    EXPECT_EQ(checks[0].reason, row.reason);
  }
}

TEST_F(RouteRewriteTest, ExplainWithoutARegexConditionHasNoConditionCaptures) {
  Build({MakeRoute("p", Kind::kPrefix, "/")});
  std::vector<Check> checks;
  RouteTable::Captures captures;
  ASSERT_NE(table_.Explain(Request("/a?b"), &checks, &captures).route, nullptr);
  EXPECT_EQ(captures.path, std::vector<std::string>{"/a"});
  EXPECT_TRUE(captures.condition.empty());
  EXPECT_EQ(captures.condition_source, "");
  EXPECT_EQ(checks[0].conditions, (std::vector<ConditionCheck>{{"path starts with /", true}}));
}

struct BadRoute {
  std::string name;
  RouteSpec route;
  std::string field;
  std::string message;
};

class RouteConditionErrorTest : public testing::TestWithParam<BadRoute> {};

TEST_P(RouteConditionErrorTest, ReportsFieldPath) {
  std::vector<FieldError> errors;
  RouteTable::Build({GetParam().route}, {{"app", 0}}, &errors);
  ASSERT_EQ(errors.size(), 1u) << errors[0].field << ": " << errors[0].message;
  EXPECT_EQ(errors[0].field, GetParam().field);
  EXPECT_NE(errors[0].message.find(GetParam().message), std::string::npos) << errors[0].message;
}

std::vector<BadRoute> BadRoutes() {
  std::vector<BadRoute> cases;
  RouteSpec bad_header = MakeRoute("r", Kind::kPrefix, "/");
  bad_header.match.headers = {Exact("x-a", "1"), Regex("x-b", "(a")};
  bad_header.rewrite.path = "/%1";  // not checked against a regex that failed
  cases.push_back({"BadHeaderRegex", bad_header, "routes[0].match.headers[1].regex", "missing )"});
  std::string huge = "^(";
  for (int i = 0; i < 300; ++i) huge += "a{1,50}|";
  huge += "b)$";
  RouteSpec big_query = MakeRoute("r", Kind::kPrefix, "/");
  big_query.match.query = QueryCondition{huge, false};
  cases.push_back(
      {"QueryRegexTooLarge", big_query, "routes[0].match.query.regex", "regex too large"});
  RouteSpec groups = MakeRoute("r", Kind::kPrefix, "/");
  groups.match.headers = {Regex("x-a", "(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)", /*invert=*/true)};
  cases.push_back({"TenGroupsInAnInvertedRegex", groups, "routes[0].match.headers[0].regex",
                   "at most 9 capture groups"});
  RouteSpec over = MakeRoute("r", Kind::kPrefix, "/");
  over.match.headers = {Regex("x-a", "(a)(b)")};
  over.rewrite.path = "/%3";
  cases.push_back({"PercentGroupOutOfRange", over, "routes[0].rewrite.path",
                   "%3 but the last regex condition has 2 groups (template '/%3')"});
  RouteSpec redirect = MakeRoute("r", Kind::kPrefix, "/");
  redirect.match.query = QueryCondition{"x", false};
  redirect.action = RedirectSpec{"https://x/%1", 302};
  cases.push_back({"RedirectPercentGroup", redirect, "routes[0].redirect.location",
                   "%1 but the last regex condition has 0 groups"});
  RouteSpec dangling = MakeRoute("r", Kind::kPrefix, "/");
  dangling.match.query = QueryCondition{"x", false};
  dangling.rewrite.path = "/100%";
  cases.push_back({"DanglingPercentWithARegexCondition", dangling, "routes[0].rewrite.path",
                   "'%' at the end; write %% for a literal '%'"});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(All, RouteConditionErrorTest, testing::ValuesIn(BadRoutes()),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace rwproxy
