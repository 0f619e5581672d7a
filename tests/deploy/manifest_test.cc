// Checks how the rwproxy sidecar is wired into its pod in the Kubernetes manifests
// (deploy/k8s/*.yaml): probes on the --admin port with the right paths, container ports and the
// Service on the --listen (or --tls-listen) port, the ConfigMap behind --config and its routes.
// Life cycle, security and the image: manifest_pod_test.cc. Every failure names the file, the
// object and the field.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/deploy/manifest_fixture.h"

namespace rwproxy::deploy_test {
namespace {

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


}  // namespace
}  // namespace rwproxy::deploy_test
