// Helpers shared by the resilience translation tests: YAML -> Config with every parse error a
// test failure, and FieldErrors as text.
//
// Ownership: free functions. Thread-safety: test thread.
#ifndef RWPROXY_TESTS_CONTROL_TRANSLATE_RESILIENCE_UTIL_H_
#define RWPROXY_TESTS_CONTROL_TRANSLATE_RESILIENCE_UTIL_H_

#include <cmath>
#include <limits>
#include <string>
#include <variant>
#include <vector>

#include "config/translate.h"
#include "gtest/gtest.h"
#include "config/config_yaml.h"

namespace rwproxy::config {

using config::v1::Config;

// Two clusters, for rows about routes.
inline constexpr char kClusters[] =
    "clusters: [{name: app, endpoints: ['127.0.0.1:80']}, {name: canary, endpoints: ['a:1']}]\n";

inline Config Parse(const std::string& text) {
  Config config;
  std::vector<yaml::YamlError> errors;
  bool ok = yaml::ParseConfig(text, &config, nullptr, &errors);
  EXPECT_TRUE(ok) << text;
  for (const auto& e : errors) ADD_FAILURE() << e.field << ": " << e.message;
  return config;
}

inline std::string Describe(const std::vector<FieldError>& errors) {
  std::string out;
  for (const FieldError& e : errors) out += e.field + ": " + e.message + "\n";
  return out;
}

}  // namespace rwproxy::config

#endif  // RWPROXY_TESTS_CONTROL_TRANSLATE_RESILIENCE_UTIL_H_
