// `rwctl import apache`: verdicts (refusals named, approximations explained), virtual hosts and
// the default vhost, [OR] expansion and its bound, %N consistency, and the report's format.
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/import_test_util.h"

namespace rwproxy::cli::apache {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

// "</Name>" lines for the sections `text` opens, innermost first.
std::string Closers(const std::string& text) {
  std::vector<std::string> open;
  for (absl::string_view line : absl::StrSplit(text, '\n')) {
    if (absl::StartsWith(line, "<") && !absl::StartsWith(line, "</")) {
      open.emplace_back(line.substr(1, line.find_first_of(" >") - 1));
    }
  }
  std::string out;
  for (auto it = open.rbegin(); it != open.rend(); ++it) absl::StrAppend(&out, "</", *it, ">\n");
  return out;
}

// One directive (after any lines it needs) and the start of its report line.
TEST(ApacheImportReportTest, NamesWhatItRefusesAndHowItApproximates) {
  struct Case {
    const char* apache;  // the last line is the one checked
    const char* verdict;
  };
  const Case cases[] = {
      {"RewriteEngine On\nRewriteRule ^/a /b [N]",
       "refused: RewriteRule ^/a /b [N] (flag N (next round)"},
      {"RewriteEngine On\nRewriteRule ^/a /b [C]", "(flag C (chain) is not converted)"},
      {"RewriteEngine On\nRewriteRule ^/a /b [S=2]", "(flag S (skip) is not converted)"},
      {"RewriteEngine On\nRewriteRule ^/a /b [E=X:1,L]", "(flag E (environment) is not converted)"},
      {"RewriteEngine On\nRewriteRule ^/a /b [CO=a:b:c]", "(flag CO (cookie) is not converted)"},
      {"RewriteEngine On\nRewriteRule ^/a /b [T=text/plain]",
       "(flag T (MIME type) is not converted)"},
      {"RewriteEngine On\nRewriteRule ^/a /b [H=x]", "(flag H (handler) is not converted)"},
      {"RewriteEngine On\nRewriteRule ^/a /b [B,L]",
       "(flag B (escape back-references) is not converted)"},
      {"RewriteEngine On\nRewriteRule ^/a /b [XYZ]", "(unknown flag 'XYZ')"},
      {"RewriteEngine On\nRewriteRule ^/(a)\\1 /b [L]",
       "(pattern: back-reference \\1 (RE2 has no back-references))"},
      {"RewriteEngine On\nRewriteRule !^/a /b [L]", "(a negated pattern (!) is not converted)"},
      {"RewriteEngine On\nRewriteRule ^/a /b [PT,L]", "(PT: Apache maps the rewritten path again"},
      {"RewriteEngine On\nRewriteRule ^/a /b", "(a local rewrite without L goes on"},
      {"RewriteEngine On\nRewriteRule ^/a /b [L]",
       "approximated: RewriteRule ^/a /b [L] -> route rewrite-1 (Apache serves /b from the file "
       "system"},
      {"RewriteEngine On\nRewriteRule ^/a /b/${m:x} [L]",
       "(${map:key} (RewriteMap) is not converted)"},
      {"RewriteEngine On\nRewriteRule ^/a http://b/%{TIME} [P]",
       "(%{TIME} in the substitution is not converted)"},
      {"RewriteEngine On\nRewriteRule ^/a /b [P]", "(P needs an absolute http:// URL)"},
      {"RewriteEngine On\nRewriteRule ^/a https://b/ [P]",
       "(https:// backends need TLS, which is not converted yet (#13))"},
      {"RewriteEngine On\nRewriteRule ^/a ajp://b/ [P]", "(ajp:// backends are not converted)"},
      {"RewriteEngine On\nRewriteRule ^/a /b [R=300]",
       "(redirect status 300 (rwproxy sends 301, 302, 303, 307 or 308))"},
      {"RewriteEngine On\nRewriteRule ^/(a) /b$2 [R]", "($2 but the pattern has 1 groups)"},
      {"RewriteEngine On\nRewriteRule ^/a /b [R]",
       "approximated: RewriteRule ^/a /b [R] -> route rewrite-1 (R without L"},
      {"RewriteEngine On\nRewriteRule ^/a /b?x=1 [R,QSA,L]",
       "(QSA on a redirect whose target has a query"},
      {"RewriteEngine On\nRewriteCond %{REQUEST_FILENAME} !-f\nRewriteRule ^/a - [F]",
       "(RewriteCond at line 2: variable %{REQUEST_FILENAME} is not converted"},
      {"RewriteEngine On\nRewriteCond %{HTTP:X} -f\nRewriteRule ^/a - [F]",
       "(RewriteCond at line 2: test -f is not converted"},
      {"RewriteEngine On\nRewriteCond %{HTTP:X} -eq\nRewriteRule ^/a - [F]",
       "test -eq is not converted"},
      {"RewriteEngine On\nRewriteCond %{HTTP:X} >5\nRewriteRule ^/a - [F]",
       "lexicographic comparison > is not converted"},
      {"RewriteEngine On\nRewriteCond %{HTTPS} off\nRewriteRule ^/a - [F]",
       "variable %{HTTPS} is not converted"},
      {"RewriteEngine On\nRewriteCond %{REMOTE_ADDR} ^10\\.\nRewriteRule ^/a - [F]",
       "variable %{REMOTE_ADDR} is not converted"},
      {"RewriteEngine On\nRewriteCond %{HTTP_HOST}%{REQUEST_URI} x\nRewriteRule ^/a - [F]",
       "only one %{VARIABLE} is"},
      {"RewriteEngine On\nRewriteCond %{HTTP:X} x [OR]\nRewriteRule ^/a - [F]",
       "[OR] on the last RewriteCond"},
      {"RewriteEngine On\nRewriteCond %{HTTP:X} (x)\nRewriteCond %{HTTP:Y} y\nRewriteRule ^/a "
       "http://b/%1 [P]",
       "(%1 but the RewriteCond at line 3 has 0 groups)"},
      {"RewriteEngine On\nRewriteCond %{QUERY_STRING} (q)\nRewriteCond %{HTTP:Y} (y)\nRewriteRule "
       "^/a http://b/%1 [P]",
       "(%N comes from the RewriteCond at line 3 in Apache but would come from the one at line 2 "
       "in rwproxy)"},
      {"RewriteEngine On\nRewriteCond %{HTTP:X} (x)\nRewriteRule ^/a http://b/%2 [P]",
       "(%2 but the RewriteCond at line 2 has 1 groups)"},
      {"RewriteEngine On\nRewriteRule ^/a http://b/%1 [P]",
       "(%N refers to a RewriteCond regex and there is none"},
      {"RewriteMap m txt:/x",
       "refused: RewriteMap m txt:/x (RewriteMap lookups are not converted)"},
      {"RewriteBase /",
       "refused: RewriteBase / (RewriteBase only applies to per-directory rewriting"},
      {"RewriteOptions Inherit", "refused: RewriteOptions Inherit (RewriteOptions"},
      {"RewriteRule ^/a - [F]",
       "converted: RewriteRule ^/a - [F] (no effect: RewriteEngine is not On in the main server)"},
      {"<Directory /x>\nRewriteRule ^a b", "refused: RewriteRule ^a b (per-directory rewriting"},
      {"ProxyPass /a https://b/", "refused: ProxyPass /a https://b/ (https:// backends need TLS"},
      {"ProxyPass /a/ http://b", "(the path ends in '/' but the URL has none"},
      {"ProxyPass /a http://b/ foo=1",
       "refused: ProxyPass /a http://b/ foo=1 -> route proxypass-1 (worker option foo is not "
       "converted)"},
      {"ProxyPass /a http://b/ max=5",
       "approximated: ProxyPass /a http://b/ max=5 -> route proxypass-1 (max: Apache's is per "
       "child process"},
      {"ProxyPass /a http://b/ retry=5", "(retry: rwproxy ejects an endpoint"},
      {"ProxyPass /a http://b/ disablereuse=On",
       "(disablereuse: rwproxy always reuses upstream connections)"},
      {"ProxyPass /a balancer://nope/", "(no BalancerMember for balancer://nope)"},
      {"ProxyPassMatch ^/(?=x) http://b/", "(regex: look-ahead (?="},
      {"ProxyPass /a !",
       "approximated: ProxyPass /a ! (the later ProxyPass routes skip these paths"},
      {"ProxyPassReverseCookieDomain a b",
       "refused: ProxyPassReverseCookieDomain a b (cookie rewriting"},
      {"ProxyRequests On", "refused: ProxyRequests On (forward proxying is not converted)"},
      {"ProxyPass / balancer://x/\n<Proxy balancer://x>\nBalancerMember http://a\n"
       "ProxySet stickysession=JSESSIONID",
       "refused: ProxySet stickysession=JSESSIONID (balancer option stickysession is not "
       "converted)"},
      {"SSLEngine on", "refused: SSLEngine on (TLS directives are not converted yet (#13))"},
      {"SSLCertificateFile /x",
       "refused: SSLCertificateFile /x (TLS directives are not converted yet (#13))"},
      {"AuthType Basic",
       "refused: AuthType Basic (authentication and authorization are not converted)"},
      {"<Location /a>\nRequire valid-user",
       "refused: Require valid-user (only Require all denied|granted is converted)"},
      {"<Location /a>\nOrder deny,allow", "refused: Order deny,allow (2.2-style access control"},
      {"<LocationMatch (?!x)>\nRequire all denied",
       "refused: Require all denied (its <LocationMatch> is refused)"},
      {"<If \"true\">\nProxyPass / http://b/",
       "ignored: ProxyPass / http://b/ (inside <If \"true\"> at httpd.conf:1 (refused))"},
      {"ProxyPass / http://b/\nHeader always set X 1",
       "approximated: Header always set X 1 -> route proxypass-1 (always:"},
      {"ProxyPass / http://b/\nHeader append X 1",
       "(append: rwproxy adds a field instead of joining"},
      {"ProxyPass / http://b/\nHeader edit X a b",
       "refused: Header edit X a b (action edit is not converted)"},
      {"ProxyPass / http://b/\nHeader echo X", "(action echo is not converted)"},
      {"ProxyPass / http://b/\nRequestHeader set X %{REMOTE_ADDR}e",
       "(format specifier %{... is not converted"},
      {"ProxyPass / http://b/\nRequestHeader set X 1 env=foo",
       "(conditional edits (env=, expr=) are not converted)"},
      {"ProxyPass / http://b/\nRequestHeader set X 1 early", "(early is not converted)"},
      {"ProxyPass / http://b/\nRequestHeader set Host x",
       "(Host edits are not converted (see ProxyPreserveHost))"},
      {"ProxyPass / http://b/\nHeader set Content-Length 5",
       "(rwproxy writes Content-Length itself)"},
      {"Redirect 300 /a http://b/",
       "(status 300 (rwproxy redirects with 301, 302, 303, 307 or 308))"},
      {"Redirect /a b", "(the target must be an absolute URL or start with '/')"},
      {"Redirect / http://b", "(the path ends in '/' but the URL has no path"},
      {"Alias /x /var/x", "approximated: Alias /x /var/x (maps URLs to files"},
      {"ErrorDocument 404 /x",
       "refused: ErrorDocument 404 /x (custom error pages are not converted)"},
      {"FrobnicateWidgets on",
       "refused: FrobnicateWidgets on (not converted (unknown to the importer))"},
      {"Listen 80", "ignored: Listen 80 (rwproxy listens on its --listen address)"},
      {"LoadModule proxy_module x.so",
       "ignored: LoadModule proxy_module x.so (modules are taken as loaded)"},
      {"<IfModule !mod_x.c>", "ignored: <IfModule !mod_x.c> (skipped: "},
      {"RewriteCond %{HTTP:X} x", "ignored: RewriteCond %{HTTP:X} x (no RewriteRule follows it)"},
      {"ServerAlias a.b", "ignored: ServerAlias a.b (only used in <VirtualHost>)"},
      {"<VirtualHost *:80>\nServerAlias www.* ok.example",
       "approximated: ServerAlias www.* ok.example (dropped www.*"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.apache);
    Converted converted = Convert(c.apache + std::string("\n") + Closers(c.apache));
    EXPECT_THAT(converted.violations, IsEmpty()) << converted.yaml;
    const std::vector<std::string> lines = VerdictLines(converted);
    const std::string apache = c.apache;
    const int line = static_cast<int>(std::count(apache.begin(), apache.end(), '\n')) + 1;
    const std::string prefix = absl::StrCat("httpd.conf:", line, ": ");
    std::string found;
    for (const std::string& l : lines) {
      if (absl::StartsWith(l, prefix)) found = l;
    }
    EXPECT_THAT(found, HasSubstr(c.verdict)) << converted.report;
  }
}

TEST(ApacheImportReportTest, VirtualHostsGetHostsAndTheFirstIsTheDefault) {
  Converted c = Convert(R"(ServerName main.example
<VirtualHost *:80>
  ServerName WWW.Example.com:80
  ServerAlias example.com *.example.com
  ProxyPass / http://b1/
</VirtualHost>
<VirtualHost *:80>
  ServerName api.example.org
  ProxyPreserveHost On
  ProxyPass /v1/ http://b2/
</VirtualHost>
<VirtualHost *:80>
  ProxyPass / http://b3/
</VirtualHost>
<VirtualHost *:443>
  ServerName secure.example
  SSLEngine on
</VirtualHost>
)");
  EXPECT_THAT(c.violations, IsEmpty());
  std::vector<std::string> routes;
  for (const auto& route : c.config.routes()) {
    std::string hosts;
    for (const std::string& h : route.match().hosts()) hosts += (hosts.empty() ? "" : ",") + h;
    routes.push_back(absl::StrCat(route.name(), " [", hosts, "] ",
                                  route.has_cluster() ? route.cluster() : "404"));
  }
  EXPECT_THAT(
      routes,
      ElementsAre("www-example-com-proxypass-1 [www.example.com,example.com,*.example.com] b1_80",
                  "www-example-com-not-found [www.example.com,example.com,*.example.com] 404",
                  "api-example-org-proxypass-1 [api.example.org] b2_80",
                  "api-example-org-not-found [api.example.org] 404",
                  // No ServerName: Apache matches it by the main ServerName.
                  "vhost-3-proxypass-1 [main.example] b3_80",
                  "vhost-3-not-found [main.example] 404", "default-proxypass-1 [] b1_80"));
  EXPECT_EQ(c.config.routes(2).rewrite().host(), "");  // ProxyPreserveHost On in that vhost
  EXPECT_EQ(c.config.routes(0).rewrite().host(), "b1");
  EXPECT_THAT(c.report, HasSubstr("httpd.conf:15: refused: <VirtualHost *:443> (port 443: rwproxy "
                                  "serves one listener; converting the vhosts of port 80"));
  EXPECT_THAT(c.report,
              HasSubstr("httpd.conf:17: ignored: SSLEngine on (inside <VirtualHost *:443>"));

  ImportOptions secure;
  secure.port = 443;
  Converted only_443 = Convert(
      "<VirtualHost *:80>\nProxyPass / http://b/\n</VirtualHost>\n"
      "<VirtualHost *:443>\nServerName s.example\nProxyPass / http://c/\n"
      "</VirtualHost>\n",
      secure);
  ASSERT_GE(only_443.config.routes_size(), 1);
  EXPECT_EQ(only_443.config.routes(0).cluster(), "c_80");
}

TEST(ApacheImportReportTest, MainServerProxyPassIsInheritedItsRewriteRulesAreNot) {
  Converted c = Convert(R"(RewriteEngine On
RewriteRule ^/r - [F]
ProxyPass /shared/ http://shared/
RequestHeader set X-Main 1
<VirtualHost *:80>
  ServerName a.example
  ProxyPass / http://a/
</VirtualHost>
<VirtualHost *:80>
  ServerName b.example
  ProxyPassInherit Off
  ProxyPass / http://b/
</VirtualHost>
)");
  EXPECT_THAT(c.violations, IsEmpty());
  std::vector<std::string> names;
  for (const auto& route : c.config.routes()) names.push_back(route.name());
  EXPECT_THAT(names,
              ElementsAre("a-example-main-proxypass-1", "a-example-proxypass-1",
                          "a-example-not-found", "b-example-proxypass-1", "b-example-not-found",
                          "default-main-proxypass-1", "default-proxypass-1"));
  EXPECT_EQ(c.config.routes(0).request_headers().set().at("x-main"), "1");
  EXPECT_THAT(c.report,
              HasSubstr("httpd.conf:2: refused: RewriteRule ^/r - [F] (not inherited by the "
                        "<VirtualHost> sections"));
}

TEST(ApacheImportReportTest, OrConditionsExpandInOrderUpToABound) {
  Converted c = Convert(R"(RewriteEngine On
RewriteCond %{HTTP:A} a [OR]
RewriteCond %{HTTP:B} b
RewriteCond %{HTTP:C} c [OR]
RewriteCond %{HTTP:D} d
RewriteRule ^/x - [F]
)");
  EXPECT_THAT(c.violations, IsEmpty());
  std::vector<std::string> routes;
  for (const auto& route : c.config.routes()) {
    std::string headers;
    for (const auto& h : route.match().headers()) headers += h.name();
    routes.push_back(route.name() + ":" + headers);
  }
  EXPECT_THAT(routes,
              ElementsAre("rewrite-1-1:ac", "rewrite-1-2:ad", "rewrite-1-3:bc", "rewrite-1-4:bd"));

  std::string many = "RewriteEngine On\n";
  for (const char* name : {"A", "B", "C", "D", "E"}) {
    absl::StrAppend(&many, "RewriteCond %{HTTP:", name, "} 1 [OR]\nRewriteCond %{HTTP:", name,
                    "2} 2\n");
  }
  absl::StrAppend(&many, "RewriteRule ^/x - [F]\n");
  Converted bounded = Convert(many);
  EXPECT_THAT(bounded.report,
              HasSubstr("refused: RewriteRule ^/x - [F] (its conditions would need more "
                        "than 16 routes)"));
}

TEST(ApacheImportReportTest, EngineOffRulesAreConvertedWithoutEffect) {
  Converted c = Convert(
      "RewriteEngine Off\nRewriteCond %{HTTP:X} y\nRewriteRule ^/ - [F]\n"
      "ProxyPass / http://b/\n");
  EXPECT_THAT(
      VerdictLines(c),
      ElementsAre("httpd.conf:1: converted: RewriteEngine Off",
                  "httpd.conf:2: converted: RewriteCond %{HTTP:X} y (no effect: RewriteEngine "
                  "is not On in the main server)",
                  "httpd.conf:3: converted: RewriteRule ^/ - [F] (no effect: RewriteEngine is "
                  "not On in the main server)",
                  "httpd.conf:4: converted: ProxyPass / http://b/ -> route proxypass-1"));
}

TEST(ApacheImportReportTest, NotesAndSummaryCloseTheReport) {
  Converted c = Convert("Listen 80\nProxyPass / http://b/\nSSLEngine on\nAlias /x /y\n");
  EXPECT_THAT(c.report,
              HasSubstr("\nnote: proxied routes keep rwproxy's 15s timeout; Apache's default "
                        "(Timeout) is 60s\n"));
  EXPECT_TRUE(absl::EndsWith(c.report,
                             "\n4 directives: 1 converted, 1 approximated, 1 refused, 1 ignored\n"))
      << c.report;
}

}  // namespace
}  // namespace rwproxy::cli::apache
