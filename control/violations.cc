#include "control/violations.h"

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"

namespace rwproxy::control {

std::string FormatViolation(const FieldError& error) {
  if (error.field.empty()) return error.message;
  return absl::StrCat(error.field, ": ", error.message);
}

void ToProto(const std::vector<FieldError>& errors, v1::ValidateResponse* out) {
  for (const auto& e : errors) {
    v1::FieldViolation* v = out->add_violations();
    v->set_field(e.field);
    v->set_message(e.message);
  }
}

absl::Status InvalidConfigError(const std::vector<FieldError>& errors) {
  std::string message;
  for (const auto& e : errors) {
    if (!message.empty()) message.push_back('\n');
    message += FormatViolation(e);
  }
  absl::Status status = absl::InvalidArgumentError(message);
  v1::ValidateResponse list;
  ToProto(errors, &list);
  status.SetPayload(kViolationsPayloadUrl, absl::Cord(list.SerializeAsString()));
  return status;
}

v1::ValidateResponse ViolationsOf(const absl::Status& status) {
  v1::ValidateResponse list;
  if (auto payload = status.GetPayload(kViolationsPayloadUrl)) {
    list.ParseFromString(std::string(*payload));
  }
  return list;
}

}  // namespace rwproxy::control
