// Internals of `rwctl import apache` (apache_import.cc): each scope's directives planned once
// (routes, exclusions, header edits, Location rewrites), before scopes are merged the way Apache
// merges a <VirtualHost> with the main server.
//
// Ownership: a ScopePlan points into its Scope, which must outlive it. Thread-safety: one thread.
#ifndef RWPROXY_CLI_IMPORT_APACHE_PLAN_H_
#define RWPROXY_CLI_IMPORT_APACHE_PLAN_H_

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/import/apache_alias.h"
#include "cli/import/apache_model.h"
#include "cli/import/apache_proxy.h"
#include "cli/import/apache_rewrite.h"
#include "cli/import/report.h"

namespace rwproxy::cli::apache {

using Rewrites = std::vector<config::v1::LocationRewrite>;

struct ScopePlan {
  const Scope* scope = nullptr;
  std::vector<RulePlan> rules;
  std::vector<ProxyPlan> location_proxies;  // parallel to scope->location_proxies
  std::vector<ProxyPlan> proxies;           // parallel to scope->proxies
  std::vector<std::vector<PlannedRoute>> redirects;
  std::vector<std::optional<std::string>> location_regex;  // parallel to scope->locations
  std::vector<HeaderOp> headers;
  std::map<const LocationItem*, std::vector<HeaderOp>> location_headers;
  std::vector<std::pair<int, Rewrites>> reverse;  // verdict, rewrites
  std::map<const LocationItem*, std::vector<std::pair<int, Rewrites>>> location_reverse;
};

// A vhost merged with the main server the way Apache merges them (`main` null: no vhosts).
struct Effective {
  const ScopePlan* own = nullptr;
  const ScopePlan* main = nullptr;
  // A scope-wide setting: the vhost's, else the main server's.
  template <class T>
  std::optional<T> Setting(std::optional<T> Scope::*field) const {
    if ((own->scope->*field).has_value()) return own->scope->*field;
    return main != nullptr ? main->scope->*field : std::nullopt;
  }
};

// Routes of `e` in Apache's order of evaluation (see apache_import.h), guards and exclusions
// included; names relative to the scope.
std::vector<PlannedRoute> AssembleRoutes(const Effective& e);

// Appends `planned` to config->routes as rwproxy routes: names get `prefix`, matches get
// `hosts`; proxied routes get the scope's Host, timeout, header edits and Location rewrites.
// Each route's name is added to the verdicts it came from.
void EmitRoutes(const std::vector<PlannedRoute>& planned, const Effective& e,
                const std::string& prefix, const std::vector<std::string>& hosts,
                config::v1::Config* config, Report* report);

// Plans every directive of `scope`. `rules_dead`: the main server's rewrite rules when there
// are virtual hosts (Apache does not inherit them).
ScopePlan PlanScope(const Scope& scope, bool rules_dead, ClusterSet* clusters, Report* report);

}  // namespace rwproxy::cli::apache

#endif  // RWPROXY_CLI_IMPORT_APACHE_PLAN_H_
