// mod_alias redirects, <Location> access rules and mod_headers edits for `rwctl import apache`.
//
// Ownership: free functions over caller-owned values. Thread-safety: one thread.
#ifndef RWPROXY_CLI_IMPORT_APACHE_ALIAS_H_
#define RWPROXY_CLI_IMPORT_APACHE_ALIAS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/import/apache_model.h"
#include "cli/import/report.h"
#include "proto/config.pb.h"

namespace rwproxy::cli::apache {

// Redirect, RedirectMatch, RedirectPermanent, RedirectTemp -> a redirect (or respond) route.
// Redirect is a prefix match on whole segments and appends the rest of the path; a target that
// is a local path gets the request's Host, as Apache's does.
std::vector<PlannedRoute> PlanRedirect(const RedirectItem& item, const std::string& name,
                                       Report* report);

// The ":path" regex a <Location> or <LocationMatch> applies to (Apache's <Location> matches
// whole segments unless its path ends in '/').
absl::StatusOr<std::string> LocationRegex(const LocationItem& location);

// One Header or RequestHeader line, parsed.
struct HeaderOp {
  bool request = false;
  enum class Op { kSet, kAdd, kUnset };
  Op op = Op::kSet;
  std::string name;  // lowercase
  std::string value;
  int verdict = -1;
};

// Parses a Header or RequestHeader line; nullopt when refused (the verdict says why).
std::optional<HeaderOp> ParseHeaderOp(const HeaderItem& item, Report* report);

// rwproxy's header edits: applied in the order remove, set, add.
struct FoldedOps {
  std::map<std::string, std::string> set;
  std::map<std::string, std::string> add;
  std::vector<std::string> remove;
  bool empty() const { return set.empty() && add.empty() && remove.empty(); }
};

// Folds `ops` (Apache's order: each applies to the result of the ones before) into rwproxy's
// remove, set, add for the request (`request`) or the response side.
FoldedOps FoldHeaderOps(const std::vector<HeaderOp>& ops, bool request, Report* report);

}  // namespace rwproxy::cli::apache

#endif  // RWPROXY_CLI_IMPORT_APACHE_ALIAS_H_
