// rwctl stats: the counters of a GetStatsResponse under their dotted names
// ("cluster.app.rq_total", "listener.main.cx_total", "server.no_route"), an RE2 filter over
// those names, and the samples of `stats --watch` with their rates per second.
//
// Text sample (watch; the first has no rates, later ones add the measured interval):
//   config version 2 at 2024-05-01T10:00:01Z, rates over 1.002s
//   cluster.app.rq_total: 15 (3.0/s)
//   cluster.app.rq_new: 4 (new)          <- not in the previous sample
// Without --watch the first line is just "config version 2".
// JSON sample (watch -o json), one line each, counters and rates as JSON numbers:
//   {"sample":2,"unix_ms":1714557601000,"version":2,"interval_seconds":1.002,
//    "counters":{"cluster.app.rq_total":15},"rates":{"cluster.app.rq_total":3.000}}
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CLI_STATS_VIEW_H_
#define RWPROXY_CLI_STATS_VIEW_H_

#include <cstdint>
#include <map>
#include <string>

#include "proto/control.pb.h"
#include "re2/re2.h"

namespace rwproxy::cli {

using CounterValues = std::map<std::string, uint64_t>;  // dotted name -> value, sorted

// Every counter under its dotted name; only those whose name `filter` matches (RE2
// PartialMatch, like grep) when it is not null.
CounterValues FlattenStats(const ::rwproxy::control::v1::GetStatsResponse& stats,
                           const RE2* filter = nullptr);

// Removes the counters whose dotted name `filter` does not match, and the clusters and listeners
// left without counters (for `stats --filter R -o json`).
void FilterStats(const RE2& filter, ::rwproxy::control::v1::GetStatsResponse* stats);

struct StatsSample {
  int number = 1;        // 1-based
  int64_t unix_ms = 0;   // when it was taken (client clock)
  uint64_t version = 0;  // config version the server collected on
  CounterValues counters;
};

// `previous` is null for the first sample; `interval_seconds` is the time between the two (> 0
// when previous is set). `watch` false prints the one-shot form.
std::string SampleText(const StatsSample& sample, const StatsSample* previous,
                       double interval_seconds, bool watch);
std::string SampleJson(const StatsSample& sample, const StatsSample* previous,
                       double interval_seconds);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_STATS_VIEW_H_
