// rwctl history, watch, explain, get clusters: read-only views of a server. (stats and version
// are in commands_server.cc.)
#include <iostream>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/clusters_table.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/table.h"
#include "config/config_yaml.h"

namespace rwproxy::cli {
namespace {

struct HistoryFlags {
  std::string output;
  uint32_t limit = 0;
};

struct WatchFlags {
  std::string output;
  uint64_t until_version = 0;
  const CLI::Option* until_option = nullptr;
};

struct ExplainFlags {
  std::string method;
  std::string path;
  std::vector<std::string> headers;
  std::string output;
};

struct ClustersFlags {
  std::string output;
};

std::string OrDash(const std::string& text) { return text.empty() ? "-" : text; }

// VERSION APPLIED HASH SOURCE PEER DESCRIPTION; fixed widths, so that `watch` lines (printed one
// at a time) line up with `history`.
std::string VersionColumns(const std::string& version, const std::string& applied,
                           const std::string& hash, const std::string& source,
                           const std::string& peer, const std::string& description) {
  std::string line = absl::StrFormat("%-8s  %-20s  %-16s  %-8s  %-22s  %s", version, applied, hash,
                                     source, peer, description);
  line.erase(line.find_last_not_of(' ') + 1);
  return line;
}

std::string VersionLine(const v1::VersionInfo& info) {
  return VersionColumns(absl::StrCat(info.version()), FormatUnixMs(info.applied_unix_ms()),
                        OrDash(info.content_hash()), OrDash(info.source()), OrDash(info.peer()),
                        info.description());
}

int RunHistory(const HistoryFlags& flags, const Globals& globals) {
  ControlClient client(globals.ForServer(0));
  v1::ListVersionsResponse response;
  grpc::Status status = client.ListVersions(flags.limit, &response);
  if (!status.ok()) return Fail(DescribeError(status), ExitCodeFor(status.error_code()));
  if (flags.output == "json") {
    std::cout << ToJson(response) << "\n";
    return kExitOk;
  }
  std::cout << VersionColumns("VERSION", "APPLIED (UTC)", "HASH", "SOURCE", "PEER", "DESCRIPTION")
            << "\n";
  for (const auto& info : response.versions()) std::cout << VersionLine(info) << "\n";
  return kExitOk;
}

int RunWatch(const WatchFlags& flags, const Globals& globals) {
  const bool until = flags.until_option->count() > 0;
  // Following forever has no deadline unless --timeout is given; waiting for a version always
  // has one (--timeout, default 10s) and waits for a server that is not up yet.
  absl::Duration timeout =
      globals.timeout_given || until ? globals.timeout : absl::InfiniteDuration();
  ControlClient client(globals.ForServer(0));
  uint64_t last = 0;
  bool seen = false;
  grpc::Status status = client.Watch(timeout, until, [&](const v1::VersionEvent& event) {
    seen = true;
    last = event.version().version();
    if (flags.output == "json") {
      std::cout << ToJson(event, /*multiline=*/false) << std::endl;
    } else {
      std::cout << VersionLine(event.version()) << std::endl;
    }
    return !(until && last >= flags.until_version);
  });
  if (until && seen && last >= flags.until_version) return kExitOk;
  if (!status.ok()) {
    if (until && status.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
      return Fail(absl::StrCat("timed out waiting for version ", flags.until_version,
                               seen ? absl::StrCat(" (live version ", last, ")")
                                    : std::string(" (no answer from the server)")),
                  kExitUnreachable);
    }
    return Fail(DescribeError(status), ExitCodeFor(status.error_code()));
  }
  if (until) {
    return Fail(absl::StrCat("the server ended the watch before version ", flags.until_version),
                kExitUnreachable);
  }
  return kExitOk;
}

// "$0=/shop/x $1=x": a value that is empty or has a space or a quote is JSON-quoted.
std::string CaptureList(char sigil, const google::protobuf::RepeatedPtrField<std::string>& values) {
  std::vector<std::string> parts;
  for (int i = 0; i < values.size(); ++i) {
    const std::string& value = values[i];
    const bool quote = value.empty() || value.find_first_of(" \"") != std::string::npos;
    parts.push_back(
        absl::StrCat(std::string(1, sigil), i, "=", quote ? JsonQuote(value) : Printable(value)));
  }
  return absl::StrJoin(parts, " ");
}

void PrintExplain(const v1::ExplainResponse& r) {
  std::cout << "config version " << r.version() << "\n";
  for (const auto& check : r.checks()) {
    std::cout << "  " << absl::StrFormat("%-20s ", check.route())
              << (check.matched()          ? "match"
                  : check.reason().empty() ? "no match"
                                           : "no match: " + check.reason())
              << "\n";
    for (const auto& condition : check.conditions()) {  // every condition, held or not
      std::cout << "      " << (condition.matched() ? "yes  " : "no   ")
                << Printable(condition.condition()) << "\n";
    }
  }
  if (!r.matched()) {
    std::cout << "no route matches (the proxy answers 404)\n";
    return;
  }
  std::cout << "route: " << r.route() << "\naction: " << r.action() << "\n";
  if (!r.rewritten_path().empty()) std::cout << "rewritten path: " << r.rewritten_path() << "\n";
  if (!r.rewritten_host().empty()) std::cout << "rewritten host: " << r.rewritten_host() << "\n";
  if (r.backends_size() > 1) {  // a weighted split: one line per backend
    for (const auto& backend : r.backends()) std::cout << BackendLine(backend) << "\n";
  } else {
    if (!r.cluster().empty()) std::cout << "cluster: " << r.cluster() << "\n";
    if (!r.endpoint().empty()) std::cout << "endpoint: " << r.endpoint() << "\n";
  }
  if (r.status() != 0) std::cout << "status: " << r.status() << "\n";
  if (!r.location().empty()) std::cout << "location: " << r.location() << "\n";
  if (!r.path_captures().empty()) {
    std::cout << "captures: " << CaptureList('$', r.path_captures()) << "\n";
  }
  if (!r.condition_captures().empty()) {
    std::cout << "captures from " << Printable(r.capture_source()) << ": "
              << CaptureList('%', r.condition_captures()) << "\n";
  }
}

int RunExplain(const ExplainFlags& flags, const Globals& globals) {
  v1::ExplainRequest request;
  request.set_method(flags.method);
  request.set_path(flags.path);
  for (const std::string& header : flags.headers) {
    size_t colon = header.find(':');
    if (colon == std::string::npos || colon == 0) {
      return Fail(absl::StrCat("-H '", header, "': expected 'name: value'"), kExitUsage);
    }
    std::string name(absl::StripAsciiWhitespace(header.substr(0, colon)));
    (*request.mutable_headers())[name] =
        std::string(absl::StripAsciiWhitespace(header.substr(colon + 1)));
  }
  ControlClient client(globals.ForServer(0));
  v1::ExplainResponse response;
  grpc::Status status = client.Explain(request, &response);
  if (!status.ok()) {  // never 1, which means "no match"
    return Fail(DescribeError(status), ComparisonExitCode(ExitCodeFor(status.error_code())));
  }
  if (flags.output == "json") {
    std::cout << ToJson(response) << "\n";
  } else {
    PrintExplain(response);
  }
  return response.matched() ? kExitOk : kExitRejected;
}

int RunClusters(const ClustersFlags& flags, const Globals& globals) {
  ControlClient client(globals.ForServer(0));
  v1::GetClustersResponse response;
  grpc::Status status = client.GetClusters(&response);
  if (!status.ok()) return Fail(DescribeError(status), ExitCodeFor(status.error_code()));
  if (flags.output == "json") {
    std::cout << ToJson(response) << "\n";
  } else if (flags.output == "yaml") {
    std::cout << yaml::MessageToYaml(response);
  } else {
    std::cout << ClustersTable(response);
  }
  return kExitOk;
}

}  // namespace

void AddGetClustersCommand(CLI::App* get, std::vector<Command>* out) {
  auto flags = std::make_shared<ClustersFlags>();
  CLI::App* clusters = get->add_subcommand(
      "clusters",
      "print every cluster and endpoint: health (healthy|unhealthy|ejected), since when and "
      "why, connections and request counters");
  AddOutputFlag(clusters, &flags->output, {"text", "json", "yaml"});
  out->push_back({clusters, false, [flags](const Globals& g) { return RunClusters(*flags, g); }});
}

void AddInspectCommands(CLI::App* app, std::vector<Command>* out) {
  auto history_flags = std::make_shared<HistoryFlags>();
  CLI::App* history =
      app->add_subcommand("history",
                          "list config versions, newest first: version, time applied, hash, source "
                          "(boot|file|api|rollback), peer (the API caller's address), description");
  history->add_option("--limit", history_flags->limit, "at most N versions (0: server default)");
  AddOutputFlag(history, &history_flags->output, {"text", "json"});
  out->push_back({history, false,
                  [history_flags](const Globals& g) { return RunHistory(*history_flags, g); }});

  auto watch_flags = std::make_shared<WatchFlags>();
  CLI::App* watch = app->add_subcommand(
      "watch",
      "print the live version, then every change; with --until-version N exit 0 once "
      "the live version is >= N (exit 3 after --timeout, default 10s)");
  watch_flags->until_option =
      watch->add_option("--until-version", watch_flags->until_version, "stop at version >= N");
  AddOutputFlag(watch, &watch_flags->output, {"text", "json"});
  out->push_back(
      {watch, false, [watch_flags](const Globals& g) { return RunWatch(*watch_flags, g); }});

  auto explain_flags = std::make_shared<ExplainFlags>();
  CLI::App* explain = app->add_subcommand(
      "explain",
      "show which route a request would take on the live config (exit 0 match, 1 no match, 4 "
      "error)");
  explain->add_option("METHOD", explain_flags->method, "GET, POST, ...")->required();
  explain->add_option("PATH", explain_flags->path, "/api/users/7?x=1")->required();
  explain->add_option("-H,--header", explain_flags->headers, "'name: value' (repeatable)")
      ->allow_extra_args(false);
  AddOutputFlag(explain, &explain_flags->output, {"text", "json"});
  out->push_back({explain, false,
                  [explain_flags](const Globals& g) { return RunExplain(*explain_flags, g); }});
}

}  // namespace rwproxy::cli
