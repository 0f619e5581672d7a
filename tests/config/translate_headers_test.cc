// config::Translate on request_headers / response_headers: one row per rule with its exact field
// path and message, and the spec a good config gives (names lowercased, maps sorted).
#include <string>
#include <utility>
#include <vector>

#include "tests/config/translate_resilience_util.h"

namespace rwproxy::config {
namespace {

struct ErrorRow {
  const char* name;
  std::string yaml;
  const char* field;
  const char* message;  // substring
};

// A cluster route with `ops` added, e.g. "request_headers: {remove: [te]}".
ErrorRow Ops(const char* name, const std::string& ops, const char* field, const char* message) {
  return {name,
          std::string(kClusters) +
              "routes:\n  - {name: r, match: {path_prefix: /}, cluster: app, " + ops + "}\n",
          field, message};
}

// A route with `action` (redirect or respond) and `ops`.
ErrorRow Local(const char* name, const std::string& action, const std::string& ops,
               const char* field, const char* message) {
  return {name,
          std::string(kClusters) + "routes:\n  - {name: r, match: {path_prefix: /}, " + action +
              ", " + ops + "}\n",
          field, message};
}

class TranslateHeadersErrorTest : public testing::TestWithParam<ErrorRow> {};

TEST_P(TranslateHeadersErrorTest, ReportsFieldAndMessage) {
  const ErrorRow& row = GetParam();
  std::vector<FieldError> errors;
  Translate(Parse(row.yaml), &errors);
  ASSERT_EQ(errors.size(), 1u) << Describe(errors);
  EXPECT_EQ(errors[0].field, row.field);
  EXPECT_NE(errors[0].message.find(row.message), std::string::npos) << errors[0].message;
}

INSTANTIATE_TEST_SUITE_P(
    Rows, TranslateHeadersErrorTest,
    testing::Values(
        // Names.
        Ops("RejectsNameWithSpace", "request_headers: {set: {'x a': v}}",
            "routes[0].request_headers.set.x a", "invalid header name 'x a'"),
        Ops("RejectsPseudoHeaderName", "request_headers: {remove: [':path']}",
            "routes[0].request_headers.remove[0]", "invalid header name ':path'"),
        Ops("RejectsEmptyName", "response_headers: {add: {'': v}}",
            "routes[0].response_headers.add.", "invalid header name ''"),
        // Bounds.
        Ops("RejectsTooManyEdits",
            "request_headers: {remove: [" + [] {
              std::string names;
              for (int i = 0; i < 33; ++i) names += (i ? ", x-" : "x-") + std::to_string(i);
              return names;
            }() + "]}",
            "routes[0].request_headers", "at most 32 header edits (set, add and remove together), got 33"),
        Ops("RejectsLongValue",
            "response_headers: {set: {x-a: " + std::string(8193, 'v') + "}}",
            "routes[0].response_headers.set.x-a", "value of 8193 bytes, limit 8192"),
        Ops("RejectsTooManyLocationRewrites",
            "response_headers: {rewrite_location: [" + [] {
              std::string list;
              for (int i = 0; i < 17; ++i) {
                list += (i ? ", " : "") + std::string("{from: /a") + std::to_string(i) + ", to: /}";
              }
              return list;
            }() + "]}",
            "routes[0].response_headers.rewrite_location", "at most 16 entries, got 17"),
        // Values.
        Ops("RejectsValueWithCrLf", "request_headers: {set: {x-a: \"a\\r\\nX-B: b\"}}",
            "routes[0].request_headers.set.x-a", "must not contain CR, LF, NUL"),
        Ops("RejectsValueWithNul", "response_headers: {add: {x-a: \"a\\0b\"}}",
            "routes[0].response_headers.add.x-a", "must not contain CR, LF, NUL"),
        Ops("RejectsValueWithControl", "response_headers: {set: {x-a: \"a\\x01b\"}}",
            "routes[0].response_headers.set.x-a", "other control characters"),
        // Names the proxy owns, requests.
        Ops("RejectsHostOnRequest", "request_headers: {set: {Host: a.example}}",
            "routes[0].request_headers.set.Host", "use rewrite.host"),
        Ops("RejectsContentLengthOnRequest", "request_headers: {add: {Content-Length: '5'}}",
            "routes[0].request_headers.add.Content-Length", "'content-length' frames the message"),
        Ops("RejectsTransferEncodingOnRequest", "request_headers: {remove: [Transfer-Encoding]}",
            "routes[0].request_headers.remove[0]", "'transfer-encoding' frames the message"),
        Ops("RejectsConnectionOnRequest", "request_headers: {set: {connection: close}}",
            "routes[0].request_headers.set.connection", "the proxy sets it"),
        Ops("RejectsKeepAliveOnRequest", "request_headers: {remove: [keep-alive]}",
            "routes[0].request_headers.remove[0]", "'keep-alive'"),
        Ops("RejectsTeOnRequest", "request_headers: {remove: [TE]}",
            "routes[0].request_headers.remove[0]", "'te' frames the message"),
        Ops("RejectsUpgradeOnRequest", "request_headers: {add: {upgrade: h2c}}",
            "routes[0].request_headers.add.upgrade", "'upgrade'"),
        Ops("RejectsProxyConnectionOnRequest", "request_headers: {remove: [proxy-connection]}",
            "routes[0].request_headers.remove[0]", "'proxy-connection'"),
        Ops("RejectsTrailerOnRequest", "request_headers: {set: {Trailer: x}}",
            "routes[0].request_headers.set.Trailer", "'trailer'"),
        // Names the proxy owns, responses.
        Ops("RejectsContentLengthOnResponse", "response_headers: {set: {content-length: '0'}}",
            "routes[0].response_headers.set.content-length", "'content-length' frames"),
        Ops("RejectsTransferEncodingOnResponse", "response_headers: {remove: [transfer-encoding]}",
            "routes[0].response_headers.remove[0]", "'transfer-encoding'"),
        Ops("RejectsConnectionOnResponse", "response_headers: {add: {Connection: close}}",
            "routes[0].response_headers.add.Connection", "'connection'"),
        Ops("RejectsKeepAliveOnResponse", "response_headers: {set: {keep-alive: timeout=5}}",
            "routes[0].response_headers.set.keep-alive", "'keep-alive'"),
        Ops("RejectsTrailerOnResponse", "response_headers: {remove: [trailer]}",
            "routes[0].response_headers.remove[0]", "'trailer'"),
        Ops("RejectsUpgradeOnResponse", "response_headers: {remove: [upgrade]}",
            "routes[0].response_headers.remove[0]", "'upgrade'"),
        Ops("RejectsProxyConnectionOnResponse", "response_headers: {add: {proxy-connection: x}}",
            "routes[0].response_headers.add.proxy-connection", "'proxy-connection'"),
        // Conflicts and duplicates.
        Ops("RejectsSameNameInSetAndRemove", "request_headers: {set: {x-a: '1'}, remove: [X-A]}",
            "routes[0].request_headers.remove[0]", "'x-a' is in both set and remove"),
        Ops("RejectsSameNameInSetAndRemoveOnResponse",
            "response_headers: {set: {Server: rw}, remove: [b, server]}",
            "routes[0].response_headers.remove[1]", "'server' is in both set and remove"),
        Ops("RejectsDuplicateRemove", "request_headers: {remove: [x-a, X-A]}",
            "routes[0].request_headers.remove[1]", "duplicate header 'x-a'"),
        Ops("RejectsDuplicateSetInOtherCase", "request_headers: {set: {X-A: '1', x-a: '2'}}",
            "routes[0].request_headers.set.x-a", "duplicate header 'x-a'"),
        Ops("RejectsDuplicateAddInOtherCase", "response_headers: {add: {X-A: '1', x-a: '2'}}",
            "routes[0].response_headers.add.x-a", "duplicate header 'x-a'"),
        // Local routes.
        Local("RejectsRequestHeadersOnRedirect", "redirect: {location: /x}",
              "request_headers: {set: {x-a: '1'}}", "routes[0].request_headers",
              "request_headers are only allowed on cluster and backends routes"),
        Local("RejectsResponseHeadersOnRespond", "respond: {status: 200, body: ok}",
              "response_headers: {remove: [server]}", "routes[0].response_headers",
              "response_headers are only allowed on cluster and backends routes"),
        Local("RejectsEmptyResponseHeadersOnRedirect", "redirect: {location: /x}",
              "response_headers: {}", "routes[0].response_headers", "only allowed on cluster"),
        // rewrite_location.
        Ops("RejectsRewriteLocationWithoutFrom", "response_headers: {rewrite_location: [{to: /}]}",
            "routes[0].response_headers.rewrite_location[0].from", "from is required"),
        Ops("RejectsRewriteLocationFromWithSpace",
            "response_headers: {rewrite_location: [{from: 'http://a b/', to: /}]}",
            "routes[0].response_headers.rewrite_location[0].from",
            "must not contain spaces or control characters"),
        Ops("RejectsRewriteLocationToWithCrLf",
            "response_headers: {rewrite_location: [{from: 'http://a/', to: \"/\\r\\nX: y\"}]}",
            "routes[0].response_headers.rewrite_location[0].to",
            "must not contain spaces or control characters"),
        Ops("RejectsDuplicateRewriteLocationFrom",
            "response_headers: {rewrite_location: [{from: 'http://a/', to: /}, "
            "{from: 'http://a/', to: /b/}]}",
            "routes[0].response_headers.rewrite_location[1].from",
            "duplicate from 'http://a/' (the first entry applies)")),
    [](const testing::TestParamInfo<ErrorRow>& info) { return std::string(info.param.name); });

using Fields = std::vector<std::pair<std::string, std::string>>;

TEST(TranslateHeadersTest, LowercasesSortsAndKeepsRemoveOrder) {
  std::vector<FieldError> errors;
  ConfigSpec spec = Translate(Parse(std::string(kClusters) + R"yaml(routes:
  - name: r
    match: {path_prefix: /}
    backends: [{cluster: app, weight: 1}, {cluster: canary, weight: 1}]
    request_headers:
      set: {X-Forwarded-Proto: https, X-Env: "prod\tblue", A-First: ""}
      add: {Via: 1.1 rwproxy}
      remove: [X-Secret, cookie]
    response_headers:
      set: {Server: rw}
      add: {X-Frame-Options: DENY}
      remove: [TE, X-Powered-By]
      rewrite_location:
        - {from: "http://backend.internal:8081/", to: /}
        - {from: "http://other/", to: ""}
  - {name: plain, match: {path_prefix: /}, cluster: app}
)yaml"),
                              &errors);
  ASSERT_TRUE(errors.empty()) << Describe(errors);
  ASSERT_EQ(spec.routes.size(), 2u);
  const RouteSpec& route = spec.routes[0];
  EXPECT_EQ(route.request_headers.set,
            (Fields{{"a-first", ""}, {"x-env", "prod\tblue"}, {"x-forwarded-proto", "https"}}));
  EXPECT_EQ(route.request_headers.add, (Fields{{"via", "1.1 rwproxy"}}));
  EXPECT_EQ(route.request_headers.remove, (std::vector<std::string>{"x-secret", "cookie"}));
  EXPECT_EQ(route.response_headers.set, (Fields{{"server", "rw"}}));
  EXPECT_EQ(route.response_headers.add, (Fields{{"x-frame-options", "DENY"}}));
  // TE is refused on requests only: a response may carry it (it is hop-by-hop there anyway).
  EXPECT_EQ(route.response_headers.remove, (std::vector<std::string>{"te", "x-powered-by"}));
  ASSERT_EQ(route.response_headers.rewrite_location.size(), 2u);
  EXPECT_EQ(route.response_headers.rewrite_location[0].from, "http://backend.internal:8081/");
  EXPECT_EQ(route.response_headers.rewrite_location[0].to, "/");
  EXPECT_EQ(route.response_headers.rewrite_location[1].from, "http://other/");
  EXPECT_EQ(route.response_headers.rewrite_location[1].to, "");
  EXPECT_TRUE(spec.routes[1].request_headers.empty());
  EXPECT_TRUE(spec.routes[1].response_headers.empty());
}

// Every problem of a route is reported, not only the first.
TEST(TranslateHeadersTest, ReportsEveryError) {
  std::vector<FieldError> errors;
  Translate(Parse(std::string(kClusters) + R"yaml(routes:
  - name: r
    match: {path_prefix: /}
    cluster: app
    request_headers: {set: {host: a, x-a: "1"}, remove: [x-a, te]}
    response_headers: {rewrite_location: [{from: "", to: "a b"}]}
)yaml"),
            &errors);
  EXPECT_EQ(Describe(errors),
            "routes[0].request_headers.set.host: the Host header is set by the proxy; use "
            "rewrite.host\n"
            "routes[0].request_headers.remove[0]: 'x-a' is in both set and remove (set already "
            "replaces every field of that name)\n"
            "routes[0].request_headers.remove[1]: 'te' frames the message or manages the "
            "connection; the proxy sets it\n"
            "routes[0].response_headers.rewrite_location[0].from: from is required\n"
            "routes[0].response_headers.rewrite_location[0].to: must not contain spaces or "
            "control characters\n");
}

}  // namespace
}  // namespace rwproxy::config
