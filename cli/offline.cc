#include "cli/offline.h"

#include <string>

#include "config/check.h"

namespace rwproxy::cli {

std::vector<control::v1::FieldViolation> ValidateOffline(const config::v1::Config& config) {
  std::vector<FieldError> errors;
  config::Check(config, &errors);
  std::vector<control::v1::FieldViolation> out;
  for (const FieldError& e : errors) {
    control::v1::FieldViolation v;
    v.set_field(e.field);
    v.set_message(e.message);
    out.push_back(std::move(v));
  }
  return out;
}

}  // namespace rwproxy::cli
