// `rwctl import apache`: PCRE -> RE2 (cli/import/apache_regex.h).
#include <string>

#include "cli/import/apache_regex.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace rwproxy::cli::apache {
namespace {

using ::testing::HasSubstr;

TEST(PcreToRe2Test, RefusesWhatRe2CannotDoNamingTheConstruct) {
  struct Case {
    const char* pcre;
    const char* named;
  };
  const Case cases[] = {
      {R"(^/(a)\1$)", "back-reference \\1"},
      {R"((x)\9)", "back-reference \\9"},
      {R"((x)\g1)", "back-reference \\g"},
      {R"((?<n>x)\k<n>)", "named back-reference \\k"},
      {"(?P<n>x)(?P=n)", "named back-reference (?P=name)"},
      {"^/a(?=b)", "look-ahead (?="},
      {"^/a(?!b)", "negative look-ahead (?!"},
      {"(?<=a)b", "look-behind (?<="},
      {"(?<!a)b", "negative look-behind (?<!"},
      {"(?>a+)b", "atomic group (?>"},
      {"a*+b", "possessive quantifier *+"},
      {"a++b", "possessive quantifier ++"},
      {"a?+b", "possessive quantifier ?+"},
      {"a{2,3}+b", "possessive quantifier {2,3}+"},
      {R"(a\Kb)", "\\K"},
      {R"(\Ga)", "\\G"},
      {"(a|(?R))", "recursion (?R)"},
      {"(a)(?1)", "subroutine call (?1"},
      {"(a)(?-1)", "subroutine call (?-"},
      {"(?<n>a)(?&n)", "subroutine call (?&name)"},
      {"(?(1)a|b)", "conditional (?("},
      {"(?|(a)|(b))", "branch reset (?|"},
      {"(?C1)a", "callout (?C"},
      {"(*UTF8)a", "(*VERB)"},
      {"(?x) a b", "extended mode (?x)"},
      {"[a", "RE2: missing ]"},
      {"a\\", "trailing \\"},
  };
  for (const Case& c : cases) {
    auto re = PcreToRe2(c.pcre);
    ASSERT_FALSE(re.ok()) << c.pcre << " -> " << (re.ok() ? re->pattern : "");
    EXPECT_THAT(std::string(re.status().message()), HasSubstr(c.named)) << c.pcre;
  }
}

TEST(PcreToRe2Test, KeepsWhatRe2ReadsAndTranslatesSpellings) {
  struct Case {
    const char* pcre;
    const char* re2;
    int groups;
  };
  const Case cases[] = {
      {"^/api/(.*)$", "^/api/(.*)$", 1},
      {"^/(a|b)/(\\d+)\\.html?$", "^/(a|b)/(\\d+)\\.html?$", 2},
      {"(?i)^/x", "(?i)^/x", 0},
      {"(?<name>x)", "(?P<name>x)", 1},
      {"(?'name'x)", "(?P<name>x)", 1},
      {"a(?#comment)b", "ab", 0},
      {"^/a\\Z", "^/a\\z", 0},
      {"a*?b+?", "a*?b+?", 0},
      {"[(?=]\\1", "", -1},  // a back-reference outside a class is still refused
      {"[\\1]x", "", -1},    // RE2 has no octal escapes
      {"[]a]++", "", -1},
      {"\\Q(?=\\E", "\\(\\?\\=", 0},
      {"x{2}", "x{2}", 0},
  };
  for (const Case& c : cases) {
    auto re = PcreToRe2(c.pcre);
    if (c.groups < 0) {
      EXPECT_FALSE(re.ok()) << c.pcre;
      continue;
    }
    ASSERT_TRUE(re.ok()) << c.pcre << ": " << re.status();
    EXPECT_EQ(re->pattern, c.re2) << c.pcre;
    EXPECT_EQ(re->groups, c.groups) << c.pcre;
  }
}

TEST(PcreToRe2Test, KnowsWhetherThePatternMatchesTheEmptyString) {
  EXPECT_TRUE(PcreToRe2("^$")->matches_empty);
  EXPECT_TRUE(PcreToRe2(".*")->matches_empty);
  EXPECT_FALSE(PcreToRe2("^on$")->matches_empty);
  EXPECT_FALSE(PcreToRe2("x")->matches_empty);
}

TEST(PcreToRe2Test, EnforcesRwproxyLimits) {
  auto groups = PcreToRe2("(a)(b)(c)(d)(e)(f)(g)(h)(i)(j)");
  ASSERT_FALSE(groups.ok());
  EXPECT_THAT(std::string(groups.status().message()), HasSubstr("more than 9 capture groups"));
  auto large = PcreToRe2("(abcdefghij){1000}");
  ASSERT_FALSE(large.ok());
  EXPECT_THAT(std::string(large.status().message()), HasSubstr("too large"));
  EXPECT_TRUE(PcreToRe2("ABC", /*case_insensitive=*/true).ok());
}

TEST(AnchoredLiteralTest, FindsPlainLiteralsOnly) {
  struct Case {
    const char* pcre;
    const char* literal;  // nullptr: not a literal
  };
  const Case cases[] = {
      {"^www\\.example\\.com$", "www.example.com"},
      {"^on$", "on"},
      {"^$", ""},
      {"^a.b$", nullptr},
      {"^(a|b)$", nullptr},
      {"www\\.example\\.com", nullptr},
      {"^\\d$", nullptr},
      {"^a\\$", nullptr},
  };
  for (const Case& c : cases) {
    std::string literal;
    const bool found = AnchoredLiteral(c.pcre, &literal);
    EXPECT_EQ(found, c.literal != nullptr) << c.pcre;
    if (found && c.literal != nullptr) EXPECT_EQ(literal, c.literal) << c.pcre;
  }
  EXPECT_EQ(QuoteRegex("/a.b(c)/$"), "/a\\.b\\(c\\)/\\$");
}

}  // namespace
}  // namespace rwproxy::cli::apache
