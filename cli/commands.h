// rwctl subcommands. Each Add*Commands function registers its subcommands (and their flags) on
// the CLI11 app and appends one Command per subcommand; main() parses the command line and runs
// the Command whose subcommand was given.
//
// Output convention: results go to stdout, errors and violations to stderr; a fleet push (several
// servers) prints its per-target report on stdout, as does `-o json` on apply and rollback (one
// JSON object per target). Exit codes: see cli/output.h.
//
// Ownership: main() owns the CLI::App and the Commands; each Command's `run` owns the storage of
// its flags. Thread-safety: main thread only (fleet push starts its own threads internally).
#ifndef RWPROXY_CLI_COMMANDS_H_
#define RWPROXY_CLI_COMMANDS_H_

#include <functional>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/time/time.h"
#include "cli/client.h"
#include "proto/config.pb.h"
#include "config/config_yaml.h"

namespace rwproxy::cli {

// Flags of the top-level app, shared by every subcommand (CLI11 fallthrough lets them appear
// after the subcommand too).
struct GlobalFlags {
  std::vector<std::string> servers;
  std::string servers_file;
  std::string token_file;
  std::string timeout = "10s";
  const CLI::Option* timeout_option = nullptr;  // to tell an explicit --timeout from the default
};

// GlobalFlags resolved (files read, env consulted, duration parsed).
struct Globals {
  std::vector<std::string> servers;
  std::string token;
  absl::Duration timeout = absl::Seconds(10);
  bool timeout_given = false;

  ClientOptions ForServer(size_t i) const { return {servers.at(i), token, timeout}; }
};

struct Command {
  const CLI::App* app = nullptr;
  bool fleet = false;  // accepts several servers; otherwise exactly one
  std::function<int(const Globals&)> run;
};

void AddApplyCommands(CLI::App* app, std::vector<Command>* out);  // apply, rollback
void AddConfigCommands(CLI::App* app,
                       std::vector<Command>* out);  // validate, get, get routes, diff
void AddInspectCommands(CLI::App* app, std::vector<Command>* out);  // history, watch, explain
void AddServerCommands(CLI::App* app, std::vector<Command>* out);   // stats, version
void AddImportCommands(CLI::App* app, std::vector<Command>* out);   // import apache (no server)
// `get clusters`, a subcommand of `get`: its Command must come before get's in *out (main runs
// the first parsed one, and `get` counts as parsed too).
void AddGetClustersCommand(CLI::App* get, std::vector<Command>* out);

// ---- Helpers shared by the command files (commands_common.cc) ----

// A config file read and parsed locally. `name` is the path, or "<stdin>" for "-".
struct LocalConfig {
  std::string name;
  config::v1::Config config;
  yaml::SourceMap map;
};

// Reads `path` ("-" = stdin) and parses it. On failure prints every problem to stderr as
// FILE:line:col: field: message and returns nullopt (exit code 1). Whitespace-only input is
// refused, so an empty pipe never wipes a config (write `{}` for an empty config).
std::optional<LocalConfig> LoadLocalConfig(const std::string& path);

// Prints "rwctl: MESSAGE" to stderr and returns `exit_code`.
int Fail(const std::string& message, int exit_code);

// The outcome of one call against one target of a fleet command.
struct TargetResult {
  int exit_code = 0;
  std::string summary;               // "applied version 7", "error: unavailable: ..."
  std::vector<std::string> details;  // violations, one per line
  // A full report (a guard verdict), printed on stdout even when exit_code is not 0.
  bool report_on_stdout = false;
};

// Prints the results and returns the combined exit code. One target: summary to stdout when it
// succeeded, else details and "rwctl: summary" to stderr. Several: "ADDR: summary" per target
// in order, details indented below, all on stdout.
int PrintTargetResults(const std::vector<std::string>& servers,
                       const std::vector<TargetResult>& results);

// "-o FORMAT" with the allowed values; the first is the default.
CLI::Option* AddOutputFlag(CLI::App* sub, std::string* format, std::vector<std::string> allowed);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_COMMANDS_H_
