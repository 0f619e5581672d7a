// --state-dir against a real rwproxy: a kill -9 in the middle of a stream of applies never
// restores a version older than the last acknowledged one, and a state dir whose files are all
// damaged falls back to --config at a version above every version it has seen.
#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "tests/integration/control_fixture.h"

namespace rwtest {
namespace {

class StateTest : public ControlTest {};

// 30 rounds: applies run back to back on a helper thread; the test kills the process with
// SIGKILL at a random moment (after a random number of acknowledged applies, so often while the
// next one is in flight), restarts it on the same state dir, and checks the restored version.
TEST_F(StateTest, KillNineDuringAppliesNeverLosesAnAcknowledgedVersion) {
  const std::string state_dir = env_.dir() + "/state";
  const std::vector<std::string> args = {"--state-dir", state_dir, "--drain-timeout", "0s"};
  RW_ASSERT_OK(StartTagged("boot", args));
  std::mt19937 random(12345);
  uint64_t floor = 1;  // every restored version must be at least this
  for (int round = 0; round < 30; ++round) {
    SCOPED_TRACE(absl::StrCat("round ", round));
    std::atomic<uint64_t> acked{0};
    std::atomic<int> acked_index{-1};
    std::atomic<bool> stop{false};
    std::thread applier([&] {
      for (int i = 0; i < 200 && !stop.load(); ++i) {
        v1::ApplyResponse response;
        if (!Apply(absl::StrCat("r", round, "i", i), &response).ok()) return;  // killed
        acked_index.store(i);
        acked.store(response.version());
      }
    });
    const uint64_t kill_after = 1 + random() % 6;
    ASSERT_TRUE(WaitFor([&] { return acked.load() >= floor + kill_after - 1; },
                        std::chrono::seconds(20), "applies acknowledged"));
    ASSERT_EQ(::kill(env_.proxy().pid(), SIGKILL), 0);
    stop = true;
    applier.join();
    env_.proxy().Stop();  // reaps it
    const uint64_t last_acked = acked.load();
    RW_ASSERT_OK(env_.StartProxy(TaggedYaml("fallback"), args));
    stub_.reset();
    const v1::GetConfigResponse live = Live();
    EXPECT_GE(live.version(), last_acked);
    // The content is the last acknowledged config, or the one in flight when the kill came (it
    // may have been persisted without its answer arriving): never an older one, never --config.
    const int k = acked_index.load();
    const std::string name = live.config().routes(0).name();
    EXPECT_TRUE(name == absl::StrCat("api-r", round, "i", k) ||
                name == absl::StrCat("api-r", round, "i", k + 1))
        << name << " after acknowledged index " << k;
    floor = live.version() + 1;
  }
}

TEST_F(StateTest, DamagedStateFallsBackToConfigAboveEveryVersionSeen) {
  const std::string state_dir = env_.dir() + "/state";
  RW_ASSERT_OK(StartTagged("a", {"--state-dir", state_dir}));
  v1::ApplyResponse response;
  ASSERT_TRUE(Apply("b", &response).ok());
  ASSERT_TRUE(Apply("c", &response).ok());
  ASSERT_EQ(response.version(), 3u);
  env_.proxy().Stop();
  for (const auto& entry : std::filesystem::directory_iterator(state_dir)) {
    std::ofstream(entry.path(), std::ios::trunc) << "damaged";
  }

  RW_ASSERT_OK(StartTagged("d", {"--state-dir", state_dir}));
  stub_.reset();
  EXPECT_EQ(Live().version(), 4u);  // not 1: a script waiting for version 3 is not fooled
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  EXPECT_EQ(UpstreamTarget(**conn), "/d/x");
  const std::string log = ReadFileTail(env_.proxy().log_path());
  EXPECT_NE(log.find("no saved version could be restored"), std::string::npos) << log;
  int aside = 0;
  for (const auto& entry : std::filesystem::directory_iterator(state_dir)) {
    aside += entry.path().filename().string().find(".corrupt-") != std::string::npos;
  }
  EXPECT_EQ(aside, 3);
}

}  // namespace
}  // namespace rwtest
