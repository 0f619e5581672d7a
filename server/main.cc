// rwproxy: the composition root. Parses flags, loads the first config, starts the data plane
// (workers), the admin listener and the control service, and drains on SIGTERM. The only file
// that wires control/ to server/.
#include <atomic>
#include <csignal>
#include <cstdio>
#include <optional>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "control/boot.h"
#include "control/cert_reloader.h"
#include "control/config_store.h"
#include "control/control_server.h"
#include "server/admin/admin_server.h"
#include "server/log/log.h"
#include "server/main_flags.h"
#include "server/runtime/drain.h"
#include "server/log/access_log.h"
#include "server/runtime/server.h"
#include "server/upstream/resolver.h"

namespace {

int Fail(const std::string& message) {
  rwproxy::log::Error("main", message);
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  rwproxy::Flags flags;
  CLI::App app{"rwproxy: HTTP/1.1 sidecar reverse proxy with pooled upstream connections"};
  app.set_version_flag("--version", std::string("rwproxy ") + RWPROXY_VERSION);
  rwproxy::RegisterFlags(&app, &flags);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  // Before anything logs. Until then (and for this error) messages are plain lines.
  if (auto status = rwproxy::CheckLogFlags(flags); !status.ok()) {
    std::fprintf(stderr, "rwproxy: %s\n", std::string(status.message()).c_str());
    return 1;
  }
  rwproxy::log::Level log_level = rwproxy::log::Level::kInfo;
  rwproxy::log::Format log_format = rwproxy::log::Format::kText;
  rwproxy::log::ParseLevel(flags.log_level, &log_level);
  rwproxy::log::ParseFormat(flags.log_format, &log_format);
  rwproxy::log::SetLevel(log_level);
  rwproxy::log::SetFormat(log_format);

  absl::Duration drain_timeout;
  if (!absl::ParseDuration(flags.drain_timeout, &drain_timeout) ||
      drain_timeout < absl::ZeroDuration()) {
    return Fail("--drain-timeout: '" + flags.drain_timeout + "' is not a duration such as 20s");
  }
  absl::Duration publish_timeout;
  if (!absl::ParseDuration(flags.publish_timeout, &publish_timeout) ||
      publish_timeout <= absl::ZeroDuration() || publish_timeout > absl::Hours(1)) {
    return Fail("--publish-timeout: '" + flags.publish_timeout + "' is not a duration such as 10s (at most 1h)");
  }
  auto listen_endpoint = rwproxy::ParseAddress(flags.listen);
  if (!listen_endpoint.ok())
    return Fail("--listen: " + std::string(listen_endpoint.status().message()));
  if (auto status = rwproxy::CheckTlsFlags(flags); !status.ok()) {
    return Fail(std::string(status.message()));
  }
  std::optional<boost::asio::ip::tcp::endpoint> tls_endpoint;
  if (!flags.tls_listen.empty()) {
    auto parsed = rwproxy::ParseAddress(flags.tls_listen);
    if (!parsed.ok()) return Fail("--tls-listen: " + std::string(parsed.status().message()));
    tls_endpoint = *parsed;
  }
  auto admin_endpoint = rwproxy::ParseAddress(flags.admin);
  if (!admin_endpoint.ok())
    return Fail("--admin: " + std::string(admin_endpoint.status().message()));
  const bool has_token = !flags.control_token_file.empty();
  if (auto status = rwproxy::CheckControlAddress(flags.control, has_token); !status.ok()) {
    return Fail("--control: " + std::string(status.message()));
  }
  std::string token;
  if (has_token) {
    auto read = rwproxy::ReadTokenFile(flags.control_token_file);
    if (!read.ok()) return Fail("--control-token-file: " + std::string(read.status().message()));
    token = *read;
  }
  int workers =
      flags.workers > 0 ? flags.workers : std::max(1u, std::thread::hardware_concurrency());

  if (!flags.dns_hosts_file.empty()) rwproxy::SetHostsFile(flags.dns_hosts_file);
  // Declared before the server: workers hand their last lines to it when they are destroyed.
  std::unique_ptr<rwproxy::AccessLog> access_log;
  rwproxy::Server server(workers, flags.seed);
  if (flags.access_log != "off") {
    auto opened = rwproxy::AccessLog::Open(flags.access_log,
                                           flags.access_log_format == "text"
                                               ? rwproxy::AccessLogFormat::kText
                                               : rwproxy::AccessLogFormat::kJson);
    if (!opened.ok()) return Fail("--access-log: " + std::string(opened.status().message()));
    access_log = std::move(*opened);
    server.SetAccessLog(access_log.get());
  }
  if (auto status = server.Listen(*listen_endpoint); !status.ok()) {
    return Fail(std::string(status.message()));
  }
  std::unique_ptr<rwproxy::control::CertReloader> certs;
  if (tls_endpoint) {
    rwproxy::ServerTlsOptions options;
    for (size_t i = 0; i < flags.tls_cert.size(); ++i) {
      options.certs.push_back({flags.tls_cert[i], flags.tls_key[i]});
    }
    options.min_version =
        flags.tls_min_version == "1.3" ? rwproxy::TlsVersion::kTls13 : rwproxy::TlsVersion::kTls12;
    options.client_ca = flags.tls_client_ca;
    options.require_client_cert = flags.tls_require_client_cert;
    options.session_tickets = flags.tls_session_tickets;
    auto created = rwproxy::control::CertReloader::Create(std::move(options));
    if (!created.ok()) return Fail("--tls-cert: " + std::string(created.status().message()));
    certs = *std::move(created);
    if (auto status = server.ListenTls(*tls_endpoint, certs->slot()); !status.ok()) {
      return Fail(std::string(status.message()));
    }
  }
  rwproxy::control::ConfigStore store(
      &server, {.state_dir = flags.state_dir,
                .history = {.max_versions = flags.history_limit,
                            .max_bytes = flags.history_max_bytes},
                .publish_timeout = publish_timeout});
  // Read once: what boot applies is what the file watcher compares against.
  const rwproxy::control::BootFile boot_file = rwproxy::control::ReadBootFile(flags.config);
  if (!rwproxy::control::LoadFirstConfig(&store, boot_file)) return 1;
  std::atomic<uint64_t> file_errors{0};
  // Guard verdicts (guard_*_total) are proxy-wide: in /stats and GetStats with the workers'
  // counters.
  server.AddStatsSource([&store](rwproxy::StatsSnapshot* stats) { store.AddGuardStats(stats); });
  rwproxy::AdminServer admin(
      {.ready = [&server] {
         return !server.draining() && server.current() != nullptr && server.Lagging().empty();
       },
       .stats =
           [&server, &file_errors] {
             rwproxy::StatsSnapshot stats = server.CollectStats();
             stats.server["config_file_errors"] = file_errors.load();
             return stats;
           },
       .clusters = [&server] { return server.Clusters(); },
       .snapshot = [&server] { return server.current(); },
       .begin_drain = [&server] { server.BeginDrain(); },
       .quit = [] { std::raise(SIGTERM); },  // WaitForSignalsAndDrain drains, then main exits 0
       .drain_timeout = drain_timeout,
       .info = {.workers = workers,
                .state_dir = flags.state_dir,
                .flags = [&app] {  // the flags given on the command line, as given
                  std::vector<std::pair<std::string, std::string>> given;
                  for (const CLI::Option* option : app.get_options()) {
                    if (option->count() == 0) continue;
                    const std::string value = absl::StrJoin(option->results(), ",");
                    given.emplace_back(option->get_name(), value.empty() ? "true" : value);
                  }
                  return given;
                }()}});
  if (auto status = admin.Listen(*admin_endpoint); !status.ok()) {
    return Fail(std::string(status.message()));
  }
  server.Start();
  admin.Start();

  std::vector<std::string> bound = {"proxy " + rwproxy::FormatEndpoint(server.local_endpoint()),
                                    "admin " + rwproxy::FormatEndpoint(admin.local_endpoint())};
  if (certs) {
    bound.push_back("tls " + rwproxy::FormatEndpoint(server.tls_local_endpoint()));
    if (auto status = certs->Watch(); !status.ok()) {
      return Fail("--tls-cert: " + std::string(status.message()));
    }
  }
  rwproxy::control::ControlServer control(&store, &server);
  if (flags.control != "off") {
    rwproxy::control::ControlLimits limits;
    limits.max_message_bytes = static_cast<int>(flags.control_max_message_bytes);
    limits.max_queued_calls = flags.control_max_queued_calls;
    limits.max_watch_streams = flags.control_max_watch_streams;
    auto address = control.Start(flags.control, token, nullptr, limits);
    if (!address.ok()) return Fail("--control: " + std::string(address.status().message()));
    bound.push_back("control " + *address);
  }
  const auto snapshot = server.current();
  if (snapshot == nullptr) return Fail("no config is live after start-up");
  rwproxy::log::Info(
      "main", absl::StrCat("rwproxy ", RWPROXY_VERSION, ": ", workers, " workers, ",
                           absl::StrJoin(bound, ", "), ", config version ", snapshot->version,
                           " (", snapshot->routes.size(), " routes)",
                           has_token ? ", control API requires a token" : ""));
  if (!flags.ports_file.empty() && !rwproxy::WritePortsFile(flags.ports_file, bound)) {
    return Fail("cannot write --ports-file " + flags.ports_file);
  }

  std::unique_ptr<rwproxy::control::FileWatcher> watcher;
  if (flags.watch_config) {
    watcher = rwproxy::control::WatchConfigFile(boot_file, &store, &file_errors);
    if (!watcher) return 1;
  }
  std::string why = rwproxy::WaitForSignalsAndDrain(server, drain_timeout);
  rwproxy::log::Info("main", "stopping (" + why + ")");
  if (watcher) watcher->Stop();
  if (certs) certs->Stop();
  control.Shutdown();  // before the workers stop: a running Apply waits for them
  store.StopGuard();   // likewise a guard's revert; a pending guard ends with the process
  admin.Stop();
  server.Stop();
  rwproxy::log::Info("main", "stopped");
  return 0;
}
