// Reads an Apache httpd config into a tree of directives for `rwctl import apache`: sections
// (<VirtualHost ...> ... </VirtualHost>) nest, Include and IncludeOptional are read in place
// (globs with glob(3), directories recursively, relative paths against the server root), Define
// and ${NAME} are expanded, and <IfDefine>/<IfModule> are decided (every module is taken as
// loaded). Every node keeps the file and line it came from.
//
// Ownership: ParseApacheConfig returns the tree by value; nodes own their children.
// Thread-safety: reentrant (reads files; uses no global state but getenv for ${NAME}).
#ifndef RWPROXY_CLI_IMPORT_APACHE_PARSER_H_
#define RWPROXY_CLI_IMPORT_APACHE_PARSER_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace rwproxy::cli::apache {

struct Node {
  std::string name;  // as written: "RewriteRule", "VirtualHost"
  std::string args;  // the argument text, ${NAME} expanded
  std::string file;  // as given on the command line or by the Include
  int line = 0;
  bool section = false;  // <name args> ... </name>
  bool skipped = false;  // a conditional section that does not hold: children not read
  std::string skip_reason;
  std::vector<Node> children;         // section contents, or the directives an Include read
  std::vector<std::string> included;  // Include: the files read, in order

  // "RewriteRule ^/a /b [L]" or "<Location /x>".
  std::string Text() const;
  // "httpd.conf:12".
  std::string Where() const;
  // The lowercase name (directive names are case-insensitive).
  std::string Key() const;
};

struct ParseOptions {
  std::string server_root;  // relative Include paths; empty: ServerRoot, else the file's dir
  int max_include_depth = 32;
  int max_files = 1000;
  bool read_includes = true;  // false: Include reads nothing (fuzzing)
};

// Reads and parses `path`. An error (unreadable file, a section not closed, an Include that
// finds nothing or loops) names FILE:LINE.
absl::StatusOr<std::vector<Node>> ParseApacheConfig(const std::string& path,
                                                    const ParseOptions& options);

// As ParseApacheConfig, for config text already in memory named `name` (tests, stdin).
absl::StatusOr<std::vector<Node>> ParseApacheText(absl::string_view text, const std::string& name,
                                                  const ParseOptions& options);

}  // namespace rwproxy::cli::apache

#endif  // RWPROXY_CLI_IMPORT_APACHE_PARSER_H_
