#include "cli/targets.h"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "gtest/gtest.h"

namespace rwproxy::cli {
namespace {

using Strings = std::vector<std::string>;

TEST(ParseServersFileTest, SkipsCommentsAndBlankLines) {
  auto servers = ParseServersFile(
      "# sidecars of the web tier\n"
      "10.0.0.1:15010\n"
      "\n"
      "   10.0.0.2:15010   # second\n"
      "unix:/run/rwproxy/control.sock\n"
      "\t#only a comment\n"
      "[::1]:15010");
  ASSERT_TRUE(servers.ok()) << servers.status();
  EXPECT_EQ(*servers, (Strings{"10.0.0.1:15010", "10.0.0.2:15010", "unix:/run/rwproxy/control.sock",
                               "[::1]:15010"}));
}

TEST(ParseServersFileTest, EmptyFileHasNoServers) {
  auto servers = ParseServersFile("# nothing\n\n");
  ASSERT_TRUE(servers.ok());
  EXPECT_TRUE(servers->empty());
}

TEST(ParseServersFileTest, RejectsTwoWordsOnALineNamingTheLine) {
  auto servers = ParseServersFile("a:1\n\nb:2 c:3\n");
  ASSERT_FALSE(servers.ok());
  EXPECT_NE(servers.status().message().find("line 3"), absl::string_view::npos) << servers.status();
}

class ResolveServersTest : public ::testing::Test {
 protected:
  std::string WriteFile(const std::string& text) {
    char name[] = "/tmp/rwctl-servers.XXXXXX";
    int fd = mkstemp(name);
    EXPECT_GE(fd, 0);
    close(fd);
    std::ofstream(name) << text;
    files_.push_back(name);
    return name;
  }
  ~ResolveServersTest() override {
    for (const auto& f : files_) std::remove(f.c_str());
  }
  Strings files_;
};

TEST_F(ResolveServersTest, FlagsThenFileInOrder) {
  std::string file = WriteFile("c:3\nd:4\n");
  auto servers = ResolveServers({"a:1", "b:2"}, file, "env:9");
  ASSERT_TRUE(servers.ok()) << servers.status();
  EXPECT_EQ(*servers, (Strings{"a:1", "b:2", "c:3", "d:4"}));
}

TEST_F(ResolveServersTest, EnvThenDefault) {
  EXPECT_EQ(*ResolveServers({}, "", "env:9"), Strings{"env:9"});
  EXPECT_EQ(*ResolveServers({}, "", ""), Strings{kDefaultServer});
  EXPECT_EQ(*ResolveServers({}, "", nullptr), Strings{kDefaultServer});
}

TEST_F(ResolveServersTest, BadFileIsAnError) {
  EXPECT_FALSE(ResolveServers({}, "/nonexistent/servers", nullptr).ok());
  EXPECT_FALSE(ResolveServers({}, WriteFile("# empty\n"), nullptr).ok());
  EXPECT_FALSE(ResolveServers({}, WriteFile("a b\n"), nullptr).ok());
  EXPECT_FALSE(ResolveServers({" "}, "", nullptr).ok());
}

TEST_F(ResolveServersTest, TokenFromFileTrimmedElseEnv) {
  EXPECT_EQ(*ResolveToken(WriteFile("  s3cret\n"), "env"), "s3cret");
  EXPECT_EQ(*ResolveToken("", "env-token"), "env-token");
  EXPECT_EQ(*ResolveToken("", nullptr), "");
  EXPECT_FALSE(ResolveToken(WriteFile("\n"), nullptr).ok());
  EXPECT_FALSE(ResolveToken("/nonexistent/token", nullptr).ok());
}

TEST(RunPerTargetTest, RunsEveryIndexOnce) {
  for (size_t count : {size_t{1}, size_t{3}, size_t{40}}) {
    std::vector<std::atomic<int>> hits(count);
    RunPerTarget(count, 4, [&](size_t i) { hits[i]++; });
    for (size_t i = 0; i < count; ++i) EXPECT_EQ(hits[i].load(), 1) << i << " of " << count;
  }
}

}  // namespace
}  // namespace rwproxy::cli
