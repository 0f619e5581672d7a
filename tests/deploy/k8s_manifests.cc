#include "tests/deploy/k8s_manifests.h"

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>

namespace rwproxy::deploy_test {
namespace {

namespace fs = std::filesystem;

// rwproxy flags that take no value.
const std::set<std::string> kBooleanFlags = {"--watch-config", "--version", "--help", "-h"};

std::vector<std::string> Strings(const YAML::Node& seq) {
  std::vector<std::string> out;
  if (!seq.IsSequence()) return out;
  for (const auto& item : seq) out.push_back(item.Scalar());
  return out;
}

// The image's repository name without registry, path and tag: "reg.io/x/rwproxy:0.1" -> "rwproxy".
std::string ImageName(const std::string& image) {
  std::string name = image.substr(0, image.find('@'));
  size_t slash = name.rfind('/');
  if (slash != std::string::npos) name = name.substr(slash + 1);
  return name.substr(0, name.find(':'));
}

}  // namespace

std::string Document::Kind() const { return Scalar(node, {"kind"}); }
std::string Document::Name() const { return Scalar(node, {"metadata", "name"}); }

std::string Document::Where() const {
  return file + " (document " + std::to_string(index + 1) + "): " + Kind() + "/" + Name();
}

std::string Sidecar::Where(const std::string& subfield) const {
  return doc->Where() + ": " + field + (subfield.empty() ? "" : "." + subfield);
}

std::optional<std::string> Sidecar::Flag(const std::string& name) const {
  auto it = flags.find(name);
  if (it == flags.end()) return std::nullopt;
  return it->second;
}

std::optional<int> Sidecar::ResolvePort(const YAML::Node& port) const {
  return ResolveContainerPort(container, port);
}

std::optional<int> ResolveContainerPort(const YAML::Node& container, const YAML::Node& port) {
  if (!port.IsScalar()) return std::nullopt;
  int number = 0;
  if (YAML::convert<int>::decode(port, number)) return number;
  for (const auto& p : At(container, {"ports"})) {
    if (Scalar(p, {"name"}) == port.Scalar()) return At(p, {"containerPort"}).as<int>();
  }
  return std::nullopt;
}

std::vector<Document> LoadManifests(const std::string& source_dir,
                                    std::vector<std::string>* errors) {
  std::vector<fs::path> files;
  for (const auto& entry : fs::directory_iterator(fs::path(source_dir) / "deploy/k8s")) {
    if (entry.path().extension() == ".yaml" || entry.path().extension() == ".yml") {
      files.push_back(entry.path());
    }
  }
  std::sort(files.begin(), files.end());
  std::vector<Document> docs;
  for (const auto& path : files) {
    std::string relative = fs::relative(path, source_dir).string();
    try {
      std::vector<YAML::Node> nodes = YAML::LoadAllFromFile(path.string());
      for (size_t i = 0; i < nodes.size(); ++i) {
        if (nodes[i].IsNull()) continue;  // an empty document (trailing ---)
        docs.push_back(Document{relative, static_cast<int>(i), nodes[i]});
      }
    } catch (const YAML::Exception& e) {
      errors->push_back(relative + ": " + e.msg + " at line " + std::to_string(e.mark.line + 1) +
                        ", column " + std::to_string(e.mark.column + 1));
    }
  }
  return docs;
}

std::vector<Sidecar> FindSidecars(const std::vector<Document>& docs) {
  static const std::set<std::string> kWorkloads = {"Deployment", "StatefulSet", "DaemonSet"};
  std::vector<Sidecar> out;
  for (const auto& doc : docs) {
    if (!kWorkloads.contains(doc.Kind())) continue;
    YAML::Node pod_spec = At(doc.node, {"spec", "template", "spec"});
    for (const char* list : {"initContainers", "containers"}) {
      const YAML::Node containers = At(pod_spec, {list});
      if (!containers.IsSequence()) continue;
      for (size_t i = 0; i < containers.size(); ++i) {
        const YAML::Node c = containers[i];
        if (ImageName(Scalar(c, {"image"})) != "rwproxy") continue;
        std::vector<std::string> argv = Strings(At(c, {"command"}));
        if (!argv.empty()) argv.erase(argv.begin());  // the program itself
        for (const auto& a : Strings(At(c, {"args"}))) argv.push_back(a);
        out.push_back(Sidecar{&doc, pod_spec, c,
                              "spec.template.spec." + std::string(list) + "[" + std::to_string(i) +
                                  "](" + Scalar(c, {"name"}) + ")",
                              std::string(list) == "initContainers", ParseFlags(argv)});
      }
    }
  }
  return out;
}

std::map<std::string, std::string> ParseFlags(const std::vector<std::string>& argv) {
  std::map<std::string, std::string> flags;
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string& arg = argv[i];
    if (!arg.starts_with("-")) continue;
    size_t eq = arg.find('=');
    if (eq != std::string::npos) {
      flags[arg.substr(0, eq)] = arg.substr(eq + 1);
    } else if (!kBooleanFlags.contains(arg) && i + 1 < argv.size() &&
               !argv[i + 1].starts_with("--")) {
      flags[arg] = argv[++i];
    } else {
      flags[arg] = "";
    }
  }
  return flags;
}

std::optional<int> PortOf(const std::string& address) {
  if (address.starts_with("unix:")) return std::nullopt;
  size_t colon = address.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string digits = address.substr(colon + 1);
  if (digits.empty() || digits.size() > 5 ||
      !std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return std::nullopt;
  }
  int port = std::atoi(digits.c_str());
  if (port > 65535) return std::nullopt;
  return port;
}

std::string HostOf(const std::string& address) {
  std::string host = address.substr(0, address.rfind(':'));
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

std::optional<double> DurationSeconds(const std::string& text) {
  static const std::regex kDuration(R"(^([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)$)");
  std::smatch m;
  if (!std::regex_match(text, m, kDuration)) return std::nullopt;
  double value = std::stod(m[1].str());
  const std::string unit = m[2].str();
  if (unit == "ms") return value / 1000;
  if (unit == "m") return value * 60;
  if (unit == "h") return value * 3600;
  return value;
}

YAML::Node At(const YAML::Node& node, const std::vector<std::string>& path) {
  if (path.empty()) return node;
  if (!node.IsMap()) return YAML::Node(YAML::NodeType::Undefined);
  const YAML::Node child = node[path.front()];
  if (!child.IsDefined()) return YAML::Node(YAML::NodeType::Undefined);
  return At(child, std::vector<std::string>(path.begin() + 1, path.end()));
}

std::string Scalar(const YAML::Node& node, const std::vector<std::string>& path) {
  const YAML::Node found = At(node, path);
  return found.IsScalar() ? found.Scalar() : "";
}

double PreStopSleepSeconds(const YAML::Node& container) {
  const YAML::Node pre_stop = At(container, {"lifecycle", "preStop"});
  if (const YAML::Node sleep = At(pre_stop, {"sleep", "seconds"}); sleep.IsScalar()) {
    return sleep.as<double>();
  }
  std::vector<std::string> command = Strings(At(pre_stop, {"exec", "command"}));
  std::string line;
  for (const auto& word : command) line += (line.empty() ? "" : " ") + word;
  static const std::regex kSleep(R"((?:^|\s|/)sleep\s+([0-9]+(?:\.[0-9]+)?)\s*$)");
  std::smatch m;
  if (std::regex_search(line, m, kSleep)) return std::stod(m[1].str());
  return 0;
}

std::optional<DrainHook> PreStopDrainHook(const YAML::Node& container) {
  const YAML::Node http = At(container, {"lifecycle", "preStop", "httpGet"});
  const std::string path = Scalar(http, {"path"});
  if (path != "/drain" && !path.starts_with("/drain?")) return std::nullopt;
  DrainHook hook{path, At(http, {"port"}), Scalar(http, {"host"}), Scalar(http, {"scheme"})};
  const size_t q = path.find('?');
  std::string query = q == std::string::npos ? "" : path.substr(q + 1);
  while (!query.empty()) {
    const size_t amp = query.find('&');
    const std::string param = query.substr(0, amp);
    query = amp == std::string::npos ? "" : query.substr(amp + 1);
    if (param.starts_with("wait=")) hook.wait_seconds = DurationSeconds(param.substr(5));
    if (param.starts_with("min=")) hook.min_seconds = DurationSeconds(param.substr(4)).value_or(-1);
  }
  return hook;
}

}  // namespace rwproxy::deploy_test
