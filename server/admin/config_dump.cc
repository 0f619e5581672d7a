#include "server/admin/config_dump.h"

#include <string_view>

#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "server/log/log.h"

namespace rwproxy {
namespace {

// A compact JSON writer: commas and nesting are tracked, so callers only say what comes next.
class Json {
 public:
  Json& Open(char bracket) {
    BeforeValue();
    out_.push_back(bracket);
    need_comma_.push_back(false);
    return *this;
  }
  Json& Close(char bracket) {
    out_.push_back(bracket);
    need_comma_.pop_back();
    return *this;
  }
  Json& Key(std::string_view key) {
    BeforeValue();
    AppendString(key);
    out_.push_back(':');
    after_key_ = true;
    return *this;
  }
  Json& Str(std::string_view value) {
    BeforeValue();
    AppendString(value);
    return *this;
  }
  template <class Number>
  Json& Num(Number value) {
    BeforeValue();
    absl::StrAppend(&out_, value);
    return *this;
  }
  Json& Bool(bool value) {
    BeforeValue();
    out_.append(value ? "true" : "false");
    return *this;
  }
  Json& Null() {
    BeforeValue();
    out_.append("null");
    return *this;
  }
  Json& Duration(absl::Duration d) {
    return Str(d == absl::ZeroDuration() ? "0s" : absl::FormatDuration(d));
  }
  std::string Take() { return std::move(out_); }

 private:
  void BeforeValue() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (need_comma_.empty()) return;
    if (need_comma_.back()) out_.push_back(',');
    need_comma_.back() = true;
  }
  void AppendString(std::string_view text) {
    out_.push_back('"');
    log::AppendJsonEscaped(&out_, text);
    out_.push_back('"');
  }

  std::string out_;
  std::vector<bool> need_comma_;
  bool after_key_ = false;
};


std::string_view LbPolicyName(LbPolicy policy) {
  switch (policy) {
    case LbPolicy::kLeastRequest:
      return "least_request";
    case LbPolicy::kRandom:
      return "random";
    case LbPolicy::kRoundRobin:
      break;
  }
  return "round_robin";
}

void WriteHealthCheck(const std::optional<HealthCheckSpec>& check, Json& j) {
  if (!check) {
    j.Null();
    return;
  }
  j.Open('{').Key("path").Str(check->path).Key("interval").Duration(check->interval);
  j.Key("timeout").Duration(check->timeout);
  j.Key("unhealthy_threshold").Num(check->unhealthy_threshold);
  j.Key("healthy_threshold").Num(check->healthy_threshold);
  j.Key("expected_statuses").Open('[');
  for (const StatusRange& range : check->expected_statuses) {
    j.Str(range.low == range.high ? absl::StrCat(range.low)
                                  : absl::StrCat(range.low, "-", range.high));
  }
  j.Close(']').Key("host").Str(check->host).Close('}');
}

void WriteOutlier(const std::optional<OutlierSpec>& outlier, Json& j) {
  if (!outlier) {
    j.Null();
    return;
  }
  j.Open('{').Key("consecutive_5xx").Num(outlier->consecutive_5xx);
  j.Key("consecutive_connect_failures").Num(outlier->consecutive_connect_failures);
  j.Key("base_ejection_time").Duration(outlier->base_ejection_time);
  j.Key("max_ejection_time").Duration(outlier->max_ejection_time);
  j.Key("max_ejection_percent").Num(outlier->max_ejection_percent).Close('}');
}

std::string_view TlsVersionName(TlsVersion version) {
  switch (version) {
    case TlsVersion::kTls13:
      return "1.3";
    case TlsVersion::kTls12:
      break;
  }
  return "1.2";
}

// A cluster's `tls` (its spec, or null for plain TCP). Files show as their paths: what they hold
// (a private key above all) is never written.
void WriteTls(const UpstreamTlsSpec* tls, Json& j) {
  if (tls == nullptr) {
    j.Null();
    return;
  }
  j.Open('{').Key("sni").Str(tls->sni).Key("verify").Bool(tls->verify);
  j.Key("ca_file").Str(tls->ca_file).Key("client_cert").Str(tls->client_cert);
  j.Key("client_key").Str(tls->client_key);
  j.Key("min_version").Str(TlsVersionName(tls->min_version)).Close('}');
}

void WriteCluster(const ClusterInfo& cluster, const std::vector<ClusterStatus>& live, Json& j) {
  j.Open('{').Key("name").Str(cluster.name).Key("endpoints").Open('[');
  for (const EndpointSpec& endpoint : cluster.configured) j.Str(endpoint.Key());
  j.Close(']').Key("resolved_endpoints").Open('[');
  const ClusterStatus* status = nullptr;
  for (const ClusterStatus& c : live) {
    if (c.name == cluster.name) status = &c;
  }
  if (status != nullptr) {
    for (const EndpointStatus& e : status->endpoints) {
      j.Open('{').Key("address").Str(e.address).Key("source").Str(e.source);
      j.Key("health").Str(e.health).Close('}');
    }
  } else {
    for (const EndpointInfo& e : cluster.endpoints) {
      j.Open('{').Key("address").Str(e.key).Key("source").Str(e.source).Close('}');
    }
  }
  j.Close(']').Key("unresolved_endpoints").Open('[');  // configured names with no address yet
  if (status != nullptr) {
    for (const EndpointStatus& e : status->unresolved) j.Str(e.source);
  } else {
    for (const UnresolvedEndpoint& e : cluster.unresolved) j.Str(e.source);
  }
  j.Close(']');
  j.Key("lb_policy").Str(LbPolicyName(cluster.lb_policy));
  j.Key("connect_timeout").Duration(cluster.connect_timeout);
  const PoolSpec& pool = cluster.pool;
  j.Key("pool").Open('{').Key("max_connections").Num(pool.max_connections);
  j.Key("max_idle").Num(pool.max_idle).Key("idle_timeout").Duration(pool.idle_timeout);
  j.Key("max_requests_per_connection").Num(pool.max_requests_per_connection);
  j.Key("max_pending").Num(pool.max_pending).Close('}');
  j.Key("dns_refresh").Duration(cluster.dns_refresh);
  j.Key("health_check");
  WriteHealthCheck(cluster.health_check, j);
  j.Key("outlier_detection");
  WriteOutlier(cluster.outlier, j);
  j.Key("circuit_breakers").Open('{').Key("max_requests").Num(cluster.breakers.max_requests);
  j.Key("max_retries").Num(cluster.breakers.max_retries).Close('}');
  j.Key("retry_budget").Open('{').Key("ratio").Num(cluster.retry_budget.ratio);
  j.Key("min_per_second").Num(cluster.retry_budget.min_per_second).Close('}');
  j.Key("tls");
  WriteTls(cluster.tls ? &cluster.tls->spec() : nullptr, j);
  j.Close('}');
}

void WriteRetry(const std::optional<RetrySpec>& retry, Json& j) {
  if (!retry) {
    j.Null();
    return;
  }
  static constexpr std::pair<uint32_t, const char*> kOn[] = {
      {kRetryConnectFailure, "connect-failure"},
      {kRetryReset, "reset"},
      {kRetryGatewayError, "gateway-error"},
      {kRetryStatusCodes, "retriable-status-codes"},
      {kRetry5xx, "5xx"}};
  j.Open('{').Key("on").Open('[');
  for (const auto& [bit, name] : kOn) {
    if (retry->on & bit) j.Str(name);
  }
  j.Close(']').Key("status_codes").Open('[');
  for (int code : retry->status_codes) j.Num(code);
  j.Close(']').Key("max").Num(retry->max).Key("per_try_timeout");
  if (retry->per_try_timeout) {
    j.Duration(*retry->per_try_timeout);
  } else {
    j.Null();
  }
  j.Key("backoff").Open('{').Key("base").Duration(retry->backoff_base);
  j.Key("max").Duration(retry->backoff_max).Close('}');
  j.Key("non_idempotent").Bool(retry->non_idempotent).Close('}');
}

// Opens an object with "set", "add" and "remove"; the caller may add keys, then closes it.
Json& WriteHeaderOps(const HeaderOpsSpec& ops, Json& j) {
  j.Open('{').Key("set").Open('{');
  for (const auto& [name, value] : ops.set) j.Key(name).Str(value);
  j.Close('}').Key("add").Open('{');
  for (const auto& [name, value] : ops.add) j.Key(name).Str(value);
  j.Close('}').Key("remove").Open('[');
  for (const std::string& name : ops.remove) j.Str(name);
  return j.Close(']');
}

std::string_view QueryModeName(QueryMode mode) {
  switch (mode) {
    case QueryMode::kDiscard:
      return "discard";
    case QueryMode::kAppend:
      return "append";
    case QueryMode::kKeep:
      break;
  }
  return "keep";
}

// One header condition as config.proto's HeaderMatch ({"name", one of "exact" | "regex" |
// "present", "invert"}); a legacy map entry is an exact one.
void WriteHeaderCondition(const HeaderCondition& h, Json& j) {
  j.Open('{').Key("name").Str(h.name);
  switch (h.kind) {
    case HeaderCondition::Kind::kExact:
      j.Key("exact").Str(h.value);
      break;
    case HeaderCondition::Kind::kRegex:
      j.Key("regex").Str(h.value);
      break;
    case HeaderCondition::Kind::kPresent:
      j.Key("present").Bool(h.present);
      break;
  }
  j.Key("invert").Bool(h.invert).Close('}');
}

void WriteMatch(const CompiledRoute& route, Json& j) {
  j.Key("match").Open('{');
  switch (route.kind) {
    case MatchSpec::Kind::kPrefix:
      j.Key("path_prefix").Str(route.path);
      break;
    case MatchSpec::Kind::kExact:
      j.Key("path_exact").Str(route.path);
      break;
    case MatchSpec::Kind::kRegex:
      j.Key("path_regex").Str(route.regex ? route.regex->pattern() : "");
      break;
  }
  j.Key("case_insensitive").Bool(route.case_insensitive).Key("methods").Open('[');
  for (const std::string& method : route.methods) j.Str(method);
  j.Close(']').Key("hosts").Open('[');
  for (const std::string& host : route.hosts) j.Str(host);
  j.Close(']').Key("headers").Open('[');
  for (const CompiledHeaderCondition& h : route.headers) WriteHeaderCondition(h.spec, j);
  j.Close(']').Key("query");
  if (route.query) {
    j.Open('{').Key("regex").Str(route.query->regex).Key("invert").Bool(route.query->invert);
    j.Close('}');
  } else {
    j.Null();
  }
  j.Close('}');
}

void WriteRoute(const CompiledRoute& route, Json& j) {
  j.Open('{').Key("name").Str(route.name);
  WriteMatch(route, j);
  switch (route.action) {
    case CompiledRoute::Action::kCluster:
      j.Key("rewrite").Open('{');
      if (route.path_rewrite) j.Key("path").Str(route.template_text);
      if (route.prefix_rewrite) j.Key("prefix").Str(*route.prefix_rewrite);
      if (route.host_rewrite) j.Key("host").Str(*route.host_rewrite);
      if (route.host_from_endpoint) j.Key("host_from_endpoint").Bool(true);
      j.Key("query").Str(QueryModeName(route.query_mode));
      j.Close('}').Key("backends").Open('[');
      for (const CompiledBackend& backend : route.backends) {
        j.Open('{').Key("cluster").Str(backend.cluster_name);
        j.Key("weight").Num(backend.weight).Close('}');
      }
      j.Close(']').Key("timeout").Duration(route.timeout).Key("retry");
      WriteRetry(route.retry, j);
      j.Key("request_headers");
      WriteHeaderOps(route.request_headers, j).Close('}');
      j.Key("response_headers");
      WriteHeaderOps(route.response_headers, j).Key("rewrite_location").Open('[');
      for (const LocationRewriteSpec& rewrite : route.response_headers.rewrite_location) {
        j.Open('{').Key("from").Str(rewrite.from).Key("to").Str(rewrite.to).Close('}');
      }
      j.Close(']').Close('}').Key("upgrades").Open('[');
      for (const std::string& upgrade : route.upgrades) j.Str(upgrade);
      j.Close(']').Key("upgrade_idle_timeout").Duration(route.upgrade_idle_timeout);
      break;
    case CompiledRoute::Action::kRedirect:
      j.Key("redirect").Open('{').Key("location").Str(route.template_text);
      j.Key("status").Num(route.status).Close('}');
      break;
    case CompiledRoute::Action::kRespond:
      j.Key("respond").Open('{').Key("status").Num(route.status);
      j.Key("body").Str(route.body).Close('}');
      break;
  }
  j.Close('}');
}

std::string_view EscapedSlashesName(EscapedSlashes mode) {
  switch (mode) {
    case EscapedSlashes::kReject:
      return "reject";
    case EscapedSlashes::kDecode:
      return "decode";
    case EscapedSlashes::kKeep:
      break;
  }
  return "keep";
}

}  // namespace

std::string ConfigDumpJson(const Snapshot& snapshot, const std::vector<ClusterStatus>& live) {
  Json j;
  j.Open('{').Key("version").Num(snapshot.version).Key("config").Open('{');
  j.Key("clusters").Open('[');
  for (const ClusterInfo& cluster : snapshot.clusters) WriteCluster(cluster, live, j);
  j.Close(']').Key("routes").Open('[');
  for (size_t i = 0; i < snapshot.routes.size(); ++i) WriteRoute(snapshot.routes.at(i), j);
  j.Close(']').Key("http").Open('{');
  j.Key("normalize_path").Bool(snapshot.http.normalize_path);
  j.Key("merge_slashes").Bool(snapshot.http.merge_slashes);
  j.Key("path_with_escaped_slashes").Str(EscapedSlashesName(snapshot.http.escaped_slashes));
  j.Close('}').Close('}').Close('}');
  return j.Take();
}

}  // namespace rwproxy
