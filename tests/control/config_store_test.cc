// ConfigStore: versions, compare-and-swap, no-op applies, violations, dry runs, history,
// rollback, listeners. Persistence and restore are in config_store_state_test.cc.
#include "tests/control/config_store_fixture.h"

namespace rwproxy::control {
namespace {

TEST(ContentHashTest, IsSixteenHexDigitsAndIgnoresMapOrder) {
  Config a = Tagged("a");
  EXPECT_EQ(ContentHash(a).size(), 16u);
  EXPECT_EQ(ContentHash(a), ContentHash(Tagged("a")));
  EXPECT_NE(ContentHash(a), ContentHash(Tagged("b")));
  Config x = a, y = a;
  (*x.mutable_routes(0)->mutable_match()->mutable_legacy_headers())["x-one"] = "1";
  (*x.mutable_routes(0)->mutable_match()->mutable_legacy_headers())["x-two"] = "2";
  (*y.mutable_routes(0)->mutable_match()->mutable_legacy_headers())["x-two"] = "2";
  (*y.mutable_routes(0)->mutable_match()->mutable_legacy_headers())["x-one"] = "1";
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

}  // namespace
}  // namespace rwproxy::control
