// Internals of CollectModel (apache_model.h): the walk over the directive tree that fills the
// Model and gives every directive needing no further work its verdict. Not for other callers.
//
// Ownership: a Collector points to the Model and Report it fills (owned by the caller) and to
// the Node tree (which must outlive the Model). Thread-safety: one thread.
#ifndef RWPROXY_CLI_IMPORT_APACHE_COLLECT_H_
#define RWPROXY_CLI_IMPORT_APACHE_COLLECT_H_

#include <optional>
#include <string>
#include <vector>

#include "cli/import/apache_model.h"
#include "cli/import/report.h"

namespace rwproxy::cli::apache::collect_internal {

// Where a directive is: the section kind decides what it may do.
enum class Where { kServer, kLocation, kFiles, kProxy, kBalancer, kDead };

struct Ctx {
  Scope* scope = nullptr;
  Where where = Where::kServer;
  int location = -1;             // index into scope->locations (kLocation)
  Balancer* balancer = nullptr;  // kBalancer
  std::string dead_reason;       // kDead: why everything here is ignored
};

// "On"/"Off" (any case); nullopt for anything else.
std::optional<bool> OnOff(const Node& node);

// A <VirtualHost> address's port: "*:80" -> 80, "[::1]:8080" -> 8080, "*" -> 0 (any).
int AddressPort(const std::string& address);

class Collector {
 public:
  // `port`: the vhosts to convert (0: the first vhost's).
  Collector(int port, Model* model, Report* report) : port_(port), model_(model), report_(report) {}

  void Walk(const std::vector<Node>& nodes, Ctx ctx);
  // After the walk: vhost names from the main server, verdicts of dangling RewriteCond lines.
  void Finish();

 private:
  std::vector<Scope*> AllScopes();
  void Section(const Node& node, Ctx ctx);
  void Refuse(const Node& node, const std::string& why);  // a section and all it holds
  void VirtualHost(const Node& node, Ctx ctx);
  void Location(const Node& node, Ctx ctx);
  void Proxy(const Node& node, Ctx ctx);
  Balancer& BalancerNamed(std::string name);
  void Directive(const Node& node, const Ctx& ctx);
  void Generic(const Node& node);  // ignored, refused by family, or unknown
  void ProxySection(const Node& node, const Ctx& ctx);
  void AddMember(const Node& node, Balancer* balancer, size_t skip);
  bool LocationDirective(const Node& node, const Ctx& ctx);
  // Server and <VirtualHost> context (apache_collect_server.cc). False: not one of ours.
  bool ServerDirective(const Node& node, const Ctx& ctx);
  bool ServerSetting(const Node& node, Scope* scope);
  void ServerNames(const Node& node, Scope* scope);

  int port_;
  std::optional<int> selected_port_;
  Model* model_;
  Report* report_;
};

}  // namespace rwproxy::cli::apache::collect_internal

#endif  // RWPROXY_CLI_IMPORT_APACHE_COLLECT_H_
