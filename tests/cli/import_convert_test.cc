// `rwctl import apache`: Apache snippets -> the exact rwproxy config and report lines
// (cli/import/apache_import.h). Every produced config must pass config::Check.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/import_test_util.h"

namespace rwproxy::cli::apache {
namespace {

using ::testing::Contains;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

TEST(ApacheConvertTest, SeedCaseIsOneClusterAndOneRoute) {
  Converted c = Convert(R"(RewriteEngine On
RewriteRule ^(.*)$ http://localhost:8081$1 [P,L]
ProxyPreserveHost On
)");
  EXPECT_THAT(c.violations, IsEmpty());
  EXPECT_EQ(c.yaml, R"(clusters:
  - name: localhost_8081
    endpoints:
      - localhost:8081
routes:
  - name: rewrite-1
    match:
      path_regex: ^(.*)$
    rewrite:
      path: $1
    cluster: localhost_8081
)");
  EXPECT_THAT(VerdictLines(c),
              ElementsAre("httpd.conf:1: converted: RewriteEngine On",
                          "httpd.conf:2: converted: RewriteRule ^(.*)$ http://localhost:8081$1 "
                          "[P,L] -> route rewrite-1",
                          "httpd.conf:3: converted: ProxyPreserveHost On"));
  EXPECT_THAT(c.report,
              HasSubstr("\n3 directives: 3 converted, 0 approximated, 0 refused, 0 ignored\n"));
}

TEST(ApacheConvertTest, RulesToOneBackendShareOneCluster) {
  Converted c = Convert(R"(RewriteEngine On
RewriteRule ^/shop/(.*)$ http://localhost:8081/m/$1 [P,L]
RewriteRule ^/api/(.*)$ http://LOCALHOST:8081/v2/$1 [P,L]
ProxyPass /app/ http://localhost:8081/app/
ProxyPass /other/ http://localhost:8082/
)");
  EXPECT_THAT(c.violations, IsEmpty());
  ASSERT_EQ(c.config.clusters_size(), 2);
  EXPECT_EQ(c.config.clusters(0).name(), "localhost_8081");
  EXPECT_EQ(c.config.clusters(1).name(), "localhost_8082");
  std::vector<std::string> targets;
  for (const auto& route : c.config.routes())
    targets.push_back(route.name() + "=" + route.cluster());
  EXPECT_THAT(targets, ElementsAre("rewrite-1=localhost_8081", "rewrite-2=localhost_8081",
                                   "proxypass-1=localhost_8081", "proxypass-2=localhost_8082"));
  // ProxyPreserveHost Off (Apache's default): the Host Apache sends, as written in the URL.
  EXPECT_EQ(c.config.routes(0).rewrite().host(), "localhost:8081");
  EXPECT_EQ(c.config.routes(1).rewrite().host(), "LOCALHOST:8081");
}

// Small configs and the exact routes (clusters left out) they become.
TEST(ApacheConvertTest, ConvertsDirectivesToExactRoutes) {
  struct Case {
    const char* name;
    const char* apache;
    const char* routes;  // ToYaml of the routes only
  };
  const Case cases[] = {
      {"proxypass without trailing slash: whole segments, the rest appended",
       "ProxyPreserveHost On\nProxyPass /app http://b:81/x\n",
       R"(routes:
  - name: proxypass-1
    match:
      path_regex: ^/app(/.*)?$
    rewrite:
      path: /x$1
    cluster: b_81
)"},
      {"proxypass to a URL without a path", "ProxyPreserveHost On\nProxyPass /app http://b:81\n",
       R"(routes:
  - name: proxypass-1
    match:
      path_regex: ^/app(?:/(.*))?$
    rewrite:
      path: /$1
    cluster: b_81
)"},
      {"proxypass with slashes: a prefix rewrite; options to the cluster and route",
       "ProxyPass /a/ http://b/z/ timeout=5 connectiontimeout=500ms ttl=30 noquery\n",
       R"(routes:
  - name: proxypass-1
    match:
      path_prefix: /a/
    rewrite:
      prefix: /z/
      host: b
      query: discard
    cluster: b_80
    timeout: 5s
)"},
      {"proxypassmatch without $N appends the whole path",
       "ProxyPreserveHost On\nProxyPassMatch \\.gif$ http://b:81/img\n",
       R"(routes:
  - name: proxypassmatch-1
    match:
      path_regex: ^(?s:.*?)(?:\.gif$)(?s:.*)$
    rewrite:
      path: /img$0
    cluster: b_81
)"},
      {"proxypassmatch with $N right after the host",
       "ProxyPreserveHost On\nProxyPassMatch ^(/.*\\.php)$ http://b:81$1\n",
       R"(routes:
  - name: proxypassmatch-1
    match:
      path_regex: ^(/.*\.php)$
    rewrite:
      path: $1
    cluster: b_81
)"},
      {"redirects: prefix on segments, regex, gone; '$' in a target is literal",
       "Redirect permanent /old http://x.example/new$\nRedirectMatch 307 ^/i/(.*)$ "
       "http://img.example/$1\nRedirect gone /g\n",
       R"(routes:
  - name: redirect-1
    match:
      path_regex: ^/old(/.*)?$
    redirect:
      location: http://x.example/new$$$1
      status: 301
  - name: redirectmatch-1
    match:
      path_regex: ^/i/(.*)$
    redirect:
      location: http://img.example/$1
      status: 307
  - name: redirect-2
    match:
      path_regex: ^/g(/.*)?$
    respond:
      status: 410
)"},
      {"a local redirect target gets the request's Host, as in Apache",
       "RewriteEngine On\nRewriteRule ^/r/(.*)$ /t/$1?a=100% [R=301,L]\n",
       R"(routes:
  - name: rewrite-1
    match:
      path_regex: ^/r/(.*)$
      headers:
        - name: host
          regex: ^(.+)$
    redirect:
      location: http://%1/t/$1?a=100%%
      status: 301
)"},
      {"F, G, NC and a literal '%' without conditions",
       "RewriteEngine On\nRewriteRule ^/f - [F]\nRewriteRule ^/G - [G,NC]\n"
       "RewriteRule ^/p/(.*)$ http://b/\\%7E$1 [P,QSA]\n",
       R"(routes:
  - name: rewrite-1
    match:
      path_regex: ^/f
    respond:
      status: 403
  - name: rewrite-2
    match:
      path_regex: ^/G
      case_insensitive: true
    respond:
      status: 410
  - name: rewrite-3
    match:
      path_regex: ^/p/(.*)$
    rewrite:
      path: /%7E$1
      host: b
    cluster: b_80
)"},
      {"query: QSA with a target query appends, a trailing '?' discards",
       "ProxyPreserveHost On\nRewriteEngine On\nRewriteRule ^/a/(.*)$ http://b/$1?x=1 [P,QSA]\n"
       "RewriteRule ^/d/(.*)$ http://b/$1? [P]\n",
       R"(routes:
  - name: rewrite-1
    match:
      path_regex: ^/a/(.*)$
    rewrite:
      path: /$1?x=1
      query: append
    cluster: b_80
  - name: rewrite-2
    match:
      path_regex: ^/d/(.*)$
    rewrite:
      path: /$1
      query: discard
    cluster: b_80
)"},
      {"conditions: %N from the query, a header regex, NC",
       "ProxyPreserveHost On\nRewriteEngine On\nRewriteCond %{HTTP:X-Tenant} ^t[0-9]+$ [NC]\n"
       "RewriteCond %{QUERY_STRING} ^id=([0-9]+)$\nRewriteRule ^/item$ http://b/items/%1 [P]\n",
       R"(routes:
  - name: rewrite-1
    match:
      path_regex: ^/item$
      headers:
        - name: x-tenant
          regex: (?i)^t[0-9]+$
      query:
        regex: ^id=([0-9]+)$
    rewrite:
      path: /items/%1
    cluster: b_80
)"},
      {"a negated pattern that matches \"\": the header must be present",
       "RewriteEngine On\nRewriteCond %{HTTP_REFERER} !^$\nRewriteRule ^/x - [F]\n",
       R"(routes:
  - name: rewrite-1
    match:
      path_regex: ^/x
      headers:
        - name: referer
          present: true
        - name: referer
          regex: ^$
          invert: true
    respond:
      status: 403
)"},
      {"a pattern that matches \"\" also holds for a missing header: two routes",
       "RewriteEngine On\nRewriteCond %{HTTP:X-A} ^(|x)$\nRewriteRule ^/x - [F]\n",
       R"(routes:
  - name: rewrite-1-1
    match:
      path_regex: ^/x
      headers:
        - name: x-a
          regex: ^(|x)$
    respond:
      status: 403
  - name: rewrite-1-2
    match:
      path_regex: ^/x
      headers:
        - name: x-a
          present: false
    respond:
      status: 403
)"},
      {"literal conditions: exact Host, methods",
       "RewriteEngine On\nRewriteCond %{HTTP_HOST} ^a\\.example$\nRewriteCond %{REQUEST_METHOD} "
       "^POST$\nRewriteRule ^/w - [F]\n",
       R"(routes:
  - name: rewrite-1
    match:
      path_regex: ^/w
      methods:
        - POST
      headers:
        - name: host
          exact: a.example
    respond:
      status: 403
)"},
      {"PATTERN - [L]: later rules skip it",
       "RewriteEngine On\nRewriteRule ^/static/ - [L]\nRewriteRule ^/ - [F]\n",
       R"(routes:
  - name: rewrite-2
    match:
      path_regex: ^/
      headers:
        - name: :path
          regex: ^/static/
          invert: true
    respond:
      status: 403
)"},
      {"ProxyPass ! excludes from the later ProxyPass routes",
       "ProxyPreserveHost On\nProxyPass /s !\nProxyPass / http://b/\n",
       R"(routes:
  - name: proxypass-2
    match:
      path_prefix: /
      headers:
        - name: :path
          regex: ^/s(?:/|$)
          invert: true
    cluster: b_80
)"},
      {"a denied <Location>: a 403 before each overlapping proxied route, and on its own",
       "ProxyPreserveHost On\nProxyPass /app/ http://b/\nProxyPass /z/ http://b/\n"
       "<Location /app/private>\n  Require all denied\n</Location>\n",
       R"(routes:
  - name: proxypass-1-denied
    match:
      path_prefix: /app/
      headers:
        - name: :path
          regex: ^/app/private(?:/|$)
    respond:
      status: 403
  - name: proxypass-1
    match:
      path_prefix: /app/
    rewrite:
      prefix: /
    cluster: b_80
  - name: proxypass-2
    match:
      path_prefix: /z/
    rewrite:
      prefix: /
    cluster: b_80
  - name: location-1-denied
    match:
      path_regex: ^/app/private(?:/|$)
    respond:
      status: 403
)"},
      {"a later granted <Location> undoes an earlier denial",
       "<Location /a/>\nRequire all denied\n</Location>\n<Location /a/pub>\nRequire all granted\n"
       "</Location>\nRedirect /a/ http://x/\n",
       R"(routes:
  - name: redirect-1
    match:
      path_regex: ^/a/(.*)$
    redirect:
      location: http://x/$1
      status: 302
  - name: location-1-denied
    match:
      path_prefix: /a/
      headers:
        - name: :path
          regex: ^/a/pub(?:/|$)
          invert: true
    respond:
      status: 403
)"},
      {"ProxyPass in <Location>: before the server-level ones, the last section first",
       "ProxyPreserveHost On\nProxyPass / http://b/\n<Location /x>\nProxyPass http://c/x\n"
       "</Location>\n<Location /x/y>\nProxyPass http://d/y\n</Location>\n",
       R"(routes:
  - name: location-2-proxypass
    match:
      path_regex: ^/x/y(/.*)?$
    rewrite:
      path: /y$1
    cluster: d_80
  - name: location-1-proxypass
    match:
      path_regex: ^/x(/.*)?$
    rewrite:
      path: /x$1
    cluster: c_80
  - name: proxypass-1
    match:
      path_prefix: /
    cluster: b_80
)"},
      {"header edits folded in Apache's order into remove, set, add",
       "ProxyPreserveHost On\nProxyPass / http://b/\nRequestHeader set X-A 1\nRequestHeader unset "
       "X-A\nRequestHeader add X-B 2\nRequestHeader set X-C 3\nRequestHeader add X-C 4\n"
       "Header set X-P \"50%% off\"\n",
       R"(routes:
  - name: proxypass-1
    match:
      path_prefix: /
    cluster: b_80
    request_headers:
      set:
        x-c: "3"
      add:
        x-b: "2"
        x-c: "4"
      remove:
        - x-a
    response_headers:
      set:
        x-p: 50% off
)"},
      {"a balancer: one cluster of its members, lbmethod, each member's own Host",
       "<Proxy balancer://app>\nBalancerMember http://h1:81\nBalancerMember http://h1:82\n"
       "ProxySet lbmethod=bybusyness\n</Proxy>\nProxyPass /a/ balancer://app/\n"
       "ProxyPassReverse /a/ balancer://app/\n",
       R"(routes:
  - name: proxypass-1
    match:
      path_prefix: /a/
    rewrite:
      prefix: /
      host_from_endpoint: true
    cluster: app
    response_headers:
      rewrite_location:
        - from: http://h1:81/
          to: /a/
        - from: http://h1:82/
          to: /a/
)"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    Converted converted = Convert(c.apache);
    EXPECT_THAT(converted.violations, IsEmpty());
    config::v1::Config routes_only = converted.config;
    routes_only.clear_clusters();
    EXPECT_EQ(yaml::ToYaml(routes_only), c.routes) << converted.report;
  }
}

}  // namespace
}  // namespace rwproxy::cli::apache
