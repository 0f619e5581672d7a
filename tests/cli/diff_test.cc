#include "cli/diff.h"

#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace rwproxy::cli {
namespace {

TEST(DiffTest, EqualTextsGiveNoOutput) {
  EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\n", "live", "file"), "");
  EXPECT_EQ(UnifiedDiff("", "", "live", "file"), "");
}

TEST(DiffTest, SplitLinesIgnoresTheFinalNewline) {
  EXPECT_EQ(SplitLines("a\nb\n"), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(SplitLines("a\n\nb"), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_TRUE(SplitLines("").empty());
}

TEST(DiffTest, EditScriptKeepsTheLongestCommonSubsequence) {
  std::vector<DiffLine> script = DiffLines({"a", "b", "c", "d"}, {"a", "c", "d", "e"});
  std::vector<DiffLine> want = {{' ', "a"}, {'-', "b"}, {' ', "c"}, {' ', "d"}, {'+', "e"}};
  EXPECT_EQ(script, want);
}

TEST(DiffTest, ReplacementShowsDeletionBeforeInsertion) {
  std::vector<DiffLine> script = DiffLines({"x", "old", "y"}, {"x", "new", "y"});
  std::vector<DiffLine> want = {{' ', "x"}, {'-', "old"}, {'+', "new"}, {' ', "y"}};
  EXPECT_EQ(script, want);
}

TEST(DiffTest, OneChangeWithContext) {
  const std::string old_text = "1\n2\n3\n4\n5\n6\n7\n8\n9\n";
  const std::string new_text = "1\n2\n3\n4\nfive\n6\n7\n8\n9\n";
  EXPECT_EQ(UnifiedDiff(old_text, new_text, "live (version 3)", "routes.yaml"),
            "--- live (version 3)\n"
            "+++ routes.yaml\n"
            "@@ -2,7 +2,7 @@\n"
            " 2\n 3\n 4\n-5\n+five\n 6\n 7\n 8\n");
}

TEST(DiffTest, DistantChangesGiveTwoHunks) {
  std::string old_text, new_text;
  for (int i = 1; i <= 20; ++i) {
    old_text += std::to_string(i) + "\n";
    new_text += (i == 2 || i == 18 ? "x" : std::to_string(i)) + "\n";
  }
  EXPECT_EQ(UnifiedDiff(old_text, new_text, "a", "b"),
            "--- a\n+++ b\n"
            "@@ -1,5 +1,5 @@\n 1\n-2\n+x\n 3\n 4\n 5\n"
            "@@ -15,6 +15,6 @@\n 15\n 16\n 17\n-18\n+x\n 19\n 20\n");
}

TEST(DiffTest, NearbyChangesShareOneHunk) {
  // Six unchanged lines between the changes: at most 2 * context, so one hunk.
  const std::string old_text = "a\n1\n2\n3\n4\n5\n6\nb\n";
  const std::string new_text = "A\n1\n2\n3\n4\n5\n6\nB\n";
  EXPECT_EQ(UnifiedDiff(old_text, new_text, "a", "b"),
            "--- a\n+++ b\n@@ -1,8 +1,8 @@\n-a\n+A\n 1\n 2\n 3\n 4\n 5\n 6\n-b\n+B\n");
}

TEST(DiffTest, InsertionIntoEmptyTextAndDeletionOfAll) {
  EXPECT_EQ(UnifiedDiff("", "a\nb\n", "a", "b"), "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n");
  EXPECT_EQ(UnifiedDiff("a\n", "", "a", "b"), "--- a\n+++ b\n@@ -1 +0,0 @@\n-a\n");
}

TEST(DiffTest, InsertionAfterTheLastLine) {
  EXPECT_EQ(UnifiedDiff("a\nb\n", "a\nb\nc\n", "a", "b"),
            "--- a\n+++ b\n@@ -1,2 +1,3 @@\n a\n b\n+c\n");
}

TEST(DiffTest, ZeroContext) {
  EXPECT_EQ(UnifiedDiff("a\nb\nc\n", "a\nB\nc\n", "a", "b", 0),
            "--- a\n+++ b\n@@ -2 +2 @@\n-b\n+B\n");
}

TEST(DiffTest, LargeMiddleFallsBackToReplaceAll) {
  // More cells than kMaxDiffCells: still a correct (if not minimal) script.
  std::vector<std::string> a, b;
  for (int i = 0; i < 5000; ++i) {
    a.push_back("a" + std::to_string(i));
    b.push_back(i % 2 == 0 ? "a" + std::to_string(i) : "b" + std::to_string(i));
  }
  a.insert(a.begin(), "first-a");
  b.insert(b.begin(), "first-b");
  std::vector<DiffLine> script = DiffLines(a, b);
  std::vector<std::string> rebuilt_old, rebuilt_new;
  for (const DiffLine& line : script) {
    if (line.op != '+') rebuilt_old.push_back(line.text);
    if (line.op != '-') rebuilt_new.push_back(line.text);
  }
  EXPECT_EQ(rebuilt_old, a);
  EXPECT_EQ(rebuilt_new, b);
}

}  // namespace
}  // namespace rwproxy::cli
