// libFuzzer target for Explain's input: an ExplainRequest built from the fuzz bytes, checked
// against Explain's limits (CheckExplainRequest) and, when accepted, routed on a compiled snapshot
// with every kind of route (prefix, exact, regex with captures, methods, headers, rewrites,
// redirect, respond, weighted split).
//
// Input: line 1 the method, line 2 the path (with its query), then one header per line,
// "name: value". A line "name*N: value" repeats the value N * 1024 times, so inputs stay small
// while headers cross the 64 KiB limit.
// Invariants beyond "no crash": a refusal is INVALID_ARGUMENT naming a field; an accepted request
// gets one check per route tried, in order, ending at the match; a match names its route and an
// action that fits it.
//
// Built with clang (tests/fuzz/run.sh) or, without libFuzzer, as a corpus replay test (CTest).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "config/config_yaml.h"
#include "control/config_build.h"
#include "control/explain.h"
#include "tests/fuzz/require.h"

namespace {


constexpr char kConfig[] = R"(clusters:
  - {name: app, endpoints: ["127.0.0.1:8080"]}
  - {name: pool, endpoints: ["127.0.0.1:9001", "127.0.0.1:9002"], lb_policy: least_request}
routes:
  - name: docs
    match: {path_prefix: /docs/}
    redirect: {location: "https://docs.example.com$0", status: 301}
  - name: canary
    match: {path_prefix: /api/, headers: {x-canary: "1", X-Tenant: acme}}
    backends: [{cluster: app, weight: 9}, {cluster: pool, weight: 1}]
  - name: api
    match: {path_regex: "^/api/(v[0-9]+)/(.*)$", methods: [GET, POST]}
    rewrite: {path: "/$2?version=$1", host: internal.example}
    cluster: app
  - name: exact
    match: {path_exact: /exact}
    respond: {status: 204}
  - name: many
    match: {path_prefix: /many/}
    rewrite: {prefix: /}
    cluster: pool
  - name: deny
    match: {path_prefix: /admin}
    respond: {status: 403, body: "no\n"}
http: {merge_slashes: true}
)";

const rwproxy::Snapshot& TheSnapshot() {
  static const std::shared_ptr<const rwproxy::Snapshot> snapshot = [] {
    rwproxy::config::v1::Config config;
    std::vector<rwproxy::yaml::YamlError> yaml_errors;
    Require(rwproxy::yaml::ParseConfig(kConfig, &config, nullptr, &yaml_errors));
    std::vector<rwproxy::FieldError> errors;
    auto built = rwproxy::control::BuildSnapshot(config, 1, &errors);
    Require(built != nullptr && errors.empty());
    return built;
  }();
  return *snapshot;
}

std::string_view NextLine(std::string_view* data) {
  const size_t nl = data->find('\n');
  std::string_view line = data->substr(0, nl);
  data->remove_prefix(nl == std::string_view::npos ? data->size() : nl + 1);
  return line;
}

rwproxy::control::v1::ExplainRequest RequestOf(std::string_view data) {
  rwproxy::control::v1::ExplainRequest request;
  request.set_method(std::string(NextLine(&data)));
  request.set_path(std::string(NextLine(&data)));
  while (!data.empty()) {
    std::string_view line = NextLine(&data);
    const size_t colon = line.find(':');
    std::string_view name = line.substr(0, colon);
    std::string_view value =
        colon == std::string_view::npos ? std::string_view() : line.substr(colon + 1);
    if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    size_t repeat = 1;
    if (const size_t star = name.find('*'); star != std::string_view::npos) {
      repeat = 0;
      for (char c : name.substr(star + 1, 3)) {
        if (c >= '0' && c <= '9') repeat = repeat * 10 + static_cast<size_t>(c - '0');
      }
      repeat *= 1024;
      name = name.substr(0, star);
    }
    std::string full;
    for (size_t i = 0; i < repeat && full.size() < (1u << 20); ++i) full.append(value);
    (*request.mutable_headers())[std::string(name)] = std::move(full);
  }
  return request;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const rwproxy::control::v1::ExplainRequest request =
      RequestOf(std::string_view(reinterpret_cast<const char*>(data), size));
  const absl::Status checked = rwproxy::control::CheckExplainRequest(request);
  if (!checked.ok()) {
    Require(checked.code() == absl::StatusCode::kInvalidArgument);
    Require(!checked.message().empty() && checked.message().find("limit ") != std::string::npos);
    return 0;
  }
  const rwproxy::Snapshot& snapshot = TheSnapshot();
  const rwproxy::control::v1::ExplainResponse response =
      rwproxy::control::Explain(snapshot, request);
  Require(response.version() == 1);
  Require(static_cast<size_t>(response.checks_size()) <= snapshot.routes.size());
  for (int i = 0; i + 1 < response.checks_size(); ++i) Require(!response.checks(i).matched());
  if (!response.matched()) {
    Require(response.action().empty());
    return 0;
  }
  Require(response.checks_size() > 0 && response.checks().rbegin()->matched());
  Require(response.route() == response.checks().rbegin()->route());
  const std::string& action = response.action();
  Require(action == "cluster" || action == "redirect" || action == "respond");
  if (action == "cluster") {
    Require(response.backends_size() >= 1 && !response.cluster().empty());
    double total = 0;
    for (const auto& backend : response.backends()) total += backend.probability();
    Require(total > 0.999 && total < 1.001);
  } else {
    Require(response.status() >= 200 && response.status() <= 599);
  }
  if (action == "redirect") Require(!response.location().empty());
  return 0;
}
