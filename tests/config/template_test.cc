#include "config/template.h"

#include <string>

#include "gtest/gtest.h"

namespace rwproxy {
namespace {

std::string Expand(const RewriteTemplate& t, std::vector<std::string_view> groups) {
  std::string out;
  t.Expand(groups.data(), static_cast<int>(groups.size()), &out);
  return out;
}

TEST(RewriteTemplateTest, ReplacesCaptureGroups) {
  auto t = RewriteTemplate::Parse("/v2/$2/$1", 2);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(Expand(*t, {"/api/a/b", "a", "b"}), "/v2/b/a");
}

TEST(RewriteTemplateTest, DollarDollarIsALiteralDollar) {
  auto t = RewriteTemplate::Parse("/price$$/$0", 0);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Expand(*t, {"/x"}), "/price$//x");
}

TEST(RewriteTemplateTest, NotesAQueryInTheTemplate) {
  EXPECT_TRUE(RewriteTemplate::Parse("/a?b=$1", 1)->ContainsQuery());
  EXPECT_FALSE(RewriteTemplate::Parse("/a/$1", 1)->ContainsQuery());
}

TEST(RewriteTemplateTest, EmptyGroupExpandsToNothing) {
  auto t = RewriteTemplate::Parse("[$1]", 1);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(Expand(*t, {"x", ""}), "[]");
}

struct BadTemplate {
  const char* text;
  int max_group;
  const char* message;
};

class RewriteTemplateErrorTest : public testing::TestWithParam<BadTemplate> {};

TEST_P(RewriteTemplateErrorTest, Rejects) {
  auto t = RewriteTemplate::Parse(GetParam().text, GetParam().max_group);
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.status().message().find(GetParam().message), std::string::npos) << t.status();
}

INSTANTIATE_TEST_SUITE_P(
    All, RewriteTemplateErrorTest,
    testing::Values(BadTemplate{"/$3", 2, "$3 refers to a group the match does not have (it has 2 groups)"},
                    BadTemplate{"/$1", 0, "it has 0 groups"},
                    BadTemplate{"/a$", 1, "'$' at the end"},
                    BadTemplate{"/$x", 1, "'$x' is not $0..$9 or $$"}));

}  // namespace
}  // namespace rwproxy
