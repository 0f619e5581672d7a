#include "control/violations.h"

#include <algorithm>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "config/utf8.h"
#include "google/protobuf/io/coded_stream.h"
#include "server/util/sv.h"

namespace rwproxy::control {
namespace {

// HPACK counts 32 bytes per header entry on top of its name and value (RFC 7541 section 4.1).
constexpr size_t kEntryOverhead = 32;

size_t PercentEncodedSize(std::string_view text) {
  size_t n = 0;
  for (char c : text) {
    const auto b = static_cast<unsigned char>(c);
    n += (b < 0x20 || b > 0x7e || b == '%') ? 3 : 1;
  }
  return n;
}

size_t Base64Size(size_t bytes) { return (bytes + 2) / 3 * 4; }

size_t WireBytes(size_t encoded_message, size_t details) {
  size_t n = sizeof("grpc-status") - 1 + 2 + kEntryOverhead;
  if (encoded_message > 0) n += sizeof("grpc-message") - 1 + encoded_message + kEntryOverhead;
  if (details > 0)
    n += sizeof("grpc-status-details-bin") - 1 + Base64Size(details) + kEntryOverhead;
  return n;
}

// The bytes a violation adds to a ValidateResponse's repeated field.
size_t EntrySize(const v1::FieldViolation& v) {
  const size_t size = v.ByteSizeLong();
  return 1 + google::protobuf::io::CodedOutputStream::VarintSize64(size) + size;
}

std::string Serialize(int code, const std::string& message, const v1::ValidateResponse& list) {
  v1::RpcStatus rpc;
  rpc.set_code(code);
  rpc.set_message(message);
  rpc.add_details()->PackFrom(list);
  return rpc.SerializeAsString();
}

// Proto3 strings must be UTF-8, or the client cannot parse the message.
std::string ValidUtf8(std::string_view text) { return utf8::Sanitize(text); }

// One line: control characters (newlines in particular) become spaces.
std::string OneLine(std::string text) {
  for (char& c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return text;
}

}  // namespace

std::string FormatViolation(const FieldError& error) {
  if (error.field.empty()) return error.message;
  return absl::StrCat(error.field, ": ", error.message);
}

void ToProto(const std::vector<FieldError>& errors, v1::ValidateResponse* out) {
  for (const auto& e : errors) {
    v1::FieldViolation* v = out->add_violations();
    v->set_field(ValidUtf8(e.field));
    v->set_message(ValidUtf8(e.message));
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

std::string Truncate(std::string_view text, size_t limit) {
  if (text.size() <= limit) return std::string(text);
  constexpr std::string_view kEllipsis = "...";
  size_t cut = limit > kEllipsis.size() ? limit - kEllipsis.size() : 0;
  // Back up to the start of a UTF-8 sequence (a continuation byte is 10xxxxxx).
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return absl::StrCat(Sv(text.substr(0, cut)), Sv(kEllipsis.substr(0, limit - cut)));
}

std::string ViolationSummary(const v1::ValidateResponse& all) {
  const int n = all.violations_size();
  const v1::FieldViolation& first = all.violations(0);
  // Cut the parts first, so that a huge violation is never copied whole.
  std::string text =
      FormatViolation({ValidUtf8(Truncate(first.field(), kMaxStatusMessageBytes)),
                       ValidUtf8(Truncate(first.message(), kMaxStatusMessageBytes))});
  std::string summary = n == 1 ? absl::StrCat("config has 1 violation: ", text)
                               : absl::StrCat("config has ", n, " violations; first: ", text);
  return Truncate(OneLine(std::move(summary)), kMaxStatusMessageBytes);
}

std::string RejectionDetails(int code, const std::string& message,
                             const v1::ValidateResponse& all) {
  v1::ValidateResponse kept;
  kept.set_total_violations(static_cast<uint32_t>(all.violations_size()));
  kept.set_truncated(true);  // for the size of the fixed part; cleared below when all fit
  const size_t fixed = Serialize(code, message, kept).size();
  const size_t encoded_message = PercentEncodedSize(message);
  size_t violation_bytes = 0;
  bool cut = false;
  for (const v1::FieldViolation& v : all.violations()) {
    v1::FieldViolation entry;
    entry.set_field(ValidUtf8(Truncate(v.field(), kMaxDetailViolationTextBytes)));
    entry.set_message(ValidUtf8(Truncate(v.message(), kMaxDetailViolationTextBytes)));
    const size_t size = EntrySize(entry);
    // Adding bytes inside the Any can lengthen two length prefixes by 2 bytes each at most.
    if (violation_bytes + size > kMaxDetailViolationBytes ||
        WireBytes(encoded_message, fixed + violation_bytes + size + 4) > kMaxTrailerBytes) {
      break;
    }
    cut |= entry.field() != v.field() || entry.message() != v.message();
    violation_bytes += size;
    *kept.add_violations() = std::move(entry);
  }
  kept.set_truncated(cut || kept.violations_size() < all.violations_size());
  std::string details = Serialize(code, message, kept);
  // The estimate above is an upper bound; this only guards against a mistake in it.
  while (kept.violations_size() > 0 &&
         WireBytes(encoded_message, details.size()) > kMaxTrailerBytes) {
    kept.mutable_violations()->RemoveLast();
    kept.set_truncated(true);
    details = Serialize(code, message, kept);
  }
  return details;
}

bool ParseRejectionDetails(const std::string& details, v1::ValidateResponse* out) {
  v1::RpcStatus rpc;
  if (details.empty() || !rpc.ParseFromString(details)) return false;
  for (const auto& any : rpc.details()) {
    if (any.Is<v1::ValidateResponse>() && any.UnpackTo(out)) return true;
  }
  return false;
}

size_t TrailerWireBytes(std::string_view message, std::string_view details) {
  return WireBytes(PercentEncodedSize(message), details.size());
}

}  // namespace rwproxy::control
