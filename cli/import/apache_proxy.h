// mod_proxy for `rwctl import apache`: backend URLs -> rwproxy clusters (one cluster per
// scheme://host:port, shared by every rule that targets it; a balancer:// is one cluster of its
// members), worker options (key=value) -> cluster and route settings, ProxyPass and
// ProxyPassMatch -> planned routes, ProxyPassReverse -> Location rewrites.
//
// Ownership: a ClusterSet is owned by one import; it points to the Model and the Report, which
// must outlive it. Thread-safety: one thread.
#ifndef RWPROXY_CLI_IMPORT_APACHE_PROXY_H_
#define RWPROXY_CLI_IMPORT_APACHE_PROXY_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/import/apache_model.h"
#include "cli/import/report.h"
#include "proto/config.pb.h"

namespace rwproxy::cli::apache {

struct Url {
  std::string scheme;  // lowercase
  std::string host;    // as written, brackets kept for IPv6; the balancer name for balancer://
  int port = 0;        // 0 when not written
  std::string path;    // "" or starting with '/'
};

// Parses scheme://authority[/path]. A query or userinfo is an error.
absl::StatusOr<Url> ParseUrl(const std::string& text);

// Where a backend URL sends requests.
struct ProxyTarget {
  std::string cluster;
  std::string path;           // the URL's path ("" when none), a balancer's member path included
  std::string host_header;    // the Host Apache sends with ProxyPreserveHost Off
  bool host_inexact = false;  // a balancer whose members differ: Apache sends the picked one's
  std::string timeout;        // a balancer member's timeout= (the route's timeout)
};

class ClusterSet {
 public:
  ClusterSet(Model* model, Report* report) : model_(model), report_(report) {}

  // The cluster for an http:// or balancer:// URL, created on first use. An error is a refusal
  // reason ("https:// backends need TLS ...").
  absl::StatusOr<ProxyTarget> Target(const std::string& url);

  // Applies worker options ("max=20", "timeout=5") to `cluster`, giving `verdict` its kind and
  // notes; timeout= goes to *route_timeout (it is a route setting in rwproxy).
  void ApplyKeys(const std::string& cluster, const std::vector<std::string>& keys, int verdict,
                 std::string* route_timeout);

  // ProxyPassReverse's URL as the prefixes a backend writes in Location: the URL itself, or
  // each member's URL for a balancer.
  absl::StatusOr<std::vector<std::string>> ReverseFroms(const std::string& url);

  // The clusters created, in order of first use.
  std::vector<config::v1::Cluster> clusters() const { return clusters_; }

 private:
  absl::StatusOr<ProxyTarget> BalancerTarget(const Url& url);
  // The members' endpoints into *cluster; the Host and path they share into *target.
  absl::Status Members(const Balancer& balancer, config::v1::Cluster* cluster, ProxyTarget* target);
  void BalancerSettings(const Balancer& balancer, const std::string& name);  // ProxySet
  config::v1::Cluster* Find(const std::string& name);
  // Records `key` = `value` for the cluster; false (and a note on `verdict`) when an earlier
  // directive set it differently.
  bool Claim(const std::string& cluster, const std::string& key, const std::string& value,
             int verdict);

  Model* model_;
  Report* report_;
  std::vector<config::v1::Cluster> clusters_;
  std::map<std::string, std::string> by_key_;  // "host:port" or "balancer://name" -> cluster
  std::map<std::string, ProxyTarget> balancer_targets_;
  std::map<std::string, std::pair<std::string, int>> claims_;  // "cluster|key" -> value, verdict
};

// What one ProxyPass or ProxyPassMatch becomes: a route, or (PATH !) an exclusion the later
// ProxyPass routes must skip.
struct ProxyPlan {
  std::vector<PlannedRoute> routes;
  std::optional<config::v1::HeaderMatch> exclusion;  // a ":path" condition, to be inverted
};

ProxyPlan PlanProxyPass(const ProxyItem& item, const std::string& name, ClusterSet* clusters,
                        Report* report);

// ProxyPassReverse -> Location rewrites; empty (and the verdict refused) when not convertible.
std::vector<config::v1::LocationRewrite> PlanReverse(const ReverseItem& item, ClusterSet* clusters,
                                                     Report* report);

// A ":path" regex condition matching what Apache's prefix matching (ProxyPass, Redirect,
// <Location>) takes for `path`: the path itself, or it followed by '/' ... unless it ends in '/'.
std::string BoundaryRegex(const std::string& path);

// $N and \c in a ProxyPassMatch or RedirectMatch target (httpd's ap_pregsub).
Template ParsePregsub(const std::string& text);

// The literal start of a path regex ("^/api/(.*)" -> "/api/"); "" when not simple.
std::string LiteralPrefix(const std::string& pcre);

}  // namespace rwproxy::cli::apache

#endif  // RWPROXY_CLI_IMPORT_APACHE_PROXY_H_
