// Per config version traffic, for guarded applies (control/guard.h): requests and errors per
// version, per one-second bucket (a bounded ring of kRingSeconds), the errors by kind, and for
// the worker's current version the errors per route.
//
// An error is a response with status >= 500 (local 502/503/504 included) or a local "no route"
// 404. A request counts on the version of the snapshot it started with (phase 3), once, when it
// ends.
//
// Ownership: each Worker owns one TrafficCounter (in its WorkerContext); VersionTraffic is a plain
// value, merged on the collecting thread (Server::Traffic). Thread-safety: TrafficCounter is
// touched by its worker thread only (Begin when a snapshot is swapped in, Count at the end of a
// request, Collect in a posted task); VersionTraffic is not shared.
#ifndef RWPROXY_SERVER_STATS_TRAFFIC_H_
#define RWPROXY_SERVER_STATS_TRAFFIC_H_

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace rwproxy {

// Why a response counts as an error (kNone: it does not).
enum class ErrorKind : uint8_t {
  kNone = 0,
  kNoRoute,      // local 404: no route matched
  kUpstream5xx,  // a 5xx relayed from the upstream
  kLocal502,     // e.g. cannot connect to the upstream, bad upstream response
  kLocal503,     // e.g. no healthy endpoint, pool full, unresolved names
  kLocal504,     // upstream timeout
  kLocalOther,   // another local status >= 500 (e.g. a `respond` route answering 500)
};
inline constexpr size_t kErrorKinds = 7;

// "no route", "upstream 5xx", "local 502", "local 503", "local 504", "local 5xx" ("" for kNone).
const char* ErrorKindName(ErrorKind kind);

// The kind of a response: `local` when the proxy answered itself, `no_route` for the 404 of a
// request that matched no route.
ErrorKind ClassifyResponse(int status, bool local, bool no_route);

struct TrafficCounts {
  uint64_t requests = 0;
  uint64_t errors = 0;
};

// One config version, summed over workers.
struct VersionTrafficEntry {
  // Since the version began on each worker (not bounded by the ring).
  TrafficCounts total;
  std::array<uint64_t, kErrorKinds> errors_by_kind{};
  // Steady-clock second (std::chrono::steady_clock, seconds since its epoch) -> counts; only the
  // last kRingSeconds seconds, only non-empty seconds.
  std::map<int64_t, TrafficCounts> seconds;
  // Route name -> errors, for the version a worker serves now (other versions: empty).
  std::map<std::string, uint64_t> route_errors;

  // The sum of the buckets with first <= second <= last.
  TrafficCounts Window(int64_t first, int64_t last) const;
  // The kind with the most errors (kNone when there are none) and its count.
  ErrorKind TopKind(uint64_t* count) const;
  // The route with the most errors ("" when none) and its count.
  std::string TopRoute(uint64_t* count) const;
};

struct VersionTraffic {
  std::map<uint64_t, VersionTrafficEntry> versions;  // by config version
  size_t workers_unresponsive = 0;                   // left out (Server::Traffic's deadline)

  void Merge(const VersionTraffic& other);
  // The entry of `version`, or an empty one.
  const VersionTrafficEntry& Of(uint64_t version) const;
};

// The steady-clock second of a time point in ms since the steady clock's epoch.
inline int64_t SecondOfMs(int64_t steady_ms) {
  return steady_ms >= 0 ? steady_ms / 1000 : (steady_ms - 999) / 1000;
}

class TrafficCounter {
 public:
  static constexpr int64_t kRingSeconds = 900;  // 15 minutes of one-second buckets
  static constexpr size_t kVersions = 3;        // the current version and the two before

  TrafficCounter();

  // A new snapshot is served from now on: its version gets a slot (the oldest one is reused, so
  // the ring is allocated only the first kVersions times) and room for `routes` route counts.
  // A version that already has a slot keeps it.
  void Begin(uint64_t version, size_t routes);

  // One request that ran on `version`, ended in steady second `second`; `route` is the matched
  // route's index in that snapshot (-1: none). A version without a slot is not counted. No
  // allocation.
  void Count(uint64_t version, int64_t second, ErrorKind kind, int route) {
    Slot* slot = &slots_[current_];
    if (slot->version != version) {
      slot = Find(version);
      if (slot == nullptr) return;
    }
    Bucket& bucket =
        slot->ring[static_cast<size_t>(((second % kRingSeconds) + kRingSeconds) % kRingSeconds)];
    if (bucket.second != second) bucket = Bucket{second, 0, 0};
    ++bucket.requests;
    ++slot->total.requests;
    if (kind == ErrorKind::kNone) return;
    ++bucket.errors;
    ++slot->total.errors;
    ++slot->errors_by_kind[static_cast<size_t>(kind)];
    if (route >= 0 && static_cast<size_t>(route) < slot->route_errors.size()) {
      ++slot->route_errors[static_cast<size_t>(route)];
    }
  }

  // Adds every kept version to `out`; `route_name` names a route index of the current version.
  void Collect(VersionTraffic* out, const std::function<std::string(size_t)>& route_name) const;

 private:
  struct Bucket {
    int64_t second = INT64_MIN;
    uint64_t requests = 0;
    uint64_t errors = 0;
  };
  struct Slot {
    uint64_t version = 0;  // 0: unused
    TrafficCounts total;
    std::array<uint64_t, kErrorKinds> errors_by_kind{};
    std::vector<Bucket> ring;            // kRingSeconds, by second % kRingSeconds
    std::vector<uint64_t> route_errors;  // by route index (the current version only)
  };
  Slot* Find(uint64_t version);

  std::array<Slot, kVersions> slots_;
  size_t current_ = 0;
};

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_STATS_TRAFFIC_H_
