// FileWatcher: a change made after the caller read the file (e.g. while rwproxy was booting) but
// before the watch started is applied, and an unchanged file triggers nothing.
#include "control/file_watcher.h"

#include <chrono>
#include <mutex>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/control/config_store_fixture.h"
#include "tests/support/wait.h"

namespace rwproxy::control {
namespace {

class Seen {
 public:
  void Add(const std::string& text) {
    std::lock_guard<std::mutex> lock(mu_);
    texts_.push_back(text);
  }
  std::vector<std::string> texts() {
    std::lock_guard<std::mutex> lock(mu_);
    return texts_;
  }

 private:
  std::mutex mu_;
  std::vector<std::string> texts_;
};

TEST(FileWatcherTest, ChangeMadeBeforeTheWatchStartsIsSeen) {
  TempDir dir;
  const std::string path = dir.File("routes.yaml");
  WriteAll(path, "edited while booting\n");
  Seen seen;
  FileWatcher watcher(path, [&](const std::string& text) { seen.Add(text); });
  ASSERT_TRUE(watcher.Start("as read at boot\n").ok());  // the baseline boot applied
  EXPECT_TRUE(rwtest::WaitFor([&] { return !seen.texts().empty(); }, std::chrono::seconds(5),
                              "the edit made during boot"));
  watcher.Stop();
  EXPECT_EQ(seen.texts(), std::vector<std::string>{"edited while booting\n"});
}

TEST(FileWatcherTest, UnchangedFileTriggersNothingAndAnEditDoes) {
  TempDir dir;
  const std::string path = dir.File("routes.yaml");
  WriteAll(path, "same\n");
  Seen seen;
  FileWatcher watcher(path, [&](const std::string& text) { seen.Add(text); });
  ASSERT_TRUE(watcher.Start("same\n").ok());
  WriteAll(path, "changed\n");
  EXPECT_TRUE(rwtest::WaitFor([&] { return !seen.texts().empty(); }, std::chrono::seconds(5),
                              "the edit"));
  watcher.Stop();
  EXPECT_EQ(seen.texts(), std::vector<std::string>{"changed\n"});
}

}  // namespace
}  // namespace rwproxy::control
