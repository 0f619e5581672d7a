#include "cli/stats_view.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "cli/output.h"

namespace rwproxy::cli {
namespace {

namespace v1 = ::rwproxy::control::v1;

bool Keep(const RE2* filter, const std::string& name) {
  return filter == nullptr || RE2::PartialMatch(name, *filter);
}

// Erases the entries of `counters` whose dotted name (prefix + key) `filter` does not match.
template <class Map>
void EraseUnmatched(const RE2& filter, const std::string& prefix, Map* counters) {
  for (auto it = counters->begin(); it != counters->end();) {
    if (Keep(&filter, prefix + it->first)) {
      ++it;
    } else {
      it = counters->erase(it);
    }
  }
}

// The rate of `name` between the samples; false when it has no previous value.
bool Rate(const StatsSample& sample, const StatsSample& previous, double interval_seconds,
          const std::string& name, double* rate) {
  auto it = previous.counters.find(name);
  if (it == previous.counters.end() || interval_seconds <= 0) return false;
  const double delta =
      static_cast<double>(sample.counters.at(name)) - static_cast<double>(it->second);
  *rate = delta / interval_seconds;
  return true;
}

}  // namespace

CounterValues FlattenStats(const v1::GetStatsResponse& stats, const RE2* filter) {
  CounterValues out;
  auto add = [&](std::string name, uint64_t value) {
    if (Keep(filter, name)) out[std::move(name)] = value;
  };
  for (const auto& [name, value] : stats.server()) add("server." + name, value);
  for (const auto& cluster : stats.clusters()) {
    for (const auto& [name, value] : cluster.counters()) {
      add(absl::StrCat("cluster.", cluster.name(), ".", name), value);
    }
  }
  for (const auto& listener : stats.listeners()) {
    for (const auto& [name, value] : listener.counters()) {
      add(absl::StrCat("listener.", listener.name(), ".", name), value);
    }
  }
  return out;
}

void FilterStats(const RE2& filter, v1::GetStatsResponse* stats) {
  EraseUnmatched(filter, "server.", stats->mutable_server());
  auto* clusters = stats->mutable_clusters();
  for (auto& cluster : *clusters) {
    EraseUnmatched(filter, absl::StrCat("cluster.", cluster.name(), "."),
                   cluster.mutable_counters());
  }
  clusters->erase(std::remove_if(clusters->begin(), clusters->end(),
                                 [](const v1::ClusterStats& c) { return c.counters().empty(); }),
                  clusters->end());
  auto* listeners = stats->mutable_listeners();
  for (auto& listener : *listeners) {
    EraseUnmatched(filter, absl::StrCat("listener.", listener.name(), "."),
                   listener.mutable_counters());
  }
  listeners->erase(std::remove_if(listeners->begin(), listeners->end(),
                                  [](const v1::ListenerStats& l) { return l.counters().empty(); }),
                   listeners->end());
}

std::string SampleText(const StatsSample& sample, const StatsSample* previous,
                       double interval_seconds, bool watch) {
  std::string out = absl::StrCat("config version ", sample.version);
  if (watch) absl::StrAppend(&out, " at ", FormatUnixMs(sample.unix_ms));
  if (previous != nullptr)
    absl::StrAppend(&out, absl::StrFormat(", rates over %.3fs", interval_seconds));
  out.push_back('\n');
  for (const auto& [name, value] : sample.counters) {
    absl::StrAppend(&out, name, ": ", value);
    double rate = 0;
    if (previous != nullptr) {
      absl::StrAppend(&out, Rate(sample, *previous, interval_seconds, name, &rate)
                                ? absl::StrFormat(" (%.1f/s)", rate)
                                : std::string(" (new)"));
    }
    out.push_back('\n');
  }
  return out;
}

std::string SampleJson(const StatsSample& sample, const StatsSample* previous,
                       double interval_seconds) {
  std::vector<std::string> counters, rates;
  for (const auto& [name, value] : sample.counters) {
    counters.push_back(absl::StrCat(JsonQuote(name), ":", value));
    double rate = 0;
    if (previous != nullptr && Rate(sample, *previous, interval_seconds, name, &rate)) {
      rates.push_back(absl::StrCat(JsonQuote(name), ":", absl::StrFormat("%.3f", rate)));
    }
  }
  return absl::StrCat("{\"sample\":", sample.number, ",\"unix_ms\":", sample.unix_ms,
                      ",\"version\":", sample.version, ",\"interval_seconds\":",
                      absl::StrFormat("%.3f", previous != nullptr ? interval_seconds : 0.0),
                      ",\"counters\":{", absl::StrJoin(counters, ","), "},\"rates\":{",
                      absl::StrJoin(rates, ","), "}}");
}

}  // namespace rwproxy::cli
