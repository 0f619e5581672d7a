#include "config/translate_match.h"

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"

namespace rwproxy::config::translate_internal {
namespace {

namespace v1 = ::rwproxy::config::v1;

bool HasCrLfNul(absl::string_view s) {
  return s.find_first_of(absl::string_view("\r\n\0", 3)) != absl::string_view::npos;
}

void TranslatePath(const v1::Match& match, const std::string& path, MatchSpec* spec,
                   Errors* errors) {
  switch (match.path_case()) {
    case v1::Match::kPathPrefix:
      spec->kind = MatchSpec::Kind::kPrefix;
      spec->path = match.path_prefix();
      CheckPath(spec->path, path + ".path_prefix", errors);
      break;
    case v1::Match::kPathExact:
      spec->kind = MatchSpec::Kind::kExact;
      spec->path = match.path_exact();
      CheckPath(spec->path, path + ".path_exact", errors);
      break;
    case v1::Match::kPathRegex:
      spec->kind = MatchSpec::Kind::kRegex;
      spec->path = match.path_regex();
      if (spec->path.empty()) errors->Add(path + ".path_regex", "must not be empty");
      break;
    case v1::Match::PATH_NOT_SET:
      errors->Add(path, "one of path_prefix, path_exact, path_regex is required");
      break;
  }
  spec->case_insensitive = match.case_insensitive();
}

void TranslateMethods(const v1::Match& match, const std::string& path, MatchSpec* spec,
                      Errors* errors) {
  for (int i = 0; i < match.methods_size(); ++i) {
    const std::string& method = match.methods(i);
    std::string field = absl::StrCat(path, ".methods[", i, "]");
    if (!IsToken(method) || absl::AsciiStrToUpper(method) != method) {
      errors->Add(field, absl::StrCat("invalid method '", method,
                                      "': use an uppercase HTTP token such as GET"));
    } else if (std::find(spec->methods.begin(), spec->methods.end(), method) !=
               spec->methods.end()) {
      errors->Add(field, absl::StrCat("duplicate method '", method, "'"));
    } else {
      spec->methods.push_back(method);
    }
  }
}

// Why `host` (lowercase) is not a host pattern, or "".
std::string HostProblem(const std::string& host) {
  if (host.empty()) return "host must not be empty";
  if (host[0] == '[') {  // an IPv6 literal, as in a Host header
    absl::string_view inside = absl::string_view(host).substr(1);
    const bool ok = absl::ConsumeSuffix(&inside, "]") && !inside.empty() &&
                    std::all_of(inside.begin(), inside.end(), [](char c) {
                      return absl::ascii_isxdigit(c) || c == ':' || c == '.';
                    });
    if (ok) return "";
    return absl::StrCat("invalid host '", host, "': an IPv6 address is written '[::1]', no port");
  }
  if (host.find(':') != std::string::npos) {
    return absl::StrCat("invalid host '", host, "': ports are not compared; write the host only ('",
                        host.substr(0, host.find(':')), "')");
  }
  absl::string_view name = host;
  if (absl::StartsWith(name, "*.")) name.remove_prefix(2);
  if (name.find('*') != absl::string_view::npos) {
    return absl::StrCat("invalid host '", host,
                        "': a wildcard is only allowed as a leading '*.', e.g. '*.example.com'");
  }
  const bool chars_ok = std::all_of(name.begin(), name.end(), [](char c) {
    return absl::ascii_isalnum(c) || c == '-' || c == '.';
  });
  if (!chars_ok || name.empty() || name.front() == '.' || name.back() == '.' ||
      absl::StrContains(name, "..")) {
    return absl::StrCat("invalid host '", host, "': use letters, digits, '-' and '.'");
  }
  return "";
}

void TranslateHosts(const v1::Match& match, const std::string& path, MatchSpec* spec,
                    Errors* errors) {
  absl::flat_hash_map<std::string, int> seen;
  for (int j = 0; j < match.hosts_size(); ++j) {
    const std::string field = absl::StrCat(path, ".hosts[", j, "]");
    std::string host = absl::AsciiStrToLower(match.hosts(j));
    if (std::string problem = HostProblem(host); !problem.empty()) {
      errors->Add(field, std::move(problem));
      continue;
    }
    auto [it, inserted] = seen.emplace(host, j);
    if (!inserted) {
      errors->Add(field, absl::StrCat("duplicate host '", host, "' (first at ", path, ".hosts[",
                                      it->second, "])"));
      continue;
    }
    spec->hosts.push_back(std::move(host));
  }
}

// `headers:` written as a map (name: exact value), as before the list form existed.
void TranslateLegacyHeaders(const v1::Match& match, const std::string& path, MatchSpec* spec,
                            Errors* errors) {
  std::vector<std::pair<std::string, std::string>> headers(match.legacy_headers().begin(),
                                                           match.legacy_headers().end());
  std::sort(headers.begin(), headers.end());  // map order is unspecified; keep output stable
  std::vector<HeaderCondition> out;
  for (const auto& [name, value] : headers) {
    std::string field = absl::StrCat(path, ".headers.", name);
    std::string lower = absl::AsciiStrToLower(name);
    if (!IsToken(name)) {
      errors->Add(field, absl::StrCat("invalid header name '", name, "'"));
    } else if (HasCrLfNul(value)) {
      errors->Add(field, "header value must not contain CR, LF or NUL");
    } else if (std::any_of(out.begin(), out.end(),
                           [&](const HeaderCondition& h) { return h.name == lower; })) {
      errors->Add(field, absl::StrCat("duplicate header '", lower,
                                      "' (header names are case-insensitive)"));
    } else {
      HeaderCondition condition;
      condition.name = std::move(lower);
      condition.value = value;
      out.push_back(std::move(condition));
    }
  }
  std::sort(out.begin(), out.end(),
            [](const HeaderCondition& a, const HeaderCondition& b) { return a.name < b.name; });
  for (HeaderCondition& condition : out) spec->headers.push_back(std::move(condition));
}

// One entry of the `headers:` list; false (after reporting) when it is unusable.
bool TranslateHeaderMatch(const v1::HeaderMatch& header, const std::string& field,
                          HeaderCondition* out, Errors* errors) {
  const size_t errors_before = errors->count();
  out->name = absl::AsciiStrToLower(header.name());
  out->invert = header.invert();
  const bool pseudo = !out->name.empty() && out->name[0] == ':';
  if (out->name.empty()) {
    errors->Add(field + ".name", "header name is required");
  } else if (pseudo && out->name != ":method" && out->name != ":path") {
    errors->Add(field + ".name",
                absl::StrCat("unknown pseudo-header '", header.name(), "' (use :method or :path)"));
  } else if (!pseudo && !IsToken(out->name)) {
    errors->Add(field + ".name", absl::StrCat("invalid header name '", header.name(), "'"));
  }
  switch (header.value_case()) {
    case v1::HeaderMatch::kExact:
      out->kind = HeaderCondition::Kind::kExact;
      out->value = header.exact();
      if (HasCrLfNul(out->value)) {
        errors->Add(field + ".exact", "header value must not contain CR, LF or NUL");
      }
      break;
    case v1::HeaderMatch::kRegex:
      out->kind = HeaderCondition::Kind::kRegex;
      out->value = header.regex();
      if (out->value.empty()) {
        errors->Add(field + ".regex", "must not be empty (present: true requires the header)");
      } else if (HasCrLfNul(out->value)) {
        errors->Add(field + ".regex", "must not contain CR, LF or NUL");
      }
      break;
    case v1::HeaderMatch::kPresent:
      out->kind = HeaderCondition::Kind::kPresent;
      out->present = header.present();
      if (pseudo) {
        errors->Add(field + ".present", absl::StrCat("'", out->name, "' is always present"));
      } else if (header.invert()) {
        errors->Add(field + ".invert",
                    "invert does not combine with present: write present: true or false");
      }
      break;
    case v1::HeaderMatch::VALUE_NOT_SET:
      errors->Add(field, "one of exact, regex, present is required");
      break;
  }
  return errors->count() == errors_before;
}

void TranslateQuery(const v1::Match& match, const std::string& path, MatchSpec* spec,
                    Errors* errors) {
  if (!match.has_query()) return;
  const std::string& regex = match.query().regex();
  if (regex.empty()) {
    errors->Add(path + ".query.regex", "must not be empty");
  } else if (HasCrLfNul(regex)) {
    errors->Add(path + ".query.regex", "must not contain CR, LF or NUL");
  } else {
    spec->query = QueryCondition{regex, match.query().invert()};
  }
}

}  // namespace

MatchSpec TranslateMatch(const v1::Match& match, const std::string& path, Errors* errors) {
  MatchSpec spec;
  TranslatePath(match, path, &spec, errors);
  TranslateMethods(match, path, &spec, errors);
  TranslateHosts(match, path, &spec, errors);
  TranslateLegacyHeaders(match, path, &spec, errors);
  for (int j = 0; j < match.headers_size(); ++j) {
    HeaderCondition condition;
    if (TranslateHeaderMatch(match.headers(j), absl::StrCat(path, ".headers[", j, "]"), &condition,
                             errors)) {
      spec.headers.push_back(std::move(condition));
    }
  }
  TranslateQuery(match, path, &spec, errors);
  return spec;
}

QueryMode TranslateQueryMode(const std::string& text, const std::string& field, Errors* errors) {
  if (text.empty() || text == "keep") return QueryMode::kKeep;
  if (text == "discard") return QueryMode::kDiscard;
  if (text == "append") return QueryMode::kAppend;
  errors->Add(field, absl::StrCat("must be keep, discard or append, got '", text, "'"));
  return QueryMode::kKeep;
}

}  // namespace rwproxy::config::translate_internal
