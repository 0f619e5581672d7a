// Header edits of config.proto -> spec.h. See translate_headers.h.
#include "config/translate_headers.h"

#include <algorithm>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace rwproxy::config::translate_internal {
namespace {

namespace v1 = ::rwproxy::config::v1;

enum class Direction { kRequest, kResponse };

// Bounds on what one route adds. They do not make an edited head fit the parse limits of a next
// rwproxy hop in every case: a request already at 95 fields plus the proxy's own 5 plus 32 added
// ones is over its 100 fields (it would answer 431). Keep the number of edits small.
constexpr int kMaxHeaderEdits = 32;         // set + add + remove, per direction
constexpr int kMaxLocationRewrites = 16;
constexpr size_t kMaxHeaderValueBytes = 8192;

// Fields that frame the message or manage the connection: the proxy writes them itself.
constexpr std::string_view kFramingNames[] = {
    "content-length", "transfer-encoding", "connection",       "keep-alive",
    "trailer",        "upgrade",           "proxy-connection",
};

// A field value may hold visible characters, spaces and tabs (RFC 9110 §5.5).
bool IsFieldValue(absl::string_view s) {
  return std::none_of(s.begin(), s.end(), [](char c) {
    const auto u = static_cast<unsigned char>(c);
    return (u < 0x20 && c != '\t') || u == 0x7f;
  });
}

// Why the proxy does not let a route edit `lower`, or "" when it does.
std::string Refused(const std::string& lower, Direction direction) {
  const bool request = direction == Direction::kRequest;
  if (request && lower == "host") return "the Host header is set by the proxy; use rewrite.host";
  const bool framing = std::find(std::begin(kFramingNames), std::end(kFramingNames), lower) !=
                           std::end(kFramingNames) ||
                       (request && lower == "te");
  if (!framing) return "";
  return absl::StrCat("'", lower, "' frames the message or manages the connection; ",
                      "the proxy sets it");
}

// The lowercase name, or "" after reporting why `name` cannot be edited.
std::string CheckName(const std::string& name, Direction direction, const std::string& field,
                      Errors* errors) {
  if (!IsToken(name)) {
    errors->Add(field, absl::StrCat("invalid header name '", name, "'"));
    return "";
  }
  std::string lower = absl::AsciiStrToLower(name);
  if (std::string why = Refused(lower, direction); !why.empty()) {
    errors->Add(field, std::move(why));
    return "";
  }
  return lower;
}

using Fields = std::vector<std::pair<std::string, std::string>>;

// `set` or `add` (`what`): names checked and lowercased, values checked, sorted by name. A name
// written twice (in different case) is an error.
template <class Map>
Fields TranslateFields(const Map& map, const char* what, Direction direction,
                       const std::string& path, Errors* errors) {
  Fields written(map.begin(), map.end());
  std::sort(written.begin(), written.end());  // map order is unspecified; errors come in order
  Fields out;
  for (const auto& [name, value] : written) {
    const std::string field = absl::StrCat(path, ".", what, ".", name);
    std::string lower = CheckName(name, direction, field, errors);
    if (lower.empty()) continue;
    if (value.size() > kMaxHeaderValueBytes) {
      errors->Add(field, absl::StrCat("value of ", value.size(), " bytes, limit ",
                                      kMaxHeaderValueBytes));
      continue;
    }
    if (!IsFieldValue(value)) {
      errors->Add(field, "header value must not contain CR, LF, NUL or other control characters");
      continue;
    }
    if (std::any_of(out.begin(), out.end(), [&](const auto& f) { return f.first == lower; })) {
      errors->Add(field, absl::StrCat("duplicate header '", lower,
                                      "' (header names are case-insensitive)"));
      continue;
    }
    out.emplace_back(std::move(lower), value);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// set, add and remove of HeaderOps or ResponseHeaderOps; `path` is e.g.
// "routes[0].request_headers".
template <class Ops>
void TranslateOps(const Ops& ops, Direction direction, const std::string& path, HeaderOpsSpec* out,
                  Errors* errors) {
  const int edits = static_cast<int>(ops.set().size() + ops.add().size()) + ops.remove_size();
  if (edits > kMaxHeaderEdits) {
    errors->Add(path, absl::StrCat("at most ", kMaxHeaderEdits,
                                   " header edits (set, add and remove together), got ", edits));
    return;
  }
  out->set = TranslateFields(ops.set(), "set", direction, path, errors);
  out->add = TranslateFields(ops.add(), "add", direction, path, errors);
  for (int j = 0; j < ops.remove_size(); ++j) {
    const std::string field = absl::StrCat(path, ".remove[", j, "]");
    std::string lower = CheckName(ops.remove(j), direction, field, errors);
    if (lower.empty()) continue;
    if (std::find(out->remove.begin(), out->remove.end(), lower) != out->remove.end()) {
      errors->Add(field, absl::StrCat("duplicate header '", lower,
                                      "' (header names are case-insensitive)"));
    } else if (std::any_of(out->set.begin(), out->set.end(),
                           [&](const auto& f) { return f.first == lower; })) {
      errors->Add(field, absl::StrCat("'", lower, "' is in both set and remove (set already ",
                                      "replaces every field of that name)"));
    } else {
      out->remove.push_back(std::move(lower));
    }
  }
}

void TranslateLocationRewrites(const v1::ResponseHeaderOps& ops, const std::string& path,
                               ResponseHeaderOpsSpec* out, Errors* errors) {
  if (ops.rewrite_location_size() > kMaxLocationRewrites) {
    errors->Add(path + ".rewrite_location",
                absl::StrCat("at most ", kMaxLocationRewrites, " entries, got ",
                             ops.rewrite_location_size()));
    return;
  }
  for (int j = 0; j < ops.rewrite_location_size(); ++j) {
    const v1::LocationRewrite& rewrite = ops.rewrite_location(j);
    const std::string field = absl::StrCat(path, ".rewrite_location[", j, "]");
    bool ok = true;
    if (rewrite.from().empty()) {
      errors->Add(field + ".from", "from is required");
      ok = false;
    } else if (HasSpaceOrControl(rewrite.from())) {
      errors->Add(field + ".from", "must not contain spaces or control characters");
      ok = false;
    }
    if (HasSpaceOrControl(rewrite.to())) {
      errors->Add(field + ".to", "must not contain spaces or control characters");
      ok = false;
    }
    if (!ok) continue;
    auto first =
        std::find_if(out->rewrite_location.begin(), out->rewrite_location.end(),
                     [&](const LocationRewriteSpec& r) { return r.from == rewrite.from(); });
    if (first != out->rewrite_location.end()) {
      errors->Add(field + ".from",
                  absl::StrCat("duplicate from '", rewrite.from(), "' (the first entry applies)"));
      continue;
    }
    out->rewrite_location.push_back({rewrite.from(), rewrite.to()});
  }
}

}  // namespace

void TranslateHeaderOps(const v1::Route& route, const std::string& path, RouteSpec* spec,
                        Errors* errors) {
  const bool local =
      route.action_case() == v1::Route::kRedirect || route.action_case() == v1::Route::kRespond;
  if (route.has_request_headers()) {
    const std::string field = path + ".request_headers";
    if (local) {
      errors->Add(field, "request_headers are only allowed on cluster and backends routes");
    } else {
      TranslateOps(route.request_headers(), Direction::kRequest, field, &spec->request_headers,
                   errors);
    }
  }
  if (route.has_response_headers()) {
    const std::string field = path + ".response_headers";
    if (local) {
      errors->Add(field, "response_headers are only allowed on cluster and backends routes");
    } else {
      TranslateOps(route.response_headers(), Direction::kResponse, field, &spec->response_headers,
                   errors);
      TranslateLocationRewrites(route.response_headers(), field, &spec->response_headers, errors);
    }
  }
}

}  // namespace rwproxy::config::translate_internal
