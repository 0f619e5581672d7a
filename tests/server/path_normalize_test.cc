#include "server/http/path_normalize.h"

#include "gtest/gtest.h"

namespace rwproxy {
namespace {

// The normalized path, or "REJECTED".
std::string Norm(std::string_view path, HttpSpec options = {}) {
  std::string out;
  const char* reason = "";
  switch (NormalizePath(path, options, &out, &reason)) {
    case NormalizeResult::kUnchanged:
      return std::string(path);
    case NormalizeResult::kChanged:
      return out;
    case NormalizeResult::kRejected:
      return "REJECTED";
  }
  return "";
}

TEST(PathNormalizeTest, RemovesDotSegments) {
  EXPECT_EQ(Norm("/public/../admin"), "/admin");
  EXPECT_EQ(Norm("/a/./b/../../c"), "/c");
  EXPECT_EQ(Norm("/../../etc"), "/etc");
  EXPECT_EQ(Norm("/a/b/.."), "/a/");
  EXPECT_EQ(Norm("/a/."), "/a/");
  EXPECT_EQ(Norm("/.well-known/x"), "/.well-known/x");
}

TEST(PathNormalizeTest, DecodesUnreservedOnly) {
  EXPECT_EQ(Norm("/%61dmin"), "/admin");
  EXPECT_EQ(Norm("/public/%2e%2e/admin"), "/admin");  // encoded dots are dots
  EXPECT_EQ(Norm("/a%20b"), "/a%20b");
  EXPECT_EQ(Norm("/a%3fb"), "/a%3Fb");  // reserved: kept, hex upper-cased
  EXPECT_EQ(Norm("/a%zz"), "REJECTED");
  EXPECT_EQ(Norm("/a%2"), "REJECTED");
}

TEST(PathNormalizeTest, EncodedSlashOptions) {
  EXPECT_EQ(Norm("/a%2fb/../c"), "/c");  // kept: %2F is not a separator, "a%2Fb" is one segment
  HttpSpec reject;
  reject.escaped_slashes = EscapedSlashes::kReject;
  EXPECT_EQ(Norm("/a%2Fb", reject), "REJECTED");
  HttpSpec decode;
  decode.escaped_slashes = EscapedSlashes::kDecode;
  EXPECT_EQ(Norm("/a%2Fb/../c", decode), "/a/c");
}

TEST(PathNormalizeTest, MergeSlashesIsAnOption) {
  EXPECT_EQ(Norm("//a///b"), "//a///b");
  HttpSpec merge;
  merge.merge_slashes = true;
  EXPECT_EQ(Norm("//a///b/", merge), "/a/b/");
}

TEST(PathNormalizeTest, OffLeavesThePathAlone) {
  HttpSpec off;
  off.normalize_path = false;
  EXPECT_EQ(Norm("/public/../admin", off), "/public/../admin");
}

}  // namespace
}  // namespace rwproxy
