#include "tests/support/harness.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "gtest/gtest.h"
#include "tests/support/wait.h"

#ifndef RWPROXY_BIN
#error "RWPROXY_BIN must name the rwproxy binary"
#endif
#ifndef RWUPSTREAM_BIN
#error "RWUPSTREAM_BIN must name the rwupstream binary"
#endif

namespace rwtest {

// RWPROXY_TEST_BINARY runs the suite against another build (e.g. to show a test fails without a
// fix); by default, the one built with the tests.
std::string RwproxyBinary() {
  const char* other = std::getenv("RWPROXY_TEST_BINARY");
  return other && *other ? other : RWPROXY_BIN;
}
std::string RwupstreamBinary() { return RWUPSTREAM_BIN; }

absl::StatusOr<uint16_t> UnusedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return absl::InternalError(absl::StrCat("socket: ", std::strerror(errno)));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof addr;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    close(fd);
    return absl::InternalError(absl::StrCat("bind: ", std::strerror(errno)));
  }
  close(fd);
  return ntohs(addr.sin_port);
}

absl::Status SetUpstream(uint16_t port, std::string_view query) {
  const std::string target = "/__set?" + std::string(query);
  auto res = Fetch(port, "GET", target);
  if (!res.ok()) return res.status();
  if (res->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat(target, " -> ", res->status, ": ", res->body));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> UpstreamStats(uint16_t port) {
  auto res = Fetch(port, "GET", "/__stats");
  if (!res.ok()) return res.status();
  if (res->status != 200) {
    return absl::FailedPreconditionError(absl::StrCat("/__stats -> ", res->status));
  }
  return std::move(res->body);
}

ProxyHarness::ProxyHarness() {
  const char* tmp = std::getenv("TMPDIR");
  std::string templ = absl::StrCat(tmp != nullptr && *tmp != '\0' ? tmp : "/tmp", "/rwit.XXXXXX");
  if (mkdtemp(templ.data()) != nullptr) dir_ = templ;
}

ProxyHarness::~ProxyHarness() {
  proxy_.Stop();
  for (auto& [name, upstream] : upstreams_) {
    upstream.stats_conn.reset();
    upstream.process.Stop();
  }
  if (dir_.empty()) return;
  if (::testing::Test::HasFailure()) {
    std::cerr << "[harness] kept " << dir_ << "\n" << Logs();
  } else {
    std::error_code ignored;
    std::filesystem::remove_all(dir_, ignored);
  }
}

absl::StatusOr<uint16_t> ProxyHarness::StartUpstream(const std::string& name,
                                                     const std::vector<std::string>& extra_args,
                                                     uint16_t port, const std::string& host) {
  if (dir_.empty()) return absl::InternalError("no temp dir");
  Upstream& upstream = upstreams_[name];
  upstream.stats_conn.reset();
  upstream.process.Stop();  // a running one would hold the port; no-op otherwise
  upstream.extra_args = extra_args;
  upstream.host = host;
  const std::string ports_file = absl::StrCat(dir_, "/upstream-", name, ".ports");
  std::vector<std::string> args = {
      "--listen", absl::StrCat(host, ":", port), "--ports-file", ports_file, "--name", name};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  // A restart logs to upstream-NAME-N.log, so the earlier runs' logs stay visible on failure.
  const std::string log =
      upstream.starts == 0 ? absl::StrCat(dir_, "/upstream-", name, ".log")
                           : absl::StrCat(dir_, "/upstream-", name, "-", upstream.starts, ".log");
  ++upstream.starts;
  // A fixed port may still be held for a moment (e.g. by a connection the killed upstream had):
  // then rwupstream exits at once, and is started again until kStartTimeout.
  const auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
  absl::StatusOr<std::map<std::string, uint16_t>> ports = absl::UnknownError("not started");
  while (true) {
    std::error_code ignored;
    std::filesystem::remove(ports_file, ignored);  // a restart must not read the last run's port
    auto process = Process::Spawn(RwupstreamBinary(), args, log);
    if (!process.ok()) return process.status();
    upstream.process = std::move(*process);
    ports = WaitForPortsFile(ports_file, {"upstream"}, kStartTimeout, &upstream.process);
    // Exit code 1: it could not listen (2: bad flags, not worth a retry).
    if (ports.ok() || port == 0 || upstream.process.Alive() || upstream.process.exit_code() != 1 ||
        std::chrono::steady_clock::now() >= deadline) {
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (!ports.ok()) return ports.status();
  upstream.port = ports->at("upstream");
  // With TLS, rwupstream serves /__stats and /__set on a plaintext control port too.
  upstream.control_port = ports->count("control") ? ports->at("control") : 0;
  addresses_[name] = upstream.port;
  if (host == "127.0.0.1") {
    hosts_.erase(name);
  } else {
    hosts_[name] = host;
    return upstream.port;  // no stats connection: the test client reaches 127.0.0.1 only
  }
  auto conn = HttpConnection::Connect(upstream.stats_port());
  if (!conn.ok()) return conn.status();
  upstream.stats_conn = std::move(*conn);
  return upstream.port;
}

absl::StatusOr<uint16_t> ProxyHarness::RestartUpstream(const std::string& name) {
  auto it = upstreams_.find(name);
  if (it == upstreams_.end() || it->second.port == 0) {
    return absl::NotFoundError(absl::StrCat("no upstream ", name, " to restart"));
  }
  const std::vector<std::string> extra_args = it->second.extra_args;
  const std::string host = it->second.host;
  return StartUpstream(name, extra_args, it->second.port, host);
}

absl::Status ProxyHarness::KillUpstream(const std::string& name) {
  auto it = upstreams_.find(name);
  if (it == upstreams_.end()) return absl::NotFoundError(absl::StrCat("no upstream ", name));
  Process& process = it->second.process;
  if (!process.Alive()) {
    return absl::FailedPreconditionError(absl::StrCat("upstream ", name, " is not running"));
  }
  if (kill(process.pid(), SIGKILL) != 0) {
    return absl::InternalError(absl::StrCat("kill ", process.pid(), ": ", std::strerror(errno)));
  }
  auto reaped = WaitFor([&] { return !process.Alive(); }, kStartTimeout,
                        absl::StrCat("upstream ", name, " to die of SIGKILL"));
  if (!reaped) return absl::DeadlineExceededError(reaped.message());
  it->second.stats_conn.reset();
  return absl::OkStatus();
}

absl::Status ProxyHarness::StopUpstream(const std::string& name) {
  auto it = upstreams_.find(name);
  if (it == upstreams_.end()) return absl::NotFoundError(absl::StrCat("no upstream ", name));
  it->second.stats_conn.reset();
  it->second.process.Stop();
  return absl::OkStatus();
}

void ProxyHarness::SetAddress(const std::string& name, uint16_t port) {
  addresses_[name] = port;
  hosts_.erase(name);
}

std::string ProxyHarness::Expand(std::string_view config_template) const {
  std::vector<std::pair<std::string, std::string>> replacements;
  for (const auto& [name, port] : addresses_) {
    replacements.emplace_back(absl::StrCat("{{", name, "}}"), address(name));
  }
  return absl::StrReplaceAll(absl::string_view(config_template.data(), config_template.size()),
                             replacements);
}

absl::StatusOr<std::string> ProxyHarness::WriteConfig(std::string_view config_template) {
  if (dir_.empty()) return absl::InternalError("no temp dir");
  const std::string path = absl::StrCat(dir_, "/routes.yaml");
  std::ofstream out(path, std::ios::trunc);
  out << Expand(config_template);
  if (!out.flush()) return absl::InternalError(absl::StrCat("cannot write ", path));
  return path;
}

absl::Status ProxyHarness::StartProxy(std::string_view config_template,
                                      const std::vector<std::string>& extra_args) {
  auto config = WriteConfig(config_template);
  if (!config.ok()) return config.status();
  const std::string ports_file = absl::StrCat(dir_, "/proxy.ports");
  std::vector<std::string> args = {"--config", *config,       "--listen",     "127.0.0.1:0",
                                   "--admin",  "127.0.0.1:0", "--ports-file", ports_file};
  if (std::find(extra_args.begin(), extra_args.end(), "--control") == extra_args.end()) {
    args.insert(args.end(), {"--control", "127.0.0.1:0"});
  }
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  if (std::find(extra_args.begin(), extra_args.end(), "--workers") == extra_args.end()) {
    args.insert(args.end(), {"--workers", "2"});
  }
  if (std::find(extra_args.begin(), extra_args.end(), "--drain-timeout") == extra_args.end()) {
    args.insert(args.end(), {"--drain-timeout", "0s"});  // SIGTERM at the end exits at once
  }
  std::error_code ignored;
  std::filesystem::remove(ports_file, ignored);  // a restart must not read the last run's ports
  // A restart logs to proxy-N.log, so the earlier runs' logs stay visible on failure.
  const std::string log = proxy_starts_ == 0 ? absl::StrCat(dir_, "/proxy.log")
                                             : absl::StrCat(dir_, "/proxy-", proxy_starts_, ".log");
  ++proxy_starts_;
  auto process = Process::Spawn(RwproxyBinary(), args, log);
  if (!process.ok()) return process.status();
  proxy_ = std::move(*process);
  auto ports = WaitForPortsFile(ports_file, {"proxy", "admin"}, kStartTimeout, &proxy_);
  if (!ports.ok()) return ports.status();
  proxy_port_ = ports->at("proxy");
  admin_port_ = ports->at("admin");
  control_port_ = ports->count("control") ? ports->at("control") : 0;
  tls_port_ = ports->count("tls") ? ports->at("tls") : 0;
  auto ready = WaitFor(
      [&] {
        auto res = Fetch(admin_port_, "GET", "/ready");
        return res.ok() && res->status == 200;
      },
      kStartTimeout, "rwproxy GET /ready -> 200");
  if (!ready) {
    return absl::DeadlineExceededError(absl::StrCat(ready.message(), "\n", Logs()));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::pair<int, std::string>> ProxyHarness::RunProxyToExit(
    std::string_view config_template, const std::vector<std::string>& extra_args,
    std::chrono::milliseconds timeout) {
  auto config = WriteConfig(config_template);
  if (!config.ok()) return config.status();
  std::vector<std::string> args = {"--config", *config,       "--listen",  "127.0.0.1:0",
                                   "--admin",  "127.0.0.1:0", "--control", "127.0.0.1:0"};
  args.insert(args.end(), extra_args.begin(), extra_args.end());
  const std::string log = absl::StrCat(dir_, "/proxy-exit.log");
  auto process = Process::Spawn(RwproxyBinary(), args, log);
  if (!process.ok()) return process.status();
  auto exited = WaitFor([&] { return !process->Alive(); }, timeout, "rwproxy to exit by itself");
  if (!exited) {
    process->Stop();
    return absl::DeadlineExceededError(exited.message());
  }
  return std::make_pair(process->exit_code().value_or(-1), ReadFileTail(log));
}

std::string ProxyHarness::address(const std::string& name) const {
  auto it = addresses_.find(name);
  if (it == addresses_.end()) return "";
  auto host = hosts_.find(name);
  return absl::StrCat(host == hosts_.end() ? "127.0.0.1" : host->second, ":", it->second);
}

uint16_t ProxyHarness::upstream_port(const std::string& name) const {
  auto it = addresses_.find(name);
  return it == addresses_.end() ? 0 : it->second;
}

uint16_t ProxyHarness::upstream_stats_port(const std::string& name) const {
  auto it = upstreams_.find(name);
  return it == upstreams_.end() ? 0 : it->second.stats_port();
}

pid_t ProxyHarness::upstream_pid(const std::string& name) const {
  auto it = upstreams_.find(name);
  return it == upstreams_.end() ? -1 : it->second.process.pid();
}

absl::StatusOr<int64_t> ProxyHarness::Counter(std::string_view name) const {
  return FetchCounter(admin_port_, name);
}

absl::StatusOr<ClusterHealth> ProxyHarness::Cluster(std::string_view name) const {
  auto res = Fetch(admin_port_, "GET", "/clusters");
  if (!res.ok()) return res.status();
  if (res->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat("/clusters -> ", res->status, ": ", res->body));
  }
  auto clusters = ParseClusters(res->body);
  if (!clusters.ok()) return clusters.status();
  for (ClusterHealth& cluster : *clusters) {
    if (cluster.name == name) return std::move(cluster);
  }
  return absl::NotFoundError(
      absl::StrCat("/clusters has no cluster ", std::string(name), ": ", res->body));
}

absl::StatusOr<HttpResponse> ProxyHarness::SendOnStatsConn(const std::string& name,
                                                           std::string_view target) {
  auto it = upstreams_.find(name);
  if (it == upstreams_.end()) return absl::NotFoundError(absl::StrCat("no upstream ", name));
  Upstream& upstream = it->second;
  if (upstream.host != "127.0.0.1") {
    return absl::UnimplementedError(absl::StrCat("upstream ", name, " listens on ", upstream.host,
                                                 ", which the test client cannot reach"));
  }
  absl::StatusOr<HttpResponse> res = absl::UnavailableError("not sent");
  if (upstream.stats_conn != nullptr) res = upstream.stats_conn->Send("GET", target);
  if (!res.ok() || !res->keep_alive) {
    // The upstream dropped the connection (fault flags, a restart): one more on a fresh one.
    upstream.stats_conn.reset();
    auto conn = HttpConnection::Connect(upstream.stats_port());
    if (!conn.ok()) return conn.status();
    upstream.stats_conn = std::move(*conn);
    if (!res.ok()) res = upstream.stats_conn->Send("GET", target);
  }
  return res;
}

absl::Status ProxyHarness::SetUpstream(const std::string& name, std::string_view query) {
  const std::string target = "/__set?" + std::string(query);
  auto res = SendOnStatsConn(name, target);
  if (!res.ok()) return res.status();
  if (res->status != 200) {
    return absl::FailedPreconditionError(
        absl::StrCat(name, " ", target, " -> ", res->status, ": ", res->body));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::map<std::string, int64_t>> ProxyHarness::UpstreamStats(
    const std::string& name) {
  auto res = SendOnStatsConn(name, "/__stats");
  if (!res.ok()) return res.status();
  std::map<std::string, int64_t> out;
  for (const auto& [key, value] : ParseKeyValues(res->body)) {
    int64_t n = 0;
    if (absl::SimpleAtoi(value, &n)) out[key] = n;
  }
  if (!out.count("connections") || !out.count("requests")) {
    return absl::DataLossError(absl::StrCat("bad /__stats body: ", res->body));
  }
  return out;
}

std::string ProxyHarness::Logs() const {
  std::string out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(dir_, ec)) {
    if (entry.path().extension() != ".log") continue;
    absl::StrAppend(&out, "---- ", entry.path().filename().string(), " ----\n",
                    ReadFileTail(entry.path().string(), 3000), "\n");
  }
  return out;
}

}  // namespace rwtest
