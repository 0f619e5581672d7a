#include "cli/output.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/time.h"
#include "google/protobuf/util/json_util.h"

namespace rwproxy::cli {

const char kExitCodeHelp[] =
    "Exit codes:\n"
    "  0  success (diff: no difference; explain: a route matches)\n"
    "  1  config rejected, failed precondition (stale --expect-version), not found, other server\n"
    "     error; apply --guard: reverted or superseded; --waves: a failed rollback; diff: live\n"
    "     config differs from the file; explain: no route matches\n"
    "  2  usage error\n"
    "  3  server unreachable, timed out or not authorized; apply --guard: no verdict in time\n"
    "     (UNAVAILABLE, DEADLINE_EXCEEDED, UNAUTHENTICATED, PERMISSION_DENIED)\n"
    "  4  diff, explain: any other error (bad or unreadable YAML, an error from the server);\n"
    "     import apache: the converted config fails rwproxy's checks (a bug; see its --help)\n"
    "Server: --server, else $RWCTL_SERVER, else 127.0.0.1:15010. Token: --token-file, else\n"
    "$RWCTL_TOKEN. Several servers (a fleet push): 1 if any was rejected or failed, else 3 if\n"
    "any was unreachable, else 0. -o json prints a response in proto3 JSON (proto field names,\n"
    "all fields); apply, rollback, version, get routes and stats --watch print objects of their\n"
    "own.";

int ExitCodeFor(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return kExitOk;
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
    case grpc::StatusCode::UNAUTHENTICATED:
    case grpc::StatusCode::PERMISSION_DENIED:
      return kExitUnreachable;
    default:
      return kExitRejected;
  }
}

int ComparisonExitCode(int exit_code) {
  return exit_code == kExitRejected ? kExitError : exit_code;
}

int CombineExitCodes(const std::vector<int>& codes) {
  if (std::find(codes.begin(), codes.end(), kExitRejected) != codes.end()) return kExitRejected;
  int worst = kExitOk;
  for (int code : codes) worst = std::max(worst, code);
  return worst;
}

std::string StatusCodeName(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::OK:
      return "ok";
    case grpc::StatusCode::CANCELLED:
      return "cancelled";
    case grpc::StatusCode::UNKNOWN:
      return "unknown";
    case grpc::StatusCode::INVALID_ARGUMENT:
      return "invalid_argument";
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return "deadline_exceeded";
    case grpc::StatusCode::NOT_FOUND:
      return "not_found";
    case grpc::StatusCode::ALREADY_EXISTS:
      return "already_exists";
    case grpc::StatusCode::PERMISSION_DENIED:
      return "permission_denied";
    case grpc::StatusCode::RESOURCE_EXHAUSTED:
      return "resource_exhausted";
    case grpc::StatusCode::FAILED_PRECONDITION:
      return "failed_precondition";
    case grpc::StatusCode::ABORTED:
      return "aborted";
    case grpc::StatusCode::OUT_OF_RANGE:
      return "out_of_range";
    case grpc::StatusCode::UNIMPLEMENTED:
      return "unimplemented";
    case grpc::StatusCode::INTERNAL:
      return "internal";
    case grpc::StatusCode::UNAVAILABLE:
      return "unavailable";
    case grpc::StatusCode::DATA_LOSS:
      return "data_loss";
    case grpc::StatusCode::UNAUTHENTICATED:
      return "unauthenticated";
    default:
      return absl::StrCat("code ", static_cast<int>(code));
  }
}

std::string DescribeError(const grpc::Status& status) {
  std::string message = status.error_message();
  // Multi-line messages (violation lists) are printed separately; keep the first line here.
  if (size_t nl = message.find('\n'); nl != std::string::npos) message.resize(nl);
  return absl::StrCat("error: ", StatusCodeName(status.error_code()), message.empty() ? "" : ": ",
                      message);
}

std::string ToJson(const google::protobuf::Message& message, bool multiline) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = multiline;
  options.always_print_primitive_fields = true;
  options.preserve_proto_field_names = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) return "{}";
  if (multiline && !out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::string JsonQuote(std::string_view text) {
  std::string out = "\"";
  for (char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<unsigned char>(c));
        } else {
          out.push_back(c);
        }
    }
  }
  out.push_back('"');
  return out;
}

std::string FormatUnixMs(int64_t unix_ms) {
  if (unix_ms == 0) return "-";
  return absl::FormatTime("%Y-%m-%dT%H:%M:%SZ", absl::FromUnixMillis(unix_ms), absl::UTCTimeZone());
}

}  // namespace rwproxy::cli
