// `rwctl import apache`: an Apache httpd config -> an rwproxy Config and a report.
//
// Per server scope (the main server, or each <VirtualHost> of one port), routes come in
// Apache's order of evaluation, so that rwproxy's first match is Apache's answer:
//   1. mod_rewrite rules (RewriteEngine On in that scope), in order;
//   2. ProxyPass inside <Location> (the last matching section wins in Apache: reverse order),
//      then ProxyPass / ProxyPassMatch (the main server's first, then the vhost's);
//   3. Redirect / RedirectMatch (the vhost's, then the main server's);
//   4. `Require all denied` <Location>s: 403;
//   5. for a vhost with names, a 404 for its hosts, so its requests never reach the next vhost.
// A route Apache would access-check (proxied, or served from disk) is preceded by a 403 copy of
// itself for each denied <Location> it overlaps. The first vhost answers a Host no vhost names,
// as in Apache: its routes are repeated without hosts at the end (named default-*).
//
// Ownership: free functions; results by value. Thread-safety: reentrant (reads files).
#ifndef RWPROXY_CLI_IMPORT_APACHE_IMPORT_H_
#define RWPROXY_CLI_IMPORT_APACHE_IMPORT_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/import/apache_parser.h"
#include "cli/import/report.h"
#include "proto/config.pb.h"

namespace rwproxy::cli::apache {

struct ImportOptions {
  std::string server_root;  // relative Include paths (default: ServerRoot, else the file's dir)
  int port = 0;             // the <VirtualHost> port to convert (0: the first vhost's)
};

struct ImportResult {
  config::v1::Config config;
  Report report;
};

// Converts a parsed config. Never fails: what cannot be converted is refused in the report.
ImportResult ConvertApache(const std::vector<Node>& nodes, const ImportOptions& options);

// Reads `path` (and its Includes) and converts it. Fails only when the config cannot be read
// or parsed (FILE:LINE in the message).
absl::StatusOr<ImportResult> ImportApache(const std::string& path, const ImportOptions& options);

}  // namespace rwproxy::cli::apache

#endif  // RWPROXY_CLI_IMPORT_APACHE_IMPORT_H_
