// --watch-config: a ConfigMap-style update (the `..data` symlink swapped in the file's directory)
// is applied through the versioned path; an invalid file changes nothing and is reported.
#include <filesystem>
#include <fstream>

#include "absl/strings/str_replace.h"
#include "tests/integration/integration_fixture.h"

namespace rwtest {
namespace {

namespace fs = std::filesystem;

class WatchConfigTest : public IntegrationTest {
 protected:
  // Kubernetes' atomic writer: write DIR/..gen_N/routes.yaml, point DIR/..data at it through a
  // rename of a fresh symlink, and keep DIR/routes.yaml -> ..data/routes.yaml.
  void PublishConfigMap(const std::string& text) {
    const fs::path dir = env_.dir();
    const std::string gen = "..gen_" + std::to_string(++generation_);
    fs::create_directories(dir / gen);
    std::ofstream(dir / gen / "routes.yaml") << text;
    fs::create_symlink(gen, dir / "..data_tmp");
    fs::rename(dir / "..data_tmp", dir / "..data");
    if (!fs::is_symlink(dir / "routes.yaml")) {
      fs::create_symlink("..data/routes.yaml", dir / "routes.tmp");
      fs::rename(dir / "routes.tmp", dir / "routes.yaml");
    }
  }

  ::testing::AssertionResult TargetBecomes(const std::string& request, const std::string& want) {
    std::string last;
    auto result = WaitFor(
        [&] {
          auto response = Get(request);
          last = response.ok() ? response->body : std::string(response.status().message());
          return last.find("target=" + want + "\n") != std::string::npos;
        },
        std::chrono::seconds(5), "upstream sees target " + want);
    if (!result) result << " (last body: " << last << ")";
    return result;
  }

  int generation_ = 0;
};

TEST_F(WatchConfigTest, ConfigMapSwapIsAppliedAndAnInvalidFileChangesNothing) {
  RW_ASSERT_OK(StartApp({}, {"--watch-config"}));
  ASSERT_TRUE(TargetBecomes("/api/users/7", "/users/7"));

  std::string v2 = absl::StrReplaceAll(env_.Expand(kBaseConfig), {{"path: \"/$1\"", "path: \"/v2/$1\""}});
  ASSERT_NE(v2, env_.Expand(kBaseConfig));
  PublishConfigMap(v2);
  EXPECT_TRUE(TargetBecomes("/api/users/7", "/v2/users/7"));
  // A good file is logged, with the version it became.
  EXPECT_TRUE(WaitFor(
      [&] {
        const std::string log = ReadFileTail(env_.proxy().log_path());
        return log.find("routes.yaml: live version 2") != std::string::npos &&
               log.find("applied ") != std::string::npos;
      },
      std::chrono::seconds(5), "the applied file in the log"))
      << ReadFileTail(env_.proxy().log_path());

  std::string v3 = absl::StrReplaceAll(v2, {{"/v2/$1", "/v3/$1"}});
  PublishConfigMap(v3);  // the pure `..data` swap: routes.yaml itself is untouched
  EXPECT_TRUE(TargetBecomes("/api/users/7", "/v3/users/7"));

  PublishConfigMap(absl::StrReplaceAll(v3, {{"^/api/(.*)$", "^/api/(.*$"}}));
  EXPECT_TRUE(WaitFor([&] { return env_.Counter("server.config_file_errors").value_or(0) >= 1; },
                      std::chrono::seconds(5), "config_file_errors counted"));
  EXPECT_TRUE(TargetBecomes("/api/users/7", "/v3/users/7"));  // the last good config serves
  EXPECT_NE(ReadFileTail(env_.proxy().log_path()).find("routes[0].match.path_regex: missing )"),
            std::string::npos)
      << ReadFileTail(env_.proxy().log_path());
}

}  // namespace
}  // namespace rwtest
