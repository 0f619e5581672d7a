#include "tests/integration/apache_cases.h"

#include <string>

#include "absl/strings/str_cat.h"

namespace rwtest {
namespace {

CaseRequest Req(std::string method, std::string target, std::string host, Headers more = {},
                std::string body = "") {
  Headers headers = {{"Host", std::move(host)}};
  headers.insert(headers.end(), more.begin(), more.end());
  return {std::move(method), std::move(target), std::move(headers), std::move(body)};
}
CaseRequest Get(std::string target, std::string host = "example.com", Headers more = {}) {
  return Req("GET", std::move(target), std::move(host), std::move(more));
}

// (a) The seed: everything to one upstream with [P], the client's Host kept.
ImportCase Seed() {
  ImportCase c;
  c.name = "a-seed-rewrite-P";
  c.config = kSeedConfig;
  c.requests = {Get("/a?x=1"), Get("/deep/path/", "shop.example"),
                Req("POST", "/submit?id=7", "example.com", {}, "hello"),
                Get("/%7Euser/a%20b?q=%2F"), Get("/")};
  c.facts = {{0, "upstream", "up1"},     {0, "path", "/a"},    {0, "query", "x=1"},
             {0, "host", "example.com"}, {0, "status", "200"}, {1, "host", "shop.example"},
             {2, "method", "POST"},      {2, "query", "id=7"}};
  return c;
}

// (b) Name-based virtual hosts: ServerName, ServerAlias (one a wildcard), the first vhost is the
// default for an unknown Host; only the second keeps the client's Host.
ImportCase VirtualHosts() {
  ImportCase c;
  c.name = "b-virtual-hosts";
  c.config = R"(<VirtualHost *:@PORT@>
  ServerName www.example.com
  ServerAlias example.com
  ProxyPass /shop/ http://@UPSTREAM@/store/
  ProxyPass / http://@UPSTREAM@/
</VirtualHost>
<VirtualHost *:@PORT@>
  ServerName api.example.org
  ServerAlias *.api.example.org
  ProxyPreserveHost On
  ProxyPass /v1/ http://@UPSTREAM2@/
</VirtualHost>
)";
  c.requests = {Get("/shop/a?x=1", "www.example.com"), Get("/c", "example.com"),
                Get("/v1/b", "api.example.org"),       Get("/v1/b", "eu.api.example.org"),
                Get("/v1/c", "API.Example.ORG"),       Get("/shop/z", "unknown.test"),
                Get("/v1/q", "unknown.test"),          Get("/c", "api.example.org"),
                Get("/v1/p", "api.example.org:8080"),  Get("/shop/y", "api.example.org")};
  c.facts = {{0, "upstream", "up1"},  {0, "path", "/store/a"}, {0, "host", "@UPSTREAM@"},
             {2, "upstream", "up2"},  {2, "path", "/b"},       {2, "host", "api.example.org"},
             {5, "path", "/store/z"}, {7, "status", "404"},    {7, "upstream", "(none)"}};
  return c;
}

// (c) RewriteCond: a header with [NC], the query with %2 in the substitution, a negated
// condition, an [OR] pair, the method.
ImportCase Conditions() {
  ImportCase c;
  c.name = "c-rewrite-conditions";
  c.config = R"(RewriteEngine On
RewriteCond %{HTTP_USER_AGENT} mobile [NC]
RewriteRule ^/(.*)$ http://@UPSTREAM@/m/$1 [P,L]
RewriteCond %{QUERY_STRING} ^(id|key)=([0-9]+)$
RewriteRule ^/item$ http://@UPSTREAM@/items/%2 [P,L]
RewriteCond %{HTTP:X-Debug} !^on$
RewriteRule ^/dbg/(.*)$ http://@UPSTREAM@/quiet/$1 [P,L]
RewriteCond %{HTTP_HOST} ^a\.example$ [OR]
RewriteCond %{HTTP:X-Tenant} ^(a|b)$
RewriteRule ^/t/(.*)$ http://@UPSTREAM@/tenant/$1 [P,L]
RewriteCond %{REQUEST_METHOD} ^(POST|PUT)$
RewriteRule ^/w/(.*)$ http://@UPSTREAM@/write/$1 [P,L]
RewriteRule ^/(.*)$ http://@UPSTREAM@/other/$1 [P,L]
)";
  const Headers ua = {{"User-Agent", "desktop"}};
  c.requests = {Get("/x", "h", {{"User-Agent", "Foo MOBILE bar"}}),
                Get("/x", "h", ua),
                Get("/item?id=42", "h", ua),
                Get("/item?key=7", "h", ua),
                Get("/item?id=x", "h", ua),
                Get("/dbg/a", "h", ua),
                Get("/dbg/a", "h", {{"User-Agent", "desktop"}, {"X-Debug", "on"}}),
                Get("/t/1", "a.example", ua),
                Get("/t/1", "h", {{"User-Agent", "desktop"}, {"X-Tenant", "b"}}),
                Get("/t/1", "h", {{"User-Agent", "desktop"}, {"X-Tenant", "c"}}),
                Req("POST", "/w/1", "h", ua, "data"),
                Get("/w/1", "h", ua)};
  c.facts = {{0, "path", "/m/x"},         {1, "path", "/other/x"},    {2, "path", "/items/42"},
             {2, "query", "id=42"},       {4, "path", "/other/item"}, {5, "path", "/quiet/a"},
             {6, "path", "/other/dbg/a"}, {7, "path", "/tenant/1"},   {9, "path", "/other/t/1"},
             {10, "path", "/write/1"},    {11, "path", "/other/w/1"}, {0, "host", "@UPSTREAM@"}};
  return c;
}

// (d) Query handling: QSA, QSD, a substitution with its own query, and none.
ImportCase Queries() {
  ImportCase c;
  c.name = "d-query-qsa-qsd";
  c.config = R"(RewriteEngine On
RewriteRule ^/qsa/(.*)$ http://@UPSTREAM@/$1?added=1 [P,QSA,L]
RewriteRule ^/qsd/(.*)$ http://@UPSTREAM@/$1 [P,QSD,L]
RewriteRule ^/own/(.*)$ http://@UPSTREAM@/$1?own=1 [P,L]
RewriteRule ^/plain/(.*)$ http://@UPSTREAM@/$1 [P,L]
RewriteRule ^/qsaonly/(.*)$ http://@UPSTREAM@/$1 [P,QSA,L]
)";
  c.requests = {Get("/qsa/a?x=1&y=2"),  Get("/qsa/b"),         Get("/qsd/c?x=1"),
                Get("/qsd/d"),          Get("/own/e?x=1"),     Get("/own/f"),
                Get("/plain/g?x=%20y"), Get("/qsaonly/h?x=1"), Get("/qsaonly/i")};
  c.facts = {{0, "path", "/a"},      {0, "query", "added=1&x=1&y=2"}, {1, "query", "added=1"},
             {2, "query", "(none)"}, {4, "query", "own=1"},           {6, "query", "x=%20y"},
             {7, "query", "x=1"},    {8, "query", "(none)"}};
  return c;
}

// (e) A balancer of two members, round robin by requests; the backend's Host. Who gets which
// request may differ, so the upstream side is compared as a multiset.
ImportCase Balancer() {
  ImportCase c;
  c.name = "e-balancer";
  c.config = R"(<Proxy "balancer://app">
  BalancerMember http://@UPSTREAM@
  BalancerMember http://@UPSTREAM2@
  ProxySet lbmethod=byrequests
</Proxy>
ProxyPreserveHost Off
ProxyPass /app/ balancer://app/
)";
  c.requests = {Get("/app/a"), Get("/app/a"), Get("/app/b?q=1"), Get("/app/b?q=1"), Get("/other")};
  c.unordered_upstream = true;
  c.facts = {{0, "path", "/a"},
             {2, "query", "q=1"},
             {0, "status", "200"},
             {4, "status", "404"},
             {4, "upstream", "(none)"}};
  return c;
}

// (f) ProxyPassReverse: the upstream answers with Location and Content-Location naming itself.
ImportCase Reverse() {
  ImportCase c;
  c.name = "f-proxy-pass-reverse";
  c.config = R"(ProxyPass /front/ http://@UPSTREAM@/app/
ProxyPassReverse /front/ http://@UPSTREAM@/app/
)";
  c.requests = {Get("/front/a"), Get("/front/b?x=1", "shop.example"), Get("/front/other")};
  c.response_headers = {"Content-Location"};
  c.reply = [](const std::string& request, const std::string& address) {
    const size_t start = request.find(' ') + 1;
    std::string path = request.substr(start, request.find(' ', start) - start);
    path = path.substr(0, path.find('?'));
    const std::string location = path == "/app/other"
                                     ? "http://elsewhere.example/x"
                                     : absl::StrCat("http://", address, path, "/next");
    return absl::StrCat("HTTP/1.1 302 Found\r\nLocation: ", location,
                        "\r\nContent-Location: http://", address, path,
                        ".json\r\nContent-Length: 0\r\n\r\n");
  };
  c.facts = {{0, "path", "/app/a"},
             {0, "status", "302"},
             {0, "location", "http://example.com/front/a/next"},
             {0, "< Content-Location", "http://example.com/front/a.json"},
             {2, "location", "http://elsewhere.example/x"}};
  return c;
}

// (g) Local answers: Redirect, RedirectMatch, RedirectPermanent, [R=301], [F], [G], and a denied
// <Location> inside a proxied prefix (Apache's error bodies differ: statuses only).
ImportCase LocalReplies() {
  ImportCase c;
  c.name = "g-redirects-and-denials";
  c.config = R"(RewriteEngine On
RewriteRule ^/r301/(.*)$ /target/$1 [R=301,L]
RewriteRule ^/forbidden - [F]
RewriteRule ^/gone - [G]
Redirect /old http://example.com/new
RedirectMatch ^/images/(.*)$ http://img.example.com/$1
RedirectPermanent /perm http://example.com/p
ProxyPass /app/ http://@UPSTREAM@/
<Location /app/private>
  Require all denied
</Location>
)";
  c.requests = {
      Get("/r301/x?q=1"),    Get("/forbidden"),  Get("/forbidden/x"), Get("/gone"),
      Get("/old"),           Get("/old/x?q=1"),  Get("/older"),       Get("/images/a.png?z=1"),
      Get("/perm/y"),        Get("/app/ok?a=b"), Get("/app/private"), Get("/app/private/z"),
      Get("/app/privateer"), Get("/nothing")};
  c.facts = {{0, "status", "301"},
             {0, "location", "http://example.com/target/x?q=1"},
             {1, "status", "403"},
             {3, "status", "410"},
             {5, "location", "http://example.com/new/x?q=1"},
             {6, "status", "404"},
             {8, "status", "301"},
             {9, "path", "/ok"},
             {10, "status", "403"},
             {10, "upstream", "(none)"},
             {12, "path", "/privateer"},
             {13, "status", "404"}};
  return c;
}

// (h) RequestHeader and Header set / unset / add.
ImportCase HeaderOps() {
  ImportCase c;
  c.name = "h-header-ops";
  c.config = R"(ProxyPass / http://@UPSTREAM@/
RequestHeader set X-Env prod
RequestHeader unset X-Remove
RequestHeader add X-Multi two
Header set X-Frame-Options DENY
Header unset X-Powered-By
Header add X-Added one
)";
  c.requests = {Get("/a", "example.com", {{"X-Env", "dev"}, {"X-Remove", "1"}, {"X-Multi", "one"}}),
                Get("/b")};
  c.request_headers = {"X-Env", "X-Remove", "X-Multi"};
  c.response_headers = {"X-Frame-Options", "X-Powered-By", "X-Added"};
  c.reply = [](const std::string&, const std::string&) {
    return std::string(
        "HTTP/1.1 200 OK\r\nX-Powered-By: up\r\nX-Added: upstream\r\n"
        "X-Frame-Options: SAMEORIGIN\r\nContent-Length: 2\r\n\r\nok");
  };
  c.facts = {{0, "> X-Env", "prod"},
             {0, "> X-Remove", "(absent)"},
             {1, "> X-Multi", "two"},
             {0, "< X-Frame-Options", "DENY"},
             {0, "< X-Powered-By", "(absent)"},
             {0, "< X-Added", "upstream, one"}};
  return c;
}

}  // namespace

std::vector<ImportCase> ApacheImportCases() {
  return {Seed(),     VirtualHosts(), Conditions(),   Queries(),
          Balancer(), Reverse(),      LocalReplies(), HeaderOps()};
}

}  // namespace rwtest
