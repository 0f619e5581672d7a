// Names that do not resolve (issue #10): Compile serves the endpoints that resolve and lists the
// others, a slow resolver costs at most the deadline, the EndpointMonitor retries an unresolved
// name in the background (sooner than dns_refresh) until it joins the cluster, and a cluster with
// no resolved endpoint says why in its 503.
//
// Names resolve through a temporary --dns-hosts-file (SetHostsFile). Every name has a label longer
// than 63 octets, so glibc cannot encode it as a DNS query: a name missing from the file fails at
// once, without the network.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "boost/asio/io_context.hpp"
#include "gtest/gtest.h"
#include "server/config/snapshot.h"
#include "server/upstream/cluster_manager.h"
#include "server/upstream/endpoint_monitor.h"
#include "server/upstream/resolver.h"

namespace rwproxy {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

constexpr char kLongLabel[] =
    "this-label-is-longer-than-sixty-three-octets-so-glibc-never-sends-it";

// "PREFIX-<long label>.test": resolvable only through the hosts file.
std::string Name(const std::string& prefix) { return prefix + "-" + kLongLabel + ".test"; }

// A private hosts file, installed with SetHostsFile for the test's life.
class HostsFile {
 public:
  HostsFile() {
    std::string templ = (std::filesystem::temp_directory_path() / "rwdns-XXXXXX").string();
    if (mkdtemp(templ.data()) != nullptr) dir_ = templ;
    path_ = dir_ + "/hosts";
    SetHostsFile(path_);
  }
  ~HostsFile() {
    SetHostsFile("");
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  // Replaces the file at once (temp file + rename), as an operator's edit would.
  void Write(const std::string& text) {
    {
      std::ofstream out(path_ + ".next", std::ios::trunc);
      out << text;
    }
    std::filesystem::rename(path_ + ".next", path_);
  }
  const std::string& path() const { return path_; }
  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
  std::string path_;
};

std::vector<std::string> Keys(const std::vector<EndpointInfo>& endpoints) {
  std::vector<std::string> out;
  for (const auto& e : endpoints) out.push_back(e.key);
  return out;
}

ConfigSpec TwoClusters() {
  ConfigSpec spec;
  ClusterSpec& app = spec.clusters.emplace_back();
  app.name = "app";
  app.endpoints = {{Name("good"), 8080}, {Name("bad"), 8080}, {"127.0.0.1", 9000}};
  ClusterSpec& dark = spec.clusters.emplace_back();
  dark.name = "dark";
  dark.endpoints = {{Name("missing"), 80}};
  return spec;
}

TEST(CompileDnsTest, AnUnresolvableNameIsNotAnErrorAndTheOtherEndpointsServe) {
  HostsFile hosts;
  hosts.Write("127.0.0.7 " + Name("good") + "\n");
  std::vector<FieldError> errors;
  auto snapshot = Compile(TwoClusters(), 1, &errors);
  ASSERT_TRUE(errors.empty()) << errors[0].field << ": " << errors[0].message;
  ASSERT_NE(snapshot, nullptr);
  const ClusterInfo& app = snapshot->clusters[0];
  EXPECT_EQ(Keys(app.endpoints), (std::vector<std::string>{"127.0.0.7:8080", "127.0.0.1:9000"}));
  ASSERT_EQ(app.unresolved.size(), 1u);
  EXPECT_EQ(app.unresolved[0].source, Name("bad") + ":8080");
  EXPECT_NE(app.unresolved[0].error.find("cannot resolve '" + Name("bad") + "'"), std::string::npos)
      << app.unresolved[0].error;
  EXPECT_EQ(app.configured.size(), 3u);  // the name stays configured, for the retries
  EXPECT_EQ(app.default_host, Name("good") + ":8080");
  const ClusterInfo& dark = snapshot->clusters[1];
  EXPECT_TRUE(dark.endpoints.empty());
  ASSERT_EQ(dark.unresolved.size(), 1u);
  EXPECT_EQ(dark.unresolved[0].source, Name("missing") + ":80");
}

TEST(CompileDnsTest, RouteErrorsAreStillErrors) {
  HostsFile hosts;
  ConfigSpec spec = TwoClusters();
  RouteSpec& route = spec.routes.emplace_back();
  route.name = "r";
  route.match.kind = MatchSpec::Kind::kRegex;
  route.match.path = "((";
  route.action = RespondSpec{};
  std::vector<FieldError> errors;
  EXPECT_EQ(Compile(spec, 1, &errors), nullptr);
  EXPECT_FALSE(errors.empty());
}

// Resolve blocks in open() on a FIFO hosts file until someone writes it: a resolver that does not
// answer, without the network. Release() lets the blocked lookup finish (with `text`).
class StuckHostsFile : public HostsFile {
 public:
  StuckHostsFile() { ok_ = mkfifo(path().c_str(), 0600) == 0; }
  ~StuckHostsFile() { Release(""); }
  // Opens the FIFO for writing once the lookup has it open for reading (5 s at most), which
  // unblocks it; it then reads `text`.
  void Release(const std::string& text) {
    if (released_ || !ok_) return;
    released_ = true;
    const auto deadline = steady_clock::now() + std::chrono::seconds(5);
    int fd = -1;
    while ((fd = open(path().c_str(), O_WRONLY | O_NONBLOCK)) < 0 &&
           steady_clock::now() < deadline) {
      std::this_thread::sleep_for(milliseconds(5));  // polling for the reader, not for a result
    }
    if (fd < 0) return;
    (void)!write(fd, text.data(), text.size());
    close(fd);
  }
  bool ok() const { return ok_; }

 private:
  bool ok_ = false;
  bool released_ = false;
};

TEST(CompileDnsTest, ASlowResolverCostsAtMostTheDeadline) {
  StuckHostsFile hosts;
  ASSERT_TRUE(hosts.ok());
  ConfigSpec spec;
  ClusterSpec& app = spec.clusters.emplace_back();
  app.name = "app";
  app.endpoints = {{Name("slow"), 80}, {"127.0.0.1", 81}};
  const auto start = steady_clock::now();
  auto compiled = std::async(std::launch::async, [&] {
    std::vector<FieldError> errors;
    return Compile(spec, 1, &errors, absl::Milliseconds(300));
  });
  // Without the deadline Compile waits for the hosts file for ever: fail instead of hanging.
  const bool in_time = compiled.wait_for(std::chrono::seconds(5)) == std::future_status::ready;
  if (!in_time) hosts.Release("");
  std::shared_ptr<const Snapshot> snapshot = compiled.get();
  ASSERT_TRUE(in_time) << "Compile still waiting for the resolver after 5 s";
  EXPECT_GE(steady_clock::now() - start, milliseconds(300));
  ASSERT_NE(snapshot, nullptr);
  EXPECT_EQ(Keys(snapshot->clusters[0].endpoints), std::vector<std::string>{"127.0.0.1:81"});
  ASSERT_EQ(snapshot->clusters[0].unresolved.size(), 1u);
  EXPECT_EQ(snapshot->clusters[0].unresolved[0].error,
            "cannot resolve '" + Name("slow") + "': no answer within 300ms");
}

class MonitorDnsTest : public testing::Test {
 protected:
  MonitorDnsTest()
      : monitor_(&registry_, [this](std::shared_ptr<const HostMap> map) {
          std::lock_guard<std::mutex> lock(mu_);
          latest_ = std::move(map);
          cv_.notify_all();
        }) {}

  // Cluster app: 127.0.0.1:2001 and Name("late"):2002, re-resolved only every 30 s.
  std::shared_ptr<const Snapshot> Make() {
    ConfigSpec spec;
    ClusterSpec& app = spec.clusters.emplace_back();
    app.name = "app";
    app.endpoints = {{"127.0.0.1", 2001}, {Name("late"), 2002}};
    app.dns_refresh = absl::Seconds(30);
    std::vector<FieldError> errors;
    auto snapshot = Compile(spec, 1, &errors);
    EXPECT_TRUE(errors.empty());
    return snapshot;
  }

  HostsFile hosts_;
  EndpointRegistry registry_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::shared_ptr<const HostMap> latest_;
  EndpointMonitor monitor_;
};

TEST_F(MonitorDnsTest, AnUnresolvedNameIsRetriedSoonerThanDnsRefreshAndJoinsWhenItResolves) {
  hosts_.Write("127.0.0.9 " + Name("other") + "\n");
  const std::string late = Name("late") + ":2002";
  auto map = monitor_.Update(Make());
  const HostSet& first = *map->clusters.at("app");
  EXPECT_EQ(Keys(first.endpoints), std::vector<std::string>{"127.0.0.1:2001"});
  EXPECT_EQ(first.unresolved, std::vector<std::string>{late});

  std::vector<ClusterStatus> status = monitor_.Status();
  ASSERT_EQ(status.size(), 1u);
  ASSERT_EQ(status[0].unresolved.size(), 1u);
  const EndpointStatus& name = status[0].unresolved[0];
  EXPECT_EQ(name.source, late);
  EXPECT_EQ(name.health, "unresolved");
  EXPECT_NE(name.reason.find("cannot resolve"), std::string::npos) << name.reason;
  EXPECT_GT(name.since_unix_ms, 0);
  EXPECT_GE(name.retry_unix_ms, name.since_unix_ms + 1000);   // 1 s after the first failure...
  EXPECT_LT(name.retry_unix_ms, name.since_unix_ms + 30000);  // ...not at the next refresh
  StatsSnapshot stats;
  monitor_.Collect(&stats);
  EXPECT_EQ(stats.clusters["app"]["dns_unresolved"], 1u);
  EXPECT_GE(stats.clusters["app"]["dns_resolution_failure"], 1u);

  // The name appears: a retry (1 s, 2 s, ... not the 30 s refresh) picks it up and publishes it.
  hosts_.Write("127.0.0.5 " + Name("late") + "\n");
  {
    std::unique_lock<std::mutex> lock(mu_);
    ASSERT_TRUE(cv_.wait_for(lock, std::chrono::seconds(10), [&] {
      return latest_ && latest_->clusters.at("app")->unresolved.empty();
    })) << "the name did not join within 10 s";
    const HostSet& joined = *latest_->clusters.at("app");
    EXPECT_EQ(Keys(joined.endpoints),
              (std::vector<std::string>{"127.0.0.1:2001", "127.0.0.5:2002"}));
    EXPECT_EQ(joined.endpoints[1].source, late);
    EXPECT_EQ(joined.available.size(), 2u);
  }
  StatsSnapshot after;
  monitor_.Collect(&after);
  EXPECT_EQ(after.clusters["app"]["dns_unresolved"], 0u);
  EXPECT_TRUE(monitor_.Status()[0].unresolved.empty());
}

TEST(NoEndpointsReasonTest, SaysWhichNamesDoNotResolveYet) {
  HostsFile hosts;
  std::vector<FieldError> errors;
  auto snapshot = Compile(TwoClusters(), 1, &errors);
  ASSERT_NE(snapshot, nullptr);
  const ClusterInfo& dark = snapshot->clusters[1];
  boost::asio::io_context io;
  Poller poller{io};
  BufferPool buffers;
  EndpointRegistry registry;
  ClusterManager manager(io.get_executor(), &poller, &buffers, &registry);
  // Before any host map: from the snapshot.
  manager.Apply(snapshot, nullptr);
  ClusterManager::ClusterState& state = manager.State(dark);
  EXPECT_FALSE(manager.HasEndpoints(dark, state));
  const std::string expected =
      "no resolved endpoint in cluster dark (" + Name("missing") + ":80 does not resolve yet)";
  EXPECT_EQ(manager.NoEndpointsReason(dark, state), expected);
  // With the monitor's host map (what workers have): the same.
  EndpointMonitor monitor(&registry, [](std::shared_ptr<const HostMap>) {});
  manager.Apply(snapshot, monitor.Update(snapshot));
  EXPECT_FALSE(manager.HasEndpoints(dark, state));
  EXPECT_EQ(manager.NoEndpointsReason(dark, state), expected);
  EXPECT_EQ(manager.Choose(dark, state).pool, nullptr);
  monitor.Stop();
}

}  // namespace
}  // namespace rwproxy
