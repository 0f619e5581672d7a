// rwctl apply --waves against several fake ControlPlanes: waves run in order and print each
// target as it finishes; a failing wave (revert, rejection, unreachable targets beyond
// --max-unavailable) stops the push and rolls back the targets already changed (each fake records
// its Rollback calls), --no-rollback leaves them; -o json prints one object per target and a
// summary.
#include <fstream>
#include <memory>

#include "tests/cli/rwctl_fake_server_fixture.h"

namespace rwtest {
namespace {

namespace v1 = ::rwproxy::control::v1;
using ::testing::HasSubstr;
using ::testing::Not;

v1::GuardVerdict Outcome(v1::GuardVerdict::Outcome outcome) {
  v1::GuardVerdict v;
  v.set_outcome(outcome);
  v.set_requests(1000);
  v.set_errors(outcome == v1::GuardVerdict::REVERTED ? 400 : 1);
  v.set_error_ratio(outcome == v1::GuardVerdict::REVERTED ? 0.4 : 0.001);
  return v;
}

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

class RwctlWavesTest : public RwctlFakeServerTest {
 protected:
  // fakes_[0] is the fixture's fake_; `n` in all.
  void MakeFleet(size_t n) {
    fleet_.push_back(&fake_);
    for (size_t i = 1; i < n; ++i) {
      extra_.push_back(std::make_unique<FakeControlPlane>());
      fleet_.push_back(extra_.back().get());
    }
  }
  std::string ServersFile(const std::vector<std::string>& extra = {}) {
    std::string text;
    for (FakeControlPlane* f : fleet_) absl::StrAppend(&text, f->address(), "\n");
    for (const auto& s : extra) absl::StrAppend(&text, s, "\n");
    return runner_.WriteFile("servers", text);
  }
  std::string Down() {
    auto port = UnusedPort();
    EXPECT_TRUE(port.ok());
    return absl::StrCat("127.0.0.1:", port.ok() ? *port : 1);
  }

  std::vector<std::unique_ptr<FakeControlPlane>> extra_;
  std::vector<FakeControlPlane*> fleet_;
};

TEST_F(RwctlWavesTest, AllWavesKeptPushesEveryTargetInOrderOfWaves) {
  MakeFleet(4);
  for (auto* f : fleet_) f->set_auto_verdict(Outcome(v1::GuardVerdict::KEPT), {});
  RwctlResult r = Rwctl({"apply", routes_, "--servers-file", ServersFile(), "--waves",
                         "1,50%,100%", "--guard", "2s"});
  EXPECT_EQ(r.exit_code, 0) << r.Describe();
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  ASSERT_EQ(lines.size(), 8u) << r.Describe();
  EXPECT_EQ(lines[0], "wave 1 of 3: 1 target (1..1 of 4)");
  EXPECT_EQ(lines[1], fleet_[0]->address() +
                          ": applied version 2; guard 2s: kept (0.10% errors, 1,000 requests)");
  EXPECT_EQ(lines[2], "wave 2 of 3: 1 target (2..2 of 4)");
  EXPECT_THAT(lines[3], HasSubstr(fleet_[1]->address() + ": applied version 2; guard 2s: kept"));
  EXPECT_EQ(lines[4], "wave 3 of 3: 2 targets (3..4 of 4)");
  EXPECT_EQ(lines[7], "waves 1,50%,100%: all 3 done; 4 targets: 4 kept");
  for (auto* f : fleet_) {
    EXPECT_EQ(f->version(), 2u);
    EXPECT_TRUE(f->rollbacks().empty());
  }
}

TEST_F(RwctlWavesTest, RevertStopsTheWavesAndRollsBackEarlierOnes) {
  MakeFleet(4);
  for (auto* f : fleet_) f->set_auto_verdict(Outcome(v1::GuardVerdict::KEPT), {});
  fleet_[1]->set_auto_verdict(Outcome(v1::GuardVerdict::REVERTED), {});
  RwctlResult r = Rwctl({"apply", routes_, "--servers-file", ServersFile(), "--waves", "1,2,100%",
                         "--guard", "2s"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  // Wave 1 (target 0) kept, then rolled back to version 1 with CAS on the version it applied.
  ASSERT_EQ(fleet_[0]->rollbacks().size(), 1u) << r.Describe();
  EXPECT_EQ(fleet_[0]->rollbacks()[0].version(), 1u);
  EXPECT_EQ(fleet_[0]->rollbacks()[0].expected_version(), 2u);
  EXPECT_EQ(fleet_[0]->version(), 3u);
  EXPECT_THAT(r.out, HasSubstr(fleet_[0]->address() + ": rolled back to version 1: applied "
                                                      "version 3"));
  // Target 1 was reverted by its own guard: nothing more to undo.
  EXPECT_TRUE(fleet_[1]->rollbacks().empty());
  EXPECT_THAT(r.out, HasSubstr(fleet_[1]->address() + ": applied version 2; guard: reverted to "
                                                      "version 1"));
  // Wave 3 never started.
  for (size_t i : {2, 3}) {
    EXPECT_TRUE(fleet_[i]->applies().empty());
    EXPECT_THAT(r.out, HasSubstr(fleet_[i]->address() + ": not pushed (wave 2 failed)"));
  }
  EXPECT_THAT(r.out, HasSubstr("waves 1,2,100%: wave 2 of 3 failed (1 reverted); 2 of 4 targets "
                               "pushed (1 kept, 1 reverted), 2 not pushed; rolled back 1 of 1\n"));
}

TEST_F(RwctlWavesTest, RejectionWithoutGuardRollsBackAndNoRollbackLeavesThem) {
  MakeFleet(3);
  fleet_[2]->set_reject(FakeControlPlane::Reject::kWithMetadata, {V("routes[0].cluster", "x")});
  const std::string servers = ServersFile();
  RwctlResult r = Rwctl({"apply", routes_, "--servers-file", servers, "--waves", "2,100%",
                         "--no-rollback"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr(fleet_[2]->address() + ": rejected: 1 violation\n  " + routes_ +
                               ":8:5: routes[0].cluster: x\n"));
  EXPECT_THAT(r.out, HasSubstr("--no-rollback: 2 targets keep the new config"));
  for (size_t i : {0, 1}) {
    EXPECT_TRUE(fleet_[i]->rollbacks().empty());
    EXPECT_EQ(fleet_[i]->version(), 2u);
  }

  // The same push with rollback (the file changed, so both change again, then go back).
  std::string other = runner_.WriteFile("other.yaml", absl::StrReplaceAll(kRoutes, {{"api", "b"}}));
  r = Rwctl({"apply", other, "--servers-file", servers, "--waves", "2,100%"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  for (size_t i : {0, 1}) {
    ASSERT_EQ(fleet_[i]->rollbacks().size(), 1u) << r.Describe();
    EXPECT_EQ(fleet_[i]->rollbacks()[0].version(), 2u);  // the version live before this push
    EXPECT_EQ(fleet_[i]->rollbacks()[0].expected_version(), 3u);
    EXPECT_EQ(fleet_[i]->version(), 4u);
  }
  EXPECT_THAT(r.out, HasSubstr("rolled back 2 of 2"));
}

TEST_F(RwctlWavesTest, MaxUnavailableToleratesUnreachableTargets) {
  MakeFleet(2);
  const std::string down = Down();
  const std::string servers = ServersFile({down});  // wave 2: fleet_[1] and down
  RwctlResult r = Rwctl({"apply", routes_, "--servers-file", servers, "--waves", "1,100%",
                         "--max-unavailable", "1"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();  // as a fleet push: some target unreachable
  EXPECT_THAT(r.out, HasSubstr(down + ": error: unavailable"));
  EXPECT_THAT(r.out, HasSubstr("waves 1,100%: all 2 done; 3 targets: 2 applied, 1 unreachable"));
  EXPECT_TRUE(fleet_[0]->rollbacks().empty());

  std::string other = runner_.WriteFile("other.yaml", absl::StrReplaceAll(kRoutes, {{"api", "b"}}));
  r = Rwctl({"apply", other, "--servers-file", servers, "--waves", "1,100%"});
  EXPECT_EQ(r.exit_code, 3) << r.Describe();
  EXPECT_THAT(r.out, HasSubstr("wave 2 of 2 failed (1 unreachable, more than --max-unavailable "
                               "0)"));
  // Both targets that took the file go back, wave 2's included.
  EXPECT_EQ(fleet_[0]->rollbacks().size(), 1u);
  EXPECT_EQ(fleet_[1]->rollbacks().size(), 1u);
}

TEST_F(RwctlWavesTest, LinesArePrintedAsTargetsFinish) {
  MakeFleet(3);  // verdicts on demand
  auto child = runner_.Start({"apply", routes_, "--servers-file", ServersFile(), "--waves",
                              "1,100%", "--guard", "30s"});
  ASSERT_TRUE(child.ok()) << child.status();
  auto out = [&] { return ReadAll(child->out_path); };
  ASSERT_TRUE(WaitFor([&] { return fleet_[0]->guard_pending() == 2; }, std::chrono::seconds(20),
                      "wave 1 applied"));
  EXPECT_TRUE(fleet_[1]->applies().empty());  // wave 2 waits for wave 1's verdict
  ASSERT_TRUE(fleet_[0]->DecideGuard(Outcome(v1::GuardVerdict::KEPT)));
  EXPECT_TRUE(WaitFor([&] { return out().find(fleet_[0]->address() + ": applied") !=
                                   std::string::npos; },
                      std::chrono::seconds(20), "target 0's line while rwctl runs"));
  ASSERT_TRUE(WaitFor(
      [&] { return fleet_[1]->guard_pending() == 2 && fleet_[2]->guard_pending() == 2; },
      std::chrono::seconds(20), "wave 2 applied"));
  ASSERT_TRUE(fleet_[2]->DecideGuard(Outcome(v1::GuardVerdict::KEPT)));
  EXPECT_TRUE(WaitFor([&] { return out().find(fleet_[2]->address() + ": applied") !=
                                   std::string::npos; },
                      std::chrono::seconds(20), "target 2's line before target 1 is decided"));
  EXPECT_THAT(out(), Not(HasSubstr(fleet_[1]->address() + ": applied")));
  ASSERT_TRUE(fleet_[1]->DecideGuard(Outcome(v1::GuardVerdict::KEPT)));
  auto r = runner_.Wait(*child);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->exit_code, 0) << r->Describe();
  // Target 2 finished first, so its line comes first.
  EXPECT_LT(r->out.find(fleet_[2]->address() + ": applied"),
            r->out.find(fleet_[1]->address() + ": applied"));
}

TEST_F(RwctlWavesTest, JsonPrintsOneObjectPerTargetAndASummary) {
  MakeFleet(3);
  for (auto* f : fleet_) f->set_auto_verdict(Outcome(v1::GuardVerdict::KEPT), {});
  fleet_[1]->set_auto_verdict(Outcome(v1::GuardVerdict::REVERTED), {});
  RwctlResult r = Rwctl({"apply", routes_, "--servers-file", ServersFile(), "--waves",
                         "1,2,100%", "--guard", "2s", "-o", "json"});
  EXPECT_EQ(r.exit_code, 1) << r.Describe();
  std::vector<std::string> lines = absl::StrSplit(r.out, '\n', absl::SkipEmpty());
  // target 0 (kept), target 1 (reverted), rollback of target 0, target 2 skipped, summary.
  ASSERT_EQ(lines.size(), 5u) << r.Describe();
  std::vector<google::protobuf::Struct> objects(lines.size());
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(lines[i], &objects[i]).ok())
        << lines[i];
  }
  EXPECT_EQ(objects[0].fields().at("result").string_value(), "kept");
  EXPECT_EQ(objects[0].fields().at("wave").number_value(), 1);
  EXPECT_EQ(objects[1].fields().at("result").string_value(), "reverted");
  EXPECT_EQ(objects[1].fields().at("guard").struct_value().fields().at("outcome").string_value(),
            "REVERTED");
  const auto& rollback = objects[2].fields().at("rollback").struct_value().fields();
  EXPECT_EQ(rollback.at("restored_version").number_value(), 1);
  EXPECT_EQ(rollback.at("version").number_value(), 3);
  EXPECT_TRUE(objects[3].fields().at("skipped").bool_value());
  const auto& summary = objects[4].fields();
  EXPECT_TRUE(summary.at("summary").bool_value());
  EXPECT_EQ(summary.at("failed_wave").number_value(), 2);
  EXPECT_EQ(summary.at("kept").number_value(), 1);
  EXPECT_EQ(summary.at("reverted").number_value(), 1);
  EXPECT_EQ(summary.at("rolled_back").number_value(), 1);
  EXPECT_EQ(summary.at("not_pushed").number_value(), 1);
  EXPECT_EQ(summary.at("exit_code").number_value(), 1);
}

}  // namespace
}  // namespace rwtest
