// CollectModel: the walk over the directive tree (see apache_model.h). The server-context
// directives are in apache_collect_server.cc.
#include "cli/import/apache_collect.h"

#include <algorithm>
#include <cstring>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/import/apache_lexer.h"
#include "cli/import/apache_model.h"
#include "cli/import/apache_tables.h"

namespace rwproxy::cli::apache {
namespace collect_internal {

using Kind = VerdictKind;

// A <VirtualHost> address's port: "*:80" -> 80, "[::1]:8080" -> 8080, "*" -> 0 (any).
int AddressPort(const std::string& address) {
  size_t colon = address.rfind(':');
  size_t bracket = address.rfind(']');
  if (colon == std::string::npos || (bracket != std::string::npos && colon < bracket)) return 0;
  int port = 0;
  return absl::SimpleAtoi(address.substr(colon + 1), &port) ? port : 0;
}

std::optional<bool> OnOff(const Node& node) {
  auto args = SplitArgs(node.args);
  if (!args.ok() || args->size() != 1) return std::nullopt;
  if (absl::EqualsIgnoreCase((*args)[0], "on")) return true;
  if (absl::EqualsIgnoreCase((*args)[0], "off")) return false;
  return std::nullopt;
}

void Collector::Walk(const std::vector<Node>& nodes, Ctx ctx) {
  for (const Node& node : nodes) {
    if (ctx.where == Where::kDead) {
      report_->Add(node, Kind::kIgnored, ctx.dead_reason);
      if (!node.children.empty()) Walk(node.children, ctx);
    } else if (node.Key() == "include" || node.Key() == "includeoptional") {
      report_->Add(node, Kind::kConverted,
                   absl::StrCat("read ", node.included.size(), " file",
                                node.included.size() == 1 ? "" : "s"));
      Walk(node.children, ctx);
    } else if (node.section) {
      Section(node, ctx);
    } else {
      Directive(node, ctx);
    }
  }
}

void Collector::Finish() {
  for (Scope& vhost : model_->vhosts) {
    if (vhost.hosts.empty() && !model_->main.server_name.empty()) {
      vhost.hosts.push_back(model_->main.server_name);  // Apache: the main ServerName
    }
    report_->Set(vhost.verdict, Kind::kConverted,
                 vhost.hosts.empty() ? "no names: only the default for unknown hosts"
                                     : absl::StrCat("hosts: ", absl::StrJoin(vhost.hosts, ", ")));
  }
  for (Scope* scope : AllScopes()) {
    for (int id : scope->pending_cond_verdicts) {
      report_->Set(id, Kind::kIgnored, "no RewriteRule follows it");
    }
  }
}

std::vector<Scope*> Collector::AllScopes() {
  std::vector<Scope*> out = {&model_->main};
  for (Scope& vhost : model_->vhosts) out.push_back(&vhost);
  return out;
}

void Collector::Section(const Node& node, Ctx ctx) {
  const std::string key = node.Key();
  if (absl::StartsWith(key, "if") && key != "if") {
    report_->Add(node, Kind::kIgnored,
                 node.skipped
                     ? absl::StrCat("skipped: ", node.skip_reason)
                     : absl::StrCat("contents read: ",
                                    node.skip_reason.empty() ? "taken as true" : node.skip_reason));
    Walk(node.children, ctx);
  } else if (key == "virtualhost") {
    VirtualHost(node, ctx);
  } else if (key == "location" || key == "locationmatch") {
    Location(node, ctx);
  } else if (key == "directory" || key == "directorymatch" || key == "files" ||
             key == "filesmatch") {
    report_->Add(node, Kind::kIgnored, "a filesystem section: rwproxy serves no files");
    ctx.where = Where::kFiles;
    Walk(node.children, ctx);
  } else if (key == "proxy" || key == "proxymatch") {
    Proxy(node, ctx);
  } else {
    const char* why = key == "if" || key == "elseif" || key == "else"
                          ? "expression sections are not converted"
                          : "this section is not converted";
    Refuse(node, why);
  }
}

// Refuses a section and everything in it.
void Collector::Refuse(const Node& node, const std::string& why) {
  report_->Add(node, Kind::kRefused, why);
  Ctx dead;
  dead.where = Where::kDead;
  dead.dead_reason = absl::StrCat("inside ", node.Text(), " at ", node.Where(), " (refused)");
  Walk(node.children, dead);
}

void Collector::VirtualHost(const Node& node, Ctx ctx) {
  if (ctx.where != Where::kServer || ctx.scope != &model_->main) {
    return Refuse(node, "<VirtualHost> must be at the top level");
  }
  auto addresses = SplitArgs(node.args);
  int port = 0;
  bool ip_based = false;
  if (addresses.ok()) {
    for (const std::string& a : *addresses) {
      port = std::max(port, AddressPort(a));
      ip_based |= !absl::StartsWith(a, "*") && !absl::StartsWith(a, "_default_");
    }
  }
  if (!selected_port_) selected_port_ = port_ != 0 ? port_ : port;
  if (*selected_port_ != 0 && port != 0 && port != *selected_port_) {
    return Refuse(node, absl::StrCat("port ", port,
                                     ": rwproxy serves one listener; converting "
                                     "the vhosts of port ",
                                     *selected_port_, " (see --port)"));
  }
  Scope& vhost = model_->vhosts.emplace_back();
  vhost.node = &node;
  vhost.label = absl::StrCat(node.Text(), " at ", node.Where());
  const int id = report_->Add(node, ip_based ? Kind::kApproximated : Kind::kConverted,
                              ip_based ? "the IP address is ignored: rwproxy selects virtual "
                                         "hosts by name (Host) only"
                                       : "");
  vhost.verdict = id;
  ctx.scope = &vhost;
  Walk(node.children, ctx);
}

void Collector::Location(const Node& node, Ctx ctx) {
  if (ctx.where != Where::kServer) return Refuse(node, "nested <Location> is not allowed");
  auto args = SplitArgs(node.args);
  LocationItem item;
  item.node = &node;
  item.regex = node.Key() == "locationmatch";
  if (!args.ok() || args->empty() || args->size() > 2 || (args->size() == 2 && (*args)[0] != "~")) {
    return Refuse(node, "takes one path or ~ REGEX");
  }
  if (args->size() == 2) item.regex = true;
  item.path = args->back();
  if (!PlainText(item.path) || (!item.regex && item.path[0] != '/')) {
    return Refuse(node, "the path must start with '/' and have no spaces or control characters");
  }
  if (!item.regex && item.path.find_first_of("*?[") != std::string::npos) {
    return Refuse(node, "wildcards in <Location> are not converted (use <LocationMatch>)");
  }
  item.verdict = report_->Add(node, Kind::kConverted);
  ctx.where = Where::kLocation;
  ctx.location = static_cast<int>(ctx.scope->locations.size());
  ctx.scope->locations.push_back(std::move(item));
  Walk(node.children, ctx);
}

void Collector::Proxy(const Node& node, Ctx ctx) {
  auto args = SplitArgs(node.args);
  const bool balancer = node.Key() == "proxy" && args.ok() && args->size() == 1 &&
                        absl::StartsWithIgnoreCase((*args)[0], "balancer://");
  if (!balancer) {
    report_->Add(node, Kind::kIgnored, "access rules for proxied URLs");
    ctx.where = Where::kProxy;
    Walk(node.children, ctx);
    return;
  }
  Balancer& b = BalancerNamed((*args)[0].substr(strlen("balancer://")));
  b.node = &node;
  b.verdict = report_->Add(node, Kind::kConverted);
  ctx.where = Where::kBalancer;
  ctx.balancer = &b;
  Walk(node.children, ctx);
}

Balancer& Collector::BalancerNamed(std::string name) {
  while (!name.empty() && name.back() == '/') name.pop_back();
  Balancer& b = model_->balancers[absl::AsciiStrToLower(name)];
  if (b.name.empty()) b.name = name;
  return b;
}

void Collector::Directive(const Node& node, const Ctx& ctx) {
  const std::string key = node.Key();
  switch (ctx.where) {
    case Where::kFiles:
      if (absl::StartsWith(key, "rewrite")) {
        report_->Add(node, Kind::kRefused,
                     "per-directory rewriting (<Directory>, .htaccess) is not converted");
      } else {
        report_->Add(node, Kind::kIgnored, "applies to files served from disk");
      }
      return;
    case Where::kProxy:
    case Where::kBalancer:
      return ProxySection(node, ctx);
    case Where::kLocation:
      if (LocationDirective(node, ctx)) return;
      break;
    case Where::kServer:
      if (ServerDirective(node, ctx)) return;
      break;
    case Where::kDead:
      return;
  }
  Generic(node);
}

// Directives with no route of their own: ignored, refused by family, or unknown.
void Collector::Generic(const Node& node) {
  const std::string key = node.Key();
  if (key == "sslengine" && OnOff(node) == false) {
    report_->Add(node, Kind::kIgnored, "TLS is off");
  } else if (const char* why = RefusedReason(key)) {
    report_->Add(node, Kind::kRefused, why);
  } else if (const char* why = IgnoredReason(key)) {
    report_->Add(node, Kind::kIgnored, why);
  } else {
    report_->Add(node, Kind::kRefused, "not converted (unknown to the importer)");
  }
}

void Collector::ProxySection(const Node& node, const Ctx& ctx) {
  const std::string key = node.Key();
  if (key == "require") {
    auto args = SplitArgs(node.args);
    if (args.ok() && args->size() == 2 && absl::EqualsIgnoreCase((*args)[0], "all") &&
        absl::EqualsIgnoreCase((*args)[1], "granted")) {
      report_->Add(node, Kind::kConverted, "no effect: rwproxy grants every request");
    } else {
      report_->Add(node, Kind::kRefused, "access rules for proxied URLs are not converted");
    }
  } else if (ctx.where == Where::kBalancer && key == "balancermember") {
    AddMember(node, ctx.balancer, 0);
  } else if (ctx.where == Where::kBalancer && key == "proxyset") {
    ctx.balancer->settings.emplace_back(&node, report_->Add(node, Kind::kIgnored));
  } else {
    report_->Add(node, Kind::kRefused, "not converted inside <Proxy>");
  }
}

void Collector::AddMember(const Node& node, Balancer* balancer, size_t skip) {
  auto args = SplitArgs(node.args);
  BalancerMember member;
  member.node = &node;
  if (!args.ok() || args->size() <= skip) {
    report_->Add(node, Kind::kRefused, "BalancerMember needs a URL");
    return;
  }
  member.url = (*args)[skip];
  member.keys.assign(args->begin() + skip + 1, args->end());
  member.verdict = report_->Add(node, Kind::kIgnored);
  balancer->members.push_back(std::move(member));
}

bool Collector::LocationDirective(const Node& node, const Ctx& ctx) {
  const std::string key = node.Key();
  LocationItem& location = ctx.scope->locations[ctx.location];
  if (key == "require") {
    auto args = SplitArgs(node.args);
    const bool all = args.ok() && args->size() == 2 && absl::EqualsIgnoreCase((*args)[0], "all");
    const int id = report_->Add(node, Kind::kIgnored);
    location.access_verdicts.push_back(id);
    using Access = LocationItem::Access;
    if (all && absl::EqualsIgnoreCase((*args)[1], "denied") &&
        location.access != Access::kGranted && location.access != Access::kUnknown) {
      location.access = Access::kDenied;
    } else if (all && absl::EqualsIgnoreCase((*args)[1], "granted")) {
      // Several Require lines: any one granting grants (RequireAny).
      if (location.access != Access::kUnknown) location.access = Access::kGranted;
    } else {
      location.access = Access::kUnknown;
      report_->Set(id, Kind::kRefused, "only Require all denied|granted is converted");
    }
  } else if (key == "proxypass" || key == "proxypassreverse") {
    auto args = SplitArgs(node.args);
    if (location.regex || !args.ok() || args->empty()) {
      report_->Add(node, Kind::kRefused,
                   location.regex ? "not converted inside <LocationMatch>"
                                  : "takes a URL (the path is the <Location>'s)");
      return true;
    }
    if (key == "proxypass") {
      ProxyItem item{&node,       report_->Add(node, Kind::kIgnored), false, location.path, *args,
                     ctx.location};
      ctx.scope->location_proxies.push_back(std::move(item));
    } else {
      location.reverse.push_back(
          {&node, report_->Add(node, Kind::kIgnored), location.path, (*args)[0]});
    }
  } else if (key == "header" || key == "requestheader") {
    location.headers.push_back({&node, report_->Add(node, Kind::kIgnored), key == "requestheader"});
  } else if (absl::StartsWith(key, "rewrite") || absl::StartsWith(key, "redirect") ||
             key == "proxypassmatch") {
    report_->Add(node, Kind::kRefused, "not converted inside <Location>");
  } else {
    return false;
  }
  return true;
}

}  // namespace collect_internal

void CollectModel(const std::vector<Node>& nodes, int port, Model* model, Report* report) {
  collect_internal::Collector collector(port, model, report);
  model->main.label = "the main server";
  collect_internal::Ctx ctx;
  ctx.scope = &model->main;
  collector.Walk(nodes, ctx);
  collector.Finish();
}

}  // namespace rwproxy::cli::apache
