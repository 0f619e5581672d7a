// `rwctl import apache` on damaged input: a few hundred deterministic mutations of realistic
// configs (bytes dropped, duplicated, swapped for characters that matter to httpd, lines cut or
// repeated) never crash the importer, and whatever it converts passes rwproxy's own checks. The
// libFuzzer target tests/fuzz/apache_import_fuzz.cc explores further.
#include <cstdint>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/cli/import_test_util.h"

namespace rwproxy::cli::apache {
namespace {

constexpr const char* kSeeds[] = {
    R"(RewriteEngine On
RewriteCond %{HTTP_USER_AGENT} mobile [NC,OR]
RewriteCond %{QUERY_STRING} ^(id|key)=([0-9]+)$
RewriteRule ^/item/(.*)$ http://127.0.0.1:9001/items/%2/$1?x=1 [P,QSA,L]
RewriteRule ^/static/ - [L]
RewriteRule ^/r/(.*)$ /t/$1 [R=301,L]
RewriteRule ^/f - [F]
)",
    R"(<VirtualHost *:80>
  ServerName www.example.com
  ServerAlias *.example.com
  ProxyPass /shop/ http://b:81/store/ timeout=5 max=10
  ProxyPassReverse /shop/ http://b:81/store/
  <Location /shop/admin>
    Require all denied
  </Location>
</VirtualHost>
<Proxy balancer://app>
  BalancerMember http://h1:81
  BalancerMember http://h2:82 loadfactor=2
  ProxySet lbmethod=byrequests
</Proxy>
ProxyPass /app balancer://app/x
ProxyPassMatch ^/(.*\.php)$ http://b:81/php/$1
Redirect permanent /old http://x.example/new
RequestHeader set X-A "1 2"
Header always unset X-Powered-By
)",
};

// A small deterministic generator (no global state, same sequence on every run).
class Lcg {
 public:
  uint32_t Next() { return state_ = state_ * 1664525u + 1013904223u; }
  size_t Below(size_t n) { return n == 0 ? 0 : Next() % n; }

 private:
  uint32_t state_ = 12345;
};

std::string Mutate(const std::string& seed, Lcg* rng) {
  static constexpr char kSpecial[] = "\\\"'<>/$%{}()[]^?*+|!#:=,\n\t \r";
  std::string text = seed;
  const int edits = 1 + static_cast<int>(rng->Below(4));
  for (int i = 0; i < edits && !text.empty(); ++i) {
    const size_t at = rng->Below(text.size());
    switch (rng->Below(5)) {
      case 0:
        text.erase(at, 1 + rng->Below(8));
        break;
      case 1:
        text.insert(at, 1, kSpecial[rng->Below(sizeof kSpecial - 1)]);
        break;
      case 2:
        text[at] = kSpecial[rng->Below(sizeof kSpecial - 1)];
        break;
      case 3: {  // repeat a line
        const size_t start =
            text.rfind('\n', at) == std::string::npos ? 0 : text.rfind('\n', at) + 1;
        const size_t end = text.find('\n', at);
        text.insert(start, text.substr(start, end == std::string::npos ? end : end - start + 1));
        break;
      }
      default:
        text.resize(at);
        break;
    }
  }
  return text;
}

TEST(ApacheImportRobustnessTest, MutatedConfigsNeverCrashAndConvertToValidConfigs) {
  Lcg rng;
  int parsed = 0, with_routes = 0;
  for (int round = 0; round < 400; ++round) {
    const std::string text = Mutate(kSeeds[round % 2], &rng);
    ParseOptions options;
    options.read_includes = false;
    auto nodes = ParseApacheText(text, "httpd.conf", options);
    if (!nodes.ok()) {
      EXPECT_FALSE(nodes.status().message().empty());
      continue;
    }
    ++parsed;
    ImportResult result = ConvertApache(*nodes, {});
    std::vector<FieldError> errors;
    config::Check(result.config, &errors);
    for (const FieldError& e : errors) {
      ADD_FAILURE() << e.field << ": " << e.message << "\ninput:\n"
                    << text << "\noutput:\n"
                    << yaml::ToYaml(result.config);
    }
    with_routes += result.config.routes_size() > 0;
    EXPECT_FALSE(result.report.Format().empty());
  }
  // The mutations keep most inputs parseable, so the converter is exercised too.
  EXPECT_GT(parsed, 200);
  EXPECT_GT(with_routes, 150);
}

// Inputs built to exhaust the stack, memory or time get a located error instead.
TEST(ApacheImportRobustnessTest, HostileInputsAreBoundedErrors) {
  std::string deep;
  for (int i = 0; i < 100000; ++i) deep += "<IfModule x>\n";
  auto nested = ParseApacheText(deep, "httpd.conf", ParseOptions{});
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.status().message().find("httpd.conf:65: sections nested deeper than 64"),
            std::string::npos)
      << nested.status();

  std::string doubling = "Define A xxxxxxxxxxxxxxxx\n";
  for (int i = 0; i < 40; ++i) doubling += "Define A ${A}${A}\n";
  auto grown = ParseApacheText(doubling, "httpd.conf", ParseOptions{});
  ASSERT_FALSE(grown.ok());
  EXPECT_NE(grown.status().message().find("bytes after ${NAME} expansion"), std::string::npos)
      << grown.status();

  TempDir dir;
  const std::string main = dir.Write("httpd.conf", "Include /dev/zero\n");
  auto special = ImportApache(main, {});
  ASSERT_FALSE(special.ok());
  EXPECT_NE(special.status().message().find("/dev/zero is not a regular file"), std::string::npos)
      << special.status();
}

}  // namespace
}  // namespace rwproxy::cli::apache
