// mod_rewrite for `rwctl import apache` (server and <VirtualHost> context): a RewriteRule with
// its RewriteCond lines -> planned routes.
//
// A rule becomes one route per way its conditions can hold ([OR] and "a missing header reads as
// the empty string" expand into several routes, at most kMaxExpansion), in order, so that
// rwproxy's first match is Apache's. %N in the substitution keeps pointing at the condition
// Apache takes it from, or the rule is refused. %{HTTP_HOST} in a substitution, and the host a
// relative [R] target gets in Apache, come from a capturing condition on Host.
//
// Ownership: free functions over caller-owned values. Thread-safety: one thread.
#ifndef RWPROXY_CLI_IMPORT_APACHE_REWRITE_H_
#define RWPROXY_CLI_IMPORT_APACHE_REWRITE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/import/apache_model.h"
#include "cli/import/apache_parser.h"
#include "cli/import/apache_proxy.h"
#include "cli/import/report.h"
#include "proto/config.pb.h"

namespace rwproxy::cli::apache {

inline constexpr size_t kMaxExpansion = 16;

// One way a RewriteCond can hold, as rwproxy conditions.
struct CondAlt {
  std::vector<config::v1::HeaderMatch> headers;
  std::optional<config::v1::QueryMatch> query;
  bool apache_regex = false;  // a regex match in Apache: %N come from it when it holds
  int groups = 0;
};

struct Cond {
  std::vector<CondAlt> alts;
  bool ornext = false;
};

// Converts one RewriteCond. `keep_regex`: the rule uses %N, so every regex stays a regex (an
// anchored literal would otherwise become an exact match). An error is the refusal reason.
absl::StatusOr<Cond> ConvertCond(const Node& node, bool keep_regex);

// What one RewriteRule becomes: routes, or (PATTERN - [L] with no conditions) an exclusion the
// later rules must skip.
struct RulePlan {
  std::vector<PlannedRoute> routes;
  std::optional<config::v1::HeaderMatch> exclusion;  // a ":path" condition, to be inverted
};

RulePlan PlanRewriteRule(const RuleItem& item, const std::string& name, ClusterSet* clusters,
                         Report* report);

}  // namespace rwproxy::cli::apache

#endif  // RWPROXY_CLI_IMPORT_APACHE_REWRITE_H_
