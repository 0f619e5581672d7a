// rwproxy: the composition root. Parses flags, loads the first config, starts the data plane
// (workers), the admin listener and the control service, and drains on SIGTERM. The only file
// that wires control/ to server/.
#include <csignal>
#include <cstdio>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/asio/steady_timer.hpp"
#include "control/config_build.h"
#include "control/config_store.h"
#include "control/control_server.h"
#include "server/admin/admin_server.h"
#include "server/main_flags.h"
#include "server/runtime/server.h"

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "rwproxy: %s\n", message.c_str());
  return 1;
}

// The first live config: the state restored from --state-dir, else --config (version 1).
// Returns false (after printing why) when neither gives one.
bool LoadFirstConfig(const rwproxy::Flags& flags, rwproxy::control::ConfigStore* store) {
  auto restored = store->Restore();
  if (restored.ok()) {
    std::fprintf(
        stderr, "rwproxy: restored config version %llu from %s (it wins over --config %s)\n",
        static_cast<unsigned long long>(*restored), flags.state_dir.c_str(), flags.config.c_str());
    return true;
  }
  if (absl::IsDataLoss(restored.status())) {
    std::fprintf(stderr,
                 "rwproxy: cannot restore the saved state: %s; falling back to --config %s\n",
                 std::string(restored.status().message()).c_str(), flags.config.c_str());
  } else if (!absl::IsNotFound(restored.status())) {
    Fail(std::string(restored.status().message()));
    return false;
  }
  rwproxy::config::v1::Config config;
  std::vector<std::string> errors;
  if (!rwproxy::control::LoadSnapshotFile(flags.config, 1, &config, &errors)) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    Fail(absl::StrCat("invalid config ", flags.config, " (", errors.size(), " error",
                      errors.size() == 1 ? "" : "s", "); not starting"));
    return false;
  }
  auto applied = store->Apply(config, {.description = "--config " + flags.config});
  if (!applied.ok()) {
    Fail(absl::StrCat("cannot apply --config ", flags.config, ": ", applied.status().message()));
    return false;
  }
  return true;
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

  absl::Duration drain_timeout;
  if (!absl::ParseDuration(flags.drain_timeout, &drain_timeout) ||
      drain_timeout < absl::ZeroDuration()) {
    return Fail("--drain-timeout: '" + flags.drain_timeout + "' is not a duration such as 20s");
  }
  auto listen_endpoint = rwproxy::ParseAddress(flags.listen);
  if (!listen_endpoint.ok())
    return Fail("--listen: " + std::string(listen_endpoint.status().message()));
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

  rwproxy::Server server(workers);
  if (auto status = server.Listen(*listen_endpoint); !status.ok()) {
    return Fail(std::string(status.message()));
  }
  rwproxy::control::ConfigStore store(&server, {.state_dir = flags.state_dir});
  if (!LoadFirstConfig(flags, &store)) return 1;
  rwproxy::AdminServer admin(
      {[&server] { return !server.draining() && server.current() != nullptr; },
       [&server] { return server.CollectStats(); }});
  if (auto status = admin.Listen(*admin_endpoint); !status.ok()) {
    return Fail(std::string(status.message()));
  }
  server.Start();
  admin.Start();

  std::vector<std::string> bound = {"proxy " + rwproxy::FormatEndpoint(server.local_endpoint()),
                                    "admin " + rwproxy::FormatEndpoint(admin.local_endpoint())};
  rwproxy::control::ControlServer control(&store, &server);
  if (flags.control != "off") {
    auto address = control.Start(flags.control, token);
    if (!address.ok()) return Fail("--control: " + std::string(address.status().message()));
    bound.push_back("control " + *address);
  }
  const auto snapshot = server.current();
  std::fprintf(stderr, "rwproxy %s: %d workers, %s, config version %llu (%zu routes)%s\n",
               RWPROXY_VERSION, workers, absl::StrJoin(bound, ", ").c_str(),
               static_cast<unsigned long long>(snapshot->version), snapshot->routes.size(),
               has_token ? ", control API requires a token" : "");
  if (!flags.ports_file.empty() && !rwproxy::WritePortsFile(flags.ports_file, bound)) {
    return Fail("cannot write --ports-file " + flags.ports_file);
  }

  // Main thread: signals. First SIGTERM/SIGINT drains, the second (or the timeout) exits.
  boost::asio::io_context main_io;
  boost::asio::signal_set signals(main_io, SIGTERM, SIGINT);
  boost::asio::steady_timer drain_timer(main_io);
  bool draining = false;
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (draining) {
          std::fprintf(stderr, "rwproxy: second signal %d, exiting now\n", signal);
          main_io.stop();
          return;
        }
        draining = true;
        std::fprintf(stderr, "rwproxy: signal %d, draining for %s\n", signal,
                     absl::FormatDuration(drain_timeout).c_str());
        server.BeginDrain();
        drain_timer.expires_after(absl::ToChronoMilliseconds(drain_timeout));
        drain_timer.async_wait([&](const boost::system::error_code& e) {
          if (!e) main_io.stop();
        });
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  std::signal(SIGPIPE, SIG_IGN);
  main_io.run();
  control.Shutdown();  // before the workers stop: a running Apply waits for them
  admin.Stop();
  server.Stop();
  std::fprintf(stderr, "rwproxy: stopped\n");
  return 0;
}
