// The control API against a real rwproxy (and rwupstream): applies under load, visibility of an
// applied config to the very next request, rejected configs, restart with --state-dir, auth and
// the start-up checks of --control.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "config/config_yaml.h"
#include "proto/control.grpc.pb.h"
#include "tests/integration/control_fixture.h"

namespace rwtest {
namespace {

TEST_F(ControlTest, HundredAppliesUnderLoadLoseNoRequestAndOpenNoConnection) {
  RW_ASSERT_OK(StartTagged("a"));
  ASSERT_NE(env_.control_port(), 0);
  constexpr int kClients = 3;
  std::atomic<bool> stop{false};
  std::atomic<int64_t> ok{0};
  std::atomic<int64_t> done[kClients] = {};
  std::atomic<int64_t> failed{0};
  std::mutex failures_mu;
  std::vector<std::string> failures;
  std::vector<std::thread> clients;
  for (int i = 0; i < kClients; ++i) {
    clients.emplace_back([&, i] {
      auto conn = Connect();
      if (!conn.ok()) {
        ++failed;
        return;
      }
      while (!stop) {
        auto res = (*conn)->Send("GET", "/api/ping");
        std::string target = res.ok() ? ParseKeyValues(res->body)["target"] : "";
        if (res.ok() && res->status == 200 && (target == "/a/ping" || target == "/b/ping")) {
          ++ok;
        } else {
          ++failed;
          std::lock_guard<std::mutex> lock(failures_mu);
          failures.push_back(res.ok() ? absl::StrCat(res->status, " ", res->body)
                                      : std::string(res.status().message()));
          if (!res.ok()) return;  // the connection is gone
        }
        ++done[i];
      }
    });
  }
  auto all_running = [&](int64_t at_least) {
    for (auto& d : done) {
      if (d < at_least) return false;
    }
    return true;
  };
  EXPECT_TRUE(WaitFor([&] { return all_running(3); }, std::chrono::seconds(10), "load running"));

  uint64_t version = 1;
  for (int i = 0; i < 100; ++i) {
    v1::ApplyResponse response;
    grpc::Status status = Apply(i % 2 == 0 ? "b" : "a", &response, version);
    ASSERT_TRUE(status.ok()) << i << ": " << status.error_message();
    ASSERT_TRUE(response.changed());
    ASSERT_EQ(response.version(), ++version);
  }
  int64_t after_applies[kClients];
  for (int i = 0; i < kClients; ++i) after_applies[i] = done[i];
  EXPECT_TRUE(WaitFor(
      [&] {
        for (int i = 0; i < kClients; ++i) {
          if (done[i] <= after_applies[i]) return false;
        }
        return true;
      },
      std::chrono::seconds(10), "every client serves after the applies"));
  stop = true;
  for (auto& t : clients) t.join();

  EXPECT_EQ(failed, 0) << (failures.empty() ? "" : failures.front());
  EXPECT_GT(ok, 0);
  std::cerr << "[control] " << ok << " requests in total, 100 applies among them\n";
  EXPECT_EQ(Live().version(), 101u);
  // Same endpoints in every config: the pools stayed warm, so no more upstream connections were
  // opened than there were concurrent requests.
  EXPECT_LE(Counter("cluster.app.upstream_cx_total"), kClients) << env_.Logs();
  EXPECT_EQ(Counter("server.config_version"), 101);
}

TEST_F(ControlTest, AppliedRewriteIsVisibleToTheVeryNextRequest) {
  RW_ASSERT_OK(StartTagged("t0"));
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  ASSERT_EQ(UpstreamTarget(**conn), "/t0/x");
  for (int i = 1; i <= 10; ++i) {
    const std::string tag = absl::StrCat("t", i);
    v1::ApplyResponse response;
    grpc::Status status = Apply(tag, &response);
    ASSERT_TRUE(status.ok()) << status.error_message();
    EXPECT_EQ(response.version(), static_cast<uint64_t>(i + 1));
    // The next request on an existing keep-alive connection, and on a new one.
    EXPECT_EQ(UpstreamTarget(**conn), "/" + tag + "/x");
    auto fresh = Connect();
    RW_ASSERT_OK(fresh);
    EXPECT_EQ(UpstreamTarget(**fresh), "/" + tag + "/x");
  }
}

TEST_F(ControlTest, RejectedConfigLeavesLiveConfigAndVersionUntouched) {
  RW_ASSERT_OK(StartTagged("a"));
  v1::ApplyResponse response;
  ASSERT_TRUE(Apply("b", &response).ok());
  const v1::GetConfigResponse before = Live();
  ASSERT_EQ(before.version(), 2u);

  v1::ApplyRequest bad;
  *bad.mutable_config() = Config("c");
  bad.mutable_config()->mutable_routes(0)->mutable_match()->set_path_regex("^/api/(.*$");
  auto context = Context();
  grpc::Status status = Stub().Apply(context.get(), bad, &response);
  ASSERT_EQ(status.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_NE(status.error_message().find("routes[0].match.path_regex: missing )"), std::string::npos)
      << status.error_message();
  // The violations travel in the status details: a google.rpc.Status holding a ValidateResponse.
  v1::RpcStatus details;
  ASSERT_TRUE(details.ParseFromString(status.error_details()));
  ASSERT_EQ(details.details_size(), 1);
  v1::ValidateResponse violations;
  ASSERT_TRUE(details.details(0).UnpackTo(&violations));
  EXPECT_EQ(violations.total_violations(), 1u);
  ASSERT_EQ(violations.violations_size(), 1);
  EXPECT_EQ(violations.violations(0).field(), "routes[0].match.path_regex");

  EXPECT_EQ(Apply("c", &response, 1).error_code(), grpc::StatusCode::FAILED_PRECONDITION);

  const v1::GetConfigResponse after = Live();
  EXPECT_EQ(after.version(), 2u);
  EXPECT_EQ(after.content_hash(), before.content_hash());
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  EXPECT_EQ(UpstreamTarget(**conn), "/b/x");
  EXPECT_EQ(Counter("server.config_version"), 2);
}

TEST_F(ControlTest, RestartWithStateDirRestoresLastAppliedVersion) {
  const std::string state_dir = env_.dir() + "/state";
  const std::vector<std::string> args = {"--state-dir", state_dir, "--drain-timeout", "0s"};
  RW_ASSERT_OK(StartTagged("a", args));
  v1::ApplyResponse response;
  ASSERT_TRUE(Apply("b", &response).ok());
  ASSERT_TRUE(Apply("c", &response).ok());
  ASSERT_EQ(response.version(), 3u);
  // An open Watch stream does not hold up the shutdown; it ends with it.
  auto watch_context = Context();
  auto watch = Stub().Watch(watch_context.get(), {});
  v1::VersionEvent event;
  ASSERT_TRUE(watch->Read(&event));
  EXPECT_EQ(event.version().version(), 3u);
  EXPECT_EQ(env_.proxy().Stop(), 0);
  EXPECT_FALSE(watch->Read(&event));
  watch->Finish();

  // A different --config on restart: the persisted live config wins.
  RW_ASSERT_OK(env_.StartProxy(TaggedYaml("d"), args));
  stub_.reset();  // the control port changed
  const v1::GetConfigResponse live = Live();
  EXPECT_EQ(live.version(), 3u);
  EXPECT_EQ(live.config().routes(0).rewrite().path(), "/c/$1");
  auto conn = Connect();
  RW_ASSERT_OK(conn);
  EXPECT_EQ(UpstreamTarget(**conn), "/c/x");
  EXPECT_NE(ReadFileTail(env_.proxy().log_path()).find("restored config version 3"),
            std::string::npos);

  v1::ListVersionsResponse versions;
  auto context = Context();
  ASSERT_TRUE(Stub().ListVersions(context.get(), {}, &versions).ok());
  ASSERT_EQ(versions.versions_size(), 3);
  EXPECT_EQ(versions.versions(0).description(), "test c");
  v1::RollbackRequest rollback;
  rollback.set_version(1);
  auto rollback_context = Context();
  ASSERT_TRUE(Stub().Rollback(rollback_context.get(), rollback, &response).ok());
  EXPECT_EQ(response.version(), 4u);
  EXPECT_EQ(UpstreamTarget(**conn), "/a/x");
}

TEST_F(ControlTest, TokenFileRequiresBearerToken) {
  const std::string token_file = env_.dir() + "/token";
  std::ofstream(token_file) << "  tok-123\n";
  RW_ASSERT_OK(StartTagged("a", {"--control-token-file", token_file}));
  v1::GetConfigResponse response;
  auto anonymous = Context();
  EXPECT_EQ(Stub().GetConfig(anonymous.get(), {}, &response).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  auto authorized = Context();
  authorized->AddMetadata("authorization", "Bearer tok-123");
  grpc::Status status = Stub().GetConfig(authorized.get(), {}, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.version(), 1u);
}

TEST_F(ControlTest, ServesOnUnixSocket) {
  const std::string socket = env_.dir() + "/control.sock";
  RW_ASSERT_OK(StartTagged("a", {"--control", "unix:" + socket}));
  auto stub = v1::ControlPlane::NewStub(
      grpc::CreateChannel("unix:" + socket, grpc::InsecureChannelCredentials()));
  v1::GetConfigResponse response;
  auto context = Context();
  grpc::Status status = stub->GetConfig(context.get(), {}, &response);
  EXPECT_TRUE(status.ok()) << status.error_message();
  EXPECT_EQ(response.version(), 1u);
}

TEST_F(ControlTest, NonLoopbackControlWithoutTokenIsRefused) {
  RW_ASSERT_OK(env_.StartUpstream("app"));
  const std::string config = env_.dir() + "/refused.yaml";
  std::ofstream(config) << env_.Expand(TaggedYaml("a"));
  const std::string log = env_.dir() + "/refused.log";
  auto process = Process::Spawn(RwproxyBinary(),
                                {"--config", config, "--listen", "127.0.0.1:0", "--admin",
                                 "127.0.0.1:0", "--control", "0.0.0.0:0"},
                                log);
  RW_ASSERT_OK(process);
  ASSERT_TRUE(WaitFor([&] { return !process->Alive(); }, std::chrono::seconds(10),
                      "rwproxy to exit by itself"));
  EXPECT_EQ(process->exit_code(), 1);
  EXPECT_NE(ReadFileTail(log).find("non-loopback"), std::string::npos) << ReadFileTail(log);
}

// --log-format json: every diagnostics line is one JSON object {ts, level, component, msg}; the
// start-up, each applied version (with hash, source and description) and each failed call (with
// method and code, never the token) are among them.
TEST_F(ControlTest, JsonLogLinesForStartupAppliesAndFailedCalls) {
  const std::string token_file = env_.dir() + "/token";
  std::ofstream(token_file) << "tok-do-not-log\n";
  RW_ASSERT_OK(StartTagged("a", {"--log-format", "json", "--control-token-file", token_file}));
  auto authorized = [] {
    auto context = Context();
    context->AddMetadata("authorization", "Bearer tok-do-not-log");
    return context;
  };
  v1::GetConfigResponse live;
  auto anonymous = Context();
  ASSERT_EQ(Stub().GetConfig(anonymous.get(), {}, &live).error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  v1::ApplyRequest request;
  *request.mutable_config() = Config("b");
  request.set_description("test b");
  v1::ApplyResponse applied;
  auto c1 = authorized();
  grpc::Status status = Stub().Apply(c1.get(), request, &applied);
  ASSERT_TRUE(status.ok()) << status.error_message();
  request.mutable_config()->mutable_routes(0)->set_cluster("nope");
  v1::ApplyResponse rejected;
  auto c2 = authorized();
  ASSERT_EQ(Stub().Apply(c2.get(), request, &rejected).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  struct Line {
    std::string ts, level, component, msg;
  };
  std::vector<Line> lines;
  std::string text;
  auto find = [&](std::string_view level, std::string_view component, std::string_view part) {
    for (const Line& line : lines) {
      if (line.level == level && line.component == component &&
          line.msg.find(part) != std::string::npos) {
        return true;
      }
    }
    return false;
  };
  const std::string applied_line =
      absl::StrCat("applied version 2 (hash ", applied.content_hash(), ", source api, peer ");
  ASSERT_TRUE(WaitFor(
      [&] {
        text = ReadFileTail(env_.proxy().log_path(), 1 << 20);
        text.resize(text.rfind('\n') + 1);  // whole lines only (npos + 1 == 0)
        lines.clear();
        for (absl::string_view raw : absl::StrSplit(text, '\n', absl::SkipEmpty())) {
          google::protobuf::Struct object;
          if (!google::protobuf::util::JsonStringToMessage(std::string(raw), &object).ok()) {
            ADD_FAILURE() << "not a JSON line: " << raw;
            return true;
          }
          const auto& fields = object.fields();
          EXPECT_EQ(fields.size(), 4u) << raw;
          Line line;
          for (auto [key, out] : {std::pair{"ts", &line.ts},
                                  {"level", &line.level},
                                  {"component", &line.component},
                                  {"msg", &line.msg}}) {
            auto it = fields.find(key);
            EXPECT_TRUE(it != fields.end() && it->second.has_string_value()) << key << ": " << raw;
            if (it != fields.end()) *out = it->second.string_value();
          }
          lines.push_back(std::move(line));
        }
        return find("warn", "control", "Apply failed: INVALID_ARGUMENT: ") &&
               find("info", "control", applied_line);
      },
      std::chrono::seconds(10), "the apply lines in the proxy's log"))
      << text;

  for (const Line& line : lines) {
    // 2026-12-01T23:31:26.123456Z
    EXPECT_EQ(line.ts.size(), 27u) << line.ts;
    EXPECT_TRUE(line.ts.size() == 27 && line.ts[10] == 'T' && line.ts[19] == '.' &&
                line.ts[26] == 'Z')
        << line.ts;
  }
  EXPECT_TRUE(find("info", "main", "workers, proxy 127.0.0.1:")) << text;
  EXPECT_TRUE(find("info", "control", "applied version 1 (hash ")) << text;
  EXPECT_TRUE(find("info", "control", ", source boot, description \"--config ")) << text;
  EXPECT_TRUE(find("info", "control", "description \"test b\")")) << text;
  EXPECT_TRUE(find("warn", "control", "GetConfig failed: UNAUTHENTICATED: ")) << text;
  EXPECT_TRUE(find("warn", "control", "routes[0].cluster: unknown cluster 'nope'")) << text;
  EXPECT_EQ(text.find("tok-do-not-log"), std::string::npos) << text;
}

}  // namespace
}  // namespace rwtest
