// ConfigStore persistence: state written and restored (source and peer included, older state
// files too), the state file round trip, a corrupt state kept aside, a failed write.
#include "tests/control/config_store_fixture.h"

namespace rwproxy::control {
namespace {

TEST(ConfigStoreTest, PersistsAndRestores) {
  TempDir dir;
  {
    Fixture f(dir.path());
    EXPECT_EQ(f.store.Restore().status().code(), absl::StatusCode::kNotFound);
    ASSERT_TRUE(f.store.Apply(Tagged("a"), Described("first")).ok());
    ASSERT_TRUE(f.store.Apply(Tagged("b"), Described("second")).ok());
    EXPECT_TRUE(dir.Matching("state.json.tmp").empty());
  }
  Fixture g(dir.path());
  auto restored = g.store.Restore();
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(*restored, 2u);
  EXPECT_EQ(g.target.published(), std::vector<uint64_t>{2});
  LiveConfig live = g.store.live();
  EXPECT_EQ(live.info.description(), "second");
  EXPECT_TRUE(MessageDifferencer::Equals(*live.config, Tagged("b")));
  std::vector<v1::VersionInfo> history = g.store.History(0);
  ASSERT_EQ(history.size(), 2u);
  EXPECT_EQ(history[1].description(), "first");
  EXPECT_EQ(history[1].content_hash(), ContentHash(Tagged("a")));
  // The restored store goes on numbering, and the restored history serves Rollback.
  auto next = g.store.Rollback(1, {});
  ASSERT_TRUE(next.ok()) << next.status();
  EXPECT_EQ(next->version, 3u);
}

TEST(ConfigStoreTest, SourceAndPeerArePersistedAndOldStateFilesLoad) {
  TempDir dir;
  {
    Fixture f(dir.path());
    ASSERT_TRUE(f.store.Apply(Tagged("a"), {.source = kSourceBoot}).ok());
    ASSERT_TRUE(
        f.store.Apply(Tagged("b"), {.source = kSourceApi, .peer = "ipv4:127.0.0.1:5555"}).ok());
  }
  EXPECT_NE(ReadAll(dir.File("state.json")).find("\"peer\": \"ipv4:127.0.0.1:5555\""),
            std::string::npos);
  {
    Fixture g(dir.path());
    ASSERT_TRUE(g.store.Restore().ok());
    std::vector<v1::VersionInfo> history = g.store.History(0);
    ASSERT_EQ(history.size(), 2u);
    EXPECT_EQ(history[0].source(), "api");
    EXPECT_EQ(history[0].peer(), "ipv4:127.0.0.1:5555");
    EXPECT_EQ(history[1].source(), "boot");
    EXPECT_EQ(history[1].peer(), "");
  }

  // A state file written before VersionInfo had source and peer (no such keys) still loads.
  state::v1::State old;
  old.set_format(1);
  old.set_live_version(4);
  auto* entry = old.add_history();
  *entry->mutable_config() = Tagged("old");
  entry->mutable_info()->set_version(4);
  entry->mutable_info()->set_applied_unix_ms(1700000000000);
  entry->mutable_info()->set_content_hash(ContentHash(entry->config()));
  entry->mutable_info()->set_description("from an older rwproxy");
  const std::string json = StateToJson(old);
  ASSERT_EQ(json.find("source"), std::string::npos) << json;
  ASSERT_EQ(json.find("peer"), std::string::npos) << json;
  WriteAll(dir.File("state.json"), json);
  Fixture h(dir.path());
  auto restored = h.store.Restore();
  ASSERT_TRUE(restored.ok()) << restored.status();
  EXPECT_EQ(*restored, 4u);
  EXPECT_EQ(h.store.History(0).at(0).source(), "");
  EXPECT_EQ(h.store.History(0).at(0).description(), "from an older rwproxy");
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
  ASSERT_TRUE(StateFromJson(StateToJson(state), &parsed).ok());
  EXPECT_TRUE(MessageDifferencer::Equals(parsed, state));
  EXPECT_EQ(parsed.history(1).info().peer(), "unix:/run/rwproxy.sock");
}

TEST(ConfigStoreTest, NoStateDirMeansNothingToRestore) {
  Fixture f;
  EXPECT_EQ(f.store.Restore().status().code(), absl::StatusCode::kNotFound);
}

// A state file whose JSON is fine but whose live config does not compile.
std::string StateWithUncompilableLiveConfig() {
  state::v1::State state;
  state.set_format(1);
  state.set_live_version(1);
  auto* entry = state.add_history();
  *entry->mutable_config() = Parse(
      "clusters: [{name: app, endpoints: ['127.0.0.1:80']}]\n"
      "routes: [{name: r, match: {path_regex: '(('}, cluster: app}]\n");
  entry->mutable_info()->set_version(1);
  entry->mutable_info()->set_content_hash(ContentHash(entry->config()));
  return StateToJson(state);
}

TEST(ConfigStoreTest, CorruptStateIsKeptAsideAndReported) {
  struct Row {
    std::string name;
    std::function<void(const std::string& path, const std::string& good)> corrupt;
    std::string reason;
  };
  const Row rows[] = {
      {"garbage",
       [](const std::string& p, const std::string&) { WriteAll(p, "\x01\x02not json{"); },
       "not a state file"},
      {"truncated",
       [](const std::string& p, const std::string& good) {
         WriteAll(p, good.substr(0, good.size() / 2));
       },
       "not a state file"},
      {"empty", [](const std::string& p, const std::string&) { WriteAll(p, ""); }, ""},
      {"edited content",
       [](const std::string& p, const std::string& good) {
         std::string edited = good;
         edited.replace(edited.find("/b/$1"), 5, "/x/$1");
         WriteAll(p, edited);
       },
       "content hash mismatch"},
      {"live config no longer compiles",
       [](const std::string& p, const std::string&) {
         WriteAll(p, StateWithUncompilableLiveConfig());
       },
       "does not compile"},
      {"unreadable (a directory)",
       [](const std::string& p, const std::string&) {
         std::filesystem::remove(p);
         std::filesystem::create_directory(p);
       },
       "read"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    TempDir dir;
    {
      Fixture f(dir.path());
      ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());
      ASSERT_TRUE(f.store.Apply(Tagged("b"), {}).ok());
    }
    const std::string path = dir.File("state.json");
    row.corrupt(path, ReadAll(path));
    const bool is_dir = std::filesystem::is_directory(path);
    const std::string corrupt_content = is_dir ? "" : ReadAll(path);

    Fixture g(dir.path());
    auto restored = g.store.Restore();
    ASSERT_EQ(restored.status().code(), absl::StatusCode::kDataLoss) << restored.status();
    EXPECT_NE(restored.status().message().find(row.reason), absl::string_view::npos)
        << restored.status();
    EXPECT_NE(restored.status().message().find("kept it as"), absl::string_view::npos);
    std::vector<std::string> aside = dir.Matching("state.corrupt-");
    ASSERT_EQ(aside.size(), 1u);
    EXPECT_EQ(std::filesystem::is_directory(aside[0]), is_dir);
    if (!is_dir) {
      EXPECT_EQ(ReadAll(aside[0]), corrupt_content);
    }
    EXPECT_FALSE(std::filesystem::exists(path));
    EXPECT_TRUE(g.target.published().empty());

    // The caller falls back to --config: version 1, persisted afresh; the corrupt file stays.
    auto fallback = g.store.Apply(Tagged("c"), Described("--config routes.yaml"));
    ASSERT_TRUE(fallback.ok()) << fallback.status();
    EXPECT_EQ(fallback->version, 1u);
    EXPECT_TRUE(std::filesystem::is_regular_file(path));
    EXPECT_EQ(dir.Matching("state.corrupt-").size(), 1u);
  }
}

TEST(ConfigStoreTest, FailureToPersistChangesNothing) {
  TempDir dir;
  Fixture f(dir.File("state"));
  ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).status().code() == absl::StatusCode::kInternal);
  EXPECT_EQ(f.store.live().info.version(), 0u);
  EXPECT_TRUE(f.target.published().empty());
  std::filesystem::create_directory(dir.File("state"));
  ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());
  std::filesystem::remove_all(dir.File("state"));
  auto result = f.store.Apply(Tagged("b"), {});
  EXPECT_EQ(result.status().code(), absl::StatusCode::kInternal) << result.status();
  EXPECT_NE(result.status().message().find("nothing changed"), absl::string_view::npos);
  EXPECT_EQ(f.store.live().info.version(), 1u);
  EXPECT_EQ(f.target.published(), std::vector<uint64_t>{1});
}

}  // namespace
}  // namespace rwproxy::control
