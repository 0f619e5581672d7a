// rwproxy's command line: the flags, their help text, and the checks and small file helpers the
// composition root (main.cc) needs before it starts anything.
//
// Ownership: free functions and a plain Flags value owned by main. Thread-safety: main thread.
#ifndef RWPROXY_SERVER_MAIN_FLAGS_H_
#define RWPROXY_SERVER_MAIN_FLAGS_H_

#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "boost/asio/ip/tcp.hpp"

namespace rwproxy {

struct Flags {
  std::string config;
  std::string listen = "0.0.0.0:15001";
  std::string admin = "127.0.0.1:15000";
  std::string control = "127.0.0.1:15010";
  std::string control_token_file;
  std::string state_dir;
  size_t history_limit = 50;                 // versions kept (count)
  size_t history_max_bytes = 8 * 1024 * 1024;  // versions kept (serialized config bytes)
  std::string publish_timeout = "10s";
  size_t control_max_message_bytes = 64 * 1024 * 1024;
  size_t control_max_queued_calls = 64;
  size_t control_max_watch_streams = 64;
  int workers = 0;
  std::string ports_file;
  std::string drain_timeout = "20s";
  bool watch_config = false;
  std::string dns_hosts_file;
  uint64_t seed = 0;
  std::string log_level = "info";   // debug | info | warn | error
  std::string log_format = "text";  // text | json
  std::string access_log = "off";   // off | stdout | stderr | PATH
  std::string access_log_format = "json";  // json | text
  // The TLS listener (off unless --tls-listen is given).
  std::string tls_listen;
  std::vector<std::string> tls_cert;  // paired in order with tls_key; the first is the default
  std::vector<std::string> tls_key;
  std::string tls_min_version = "1.2";
  std::string tls_client_ca;
  bool tls_require_client_cert = false;
  bool tls_session_tickets = true;
};

void RegisterFlags(CLI::App* app, Flags* flags);

// Checks --log-level and --log-format (InvalidArgument naming the flag and the allowed values).
absl::Status CheckLogFlags(const Flags& flags);

// Checks the --tls-* flags: --tls-listen needs at least one --tls-cert, one --tls-key per
// --tls-cert, a --tls-min-version of 1.2 or 1.3, and --tls-require-client-cert needs
// --tls-client-ca. InvalidArgument names the flag.
absl::Status CheckTlsFlags(const Flags& flags);

// "host:port" (IPv6 as "[::1]:80") -> endpoint.
absl::StatusOr<boost::asio::ip::tcp::endpoint> ParseAddress(const std::string& text);
// "127.0.0.1:80", "[::1]:80".
std::string FormatEndpoint(const boost::asio::ip::tcp::endpoint& endpoint);

// Checks --control: "host:port" or "unix:/path" ("off" disables the API). A non-loopback address
// is refused unless a token file is given.
absl::Status CheckControlAddress(const std::string& address, bool has_token);

// The token in `path`, surrounding whitespace removed; an error if unreadable or empty.
absl::StatusOr<std::string> ReadTokenFile(const std::string& path);

// Writes `lines` to `path` via a temp file and rename, so readers never see half a file.
bool WritePortsFile(const std::string& path, const std::vector<std::string>& lines);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_MAIN_FLAGS_H_
