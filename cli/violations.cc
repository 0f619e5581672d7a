#include "cli/violations.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace rwproxy::cli {
namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.front()))) {
    s.remove_prefix(1);
  }
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

bool LooksLikeFieldPath(std::string_view s) {
  return !s.empty() && std::none_of(s.begin(), s.end(), [](char c) {
    return static_cast<unsigned char>(c) <= ' ' || c == ':';
  });
}

}  // namespace

std::vector<FieldViolation> ParseViolationMessage(std::string_view message) {
  std::vector<FieldViolation> out;
  while (!message.empty()) {
    size_t nl = message.find('\n');
    std::string_view line = Trim(message.substr(0, nl));
    message.remove_prefix(nl == std::string_view::npos ? message.size() : nl + 1);
    if (line.empty()) continue;
    FieldViolation v;
    size_t sep = line.find(": ");
    if (sep != std::string_view::npos && LooksLikeFieldPath(line.substr(0, sep))) {
      v.set_field(std::string(line.substr(0, sep)));
      v.set_message(std::string(Trim(line.substr(sep + 2))));
    } else {
      v.set_message(std::string(line));
    }
    out.push_back(std::move(v));
  }
  return out;
}

bool ParseStatusDetails(const grpc::Status& status, control::v1::ValidateResponse* out) {
  const std::string& details = status.error_details();
  control::v1::RpcStatus rpc;
  if (details.empty() || !rpc.ParseFromString(details)) return false;
  for (const auto& any : rpc.details()) {
    if (any.Is<control::v1::ValidateResponse>() && any.UnpackTo(out)) return true;
  }
  return false;
}

Rejection ExtractViolations(const grpc::Status& status, const std::string* legacy_bin) {
  Rejection out;
  if (status.ok()) return out;
  control::v1::ValidateResponse parsed;
  if ((ParseStatusDetails(status, &parsed) && parsed.violations_size() > 0) ||
      (legacy_bin != nullptr && parsed.ParseFromString(*legacy_bin) &&
       parsed.violations_size() > 0)) {
    out.violations.assign(parsed.violations().begin(), parsed.violations().end());
    out.total = std::max<size_t>(parsed.total_violations(), out.violations.size());
    out.truncated = parsed.truncated() || out.total > out.violations.size();
    return out;
  }
  out.violations = ParseViolationMessage(status.error_message());
  out.total = out.violations.size();
  return out;
}

std::string FormatViolation(std::string_view file, const yaml::SourceMap& map,
                            const FieldViolation& violation) {
  // A line that is not about a field (a header such as "invalid config") gets no position.
  yaml::Position pos =
      violation.field().empty() ? yaml::Position{} : yaml::Locate(map, violation.field());
  return yaml::FormatError(file, pos, violation.field(), violation.message());
}

std::string FormatYamlError(std::string_view file, const yaml::YamlError& error) {
  return yaml::FormatError(file, error.pos, error.field, error.message);
}

}  // namespace rwproxy::cli
