// Shared pieces of the resilience integration tests (resilience_test.cc,
// resilience_traffic_test.cc): load generating clients that tally what they saw, and a fixture
// that starts several upstreams and reads endpoint health from /clusters.
//
// Ownership: gtest owns the fixture; Load owns its client threads. Thread-safety: the test's main
// thread, except Tally/Load internals, which lock.
#ifndef RWPROXY_TESTS_INTEGRATION_RESILIENCE_FIXTURE_H_
#define RWPROXY_TESTS_INTEGRATION_RESILIENCE_FIXTURE_H_

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/integration/integration_fixture.h"

namespace rwtest {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

inline int64_t MsSince(Clock::time_point start) {
  return std::chrono::duration_cast<milliseconds>(Clock::now() - start).count();
}

// What a client saw.
struct Tally {
  int64_t total = 0;
  int64_t ok = 0;                              // 200
  std::map<int, int64_t> by_status;            // 0: transport error
  std::map<std::string, int64_t> by_upstream;  // X-Upstream-Name of every answer that has one
  std::set<std::string> conns;                 // "name/conn" of 200 echo answers
  std::string first_error;

  int64_t errors() const { return total - ok; }
  int64_t Status(int status) const {
    auto it = by_status.find(status);
    return it == by_status.end() ? 0 : it->second;
  }
  int64_t From(const std::string& upstream) const {
    auto it = by_upstream.find(upstream);
    return it == by_upstream.end() ? 0 : it->second;
  }
  void Merge(const Tally& other) {
    total += other.total;
    ok += other.ok;
    for (const auto& [k, v] : other.by_status) by_status[k] += v;
    for (const auto& [k, v] : other.by_upstream) by_upstream[k] += v;
    conns.insert(other.conns.begin(), other.conns.end());
    if (first_error.empty()) first_error = other.first_error;
  }
  std::string Describe() const {
    std::vector<std::string> parts;
    for (const auto& [k, v] : by_status) parts.push_back(absl::StrCat(k, ":", v));
    for (const auto& [k, v] : by_upstream) parts.push_back(absl::StrCat(k, "=", v));
    return absl::StrCat("total ", total, " {", absl::StrJoin(parts, " "),
                        "} first error: ", first_error.empty() ? "-" : first_error);
  }
};

// One keep-alive client connection to the proxy (a new one after an error or a close).
class Client {
 public:
  explicit Client(uint16_t port, milliseconds timeout = milliseconds(10000))
      : port_(port), timeout_(timeout) {}

  // One GET; counted in tally(). Returns the status (0 on a transport error).
  int Get(const std::string& target) {
    ++tally_.total;
    if (conn_ == nullptr) {
      auto conn = HttpConnection::Connect(port_, timeout_);
      if (!conn.ok()) return Error(0, conn.status().ToString());
      conn_ = std::move(*conn);
    }
    auto res = conn_->Send("GET", target);
    if (!res.ok()) {
      conn_.reset();
      return Error(0, res.status().ToString());
    }
    if (!res->keep_alive) conn_.reset();
    const std::string name = res->Header("X-Upstream-Name");
    if (!name.empty()) ++tally_.by_upstream[name];
    if (res->status != 200) return Error(res->status, absl::StrCat(res->status, " ", res->body));
    ++tally_.ok;
    ++tally_.by_status[200];
    auto echo = ParseKeyValues(res->body);
    if (echo.count("conn")) tally_.conns.insert(absl::StrCat(echo["name"], "/", echo["conn"]));
    return 200;
  }
  const Tally& tally() const { return tally_; }
  Tally TakeTally() { return std::exchange(tally_, Tally{}); }

 private:
  int Error(int status, std::string what) {
    ++tally_.by_status[status];
    if (tally_.first_error.empty()) tally_.first_error = std::move(what);
    return status;
  }

  uint16_t port_;
  milliseconds timeout_;
  std::unique_ptr<HttpConnection> conn_;
  Tally tally_;
};

// `clients` threads, each with its own keep-alive Client, sending GET `target` until Stop(),
// `max_requests` in all, or `max_time`; each client pauses `gap` between requests (load shape).
class Load {
 public:
  Load(uint16_t port, std::string target, int clients, int64_t max_requests,
       milliseconds max_time = milliseconds(30000), milliseconds gap = milliseconds(0)) {
    const auto deadline = Clock::now() + max_time;
    for (int i = 0; i < clients; ++i) {
      threads_.emplace_back([this, port, target, max_requests, deadline, gap] {
        Client client(port);
        while (!stop_.load() && Clock::now() < deadline && started_.fetch_add(1) < max_requests) {
          if (client.Get(target) != 200) ++errors_;
          ++done_;
          if (gap.count() > 0) std::this_thread::sleep_for(gap);  // load shape only
        }
        std::lock_guard<std::mutex> lock(mu_);
        tally_.Merge(client.tally());
      });
    }
  }
  ~Load() { Stop(); }
  Load(const Load&) = delete;
  Load& operator=(const Load&) = delete;

  int64_t done() const { return done_.load(); }
  int64_t errors() const { return errors_.load(); }
  // Waits until `n` more requests than now have completed.
  ::testing::AssertionResult RunFor(int64_t n, milliseconds timeout = milliseconds(15000)) {
    const int64_t target = done() + n;
    return WaitFor([&] { return done() >= target; }, timeout,
                   absl::StrCat(target, " requests done"));
  }
  // Lets the clients finish (max_requests or max_time) and returns what they saw.
  Tally Wait() {
    for (auto& t : threads_) t.join();
    threads_.clear();
    std::lock_guard<std::mutex> lock(mu_);
    return tally_;
  }
  Tally Stop() {
    stop_ = true;
    for (auto& t : threads_) t.join();
    threads_.clear();
    std::lock_guard<std::mutex> lock(mu_);
    return tally_;
  }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> started_{0};
  std::atomic<int64_t> done_{0};
  std::atomic<int64_t> errors_{0};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  Tally tally_;
};

class ResilienceTest : public IntegrationTest {
 protected:
  // Starts rwupstream NAME for each name, then rwproxy on `config`.
  void Start(const std::vector<std::string>& names, std::string_view config,
             std::vector<std::string> proxy_args = {}) {
    for (const auto& name : names) RW_ASSERT_OK(env_.StartUpstream(name));
    RW_ASSERT_OK(env_.StartProxy(config, proxy_args));
  }

  // Endpoint `upstream` of cluster `cluster` in /clusters (a failure and an empty one if absent).
  EndpointHealth Endpoint(const std::string& upstream, const std::string& cluster = "app") {
    auto status = env_.Cluster(cluster);
    if (!status.ok()) {
      ADD_FAILURE() << status.status();
      return {};
    }
    const EndpointHealth* e = status->Find(env_.address(upstream));
    if (e == nullptr) {
      ADD_FAILURE() << "no endpoint " << env_.address(upstream) << " in cluster " << cluster;
      return {};
    }
    return *e;
  }

  // Waits until `upstream`'s health in cluster app is one of `wanted`; *seen: its last view.
  ::testing::AssertionResult HealthBecomes(const std::string& upstream,
                                           const std::set<std::string>& wanted,
                                           milliseconds timeout = milliseconds(5000),
                                           EndpointHealth* seen = nullptr) {
    EndpointHealth last;
    auto result = WaitFor(
        [&] {
          auto status = env_.Cluster("app");
          if (!status.ok()) return false;
          const EndpointHealth* e = status->Find(env_.address(upstream));
          if (e == nullptr) return false;
          last = *e;
          return wanted.count(e->health) > 0;
        },
        timeout, absl::StrCat(upstream, " health in {", absl::StrJoin(wanted, ","), "}"));
    if (!result) {
      result << " (last: health=" << last.health << " ejections=" << last.ejections
             << " reason=" << last.reason << ")";
    }
    if (seen != nullptr) *seen = last;
    return result;
  }

  int64_t Requests(const std::string& upstream) {
    return UpstreamCount("requests_default", upstream);
  }

  void Report(const std::string& key, int64_t value) {
    std::cout << "[resilience] " << key << " = " << value << std::endl;
    RecordProperty(key, std::to_string(value));
  }

  // Writes routes.yaml again (temp file + rename: --watch-config sees one complete file).
  void RewriteConfig(std::string_view config_template) {
    const std::filesystem::path dir = env_.dir();
    {
      std::ofstream out(dir / "routes.yaml.next", std::ios::trunc);
      out << env_.Expand(config_template);
      ASSERT_TRUE(out.flush());
    }
    std::filesystem::rename(dir / "routes.yaml.next", dir / "routes.yaml");
  }
};

// ---- 1. An endpoint killed under load ----------------------------------------------------------

}  // namespace rwtest

#endif  // RWPROXY_TESTS_INTEGRATION_RESILIENCE_FIXTURE_H_
