#include "server/main_flags.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace rwproxy {

using boost::asio::ip::tcp;

void RegisterFlags(CLI::App* app, Flags* flags) {
  app->add_option("--config", flags->config,
                  "routes.yaml: clusters and routes to serve on the first boot. With --state-dir, "
                  "a restart restores the last config applied through the control API instead "
                  "(the persisted live config wins over --config)")
      ->required();
  app->add_option("--listen", flags->listen, "proxy listener host:port")->capture_default_str();
  app->add_option("--tls-listen", flags->tls_listen,
                  "TLS listener host:port (HTTPS; off unless given). Serves --tls-cert");
  app->add_option("--tls-cert", flags->tls_cert,
                  "PEM certificate (then its chain) for --tls-listen; repeat for several: the "
                  "client's SNI name picks the one whose DNS names match (wildcards included), "
                  "the first is the default. Files are watched and reloaded when they change "
                  "(a Kubernetes Secret mount too); a bad new file keeps the old certificate");
  app->add_option("--tls-key", flags->tls_key,
                  "PEM private key of each --tls-cert, in the same order (warned about when "
                  "readable by every user)");
  app->add_option("--tls-min-version", flags->tls_min_version,
                  "oldest TLS version accepted: 1.2 or 1.3 (1.0 and 1.1 never)")
      ->capture_default_str();
  app->add_option("--tls-client-ca", flags->tls_client_ca,
                  "PEM CAs whose client certificates are accepted (mTLS); clients are asked for "
                  "a certificate");
  app->add_flag("--tls-require-client-cert", flags->tls_require_client_cert,
                "refuse clients without a certificate signed by --tls-client-ca");
  app->add_flag("--tls-session-tickets,!--no-tls-session-tickets", flags->tls_session_tickets,
                "resume TLS sessions with tickets (keys random per process); on by default");
  app->add_option("--admin", flags->admin, "admin listener (/ready /healthz /stats /metrics)")
      ->capture_default_str();
  app->add_option("--control", flags->control,
                  "control API (gRPC) address: host:port or unix:/path; 'off' disables it. A "
                  "non-loopback address requires --control-token-file")
      ->capture_default_str();
  app->add_option("--control-token-file", flags->control_token_file,
                  "file holding the control API token; every call then needs the metadata "
                  "'authorization: Bearer <token>'");
  app->add_option("--control-max-message-bytes", flags->control_max_message_bytes,
                  "largest control API request or response (e.g. 64MiB; a 50,000-route config is "
                  "about 5 MB)")
      ->transform(CLI::AsSizeValue(false))
      ->check(CLI::Range(size_t{4096}, size_t{1} << 30));
  app->add_option("--control-max-queued-calls", flags->control_max_queued_calls,
                  "control calls (Apply, Rollback, Validate, GetStats, GetClusters) that may wait "
                  "for their turn; more get RESOURCE_EXHAUSTED")
      ->check(CLI::Range(size_t{1}, size_t{100000}))
      ->capture_default_str();
  app->add_option("--control-max-watch-streams", flags->control_max_watch_streams,
                  "concurrent Watch streams; more get RESOURCE_EXHAUSTED")
      ->check(CLI::Range(size_t{1}, size_t{100000}))
      ->capture_default_str();
  app->add_option("--state-dir", flags->state_dir,
                  "keep the live config and its history here (one file per version, "
                  "version-<N>.pb); on restart the newest saved version that compiles is "
                  "restored and wins over --config. A file that cannot be read is kept aside as "
                  "<name>.corrupt-<time>; versions never go backwards");
  app->add_option("--history-limit", flags->history_limit,
                  "versions kept for rollback (with --state-dir, on disk; the live one always)")
      ->check(CLI::Range(size_t{1}, size_t{10000}))
      ->capture_default_str();
  app->add_option("--history-max-bytes", flags->history_max_bytes,
                  "bytes of config kept for rollback (serialized; e.g. 8MiB): the oldest "
                  "versions go first, the live one is always kept. Default 8MiB")
      ->transform(CLI::AsSizeValue(false));
  app->add_option("--publish-timeout", flags->publish_timeout,
                  "how long an apply waits for every worker to serve the new config; a worker "
                  "that is later is logged, fails /ready until it catches up, and the apply "
                  "returns DEADLINE_EXCEEDED (the version is live on the others)")
      ->capture_default_str();
  app->add_option("--workers", flags->workers, "worker threads (default: hardware threads)")
      ->check(CLI::Range(0, 256));
  app->add_option("--ports-file", flags->ports_file,
                  "once listening, write the bound addresses here (lines 'proxy ADDR', "
                  "'admin ADDR', 'control ADDR', 'tls ADDR')");
  app->add_option("--drain-timeout", flags->drain_timeout,
                  "on SIGTERM: fail /ready at once, close keep-alive connections after their "
                  "response, exit when no client connection is left or after this long (a second "
                  "SIGTERM exits at once)")
      ->capture_default_str();
  app->add_flag("--watch-config", flags->watch_config,
                "watch the --config file (its directory, so Kubernetes ConfigMap updates are "
                "seen) and apply every change like `rwctl apply` (description 'file PATH'); an "
                "invalid file changes nothing and shows in `rwctl get`. API pushes and file "
                "changes interleave: the latest apply wins");
  app->add_option("--dns-hosts-file", flags->dns_hosts_file,
                  "names of cluster endpoints are looked up in this hosts-format file "
                  "('ADDRESS NAME...' lines, re-read at every DNS refresh) before the system "
                  "resolver: pins or changes a name's addresses without DNS");
  app->add_option("--seed", flags->seed,
                  "seed for random choices (traffic split, random LB, retry backoff); 0 = "
                  "random. Worker i uses seed + i, so a run is reproducible");
  app->add_option("--access-log", flags->access_log,
                  "one line per request to 'stdout', 'stderr' or a file PATH (reopened on "
                  "SIGUSR1, for logrotate); 'off' disables it. Never blocks a worker: when the "
                  "sink cannot keep up, lines are dropped and counted (access_log_dropped)")
      ->capture_default_str();
  app->add_option("--access-log-format", flags->access_log_format,
                  "access log lines as 'json' objects or 'text' (see README)")
      ->check(CLI::IsMember({"json", "text"}))
      ->capture_default_str();
  app->add_option("--log-level", flags->log_level,
                  "diagnostics at this level and above: debug, info, warn or error (the access "
                  "log is separate)")
      ->capture_default_str();
  app->add_option("--log-format", flags->log_format,
                  "diagnostics as 'text' lines (TIME LEVEL COMPONENT: MESSAGE) or 'json' lines "
                  "({\"ts\",\"level\",\"component\",\"msg\"}), on stderr")
      ->capture_default_str();
}

absl::Status CheckLogFlags(const Flags& flags) {
  const auto& level = flags.log_level;
  if (level != "debug" && level != "info" && level != "warn" && level != "error") {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-level: '", level, "' is not one of debug, info, warn, error"));
  }
  if (flags.log_format != "text" && flags.log_format != "json") {
    return absl::InvalidArgumentError(
        absl::StrCat("--log-format: '", flags.log_format, "' is not one of text, json"));
  }
  return absl::OkStatus();
}

absl::Status CheckTlsFlags(const Flags& flags) {
  if (flags.tls_listen.empty()) {
    if (!flags.tls_cert.empty() || !flags.tls_key.empty() || !flags.tls_client_ca.empty()) {
      return absl::InvalidArgumentError(
          "--tls-cert, --tls-key and --tls-client-ca need --tls-listen");
    }
    return absl::OkStatus();
  }
  if (flags.tls_cert.empty()) return absl::InvalidArgumentError("--tls-listen needs --tls-cert");
  if (flags.tls_cert.size() != flags.tls_key.size()) {
    return absl::InvalidArgumentError(absl::StrCat("--tls-key: one per --tls-cert, in the same "
                                                   "order (", flags.tls_cert.size(),
                                                   " certificates, ", flags.tls_key.size(),
                                                   " keys)"));
  }
  if (flags.tls_min_version != "1.2" && flags.tls_min_version != "1.3") {
    return absl::InvalidArgumentError(absl::StrCat("--tls-min-version: '", flags.tls_min_version,
                                                   "' is not 1.2 or 1.3"));
  }
  if (flags.tls_require_client_cert && flags.tls_client_ca.empty()) {
    return absl::InvalidArgumentError("--tls-require-client-cert needs --tls-client-ca");
  }
  return absl::OkStatus();
}

absl::StatusOr<tcp::endpoint> ParseAddress(const std::string& text) {
  size_t colon = text.rfind(':');
  uint32_t port = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(text.substr(colon + 1), &port) ||
      port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not host:port"));
  }
  std::string host = text.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  boost::system::error_code ec;
  auto address = boost::asio::ip::make_address(host, ec);
  if (ec) return absl::InvalidArgumentError(absl::StrCat("'", host, "' is not an IP address"));
  return tcp::endpoint(address, static_cast<uint16_t>(port));
}

std::string FormatEndpoint(const tcp::endpoint& e) {
  return e.address().is_v6() ? absl::StrCat("[", e.address().to_string(), "]:", e.port())
                             : absl::StrCat(e.address().to_string(), ":", e.port());
}

absl::Status CheckControlAddress(const std::string& address, bool has_token) {
  if (address == "off") return absl::OkStatus();
  if (address.starts_with("unix:")) {
    if (address.size() == 5) return absl::InvalidArgumentError("'unix:' needs a path");
    return absl::OkStatus();
  }
  bool loopback = false;
  if (address.starts_with("localhost:")) {
    loopback = true;
  } else {
    auto endpoint = ParseAddress(address);
    if (!endpoint.ok()) return endpoint.status();
    loopback = endpoint->address().is_loopback();
  }
  if (!loopback && !has_token) {
    return absl::FailedPreconditionError(absl::StrCat(
        "refusing to serve the control API on non-loopback address ", address,
        " without --control-token-file (anyone who can reach it could change the config)"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read token file ", path));
  std::stringstream buffer;
  buffer << in.rdbuf();
  std::string token(absl::StripAsciiWhitespace(buffer.str()));
  if (token.empty())
    return absl::InvalidArgumentError(absl::StrCat("token file ", path, " is empty"));
  return token;
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

}  // namespace rwproxy
