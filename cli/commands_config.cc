// rwctl validate, rwctl get, rwctl get routes, rwctl diff: check a config file, show the live
// config or its routes, compare. (`rwctl get clusters` is in commands_inspect.cc.)
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "cli/commands.h"
#include "cli/diff.h"
#include "cli/offline.h"
#include "cli/output.h"
#include "cli/routes_table.h"
#include "cli/violations.h"

namespace rwproxy::cli {
namespace {

struct ValidateFlags {
  std::string file;
  bool offline = false;
};

struct GetFlags {
  std::string output;
};

struct GetRoutesFlags {
  std::string output;
};

struct DiffFlags {
  std::string file;
};

int RunValidate(const ValidateFlags& flags, const Globals& globals) {
  std::optional<LocalConfig> local = LoadLocalConfig(flags.file);
  if (!local) return kExitRejected;
  std::vector<v1::FieldViolation> violations;
  if (flags.offline) {
    violations = ValidateOffline(local->config);
  } else {
    ControlClient client(globals.ForServer(0));
    v1::ValidateRequest request;
    *request.mutable_config() = local->config;
    v1::ValidateResponse response;
    grpc::Status status = client.Validate(request, &response);
    if (!status.ok()) return Fail(DescribeError(status), ExitCodeFor(status.error_code()));
    violations.assign(response.violations().begin(), response.violations().end());
  }
  for (const auto& v : violations) std::cerr << FormatViolation(local->name, local->map, v) << "\n";
  if (!violations.empty()) {
    return Fail(absl::StrCat(local->name, ": invalid (", violations.size(), " violation",
                             violations.size() == 1 ? "" : "s", ")"),
                kExitRejected);
  }
  std::cout << local->name << ": valid"
            << (flags.offline ? " (offline: YAML, field checks, regex syntax)" : "") << "\n";
  return kExitOk;
}

int RunGet(const GetFlags& flags, const Globals& globals) {
  ControlClient client(globals.ForServer(0));
  v1::GetConfigResponse response;
  grpc::Status status = client.GetConfig(&response);
  if (!status.ok()) return Fail(DescribeError(status), ExitCodeFor(status.error_code()));
  if (!response.config_file_error().empty()) {
    std::cerr << "rwctl: warning: the watched config file failed to load (live config "
                 "unchanged): "
              << response.config_file_error() << "\n";
  }
  if (flags.output == "json") {
    std::cout << ToJson(response) << "\n";
  } else {
    // A comment, so that `rwctl get | rwctl apply -` reads back the same config.
    std::cout << "# rwproxy config version " << response.version() << " (content_hash "
              << response.content_hash() << ")\n"
              << yaml::ToYaml(response.config());
  }
  return kExitOk;
}

int RunGetRoutes(const GetRoutesFlags& flags, const Globals& globals) {
  ControlClient client(globals.ForServer(0));
  v1::GetConfigResponse response;
  grpc::Status status = client.GetConfig(&response);
  if (!status.ok()) return Fail(DescribeError(status), ExitCodeFor(status.error_code()));
  if (flags.output == "json") {
    std::cout << RoutesJson(response);
  } else if (flags.output == "yaml") {
    std::cout << RoutesYaml(response);
  } else {
    std::cout << RoutesTable(response.config());
  }
  return kExitOk;
}

// Exit 0 same, 1 different; every error is kExitError (or usage/unreachable), never 1.
int RunDiff(const DiffFlags& flags, const Globals& globals) {
  std::optional<LocalConfig> local = LoadLocalConfig(flags.file);
  if (!local) return kExitError;
  ControlClient client(globals.ForServer(0));
  v1::GetConfigResponse response;
  grpc::Status status = client.GetConfig(&response);
  if (!status.ok()) {
    return Fail(DescribeError(status), ComparisonExitCode(ExitCodeFor(status.error_code())));
  }
  std::string diff =
      UnifiedDiff(yaml::ToYaml(response.config()), yaml::ToYaml(local->config),
                  absl::StrCat("live (version ", response.version(), ")"), local->name);
  std::cout << diff;
  return diff.empty() ? kExitOk : kExitRejected;
}

}  // namespace

void AddConfigCommands(CLI::App* app, std::vector<Command>* out) {
  auto validate_flags = std::make_shared<ValidateFlags>();
  CLI::App* validate = app->add_subcommand(
      "validate", "check a config file on the server (all checks Apply makes), or --offline");
  validate->add_option("FILE", validate_flags->file, "routes.yaml, or - for stdin")->required();
  validate->add_flag("--offline", validate_flags->offline,
                     "check locally without a server: YAML, field checks, regex syntax (not "
                     "regex size limits, template groups or name resolution)");
  out->push_back({validate, false,
                  [validate_flags](const Globals& g) { return RunValidate(*validate_flags, g); }});

  auto get_flags = std::make_shared<GetFlags>();
  CLI::App* get = app->add_subcommand(
      "get",
      "print the live config (yaml: `rwctl get | rwctl apply -` is a no-op); `get routes`: a "
      "table of the routes; `get clusters`: endpoint health");
  AddOutputFlag(get, &get_flags->output, {"yaml", "json"});
  AddGetClustersCommand(get, out);
  auto routes_flags = std::make_shared<GetRoutesFlags>();
  CLI::App* routes = get->add_subcommand(
      "routes",
      "print the live routes in match order: name, match, methods/headers, rewrite, action "
      "(cluster, weighted split, redirect, respond), timeout, retry");
  AddOutputFlag(routes, &routes_flags->output, {"text", "json", "yaml"});
  out->push_back(
      {routes, false, [routes_flags](const Globals& g) { return RunGetRoutes(*routes_flags, g); }});
  out->push_back({get, false, [get_flags](const Globals& g) { return RunGet(*get_flags, g); }});

  auto diff_flags = std::make_shared<DiffFlags>();
  CLI::App* diff = app->add_subcommand(
      "diff", "unified diff of the live config against a file (exit 0 same, 1 different, 4 error)");
  diff->add_option("FILE", diff_flags->file, "routes.yaml, or - for stdin")->required();
  out->push_back({diff, false, [diff_flags](const Globals& g) { return RunDiff(*diff_flags, g); }});
}

}  // namespace rwproxy::cli
