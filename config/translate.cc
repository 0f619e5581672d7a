#include "config/translate.h"

#include <arpa/inet.h>

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "config/translate_headers.h"
#include "config/translate_match.h"
#include "config/translate_resilience.h"
#include "config/translate_transport.h"

namespace rwproxy::config {
namespace {

bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '.' || c == '-'; }

// Parses "host:port", "[v6]:port" or, when !port_required, also "host" and "[v6]". On failure
// returns false with the reason in *why.
bool ParseHostPort(absl::string_view text, bool port_required, std::string* host, int* port,
                   std::string* why) {
  absl::string_view port_text;
  bool has_port = false;
  if (!text.empty() && text[0] == '[') {
    size_t close = text.find(']');
    if (close == absl::string_view::npos) return *why = "missing ']'", false;
    *host = std::string(text.substr(1, close - 1));
    in6_addr addr;
    if (inet_pton(AF_INET6, host->c_str(), &addr) != 1) {
      return *why = absl::StrCat("'", *host, "' is not an IPv6 address"), false;
    }
    absl::string_view rest = text.substr(close + 1);
    if (!rest.empty() && rest[0] != ':') return *why = "expected ':' after ']'", false;
    has_port = !rest.empty();
    if (has_port) port_text = rest.substr(1);
  } else {
    size_t colon = text.rfind(':');
    has_port = colon != absl::string_view::npos;
    *host = std::string(text.substr(0, has_port ? colon : text.size()));
    if (has_port) port_text = text.substr(colon + 1);
    if (host->find(':') != std::string::npos) {
      return *why = "an IPv6 address needs brackets, e.g. [::1]:80", false;
    }
    if (host->empty()) return *why = "missing host", false;
    if (!std::all_of(host->begin(), host->end(), IsNameChar)) {
      return *why = absl::StrCat("invalid host '", *host, "'"), false;
    }
  }
  if (!has_port) {
    *port = 0;
    if (port_required) return *why = "missing port (use host:port)", false;
    return true;
  }
  if (port_text.empty() || port_text.size() > 5 ||
      !std::all_of(port_text.begin(), port_text.end(), absl::ascii_isdigit) ||
      !absl::SimpleAtoi(port_text, port) || *port < 1 || *port > 65535) {
    return *why = absl::StrCat("port must be 1..65535, got '", port_text, "'"), false;
  }
  return true;
}

}  // namespace

namespace translate_internal {

bool IsToken(absl::string_view s) {
  constexpr absl::string_view kSymbols = "!#$%&'*+-.^_`|~";  // tchar besides letters and digits
  return !s.empty() && std::all_of(s.begin(), s.end(), [&](char c) {
    return absl::ascii_isalnum(c) || kSymbols.find(c) != absl::string_view::npos;
  });
}

bool HasSpaceOrControl(absl::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) <= ' ' || c == '\x7f'; });
}

void CheckHostHeader(const std::string& value, const std::string& field, Errors* errors) {
  std::string host, why;
  int port = 0;
  if (HasSpaceOrControl(value)) {
    errors->Add(field, "host must not contain spaces, CR or LF");
  } else if (!ParseHostPort(value, /*port_required=*/false, &host, &port, &why)) {
    errors->Add(field, absl::StrCat("invalid host '", value, "': ", why));
  }
}

void CheckPath(const std::string& value, const std::string& field, Errors* errors) {
  if (value.empty() || value[0] != '/') {
    errors->Add(field, absl::StrCat("must start with '/', got '", value, "'"));
  } else if (HasSpaceOrControl(value)) {
    errors->Add(field, "must not contain spaces or control characters");
  }
}

void CheckClusterRef(const std::string& name, const std::string& field,
                     const ClusterIndex& clusters, Errors* errors) {
  if (name.empty()) {
    errors->Add(field, "cluster name is required");
  } else if (!clusters.by_name.contains(name)) {
    std::string defined = clusters.names.empty() ? "none" : absl::StrJoin(clusters.names, ", ");
    errors->Add(field, absl::StrCat("unknown cluster '", name, "' (defined: ", defined, ")"));
  }
}

absl::Duration ParseDurationField(const std::string& text, absl::Duration fallback,
                                  const std::string& path, Errors* errors) {
  if (text.empty()) return fallback;
  absl::Duration d;
  if (std::none_of(text.begin(), text.end(), absl::ascii_isalpha)) {
    errors->Add(path, absl::StrCat("duration '", text, "' needs a unit (e.g. 250ms, 1s, 2m)"));
  } else if (!absl::ParseDuration(text, &d)) {
    errors->Add(path, absl::StrCat("invalid duration '", text, "' (e.g. 250ms, 1s, 2m)"));
  } else if (d == absl::InfiniteDuration() || d == -absl::InfiniteDuration()) {
    errors->Add(path, absl::StrCat("duration must be finite, got '", text, "'"));
  } else if (d <= absl::ZeroDuration()) {
    errors->Add(path, absl::StrCat("duration must be > 0, got '", text, "'"));
  } else {
    return d;
  }
  return fallback;
}

}  // namespace translate_internal

namespace {

namespace v1 = ::rwproxy::config::v1;
using translate_internal::CheckClusterRef;
using translate_internal::CheckHostHeader;
using translate_internal::ClusterIndex;
using translate_internal::Errors;
using translate_internal::HasSpaceOrControl;
using translate_internal::ParseDurationField;
using translate_internal::TranslateMatch;

bool HasCrLf(absl::string_view s) { return s.find_first_of("\r\n") != absl::string_view::npos; }

void CheckName(absl::string_view name, const std::string& path, Errors* errors) {
  if (name.empty()) {
    errors->Add(path, "name is required");
  } else if (!std::all_of(name.begin(), name.end(), IsNameChar)) {
    errors->Add(path,
                absl::StrCat("invalid name '", name, "': use letters, digits, '_', '.', '-'"));
  }
}

PoolSpec TranslatePool(const v1::Pool& pool, const std::string& path, Errors* errors) {
  PoolSpec spec;
  if (pool.has_max_connections()) {
    spec.max_connections = pool.max_connections();
    if (spec.max_connections < 1) errors->Add(path + ".max_connections", "must be >= 1");
  }
  if (pool.has_max_idle()) spec.max_idle = pool.max_idle();
  if (pool.has_max_requests_per_connection()) {
    spec.max_requests_per_connection = pool.max_requests_per_connection();
  }
  if (pool.has_max_pending()) spec.max_pending = pool.max_pending();
  spec.idle_timeout =
      ParseDurationField(pool.idle_timeout(), spec.idle_timeout, path + ".idle_timeout", errors);
  return spec;
}

ClusterSpec TranslateCluster(const v1::Cluster& cluster, const std::string& path, Errors* errors) {
  ClusterSpec spec;
  spec.name = cluster.name();
  CheckName(cluster.name(), path + ".name", errors);
  if (cluster.endpoints().empty()) {
    errors->Add(path + ".endpoints", "at least one endpoint is required");
  }
  absl::flat_hash_map<std::string, int> seen;
  for (int i = 0; i < cluster.endpoints_size(); ++i) {
    const std::string& text = cluster.endpoints(i);
    std::string field = absl::StrCat(path, ".endpoints[", i, "]");
    EndpointSpec endpoint;
    int port = 0;
    std::string why;
    if (!ParseHostPort(text, /*port_required=*/true, &endpoint.host, &port, &why)) {
      errors->Add(field, absl::StrCat("invalid endpoint '", text, "': ", why));
      continue;
    }
    endpoint.port = static_cast<uint16_t>(port);
    auto [it, inserted] =
        seen.emplace(absl::StrCat(absl::AsciiStrToLower(endpoint.host), "|", port), i);
    if (!inserted) {
      errors->Add(field, absl::StrCat("duplicate endpoint '", text, "' (first at ", path,
                                      ".endpoints[", it->second, "])"));
      continue;
    }
    spec.endpoints.push_back(std::move(endpoint));
  }
  const std::string& lb = cluster.lb_policy();
  if (lb.empty() || lb == "round_robin") {
    spec.lb_policy = LbPolicy::kRoundRobin;
  } else if (lb == "least_request") {
    spec.lb_policy = LbPolicy::kLeastRequest;
  } else if (lb == "random") {
    spec.lb_policy = LbPolicy::kRandom;
  } else {
    errors->Add(path + ".lb_policy", absl::StrCat("unknown lb_policy '", lb,
                                                  "' (use round_robin, least_request or random)"));
  }
  spec.connect_timeout = ParseDurationField(cluster.connect_timeout(), spec.connect_timeout,
                                            path + ".connect_timeout", errors);
  spec.pool = TranslatePool(cluster.pool(), path + ".pool", errors);
  translate_internal::TranslateResilience(cluster, path, &spec, errors);
  spec.tls = translate_internal::TranslateTls(cluster, path, errors);
  return spec;
}

RewriteSpec TranslateRewrite(const v1::Route& route, const std::string& path, Errors* errors) {
  RewriteSpec spec;
  if (!route.has_rewrite()) return spec;
  if (route.action_case() == v1::Route::kRedirect || route.action_case() == v1::Route::kRespond) {
    errors->Add(path, "rewrite is only allowed on cluster and backends routes");
    return spec;
  }
  const v1::Rewrite& rewrite = route.rewrite();
  if (!rewrite.path().empty()) {
    if (HasSpaceOrControl(rewrite.path())) {
      errors->Add(path + ".path", "must not contain spaces or control characters");
    } else if (rewrite.path()[0] != '/' && rewrite.path()[0] != '$' &&
               rewrite.path()[0] != '%') {
      errors->Add(path + ".path",
                  absl::StrCat("must start with '/' or a group ($1, %1), got '", rewrite.path(),
                               "'"));
    }
    spec.path = rewrite.path();
  }
  if (!rewrite.prefix().empty()) {
    if (!rewrite.path().empty()) {
      errors->Add(path + ".prefix", "rewrite.path and rewrite.prefix are exclusive");
    } else if (route.match().path_case() != v1::Match::kPathPrefix) {
      errors->Add(path + ".prefix", "rewrite.prefix requires match.path_prefix");
    } else if (HasSpaceOrControl(rewrite.prefix())) {
      errors->Add(path + ".prefix", "must not contain spaces or control characters");
    }
    spec.prefix = rewrite.prefix();
  }
  if (!rewrite.host().empty()) {
    CheckHostHeader(rewrite.host(), path + ".host", errors);
    spec.host = rewrite.host();
  }
  if (rewrite.host_from_endpoint()) {
    if (!rewrite.host().empty()) {
      errors->Add(path + ".host_from_endpoint", "rewrite.host and host_from_endpoint are exclusive");
    }
    spec.host_from_endpoint = true;
  }
  spec.query = translate_internal::TranslateQueryMode(rewrite.query(), path + ".query", errors);
  return spec;
}

RouteSpec TranslateRoute(const v1::Route& route, const std::string& path,
                         const ClusterIndex& clusters, Errors* errors) {
  RouteSpec spec;
  spec.name = route.name();
  CheckName(route.name(), path + ".name", errors);
  spec.match = TranslateMatch(route.match(), path + ".match", errors);
  spec.rewrite = TranslateRewrite(route, path + ".rewrite", errors);
  switch (route.action_case()) {
    case v1::Route::kCluster:
      CheckClusterRef(route.cluster(), path + ".cluster", clusters, errors);
      spec.action = ClusterAction{{BackendSpec{route.cluster(), 1}}};
      break;
    case v1::Route::kRedirect: {
      const v1::Redirect& redirect = route.redirect();
      RedirectSpec out;
      out.location = redirect.location();
      if (out.location.empty()) {
        errors->Add(path + ".redirect.location", "location is required");
      } else if (HasCrLf(out.location)) {
        errors->Add(path + ".redirect.location", "location must not contain CR or LF");
      }
      int status = static_cast<int>(redirect.status());
      if (redirect.status() == 0) {
        status = 302;
      } else if (status != 301 && status != 302 && status != 303 && status != 307 &&
                 status != 308) {
        errors->Add(
            path + ".redirect.status",
            absl::StrCat("status must be 301, 302, 303, 307 or 308, got ", redirect.status()));
      }
      out.status = status;
      spec.action = std::move(out);
      break;
    }
    case v1::Route::kRespond: {
      RespondSpec out;
      out.body = route.respond().body();
      uint32_t status = route.respond().status();
      if (status == 0) status = 200;
      if (status < 200 || status > 599) {
        errors->Add(path + ".respond.status",
                    absl::StrCat("status must be 200..599, got ", route.respond().status()));
      }
      out.status = static_cast<int>(std::min<uint32_t>(status, 999));
      if ((status == 204 || status == 304) && !out.body.empty()) {
        errors->Add(path + ".respond.body",
                    absl::StrCat("a ", status, " response has no body (RFC 9110 §15)"));
      }
      spec.action = std::move(out);
      break;
    }
    case v1::Route::ACTION_NOT_SET:
      if (route.backends().empty()) {
        errors->Add(path, "one of cluster, backends, redirect, respond is required");
      }
      break;
  }
  if (!route.backends().empty()) {
    ClusterAction split = translate_internal::TranslateBackends(route, path, clusters, errors);
    if (route.action_case() == v1::Route::ACTION_NOT_SET) spec.action = std::move(split);
  }
  spec.timeout = ParseDurationField(route.timeout(), spec.timeout, path + ".timeout", errors);
  spec.retry = translate_internal::TranslateRetry(route, path, errors);
  translate_internal::TranslateHeaderOps(route, path, &spec, errors);
  translate_internal::TranslateUpgrades(route, path, &spec, errors);
  return spec;
}

}  // namespace

ConfigSpec Translate(const config::v1::Config& config, std::vector<FieldError>* out) {
  Errors errors(out);
  ConfigSpec spec;
  ClusterIndex clusters;
  for (int i = 0; i < config.clusters_size(); ++i) {
    std::string path = absl::StrCat("clusters[", i, "]");
    const std::string& name = config.clusters(i).name();
    spec.clusters.push_back(TranslateCluster(config.clusters(i), path, &errors));
    if (name.empty()) continue;
    auto [it, inserted] = clusters.by_name.emplace(name, i);
    if (!inserted) {
      errors.Add(path + ".name", absl::StrCat("duplicate cluster name '", name,
                                              "' (first at clusters[", it->second, "])"));
    } else {
      clusters.names.push_back(name);
    }
  }
  if (config.has_http()) {
    const v1::Http& http = config.http();
    if (http.has_normalize_path()) spec.http.normalize_path = http.normalize_path();
    spec.http.merge_slashes = http.merge_slashes();
    const std::string& escaped = http.path_with_escaped_slashes();
    if (escaped.empty() || escaped == "keep") {
      spec.http.escaped_slashes = EscapedSlashes::kKeep;
    } else if (escaped == "reject") {
      spec.http.escaped_slashes = EscapedSlashes::kReject;
    } else if (escaped == "decode") {
      spec.http.escaped_slashes = EscapedSlashes::kDecode;
    } else {
      errors.Add("http.path_with_escaped_slashes",
                 absl::StrCat("must be keep, reject or decode, got '", escaped, "'"));
    }
  }
  absl::flat_hash_map<std::string, int> routes;
  for (int i = 0; i < config.routes_size(); ++i) {
    std::string path = absl::StrCat("routes[", i, "]");
    const std::string& name = config.routes(i).name();
    spec.routes.push_back(TranslateRoute(config.routes(i), path, clusters, &errors));
    if (name.empty()) continue;
    auto [it, inserted] = routes.emplace(name, i);
    if (!inserted) {
      errors.Add(path + ".name", absl::StrCat("duplicate route name '", name, "' (first at routes[",
                                              it->second, "])"));
    }
  }
  return spec;
}

}  // namespace rwproxy::config
