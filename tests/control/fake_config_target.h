// A ConfigTarget for control-plane tests: records every published snapshot and returns canned
// stats and per-version traffic (set_traffic, AddTraffic), without any worker threads.
//
// Ownership: owned by the test. Thread-safety: any thread (one mutex).
#ifndef RWPROXY_TESTS_CONTROL_FAKE_CONFIG_TARGET_H_
#define RWPROXY_TESTS_CONTROL_FAKE_CONFIG_TARGET_H_

#include <memory>
#include <mutex>
#include <vector>

#include "server/config/config_target.h"

namespace rwproxy::control {

class FakeConfigTarget : public ConfigTarget {
 public:
  absl::Status Publish(std::shared_ptr<const Snapshot> snapshot, absl::Duration) override {
    std::lock_guard<std::mutex> lock(mu_);
    published_.push_back(snapshot->version);
    current_ = std::move(snapshot);
    return publish_status_;
  }
  // What Publish returns from now on (e.g. DEADLINE_EXCEEDED: a wedged worker).
  void set_publish_status(absl::Status status) {
    std::lock_guard<std::mutex> lock(mu_);
    publish_status_ = std::move(status);
  }
  std::shared_ptr<const Snapshot> current() const override {
    std::lock_guard<std::mutex> lock(mu_);
    return current_;
  }
  StatsSnapshot CollectStats() override {
    std::lock_guard<std::mutex> lock(mu_);
    StatsSnapshot stats = stats_;
    if (current_) stats.config_version = current_->version;
    return stats;
  }

  std::vector<ClusterStatus> Clusters() override {
    std::lock_guard<std::mutex> lock(mu_);
    return clusters_;
  }
  void set_clusters(std::vector<ClusterStatus> clusters) {
    std::lock_guard<std::mutex> lock(mu_);
    clusters_ = std::move(clusters);
  }

  VersionTraffic Traffic() override {
    std::lock_guard<std::mutex> lock(mu_);
    ++traffic_calls_;
    return traffic_;
  }
  void set_traffic(VersionTraffic traffic) {
    std::lock_guard<std::mutex> lock(mu_);
    traffic_ = std::move(traffic);
  }
  // Adds `requests` requests (of which `errors` errors of `kind`, on `route` when not empty) to
  // `version` in steady second `second`.
  void AddTraffic(uint64_t version, int64_t second, uint64_t requests, uint64_t errors,
                  ErrorKind kind = ErrorKind::kUpstream5xx, const std::string& route = "") {
    std::lock_guard<std::mutex> lock(mu_);
    VersionTrafficEntry& entry = traffic_.versions[version];
    entry.total.requests += requests;
    entry.total.errors += errors;
    entry.seconds[second].requests += requests;
    entry.seconds[second].errors += errors;
    entry.errors_by_kind[static_cast<size_t>(kind)] += errors;
    if (!route.empty() && errors > 0) entry.route_errors[route] += errors;
  }
  int traffic_calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return traffic_calls_;
  }

  void set_stats(StatsSnapshot stats) {
    std::lock_guard<std::mutex> lock(mu_);
    stats_ = std::move(stats);
  }
  // Versions in the order they were published.
  std::vector<uint64_t> published() const {
    std::lock_guard<std::mutex> lock(mu_);
    return published_;
  }

 private:
  mutable std::mutex mu_;
  std::shared_ptr<const Snapshot> current_;
  std::vector<uint64_t> published_;
  StatsSnapshot stats_;
  VersionTraffic traffic_;
  int traffic_calls_ = 0;
  std::vector<ClusterStatus> clusters_;
  absl::Status publish_status_;
};

}  // namespace rwproxy::control

#endif  // RWPROXY_TESTS_CONTROL_FAKE_CONFIG_TARGET_H_
