// The intermediate model of `rwctl import apache`, between the directive tree (apache_parser.h)
// and the rwproxy Config: what each server scope (the main server, each <VirtualHost>) holds, in
// config order, and the routes planned from it before names, hosts and scope-wide settings are
// applied (apache_import.cc).
//
// Ownership: a Model is built and owned by one import; items point into the Node tree, which
// must outlive it. Thread-safety: one thread.
#ifndef RWPROXY_CLI_IMPORT_APACHE_MODEL_H_
#define RWPROXY_CLI_IMPORT_APACHE_MODEL_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "cli/import/apache_parser.h"
#include "cli/import/report.h"
#include "proto/config.pb.h"

namespace rwproxy::cli::apache {

// ---- Substitution templates ----

struct Piece {
  enum class Kind { kLiteral, kPathGroup, kCondGroup };
  Kind kind = Kind::kLiteral;
  std::string text;  // kLiteral
  int group = 0;     // $N or %N
};
using Template = std::vector<Piece>;

void AppendLiteral(Template* t, const std::string& text);
// rwproxy template text: '$' -> "$$"; '%' -> "%%" when `percent_special` (the route has a
// non-inverted regex condition), else literal.
std::string RenderTemplate(const Template& t, bool percent_special);
int MaxGroup(const Template& t, Piece::Kind kind);  // 0 when there is none
// True when the route's match has a non-inverted regex condition on a header or the query.
bool HasRegexCondition(const config::v1::Match& match);

// ---- Planned routes ----

struct LocationItem;

struct PlannedRoute {
  enum class Action { kProxy, kRedirect, kRespond };
  std::string name;           // unique within its scope's plan; final names come later
  std::vector<int> verdicts;  // the report lines that list this route
  config::v1::Match match;
  Action action = Action::kRespond;
  // kProxy
  std::string cluster;
  std::string backend_host;                // the Host Apache sends when ProxyPreserveHost is Off
  bool host_inexact = false;               // a balancer whose members' hosts differ
  std::optional<Template> path;            // rewrite.path, or the redirect location
  std::string prefix;                      // rewrite.prefix
  std::string query;                       // rewrite.query ("" = keep)
  std::string timeout;                     // a worker's timeout= key
  const LocationItem* location = nullptr;  // the <Location> it is in (its headers apply)
  bool disk = false;  // Apache serves it from disk (respond 404 here; access checked)
  // kRedirect, kRespond
  int status = 0;
  std::string body;
  // A path every request this route takes starts with ("" when unknown): skips access-check
  // guards that cannot apply.
  std::string literal_prefix;
  bool Checked() const { return action == Action::kProxy || disk; }  // access checks apply
};

// ---- What a scope holds ----

struct RuleItem {
  const Node* rule = nullptr;
  int verdict = -1;
  std::vector<const Node*> conds;
  std::vector<int> cond_verdicts;
};

struct ProxyItem {
  const Node* node = nullptr;
  int verdict = -1;
  bool regex = false;             // ProxyPassMatch
  std::string path;               // the prefix, or the regex
  std::vector<std::string> args;  // URL (or "!") then options
  int location = -1;              // ProxyPass inside <Location>
};

struct RedirectItem {
  const Node* node = nullptr;
  int verdict = -1;
};

struct HeaderItem {
  const Node* node = nullptr;
  int verdict = -1;
  bool request = false;  // RequestHeader (else Header)
};

struct ReverseItem {
  const Node* node = nullptr;
  int verdict = -1;
  std::string path;
  std::string url;
};

struct LocationItem {
  const Node* node = nullptr;
  int verdict = -1;
  bool regex = false;
  std::string path;  // the prefix, or the regex
  enum class Access { kNone, kDenied, kGranted, kUnknown };
  Access access = Access::kNone;
  std::vector<int> access_verdicts;
  std::vector<HeaderItem> headers;
  std::vector<ReverseItem> reverse;
};

struct Scope {
  const Node* node = nullptr;  // <VirtualHost>; null for the main server
  int verdict = -1;            // the <VirtualHost> line's
  std::string label;           // "the main server", "<VirtualHost *:80> at httpd.conf:3"
  std::string prefix;          // route name prefix: "" or "shop-example-com-"
  std::string server_name;
  std::vector<std::string> hosts;  // ServerName and ServerAlias, as rwproxy hosts
  std::optional<bool> rewrite_engine;
  std::vector<RuleItem> rules;
  std::vector<const Node*> pending_conds;  // RewriteCond lines not yet followed by a rule
  std::vector<int> pending_cond_verdicts;
  std::vector<ProxyItem> proxies;  // server-level ProxyPass and ProxyPassMatch
  std::vector<ProxyItem> location_proxies;
  std::vector<LocationItem> locations;
  std::vector<RedirectItem> redirects;
  std::vector<HeaderItem> headers;
  std::vector<ReverseItem> reverse;
  std::optional<bool> preserve_host;
  std::optional<std::string> proxy_timeout;  // rwproxy duration
  std::optional<std::string> timeout;
  std::optional<bool> proxy_inherit;
  std::optional<bool> add_headers;
  std::vector<int> add_headers_verdicts;
};

struct BalancerMember {
  const Node* node = nullptr;
  int verdict = -1;
  std::string url;
  std::vector<std::string> keys;
};

struct Balancer {
  const Node* node = nullptr;
  int verdict = -1;
  std::string name;  // as in balancer://NAME
  std::vector<BalancerMember> members;
  std::string lb_policy;                              // rwproxy's
  std::vector<std::pair<const Node*, int>> settings;  // ProxySet lines and their verdicts
};

struct Model {
  Scope main;
  std::vector<Scope> vhosts;
  std::map<std::string, Balancer> balancers;  // by lowercase name
};

// Walks the directive tree: fills the model, and gives every directive that needs no further
// work its verdict (ignored ones, refusals by context). `port` selects the vhosts to convert
// (0: the first vhost's port).
void CollectModel(const std::vector<Node>& nodes, int port, Model* model, Report* report);

// "www.example.com:80" -> "www.example.com"; "http://x" -> "x"; lowercase. Empty if invalid.
std::string HostName(const std::string& text);

// "www.example.com" -> "www-example-com": a route-name-safe slug.
std::string Slug(const std::string& text);

// Text rwproxy takes in paths, URLs and templates: valid UTF-8, no spaces or control characters.
bool PlainText(absl::string_view s);
// A header field value: valid UTF-8, no control characters but tab, at most 8 KiB.
bool FieldText(absl::string_view s);
// A host rwproxy's match.hosts accepts: "example.com", "*.example.com", "[::1]".
bool HostPattern(const std::string& host);
// An RE2 pattern rwproxy compiles (syntax, program size, at most 9 groups).
bool Re2Ok(const std::string& pattern, bool case_insensitive = false);

// An Apache time value ("30" seconds, "500ms", "2mi", "1h") as an rwproxy duration ("30s",
// "500ms", "2m", "1h"); nullopt when it is not a positive number with one of those units.
std::optional<std::string> ApacheDuration(const std::string& value);

}  // namespace rwproxy::cli::apache

#endif  // RWPROXY_CLI_IMPORT_APACHE_MODEL_H_
