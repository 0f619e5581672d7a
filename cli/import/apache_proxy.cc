#include "cli/import/apache_proxy.h"

#include <arpa/inet.h>

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "cli/import/apache_lexer.h"
#include "cli/import/apache_regex.h"

namespace rwproxy::cli::apache {
namespace {

using Kind = VerdictKind;

bool ValidHost(const std::string& host) {
  if (host.empty()) return false;
  if (host.front() == '[') {
    in6_addr addr;
    return host.size() > 2 && host.back() == ']' &&
           inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &addr) == 1;
  }
  for (char c : host) {
    if (!absl::ascii_isalnum(c) && c != '-' && c != '.' && c != '_') return false;
  }
  return true;
}

std::string NameChars(const std::string& text) {
  std::string out;
  for (char c : absl::AsciiStrToLower(text)) {
    out += absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-' ? c : '-';
  }
  return out;
}

}  // namespace

absl::StatusOr<Url> ParseUrl(const std::string& text) {
  if (!PlainText(text)) {
    return absl::InvalidArgumentError("the URL has spaces, control characters or invalid UTF-8");
  }
  const size_t sep = text.find("://");
  if (sep == std::string::npos || sep == 0) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not an absolute URL"));
  }
  Url url;
  url.scheme = absl::AsciiStrToLower(text.substr(0, sep));
  const std::string rest = text.substr(sep + 3);
  const size_t end = rest.find_first_of("/?#");
  const std::string authority = rest.substr(0, end);
  if (end != std::string::npos) url.path = rest.substr(end);
  if (url.path.find_first_of("?#") != std::string::npos) {
    return absl::InvalidArgumentError("a query or fragment in the URL is not converted");
  }
  if (authority.find('@') != std::string::npos) {
    return absl::InvalidArgumentError("credentials in the URL are not converted");
  }
  size_t colon = authority.rfind(':');
  if (colon != std::string::npos && authority.find(']') != std::string::npos &&
      colon < authority.find(']')) {
    colon = std::string::npos;
  }
  url.host = authority.substr(0, colon);
  if (colon != std::string::npos) {
    const std::string port = authority.substr(colon + 1);
    if (!absl::SimpleAtoi(port, &url.port) || url.port < 1 || url.port > 65535) {
      return absl::InvalidArgumentError(absl::StrCat("invalid port '", port, "' in ", text));
    }
  }
  if (url.host.empty()) return absl::InvalidArgumentError(absl::StrCat("no host in ", text));
  return url;
}

absl::StatusOr<ProxyTarget> ClusterSet::Target(const std::string& text) {
  auto url = ParseUrl(text);
  if (!url.ok()) return url.status();
  if (url->scheme == "balancer") return BalancerTarget(*url);
  if (url->scheme == "https" || url->scheme == "wss") {
    return absl::InvalidArgumentError(
        absl::StrCat(url->scheme, ":// backends need TLS, which is not converted yet (#13)"));
  }
  if (url->scheme != "http") {
    return absl::InvalidArgumentError(absl::StrCat(url->scheme, ":// backends are not converted"));
  }
  if (!ValidHost(url->host)) {
    return absl::InvalidArgumentError(absl::StrCat("invalid backend host '", url->host, "'"));
  }
  const int port = url->port == 0 ? 80 : url->port;
  const std::string endpoint = absl::StrCat(url->host, ":", port);
  const std::string key = absl::AsciiStrToLower(endpoint);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) {
    std::string name = absl::StrCat(NameChars(url->host), "_", port);
    while (Find(name) != nullptr) name += "-2";
    config::v1::Cluster& cluster = clusters_.emplace_back();
    cluster.set_name(name);
    cluster.add_endpoints(endpoint);
    it = by_key_.emplace(key, name).first;
  }
  ProxyTarget target;
  target.cluster = it->second;
  target.path = url->path;
  target.host_header = port == 80 ? url->host : endpoint;
  return target;
}

absl::StatusOr<ProxyTarget> ClusterSet::BalancerTarget(const Url& url) {
  const std::string key = absl::AsciiStrToLower(url.host);
  auto cached = balancer_targets_.find(key);
  if (cached == balancer_targets_.end()) {
    auto found = model_->balancers.find(key);
    if (found == model_->balancers.end() || found->second.members.empty()) {
      return absl::InvalidArgumentError(
          absl::StrCat("no BalancerMember for balancer://", url.host));
    }
    const Balancer& balancer = found->second;
    std::string name = NameChars(balancer.name);
    while (Find(name) != nullptr) name += "-2";
    config::v1::Cluster cluster;
    cluster.set_name(name);
    ProxyTarget target;
    target.cluster = name;
    if (absl::Status s = Members(balancer, &cluster, &target); !s.ok()) return s;
    clusters_.push_back(std::move(cluster));
    by_key_.emplace("balancer://" + key, name);
    BalancerSettings(balancer, name);
    for (const BalancerMember& member : balancer.members) {
      std::string timeout;
      ApplyKeys(name, member.keys, member.verdict, &timeout);
      if (!timeout.empty()) target.timeout = timeout;
    }
    if (balancer.verdict >= 0) {
      report_->Set(balancer.verdict, Kind::kConverted, absl::StrCat("cluster ", name));
    }
    cached = balancer_targets_.emplace(key, target).first;
  }
  ProxyTarget target = cached->second;
  target.path += url.path;
  return target;
}

absl::Status ClusterSet::Members(const Balancer& balancer, config::v1::Cluster* cluster,
                                 ProxyTarget* target) {
  std::vector<std::string> seen;
  for (const BalancerMember& member : balancer.members) {
    auto m = ParseUrl(member.url);
    if (m.ok() && m->scheme != "http") m = absl::InvalidArgumentError("members must be http://");
    if (m.ok() && !ValidHost(m->host)) m = absl::InvalidArgumentError("invalid member host");
    if (m.ok() && !seen.empty() && m->path != target->path) {
      m = absl::InvalidArgumentError("members with different paths are not converted");
    }
    if (!m.ok()) {
      report_->Set(member.verdict, Kind::kRefused, std::string(m.status().message()));
      return absl::InvalidArgumentError(
          absl::StrCat("balancer://", balancer.name, ": ", m.status().message()));
    }
    const int port = m->port == 0 ? 80 : m->port;
    const std::string endpoint = absl::StrCat(m->host, ":", port);
    const std::string host = port == 80 ? m->host : endpoint;
    if (std::find(seen.begin(), seen.end(), absl::AsciiStrToLower(endpoint)) != seen.end()) {
      report_->Set(member.verdict, Kind::kRefused, "the same member twice");
      continue;
    }
    if (seen.empty()) target->host_header = host;
    seen.push_back(absl::AsciiStrToLower(endpoint));
    target->host_inexact |= host != target->host_header;
    target->path = m->path;
    cluster->add_endpoints(endpoint);
    report_->Set(member.verdict, Kind::kConverted,
                 absl::StrCat("an endpoint of cluster ", cluster->name()));
  }
  return absl::OkStatus();
}

void ClusterSet::BalancerSettings(const Balancer& balancer, const std::string& name) {
  for (const auto& [node, verdict] : balancer.settings) {
    auto args = SplitArgs(node->args);
    if (!args.ok()) continue;
    for (const std::string& kv : *args) {
      if (absl::StartsWithIgnoreCase(kv, "balancer://")) continue;
      const size_t eq = kv.find('=');
      const std::string k = absl::AsciiStrToLower(kv.substr(0, eq));
      const std::string v = eq == std::string::npos ? "" : kv.substr(eq + 1);
      if (k == "lbmethod") {
        const std::string method = absl::AsciiStrToLower(v);
        const bool exact = method == "byrequests" || method == "bybusyness";
        Find(name)->set_lb_policy(method == "bybusyness" ? "least_request" : "round_robin");
        report_->Set(verdict, exact ? Kind::kConverted : Kind::kApproximated,
                     exact ? absl::StrCat("lb_policy ", Find(name)->lb_policy())
                           : absl::StrCat("lbmethod=", v, " -> round_robin"));
      } else if (k == "growth" || k == "nofailover") {
        report_->Set(verdict, Kind::kConverted, absl::StrCat(k, ": no effect in rwproxy"));
      } else {
        report_->Set(verdict, Kind::kRefused,
                     absl::StrCat("balancer option ", k, " is not converted"));
      }
    }
  }
}

config::v1::Cluster* ClusterSet::Find(const std::string& name) {
  for (config::v1::Cluster& cluster : clusters_) {
    if (cluster.name() == name) return &cluster;
  }
  return nullptr;
}

bool ClusterSet::Claim(const std::string& cluster, const std::string& key, const std::string& value,
                       int verdict) {
  auto [it, inserted] = claims_.emplace(cluster + "|" + key, std::make_pair(value, verdict));
  if (inserted || it->second.first == value) return true;
  const Verdict& first = report_->verdict(it->second.second);
  report_->Set(verdict, Kind::kApproximated,
               absl::StrCat(key, "=", value, " not applied: cluster ", cluster, " has ", key, "=",
                            it->second.first, " from ", first.file, ":", first.line));
  return false;
}

void ClusterSet::ApplyKeys(const std::string& name, const std::vector<std::string>& keys,
                           int verdict, std::string* route_timeout) {
  for (const std::string& kv : keys) {
    const size_t eq = kv.find('=');
    if (eq == std::string::npos) {
      report_->Set(verdict, Kind::kRefused, absl::StrCat("option ", kv, " is not converted"));
      continue;
    }
    const std::string key = absl::AsciiStrToLower(kv.substr(0, eq));
    const std::string value = kv.substr(eq + 1);
    const std::string lower = absl::AsciiStrToLower(value);
    const std::optional<std::string> duration = ApacheDuration(value);
    config::v1::Cluster* cluster = Find(name);
    uint32_t number = 0;
    if (key == "max" && absl::SimpleAtoi(value, &number) && number > 0) {
      if (Claim(name, key, value, verdict)) cluster->mutable_pool()->set_max_connections(number);
      report_->Set(verdict, Kind::kApproximated,
                   "max: Apache's is per child process, rwproxy's max_connections proxy-wide");
    } else if ((key == "ttl" || key == "connectiontimeout" || key == "timeout") && duration) {
      if (key == "timeout") {
        *route_timeout = *duration;
      } else if (Claim(name, key, value, verdict)) {
        if (key == "ttl") cluster->mutable_pool()->set_idle_timeout(*duration);
        if (key == "connectiontimeout") cluster->set_connect_timeout(*duration);
      }
      report_->Set(verdict, Kind::kConverted);
    } else if (key == "retry" && (duration || value == "0")) {
      if (duration && Claim(name, key, value, verdict)) {
        cluster->mutable_outlier_detection()->set_base_ejection_time(*duration);
      }
      report_->Set(verdict, Kind::kApproximated,
                   "retry: rwproxy ejects an endpoint after consecutive failures (outlier "
                   "detection) for base_ejection_time, doubling; Apache after one failure");
    } else if ((key == "keepalive" || key == "disablereuse" || key == "enablereuse" ||
                key == "loadfactor") &&
               (lower == "on" || lower == "off" || key == "loadfactor")) {
      const bool no_effect =
          (key == "keepalive" && lower == "off") || (key == "disablereuse" && lower == "off") ||
          (key == "enablereuse" && lower == "on") || (key == "loadfactor" && value == "1");
      const char* why = key == "keepalive"    ? "rwproxy sends no TCP keep-alive probes"
                        : key == "loadfactor" ? "rwproxy's endpoints have equal weights"
                                              : "rwproxy always reuses upstream connections";
      report_->Set(verdict, no_effect ? Kind::kConverted : Kind::kApproximated,
                   no_effect ? "" : absl::StrCat(key, ": ", why));
    } else {
      const bool known = key == "max" || key == "ttl" || key == "timeout" ||
                         key == "connectiontimeout" || key == "retry";
      report_->Set(verdict, Kind::kRefused,
                   known ? absl::StrCat("invalid ", key, "=", value)
                         : absl::StrCat("worker option ", key, " is not converted"));
    }
  }
}

absl::StatusOr<std::vector<std::string>> ClusterSet::ReverseFroms(const std::string& text) {
  auto url = ParseUrl(text);
  if (!url.ok()) return url.status();
  if (url->scheme == "http") return std::vector<std::string>{text};
  if (url->scheme != "balancer") {
    return absl::InvalidArgumentError(absl::StrCat(url->scheme, ":// is not converted"));
  }
  auto found = model_->balancers.find(absl::AsciiStrToLower(url->host));
  if (found == model_->balancers.end() || found->second.members.empty()) {
    return absl::InvalidArgumentError(absl::StrCat("no BalancerMember for balancer://", url->host));
  }
  std::vector<std::string> out;
  for (const BalancerMember& member : found->second.members) {
    std::string base = member.url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    out.push_back(base + url->path);
  }
  return out;
}

std::string BoundaryRegex(const std::string& path) {  // callers check it with Re2Ok
  std::string out = "^" + QuoteRegex(path);
  if (path.empty() || path.back() != '/') out += "(?:/|$)";
  return out;
}

Template ParsePregsub(const std::string& text) {
  Template out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && absl::ascii_isdigit(text[i + 1])) {
      out.push_back({Piece::Kind::kPathGroup, "", text[i + 1] - '0'});
      ++i;
    } else if (text[i] == '\\' && i + 1 < text.size()) {
      AppendLiteral(&out, std::string(1, text[++i]));
    } else {
      AppendLiteral(&out, std::string(1, text[i]));
    }
  }
  return out;
}

std::string LiteralPrefix(const std::string& pcre) {
  if (pcre.empty() || pcre[0] != '^' || pcre.find('|') != std::string::npos) return "";
  std::string out;
  for (size_t i = 1; i < pcre.size(); ++i) {
    const char c = pcre[i];
    if (absl::string_view("*+?{").find(c) != absl::string_view::npos) {
      if (!out.empty()) out.pop_back();  // the quantified character is optional
      break;
    }
    if (absl::string_view("^$.()[]\\").find(c) != absl::string_view::npos) break;
    out += c;
  }
  return out;
}

}  // namespace rwproxy::cli::apache
