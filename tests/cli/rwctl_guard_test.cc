// rwctl apply --guard against the fake ControlPlane: the verdict printed (kept, too few requests,
// reverted with exit 1, superseded), --no-wait, -o json, a verdict decided at once (the Watch is
// open before the apply), the ListVersions fallback when Watch fails, a server that ignores the
// guard, and the usage errors of the guard and wave flags.
#include "tests/cli/rwctl_fake_server_fixture.h"

namespace rwtest {
namespace {

namespace v1 = ::rwproxy::control::v1;
using ::testing::ContainsRegex;
using ::testing::HasSubstr;

v1::GuardVerdict Kept(uint64_t requests, uint64_t errors) {
  v1::GuardVerdict v;
  v.set_outcome(v1::GuardVerdict::KEPT);
  v.set_requests(requests);
  v.set_errors(errors);
  v.set_error_ratio(static_cast<double>(errors) / requests);
  return v;
}

v1::GuardVerdict Reverted() {
  v1::GuardVerdict v;
  v.set_outcome(v1::GuardVerdict::REVERTED);
  v.set_requests(12350);
  v.set_errors(4693);
  v.set_error_ratio(4693.0 / 12350);
  v.set_top_error_kind("no route");
  v.set_top_error_kind_count(4700);
  v.set_top_error_route("api");
  return v;
}

google::protobuf::Struct Json(const std::string& text) {
  google::protobuf::Struct parsed;
  EXPECT_TRUE(google::protobuf::util::JsonStringToMessage(text, &parsed).ok()) << text;
  return parsed;
}

class RwctlGuardTest : public RwctlFakeServerTest {
 protected:
  // Starts `rwctl ARGS --server fake`, waits until the fake has a pending guard, decides it with
  // `verdict` and returns rwctl's result.
  RwctlResult DecideWhileRunning(std::vector<std::string> args, v1::GuardVerdict verdict) {
    args.insert(args.end(), {"--server", fake_.address()});
    auto child = runner_.Start(args);
    EXPECT_TRUE(child.ok()) << child.status();
    if (!child.ok()) return {};
    EXPECT_TRUE(WaitFor([&] { return fake_.guard_pending() != 0; }, std::chrono::seconds(20),
                        "a pending guard"));
    EXPECT_TRUE(fake_.DecideGuard(std::move(verdict)));
    auto result = runner_.Wait(*child);
    EXPECT_TRUE(result.ok()) << result.status();
    return result.ok() ? *result : RwctlResult{};
  }
};

TEST_F(RwctlGuardTest, KeptPrintsRatioAndRequestsAndSendsTheGuard) {
  RwctlResult r = DecideWhileRunning(
      {"apply", routes_, "--guard", "30s", "--max-error-ratio", "2%", "--min-requests", "50"},
      Kept(12410, 2));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "applied version 2; guard 30s: kept (0.02% errors, 12,410 requests)\n");
  ASSERT_EQ(fake_.applies().size(), 1u);
  const v1::Guard sent = fake_.applies()[0].guard();
  EXPECT_EQ(sent.duration(), "30s");
  EXPECT_DOUBLE_EQ(sent.max_error_ratio(), 0.02);
  EXPECT_EQ(sent.min_requests(), 50u);

  // Defaults are the server's: nothing sent; a fraction works like a percentage.
  std::string other = runner_.WriteFile("other.yaml", absl::StrReplaceAll(kRoutes, {{"api", "b"}}));
  r = DecideWhileRunning({"apply", other, "--guard", "1m"}, Kept(12, 0));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out,
            "applied version 3; guard 1m: kept: too few requests to judge (12 < 100; 0.00% "
            "errors)\n");
  EXPECT_FALSE(fake_.applies()[1].guard().has_max_error_ratio());
  EXPECT_FALSE(fake_.applies()[1].guard().has_min_requests());
}

TEST_F(RwctlGuardTest, RevertedExits1AndSaysWhy) {
  RwctlResult r = DecideWhileRunning({"apply", routes_, "--guard", "30s"}, Reverted());
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.out, ContainsRegex("^applied version 2; guard: reverted to version 1 after "
                                   "[0-9]+\\.[0-9] s: 38\\.0% errors \\(no route: 4,700 of "
                                   "12,350; route api\\)\n$"));
  EXPECT_EQ(fake_.version(), 3u);  // the revert
}

TEST_F(RwctlGuardTest, SupersededExits1) {
  v1::GuardVerdict superseded;
  superseded.set_outcome(v1::GuardVerdict::SUPERSEDED);
  RwctlResult r = DecideWhileRunning({"apply", routes_, "--guard", "30s"}, superseded);
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("applied version 2; guard 30s: superseded by a newer apply"));
}

TEST_F(RwctlGuardTest, NoWaitReturnsWithTheGuardPending) {
  RwctlResult r = Ctl({"apply", routes_, "--guard", "30s", "--no-wait"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("applied version 2; guard 30s: pending on the server"));
  EXPECT_EQ(fake_.guard_pending(), 2u);
  r = Ctl({"apply", routes_, "--guard", "30s", "--no-wait"});  // no change: no guard
  EXPECT_EQ(r.out, "unchanged, version 2; guard: not needed (no change)\n") << r.Describe();
}

TEST_F(RwctlGuardTest, JsonHasTheVerdictFields) {
  RwctlResult r = DecideWhileRunning({"apply", routes_, "--guard", "30s", "-o", "json"},
                                     Kept(12410, 2));
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  ASSERT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << r.out;
  auto json = Json(r.out);
  EXPECT_EQ(json.fields().at("version").number_value(), 2);
  EXPECT_EQ(json.fields().at("result").string_value(), "kept");
  const auto& guard = json.fields().at("guard").struct_value().fields();
  EXPECT_EQ(guard.at("outcome").string_value(), "KEPT");
  EXPECT_EQ(guard.at("duration").string_value(), "30s");
  EXPECT_EQ(guard.at("requests").number_value(), 12410);
  EXPECT_EQ(guard.at("errors").number_value(), 2);
  EXPECT_EQ(guard.at("min_requests").number_value(), 100);

  std::string other = runner_.WriteFile("other.yaml", absl::StrReplaceAll(kRoutes, {{"api", "b"}}));
  r = DecideWhileRunning({"apply", other, "--guard", "30s", "-o", "json"}, Reverted());
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  json = Json(r.out);
  EXPECT_EQ(json.fields().at("result").string_value(), "reverted");
  const auto& reverted = json.fields().at("guard").struct_value().fields();
  EXPECT_EQ(reverted.at("outcome").string_value(), "REVERTED");
  EXPECT_EQ(reverted.at("restored_version").number_value(), 2);
  EXPECT_EQ(reverted.at("revert_version").number_value(), 4);
  EXPECT_EQ(reverted.at("top_error_route").string_value(), "api");
}

// With delay 0 the fake decides inside Apply, before its response: only a Watch opened before
// the apply sees the REVERTED event of version 2 (a later one starts at the revert, version 3).
TEST_F(RwctlGuardTest, VerdictDecidedAtOnceIsNotMissed) {
  fake_.set_auto_verdict(Reverted(), std::chrono::milliseconds(0));
  RwctlResult r = Ctl({"apply", routes_, "--guard", "1s"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("applied version 2; guard: reverted to version 1"));
  EXPECT_EQ(fake_.list_versions_calls(), 0);  // from the stream, not by polling
}

TEST_F(RwctlGuardTest, BrokenWatchFallsBackToPolling) {
  fake_.set_watch_broken(true);
  fake_.set_auto_verdict(Kept(500, 0), std::chrono::milliseconds(0));
  RwctlResult r = Ctl({"apply", routes_, "--guard", "1s"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  EXPECT_EQ(r.out, "applied version 2; guard 1s: kept (0.00% errors, 500 requests)\n");
  EXPECT_GE(fake_.list_versions_calls(), 1);
}

TEST_F(RwctlGuardTest, ServerThatIgnoresTheGuardFails) {
  fake_.set_guard_supported(false);
  RwctlResult r = Ctl({"apply", routes_, "--guard", "30s"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("applied version 2; guard: the server did not take the guard"));
}

TEST_F(RwctlGuardTest, GuardAndWaveFlagMisuseExits2) {
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{"--max-error-ratio", "1%"}, "--max-error-ratio needs --guard"},
      {{"--min-requests", "5"}, "--min-requests needs --guard"},
      {{"--no-wait"}, "--no-wait needs --guard"},
      {{"--guard", "30s", "--dry-run"}, "--guard and --dry-run exclude each other"},
      {{"--guard", "500ms"}, "--guard: 500ms is outside 1s..1h"},
      {{"--guard", "soon"}, "not a duration"},
      {{"--guard", "30s", "--max-error-ratio", "150%"}, "outside 0..1"},
      {{"--guard", "30s", "--max-error-ratio", "x"}, "not a ratio"},
      {{"--max-unavailable", "1"}, "--max-unavailable needs --waves"},
      {{"--no-rollback"}, "--no-rollback needs --waves"},
      {{"--waves", "1,100%", "--guard", "30s", "--no-wait"}, "drop --no-wait"},
      {{"--waves", "2,1"}, "smaller than the wave before it"},
      {{"--waves", "0"}, "not a target count"},
  };
  for (const auto& [flags, want] : cases) {
    std::vector<std::string> args = {"apply", routes_};
    args.insert(args.end(), flags.begin(), flags.end());
    RwctlResult r = Ctl(args);
    EXPECT_EQ(r.exit_code, 2) << absl::StrJoin(flags, " ") << ": " << r.Describe();
    EXPECT_THAT(r.err, HasSubstr(want)) << absl::StrJoin(flags, " ");
  }
  EXPECT_TRUE(fake_.applies().empty());
}

}  // namespace
}  // namespace rwtest
