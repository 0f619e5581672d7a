// The version log: the history of applied versions (bounded by count and by bytes; the newest
// is live once ConfigStore has published it), and the high-water mark: the highest
// version this state has ever acknowledged, so that a new version is always above it, even after
// a fallback that lost the history.
//
// In memory only, no I/O: ConfigStore pairs it with a StateDir (persistence) and a ConfigTarget
// (publishing). An entry keeps its config in memory only when there is no state dir (the config
// is then read back from disk for a rollback), so the log's memory does not grow with history.
//
// Ownership: owned by ConfigStore. Thread-safety: none; ConfigStore guards it with its mutex.
#ifndef RWPROXY_CONTROL_VERSION_LOG_H_
#define RWPROXY_CONTROL_VERSION_LOG_H_

#include <cstddef>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "proto/control.pb.h"

namespace rwproxy::control {

class VersionLog {
 public:
  struct Limits {
    size_t max_versions = 50;           // at least 1 (the live version is always kept)
    size_t max_bytes = 8 * 1024 * 1024;  // serialized configs; the live one is kept even if larger
  };
  struct Entry {
    v1::VersionInfo info;
    size_t bytes = 0;  // serialized size of the config
    // The config, when the log keeps it (no state dir); null when it lives on disk only.
    std::shared_ptr<const config::v1::Config> config;
  };

  VersionLog(Limits limits, std::function<absl::Time()> now);

  // Null before the first version.
  const Entry* live() const { return entries_.empty() ? nullptr : &entries_.back(); }
  uint64_t live_version() const { return entries_.empty() ? 0 : entries_.back().info.version(); }
  // The version the next Append gets: above every version ever acknowledged.
  uint64_t next_version() const { return high_water_ + 1; }
  uint64_t high_water() const { return high_water_; }
  // Raises the high-water mark (e.g. to the highest version a state dir has seen).
  void RaiseHighWater(uint64_t version);

  // The info of the next version (next_version(), the clock's time).
  v1::VersionInfo NextInfo(const std::string& content_hash, const std::string& description,
                           const std::string& source, const std::string& peer) const;

  // Adds `entry` as the live version (its version must be next_version() or above) and drops the
  // oldest entries beyond the limits. Returns the versions dropped.
  std::vector<uint64_t> Append(Entry entry);

  // Replaces the info of kept version `version` (a guard's verdict); false when it is not kept.
  bool UpdateInfo(const v1::VersionInfo& info);

  // The entry of `version`, or null when it is not kept.
  const Entry* Find(uint64_t version) const;
  // Newest first; `limit` 0 means every kept version.
  std::vector<v1::VersionInfo> History(size_t limit) const;
  // "kept: 3..9" or "it is empty" (for error messages).
  std::string KeptRange() const;
  size_t size() const { return entries_.size(); }
  size_t bytes() const { return bytes_; }

 private:
  std::vector<uint64_t> Trim();

  const Limits limits_;
  const std::function<absl::Time()> now_;
  std::deque<Entry> entries_;  // oldest first; the back is live
  size_t bytes_ = 0;
  uint64_t high_water_ = 0;
};

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_VERSION_LOG_H_
