// The fixture of the Kubernetes manifest tests (manifest_test.cc: how the sidecar is wired into
// the pod, its ports, Service and ConfigMap; manifest_pod_test.cc: its life cycle, security and
// image): every document of deploy/k8s/*.yaml and the rwproxy sidecars found in them.
//
// Ownership: gtest owns each fixture instance. Thread-safety: the test's thread.
#ifndef RWPROXY_TESTS_DEPLOY_MANIFEST_FIXTURE_H_
#define RWPROXY_TESTS_DEPLOY_MANIFEST_FIXTURE_H_

#include <optional>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "tests/deploy/k8s_manifests.h"

namespace rwproxy::deploy_test {

inline const std::string kSourceDir = RW_SOURCE_DIR;

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

}  // namespace rwproxy::deploy_test

#endif  // RWPROXY_TESTS_DEPLOY_MANIFEST_FIXTURE_H_
