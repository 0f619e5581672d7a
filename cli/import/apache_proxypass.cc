// PlanProxyPass and PlanReverse (apache_proxy.h).
#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "cli/import/apache_proxy.h"
#include "cli/import/apache_regex.h"

namespace rwproxy::cli::apache {
namespace {

using Kind = VerdictKind;

// Prefix semantics of ProxyPass (mod_proxy's alias_match): PATH matches itself and PATH/...;
// a PATH ending in '/' matches everything under it. The rest of the path follows the URL's.
bool PlanPrefix(const ProxyItem& item, const ProxyTarget& target, PlannedRoute* route,
                std::string* why) {
  const std::string& path = item.path;
  route->literal_prefix = path;
  if (path.back() == '/') {
    if (target.path.empty()) {
      *why = absl::StrCat(
          "the path ends in '/' but the URL has none: Apache would append the rest "
          "to the host name (write ",
          item.args[0], "/)");
      return false;
    }
    route->match.set_path_prefix(path);
    if (target.path != path) route->prefix = target.path;
    return true;
  }
  Template t;
  if (target.path.empty()) {  // "/app" -> "/", "/app/x" -> "/x"
    route->match.set_path_regex(absl::StrCat("^", QuoteRegex(path), "(?:/(.*))?$"));
    AppendLiteral(&t, "/");
  } else {
    route->match.set_path_regex(absl::StrCat("^", QuoteRegex(path), "(/.*)?$"));
    AppendLiteral(&t, target.path);
  }
  t.push_back({Piece::Kind::kPathGroup, "", 1});
  route->path = t;
  return true;
}

// ProxyPassMatch: the URL's $N, or (no $N at all) the URL followed by the whole path.
bool PlanRegex(const Re2Pattern& re, const ProxyTarget& target, const std::string& tail,
               PlannedRoute* route, std::string* why) {
  Template t = ParsePregsub(target.path + tail);
  const int max = MaxGroup(t, Piece::Kind::kPathGroup);
  const bool refs = std::any_of(t.begin(), t.end(),
                                [](const Piece& p) { return p.kind == Piece::Kind::kPathGroup; });
  std::string regex = re.pattern.empty() ? "^" : re.pattern;
  if (!refs) {
    regex = absl::StrCat("^(?s:.*?)(?:", regex, ")(?s:.*)$");  // $0 = the whole path
    if (auto check = PcreToRe2(regex); !check.ok())
      return *why = std::string(check.status().message()), false;
    t.push_back({Piece::Kind::kPathGroup, "", 0});
  } else if (max > re.groups) {
    *why = absl::StrCat("$", max, " but the regex has ", re.groups, " groups");
    return false;
  }
  if (t.empty() || (t[0].kind == Piece::Kind::kLiteral && t[0].text[0] != '/')) {
    Template slash;
    AppendLiteral(&slash, "/");
    t.insert(t.begin(), slash.begin(), slash.end());
  }
  route->match.set_path_regex(regex);
  route->path = t;
  return true;
}

// PATH !: the later ProxyPass routes skip these paths.
ProxyPlan Exclusion(const ProxyItem& item, const std::optional<Re2Pattern>& re, Report* report) {
  ProxyPlan plan;
  const std::string regex =
      item.regex ? (re->pattern.empty() ? "^" : re->pattern) : BoundaryRegex(item.path);
  if (!Re2Ok(regex)) {
    report->Set(item.verdict, Kind::kRefused,
                "the path makes a regex rwproxy refuses (too large?)");
    return plan;
  }
  config::v1::HeaderMatch skip;
  skip.set_name(":path");
  skip.set_regex(regex);
  plan.exclusion = skip;
  report->Set(item.verdict, Kind::kApproximated,
              "the later ProxyPass routes skip these paths; Apache then serves them from "
              "DocumentRoot, rwproxy serves no files: 404 unless a Redirect takes them");
  return plan;
}

// The words after the URL: flags into `route`, key=value worker options into *keys. False when
// one is refused.
bool Options(const ProxyItem& item, PlannedRoute* route, std::vector<std::string>* keys,
             Report* report) {
  for (size_t i = 1; i < item.args.size(); ++i) {
    const std::string option = absl::AsciiStrToLower(item.args[i]);
    if (option == "nocanon") {
      report->Set(item.verdict, Kind::kApproximated,
                  "nocanon: rwproxy forwards the normalized path");
    } else if (option == "noquery") {
      route->query = "discard";
    } else if (option == "interpolate") {
      report->Set(item.verdict, Kind::kRefused,
                  "interpolate (environment variables) is not converted");
      return false;
    } else {
      keys->push_back(item.args[i]);
    }
  }
  return true;
}

// "http://backend$1/x": the authority ends where the substitution starts; *tail gets "$1/x".
void SplitAtSubstitution(std::string* url, std::string* tail) {
  const size_t scheme = url->find("://");
  const size_t authority = scheme == std::string::npos ? 0 : scheme + 3;
  const size_t dollar = url->find('$', authority), slash = url->find('/', authority);
  if (dollar != std::string::npos && (slash == std::string::npos || dollar < slash)) {
    *tail = url->substr(dollar);
    url->resize(dollar);
  }
}

}  // namespace

ProxyPlan PlanProxyPass(const ProxyItem& item, const std::string& name, ClusterSet* clusters,
                        Report* report) {
  ProxyPlan plan;
  const int v = item.verdict;
  std::optional<Re2Pattern> re;
  if (item.regex) {
    auto converted = PcreToRe2(item.path);
    if (!converted.ok()) {
      report->Set(v, Kind::kRefused, absl::StrCat("regex: ", converted.status().message()));
      return plan;
    }
    re = *converted;
  } else if (item.path.empty() || item.path[0] != '/' || !PlainText(item.path)) {
    report->Set(v, Kind::kRefused,
                "the path must start with '/' and have no spaces or control characters");
    return plan;
  }
  if (item.args[0] == "!") return Exclusion(item, re, report);
  PlannedRoute route;
  route.name = name;
  route.verdicts = {v};
  route.action = PlannedRoute::Action::kProxy;
  std::vector<std::string> keys;
  if (!Options(item, &route, &keys, report)) return plan;
  std::string url = item.args[0], tail;
  if (item.regex) SplitAtSubstitution(&url, &tail);
  auto target = clusters->Target(url);
  if (!target.ok()) {
    report->Set(v, Kind::kRefused, std::string(target.status().message()));
    return plan;
  }
  route.cluster = target->cluster;
  route.backend_host = target->host_header;
  route.host_inexact = target->host_inexact;
  route.timeout = target->timeout;
  clusters->ApplyKeys(target->cluster, keys, v, &route.timeout);
  std::string why;
  const bool ok = item.regex ? PlanRegex(*re, *target, tail, &route, &why)
                             : PlanPrefix(item, *target, &route, &why);
  if (ok && route.match.has_path_regex() && !Re2Ok(route.match.path_regex())) {
    why = "the path makes a regex rwproxy refuses (too large?)";
  } else if (ok && !route.prefix.empty() && !PlainText(route.prefix)) {
    why = "the URL path has spaces or control characters";
  }
  if (!ok || !why.empty()) {
    report->Set(v, Kind::kRefused, why);
    return plan;
  }
  if (item.regex) route.literal_prefix = LiteralPrefix(item.path);
  report->Set(v, Kind::kConverted);
  plan.routes.push_back(std::move(route));
  return plan;
}

std::vector<config::v1::LocationRewrite> PlanReverse(const ReverseItem& item, ClusterSet* clusters,
                                                     Report* report) {
  std::vector<config::v1::LocationRewrite> out;
  auto froms = clusters->ReverseFroms(item.url);
  if (!froms.ok()) {
    report->Set(item.verdict, Kind::kRefused, std::string(froms.status().message()));
    return out;
  }
  if (item.path.empty() || item.path[0] != '/' || !PlainText(item.path)) {
    report->Set(item.verdict, Kind::kRefused, "the path must start with '/' and have no spaces");
    return out;
  }
  for (const std::string& from : *froms) {
    config::v1::LocationRewrite rewrite;
    rewrite.set_from(from);
    rewrite.set_to(item.path);
    out.push_back(std::move(rewrite));
  }
  report->Set(item.verdict, Kind::kApproximated,
              absl::StrCat("rwproxy writes the path ", item.path,
                           "...; Apache an absolute URL on the request's host, and it compares "
                           "the prefix case-insensitively"));
  return out;
}

}  // namespace rwproxy::cli::apache
