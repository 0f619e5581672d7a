#include "cli/routes_table.h"

#include <map>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "cli/clusters_table.h"
#include "cli/output.h"
#include "cli/table.h"
#include "config/config_yaml.h"

namespace rwproxy::cli {
namespace {

namespace c1 = ::rwproxy::config::v1;

constexpr char kDefaultTimeout[] = "15s";  // config.proto: Route.timeout

std::string OrDash(std::string text) { return text.empty() ? "-" : Printable(text); }

std::string PathCell(const c1::Match& match) {
  switch (match.path_case()) {
    case c1::Match::kPathPrefix:
      return "prefix " + match.path_prefix();
    case c1::Match::kPathExact:
      return "exact " + match.path_exact();
    case c1::Match::kPathRegex:
      return "regex " + match.path_regex();
    default:
      return "any";
  }
}

// The path match; "(i)" when it ignores case.
std::string MatchCell(const c1::Match& match) {
  return match.case_insensitive() ? PathCell(match) + " (i)" : PathCell(match);
}

// One header condition: "x-a=1", "x-a!=1" (inverted), "user-agent~Mobile", "user-agent!~Mobile",
// "x-debug" (present), "!x-debug" (absent).
std::string HeaderCell(const c1::HeaderMatch& header) {
  const std::string negate = header.invert() ? "!" : "";
  switch (header.value_case()) {
    case c1::HeaderMatch::kExact:
      return absl::StrCat(header.name(), negate, "=", header.exact());
    case c1::HeaderMatch::kRegex:
      return absl::StrCat(header.name(), negate, "~", header.regex());
    case c1::HeaderMatch::kPresent:
      return absl::StrCat(header.present() != header.invert() ? "" : "!", header.name());
    default:
      return header.name();
  }
}

// Methods, hosts, header conditions (the map form, then the list) and the query condition.
std::string ConditionsCell(const c1::Match& match) {
  std::vector<std::string> parts;
  if (!match.methods().empty()) parts.push_back(absl::StrJoin(match.methods(), ","));
  if (!match.hosts().empty()) parts.push_back("host=" + absl::StrJoin(match.hosts(), ","));
  std::map<std::string, std::string> headers(match.legacy_headers().begin(),
                                             match.legacy_headers().end());
  for (const auto& [name, value] : headers) parts.push_back(absl::StrCat(name, "=", value));
  for (const c1::HeaderMatch& header : match.headers()) parts.push_back(HeaderCell(header));
  if (match.has_query()) {
    parts.push_back(
        absl::StrCat("query", match.query().invert() ? "!~" : "~", match.query().regex()));
  }
  return absl::StrJoin(parts, " ");
}

std::string RewriteCell(const c1::Rewrite& rewrite) {
  std::vector<std::string> parts;
  if (!rewrite.path().empty()) parts.push_back("path=" + rewrite.path());
  if (!rewrite.prefix().empty()) parts.push_back("prefix=" + rewrite.prefix());
  if (!rewrite.host().empty()) parts.push_back("host=" + rewrite.host());
  if (!rewrite.query().empty()) parts.push_back("query=" + rewrite.query());
  return absl::StrJoin(parts, " ");
}

std::string SplitCell(const c1::Route& route) {
  uint64_t total = 0;
  for (const auto& backend : route.backends()) {
    total += backend.has_weight() ? backend.weight() : 1;
  }
  std::vector<std::string> parts;
  for (const auto& backend : route.backends()) {
    const uint32_t weight = backend.has_weight() ? backend.weight() : 1;
    parts.push_back(absl::StrCat(
        backend.cluster(), " ",
        FormatPercent(total == 0 ? 0.0
                                 : static_cast<double>(weight) / static_cast<double>(total))));
  }
  return "split " + absl::StrJoin(parts, ", ");
}

// " (upgrades: websocket, idle 2h)": the protocols a forwarding route tunnels, and the idle
// timeout when written; "" for none.
std::string UpgradesSuffix(const c1::Route& route) {
  if (route.upgrades().empty()) return "";
  std::string text = " (upgrades: " + absl::StrJoin(route.upgrades(), ",");
  if (!route.upgrade_idle_timeout().empty()) {
    absl::StrAppend(&text, ", idle ", route.upgrade_idle_timeout());
  }
  return text + ")";
}

std::string ForwardCell(const c1::Route& route) {
  switch (route.action_case()) {
    case c1::Route::kCluster:
      return "cluster " + route.cluster();
    case c1::Route::kRedirect: {
      const uint32_t status = route.redirect().status() == 0 ? 302 : route.redirect().status();
      return absl::StrCat("redirect ", status, " ", route.redirect().location());
    }
    case c1::Route::kRespond:
      return absl::StrCat("respond ", route.respond().status());
    default:
      return route.backends().empty() ? "" : SplitCell(route);
  }
}

std::string ActionCell(const c1::Route& route) {
  return ForwardCell(route) + UpgradesSuffix(route);
}

bool Forwards(const c1::Route& route) {
  return route.action_case() == c1::Route::kCluster || !route.backends().empty();
}

std::string RetryCell(const c1::Route& route) {
  if (!route.has_retry()) return "";
  const c1::RetryPolicy& retry = route.retry();
  std::vector<std::string> parts;
  if (!retry.on().empty()) parts.push_back("on=" + absl::StrJoin(retry.on(), ","));
  parts.push_back(absl::StrCat("max=", retry.has_max() ? retry.max() : 1));
  if (!retry.per_try_timeout().empty()) parts.push_back("per_try=" + retry.per_try_timeout());
  if (!retry.status_codes().empty()) {
    parts.push_back("codes=" + absl::StrJoin(retry.status_codes(), ","));
  }
  if (retry.has_backoff()) {
    std::string base = retry.backoff().base().empty() ? "25ms" : retry.backoff().base();
    std::string max = retry.backoff().max().empty() ? "250ms" : retry.backoff().max();
    parts.push_back(absl::StrCat("backoff=", base, "..", max));
  }
  if (retry.non_idempotent()) parts.push_back("non_idempotent");
  return absl::StrJoin(parts, " ");
}

// Each line of `text` indented by `indent` spaces.
std::string Indented(const std::string& text, int indent) {
  std::vector<std::string> lines = absl::StrSplit(text, '\n');
  std::string pad(indent, ' ');
  for (auto& line : lines) line = pad + line;
  return absl::StrJoin(lines, "\n");
}

}  // namespace

std::vector<std::string> RouteCells(const c1::Route& route) {
  std::string timeout = route.timeout();
  if (timeout.empty()) timeout = Forwards(route) ? kDefaultTimeout : "";
  return {OrDash(route.name()),
          OrDash(MatchCell(route.match())),
          OrDash(ConditionsCell(route.match())),
          OrDash(RewriteCell(route.rewrite())),
          OrDash(ActionCell(route)),
          OrDash(timeout),
          OrDash(RetryCell(route))};
}

std::string RoutesTable(const c1::Config& config) {
  std::vector<TableRow> rows;
  rows.push_back(
      {{"NAME", "MATCH", "METHODS/HEADERS", "REWRITE", "ACTION", "TIMEOUT", "RETRY"}, ""});
  for (const c1::Route& route : config.routes()) rows.push_back({RouteCells(route), ""});
  return RenderTable(rows);
}

std::string RoutesJson(const ::rwproxy::control::v1::GetConfigResponse& response) {
  std::vector<std::string> routes;
  for (const c1::Route& route : response.config().routes()) {
    routes.push_back(Indented(ToJson(route), 4));
  }
  return absl::StrCat("{\n  \"version\": ", response.version(),
                      ",\n  \"content_hash\": ", JsonQuote(response.content_hash()),
                      ",\n  \"routes\": [", routes.empty() ? "" : "\n",
                      absl::StrJoin(routes, ",\n"), routes.empty() ? "]" : "\n  ]", "\n}\n");
}

std::string RoutesYaml(const ::rwproxy::control::v1::GetConfigResponse& response) {
  c1::Config routes_only;
  *routes_only.mutable_routes() = response.config().routes();
  std::string header = absl::StrCat("# routes of rwproxy config version ", response.version(),
                                    " (content_hash ", response.content_hash(), ")\n");
  if (routes_only.routes().empty()) return header + "routes: []\n";
  return header + yaml::ToYaml(routes_only);
}

}  // namespace rwproxy::cli
