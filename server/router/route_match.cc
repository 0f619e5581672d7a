#include "server/router/route_match.h"

#include <algorithm>
#include <optional>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "server/util/sv.h"

namespace rwproxy::router_internal {
namespace {

using Source = CompiledHeaderCondition::Source;
using Kind = HeaderCondition::Kind;

// A condition as Explain shows it, and why it failed.
struct Description {
  std::string condition;
  std::string failure;
};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return absl::EqualsIgnoreCase(Sv(a), Sv(b));
}

// An unanchored search; fills groups[0..n) when it matches.
bool Search(const RE2& regex, std::string_view text, std::string_view* groups, int n) {
  re2::StringPiece sub[kMaxRouteGroups + 1];
  re2::StringPiece input(text.data(), text.size());
  if (!regex.Match(input, 0, input.size(), RE2::UNANCHORED, sub, n)) return false;
  for (int i = 0; i < n; ++i) groups[i] = std::string_view(sub[i].data(), sub[i].size());
  return true;
}

bool MatchPath(const CompiledRoute& route, std::string_view path, std::string_view* groups) {
  groups[0] = path;
  switch (route.kind) {
    case MatchSpec::Kind::kPrefix:
      if (!route.case_insensitive) return path.starts_with(route.path);
      return path.size() >= route.path.size() &&
             EqualsIgnoreCase(path.substr(0, route.path.size()), route.path);
    case MatchSpec::Kind::kExact:
      return route.case_insensitive ? EqualsIgnoreCase(path, route.path) : path == route.path;
    case MatchSpec::Kind::kRegex:
      return Search(*route.regex, path, groups, route.group_count + 1);
  }
  return false;
}

Description DescribePath(const CompiledRoute& route) {
  const std::string any_case = route.case_insensitive ? " (any case)" : "";
  switch (route.kind) {
    case MatchSpec::Kind::kPrefix:
      return {absl::StrCat("path starts with ", route.path, any_case),
              absl::StrCat("path does not start with ", route.path, any_case)};
    case MatchSpec::Kind::kExact:
      return {absl::StrCat("path is ", route.path, any_case),
              absl::StrCat("path is not ", route.path, any_case)};
    case MatchSpec::Kind::kRegex:
      break;
  }
  return {absl::StrCat("path matches ", route.regex->pattern(), any_case),
          absl::StrCat("path does not match ", route.regex->pattern(), any_case)};
}

bool HostMatches(const std::string& pattern, std::string_view host) {
  if (pattern.size() > 2 && pattern[0] == '*') {  // "*.example.com": one label or more before it
    const std::string_view suffix = std::string_view(pattern).substr(1);
    return host.size() > suffix.size() &&
           EqualsIgnoreCase(host.substr(host.size() - suffix.size()), suffix);
  }
  return EqualsIgnoreCase(host, pattern);
}

std::optional<std::string_view> ValueOf(const CompiledHeaderCondition& condition,
                                        const RouteRequest& request) {
  switch (condition.source) {
    case Source::kMethod:
      return request.method;
    case Source::kPath:
      return request.path;
    case Source::kHeader:
      break;
  }
  if (request.headers == nullptr) return std::nullopt;
  return request.headers->Find(condition.spec.name);
}

// groups/n: where the regex's groups go (n = 0: nowhere).
bool HeaderHolds(const CompiledHeaderCondition& condition, std::optional<std::string_view> value,
                 std::string_view* groups, int n) {
  bool held = false;
  switch (condition.spec.kind) {
    case Kind::kExact:
      held = value && *value == condition.spec.value;
      break;
    case Kind::kRegex:
      held = value && Search(*condition.regex, *value, groups, n);
      break;
    case Kind::kPresent:
      held = value.has_value() == condition.spec.present;
      break;
  }
  return held != condition.spec.invert;
}

std::string Label(const CompiledHeaderCondition& condition) {
  return condition.source == Source::kHeader ? "header " + condition.spec.name
                                             : condition.spec.name;
}

Description DescribeHeader(const CompiledHeaderCondition& condition, bool missing) {
  const HeaderCondition& spec = condition.spec;
  const std::string label = Label(condition);
  Description d;
  switch (spec.kind) {
    case Kind::kExact:
      d = {absl::StrCat(label, " is '", spec.value, "'"),
           absl::StrCat(label, " is not '", spec.value, "'")};
      break;
    case Kind::kRegex:
      d = {absl::StrCat(label, " matches ", spec.value),
           absl::StrCat(label, " does not match ", spec.value)};
      break;
    case Kind::kPresent:
      d = spec.present ? Description{label + " is present", label + " is missing"}
                       : Description{label + " is absent", label + " is present (must be absent)"};
      return d;
  }
  if (spec.invert) {
    d.condition += " (inverted)";
    d.failure = d.condition;
  } else if (missing) {
    d.failure = label + " is missing";
  }
  return d;
}

std::string_view RawQuery(const RouteRequest& request) {
  return request.query.empty() ? request.query : request.query.substr(1);
}

// Collects the outcome of each condition: stops at the first failure unless a trace records
// every condition (Explain).
class Evaluation {
 public:
  explicit Evaluation(MatchTrace* trace) : trace_(trace) {}
  // Returns false when matching should stop. `describe` runs only when tracing.
  template <typename Describe>
  bool Record(bool held, Describe describe) {
    held_ = held_ && held;
    if (trace_ == nullptr) return held;
    Description d = describe();
    if (!held && trace_->reason.empty()) trace_->reason = std::move(d.failure);
    trace_->conditions.push_back({std::move(d.condition), held});
    return true;
  }
  bool held() const { return held_; }

 private:
  MatchTrace* trace_;
  bool held_ = true;
};

}  // namespace

std::string_view RequestHost(const RouteRequest& request) {
  std::string_view host = request.host;
  if (host.empty() && request.headers != nullptr) {
    if (auto field = request.headers->Find("host")) host = *field;
  }
  if (!host.empty() && host[0] == '[') {
    const size_t close = host.find(']');
    if (close != std::string_view::npos) host = host.substr(0, close + 1);
  } else {
    host = host.substr(0, host.find(':'));
  }
  if (!host.empty() && host.back() == '.') host.remove_suffix(1);
  return host;
}

bool MatchRoute(const CompiledRoute& route, const RouteRequest& request, MatchGroups* groups,
                MatchTrace* trace) {
  Evaluation e(trace);
  if (!e.Record(MatchPath(route, request.path, groups->path),
                [&] { return DescribePath(route); })) {
    return false;
  }
  if (!route.methods.empty()) {
    const bool held = std::find(route.methods.begin(), route.methods.end(), request.method) !=
                      route.methods.end();
    auto describe = [&] {
      const std::string methods = absl::StrJoin(route.methods, ", ");
      return Description{absl::StrCat("method is one of ", methods),
                         absl::StrCat("method ", Sv(request.method), " is not one of ", methods)};
    };
    if (!e.Record(held, describe)) return false;
  }
  if (!route.hosts.empty()) {
    const std::string_view host = RequestHost(request);
    const bool held = std::any_of(route.hosts.begin(), route.hosts.end(),
                                  [&](const std::string& h) { return HostMatches(h, host); });
    auto describe = [&] {
      const std::string hosts = absl::StrJoin(route.hosts, ", ");
      return Description{absl::StrCat("host is one of ", hosts),
                         host.empty() ? absl::StrCat("host is missing (not one of ", hosts, ")")
                                      : absl::StrCat("host ", Sv(host), " is not one of ", hosts)};
    };
    if (!e.Record(held, describe)) return false;
  }
  const bool header_capture = route.capture_from == CompiledRoute::CaptureFrom::kHeader;
  for (size_t i = 0; i < route.headers.size(); ++i) {
    const CompiledHeaderCondition& condition = route.headers[i];
    const std::optional<std::string_view> value = ValueOf(condition, request);
    const bool capture = header_capture && route.capture_index == static_cast<int>(i);
    const bool held = HeaderHolds(condition, value, groups->condition,
                                  capture ? route.capture_group_count + 1 : 0);
    if (!e.Record(held, [&] { return DescribeHeader(condition, !value.has_value()); })) {
      return false;
    }
  }
  if (route.query) {
    const bool capture = route.capture_from == CompiledRoute::CaptureFrom::kQuery;
    const bool found = Search(*route.query_regex, RawQuery(request), groups->condition,
                              capture ? route.capture_group_count + 1 : 0);
    auto describe = [&] {
      std::string condition = absl::StrCat("query matches ", route.query->regex);
      if (route.query->invert) {
        condition += " (inverted)";
        return Description{condition, condition};
      }
      return Description{condition, absl::StrCat("query does not match ", route.query->regex)};
    };
    if (!e.Record(found != route.query->invert, describe)) return false;
  }
  return e.held();
}

std::string DescribeCaptureCondition(const CompiledRoute& route) {
  switch (route.capture_from) {
    case CompiledRoute::CaptureFrom::kHeader: {
      const CompiledHeaderCondition& condition = route.headers[route.capture_index];
      return absl::StrCat(Label(condition), " matches ", condition.spec.value);
    }
    case CompiledRoute::CaptureFrom::kQuery:
      return absl::StrCat("query matches ", route.query->regex);
    case CompiledRoute::CaptureFrom::kNone:
      break;
  }
  return "";
}

}  // namespace rwproxy::router_internal
