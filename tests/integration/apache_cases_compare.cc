#include "tests/integration/apache_cases_compare.h"

#include <algorithm>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace rwtest {
namespace {

constexpr char kAbsent[] = "(absent)";
constexpr char kNone[] = "(none)";

// The values of every line named `name` (any case) in order, joined with ", " (the list form
// HTTP treats as equal to repeated lines), or kAbsent.
std::string JoinValues(const Headers& headers, const std::string& name) {
  std::vector<std::string> values;
  for (const auto& [key, value] : headers) {
    if (absl::EqualsIgnoreCase(key, name)) values.push_back(value);
  }
  return values.empty() ? kAbsent : absl::StrJoin(values, ", ");
}

// The head's field lines as (name, value), values without surrounding whitespace.
Headers ParseHeadFields(absl::string_view head) {
  Headers out;
  std::vector<absl::string_view> lines = absl::StrSplit(head, "\r\n");
  for (size_t i = 1; i < lines.size(); ++i) {
    size_t colon = lines[i].find(':');
    if (colon == absl::string_view::npos) continue;
    out.emplace_back(std::string(lines[i].substr(0, colon)),
                     std::string(absl::StripAsciiWhitespace(lines[i].substr(colon + 1))));
  }
  return out;
}

std::string Serialize(const Fields& fields) {
  std::string out;
  for (const auto& [name, value] : fields) absl::StrAppend(&out, name, "=", value, "\n");
  return out;
}

std::string OneLine(const Fields& fields) {
  std::vector<std::string> parts;
  for (const auto& [name, value] : fields) parts.push_back(name + "=" + value);
  return absl::StrJoin(parts, " ");
}

// Compares two field lists of the same shape; counts into `agreement`.
void CompareFields(const std::string& where, const Fields& apache, const Fields& rwproxy,
                   Agreement* agreement) {
  for (size_t i = 0; i < apache.size(); ++i) {
    const std::string& name = apache[i].first;
    std::string theirs = "(missing)";
    for (const auto& [n, v] : rwproxy) {
      if (n == name) theirs = v;
    }
    ++agreement->fields;
    if (apache[i].second == theirs) {
      ++agreement->agreed;
      continue;
    }
    agreement->disagreements.push_back(absl::StrCat(where, "\n    field ", name, ":\n    apache:  ",
                                                    apache[i].second, "\n    rwproxy: ", theirs));
  }
}

}  // namespace

Fields UpstreamFields(const std::string& upstream, const std::string& bytes,
                      const std::vector<std::string>& header_names) {
  const size_t head_end = bytes.find("\r\n\r\n");
  const absl::string_view head(bytes.data(),
                               head_end == std::string::npos ? bytes.size() : head_end);
  const absl::string_view request_line = head.substr(0, head.find("\r\n"));
  std::vector<absl::string_view> parts = absl::StrSplit(request_line, ' ');
  const std::string method = parts.empty() ? "" : std::string(parts[0]);
  const std::string target = parts.size() > 1 ? std::string(parts[1]) : "";
  const size_t question = target.find('?');
  const Headers headers = ParseHeadFields(head);
  Fields out = {
      {"upstream", upstream},
      {"method", method},
      {"path", target.substr(0, question)},
      {"query", question == std::string::npos ? kNone : target.substr(question + 1)},
      {"host", JoinValues(headers, "Host")},
  };
  for (const std::string& name : header_names) {
    out.emplace_back("> " + name, JoinValues(headers, name));
  }
  return out;
}

Fields NoUpstreamFields(const std::string& upstream, const std::vector<std::string>& header_names) {
  Fields out = {
      {"upstream", upstream}, {"method", "-"}, {"path", "-"}, {"query", "-"}, {"host", "-"}};
  for (const std::string& name : header_names) out.emplace_back("> " + name, "-");
  return out;
}

std::string ResolveReference(const std::string& value, const std::string& origin) {
  if (absl::StartsWith(value, "//")) return origin.substr(0, origin.find("//")) + value;
  if (absl::StartsWith(value, "/")) return origin + value;
  return value;
}

Fields ClientFields(const HttpResponse& response, const std::vector<std::string>& header_names,
                    const std::string& origin) {
  auto value_of = [&](const std::string& name) {
    std::string value = JoinValues(response.headers, name);
    const bool reference = absl::EqualsIgnoreCase(name, "Location") ||
                           absl::EqualsIgnoreCase(name, "Content-Location");
    return reference ? ResolveReference(value, origin) : value;
  };
  Fields out = {{"status", absl::StrCat(response.status)}, {"location", value_of("Location")}};
  for (const std::string& name : header_names) out.emplace_back("< " + name, value_of(name));
  return out;
}

void Normalize(const std::vector<std::pair<std::string, std::string>>& replacements,
               Observation* observation) {
  for (Fields* fields : {&observation->upstream_side, &observation->client_side}) {
    for (auto& [name, value] : *fields) value = absl::StrReplaceAll(value, replacements);
  }
}

std::string FieldOf(const Observation& observation, const std::string& field) {
  for (const Fields* fields : {&observation.upstream_side, &observation.client_side}) {
    for (const auto& [name, value] : *fields) {
      if (name == field) return value;
    }
  }
  return "";
}

std::string Describe(const CaseRequest& request) {
  std::vector<std::string> headers;
  for (const auto& [name, value] : request.headers) headers.push_back(name + ": " + value);
  return absl::StrCat(
      request.method, " ", request.target, " (", absl::StrJoin(headers, ", "),
      request.body.empty() ? "" : absl::StrCat("; body ", request.body.size(), " B"), ")");
}

Agreement Compare(const ImportCase& test_case, const std::vector<Observation>& apache,
                  const std::vector<Observation>& rwproxy) {
  Agreement agreement;
  agreement.requests = test_case.requests.size();
  if (apache.size() != test_case.requests.size() || rwproxy.size() != apache.size()) {
    agreement.disagreements.push_back(absl::StrCat("observations: apache ", apache.size(),
                                                   ", rwproxy ", rwproxy.size(), " of ",
                                                   test_case.requests.size(), " requests"));
    ++agreement.fields;
    return agreement;
  }
  for (size_t i = 0; i < apache.size(); ++i) {
    const std::string where = absl::StrCat("request ", i, ": ", Describe(test_case.requests[i]));
    CompareFields(where, apache[i].client_side, rwproxy[i].client_side, &agreement);
    if (!test_case.unordered_upstream) {
      CompareFields(where, apache[i].upstream_side, rwproxy[i].upstream_side, &agreement);
    }
  }
  if (test_case.unordered_upstream) {  // as multisets: sorted by their text
    auto sorted = [](const std::vector<Observation>& observations) {
      std::vector<Fields> out;
      for (const Observation& o : observations) out.push_back(o.upstream_side);
      std::sort(out.begin(), out.end(),
                [](const Fields& a, const Fields& b) { return Serialize(a) < Serialize(b); });
      return out;
    };
    const std::vector<Fields> a = sorted(apache);
    const std::vector<Fields> b = sorted(rwproxy);
    for (size_t i = 0; i < a.size(); ++i) {
      CompareFields(absl::StrCat("upstream-side record ", i, " of the sorted multisets: apache {",
                                 OneLine(a[i]), "}, rwproxy {", OneLine(b[i]), "}"),
                    a[i], b[i], &agreement);
    }
  }
  return agreement;
}

std::string AgreementTable(const std::vector<std::pair<std::string, Agreement>>& rows) {
  std::string out;
  char line[160];
  std::snprintf(line, sizeof line, "%-28s %9s %16s %8s %7s\n", "case", "requests",
                "fields compared", "agreed", "%");
  out += line;
  Agreement total;
  auto add_row = [&](const std::string& name, const Agreement& a) {
    const double percent = a.fields == 0 ? 0.0 : 100.0 * a.agreed / a.fields;
    std::snprintf(line, sizeof line, "%-28s %9zu %16zu %8zu %6.1f%%\n", name.c_str(), a.requests,
                  a.fields, a.agreed, percent);
    out += line;
  };
  for (const auto& [name, agreement] : rows) {
    add_row(name, agreement);
    total.requests += agreement.requests;
    total.fields += agreement.fields;
    total.agreed += agreement.agreed;
  }
  add_row("total", total);
  return out;
}

}  // namespace rwtest
