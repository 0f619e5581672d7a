// ConfigStore persistence: one file per version written and restored (source and peer
// included), a format-1 state.json migrated, files that cannot be parsed set aside while every
// other version is kept, a saved version that no longer compiles, versions that never go
// backwards, and a failed write.
#include <sys/stat.h>

#include "absl/strings/str_replace.h"
#include "tests/control/config_store_fixture.h"

namespace rwproxy::control {
namespace {

std::vector<std::string> Names(const TempDir& dir, const std::string& prefix) {
  std::vector<std::string> names;
  for (const auto& path : dir.Matching(prefix)) {
    names.push_back(std::filesystem::path(path).filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

TEST(ConfigStoreStateTest, PersistsOneFilePerVersionAndRestores) {
  TempDir dir;
  {
    Fixture f(dir.path());
    auto none = f.store.Restore();
    ASSERT_TRUE(none.ok()) << none.status();
    EXPECT_EQ(none->version, 0u);
    ASSERT_TRUE(f.store.Apply(Tagged("a"), Described("first")).ok());
    ASSERT_TRUE(f.store.Apply(Tagged("b"), {.description = "second", .source = kSourceApi,
                                            .peer = "ipv4:127.0.0.1:5555"})
                    .ok());
  }
  EXPECT_EQ(Names(dir, ""), (std::vector<std::string>{"version-1.pb", "version-2.pb"}));
  Fixture g(dir.path());
  auto restored = g.store.Restore();
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->version, 2u);
  EXPECT_TRUE(restored->notes.empty());
  EXPECT_EQ(g.target.published(), std::vector<uint64_t>{2});
  LiveConfig live = g.store.live();
  EXPECT_EQ(live.info.description(), "second");
  EXPECT_EQ(live.info.peer(), "ipv4:127.0.0.1:5555");
  EXPECT_EQ(live.info.source(), "api");
  EXPECT_TRUE(MessageDifferencer::Equals(*live.config, Tagged("b")));
  std::vector<v1::VersionInfo> history = g.store.History(0);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].description(), "first");
  EXPECT_EQ(history[1].content_hash(), ContentHash(Tagged("a")));
  // Identical content is still recognised after a restore; the history serves Rollback (its
  // config read back from disk).
  auto same = g.store.Apply(Tagged("b"), {});
  ASSERT_TRUE(same.ok());
  EXPECT_FALSE(same->changed);
  auto next = g.store.Rollback(1, {});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->version, 3u);
  EXPECT_TRUE(MessageDifferencer::Equals(*g.store.live().config, Tagged("a")));
}

TEST(ConfigStoreStateTest, AnApplyWritesOnlyItsOwnFile) {
  TempDir dir;
  Fixture f(dir.path());
  ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());
  struct stat before {};
  ASSERT_EQ(::stat(dir.File("version-1.pb").c_str(), &before), 0);
  const std::string content = ReadAll(dir.File("version-1.pb"));
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(f.store.Apply(Tagged(absl::StrCat("x", i)), {}).ok());
  struct stat after {};
  ASSERT_EQ(::stat(dir.File("version-1.pb").c_str(), &after), 0);
  EXPECT_EQ(before.st_ino, after.st_ino);  // never rewritten (an atomic replace changes it)
  EXPECT_EQ(ReadAll(dir.File("version-1.pb")), content);
  EXPECT_EQ(Names(dir, "").size(), 6u);
}

TEST(ConfigStoreStateTest, HistoryOnDiskIsBoundedByCountAndBytes) {
  TempDir dir;
  Fixture f(dir.path(), {.max_versions = 5, .max_bytes = 1 << 20});
  for (int i = 1; i <= 12; ++i) ASSERT_TRUE(f.store.Apply(Tagged(absl::StrCat("v", i)), {}).ok());
  EXPECT_EQ(Names(dir, ""), (std::vector<std::string>{"version-10.pb", "version-11.pb",
                                                      "version-12.pb", "version-8.pb",
                                                      "version-9.pb"}));
  EXPECT_EQ(f.store.History(0).size(), 5u);

  // Bytes: configs of about 40 KB under a 100 KB bound keep two; a config larger than the bound
  // is still kept alone, as the live version.
  auto big = [](char c, size_t n) {
    Config config = Tagged("big");
    auto* route = config.add_routes();
    route->set_name("big");
    route->mutable_match()->set_path_prefix("/big");
    route->mutable_respond()->set_body(std::string(n, c));
    return config;
  };
  TempDir bytes_dir;
  Fixture g(bytes_dir.path(), {.max_versions = 50, .max_bytes = 100 * 1000});
  for (char c : std::string("abcdef")) ASSERT_TRUE(g.store.Apply(big(c, 40 * 1000), {}).ok());
  EXPECT_EQ(g.store.History(0).size(), 2u);
  EXPECT_EQ(Names(bytes_dir, "").size(), 2u);
  ASSERT_TRUE(g.store.Apply(big('z', 200 * 1000), {}).ok());
  EXPECT_EQ(g.store.History(0).size(), 1u);
  EXPECT_EQ(Names(bytes_dir, ""), std::vector<std::string>{"version-7.pb"});

  // Without a state dir the same bounds hold in memory.
  Fixture m("", {.max_versions = 3, .max_bytes = 1 << 20});
  for (int i = 1; i <= 7; ++i) ASSERT_TRUE(m.store.Apply(Tagged(absl::StrCat("v", i)), {}).ok());
  EXPECT_EQ(m.store.History(0).size(), 3u);
  EXPECT_TRUE(m.store.Rollback(5, {}).ok());
  EXPECT_EQ(m.store.Rollback(4, {}).status().code(), absl::StatusCode::kNotFound);
}

// 100 applies alternating two large configs: the dir holds what the bound allows, not 100.
TEST(ConfigStoreStateTest, StateSizeStaysBoundedOverHundredLargeApplies) {
  TempDir dir;
  const size_t bound = 2 * 1000 * 1000;
  Fixture f(dir.path(), {.max_versions = 50, .max_bytes = bound});
  Config configs[2] = {Tagged("x"), Tagged("y")};
  for (int c = 0; c < 2; ++c) {
    auto* route = configs[c].add_routes();
    route->set_name("big");
    route->mutable_match()->set_path_prefix("/big");
    route->mutable_respond()->set_body(std::string(300 * 1000, c == 0 ? 'x' : 'y'));
  }
  for (int i = 0; i < 100; ++i) ASSERT_TRUE(f.store.Apply(configs[i % 2], {}).ok());
  EXPECT_EQ(f.store.live().info.version(), 100u);
  size_t total = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    total += entry.file_size();
  }
  EXPECT_LE(total, bound + 1000);  // six 300 KB versions (+ their small headers)
  EXPECT_EQ(f.store.History(0).size(), 6u);
}

// Format-1 files were written when Match.headers was a map (now legacy_headers; headers is a
// list): such a file still migrates, with its header matches.
TEST(StateFileTest, FormatOneHeadersMapIsReadAsLegacyHeaders) {
  state::v1::State old;
  old.set_format(1);
  old.set_live_version(2);
  auto* entry = old.add_history();
  *entry->mutable_config() = Tagged("h");
  (*entry->mutable_config()->mutable_routes(0)->mutable_match()->mutable_legacy_headers())
      ["x-canary"] = "1";
  entry->mutable_info()->set_version(2);
  entry->mutable_info()->set_content_hash(ContentHash(entry->config()));
  auto json = StateToJson(old);
  ASSERT_TRUE(json.ok());
  std::string written = absl::StrReplaceAll(*json, {{"\"legacy_headers\"", "\"headers\""}});
  ASSERT_NE(written, *json);
  state::v1::State parsed;
  absl::Status status = StateFromJson(written, &parsed);
  ASSERT_TRUE(status.ok()) << status;
  EXPECT_TRUE(MessageDifferencer::Equals(parsed.history(0).config(), entry->config()));
}

TEST(ConfigStoreStateTest, MigratesAFormatOneStateFile) {
  TempDir dir;
  state::v1::State old;
  old.set_format(1);
  old.set_live_version(4);
  for (uint64_t version : {3, 4}) {
    auto* entry = old.add_history();
    *entry->mutable_config() = Tagged(absl::StrCat("old", version));
    entry->mutable_info()->set_version(version);
    entry->mutable_info()->set_applied_unix_ms(1700000000000);
    entry->mutable_info()->set_content_hash(ContentHash(entry->config()));
    entry->mutable_info()->set_description(absl::StrCat("from an older rwproxy ", version));
  }
  auto json = StateToJson(old);
  ASSERT_TRUE(json.ok());
  WriteAll(dir.File("state.json"), *json);
  Fixture f(dir.path());
  auto restored = f.store.Restore();
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->version, 4u);
  ASSERT_EQ(restored->notes.size(), 1u);
  EXPECT_NE(restored->notes[0].find("migrated"), std::string::npos) << restored->notes[0];
  EXPECT_EQ(Names(dir, ""), (std::vector<std::string>{"version-3.pb", "version-4.pb"}));
  EXPECT_EQ(f.store.History(0).at(1).description(), "from an older rwproxy 3");
  EXPECT_TRUE(MessageDifferencer::Equals(*f.store.live().config, Tagged("old4")));
  auto next = f.store.Apply(Tagged("new"), {});
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->version, 5u);
}

// Every way the newest file can be damaged: it is set aside, every older version stays, and the
// newest readable one is served as a NEW version above every version the dir has seen.
TEST(ConfigStoreStateTest, UnreadableNewestFileIsSetAsideAndVersionsNeverGoBack) {
  struct Row {
    std::string name;
    std::function<void(const std::string& path, const std::string& good)> damage;
  };
  const Row rows[] = {
      {"garbage", [](const std::string& p, const std::string&) { WriteAll(p, "\x01\x02junk"); }},
      {"truncated",
       [](const std::string& p, const std::string& good) {
         WriteAll(p, good.substr(0, good.size() / 2));
       }},
      {"empty", [](const std::string& p, const std::string&) { WriteAll(p, ""); }},
      {"edited content",
       [](const std::string& p, const std::string& good) {
         std::string edited = good;
         edited.replace(edited.find("/c/$1"), 5, "/x/$1");
         WriteAll(p, edited);
       }},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    TempDir dir;
    {
      Fixture f(dir.path());
      for (const char* tag : {"a", "b", "c"}) ASSERT_TRUE(f.store.Apply(Tagged(tag), {}).ok());
    }
    const std::string path = dir.File("version-3.pb");
    row.damage(path, ReadAll(path));
    const std::string damaged = ReadAll(path);

    Fixture g(dir.path());
    auto restored = g.store.Restore();
    ASSERT_TRUE(restored.ok()) << restored.status();
    EXPECT_EQ(restored->version, 4u);  // version 2's content, as version 4
    EXPECT_TRUE(MessageDifferencer::Equals(*g.store.live().config, Tagged("b")));
    EXPECT_EQ(g.store.live().info.source(), kSourceRestore);
    ASSERT_FALSE(restored->notes.empty());
    EXPECT_NE(restored->notes[0].find("kept it as"), std::string::npos) << restored->notes[0];
    std::vector<std::string> aside = Names(dir, "version-3.pb.corrupt-");
    ASSERT_EQ(aside.size(), 1u);
    EXPECT_EQ(ReadAll(dir.File(aside[0])), damaged);
    EXPECT_EQ(g.target.published(), std::vector<uint64_t>{4});
    std::vector<v1::VersionInfo> history = g.store.History(0);
    ASSERT_EQ(history.size(), 3u);  // 1, 2 and the restored 4
    EXPECT_EQ(history[2].version(), 1u);
  }
}

TEST(ConfigStoreStateTest, NothingReadableFallsBackAboveEveryVersionSeen) {
  TempDir dir;
  {
    Fixture f(dir.path());
    for (int i = 1; i <= 57; ++i) ASSERT_TRUE(f.store.Apply(Tagged(absl::StrCat(i)), {}).ok());
  }
  for (const auto& path : dir.Matching("version-")) WriteAll(path, "not a version file");
  Fixture g(dir.path());
  auto restored = g.store.Restore();
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->version, 0u);
  EXPECT_EQ(restored->notes.size(), 50u);  // the 50 kept files, each set aside
  EXPECT_TRUE(g.target.published().empty());
  // The caller applies --config: above 57, the highest version the dir has acknowledged, known
  // only from the names of the files set aside.
  auto fallback = g.store.Apply(Tagged("boot"), {.source = kSourceBoot});
  ASSERT_TRUE(fallback.ok()) << fallback.status();
  EXPECT_EQ(fallback->version, 58u);
}

TEST(ConfigStoreStateTest, SavedVersionThatNoLongerCompilesIsKeptAndAnOlderOneServed) {
  TempDir dir;
  {
    Fixture f(dir.path());
    ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());
  }
  // Version 2 as an older rwproxy might have accepted it: parses, does not compile now.
  StateDir state(dir.path(), [] { return absl::Now(); });
  Config bad = Parse(
      "clusters: [{name: app, endpoints: ['127.0.0.1:80']}]\n"
      "routes: [{name: r, match: {path_regex: '(('}, cluster: app}]\n");
  v1::VersionInfo info;
  info.set_version(2);
  const std::string bytes = DeterministicBytes(bad);
  info.set_content_hash(HashBytes(bytes));
  ASSERT_TRUE(state.Write(info, bytes).ok());

  Fixture g(dir.path());
  auto restored = g.store.Restore();
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->version, 3u);
  EXPECT_TRUE(MessageDifferencer::Equals(*g.store.live().config, Tagged("a")));
  ASSERT_EQ(restored->notes.size(), 1u);
  EXPECT_NE(restored->notes[0].find("saved version 2 does not compile"), std::string::npos);
  EXPECT_NE(g.store.live().info.description().find("restored version 1"), std::string::npos);
  // Version 2 is not deleted or set aside: it parses, and stays in the history.
  EXPECT_EQ(Names(dir, ""),
            (std::vector<std::string>{"version-1.pb", "version-2.pb", "version-3.pb"}));
  EXPECT_EQ(g.store.History(0).size(), 3u);
}

// Nothing saved compiles: nothing is live, so the --config apply that follows is a real apply
// (above the high-water mark, published), even when --config is an empty config.
TEST(ConfigStoreStateTest, NothingCompilesThenAnEmptyConfigIsAppliedAndPublished) {
  TempDir dir;
  StateDir state(dir.path(), [] { return absl::Now(); });
  Config bad = Parse(
      "clusters: [{name: app, endpoints: ['127.0.0.1:80']}]\n"
      "routes: [{name: r, match: {path_regex: '(('}, cluster: app}]\n");
  v1::VersionInfo info;
  info.set_version(1);
  const std::string bytes = DeterministicBytes(bad);
  info.set_content_hash(HashBytes(bytes));
  ASSERT_TRUE(state.Write(info, bytes).ok());
  Fixture f(dir.path());
  auto restored = f.store.Restore();
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(restored->version, 0u);
  EXPECT_EQ(f.store.live().info.version(), 0u);
  auto empty = f.store.Apply(Config(), {.expected_version = 0, .source = kSourceBoot});
  ASSERT_TRUE(empty.ok()) << empty.status();
  EXPECT_TRUE(empty->changed);
  EXPECT_EQ(empty->version, 2u);
  EXPECT_EQ(f.target.published(), std::vector<uint64_t>{2});
}

// A version file that cannot be read now (here: a directory) is not bad content: it is not set
// aside and no older version is served in its place; Restore fails and says why.
TEST(ConfigStoreStateTest, AnUnreadableVersionFileStopsTheRestoreInsteadOfGoingBack) {
  TempDir dir;
  {
    Fixture f(dir.path());
    ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());
    ASSERT_TRUE(f.store.Apply(Tagged("b"), {}).ok());
  }
  std::filesystem::remove(dir.File("version-2.pb"));
  std::filesystem::create_directory(dir.File("version-2.pb"));
  Fixture g(dir.path());
  auto restored = g.store.Restore();
  ASSERT_FALSE(restored.ok());
  EXPECT_NE(restored.status().message().find("cannot read"), absl::string_view::npos)
      << restored.status();
  EXPECT_TRUE(Names(dir, "version-2.pb.corrupt-").empty());
  EXPECT_TRUE(g.target.published().empty());
}

TEST(ConfigStoreStateTest, FailureToPersistChangesNothing) {
  TempDir dir;
  WriteAll(dir.File("state"), "a file where the dir should be");
  Fixture f(dir.File("state"));
  EXPECT_FALSE(f.store.Restore().ok());
  auto result = f.store.Apply(Tagged("a"), {});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal) << result.status();
  EXPECT_NE(result.status().message().find("nothing changed"), absl::string_view::npos);
  EXPECT_EQ(f.store.live().info.version(), 0u);
  EXPECT_TRUE(f.target.published().empty());
}

TEST(ConfigStoreStateTest, LateWorkerIsReportedButTheVersionIsLive) {
  TempDir dir;
  Fixture f(dir.path());
  ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());
  f.target.set_publish_status(absl::DeadlineExceededError("worker(s) 1 did not confirm"));
  auto result = f.store.Apply(Tagged("b"), {});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kDeadlineExceeded) << result.status();
  EXPECT_NE(result.status().message().find("version 2 is persisted and live"),
            absl::string_view::npos);
  EXPECT_EQ(f.store.live().info.version(), 2u);
  f.target.set_publish_status(absl::OkStatus());
  auto next = f.store.Apply(Tagged("c"), {.expected_version = 2});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->version, 3u);
}

TEST(StateFileTest, RoundTripKeepsSourceAndPeer) {
  state::v1::State state;
  state.set_format(1);
  state.set_live_version(2);
  for (uint64_t version : {1, 2}) {
    auto* entry = state.add_history();
    *entry->mutable_config() = Tagged(absl::StrCat("v", version));
    entry->mutable_info()->set_version(version);
    entry->mutable_info()->set_content_hash(ContentHash(entry->config()));
    entry->mutable_info()->set_source(version == 1 ? "boot" : "rollback");
    entry->mutable_info()->set_peer(version == 1 ? "" : "unix:/run/rwproxy.sock");
  }
  state::v1::State parsed;
  auto json = StateToJson(state);
  ASSERT_TRUE(json.ok());
  ASSERT_TRUE(StateFromJson(*json, &parsed).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(parsed, state));
}

}  // namespace
}  // namespace rwproxy::control
