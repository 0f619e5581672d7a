#include "control/version_log.h"

#include <algorithm>
#include <string>
#include <utility>

#include "absl/strings/str_cat.h"

namespace rwproxy::control {

VersionLog::VersionLog(Limits limits, std::function<absl::Time()> now)
    : limits_(limits), now_(std::move(now)) {}

void VersionLog::RaiseHighWater(uint64_t version) { high_water_ = std::max(high_water_, version); }

v1::VersionInfo VersionLog::NextInfo(const std::string& content_hash,
                                     const std::string& description, const std::string& source,
                                     const std::string& peer) const {
  v1::VersionInfo info;
  info.set_version(next_version());
  info.set_applied_unix_ms(absl::ToUnixMillis(now_()));
  info.set_content_hash(content_hash);
  info.set_description(description);
  info.set_source(source);
  info.set_peer(peer);
  return info;
}

std::vector<uint64_t> VersionLog::Append(Entry entry) {
  RaiseHighWater(entry.info.version());
  bytes_ += entry.bytes;
  entries_.push_back(std::move(entry));
  return Trim();
}

std::vector<uint64_t> VersionLog::Trim() {
  std::vector<uint64_t> dropped;
  const size_t max_versions = std::max<size_t>(1, limits_.max_versions);
  while (entries_.size() > 1 &&
         (entries_.size() > max_versions || bytes_ > limits_.max_bytes)) {
    bytes_ -= entries_.front().bytes;
    dropped.push_back(entries_.front().info.version());
    entries_.pop_front();
  }
  return dropped;
}

bool VersionLog::UpdateInfo(const v1::VersionInfo& info) {
  for (Entry& entry : entries_) {
    if (entry.info.version() != info.version()) continue;
    entry.info = info;
    return true;
  }
  return false;
}

const VersionLog::Entry* VersionLog::Find(uint64_t version) const {
  for (const Entry& entry : entries_) {
    if (entry.info.version() == version) return &entry;
  }
  return nullptr;
}

std::vector<v1::VersionInfo> VersionLog::History(size_t limit) const {
  std::vector<v1::VersionInfo> out;
  for (auto it = entries_.rbegin(); it != entries_.rend(); ++it) {
    if (limit != 0 && out.size() >= limit) break;
    out.push_back(it->info);
  }
  return out;
}

std::string VersionLog::KeptRange() const {
  if (entries_.empty()) return "it is empty";
  return absl::StrCat("kept: ", entries_.front().info.version(), "..",
                      entries_.back().info.version());
}

}  // namespace rwproxy::control
