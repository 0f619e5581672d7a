// Checks that the Kubernetes manifests (deploy/k8s/*.yaml) and the image (deploy/Dockerfile) agree
// with rwproxy's flags: probes on the --admin port with the right paths, the Service on the
// --listen port, the ConfigMap behind --config, the app's preStop draining a native sidecar, a
// grace period longer than the drain, the access log on stdout, a read-only root with a writable
// --state-dir, non-root, the control API kept inside the pod. Every failure names the file, the
// object and the field.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/deploy/k8s_manifests.h"

namespace rwproxy::deploy_test {
namespace {

const std::string kSourceDir = RW_SOURCE_DIR;

class ManifestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    docs_ = LoadManifests(kSourceDir, &errors_);
    sidecars_ = FindSidecars(docs_);
    ASSERT_TRUE(errors_.empty()) << "unparsable manifest: " << errors_.front();
    ASSERT_FALSE(sidecars_.empty()) << "no workload in deploy/k8s/*.yaml runs an rwproxy image";
  }

  // The ConfigMap named `name`, or nullptr.
  const Document* FindConfigMap(const std::string& name) const {
    for (const auto& doc : docs_) {
      if (doc.Kind() == "ConfigMap" && doc.Name() == name) return &doc;
    }
    return nullptr;
  }

  // The pod volume called `name`, or an undefined node.
  static YAML::Node FindVolume(const Sidecar& s, const std::string& name) {
    for (const auto& v : At(s.pod_spec, {"volumes"})) {
      if (Scalar(v, {"name"}) == name) return v;
    }
    return YAML::Node(YAML::NodeType::Undefined);
  }

  // The sidecar's flag `name` as a port; records a failure when it is missing or has no port.
  static std::optional<int> FlagPort(const Sidecar& s, const std::string& name) {
    auto value = s.Flag(name);
    if (!value) {
      ADD_FAILURE() << s.Where("args") << ": no " << name << " flag";
      return std::nullopt;
    }
    auto port = PortOf(*value);
    if (!port)
      ADD_FAILURE() << s.Where("args") << ": " << name << " '" << *value << "' has no port";
    return port;
  }

  std::vector<std::string> errors_;
  std::vector<Document> docs_;
  std::vector<Sidecar> sidecars_;
};

TEST_F(ManifestTest, EveryDocumentHasKindAndName) {
  std::set<std::string> files;
  for (const auto& doc : docs_) {
    files.insert(doc.file);
    EXPECT_FALSE(Scalar(doc.node, {"apiVersion"}).empty()) << doc.Where() << ": no apiVersion";
    EXPECT_FALSE(doc.Kind().empty()) << doc.Where() << ": no kind";
    EXPECT_FALSE(doc.Name().empty()) << doc.Where() << ": no metadata.name";
  }
  for (const char* f : {"deploy/k8s/app-with-sidecar.yaml",
                        "deploy/k8s/app-with-sidecar-legacy.yaml", "deploy/k8s/configmap.yaml"}) {
    EXPECT_TRUE(files.contains(f)) << f << ": missing or has no YAML document";
  }
}

TEST_F(ManifestTest, NativeSidecarIsAnAlwaysRestartingInitContainer) {
  int native = 0, legacy = 0;
  for (const auto& s : sidecars_) {
    if (s.in_init_containers) {
      ++native;
      EXPECT_EQ(Scalar(s.container, {"restartPolicy"}), "Always")
          << s.Where("restartPolicy")
          << ": an rwproxy init container must be a native sidecar (restartPolicy: Always); "
             "otherwise the pod waits for it to exit and never starts the app";
    } else {
      ++legacy;
    }
    EXPECT_EQ(Scalar(s.container, {"name"}), "rwproxy")
        << s.Where("name")
        << ": deploy/k8s/rollout.sh and the README exec into container 'rwproxy'";
  }
  EXPECT_GE(native, 1)
      << "deploy/k8s: no native sidecar variant (initContainers + restartPolicy: Always)";
  EXPECT_GE(legacy, 1) << "deploy/k8s: no plain-sidecar variant (rwproxy under containers)";
  for (const auto& doc : docs_) {
    if (doc.file.ends_with("-legacy.yaml") && doc.Kind() == "Deployment") {
      EXPECT_FALSE(At(doc.node, {"spec", "template", "spec", "initContainers"}).IsDefined())
          << doc.Where() << ": the legacy variant must not rely on initContainers";
    }
  }
}

TEST_F(ManifestTest, ProbesHitTheAdminPort) {
  const std::map<std::string, std::set<std::string>> kPaths = {
      {"readinessProbe", {"/ready"}},
      {"livenessProbe", {"/healthz"}},
      {"startupProbe", {"/ready", "/healthz"}}};
  for (const auto& s : sidecars_) {
    auto admin_port = FlagPort(s, "--admin");
    if (!admin_port) continue;
    std::string host = HostOf(*s.Flag("--admin"));
    EXPECT_TRUE(host == "0.0.0.0" || host == "::" || host.empty())
        << s.Where("args") << ": --admin " << *s.Flag("--admin")
        << " is not reachable by the kubelet's probes (they connect to the pod IP); use 0.0.0.0";
    for (const auto& [probe, paths] : kPaths) {
      const YAML::Node http = At(s.container, {probe, "httpGet"});
      if (probe == "startupProbe" && !At(s.container, {probe}).IsDefined()) continue;
      if (!http.IsDefined()) {
        ADD_FAILURE() << s.Where(probe) << ": missing (want httpGet " << *paths.begin()
                      << " on the --admin port " << *admin_port << ")";
        continue;
      }
      std::string path = Scalar(http, {"path"});
      EXPECT_TRUE(paths.contains(path))
          << s.Where(probe + ".httpGet.path") << ": is '" << path << "', want " << *paths.begin();
      auto port = s.ResolvePort(At(http, {"port"}));
      EXPECT_EQ(port, admin_port) << s.Where(probe + ".httpGet.port") << ": '"
                                  << Scalar(http, {"port"}) << "' is not the --admin port "
                                  << *admin_port;
    }
  }
}

TEST_F(ManifestTest, ContainerPortsMatchTheFlags) {
  for (const auto& s : sidecars_) {
    std::set<int> flag_ports;
    for (const char* flag : {"--listen", "--admin"}) {
      if (auto p = FlagPort(s, flag)) flag_ports.insert(*p);
    }
    if (s.Flag("--tls-listen")) {
      if (auto p = FlagPort(s, "--tls-listen")) flag_ports.insert(*p);
    }
    for (const auto& p : At(s.container, {"ports"})) {
      int port = At(p, {"containerPort"}).as<int>();
      EXPECT_TRUE(flag_ports.contains(port))
          << s.Where("ports") << ": containerPort " << port << " (" << Scalar(p, {"name"})
          << ") is not the --listen, --tls-listen or --admin port";
    }
  }
}

TEST_F(ManifestTest, ServiceTargetsTheListenPort) {
  int services = 0;
  for (const auto& doc : docs_) {
    if (doc.Kind() != "Service") continue;
    ++services;
    const YAML::Node selector = At(doc.node, {"spec", "selector"});
    const Sidecar* target = nullptr;
    for (const auto& s : sidecars_) {
      if (s.doc->file != doc.file) continue;
      bool selects = selector.IsMap() && selector.size() > 0;
      for (const auto& kv : selector) {
        selects = selects && Scalar(s.doc->node, {"spec", "template", "metadata", "labels",
                                                  kv.first.Scalar()}) == kv.second.Scalar();
      }
      if (selects) target = &s;
    }
    if (target == nullptr) {
      ADD_FAILURE() << doc.Where() << ": spec.selector selects no rwproxy pod template in "
                    << doc.file;
      continue;
    }
    auto listen_port = FlagPort(*target, "--listen");
    auto tls_port = target->Flag("--tls-listen") ? FlagPort(*target, "--tls-listen")
                                                 : std::optional<int>();
    const YAML::Node ports = At(doc.node, {"spec", "ports"});
    ASSERT_TRUE(ports.IsSequence() && ports.size() > 0) << doc.Where() << ": spec.ports is empty";
    for (size_t i = 0; i < ports.size(); ++i) {
      const YAML::Node target_port = At(ports[i], {"targetPort"});
      std::string field = doc.Where() + ": spec.ports[" + std::to_string(i) + "].targetPort";
      ASSERT_TRUE(target_port.IsDefined()) << field << ": missing (it would default to port)";
      auto resolved = target->ResolvePort(target_port);
      EXPECT_TRUE(resolved == listen_port || (tls_port && resolved == tls_port))
          << field << ": '" << target_port.Scalar()
          << "' is not the sidecar's --listen (or --tls-listen) port (" << target->Where("ports")
          << ")";
    }
  }
  EXPECT_GE(services, 1) << "deploy/k8s: no Service";
}

TEST_F(ManifestTest, ConfigFlagPointsIntoTheMountedConfigMap) {
  for (const auto& s : sidecars_) {
    auto config = s.Flag("--config");
    if (!config) {
      ADD_FAILURE() << s.Where("args") << ": no --config flag";
      continue;
    }
    std::filesystem::path path(*config);
    std::string dir = path.parent_path().string(), file = path.filename().string();
    YAML::Node mount(YAML::NodeType::Undefined);
    for (const auto& m : At(s.container, {"volumeMounts"})) {
      if (Scalar(m, {"mountPath"}) == dir || Scalar(m, {"mountPath"}) == *config) mount.reset(m);
    }
    if (!mount.IsDefined()) {
      ADD_FAILURE() << s.Where("volumeMounts") << ": nothing is mounted at " << dir
                    << " for --config " << *config;
      continue;
    }
    if (s.Flag("--watch-config")) {
      EXPECT_FALSE(At(mount, {"subPath"}).IsDefined())
          << s.Where("volumeMounts") << ": " << Scalar(mount, {"name"})
          << " uses subPath: ConfigMap updates never reach subPath mounts, so --watch-config "
             "would never see a change; mount the directory";
    }
    const YAML::Node volume = FindVolume(s, Scalar(mount, {"name"}));
    std::string cm_name = Scalar(volume, {"configMap", "name"});
    if (cm_name.empty()) {
      ADD_FAILURE() << s.doc->Where() << ": spec.template.spec.volumes[" << Scalar(mount, {"name"})
                    << "]: not a configMap volume (it backs --config " << *config << ")";
      continue;
    }
    std::string key = At(mount, {"subPath"}).IsDefined() ? Scalar(mount, {"subPath"}) : file;
    for (const auto& item : At(volume, {"configMap", "items"})) {
      if (Scalar(item, {"path"}) == key) key = Scalar(item, {"key"});
    }
    const Document* cm = FindConfigMap(cm_name);
    if (cm == nullptr) {
      ADD_FAILURE() << s.doc->Where() << ": volume " << Scalar(mount, {"name"})
                    << " uses ConfigMap '" << cm_name << "', which no deploy/k8s file defines";
      continue;
    }
    EXPECT_TRUE(At(cm->node, {"data", key}).IsDefined())
        << cm->Where() << ": data has no key '" << key << "', which --config " << *config << " of "
        << s.Where("args") << " reads";
  }
}

// A TLS sidecar reads its certificate and key from a mounted Secret (whole directory, so the
// kubelet's ..data swap reaches the watcher), and the key is not readable by every user.
TEST_F(ManifestTest, TlsFilesComeFromAMountedSecret) {
  int tls_sidecars = 0;
  for (const auto& s : sidecars_) {
    if (!s.Flag("--tls-listen")) continue;
    ++tls_sidecars;
    for (const char* flag : {"--tls-cert", "--tls-key"}) {
      auto file = s.Flag(flag);
      ASSERT_TRUE(file.has_value()) << s.Where("args") << ": --tls-listen without " << flag;
      const std::string dir = std::filesystem::path(*file).parent_path().string();
      YAML::Node mount(YAML::NodeType::Undefined);
      for (const auto& m : At(s.container, {"volumeMounts"})) {
        if (Scalar(m, {"mountPath"}) == dir) mount.reset(m);
      }
      ASSERT_TRUE(mount.IsDefined()) << s.Where("volumeMounts") << ": nothing mounted at " << dir
                                     << " for " << flag << " " << *file;
      EXPECT_FALSE(At(mount, {"subPath"}).IsDefined()) << s.Where("volumeMounts")
                                                       << ": a subPath mount never updates";
      const YAML::Node volume = FindVolume(s, Scalar(mount, {"name"}));
      EXPECT_FALSE(Scalar(volume, {"secret", "secretName"}).empty())
          << s.doc->Where() << ": " << flag << " " << *file << " is not on a secret volume";
      const YAML::Node mode = At(volume, {"secret", "defaultMode"});
      ASSERT_TRUE(mode.IsDefined()) << s.doc->Where() << ": the Secret's defaultMode (0644 by "
                                    << "default) makes the key readable by every user";
      EXPECT_EQ(mode.as<int>() & 04, 0) << s.doc->Where() << ": defaultMode " << mode.Scalar();
    }
  }
  EXPECT_GE(tls_sidecars, 1) << "deploy/k8s: no TLS variant";
}

TEST_F(ManifestTest, ConfigMapRoutesParseAndPointAtTheApp) {
  for (const auto& doc : docs_) {
    if (doc.Kind() != "ConfigMap") continue;
    for (const auto& kv : At(doc.node, {"data"})) {
      std::string key = kv.first.Scalar();
      if (!key.ends_with(".yaml")) continue;
      std::string where = doc.Where() + ": data." + key;
      YAML::Node routes;
      try {
        routes = YAML::Load(kv.second.Scalar());
      } catch (const YAML::Exception& e) {
        ADD_FAILURE() << where << ": not YAML: " << e.what();
        continue;
      }
      ASSERT_TRUE(At(routes, {"clusters"}).IsSequence() && At(routes, {"clusters"}).size() > 0)
          << where << ": no clusters list";
      ASSERT_TRUE(At(routes, {"routes"}).IsSequence() && At(routes, {"routes"}).size() > 0)
          << where << ": no routes list";
      std::set<std::string> clusters;
      std::set<int> endpoint_ports;
      for (const auto& c : At(routes, {"clusters"})) {
        clusters.insert(Scalar(c, {"name"}));
        for (const auto& e : At(c, {"endpoints"})) {
          if (auto p = PortOf(e.Scalar())) endpoint_ports.insert(*p);
        }
      }
      for (const auto& r : At(routes, {"routes"})) {
        if (!At(r, {"cluster"}).IsDefined()) continue;
        EXPECT_TRUE(clusters.contains(At(r, {"cluster"}).Scalar()))
            << where << ": route " << Scalar(r, {"name"}) << " names unknown cluster "
            << At(r, {"cluster"}).Scalar();
      }
      // Every pod that mounts this ConfigMap runs an app container on each endpoint port.
      for (const auto& s : sidecars_) {
        bool mounts = false;
        for (const auto& v : At(s.pod_spec, {"volumes"})) {
          mounts = mounts || Scalar(v, {"configMap", "name"}) == doc.Name();
        }
        if (!mounts) continue;
        std::set<int> app_ports;
        for (const auto& c : At(s.pod_spec, {"containers"})) {
          if (Scalar(c, {"name"}) == Scalar(s.container, {"name"})) continue;
          for (const auto& p : At(c, {"ports"}))
            app_ports.insert(At(p, {"containerPort"}).as<int>());
        }
        for (int port : endpoint_ports) {
          EXPECT_TRUE(app_ports.contains(port))
              << where << ": endpoint port " << port << " is not a containerPort of the app in "
              << s.doc->Where();
        }
      }
    }
  }
}

TEST_F(ManifestTest, GracePeriodCoversTheDrain) {
  for (const auto& s : sidecars_) {
    auto drain_text = s.Flag("--drain-timeout");
    ASSERT_TRUE(drain_text) << s.Where("args") << ": no --drain-timeout (make it explicit)";
    auto drain = DurationSeconds(*drain_text);
    ASSERT_TRUE(drain) << s.Where("args") << ": --drain-timeout '" << *drain_text << "'";
    const YAML::Node grace = At(s.pod_spec, {"terminationGracePeriodSeconds"});
    ASSERT_TRUE(grace.IsDefined())
        << s.doc->Where() << ": spec.template.spec.terminationGracePeriodSeconds missing";
    // A native sidecar gets SIGTERM only after the app containers exited (after their preStop);
    // a plain sidecar gets it at the same time as the app. After the app's preStop drained the
    // sidecar (GET /drain?wait=), that SIGTERM ends it at once (an admin drain counts as the first
    // signal: AdminTest.SigtermAfterAnAdminDrainExitsAtOnce); if the hook fails, the app exits at
    // once and the sidecar drains after it. Either way the longer of the two bounds the total.
    double app_pre_stop = 0;
    bool drain_hook = false;
    for (const auto& c : At(s.pod_spec, {"containers"})) {
      if (Scalar(c, {"name"}) != Scalar(s.container, {"name"})) {
        app_pre_stop = std::max(app_pre_stop, PreStopSleepSeconds(c));
        if (auto hook = PreStopDrainHook(c); hook && hook->wait_seconds) {
          app_pre_stop = std::max(app_pre_stop, *hook->wait_seconds);
          drain_hook = true;
        }
      }
    }
    double needed = s.in_init_containers && !drain_hook ? app_pre_stop + *drain
                                                        : std::max(app_pre_stop, *drain);
    EXPECT_GT(grace.as<double>(), needed)
        << s.doc->Where() << ": spec.template.spec.terminationGracePeriodSeconds " << grace.Scalar()
        << " must exceed " << needed << " s (--drain-timeout " << *drain_text
        << (s.in_init_containers && !drain_hook ? " after" : ", alongside")
        << " the app's preStop of " << app_pre_stop
        << " s), or the kubelet SIGKILLs rwproxy mid-drain";
  }
}

// Native variant: the app's preStop drains the sidecar (GET /drain?wait=D on its admin port), so
// that the app stops only once no request flows through the sidecar; the sidecar itself is
// stopped after the app. Legacy variant: both get SIGTERM together, and a SIGTERM after an admin
// drain exits at once, so the app must not start the drain; it sleeps through it instead.
TEST_F(ManifestTest, AppPreStopDrainsANativeSidecar) {
  for (const auto& s : sidecars_) {
    auto admin_port = FlagPort(s, "--admin");
    if (!admin_port) continue;
    for (const auto& c : At(s.pod_spec, {"containers"})) {
      const std::string name = Scalar(c, {"name"});
      if (name == Scalar(s.container, {"name"})) continue;
      const std::string where =
          s.doc->Where() + ": spec.template.spec.containers(" + name + ").lifecycle.preStop";
      auto hook = PreStopDrainHook(c);
      if (!s.in_init_containers) {
        EXPECT_FALSE(hook) << where << ": the plain sidecar gets SIGTERM together with the app, "
                           << "and a SIGTERM after an admin drain exits at once, cutting the "
                              "requests in flight; sleep through the drain instead";
        continue;
      }
      if (!hook) {
        ADD_FAILURE() << where << ": want httpGet {path: /drain?wait=20s, port: " << *admin_port
                      << "} (the sidecar's --admin port), so that the app stops only once no "
                         "request flows through the sidecar";
        continue;
      }
      EXPECT_EQ(ResolveContainerPort(c, hook->port), admin_port)
          << where << ".httpGet.port: '" << hook->port.Scalar() << "' is not the sidecar's --admin "
          << "port " << *admin_port << " (a hook's named port is looked up in " << name
          << "'s own ports)";
      EXPECT_EQ(hook->host, "")
          << where << ".httpGet.host: leave it unset: the kubelet then calls the pod IP, where "
          << "--admin listens";
      EXPECT_TRUE(hook->scheme.empty() || hook->scheme == "HTTP")
          << where << ".httpGet.scheme: the admin listener speaks plain HTTP";
      ASSERT_TRUE(hook->wait_seconds) << where << ".httpGet.path: '" << hook->path
                                      << "' has no ?wait=DURATION (rwproxy answers 400)";
      EXPECT_TRUE(*hook->wait_seconds > 0 && *hook->wait_seconds <= 300)
          << where << ".httpGet.path: wait must be in (0, 5m]";
      EXPECT_TRUE(hook->min_seconds >= 0 && hook->min_seconds <= *hook->wait_seconds)
          << where << ".httpGet.path: min must be a duration no longer than wait";
    }
  }
}

TEST_F(ManifestTest, AccessLogGoesToStdout) {
  for (const auto& s : sidecars_) {
    EXPECT_EQ(s.Flag("--access-log").value_or("off"), "stdout")
        << s.Where("args") << ": want --access-log stdout (kubectl logs -c rwproxy then shows one "
        << "line per request)";
  }
}

TEST_F(ManifestTest, ReadOnlyRootWithWritableStateDir) {
  for (const auto& s : sidecars_) {
    EXPECT_EQ(Scalar(s.container, {"securityContext", "readOnlyRootFilesystem"}), "true")
        << s.Where("securityContext.readOnlyRootFilesystem") << ": want true";
    auto state_dir = s.Flag("--state-dir");
    if (!state_dir) {
      ADD_FAILURE() << s.Where("args") << ": no --state-dir (config history lost on restart)";
      continue;
    }
    bool writable = false;
    for (const auto& m : At(s.container, {"volumeMounts"})) {
      if (Scalar(m, {"mountPath"}) != *state_dir) continue;
      const YAML::Node volume = FindVolume(s, Scalar(m, {"name"}));
      EXPECT_NE(Scalar(m, {"readOnly"}), "true")
          << s.Where("volumeMounts") << ": " << *state_dir << " is mounted readOnly";
      EXPECT_TRUE(At(volume, {"emptyDir"}).IsDefined() ||
                  At(volume, {"persistentVolumeClaim"}).IsDefined() ||
                  At(volume, {"ephemeral"}).IsDefined())
          << s.doc->Where() << ": volume " << Scalar(m, {"name"}) << " for --state-dir "
          << *state_dir << " is not a writable volume (emptyDir or a claim)";
      writable = true;
    }
    EXPECT_TRUE(writable) << s.Where("volumeMounts") << ": --state-dir " << *state_dir
                          << " is not a mounted volume; the read-only root makes it unwritable";
  }
}

TEST_F(ManifestTest, RunsAsNonRootWithoutPrivileges) {
  for (const auto& s : sidecars_) {
    std::string non_root = Scalar(s.container, {"securityContext", "runAsNonRoot"});
    if (non_root.empty()) non_root = Scalar(s.pod_spec, {"securityContext", "runAsNonRoot"});
    EXPECT_EQ(non_root, "true") << s.Where("securityContext.runAsNonRoot") << ": want true";
    EXPECT_EQ(Scalar(s.container, {"securityContext", "runAsUser"}), "10001")
        << s.Where("securityContext.runAsUser") << ": want 10001, the image's user";
    EXPECT_EQ(Scalar(s.container, {"securityContext", "allowPrivilegeEscalation"}), "false")
        << s.Where("securityContext.allowPrivilegeEscalation") << ": want false";
    const YAML::Node drop = At(s.container, {"securityContext", "capabilities", "drop"});
    EXPECT_TRUE(drop.IsSequence() && drop.size() == 1 && drop[0].Scalar() == "ALL")
        << s.Where("securityContext.capabilities.drop") << ": want [ALL]";
  }
}

TEST_F(ManifestTest, ControlApiStaysInsideThePod) {
  for (const auto& s : sidecars_) {
    std::string control = s.Flag("--control").value_or("127.0.0.1:15010");
    if (control.starts_with("unix:") || control == "off" || s.Flag("--control-token-file"))
      continue;
    std::string host = HostOf(control);
    EXPECT_TRUE(host == "127.0.0.1" || host == "::1" || host == "localhost")
        << s.Where("args") << ": --control " << control
        << " is reachable from outside the pod without --control-token-file (rwproxy refuses it)";
  }
}

TEST_F(ManifestTest, ResourcesAreRequestedAndLimited) {
  for (const auto& s : sidecars_) {
    for (const char* kind : {"requests", "limits"}) {
      for (const char* resource : {"cpu", "memory"}) {
        EXPECT_FALSE(Scalar(s.container, {"resources", kind, resource}).empty())
            << s.Where(std::string("resources.") + kind + "." + resource) << ": missing";
      }
    }
  }
}

TEST_F(ManifestTest, DockerfileMatchesTheManifests) {
  const std::string path = "deploy/Dockerfile";
  std::ifstream in(kSourceDir + "/" + path);
  ASSERT_TRUE(in) << path << ": cannot read";
  std::set<int> exposed;
  std::string line, entrypoint, user;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string instruction;
    words >> instruction;
    if (instruction == "EXPOSE") {
      for (std::string port; words >> port;) exposed.insert(std::atoi(port.c_str()));
    } else if (instruction == "ENTRYPOINT") {
      std::getline(words, entrypoint);
    } else if (instruction == "USER") {
      words >> user;
    }
  }
  EXPECT_NE(entrypoint.find("[\"rwproxy\"]"), std::string::npos)
      << path << ": ENTRYPOINT is '" << entrypoint
      << "', want [\"rwproxy\"] (the manifests pass args only)";
  EXPECT_TRUE(user.starts_with("10001"))
      << path << ": USER is '" << user << "', want 10001 (the manifests' runAsUser)";
  for (const auto& s : sidecars_) {
    for (const char* flag : {"--listen", "--admin", "--control"}) {
      auto value = s.Flag(flag);
      if (!value) continue;
      auto port = PortOf(*value);
      if (!port) continue;
      EXPECT_TRUE(exposed.contains(*port)) << path << ": EXPOSE lacks " << *port << ", the " << flag
                                           << " port of " << s.Where("args");
    }
  }
}

}  // namespace
}  // namespace rwproxy::deploy_test
