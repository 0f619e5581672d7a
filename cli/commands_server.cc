// rwctl stats (with --filter and --watch) and rwctl version: the server's counters and version.
#include <poll.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "cli/commands.h"
#include "cli/output.h"
#include "cli/stats_view.h"

namespace rwproxy::cli {
namespace {

struct StatsFlags {
  std::string output;
  std::string filter;
  std::string watch;
  int count = 0;
  CLI::Option* watch_option = nullptr;
};

struct VersionFlags {
  std::string output;
};

// Set by SIGINT/SIGTERM during `stats --watch`.
std::atomic<bool> stop_requested{false};

void RequestStop(int) { stop_requested.store(true); }

// SIGINT and SIGTERM end the watch after the current sample instead of killing rwctl.
void CatchStopSignals() {
  struct sigaction action = {};
  action.sa_handler = RequestStop;
  sigemptyset(&action.sa_mask);
  action.sa_flags = 0;  // no SA_RESTART: poll() returns at once with EINTR
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

// Waits until `deadline` or a stop signal. Returns false when stopped. Polls in slices so that a
// signal delivered to another thread (gRPC's) is noticed soon too.
bool WaitUntil(std::chrono::steady_clock::time_point deadline) {
  while (!stop_requested.load()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return true;
    ::poll(nullptr, 0, static_cast<int>(std::min<int64_t>(left.count(), 100)));
  }
  return false;
}

int RunStats(const StatsFlags& flags, const Globals& globals) {
  std::unique_ptr<RE2> filter;
  if (!flags.filter.empty()) {
    RE2::Options options;
    options.set_log_errors(false);
    filter = std::make_unique<RE2>(flags.filter, options);
    if (!filter->ok()) {
      return Fail(absl::StrCat("--filter '", flags.filter, "': ", filter->error()), kExitUsage);
    }
  }
  const bool watch = flags.watch_option->count() > 0;
  absl::Duration interval;
  if (watch && (!absl::ParseDuration(flags.watch, &interval) || interval <= absl::ZeroDuration())) {
    return Fail(absl::StrCat("--watch: '", flags.watch, "' is not a duration such as 1s or 500ms"),
                kExitUsage);
  }
  ControlClient client(globals.ForServer(0));
  if (!watch) {
    v1::GetStatsResponse response;
    grpc::Status status = client.GetStats(&response);
    if (!status.ok()) return Fail(DescribeError(status), ExitCodeFor(status.error_code()));
    if (flags.output == "json") {
      if (filter) FilterStats(*filter, &response);
      std::cout << ToJson(response) << "\n";
      return kExitOk;
    }
    StatsSample sample{1, 0, response.version(), FlattenStats(response, filter.get())};
    std::cout << SampleText(sample, nullptr, 0, false);
    if (filter && sample.counters.empty()) {
      std::cerr << "rwctl: no counter name matches --filter '" << flags.filter << "'\n";
    }
    return kExitOk;
  }

  CatchStopSignals();
  const auto period = absl::ToChronoNanoseconds(interval);
  const auto start = std::chrono::steady_clock::now();
  StatsSample previous;
  std::chrono::steady_clock::time_point previous_at;
  for (int n = 1; flags.count == 0 || n <= flags.count; ++n) {
    if (n > 1 && !WaitUntil(start + (n - 1) * period)) break;
    v1::GetStatsResponse response;
    grpc::Status status = client.GetStats(&response);
    if (!status.ok()) return Fail(DescribeError(status), ExitCodeFor(status.error_code()));
    const auto now = std::chrono::steady_clock::now();
    StatsSample sample{n, absl::ToUnixMillis(absl::Now()), response.version(),
                       FlattenStats(response, filter.get())};
    const double seconds = std::chrono::duration<double>(now - previous_at).count();
    const StatsSample* before = n > 1 ? &previous : nullptr;
    if (flags.output == "json") {
      std::cout << SampleJson(sample, before, seconds) << std::endl;
    } else {
      std::cout << (n > 1 ? "\n" : "") << SampleText(sample, before, seconds, true) << std::flush;
    }
    previous = std::move(sample);
    previous_at = now;
    if (stop_requested.load()) break;
  }
  return kExitOk;
}

int RunVersion(const VersionFlags& flags, const Globals& globals) {
  const std::string& server = globals.servers.front();
  ControlClient client(globals.ForServer(0));
  v1::GetServerInfoResponse info;
  grpc::Status status = client.GetServerInfo(&info);
  // A server older than GetServerInfo answers, but cannot say its version.
  const bool unknown = status.error_code() == grpc::StatusCode::UNIMPLEMENTED;
  if (flags.output == "json") {
    std::string line = absl::StrCat("{\"client_version\":", JsonQuote(RWPROXY_VERSION),
                                    ",\"server\":", JsonQuote(server));
    if (status.ok()) {
      absl::StrAppend(&line, ",\"server_version\":", JsonQuote(info.server_version()),
                      ",\"started_unix_ms\":", info.started_unix_ms(),
                      ",\"uptime_seconds\":", info.uptime_seconds(),
                      ",\"config_version\":", info.config_version());
    } else {
      std::string error = DescribeError(status).substr(7);  // without "error: "
      absl::StrAppend(&line, ",\"error\":", JsonQuote(error),
                      ",\"code\":", JsonQuote(StatusCodeName(status.error_code())));
    }
    std::cout << line << "}" << std::endl;
  } else {
    std::cout << "client: rwctl " << RWPROXY_VERSION << "\n";
    if (status.ok()) {
      std::cout << "server: rwproxy " << info.server_version() << " at " << server << ", up "
                << absl::FormatDuration(absl::Seconds(info.uptime_seconds())) << ", config version "
                << info.config_version() << "\n";
    } else if (unknown) {
      std::cout << "server: rwproxy at " << server
                << ", version unknown (it does not implement GetServerInfo)\n";
    }
    std::cout.flush();
    if (!status.ok() && !unknown) {
      return Fail(absl::StrCat("server ", server, ": ", DescribeError(status)),
                  ExitCodeFor(status.error_code()));
    }
  }
  return status.ok() || unknown ? kExitOk : ExitCodeFor(status.error_code());
}

}  // namespace

void AddServerCommands(CLI::App* app, std::vector<Command>* out) {
  auto stats_flags = std::make_shared<StatsFlags>();
  CLI::App* stats = app->add_subcommand(
      "stats",
      "print the proxy's counters (cluster.NAME.*, listener.NAME.*, server.*); --watch 1s "
      "prints them again every interval with their rate per second");
  stats->add_option("--filter", stats_flags->filter,
                    "only counters whose dotted name matches this RE2 regex (partial match, "
                    "e.g. 'cluster\\.app\\.rq_' or '5xx$')");
  stats_flags->watch_option =
      stats->add_option("--watch", stats_flags->watch,
                        "sample every INTERVAL (1s, 500ms) until Ctrl-C or --count samples");
  stats->add_option("--count", stats_flags->count, "with --watch: stop after N samples")
      ->check(CLI::PositiveNumber)
      ->needs(stats_flags->watch_option);
  AddOutputFlag(stats, &stats_flags->output, {"text", "json"});
  out->push_back(
      {stats, false, [stats_flags](const Globals& g) { return RunStats(*stats_flags, g); }});

  auto version_flags = std::make_shared<VersionFlags>();
  CLI::App* version = app->add_subcommand(
      "version", "print rwctl's version and the server's (version, uptime, config version)");
  AddOutputFlag(version, &version_flags->output, {"text", "json"});
  out->push_back({version, false,
                  [version_flags](const Globals& g) { return RunVersion(*version_flags, g); }});
}

}  // namespace rwproxy::cli
