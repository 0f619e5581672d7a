#include "control/config_store.h"

#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "control/state_file.h"
#include "control/violations.h"
#include "google/protobuf/util/message_differencer.h"
#include "gtest/gtest.h"
#include "proto/config_yaml.h"
#include "tests/control/fake_config_target.h"

namespace rwproxy::control {
namespace {

using config::v1::Config;
using google::protobuf::util::MessageDifferencer;

Config Parse(const std::string& text) {
  Config config;
  std::vector<yaml::YamlError> errors;
  EXPECT_TRUE(yaml::ParseConfig(text, &config, nullptr, &errors)) << text;
  return config;
}

// A valid config whose only route rewrites to /<tag>/$1.
Config Tagged(const std::string& tag) {
  return Parse(absl::StrCat(R"(clusters: [{name: app, endpoints: ["127.0.0.1:8080"]}]
routes:
  - name: api
    match: {path_regex: "^/api/(.*)$"}
    rewrite: {path: "/)",
                            tag, R"(/$1"}
    cluster: app
)"));
}

ApplyOptions Described(const std::string& description) {
  ApplyOptions options;
  options.description = description;
  return options;
}

class TempDir {
 public:
  TempDir() {
    std::string templ = (std::filesystem::temp_directory_path() / "rwstore.XXXXXX").string();
    if (mkdtemp(templ.data()) != nullptr) path_ = templ;
  }
  ~TempDir() {
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
  }
  const std::string& path() const { return path_; }
  std::string File(const std::string& name) const { return path_ + "/" + name; }
  // Files whose name starts with `prefix`.
  std::vector<std::string> Matching(const std::string& prefix) const {
    std::vector<std::string> out;
    for (const auto& entry : std::filesystem::directory_iterator(path_)) {
      if (entry.path().filename().string().starts_with(prefix)) out.push_back(entry.path());
    }
    return out;
  }

 private:
  std::string path_;
};

std::string ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

void WriteAll(const std::string& path, const std::string& content) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

// A store with a fake clock that advances one second per call.
struct Fixture {
  explicit Fixture(std::string state_dir = "", size_t history_limit = 50)
      : store(&target, {.state_dir = std::move(state_dir),
                        .history_limit = history_limit,
                        .now = [this] { return clock += absl::Seconds(1); }}) {}
  FakeConfigTarget target;
  absl::Time clock = absl::FromUnixSeconds(1700000000);
  ConfigStore store;
};

TEST(ContentHashTest, IsSixteenHexDigitsAndIgnoresMapOrder) {
  Config a = Tagged("a");
  EXPECT_EQ(ContentHash(a).size(), 16u);
  EXPECT_EQ(ContentHash(a), ContentHash(Tagged("a")));
  EXPECT_NE(ContentHash(a), ContentHash(Tagged("b")));
  Config x = a, y = a;
  (*x.mutable_routes(0)->mutable_match()->mutable_headers())["x-one"] = "1";
  (*x.mutable_routes(0)->mutable_match()->mutable_headers())["x-two"] = "2";
  (*y.mutable_routes(0)->mutable_match()->mutable_headers())["x-two"] = "2";
  (*y.mutable_routes(0)->mutable_match()->mutable_headers())["x-one"] = "1";
  EXPECT_EQ(ContentHash(x), ContentHash(y));
}

TEST(ConfigStoreTest, FirstApplyIsVersionOneAndPublished) {
  Fixture f;
  EXPECT_EQ(f.store.live().info.version(), 0u);
  auto result = f.store.Apply(Tagged("a"), Described("first"));
  ASSERT_TRUE(result.ok()) << result.status();
  EXPECT_EQ(result->version, 1u);
  EXPECT_TRUE(result->changed);
  EXPECT_EQ(result->content_hash, ContentHash(Tagged("a")));
  EXPECT_EQ(f.target.published(), std::vector<uint64_t>{1});
  EXPECT_EQ(f.target.current()->version, 1u);
  LiveConfig live = f.store.live();
  EXPECT_EQ(live.info.version(), 1u);
  EXPECT_EQ(live.info.description(), "first");
  EXPECT_EQ(live.info.applied_unix_ms(), 1700000001000);
  EXPECT_TRUE(MessageDifferencer::Equals(*live.config, Tagged("a")));
}

TEST(ConfigStoreTest, CompareAndSwapOnExpectedVersion) {
  struct Row {
    std::optional<uint64_t> expected;
    absl::StatusCode code;
    std::string message;
  };
  const Row rows[] = {
      {std::nullopt, absl::StatusCode::kOk, ""},
      {2, absl::StatusCode::kOk, ""},
      {1, absl::StatusCode::kFailedPrecondition, "expected version 1, live is 2"},
      {3, absl::StatusCode::kFailedPrecondition, "expected version 3, live is 2"},
      {0, absl::StatusCode::kFailedPrecondition, "expected version 0, live is 2"},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.expected.has_value() ? absl::StrCat(*row.expected) : "none");
    Fixture f;
    ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());
    ASSERT_TRUE(f.store.Apply(Tagged("b"), {}).ok());
    ApplyOptions options;
    options.expected_version = row.expected;
    auto result = f.store.Apply(Tagged("c"), options);
    EXPECT_EQ(result.status().code(), row.code) << result.status();
    if (row.code == absl::StatusCode::kOk) {
      EXPECT_EQ(result->version, 3u);
      EXPECT_EQ(f.store.live().info.version(), 3u);
    } else {
      EXPECT_EQ(result.status().message(), row.message);
      EXPECT_EQ(f.store.live().info.version(), 2u);
      EXPECT_EQ(f.target.published(), (std::vector<uint64_t>{1, 2}));
      EXPECT_TRUE(MessageDifferencer::Equals(*f.store.live().config, Tagged("b")));
    }
  }
}

TEST(ConfigStoreTest, IdenticalContentIsNoOp) {
  Fixture f;
  ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());
  ASSERT_TRUE(f.store.Apply(Tagged("b"), {}).ok());
  auto again = f.store.Apply(Tagged("b"), Described("again"));
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->version, 2u);
  EXPECT_FALSE(again->changed);
  EXPECT_EQ(again->content_hash, ContentHash(Tagged("b")));
  EXPECT_EQ(f.target.published(), (std::vector<uint64_t>{1, 2}));
  EXPECT_EQ(f.store.History(0).size(), 2u);
  // Identical content with a matching expected version is a no-op too.
  ApplyOptions cas;
  cas.expected_version = 2;
  auto cas_again = f.store.Apply(Tagged("b"), cas);
  ASSERT_TRUE(cas_again.ok());
  EXPECT_FALSE(cas_again->changed);
}

TEST(ConfigStoreTest, InvalidConfigReturnsEveryViolationAndChangesNothing) {
  struct Row {
    std::string name;
    std::string yaml;
    std::vector<std::string> fields;
  };
  const Row rows[] = {
      {"bad regex",
       "clusters: [{name: app, endpoints: ['127.0.0.1:80']}]\n"
       "routes: [{name: r, match: {path_regex: '^/api/(.*$'}, cluster: app}]\n",
       {"routes[0].match.path_regex"}},
      {"bad regex and unknown cluster",
       "clusters: [{name: app, endpoints: ['127.0.0.1:80']}]\n"
       "routes: [{name: r, match: {path_prefix: /}, cluster: nope},\n"
       "         {name: s, match: {path_regex: '(('}, cluster: app}]\n",
       {"routes[0].cluster", "routes[1].match.path_regex"}},
      {"translation errors",
       "clusters: [{name: app, endpoints: ['127.0.0.1'], lb_policy: fastest}]\n",
       {"clusters[0].endpoints[0]", "clusters[0].lb_policy"}},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    Fixture f;
    ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());
    auto result = f.store.Apply(Parse(row.yaml), Described("broken"));
    ASSERT_EQ(result.status().code(), absl::StatusCode::kInvalidArgument) << result.status();
    v1::ValidateResponse violations = ViolationsOf(result.status());
    ASSERT_EQ(violations.violations_size(), static_cast<int>(row.fields.size())) << result.status();
    for (size_t i = 0; i < row.fields.size(); ++i) {
      EXPECT_EQ(violations.violations(i).field(), row.fields[i]);
      EXPECT_NE(result.status().message().find(row.fields[i] + ": "), absl::string_view::npos);
    }
    EXPECT_EQ(f.store.Validate(Parse(row.yaml)).size(), row.fields.size());
    EXPECT_EQ(f.store.live().info.version(), 1u);
    EXPECT_EQ(f.target.published(), std::vector<uint64_t>{1});
    EXPECT_EQ(f.store.History(0).size(), 1u);
  }
}

TEST(ConfigStoreTest, DryRunChangesNothing) {
  Fixture f;
  ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());
  ApplyOptions dry;
  dry.dry_run = true;
  auto changed = f.store.Apply(Tagged("b"), dry);
  ASSERT_TRUE(changed.ok());
  EXPECT_EQ(changed->version, 2u);
  EXPECT_TRUE(changed->changed);
  auto same = f.store.Apply(Tagged("a"), dry);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(same->version, 1u);
  EXPECT_FALSE(same->changed);
  EXPECT_EQ(f.store.live().info.version(), 1u);
  EXPECT_EQ(f.target.published(), std::vector<uint64_t>{1});
}

TEST(ConfigStoreTest, HistoryIsNewestFirstKeepsDescriptionsAndIsCapped) {
  Fixture f;
  for (int i = 1; i <= 60; ++i) {
    ASSERT_TRUE(f.store.Apply(Tagged(absl::StrCat("v", i)), Described(absl::StrCat("#", i))).ok());
  }
  std::vector<v1::VersionInfo> all = f.store.History(0);
  ASSERT_EQ(all.size(), 50u);
  EXPECT_EQ(all.front().version(), 60u);
  EXPECT_EQ(all.back().version(), 11u);
  for (size_t i = 0; i < all.size(); ++i) {
    const uint64_t version = 60 - i;
    EXPECT_EQ(all[i].version(), version);
    EXPECT_EQ(all[i].description(), absl::StrCat("#", version));
    EXPECT_EQ(all[i].content_hash(), ContentHash(Tagged(absl::StrCat("v", version))));
    EXPECT_EQ(all[i].applied_unix_ms(), (1700000000 + static_cast<int64_t>(version)) * 1000);
  }
  std::vector<v1::VersionInfo> last3 = f.store.History(3);
  ASSERT_EQ(last3.size(), 3u);
  EXPECT_EQ(last3[2].version(), 58u);
  EXPECT_EQ(f.store.Rollback(10, {}).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(f.store.Rollback(11, {}).ok());
}

TEST(ConfigStoreTest, RollbackReappliesAsNewVersion) {
  struct Row {
    std::string name;
    uint64_t version;
    std::optional<uint64_t> expected;
    absl::StatusCode code;
    uint64_t live_after;
    bool changed;
  };
  const Row rows[] = {
      {"to version 1", 1, std::nullopt, absl::StatusCode::kOk, 3, true},
      {"to the live version", 2, std::nullopt, absl::StatusCode::kOk, 2, false},
      {"unknown version", 99, std::nullopt, absl::StatusCode::kNotFound, 2, false},
      {"version 0", 0, std::nullopt, absl::StatusCode::kNotFound, 2, false},
      {"with expected version", 1, 2, absl::StatusCode::kOk, 3, true},
      {"with stale expected version", 1, 1, absl::StatusCode::kFailedPrecondition, 2, false},
  };
  for (const Row& row : rows) {
    SCOPED_TRACE(row.name);
    Fixture f;
    ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());
    ASSERT_TRUE(f.store.Apply(Tagged("b"), {}).ok());
    ApplyOptions options;
    options.expected_version = row.expected;
    auto result = f.store.Rollback(row.version, options);
    EXPECT_EQ(result.status().code(), row.code) << result.status();
    EXPECT_EQ(f.store.live().info.version(), row.live_after);
    if (!result.ok()) continue;
    EXPECT_EQ(result->changed, row.changed);
    EXPECT_EQ(result->version, row.live_after);
    if (row.changed) {
      EXPECT_EQ(result->content_hash, ContentHash(Tagged("a")));
      EXPECT_TRUE(MessageDifferencer::Equals(*f.store.live().config, Tagged("a")));
      EXPECT_EQ(f.store.live().info.description(), "rollback to version 1");
      EXPECT_EQ(f.target.current()->version, 3u);
    }
  }
}

TEST(ConfigStoreTest, NotifiesListenersOfEveryNewVersion) {
  Fixture f;
  std::vector<uint64_t> seen;
  int id = f.store.Subscribe([&](const v1::VersionInfo& info) { seen.push_back(info.version()); });
  ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());
  ASSERT_TRUE(f.store.Apply(Tagged("a"), {}).ok());  // no-op: no event
  ASSERT_TRUE(f.store.Apply(Tagged("b"), {}).ok());
  ASSERT_TRUE(f.store.Rollback(1, {}).ok());
  f.store.Unsubscribe(id);
  ASSERT_TRUE(f.store.Apply(Tagged("c"), {}).ok());
  EXPECT_EQ(seen, (std::vector<uint64_t>{1, 2, 3}));
}

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

TEST(ConfigStoreTest, HistoryRecordsSourceAndPeer) {
  Fixture f;
  ASSERT_TRUE(
      f.store.Apply(Tagged("a"), {.description = "--config x", .source = kSourceBoot}).ok());
  ASSERT_TRUE(
      f.store
          .Apply(Tagged("b"),
                 {.description = "push", .source = kSourceApi, .peer = "ipv4:127.0.0.1:5555"})
          .ok());
  ASSERT_TRUE(f.store.Apply(Tagged("c"), {.description = "file x", .source = kSourceFile}).ok());
  // Rollback records itself as the source whatever the caller passed, and keeps the peer.
  ASSERT_TRUE(f.store.Rollback(1, {.source = kSourceApi, .peer = "ipv6:[::1]:6666"}).ok());
  // A dry run and a no-op add nothing.
  ASSERT_TRUE(f.store.Apply(Tagged("d"), {.dry_run = true, .source = kSourceApi}).ok());
  ASSERT_TRUE(f.store.Apply(Tagged("a"), {.source = kSourceApi, .peer = "ipv4:1.2.3.4:1"}).ok());

  std::vector<v1::VersionInfo> history = f.store.History(0);
  ASSERT_EQ(history.size(), 4u);
  std::vector<std::pair<std::string, std::string>> got;
  for (const auto& info : history) got.emplace_back(info.source(), info.peer());
  EXPECT_EQ(got, (std::vector<std::pair<std::string, std::string>>{{"rollback", "ipv6:[::1]:6666"},
                                                                   {"file", ""},
                                                                   {"api", "ipv4:127.0.0.1:5555"},
                                                                   {"boot", ""}}));
  EXPECT_EQ(f.store.live().info.source(), "rollback");
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
