// The server and <VirtualHost> context directives of CollectModel (apache_collect.h).
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/import/apache_collect.h"
#include "cli/import/apache_lexer.h"

namespace rwproxy::cli::apache {
namespace collect_internal {

using Kind = VerdictKind;

// Server and <VirtualHost> context. False: not one of ours (Generic decides).
bool Collector::ServerDirective(const Node& node, const Ctx& ctx) {
  const std::string key = node.Key();
  Scope& scope = *ctx.scope;
  if (key == "rewriteengine") {
    auto on = OnOff(node);
    if (on) scope.rewrite_engine = *on;
    report_->Add(node, on ? Kind::kConverted : Kind::kRefused, on ? "" : "takes On or Off");
  } else if (key == "rewritecond") {
    scope.pending_conds.push_back(&node);
    scope.pending_cond_verdicts.push_back(report_->Add(node, Kind::kIgnored));
  } else if (key == "rewriterule") {
    RuleItem rule{&node, report_->Add(node, Kind::kIgnored), std::move(scope.pending_conds),
                  std::move(scope.pending_cond_verdicts)};
    scope.pending_conds.clear();
    scope.pending_cond_verdicts.clear();
    scope.rules.push_back(std::move(rule));
  } else if (key == "proxypass" || key == "proxypassmatch") {
    auto args = SplitArgs(node.args);
    if (!args.ok() || args->size() < 2) {
      report_->Add(node, Kind::kRefused, "takes a path and a URL");
      return true;
    }
    ProxyItem item{&node,
                   report_->Add(node, Kind::kIgnored),
                   key == "proxypassmatch",
                   (*args)[0],
                   std::vector<std::string>(args->begin() + 1, args->end()),
                   -1};
    scope.proxies.push_back(std::move(item));
  } else if (key == "proxypassreverse") {
    auto args = SplitArgs(node.args);
    if (!args.ok() || args->size() != 2) {
      report_->Add(node, Kind::kRefused, "takes a path and a URL (options are not converted)");
      return true;
    }
    scope.reverse.push_back({&node, report_->Add(node, Kind::kIgnored), (*args)[0], (*args)[1]});
  } else if (key == "redirect" || key == "redirectmatch" || key == "redirectpermanent" ||
             key == "redirecttemp") {
    scope.redirects.push_back({&node, report_->Add(node, Kind::kIgnored)});
  } else if (key == "header" || key == "requestheader") {
    scope.headers.push_back({&node, report_->Add(node, Kind::kIgnored), key == "requestheader"});
  } else if (key == "balancermember" || key == "proxyset") {
    auto args = SplitArgs(node.args);
    if (!args.ok() || args->empty() || !absl::StartsWithIgnoreCase((*args)[0], "balancer://")) {
      report_->Add(node, Kind::kRefused, "outside <Proxy>, only for a balancer:// URL");
      return true;
    }
    Balancer& b = BalancerNamed((*args)[0].substr(strlen("balancer://")));
    if (key == "balancermember") {
      AddMember(node, &b, 1);
    } else {
      b.settings.emplace_back(&node, report_->Add(node, Kind::kIgnored));
    }
  } else {
    return ServerSetting(node, &scope);
  }
  return true;
}

// Scope-wide settings: names, timeouts, ProxyPreserveHost and the like.
bool Collector::ServerSetting(const Node& node, Scope* scope) {
  const std::string key = node.Key();
  auto args = SplitArgs(node.args);
  const bool one = args.ok() && args->size() == 1;
  if (key == "servername" || key == "serveralias") {
    ServerNames(node, scope);
  } else if (key == "proxypreservehost" || key == "proxypassinherit" || key == "proxyaddheaders") {
    auto on = OnOff(node);
    const int id =
        report_->Add(node, on ? Kind::kConverted : Kind::kRefused, on ? "" : "takes On or Off");
    if (!on) return true;
    if (key == "proxypreservehost") scope->preserve_host = *on;
    if (key == "proxypassinherit") scope->proxy_inherit = *on;
    if (key == "proxyaddheaders") {
      scope->add_headers = *on;
      scope->add_headers_verdicts.push_back(id);
    }
  } else if (key == "proxytimeout" || key == "timeout") {
    auto duration = one ? ApacheDuration((*args)[0]) : std::nullopt;
    if (!duration) {
      report_->Add(node, Kind::kRefused, "takes a positive number of seconds");
    } else {
      (key == "timeout" ? scope->timeout : scope->proxy_timeout) = *duration;
      report_->Add(node, Kind::kConverted, "the timeout of the proxied routes");
    }
  } else if (key == "proxyrequests" || key == "proxyvia" || key == "proxyerroroverride") {
    auto on = OnOff(node);
    if (on == false) {
      report_->Add(node, Kind::kIgnored, "Off, as rwproxy");
    } else {
      report_->Add(node, Kind::kRefused,
                   key == "proxyrequests" ? "forward proxying is not converted"
                   : key == "proxyvia"    ? "Via headers are not added"
                                          : "Apache's own error pages are not converted");
    }
  } else if (key == "alias" || key == "aliasmatch") {
    report_->Add(node, Kind::kApproximated,
                 "maps URLs to files; rwproxy serves no files: those requests get 404");
  } else {
    return false;
  }
  return true;
}

void Collector::ServerNames(const Node& node, Scope* scope) {
  auto args = SplitArgs(node.args);
  const bool name = node.Key() == "servername";
  if (!args.ok() || args->empty() || (name && args->size() != 1)) {
    report_->Add(node, Kind::kRefused, "takes a host name");
    return;
  }
  if (scope == &model_->main) {
    if (name && HostPattern(HostName((*args)[0]))) scope->server_name = HostName((*args)[0]);
    report_->Add(node, Kind::kIgnored,
                 name ? "the main server answers any Host" : "only used in <VirtualHost>");
    return;
  }
  std::vector<std::string> dropped;
  for (const std::string& arg : *args) {
    std::string host = HostName(arg);
    if (!HostPattern(host)) {
      dropped.push_back(arg);
      continue;
    }
    if (name) scope->server_name = host;
    if (std::find(scope->hosts.begin(), scope->hosts.end(), host) == scope->hosts.end()) {
      if (name) {
        scope->hosts.insert(scope->hosts.begin(), host);
      } else {
        scope->hosts.push_back(host);
      }
    }
  }
  if (dropped.empty()) {
    report_->Add(node, Kind::kConverted);
  } else {
    report_->Add(node, Kind::kApproximated,
                 absl::StrCat("dropped ", absl::StrJoin(dropped, ", "),
                              ": rwproxy hosts are exact names or *.suffix"));
  }
}

}  // namespace collect_internal
}  // namespace rwproxy::cli::apache
