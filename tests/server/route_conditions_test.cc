// Route conditions beyond the path: hosts, header conditions (exact, regex, present, invert,
// pseudo-headers), the query condition, case-insensitive paths, and what Explain says of each.
#include <cstdlib>
#include <new>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "server/router/route_table.h"
#include "tests/server/route_test_util.h"

// Counts this thread's allocations while `counting` is set (the matching path must make none).
namespace alloc_probe {
thread_local bool counting = false;
thread_local int count = 0;
}  // namespace alloc_probe

// GCC sees these replacements inlined next to calls of the library's new and warns.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void* operator new(std::size_t size) {
  if (alloc_probe::counting) ++alloc_probe::count;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc();
}
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop

namespace rwproxy {
namespace {

using Kind = MatchSpec::Kind;

// Builds a one-route table and answers whether a request matches it.
class RouteConditionsTest : public testing::Test {
 protected:
  void Build(const RouteSpec& route) {
    std::vector<FieldError> errors;
    table_ = RouteTable::Build({route}, {{"app", 0}}, &errors);
    for (const FieldError& e : errors) ADD_FAILURE() << e.field << ": " << e.message;
  }
  RouteDecision Lookup(std::string_view target, std::string_view method = "GET",
                       std::string_view host = "") {
    RouteRequest request;
    request.method = method;
    request.host = host;
    SplitTarget(target, &request.path, &request.query);
    request.headers = &headers_;
    return table_.Route(request);
  }
  bool Matches(std::string_view target, std::string_view method = "GET") {
    return Lookup(target, method).route != nullptr;
  }
  RouteTable table_;
  TestHeaders headers_;
};

struct HostRow {
  const char* host;  // the Host header; nullptr: none
  bool matches;
};

TEST_F(RouteConditionsTest, HostsMatchWithoutPortIgnoringCase) {
  RouteSpec r = MakeRoute("shop", Kind::kPrefix, "/");
  r.match.hosts = {"shop.example.com", "*.example.org", "[::1]"};
  Build(r);
  const HostRow rows[] = {
      {"shop.example.com", true},
      {"SHOP.Example.COM:8080", true},
      {"shop.example.com.", true},
      {"a.example.org", true},
      {"a.b.example.org:80", true},
      {"example.org", false},
      {"xexample.org", false},
      {".example.org", false},
      {"shop.example.com.evil", false},
      {"other.example.com", false},
      {"[::1]:8080", true},
      {"[::2]", false},
      {nullptr, false},
      {"", false},
  };
  for (const HostRow& row : rows) {
    headers_.clear();
    if (row.host != nullptr) headers_.set("Host", row.host);
    EXPECT_EQ(Matches("/x"), row.matches) << (row.host ? row.host : "(no Host)");
  }
}

TEST_F(RouteConditionsTest, AuthorityOfTheRequestWinsOverTheHostField) {
  RouteSpec r = MakeRoute("shop", Kind::kPrefix, "/");
  r.match.hosts = {"shop.example.com"};
  Build(r);
  headers_.set("Host", "other.example.com");
  EXPECT_NE(Lookup("/", "GET", "shop.example.com:443").route, nullptr);
  EXPECT_EQ(Lookup("/", "GET", "").route, nullptr);
}

struct HeaderRow {
  const char* name;
  HeaderCondition condition;
  const char* value;  // the request's x-h; nullptr: not sent
  bool matches;
};

TEST_F(RouteConditionsTest, HeaderConditions) {
  const HeaderRow rows[] = {
      {"ExactEqual", Exact("x-h", "1"), "1", true},
      {"ExactDiffers", Exact("x-h", "1"), "10", false},
      {"ExactIsCaseSensitive", Exact("x-h", "abc"), "ABC", false},
      {"ExactMissing", Exact("x-h", "1"), nullptr, false},
      {"ExactEmptyValue", Exact("x-h", ""), "", true},
      {"ExactInverted", Exact("x-h", "1", true), "2", true},
      {"ExactInvertedEqual", Exact("x-h", "1", true), "1", false},
      {"ExactInvertedMissing", Exact("x-h", "1", true), nullptr, true},
      {"RegexSearches", Regex("x-h", "Mobile"), "Foo Mobile/15", true},
      {"RegexAnchored", Regex("x-h", "^Mobile$"), "Foo Mobile", false},
      {"RegexMissing", Regex("x-h", ".*"), nullptr, false},
      {"RegexInverted", Regex("x-h", "Mobile", true), "Desktop", true},
      {"RegexInvertedMatching", Regex("x-h", "Mobile", true), "Mobile", false},
      {"RegexInvertedMissing", Regex("x-h", "Mobile", true), nullptr, true},
      {"PresentSent", Present("x-h", true), "", true},
      {"PresentNotSent", Present("x-h", true), nullptr, false},
      {"AbsentNotSent", Present("x-h", false), nullptr, true},
      {"AbsentSent", Present("x-h", false), "v", false},
  };
  for (const HeaderRow& row : rows) {
    RouteSpec r = MakeRoute("h", Kind::kPrefix, "/");
    r.match.headers = {row.condition};
    Build(r);
    headers_.clear();
    if (row.value != nullptr) headers_.set("X-H", row.value);
    EXPECT_EQ(Matches("/"), row.matches) << row.name;
  }
}

TEST_F(RouteConditionsTest, AllHeaderConditionsMustHold) {
  RouteSpec r = MakeRoute("h", Kind::kPrefix, "/");
  r.match.headers = {Regex("user-agent", "Mobile"), Present("x-debug", false),
                     Exact("x-env", "prod", true)};
  Build(r);
  headers_.set("User-Agent", "Mobile");
  EXPECT_TRUE(Matches("/"));
  headers_.set("X-Env", "prod");
  EXPECT_FALSE(Matches("/"));
  headers_.set("X-Env", "staging");
  headers_.set("X-Debug", "1");
  EXPECT_FALSE(Matches("/"));
}

TEST_F(RouteConditionsTest, PseudoHeadersAreTheMethodAndTheNormalizedPath) {
  RouteSpec r = MakeRoute("p", Kind::kPrefix, "/");
  r.match.headers = {Regex(":method", "^(GET|HEAD)$"), Regex(":path", "^/a/[0-9]+$")};
  Build(r);
  EXPECT_TRUE(Matches("/a/12"));
  EXPECT_TRUE(Matches("/a/12?x=1", "HEAD"));  // the query is not part of :path
  EXPECT_FALSE(Matches("/a/12", "POST"));
  EXPECT_FALSE(Matches("/a/x"));
  headers_.set(":method", "GET");  // a field cannot stand in for a pseudo-header
  EXPECT_FALSE(Matches("/a/12", "PUT"));
}

struct QueryRow {
  const char* target;
  bool matches;
  bool matches_inverted;
};

TEST_F(RouteConditionsTest, QueryRegexOnTheRawQuery) {
  const QueryRow rows[] = {
      {"/?debug=1", true, false},
      {"/?a=1&debug=1", true, false},
      {"/?debug=10", false, true},
      {"/", false, true},
      {"/?", false, true},
      {"/?DEBUG=1", false, true},
      {"/?x=%20&debug=1&y", true, false},
  };
  for (bool invert : {false, true}) {
    RouteSpec r = MakeRoute("q", Kind::kPrefix, "/");
    r.match.query = QueryCondition{"(^|&)debug=1(&|$)", invert};
    Build(r);
    for (const QueryRow& row : rows) {
      EXPECT_EQ(Matches(row.target), invert ? row.matches_inverted : row.matches)
          << row.target << (invert ? " (inverted)" : "");
    }
  }
  RouteSpec empty = MakeRoute("q", Kind::kPrefix, "/");
  empty.match.query = QueryCondition{"^$", false};
  Build(empty);
  EXPECT_TRUE(Matches("/"));
  EXPECT_TRUE(Matches("/?"));
  EXPECT_FALSE(Matches("/?a"));
}

struct CaseRow {
  Kind kind;
  const char* path;
  const char* target;
  bool matches;            // with case_insensitive
  bool matches_with_case;  // without it
};

TEST_F(RouteConditionsTest, CaseInsensitivePaths) {
  const CaseRow rows[] = {
      {Kind::kPrefix, "/Shop/", "/shop/x", true, false},
      {Kind::kPrefix, "/Shop/", "/SHOP/", true, false},
      {Kind::kPrefix, "/Shop/", "/Shop/x", true, true},
      {Kind::kPrefix, "/Shop/", "/shoe/x", false, false},
      {Kind::kPrefix, "/Shop/", "/shop", false, false},
      {Kind::kExact, "/Health", "/health", true, false},
      {Kind::kExact, "/Health", "/HEALTH", true, false},
      {Kind::kExact, "/Health", "/Health", true, true},
      {Kind::kExact, "/Health", "/healthz", false, false},
      {Kind::kRegex, "^/api/v\\d$", "/API/V1", true, false},
      {Kind::kRegex, "^/api/v\\d$", "/api/v1", true, true},
      {Kind::kRegex, "^/api/v\\d$", "/apix/v1", false, false},
  };
  for (const CaseRow& row : rows) {
    RouteSpec r = MakeRoute("c", row.kind, row.path);
    r.match.case_insensitive = true;
    Build(r);
    EXPECT_EQ(Matches(row.target), row.matches) << row.path << " vs " << row.target;
    r.match.case_insensitive = false;
    Build(r);
    EXPECT_EQ(Matches(row.target), row.matches_with_case)
        << row.path << " vs " << row.target << " (case-sensitive)";
  }
}

TEST_F(RouteConditionsTest, CaseInsensitiveKeepsTheRequestsCaseInRewrites) {
  RouteSpec prefix = MakeRoute("p", Kind::kPrefix, "/shop/");
  prefix.match.case_insensitive = true;
  prefix.rewrite.prefix = "/store/";
  Build(prefix);
  EXPECT_EQ(Lookup("/SHOP/Cart?x=1").target, "/store/Cart?x=1");
  RouteSpec regex = MakeRoute("r", Kind::kRegex, "^/api/(v\\d)/(.*)$");
  regex.match.case_insensitive = true;
  regex.rewrite.path = "/$2/$1";
  Build(regex);
  EXPECT_EQ(Lookup("/API/V2/Users").target, "/Users/V2");
}

TEST_F(RouteConditionsTest, CaseInsensitiveDoesNotApplyToHeaderOrQueryRegexes) {
  RouteSpec r = MakeRoute("r", Kind::kPrefix, "/");
  r.match.case_insensitive = true;
  r.match.headers = {Regex("x-h", "^abc$")};
  r.match.query = QueryCondition{"^q$", false};
  Build(r);
  headers_.set("x-h", "ABC");
  EXPECT_FALSE(Matches("/?q"));
  headers_.set("x-h", "abc");
  EXPECT_TRUE(Matches("/?q"));
  EXPECT_FALSE(Matches("/?Q"));
}

TEST_F(RouteConditionsTest, MatchingAllocatesNothing) {
  RouteSpec r = MakeRoute("all", Kind::kRegex, "^/shop/(.*)$");
  r.match.case_insensitive = true;
  r.match.methods = {"GET"};
  r.match.hosts = {"*.example.com"};
  r.match.headers = {Regex("user-agent", "Mobile/(\\w+)"), Exact("x-a", "1"),
                     Present("x-debug", false), Regex(":method", "^G"),
                     Exact("x-b", "1", /*invert=*/true)};
  r.match.query = QueryCondition{"(^|&)lang=(\\w+)", false};
  Build(r);
  headers_.set("Host", "www.example.com:8080");
  headers_.set("User-Agent", "Mobile/15E148");
  headers_.set("x-a", "1");
  RouteRequest request;
  request.method = "GET";
  request.headers = &headers_;
  SplitTarget("/SHOP/cart?lang=de", &request.path, &request.query);
  ASSERT_NE(table_.Route(request).route, nullptr);  // warms RE2's lazily built state
  alloc_probe::count = 0;
  alloc_probe::counting = true;
  RouteDecision d = table_.Route(request);
  alloc_probe::counting = false;
  ASSERT_NE(d.route, nullptr);
  EXPECT_EQ(d.target, "/SHOP/cart?lang=de");
  EXPECT_EQ(alloc_probe::count, 1);  // the target only (so the probe counts)
  SplitTarget("/SHOP/cart?lang=", &request.path, &request.query);  // only the query fails
  ASSERT_EQ(table_.Route(request).route, nullptr);  // RE2's DFA may add a state, once
  alloc_probe::count = 0;
  alloc_probe::counting = true;
  for (int i = 0; i < 10; ++i) d = table_.Route(request);
  alloc_probe::counting = false;
  EXPECT_EQ(d.route, nullptr);
  EXPECT_EQ(alloc_probe::count, 0);
}

}  // namespace
}  // namespace rwproxy
