// The sidecar's life cycle, security and image in the Kubernetes manifests (deploy/k8s/*.yaml)
// and deploy/Dockerfile: a grace period longer than the drain, the app's preStop draining a native
// sidecar, the access log on stdout, a read-only root with a writable --state-dir, non-root, the
// control API kept inside the pod, requested and limited resources, TLS files from a Secret, and
// an image that matches. Every failure names the file, the object and the field.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "gtest/gtest.h"
#include "tests/deploy/manifest_fixture.h"

namespace rwproxy::deploy_test {
namespace {

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
