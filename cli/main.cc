// rwctl: the command-line client of rwproxy's control API (proto/control.proto).
//
// Exit codes (also printed by --help; see cli/output.h):
//   0 ok; 1 config rejected / failed precondition / not found / other server error / guard
//   reverted or superseded (diff: files differ; explain: no route matches); 2 usage; 3 server unreachable, timed out or not
//   authorized (UNAVAILABLE, DEADLINE_EXCEEDED, UNAUTHENTICATED, PERMISSION_DENIED); 4 diff and
//   explain only: any other error (bad YAML, a server error), never confused with 1.
// `rwctl import apache` talks to no server: 0 converted; 1 --strict and something approximated or
//   refused; 2 usage, unreadable config or nothing to convert; 4 its output fails its own check.
#include <cstdlib>
#include <iostream>

#include "CLI/CLI.hpp"
#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/targets.h"

namespace rwproxy::cli {
namespace {

absl::StatusOr<Globals> Resolve(const GlobalFlags& flags) {
  Globals globals;
  auto servers = ResolveServers(flags.servers, flags.servers_file, std::getenv("RWCTL_SERVER"));
  if (!servers.ok()) return servers.status();
  globals.servers = std::move(*servers);
  auto token = ResolveToken(flags.token_file, std::getenv("RWCTL_TOKEN"));
  if (!token.ok()) return token.status();
  globals.token = std::move(*token);
  if (!absl::ParseDuration(flags.timeout, &globals.timeout) ||
      globals.timeout <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError(
        absl::StrCat("--timeout: '", flags.timeout, "' is not a duration such as 10s or 500ms"));
  }
  globals.timeout_given = flags.timeout_option->count() > 0;
  return globals;
}

int Main(int argc, char** argv) {
  CLI::App app{"rwctl: apply, validate and inspect rwproxy configs over its gRPC control API"};
  app.set_version_flag("--version", std::string("rwctl ") + RWPROXY_VERSION);
  app.footer(kExitCodeHelp);
  app.fallthrough();  // global flags may follow the subcommand
  app.require_subcommand(1);

  GlobalFlags flags;
  app.add_option("--server", flags.servers,
                 "control address host:port or unix:/path (repeatable for apply/rollback; "
                 "default $RWCTL_SERVER or 127.0.0.1:15010)")
      ->allow_extra_args(false);
  app.add_option("--servers-file", flags.servers_file,
                 "file with one server address per line (# comments)");
  app.add_option("--token-file", flags.token_file,
                 "file holding the bearer token (default $RWCTL_TOKEN)");
  flags.timeout_option = app.add_option("--timeout", flags.timeout,
                                        "deadline of each call (watch: of the whole watch)")
                             ->capture_default_str();

  std::vector<Command> commands;
  AddApplyCommands(&app, &commands);
  AddConfigCommands(&app, &commands);
  AddInspectCommands(&app, &commands);
  AddServerCommands(&app, &commands);
  AddImportCommands(&app, &commands);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // prints help, version or the error
    return code == 0 ? kExitOk : kExitUsage;
  }
  auto globals = Resolve(flags);
  if (!globals.ok()) return Fail(std::string(globals.status().message()), kExitUsage);
  for (const Command& command : commands) {
    if (!command.app->parsed()) continue;
    if (!command.fleet && globals->servers.size() > 1) {
      return Fail(absl::StrCat(command.app->get_name(), " talks to one server; got ",
                               globals->servers.size()),
                  kExitUsage);
    }
    return command.run(*globals);
  }
  return Fail("no subcommand", kExitUsage);
}

}  // namespace
}  // namespace rwproxy::cli

int main(int argc, char** argv) { return rwproxy::cli::Main(argc, argv); }
