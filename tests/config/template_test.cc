#include "config/template.h"

#include <initializer_list>
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

std::string ExpandWith(const RewriteTemplate& t, std::vector<std::string_view> groups,
                       std::vector<std::string_view> condition_groups) {
  std::string out;
  if (!t.Expand(groups.data(), static_cast<int>(groups.size()), condition_groups.data(),
                static_cast<int>(condition_groups.size()), &out)) {
    return "<dot segment>";
  }
  return out;
}

// A %N value comes from the client: in the path part it may not add a dot segment (the path was
// routed normalized) nor start a query; after the template's '?' both are harmless data.
TEST(RewriteTemplateTest, ConditionGroupsCannotAddDotSegmentsOrAQueryToThePath) {
  auto t = RewriteTemplate::Parse("/tenants/%1/api?next=%1", 0, 1);
  ASSERT_TRUE(t.ok()) << t.status();
  struct Row {
    const char* value;
    const char* expanded;
  };
  for (const Row& row : std::initializer_list<Row>{
           {"acme", "/tenants/acme/api?next=acme"},
           {"..", "<dot segment>"},
           {".", "<dot segment>"},
           {"../admin", "<dot segment>"},
           {"a/../../admin", "<dot segment>"},
           {"%2e%2E", "<dot segment>"},
           {".%2e/x", "<dot segment>"},
           {"...", "/tenants/.../api?next=..."},  // three dots are a name, not a dot segment
           {"v1.2", "/tenants/v1.2/api?next=v1.2"},
           {"..x", "/tenants/..x/api?next=..x"},
           {"a?b=1", "/tenants/a%3Fb=1/api?next=a?b=1"},
       }) {
    EXPECT_EQ(ExpandWith(*t, {"/"}, {row.value, row.value}), row.expanded) << row.value;
  }
  auto query_only = RewriteTemplate::Parse("/search?q=%1", 0, 1);
  ASSERT_TRUE(query_only.ok());
  EXPECT_EQ(ExpandWith(*query_only, {"/"}, {"../x", "../x"}), "/search?q=../x");
}

TEST(RewriteTemplateTest, ReplacesConditionGroups) {
  auto t = RewriteTemplate::Parse("/m/%1/$1?v=%2&all=%0", 1, 2);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(ExpandWith(*t, {"/shop/cart", "cart"}, {"Mobile/15", "Mobile", "15"}),
            "/m/Mobile/cart?v=15&all=Mobile/15");
  EXPECT_TRUE(t->ContainsQuery());
}

TEST(RewriteTemplateTest, PercentPercentIsALiteralPercentWithConditionGroups) {
  auto t = RewriteTemplate::Parse("/a%%20b/%1", 0, 1);
  ASSERT_TRUE(t.ok()) << t.status();
  EXPECT_EQ(ExpandWith(*t, {"/x"}, {"v", "v"}), "/a%20b/v");
}

TEST(RewriteTemplateTest, PercentIsLiteralWithoutConditionGroups) {
  for (const char* text : {"/a%20b", "/100%", "/%%", "/%x%1"}) {
    auto t = RewriteTemplate::Parse(text, 0);
    ASSERT_TRUE(t.ok()) << text << ": " << t.status();
    EXPECT_EQ(Expand(*t, {"/x"}), text);
    auto explicit_none = RewriteTemplate::Parse(text, 0, RewriteTemplate::kNoConditionGroups);
    ASSERT_TRUE(explicit_none.ok()) << text;
    EXPECT_EQ(ExpandWith(*explicit_none, {"/x"}, {"ignored", "ignored"}), text);
  }
}

TEST(RewriteTemplateTest, EncodesBytesAConditionGroupMayNotCarryIntoATarget) {
  auto t = RewriteTemplate::Parse("/u/%1?q=%2", 0, 2);
  ASSERT_TRUE(t.ok()) << t.status();
  // Header values may hold spaces, quotes, non-ASCII and other bytes a request line may not.
  EXPECT_EQ(ExpandWith(*t, {"/x"}, {"", "a b\"<>#", "caf\xc3\xa9\t{|}^`\\%41~!$&'()*+,;=:@/?"}),
            "/u/a%20b%22%3C%3E%23?q=caf%C3%A9%09%7B%7C%7D%5E%60%5C%41~!$&'()*+,;=:@/?");
}

TEST(RewriteTemplateTest, PathGroupsAreNotEncoded) {
  auto t = RewriteTemplate::Parse("/$1", 1, 0);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(ExpandWith(*t, {"/a%20b", "a%20b"}, {"x"}), "/a%20b");
}

TEST(RewriteTemplateTest, MissingConditionGroupsExpandToNothing) {
  auto t = RewriteTemplate::Parse("[%1]", 0, 1);
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(ExpandWith(*t, {"/x"}, {}), "[]");
  EXPECT_EQ(Expand(*t, {"/x"}), "[]");
}

struct BadTemplate {
  const char* text;
  int max_group;
  const char* message;
  int max_condition_group = RewriteTemplate::kNoConditionGroups;
};

class RewriteTemplateErrorTest : public testing::TestWithParam<BadTemplate> {};

TEST_P(RewriteTemplateErrorTest, Rejects) {
  auto t =
      RewriteTemplate::Parse(GetParam().text, GetParam().max_group, GetParam().max_condition_group);
  ASSERT_FALSE(t.ok());
  // Every message names the template.
  EXPECT_NE(t.status().message().find(std::string("(template '") + GetParam().text + "')"),
            std::string::npos)
      << t.status();
  EXPECT_NE(t.status().message().find(GetParam().message), std::string::npos) << t.status();
}

INSTANTIATE_TEST_SUITE_P(
    All, RewriteTemplateErrorTest,
    testing::Values(BadTemplate{"/$3", 2,
                                "$3 refers to a group the match does not have (it has 2 groups)"},
                    BadTemplate{"/$1", 0, "it has 0 groups"},
                    BadTemplate{"/a$", 1, "'$' at the end"},
                    BadTemplate{"/$x", 1, "'$x' is not $0..$9 or $$"},
                    BadTemplate{"/x/%3", 0, "%3 but the last regex condition has 2 groups", 2},
                    BadTemplate{"/x/%1", 0, "%1 but the last regex condition has 0 groups", 0},
                    BadTemplate{"/a%", 0, "'%' at the end; write %% for a literal '%'", 1},
                    BadTemplate{"/a%20%zz", 0, "'%z' is not %0..%9 or %%", 2},
                    BadTemplate{"/a%2", 0, "%2 but the last regex condition has 1 group", 1}));

}  // namespace
}  // namespace rwproxy
