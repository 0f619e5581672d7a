// The admin dashboard page (server/admin/dashboard.h): embedded byte for byte, self-contained (no
// external script, style sheet, image or font: it must work offline and in an air-gapped cluster)
// and served at GET / on the admin listener. tests/integration/dashboard_test.cc runs it in a
// browser.
#include "server/admin/dashboard.h"

#include <fstream>
#include <memory>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "boost/asio/ip/address_v4.hpp"
#include "gtest/gtest.h"
#include "server/admin/admin_server.h"
#include "tests/support/http_client.h"

namespace rwproxy {
namespace {

std::string Lower(std::string_view text) { return absl::AsciiStrToLower(std::string(text)); }

TEST(DashboardTest, EmbedsTheSourceFileByteForByte) {
  std::ifstream in(RW_DASHBOARD_SOURCE, std::ios::binary);
  ASSERT_TRUE(in) << RW_DASHBOARD_SOURCE;
  std::stringstream source;
  source << in.rdbuf();
  EXPECT_TRUE(DashboardHtml() == source.str())
      << "embedded " << DashboardHtml().size() << " bytes, source " << source.str().size();
}

TEST(DashboardTest, IsOneHtmlPageForLaptopsAndPhones) {
  const std::string page = Lower(DashboardHtml());
  EXPECT_EQ(page.rfind("<!doctype html>", 0), 0u);
  EXPECT_NE(page.find("<meta charset=\"utf-8\">"), std::string::npos);
  EXPECT_NE(page.find("<meta name=\"viewport\" content=\"width=device-width"), std::string::npos);
  EXPECT_NE(page.find("@media (max-width:"), std::string::npos) << "no narrow-screen layout";
  EXPECT_NE(page.find("<style>"), std::string::npos);
  EXPECT_NE(page.find("<script>"), std::string::npos);
  EXPECT_NE(page.find("</html>"), std::string::npos);
  // The three charts, drawn by the page's own code.
  for (const char* id : {"chart-rps", "chart-eps", "chart-cpk"}) {
    EXPECT_NE(page.find(std::string("<canvas id=\"") + id + "\""), std::string::npos) << id;
  }
  // The admin endpoints it reads, by relative URL (so a path prefix or port-forward works).
  for (const char* path : {"\"stats?format=json\"", "\"clusters\"", "\"config_dump\""}) {
    EXPECT_NE(page.find(path), std::string::npos) << path;
  }
}

TEST(DashboardTest, HasNoExternalReferences) {
  const std::string page = Lower(DashboardHtml());
  // No absolute URL anywhere: not in an attribute, not in CSS, not in the script.
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  // No element that loads something: <script src>, <link href>, <img>, <iframe>, fonts, imports.
  for (const char* loader : {"<link", "<img", "<iframe", "<object", "<embed", "<base", "@import",
                             "url(", "@font-face", "importscripts", "new worker", "srcset"}) {
    EXPECT_EQ(page.find(loader), std::string::npos) << loader;
  }
  // Every src= / href= (attribute or script property) is relative: none does at all today.
  const std::regex attribute(R"re(\b(src|href|action|poster)\s*=\s*["']?([^"'\s>]*))re");
  std::vector<std::string> found;
  for (auto it = std::sregex_iterator(page.begin(), page.end(), attribute);
       it != std::sregex_iterator(); ++it) {
    found.push_back((*it)[0].str());
  }
  EXPECT_TRUE(found.empty()) << "first: " << found.front();
  // Protocol-relative references (//host/...) in quotes.
  const std::regex protocol_relative(R"re(["'(]//[a-z0-9])re");
  EXPECT_FALSE(std::regex_search(page, protocol_relative));
}

class DashboardServeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    AdminHandlers handlers;
    handlers.ready = [] { return true; };
    handlers.stats = [] { return StatsSnapshot(); };
    admin_ = std::make_unique<AdminServer>(std::move(handlers));
    ASSERT_TRUE(admin_->Listen({boost::asio::ip::address_v4::loopback(), 0}).ok());
    admin_->Start();
    port_ = admin_->local_endpoint().port();
  }

  std::unique_ptr<AdminServer> admin_;
  uint16_t port_ = 0;
};

TEST_F(DashboardServeTest, GetSlashServesThePage) {
  auto page = rwtest::Fetch(port_, "GET", "/");
  ASSERT_TRUE(page.ok()) << page.status();
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->Header("content-type"), "text/html; charset=utf-8");
  EXPECT_TRUE(page->body == DashboardHtml())
      << "body of " << page->body.size() << " bytes, page " << DashboardHtml().size() << ": "
      << page->body.substr(0, 200);
  // A query string (the page's own ?interval=2000) serves the same page.
  auto with_query = rwtest::Fetch(port_, "GET", "/?interval=2000");
  ASSERT_TRUE(with_query.ok()) << with_query.status();
  EXPECT_EQ(with_query->status, 200);
  EXPECT_TRUE(with_query->body == DashboardHtml()) << with_query->body.substr(0, 200);
}

}  // namespace
}  // namespace rwproxy
