// Internal to control/translate*.cc: the resilience part of proto -> spec translation (dns_refresh,
// health_check, outlier_detection, circuit_breakers, retry_budget on clusters; weighted backends
// and retry on routes), plus the helpers translate.cc shares with it. Not a public API: callers
// use config/translate.h.
//
// Rules and defaults (spec.h holds the default values):
//   - Durations follow ParseDurationField: a unit is required, > 0, finite; empty = default.
//   - Paired limits (health_check timeout <= interval, max_ejection_time >= base_ejection_time,
//     backoff.max >= backoff.base) are errors only when both sides are written; when one side is
//     left out, its default is clamped to the written side (interval: 200ms gives timeout 200ms).
//   - The presence of health_check / outlier_detection turns the feature on.
//
// Ownership: free functions over caller-owned values; Errors borrows its vector. Thread-safety:
// reentrant; any thread (one Errors per Translate call, used by that thread only).
#ifndef RWPROXY_CONFIG_TRANSLATE_RESILIENCE_H_
#define RWPROXY_CONFIG_TRANSLATE_RESILIENCE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "config/spec.h"

namespace rwproxy::config::translate_internal {

// Collects errors for one Translate call. Owned by Translate; single thread.
class Errors {
 public:
  explicit Errors(std::vector<FieldError>* out) : out_(out) {}
  void Add(std::string field, std::string message) {
    out_->push_back({std::move(field), std::move(message)});
  }
  // How many errors were collected so far (by this and earlier collectors of the same vector).
  size_t count() const { return out_->size(); }

 private:
  std::vector<FieldError>* out_;
};

// The clusters of the config being translated, for references from routes.
struct ClusterIndex {
  absl::flat_hash_map<std::string, int> by_name;
  std::vector<std::string> names;  // in config order, for messages
};

// --- Helpers defined in translate.cc. ---

// True if `s` is an RFC 9110 token (1*tchar): header names, methods, upgrade protocols.
bool IsToken(absl::string_view s);

// True if `s` has a byte <= ' ' or DEL.
bool HasSpaceOrControl(absl::string_view s);

// A Host header value: no spaces or control characters, "host", "host:port", "[v6]" or
// "[v6]:port" (ParseHostPort rules).
void CheckHostHeader(const std::string& value, const std::string& field, Errors* errors);

// Parses a duration field ("250ms", "1s", "2m"): empty gives `fallback`; a missing unit, a value
// <= 0, an infinite or unparsable value is an error at `path` and gives `fallback`.
absl::Duration ParseDurationField(const std::string& text, absl::Duration fallback,
                                  const std::string& path, Errors* errors);

// A request path: starts with '/', no spaces or control characters.
void CheckPath(const std::string& value, const std::string& field, Errors* errors);

// A route's reference to a cluster: non-empty and defined.
void CheckClusterRef(const std::string& name, const std::string& field,
                     const ClusterIndex& clusters, Errors* errors);

// --- Defined in translate_resilience.cc. ---

// Fills spec->{dns_refresh, health_check, outlier, breakers, retry_budget} from `cluster`;
// `path` is the cluster's field path, e.g. "clusters[0]".
void TranslateResilience(const config::v1::Cluster& cluster, const std::string& path,
                         ClusterSpec* spec, Errors* errors);

// The weighted split of a route with `backends:` (route.backends_size() > 0); `path` is the
// route's field path, e.g. "routes[2]". Weights default to 1 and may be 0 (a drained backend) as
// long as one is > 0. Also reports backends next to cluster, redirect or respond (the caller
// then keeps that other action).
ClusterAction TranslateBackends(const config::v1::Route& route, const std::string& path,
                                const ClusterIndex& clusters, Errors* errors);

// The route's retry policy, or nullopt without `retry:`. Retry is only allowed on cluster and
// backends routes; `path` is the route's field path.
std::optional<RetrySpec> TranslateRetry(const config::v1::Route& route, const std::string& path,
                                        Errors* errors);

}  // namespace rwproxy::config::translate_internal

#endif  // RWPROXY_CONFIG_TRANSLATE_RESILIENCE_H_
