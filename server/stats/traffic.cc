#include "server/stats/traffic.h"

#include <algorithm>

namespace rwproxy {

const char* ErrorKindName(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kNone:
      return "";
    case ErrorKind::kNoRoute:
      return "no route";
    case ErrorKind::kUpstream5xx:
      return "upstream 5xx";
    case ErrorKind::kLocal502:
      return "local 502";
    case ErrorKind::kLocal503:
      return "local 503";
    case ErrorKind::kLocal504:
      return "local 504";
    case ErrorKind::kLocalOther:
      return "local 5xx";
  }
  return "";
}

ErrorKind ClassifyResponse(int status, bool local, bool no_route) {
  if (no_route) return ErrorKind::kNoRoute;
  if (status < 500) return ErrorKind::kNone;
  if (!local) return ErrorKind::kUpstream5xx;
  switch (status) {
    case 502:
      return ErrorKind::kLocal502;
    case 503:
      return ErrorKind::kLocal503;
    case 504:
      return ErrorKind::kLocal504;
    default:
      return ErrorKind::kLocalOther;
  }
}

TrafficCounts VersionTrafficEntry::Window(int64_t first, int64_t last) const {
  TrafficCounts sum;
  for (auto it = seconds.lower_bound(first); it != seconds.end() && it->first <= last; ++it) {
    sum.requests += it->second.requests;
    sum.errors += it->second.errors;
  }
  return sum;
}

ErrorKind VersionTrafficEntry::TopKind(uint64_t* count) const {
  size_t best = 0;
  for (size_t i = 1; i < kErrorKinds; ++i) {
    if (errors_by_kind[i] > errors_by_kind[best]) best = i;
  }
  *count = errors_by_kind[best];
  return best == 0 || *count == 0 ? ErrorKind::kNone : static_cast<ErrorKind>(best);
}

std::string VersionTrafficEntry::TopRoute(uint64_t* count) const {
  std::string best;
  *count = 0;
  for (const auto& [name, errors] : route_errors) {
    if (errors > *count) {
      best = name;
      *count = errors;
    }
  }
  return best;
}

void VersionTraffic::Merge(const VersionTraffic& other) {
  workers_unresponsive += other.workers_unresponsive;
  for (const auto& [version, entry] : other.versions) {
    VersionTrafficEntry& into = versions[version];
    into.total.requests += entry.total.requests;
    into.total.errors += entry.total.errors;
    for (size_t i = 0; i < kErrorKinds; ++i) into.errors_by_kind[i] += entry.errors_by_kind[i];
    for (const auto& [second, counts] : entry.seconds) {
      into.seconds[second].requests += counts.requests;
      into.seconds[second].errors += counts.errors;
    }
    for (const auto& [route, errors] : entry.route_errors) into.route_errors[route] += errors;
  }
}

const VersionTrafficEntry& VersionTraffic::Of(uint64_t version) const {
  static const VersionTrafficEntry kEmpty;
  auto it = versions.find(version);
  return it == versions.end() ? kEmpty : it->second;
}

TrafficCounter::TrafficCounter() = default;

TrafficCounter::Slot* TrafficCounter::Find(uint64_t version) {
  for (Slot& slot : slots_) {
    if (slot.version == version && version != 0) return &slot;
  }
  return nullptr;
}

void TrafficCounter::Begin(uint64_t version, size_t routes) {
  if (Slot* slot = Find(version)) {
    current_ = static_cast<size_t>(slot - slots_.data());
    if (slot->route_errors.size() != routes) slot->route_errors.assign(routes, 0);
    return;
  }
  // Reuse an unused slot, else the one with the lowest version (the oldest).
  size_t chosen = 0;
  for (size_t i = 0; i < kVersions; ++i) {
    if (slots_[i].version == 0) {
      chosen = i;
      break;
    }
    if (slots_[i].version < slots_[chosen].version) chosen = i;
  }
  Slot& slot = slots_[chosen];
  slot.version = version;
  slot.total = {};
  slot.errors_by_kind.fill(0);
  slot.ring.assign(static_cast<size_t>(kRingSeconds), Bucket{});
  slot.route_errors.assign(routes, 0);
  // Only the current version keeps per-route counts (its route indexes are the ones named).
  for (size_t i = 0; i < kVersions; ++i) {
    if (i != chosen) slots_[i].route_errors.clear();
  }
  current_ = chosen;
}

void TrafficCounter::Collect(VersionTraffic* out,
                             const std::function<std::string(size_t)>& route_name) const {
  for (size_t i = 0; i < kVersions; ++i) {
    const Slot& slot = slots_[i];
    if (slot.version == 0) continue;
    VersionTrafficEntry& entry = out->versions[slot.version];
    entry.total.requests += slot.total.requests;
    entry.total.errors += slot.total.errors;
    for (size_t k = 0; k < kErrorKinds; ++k) entry.errors_by_kind[k] += slot.errors_by_kind[k];
    for (const Bucket& bucket : slot.ring) {
      if (bucket.requests == 0) continue;
      TrafficCounts& counts = entry.seconds[bucket.second];
      counts.requests += bucket.requests;
      counts.errors += bucket.errors;
    }
    if (i != current_ || !route_name) continue;
    for (size_t r = 0; r < slot.route_errors.size(); ++r) {
      if (slot.route_errors[r] != 0) entry.route_errors[route_name(r)] += slot.route_errors[r];
    }
  }
}

}  // namespace rwproxy
