// `rwctl import apache`: httpd's logical lines and argument splitting (cli/import/apache_lexer.h),
// and the directive tree with sections, Include, Define and conditional sections
// (cli/import/apache_parser.h).
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "cli/import/apache_lexer.h"
#include "cli/import/apache_parser.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/cli/import_test_util.h"

namespace rwproxy::cli::apache {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;

TEST(ApacheLexerTest, JoinsContinuationLinesAndDropsComments) {
  struct Case {
    const char* text;
    std::vector<std::pair<int, std::string>> lines;
  };
  const Case cases[] = {
      {"Listen 80\n", {{1, "Listen 80"}}},
      {"  # a comment\n\nListen 80   \n", {{3, "Listen 80"}}},
      {"ProxyPass /a \\\n    http://b/a\nListen 80\n",
       {{1, "ProxyPass /a     http://b/a"}, {3, "Listen 80"}}},
      {"A \\\r\nb\r\n", {{1, "A b"}}},                   // CRLF files
      {"# comment \\\nstill comment\nB\n", {{3, "B"}}},  // a comment continues too
      {"Listen 80 # not a comment\n", {{1, "Listen 80 # not a comment"}}},
      {"A \\", {{1, "A"}}},  // a continuation at the end of the file
  };
  for (const Case& c : cases) {
    auto lines = SplitLogicalLines(c.text);
    ASSERT_TRUE(lines.ok()) << c.text;
    std::vector<std::pair<int, std::string>> got;
    for (const LogicalLine& line : *lines) got.emplace_back(line.line, line.text);
    EXPECT_EQ(got, c.lines) << c.text;
  }
  EXPECT_FALSE(SplitLogicalLines(std::string("A\0B\n", 4)).ok());
}

TEST(ApacheLexerTest, SplitsArgumentsWithHttpdQuoting) {
  struct Case {
    const char* text;
    std::vector<std::string> args;
  };
  const Case cases[] = {
      {"a b\tc", {"a", "b", "c"}},
      {"\"a b\" 'c d'", {"a b", "c d"}},
      {R"("say \"hi\"" 'it\'s')", {"say \"hi\"", "it's"}},
      {R"(a\\b "c\\d")", {"a\\b", "c\\d"}},  // \\ is one backslash
      {R"(^/a\.b$ x)", {"^/a\\.b$", "x"}},   // other backslashes stay
      {"\"\" x", {"", "x"}},
      {"\"a\"b", {"a", "b"}},  // a closing quote ends the word
  };
  for (const Case& c : cases) {
    auto args = SplitArgs(c.text);
    ASSERT_TRUE(args.ok()) << c.text;
    EXPECT_EQ(*args, c.args) << c.text;
  }
  for (const char* bad : {"\"open", "a 'open"}) {
    auto args = SplitArgs(bad);
    ASSERT_FALSE(args.ok()) << bad;
    EXPECT_THAT(std::string(args.status().message()), HasSubstr("unterminated")) << bad;
  }
}

TEST(ApacheLexerTest, SplitsRewriteArgumentsLikeModRewrite) {
  struct Case {
    const char* text;
    std::vector<std::string> args;
  };
  const Case cases[] = {
      {"^/a/(.*)$ http://b/$1 [P,L]", {"^/a/(.*)$", "http://b/$1", "[P,L]"}},
      {R"(^/a\ b$ /c)", {R"(^/a\ b$)", "/c"}},  // "\ " protects the space
      {R"("^/a b$" "/c d" [R])", {"^/a b$", "/c d", "[R]"}},
      {R"(^/a\\b$ -)", {R"(^/a\\b$)", "-"}},  // regex escapes stay as written
  };
  for (const Case& c : cases) {
    auto args = SplitRewriteArgs(c.text);
    ASSERT_TRUE(args.ok()) << c.text;
    EXPECT_EQ(*args, c.args) << c.text;
  }
  EXPECT_FALSE(SplitRewriteArgs("^/a").ok());
  EXPECT_FALSE(SplitRewriteArgs("a b c d").ok());
  EXPECT_FALSE(SplitRewriteArgs("\"a b").ok());
}

TEST(ApacheParserTest, NestsSectionsAndKeepsLines) {
  auto nodes = ParseApacheText(R"(Listen 80
<VirtualHost *:80>
  ServerName a.example
  <Location "/x">
    Require all denied
  </Location>
</virtualhost>
)",
                               "httpd.conf", {});
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  ASSERT_EQ(nodes->size(), 2u);
  const Node& vhost = (*nodes)[1];
  EXPECT_TRUE(vhost.section);
  EXPECT_EQ(vhost.Text(), "<VirtualHost *:80>");
  EXPECT_EQ(vhost.Where(), "httpd.conf:2");
  ASSERT_EQ(vhost.children.size(), 2u);
  EXPECT_EQ(vhost.children[1].Text(), "<Location \"/x\">");
  ASSERT_EQ(vhost.children[1].children.size(), 1u);
  EXPECT_EQ(vhost.children[1].children[0].Where(), "httpd.conf:5");
}

TEST(ApacheParserTest, ReportsSectionErrorsWithFileAndLine) {
  struct Case {
    const char* text;
    const char* error;
  };
  const Case cases[] = {
      {"<VirtualHost *:80>\nListen 80\n", "httpd.conf:1: <VirtualHost> is not closed"},
      {"Listen 80\n</Location>\n", "httpd.conf:2: </Location> without <Location>"},
      {"<Location /a>\n</Directory>\n",
       "httpd.conf:2: </Directory> closes <Location> (opened at line 1)"},
      {"<Location /a\n", "httpd.conf:1: missing '>'"},
      {"<>\n", "httpd.conf:1: "},
  };
  for (const Case& c : cases) {
    auto nodes = ParseApacheText(c.text, "httpd.conf", {});
    ASSERT_FALSE(nodes.ok()) << c.text;
    EXPECT_THAT(std::string(nodes.status().message()), HasSubstr(c.error)) << c.text;
  }
}

TEST(ApacheParserTest, IncludesRelativePathsAndGlobsInOrder) {
  TempDir dir;
  dir.Write("conf.d/b.conf", "Listen 2\n");
  dir.Write("conf.d/a.conf", "Listen 1\n");
  dir.Write("conf.d/skip.txt", "Listen 9\n");
  dir.Write("extra/x.conf", "Listen 3\n");
  const std::string main = dir.Write("httpd.conf", R"(Include conf.d/*.conf
IncludeOptional nothing/*.conf
Include extra
)");
  auto nodes = ParseApacheConfig(main, {});
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  ASSERT_EQ(nodes->size(), 3u);
  std::vector<std::string> listens;
  for (const Node& include : *nodes) {
    for (const Node& n : include.children)
      listens.push_back(n.args + "@" + n.Where().substr(dir.path().size()));
  }
  EXPECT_THAT(listens,
              ElementsAre("1@/conf.d/a.conf:1", "2@/conf.d/b.conf:1", "3@/extra/x.conf:1"));
  EXPECT_TRUE((*nodes)[1].included.empty());

  // --server-root, else ServerRoot, else the main file's directory.
  dir.Write("root/conf.d/c.conf", "Listen 4\n");
  ParseOptions options;
  options.server_root = dir.path() + "/root";
  auto rooted = ParseApacheConfig(dir.Write("r.conf", "Include conf.d/*.conf\n"), options);
  ASSERT_TRUE(rooted.ok()) << rooted.status();
  EXPECT_EQ((*rooted)[0].children.at(0).args, "4");
  auto by_directive = ParseApacheConfig(
      dir.Write("s.conf", "ServerRoot \"" + dir.path() + "/root\"\nInclude conf.d/c.conf\n"), {});
  ASSERT_TRUE(by_directive.ok()) << by_directive.status();
  EXPECT_EQ((*by_directive)[1].children.at(0).args, "4");
}

TEST(ApacheParserTest, RefusesIncludeCyclesMissingFilesAndDepth) {
  TempDir dir;
  dir.Write("a.conf", "Include b.conf\n");
  dir.Write("b.conf", "Listen 1\nInclude a.conf\n");
  auto cycle = ParseApacheConfig(dir.path() + "/a.conf", {});
  ASSERT_FALSE(cycle.ok());
  EXPECT_THAT(std::string(cycle.status().message()), HasSubstr("Include cycle"));
  EXPECT_THAT(std::string(cycle.status().message()), HasSubstr("b.conf:2"));

  auto missing = ParseApacheConfig(dir.Write("m.conf", "Listen 1\nInclude none/*.conf\n"), {});
  ASSERT_FALSE(missing.ok());
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr("m.conf:2: Include"));

  for (int i = 0; i < 5; ++i) {
    dir.Write("d" + std::to_string(i) + ".conf", "Include d" + std::to_string(i + 1) + ".conf\n");
  }
  dir.Write("d5.conf", "Listen 1\n");
  ParseOptions shallow;
  shallow.max_include_depth = 3;
  auto deep = ParseApacheConfig(dir.path() + "/d0.conf", shallow);
  ASSERT_FALSE(deep.ok());
  EXPECT_THAT(std::string(deep.status().message()), HasSubstr("nested deeper than 3"));
  EXPECT_TRUE(ParseApacheConfig(dir.path() + "/d0.conf", {}).ok());
  EXPECT_FALSE(ParseApacheConfig(dir.path() + "/absent.conf", {}).ok());
}

TEST(ApacheParserTest, DecidesConditionalSectionsAndExpandsDefines) {
  auto nodes = ParseApacheText(R"(Define BACKEND 127.0.0.1:9001
<IfDefine BACKEND>
  ProxyPass / http://${BACKEND}/
</IfDefine>
<IfDefine !BACKEND>
  Include /does/not/exist.conf
</IfDefine>
<IfModule !mod_rewrite.c>
  Include /does/not/exist.conf
</IfModule>
<IfVersion < 2.4>
  Listen 1
</IfVersion>
<IfVersion >= 2.4>
  Listen ${UNDEFINED_NAME_FOR_TEST}
</IfVersion>
)",
                               "httpd.conf", {});
  ASSERT_TRUE(nodes.ok()) << nodes.status();
  ASSERT_EQ(nodes->size(), 6u);
  EXPECT_FALSE((*nodes)[1].skipped);
  EXPECT_EQ((*nodes)[1].children.at(0).args, "/ http://127.0.0.1:9001/");
  EXPECT_TRUE((*nodes)[2].skipped);
  EXPECT_TRUE((*nodes)[2].children.empty());
  EXPECT_TRUE((*nodes)[3].skipped);
  EXPECT_TRUE((*nodes)[4].skipped);
  EXPECT_FALSE((*nodes)[5].skipped);
  EXPECT_EQ((*nodes)[5].children.at(0).args, "${UNDEFINED_NAME_FOR_TEST}");
}

}  // namespace
}  // namespace rwproxy::cli::apache
