// Shared fixture for the integration tests: one rwupstream "app" behind one rwproxy, started on
// loopback per test, plus the config most tests use.
//
// Ownership: gtest owns the fixture; the fixture owns the ProxyHarness (and so the processes).
// Thread-safety: the test's main thread; Get()/Fetch() may be called from helper threads.
#ifndef RWPROXY_TESTS_INTEGRATION_INTEGRATION_FIXTURE_H_
#define RWPROXY_TESTS_INTEGRATION_INTEGRATION_FIXTURE_H_

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "tests/support/harness.h"
#include "tests/support/http_client.h"
#include "tests/support/wait.h"

namespace rwtest {

// "{{app}}" is the upstream started by StartApp().
inline constexpr char kBaseConfig[] = R"yaml(
clusters:
  - name: app
    endpoints: ["{{app}}"]
    lb_policy: round_robin
    connect_timeout: 1s
    pool: {max_connections: 1024, max_idle: 64, idle_timeout: 55s, max_requests_per_connection: 0, max_pending: 1024}
routes:
  - name: api
    match: {path_regex: "^/api/(.*)$"}
    rewrite: {path: "/$1"}
    cluster: app
    timeout: 15s
  - name: short
    match: {path_regex: "^/short/(.*)$"}
    rewrite: {path: "/$1"}
    cluster: app
    timeout: 500ms
  - name: fixed-query
    match: {path_prefix: /q/}
    rewrite: {path: "/fixed?src=q"}
    cluster: app
  - name: hosted
    match: {path_prefix: /hosted/}
    rewrite: {host: internal.example}
    cluster: app
  - name: moved
    match: {path_prefix: /docs/}
    redirect: {location: "https://docs.example.com$0", status: 301}
  - name: deny
    match: {path_prefix: /admin}
    respond: {status: 403, body: "forbidden\n"}
)yaml";

class IntegrationTest : public ::testing::Test {
 protected:
  // The --dns-hosts-file of a test (in its temp dir), replaced at once (temp file + rename), as a
  // resolver would see it.
  void WriteHosts(const std::string& text) {
    {
      std::ofstream out(HostsPath() + ".next", std::ios::trunc);
      out << text;
      ASSERT_TRUE(out.flush());
    }
    std::filesystem::rename(HostsPath() + ".next", HostsPath());
  }
  std::string HostsPath() const { return env_.dir() + "/hosts"; }

  // Starts rwupstream "app" with `upstream_args`, then rwproxy on `config`.
  absl::Status StartApp(const std::vector<std::string>& upstream_args = {},
                        const std::vector<std::string>& proxy_args = {},
                        std::string_view config = kBaseConfig) {
    auto port = env_.StartUpstream("app", upstream_args);
    if (!port.ok()) return port.status();
    return env_.StartProxy(config, proxy_args);
  }

  // One request through the proxy on a fresh client connection.
  absl::StatusOr<HttpResponse> Get(std::string_view target, const Headers& headers = {}) {
    return Fetch(env_.proxy_port(), "GET", target, headers);
  }

  absl::StatusOr<std::unique_ptr<HttpConnection>> Connect() {
    return HttpConnection::Connect(env_.proxy_port());
  }

  // A proxy counter; records a failure and returns -1 if /stats does not have it.
  int64_t Counter(std::string_view name) {
    auto value = env_.Counter(name);
    if (!value.ok()) {
      ADD_FAILURE() << value.status();
      return -1;
    }
    return *value;
  }

  // Counters may be updated just after the response is written: wait for them.
  ::testing::AssertionResult CounterReaches(std::string_view name, int64_t at_least) {
    int64_t last = -1;
    auto result = WaitFor(
        [&] {
          auto value = env_.Counter(name);
          last = value.ok() ? *value : -1;
          return last >= at_least;
        },
        std::chrono::seconds(5), std::string(name) + " >= " + std::to_string(at_least));
    if (!result) result << " (last value " << last << ")";
    return result;
  }

  // rwupstream's /__stats value ("connections" or "requests"); -1 and a failure on error.
  int64_t UpstreamCount(const std::string& key, const std::string& upstream = "app") {
    auto stats = env_.UpstreamStats(upstream);
    if (!stats.ok()) {
      ADD_FAILURE() << stats.status();
      return -1;
    }
    return (*stats)[key];
  }

  // True if `body` is one line of text ending in a newline (the local reply format), or one line
  // without the newline.
  static bool IsOneLine(const std::string& body) {
    if (body.empty()) return false;
    const auto newlines = std::count(body.begin(), body.end(), '\n');
    return newlines == 0 || (newlines == 1 && body.back() == '\n');
  }

  ProxyHarness env_;
};

}  // namespace rwtest

#endif  // RWPROXY_TESTS_INTEGRATION_INTEGRATION_FIXTURE_H_
