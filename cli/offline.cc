#include "cli/offline.h"

#include <string>

#include "absl/strings/str_cat.h"
#include "control/translate.h"
#include "re2/re2.h"

namespace rwproxy::cli {

std::vector<control::v1::FieldViolation> ValidateOffline(const config::v1::Config& config) {
  std::vector<FieldError> errors;
  control::Translate(config, &errors);
  std::vector<control::v1::FieldViolation> out;
  for (const FieldError& e : errors) {
    control::v1::FieldViolation v;
    v.set_field(e.field);
    v.set_message(e.message);
    out.push_back(std::move(v));
  }
  RE2::Options options;
  options.set_log_errors(false);
  for (int i = 0; i < config.routes_size(); ++i) {
    const config::v1::Match& match = config.routes(i).match();
    if (match.path_case() != config::v1::Match::kPathRegex || match.path_regex().empty()) continue;
    RE2 re(match.path_regex(), options);
    if (!re.ok()) {
      control::v1::FieldViolation v;
      v.set_field(absl::StrCat("routes[", i, "].match.path_regex"));
      v.set_message(absl::StrCat("invalid regex: ", re.error()));
      out.push_back(std::move(v));
    }
  }
  return out;
}

}  // namespace rwproxy::cli
