// Helpers for the router's tests: a header list and route specs.
//
// Ownership: values owned by the test. Thread-safety: the test's thread.
#ifndef RWPROXY_TESTS_SERVER_ROUTE_TEST_UTIL_H_
#define RWPROXY_TESTS_SERVER_ROUTE_TEST_UTIL_H_

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/match.h"
#include "server/router/route_table.h"

namespace rwproxy {

// A header list for route matching (names compared case-insensitively; the first field wins).
class TestHeaders : public HeaderSource {
 public:
  void set(std::string name, std::string value) {
    for (auto& [key, old] : fields_) {
      if (absl::EqualsIgnoreCase(key, name)) {
        old = std::move(value);
        return;
      }
    }
    fields_.emplace_back(std::move(name), std::move(value));
  }
  void clear() { fields_.clear(); }
  std::optional<std::string_view> Find(std::string_view name) const override {
    for (const auto& [key, value] : fields_) {
      if (absl::EqualsIgnoreCase(key, absl::string_view(name.data(), name.size()))) {
        return std::string_view(value);
      }
    }
    return std::nullopt;
  }

 private:
  std::vector<std::pair<std::string, std::string>> fields_;
};

inline RouteSpec MakeRoute(std::string name, MatchSpec::Kind kind, std::string path) {
  RouteSpec r;
  r.name = std::move(name);
  r.match.kind = kind;
  r.match.path = std::move(path);
  r.action = ClusterAction{{BackendSpec{"app", 1}}};
  return r;
}

inline HeaderCondition Exact(std::string name, std::string value, bool invert = false) {
  return {std::move(name), HeaderCondition::Kind::kExact, std::move(value), true, invert};
}
inline HeaderCondition Regex(std::string name, std::string pattern, bool invert = false) {
  return {std::move(name), HeaderCondition::Kind::kRegex, std::move(pattern), true, invert};
}
inline HeaderCondition Present(std::string name, bool present) {
  return {std::move(name), HeaderCondition::Kind::kPresent, "", present, false};
}

}  // namespace rwproxy

#endif  // RWPROXY_TESTS_SERVER_ROUTE_TEST_UTIL_H_
