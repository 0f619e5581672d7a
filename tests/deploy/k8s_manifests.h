// A small read-only model of deploy/k8s/*.yaml for manifest_test: every YAML document of every
// file, the rwproxy sidecar of each workload with its parsed flags, and lookups that name the file
// and field of whatever they find, so a failing check can say exactly where to look.
// Plain functions and values; single-threaded (test code).
#ifndef RWPROXY_TESTS_DEPLOY_K8S_MANIFESTS_H_
#define RWPROXY_TESTS_DEPLOY_K8S_MANIFESTS_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "yaml-cpp/yaml.h"

namespace rwproxy::deploy_test {

// One YAML document of one manifest file.
struct Document {
  std::string file;  // relative to the source dir, e.g. "deploy/k8s/configmap.yaml"
  int index = 0;     // 0-based position in the file
  YAML::Node node;

  std::string Kind() const;
  std::string Name() const;
  // "deploy/k8s/x.yaml: Deployment/hello" (plus the document number when the file has several).
  std::string Where() const;
};

// The rwproxy container of a workload (Deployment, StatefulSet, DaemonSet) and its flags.
struct Sidecar {
  const Document* doc = nullptr;
  YAML::Node pod_spec;   // spec.template.spec
  YAML::Node container;  // the rwproxy container
  std::string field;     // "spec.template.spec.initContainers[0]"
  bool in_init_containers = false;
  // "--listen" -> "0.0.0.0:15001"; a flag without a value (--watch-config) maps to "".
  std::map<std::string, std::string> flags;

  std::string Where(const std::string& subfield) const;  // "FILE: KIND/NAME: FIELD.subfield"
  std::optional<std::string> Flag(const std::string& name) const;
  // The containerPort of a port given as a number or as the name of one of this container's ports.
  std::optional<int> ResolvePort(const YAML::Node& port) const;
};

// Every document of every deploy/k8s/*.yaml under `source_dir`, files sorted by name. Unparsable
// files are reported in `errors` ("FILE: message at line L, column C").
std::vector<Document> LoadManifests(const std::string& source_dir,
                                    std::vector<std::string>* errors);

// The rwproxy sidecars of every workload in `docs`: containers whose image is named rwproxy.
std::vector<Sidecar> FindSidecars(const std::vector<Document>& docs);

// Flags of an rwproxy command line (args, or command + args). Boolean flags take no value.
std::map<std::string, std::string> ParseFlags(const std::vector<std::string>& argv);

// "0.0.0.0:15001" -> 15001; "unix:/x", "off" or a bad port -> nullopt.
std::optional<int> PortOf(const std::string& address);
std::string HostOf(const std::string& address);  // "0.0.0.0:15001" -> "0.0.0.0", "[::1]:1" -> "::1"
// "20s", "500ms", "2m", "1h" -> seconds.
std::optional<double> DurationSeconds(const std::string& text);

// The node at `path` under `node` (maps only), or an undefined node. Never modifies `node`.
YAML::Node At(const YAML::Node& node, const std::vector<std::string>& path);
std::string Scalar(const YAML::Node& node, const std::vector<std::string>& path);
// How long a container's preStop hook sleeps: exec ["sleep", "N"] (or sh -c "sleep N") or the
// sleep action {seconds: N}; 0 when it has none.
double PreStopSleepSeconds(const YAML::Node& container);

// A port given as a number or as the name of one of `container`'s ports (as the kubelet resolves
// probe and hook ports: only in the container that declares the probe or hook).
std::optional<int> ResolveContainerPort(const YAML::Node& container, const YAML::Node& port);

// A container's preStop `httpGet` that drains an rwproxy: path "/drain?wait=D[&min=M]".
struct DrainHook {
  std::string path;
  YAML::Node port;
  std::string host;                    // httpGet.host; empty: the pod IP
  std::string scheme;                  // httpGet.scheme; empty: HTTP
  std::optional<double> wait_seconds;  // nullopt: missing or not a duration
  double min_seconds = 0;
};
// nullopt when the container's preStop is not an httpGet of /drain.
std::optional<DrainHook> PreStopDrainHook(const YAML::Node& container);

}  // namespace rwproxy::deploy_test

#endif  // RWPROXY_TESTS_DEPLOY_K8S_MANIFESTS_H_
