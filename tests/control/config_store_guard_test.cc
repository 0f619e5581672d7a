// Guarded applies in the ConfigStore over a FakeConfigTarget whose traffic the test sets, with
// the steady clock injected and the guard ticked by hand (Options::guard_tick = 0): revert, keep,
// too few requests, the previous version's ratio, supersede, listeners, persistence and restart.
#include <atomic>
#include <chrono>
#include <thread>

#include "tests/control/config_store_fixture.h"

namespace rwproxy::control {
namespace {

constexpr int64_t kApplyMs = 100'000;  // steady second 100

class GuardStoreTest : public ::testing::Test {
 protected:
  ConfigStore::Options StoreOptions(const std::string& state_dir = "") {
    ConfigStore::Options options;
    options.state_dir = state_dir;
    options.steady_ms = [this] { return now_ms_.load(); };
    options.guard_tick = absl::ZeroDuration();
    return options;
  }
  static ApplyOptions Guarded(absl::Duration duration, double ratio = 0.01, uint64_t min = 100) {
    ApplyOptions options;
    options.source = kSourceApi;
    options.guard = GuardSettings{duration, ratio, min};
    return options;
  }
  // v1 live (unguarded), then v2 applied with `guard` at kApplyMs; returns v2's result.
  ApplyResult ApplyGuarded(ConfigStore& store, const ApplyOptions& guard) {
    now_ms_ = kApplyMs - 20'000;
    EXPECT_TRUE(store.Apply(Tagged("v1"), Described("one")).ok());
    now_ms_ = kApplyMs;
    auto result = store.Apply(Tagged("v2"), guard);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : ApplyResult{};
  }
  v1::VersionInfo Info(const ConfigStore& store, uint64_t version) {
    for (const auto& info : store.History(0)) {
      if (info.version() == version) return info;
    }
    ADD_FAILURE() << "no version " << version;
    return {};
  }

  std::atomic<int64_t> now_ms_{kApplyMs};
  FakeConfigTarget target_;
};

TEST_F(GuardStoreTest, RevertsEarlyToThePreviousContentAsANewVersion) {
  ConfigStore store(&target_, StoreOptions());
  std::vector<v1::VersionInfo> events;
  store.Subscribe([&](const v1::VersionInfo& info) { events.push_back(info); });
  ApplyResult applied = ApplyGuarded(store, Guarded(absl::Seconds(10)));
  EXPECT_EQ(applied.version, 2u);
  EXPECT_EQ(applied.guard.outcome(), v1::GuardVerdict::PENDING);
  EXPECT_EQ(applied.guard.duration(), "10s");
  EXPECT_EQ(Info(store, 2).guard().outcome(), v1::GuardVerdict::PENDING);
  EXPECT_EQ(store.guard_counters().pending, 1u);

  target_.AddTraffic(1, 99, 1000, 1);  // before: 0.1%
  target_.AddTraffic(2, 100, 60, 30, ErrorKind::kNoRoute);
  now_ms_ = kApplyMs + 800;
  EXPECT_EQ(store.GuardTick().outcome(), v1::GuardVerdict::NONE);  // 60 < min_requests: watch
  target_.AddTraffic(2, 101, 140, 50, ErrorKind::kUpstream5xx, "api");
  now_ms_ = kApplyMs + 1'500;
  v1::GuardVerdict verdict = store.GuardTick();
  ASSERT_EQ(verdict.outcome(), v1::GuardVerdict::REVERTED);
  EXPECT_EQ(verdict.requests(), 200u);
  EXPECT_EQ(verdict.errors(), 80u);
  EXPECT_EQ(verdict.restored_version(), 1u);
  EXPECT_EQ(verdict.revert_version(), 3u);
  EXPECT_EQ(verdict.top_error_kind(), "upstream 5xx");
  EXPECT_EQ(verdict.top_error_route(), "api");
  EXPECT_EQ(verdict.elapsed_ms(), 1500);
  const std::string text =
      "guard: version 2 reverted after 1.5 s: 40.0% errors (upstream 5xx: 50 of 200; route api) "
      "vs 0.10% before";
  EXPECT_EQ(verdict.reason(), text);

  LiveConfig live = store.live();
  EXPECT_EQ(live.info.version(), 3u);
  EXPECT_EQ(live.info.source(), kSourceGuard);
  EXPECT_EQ(live.info.description(), text);
  EXPECT_EQ(live.info.content_hash(), ContentHash(Tagged("v1")));
  EXPECT_TRUE(MessageDifferencer::Equals(*live.config, Tagged("v1")));
  EXPECT_EQ(target_.published().back(), 3u);
  EXPECT_EQ(Info(store, 2).guard().outcome(), v1::GuardVerdict::REVERTED);
  EXPECT_EQ(Info(store, 2).guard().revert_version(), 3u);
  EXPECT_EQ(store.guard_counters().reverted, 1u);
  EXPECT_EQ(store.guard_counters().pending, 0u);
  // Listeners: v1, v2 (PENDING), v3 (the revert), then v2 again with its verdict.
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(events[1].guard().outcome(), v1::GuardVerdict::PENDING);
  EXPECT_EQ(events[2].version(), 3u);
  EXPECT_EQ(events[3].version(), 2u);
  EXPECT_EQ(events[3].guard().outcome(), v1::GuardVerdict::REVERTED);
  // Nothing left to watch.
  target_.AddTraffic(3, 102, 1000, 1000);
  EXPECT_EQ(store.GuardTick().outcome(), v1::GuardVerdict::NONE);
  EXPECT_EQ(store.live().info.version(), 3u);
  StatsSnapshot stats;
  store.AddGuardStats(&stats);
  EXPECT_EQ(stats.server["guard_reverted_total"], 1u);
  EXPECT_EQ(stats.server["guard_kept_total"], 0u);
}

TEST_F(GuardStoreTest, KeepsAGoodVersionAtTheEndOfTheWindow) {
  ConfigStore store(&target_, StoreOptions());
  ApplyGuarded(store, Guarded(absl::Seconds(5)));
  target_.AddTraffic(2, 101, 5000, 3);
  now_ms_ = kApplyMs + 4'999;
  EXPECT_EQ(store.GuardTick().outcome(), v1::GuardVerdict::NONE);
  now_ms_ = kApplyMs + 5'000;
  v1::GuardVerdict verdict = store.GuardTick();
  EXPECT_EQ(verdict.outcome(), v1::GuardVerdict::KEPT);
  EXPECT_EQ(verdict.reason(), "0.06% errors (3 of 5,000), not above the maximum 1.0%; kept");
  EXPECT_EQ(store.live().info.version(), 2u);
  EXPECT_EQ(store.live().info.guard().outcome(), v1::GuardVerdict::KEPT);
  EXPECT_EQ(store.guard_counters().kept, 1u);
}

TEST_F(GuardStoreTest, TooFewRequestsKeepsAndSaysWhy) {
  ConfigStore store(&target_, StoreOptions());
  ApplyGuarded(store, Guarded(absl::Seconds(3)));
  target_.AddTraffic(2, 101, 12, 12);  // every request failed, but only 12
  now_ms_ = kApplyMs + 2'000;
  EXPECT_EQ(store.GuardTick().outcome(), v1::GuardVerdict::NONE);
  now_ms_ = kApplyMs + 3'200;
  v1::GuardVerdict verdict = store.GuardTick();
  EXPECT_EQ(verdict.outcome(), v1::GuardVerdict::KEPT);
  EXPECT_EQ(verdict.reason(), "too few requests: 12 < 100; kept");
  EXPECT_EQ(store.live().info.version(), 2u);
}

TEST_F(GuardStoreTest, AVersionAsBadAsItsPredecessorIsKept) {
  ConfigStore store(&target_, StoreOptions());
  ApplyGuarded(store, Guarded(absl::Seconds(2)));
  target_.AddTraffic(1, 99, 1000, 400);  // the previous version failed 40% before the apply
  target_.AddTraffic(1, 100, 1000, 400);
  target_.AddTraffic(2, 101, 1000, 400);
  now_ms_ = kApplyMs + 1'000;
  EXPECT_EQ(store.GuardTick().outcome(), v1::GuardVerdict::NONE);  // 40% is not above 40%
  now_ms_ = kApplyMs + 2'000;
  v1::GuardVerdict verdict = store.GuardTick();
  EXPECT_EQ(verdict.outcome(), v1::GuardVerdict::KEPT);
  EXPECT_EQ(verdict.previous_requests(), 2000u);
  EXPECT_EQ(verdict.reason(),
            "40.0% errors (400 of 1,000), not above 40.0% before (800 of 2,000); kept");
}

TEST_F(GuardStoreTest, OldErrorsOutsideTheWindowDoNotExcuseANewVersion) {
  ConfigStore store(&target_, StoreOptions());
  ApplyGuarded(store, Guarded(absl::Seconds(10)));
  target_.AddTraffic(1, 50, 1000, 900);  // 50 s before the apply: outside a 2 s window
  target_.AddTraffic(1, 99, 1000, 0);
  target_.AddTraffic(2, 101, 1000, 400);
  now_ms_ = kApplyMs + 1'500;
  v1::GuardVerdict verdict = store.GuardTick();
  EXPECT_EQ(verdict.outcome(), v1::GuardVerdict::REVERTED);
  EXPECT_EQ(verdict.previous_requests(), 1000u);
  EXPECT_EQ(verdict.previous_errors(), 0u);
}

TEST_F(GuardStoreTest, ANewerApplySupersedesThePendingGuard) {
  ConfigStore store(&target_, StoreOptions());
  std::vector<v1::VersionInfo> events;
  store.Subscribe([&](const v1::VersionInfo& info) { events.push_back(info); });
  ApplyGuarded(store, Guarded(absl::Seconds(10)));
  target_.AddTraffic(2, 100, 500, 0);
  now_ms_ = kApplyMs + 1'200;
  // A no-op apply changes nothing and does not end the guard.
  ASSERT_FALSE(store.Apply(Tagged("v2"), Described("same"))->changed);
  EXPECT_EQ(store.guard_counters().pending, 1u);
  ApplyOptions file;
  file.source = kSourceFile;
  ASSERT_EQ(store.Apply(Tagged("v3"), file)->version, 3u);
  const v1::VersionInfo info = Info(store, 2);
  EXPECT_EQ(info.guard().outcome(), v1::GuardVerdict::SUPERSEDED);
  EXPECT_EQ(info.guard().reason(), "superseded by version 3 after 1.2 s (500 requests)");
  EXPECT_EQ(info.guard().requests(), 500u);
  EXPECT_EQ(store.guard_counters().superseded, 1u);
  EXPECT_EQ(store.guard_counters().pending, 0u);
  ASSERT_GE(events.size(), 2u);
  EXPECT_EQ(events.back().version(), 2u);  // the verdict, after version 3
  EXPECT_EQ(events[events.size() - 2].version(), 3u);
  // Bad traffic on version 2 now changes nothing.
  target_.AddTraffic(2, 101, 1000, 1000);
  now_ms_ = kApplyMs + 2'000;
  EXPECT_EQ(store.GuardTick().outcome(), v1::GuardVerdict::NONE);
  EXPECT_EQ(store.live().info.version(), 3u);

  // A guarded apply supersedes a guarded one; the newer one is watched.
  ASSERT_EQ(store.Apply(Tagged("v4"), Guarded(absl::Seconds(10)))->version, 4u);
  ASSERT_EQ(store.Apply(Tagged("v5"), Guarded(absl::Seconds(10)))->version, 5u);
  EXPECT_EQ(Info(store, 4).guard().outcome(), v1::GuardVerdict::SUPERSEDED);
  EXPECT_EQ(Info(store, 5).guard().outcome(), v1::GuardVerdict::PENDING);
  target_.AddTraffic(5, 103, 200, 100);
  now_ms_ = kApplyMs + 3'000;
  v1::GuardVerdict verdict = store.GuardTick();
  EXPECT_EQ(verdict.outcome(), v1::GuardVerdict::REVERTED);
  EXPECT_EQ(verdict.restored_version(), 4u);
  EXPECT_EQ(store.live().info.content_hash(), ContentHash(Tagged("v4")));
}

TEST_F(GuardStoreTest, DryRunsAndTheFirstVersionAreNotGuarded) {
  ConfigStore store(&target_, StoreOptions());
  auto first = store.Apply(Tagged("v1"), Guarded(absl::Seconds(5)));
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->guard.outcome(), v1::GuardVerdict::NONE);  // nothing to revert to
  ApplyOptions dry = Guarded(absl::Seconds(5));
  dry.dry_run = true;
  EXPECT_EQ(store.Apply(Tagged("v2"), dry)->guard.outcome(), v1::GuardVerdict::NONE);
  EXPECT_EQ(store.guard_counters().pending, 0u);
}

TEST_F(GuardStoreTest, VerdictIsPersistedAndARestartEndsAPendingGuard) {
  TempDir dir;
  {
    ConfigStore store(&target_, StoreOptions(dir.path()));
    ApplyGuarded(store, Guarded(absl::Seconds(2)));
    target_.AddTraffic(2, 100, 10, 0);
    now_ms_ = kApplyMs + 2'000;
    ASSERT_EQ(store.GuardTick().outcome(), v1::GuardVerdict::KEPT);
    ASSERT_EQ(store.Apply(Tagged("v3"), Guarded(absl::Seconds(60)))->version, 3u);
  }  // stops with version 3's guard pending
  StateDir state(dir.path(), [] { return absl::Now(); });
  auto scan = state.Open();
  ASSERT_TRUE(scan.ok());
  ASSERT_EQ(scan->versions.size(), 3u);
  EXPECT_EQ(scan->versions[1].info.guard().outcome(), v1::GuardVerdict::KEPT);
  EXPECT_EQ(scan->versions[1].info.guard().reason(), "too few requests: 10 < 100; kept");
  EXPECT_EQ(scan->versions[2].info.guard().outcome(), v1::GuardVerdict::PENDING);
  Config config;
  ASSERT_TRUE(state.Read(2, &config, nullptr).ok());  // the content is unchanged
  EXPECT_TRUE(MessageDifferencer::Equals(config, Tagged("v2")));

  FakeConfigTarget target;
  ConfigStore restarted(&target, StoreOptions(dir.path()));
  auto restored = restarted.Restore();
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->version, 3u);
  const v1::VersionInfo info = Info(restarted, 3);
  EXPECT_EQ(info.guard().outcome(), v1::GuardVerdict::SUPERSEDED);
  EXPECT_TRUE(info.guard().reason().starts_with("interrupted by a restart"))
      << info.guard().reason();
  EXPECT_EQ(restarted.live().info.guard().outcome(), v1::GuardVerdict::SUPERSEDED);
  EXPECT_EQ(restarted.guard_counters().pending, 0u);
  auto rescan = StateDir(dir.path(), [] { return absl::Now(); }).Open();
  ASSERT_TRUE(rescan.ok());
  EXPECT_EQ(rescan->versions[2].info.guard().outcome(), v1::GuardVerdict::SUPERSEDED);
}

TEST_F(GuardStoreTest, TheGuardThreadDecidesWithoutTheCaller) {
  ConfigStore::Options options = StoreOptions();
  options.guard_tick = absl::Milliseconds(10);
  ConfigStore store(&target_, options);
  ApplyGuarded(store, Guarded(absl::Seconds(30)));
  target_.AddTraffic(2, 100, 500, 250, ErrorKind::kLocal503);
  now_ms_ = kApplyMs + 700;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Info(store, 2).guard().outcome() != v1::GuardVerdict::REVERTED &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));  // polling, not timing
  }
  ASSERT_EQ(store.live().info.version(), 3u);
  EXPECT_EQ(store.live().info.source(), kSourceGuard);
  EXPECT_EQ(Info(store, 2).guard().top_error_kind(), "local 503");
  store.StopGuard();
  store.StopGuard();  // idempotent
}

// The revert cannot be persisted (the state dir became a file): the verdict says REVERT_FAILED,
// not REVERTED, the bad version stays live, and it is counted apart.
TEST_F(GuardStoreTest, ARevertThatCannotBeAppliedIsRevertFailedNotReverted) {
  TempDir dir;
  const std::string state = dir.File("state");
  ConfigStore store(&target_, StoreOptions(state));
  ASSERT_TRUE(store.Restore().ok());
  ApplyGuarded(store, Guarded(absl::Seconds(10)));
  std::filesystem::remove_all(state);
  WriteAll(state, "not a directory");
  target_.AddTraffic(1, 99, 1000, 1);
  target_.AddTraffic(2, 100, 200, 100, ErrorKind::kUpstream5xx, "api");
  now_ms_ = kApplyMs + 1'000;
  v1::GuardVerdict verdict = store.GuardTick();
  EXPECT_EQ(verdict.outcome(), v1::GuardVerdict::REVERT_FAILED);
  EXPECT_NE(verdict.reason().find("the revert failed: cannot persist version 3"),
            std::string::npos)
      << verdict.reason();
  EXPECT_EQ(store.live().info.version(), 2u);
  EXPECT_EQ(store.guard_counters().reverted, 0u);
  EXPECT_EQ(store.guard_counters().revert_failed, 1u);
}

// A worker that does not answer is not in the counts: the guard does not call the version kept
// until every worker is counted.
TEST_F(GuardStoreTest, KeptWaitsUntilEveryWorkerIsCounted) {
  ConfigStore store(&target_, StoreOptions());
  ApplyGuarded(store, Guarded(absl::Seconds(2), 0.01, 10));
  target_.AddTraffic(2, 100, 500, 0);
  VersionTraffic partial = target_.Traffic();
  partial.workers_unresponsive = 1;
  target_.set_traffic(partial);
  now_ms_ = kApplyMs + 3'000;  // the window is over
  EXPECT_EQ(store.GuardTick().outcome(), v1::GuardVerdict::NONE);
  partial.workers_unresponsive = 0;
  target_.set_traffic(partial);
  EXPECT_EQ(store.GuardTick().outcome(), v1::GuardVerdict::KEPT);
}

}  // namespace
}  // namespace rwproxy::control
