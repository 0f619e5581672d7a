// rwproxy: the composition root. Parses flags, loads the first config, starts the data plane
// (workers), the admin listener and the control service, and drains on SIGTERM. The only file
// that wires control/ to server/.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/asio/steady_timer.hpp"
#include "control/config_build.h"
#include "server/admin/admin_server.h"
#include "server/runtime/server.h"

namespace {

using boost::asio::ip::tcp;

struct Flags {
  std::string config;
  std::string listen = "0.0.0.0:15001";
  std::string admin = "127.0.0.1:15000";
  int workers = 0;
  std::string ports_file;
  std::string drain_timeout = "20s";
};

bool ParseAddress(const std::string& text, tcp::endpoint* out, std::string* error) {
  size_t colon = text.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(text.substr(colon + 1), &port) ||
      port > 65535) {
    *error = absl::StrCat("'", text, "' is not host:port");
    return false;
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (ec) {
    *error = absl::StrCat("'", host, "' is not an IP address");
    return false;
  }
  *out = tcp::endpoint(address, static_cast<uint16_t>(port));
  return true;
}

std::string Format(const tcp::endpoint& e) {
  return e.address().is_v6() ? absl::StrCat("[", e.address().to_string(), "]:", e.port())
                             : absl::StrCat(e.address().to_string(), ":", e.port());
}

bool WritePortsFile(const std::string& path, const std::vector<std::string>& lines) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    for (const auto& line : lines) out << line << "\n";
    if (!out) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;
}

int Fail(const std::string& message) {
  std::fprintf(stderr, "rwproxy: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app{"rwproxy: HTTP/1.1 sidecar reverse proxy with pooled upstream connections"};
  app.set_version_flag("--version", std::string("rwproxy ") + RWPROXY_VERSION);
  app.add_option("--config", flags.config, "routes.yaml: clusters and routes to serve")->required();
  app.add_option("--listen", flags.listen, "proxy listener host:port")->capture_default_str();
  app.add_option("--admin", flags.admin, "admin listener (/ready /healthz /stats /metrics)")
      ->capture_default_str();
  app.add_option("--workers", flags.workers, "worker threads (default: hardware threads)")
      ->check(CLI::Range(0, 256));
  app.add_option("--ports-file", flags.ports_file,
                 "once listening, write the bound addresses here (lines 'proxy ADDR', 'admin ADDR')");
  app.add_option("--drain-timeout", flags.drain_timeout,
                 "on SIGTERM: fail /ready, close keep-alive connections after their response, "
                 "exit after this long (a second SIGTERM exits at once)")
      ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }

  absl::Duration drain_timeout;
  if (!absl::ParseDuration(flags.drain_timeout, &drain_timeout) || drain_timeout < absl::ZeroDuration()) {
    return Fail("--drain-timeout: '" + flags.drain_timeout + "' is not a duration such as 20s");
  }
  tcp::endpoint listen_endpoint, admin_endpoint;
  std::string error;
  if (!ParseAddress(flags.listen, &listen_endpoint, &error)) return Fail("--listen: " + error);
  if (!ParseAddress(flags.admin, &admin_endpoint, &error)) return Fail("--admin: " + error);
  int workers = flags.workers > 0 ? flags.workers
                                  : std::max(1u, std::thread::hardware_concurrency());

  rwproxy::config::v1::Config config;
  std::vector<std::string> errors;
  auto snapshot = rwproxy::control::LoadSnapshotFile(flags.config, 1, &config, &errors);
  if (!snapshot) {
    for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
    return Fail(absl::StrCat("invalid config ", flags.config, " (", errors.size(), " error",
                             errors.size() == 1 ? "" : "s", "); not starting"));
  }

  rwproxy::Server server(workers);
  if (auto status = server.Listen(listen_endpoint); !status.ok()) return Fail(std::string(status.message()));
  server.Publish(snapshot);
  rwproxy::AdminServer admin({[&server] { return !server.draining() && server.current() != nullptr; },
                              [&server] { return server.CollectStats(); }});
  if (auto status = admin.Listen(admin_endpoint); !status.ok()) return Fail(std::string(status.message()));
  server.Start();
  admin.Start();

  std::vector<std::string> bound = {"proxy " + Format(server.local_endpoint()),
                                    "admin " + Format(admin.local_endpoint())};
  std::fprintf(stderr, "rwproxy %s: %d workers, %s, config version %llu (%zu routes)\n",
               RWPROXY_VERSION, workers, absl::StrJoin(bound, ", ").c_str(),
               static_cast<unsigned long long>(snapshot->version), snapshot->routes.size());
  if (!flags.ports_file.empty() && !WritePortsFile(flags.ports_file, bound)) {
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
  admin.Stop();
  server.Stop();
  std::fprintf(stderr, "rwproxy: stopped\n");
  return 0;
}
