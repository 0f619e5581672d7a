// Transport fields of config.proto (cluster tls, route upgrades) -> spec.h. See
// translate_transport.h.
#include "config/translate_transport.h"

#include <arpa/inet.h>

#include <algorithm>
#include <iterator>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"

namespace rwproxy::config::translate_internal {
namespace {

namespace v1 = ::rwproxy::config::v1;

constexpr size_t kMaxServerName = 253;  // a DNS name in text, without the trailing dot
constexpr size_t kMaxLabel = 63;

struct TlsVersionName {
  const char* text;
  TlsVersion version;
};
constexpr TlsVersionName kTlsVersions[] = {
    {"1.2", TlsVersion::kTls12},
    {"1.3", TlsVersion::kTls13},
};

// One file of `tls:`: how to read it from the proto, where it goes in the spec, and what leaving
// it out means (for the message about an empty one).
struct TlsFile {
  const char* name;
  bool (v1::UpstreamTls::*has)() const;
  const std::string& (v1::UpstreamTls::*get)() const;
  std::string UpstreamTlsSpec::*out;
  const char* when_left_out;
};
constexpr TlsFile kTlsFiles[] = {
    {"ca_file", &v1::UpstreamTls::has_ca_file, &v1::UpstreamTls::ca_file, &UpstreamTlsSpec::ca_file,
     "leave ca_file out to trust the system store"},
    {"client_cert", &v1::UpstreamTls::has_client_cert, &v1::UpstreamTls::client_cert,
     &UpstreamTlsSpec::client_cert,
     "leave client_cert and client_key out for no client certificate"},
    {"client_key", &v1::UpstreamTls::has_client_key, &v1::UpstreamTls::client_key,
     &UpstreamTlsSpec::client_key,
     "leave client_cert and client_key out for no client certificate"},
};

bool HasControl(absl::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == '\x7f'; });
}

bool IsIpLiteral(const std::string& text) {
  in_addr v4;
  in6_addr v6;
  return inet_pton(AF_INET, text.c_str(), &v4) == 1 || inet_pton(AF_INET6, text.c_str(), &v6) == 1;
}

// Why one label of a DNS name is not valid, or "" when it is.
std::string LabelProblem(absl::string_view label) {
  if (label.empty()) return "empty label (leading, trailing or doubled '.')";
  if (label.size() > kMaxLabel) {
    return absl::StrCat("label '", label, "' is longer than ", kMaxLabel, " characters");
  }
  const bool ldh = std::all_of(label.begin(), label.end(),
                               [](char c) { return absl::ascii_isalnum(c) || c == '-'; });
  if (!ldh) return absl::StrCat("label '", label, "' may only have letters, digits and '-'");
  if (label.front() == '-' || label.back() == '-') {
    return absl::StrCat("label '", label, "' starts or ends with '-'");
  }
  return "";
}

// Why `name` is neither a DNS name nor an IP literal, or "" when it is one.
std::string ServerNameProblem(const std::string& name) {
  if (name.size() > kMaxServerName) {
    return absl::StrCat("longer than ", kMaxServerName, " characters (", name.size(), ")");
  }
  if (IsIpLiteral(name)) return "";
  if (name.front() == '[') return "write an IPv6 address without brackets";
  if (name.find('/') != std::string::npos) return "write the name only, not a URL";
  if (const size_t colon = name.find(':'); colon != std::string::npos) {
    if (name.find(':', colon + 1) != std::string::npos) return "not an IPv6 address";
    return "no port: write the name only";
  }
  std::vector<absl::string_view> labels = absl::StrSplit(name, '.');
  for (absl::string_view label : labels) {
    if (std::string why = LabelProblem(label); !why.empty()) return why;
  }
  const absl::string_view last = labels.back();
  if (std::all_of(last.begin(), last.end(), absl::ascii_isdigit)) return "not an IPv4 address";
  return "";
}

}  // namespace

std::optional<UpstreamTlsSpec> TranslateTls(const v1::Cluster& cluster, const std::string& path,
                                            Errors* errors) {
  if (!cluster.has_tls()) return std::nullopt;
  const v1::UpstreamTls& tls = cluster.tls();
  const std::string at = path + ".tls";
  UpstreamTlsSpec spec;
  if (tls.has_sni()) {
    if (tls.sni().empty()) {
      errors->Add(at + ".sni", "must not be empty (leave sni out to use the endpoint's host)");
    } else if (std::string why = ServerNameProblem(tls.sni()); !why.empty()) {
      errors->Add(at + ".sni", absl::StrCat("invalid server name '", tls.sni(), "': ", why));
    } else {
      spec.sni = absl::AsciiStrToLower(tls.sni());
    }
  }
  if (tls.has_verify()) spec.verify = tls.verify();
  for (const TlsFile& file : kTlsFiles) {
    if (!(tls.*file.has)()) continue;
    const std::string& value = (tls.*file.get)();
    const std::string field = absl::StrCat(at, ".", file.name);
    if (value.empty()) {
      errors->Add(field, absl::StrCat("must not be empty (", file.when_left_out, ")"));
    } else if (HasControl(value)) {
      errors->Add(field, "a file path must not contain control characters");
    } else {
      spec.*file.out = value;
    }
  }
  if (tls.has_client_cert() && !tls.has_client_key()) {
    errors->Add(at + ".client_key", "client_key is required with client_cert");
  } else if (tls.has_client_key() && !tls.has_client_cert()) {
    errors->Add(at + ".client_cert", "client_cert is required with client_key");
  }
  if (!tls.min_version().empty()) {
    const auto* found =
        std::find_if(std::begin(kTlsVersions), std::end(kTlsVersions),
                     [&](const TlsVersionName& v) { return tls.min_version() == v.text; });
    if (found == std::end(kTlsVersions)) {
      errors->Add(at + ".min_version",
                  absl::StrCat("must be \"1.2\" or \"1.3\", got \"", tls.min_version(), "\""));
    } else {
      spec.min_version = found->version;
    }
  }
  return spec;
}

void TranslateUpgrades(const v1::Route& route, const std::string& path, RouteSpec* spec,
                       Errors* errors) {
  const std::string idle_field = path + ".upgrade_idle_timeout";
  if (route.upgrades().empty()) {
    if (!route.upgrade_idle_timeout().empty()) {
      errors->Add(idle_field, "upgrade_idle_timeout needs upgrades (or remove it)");
    }
    return;
  }
  if (route.action_case() == v1::Route::kRedirect || route.action_case() == v1::Route::kRespond) {
    errors->Add(path + ".upgrades", "only routes to a cluster can tunnel upgrades");
    return;
  }
  if (static_cast<size_t>(route.upgrades_size()) > kMaxUpgrades) {
    errors->Add(path + ".upgrades",
                absl::StrCat("at most ", kMaxUpgrades, " upgrades, got ", route.upgrades_size()));
  }
  absl::flat_hash_map<std::string, int> seen;
  for (int j = 0; j < route.upgrades_size(); ++j) {
    const std::string& name = route.upgrades(j);
    const std::string field = absl::StrCat(path, ".upgrades[", j, "]");
    if (!IsToken(name)) {
      errors->Add(field, absl::StrCat("invalid upgrade protocol '", name,
                                      "': use a token such as websocket (letters, digits and "
                                      "!#$%&'*+-.^_`|~; no /version)"));
      continue;
    }
    std::string lower = absl::AsciiStrToLower(name);
    auto [it, inserted] = seen.emplace(lower, j);
    if (!inserted) {
      errors->Add(field, absl::StrCat("duplicate upgrade '", lower, "' (first at ", path,
                                      ".upgrades[", it->second, "])"));
      continue;
    }
    spec->upgrades.push_back(std::move(lower));
  }
  const std::string& idle = route.upgrade_idle_timeout();
  const size_t before = errors->count();
  const absl::Duration timeout =
      ParseDurationField(idle, spec->upgrade_idle_timeout, idle_field, errors);
  if (errors->count() != before) return;
  if (timeout > kMaxUpgradeIdleTimeout) {
    errors->Add(idle_field, absl::StrCat("must be at most 24h, got '", idle, "'"));
  } else {
    spec->upgrade_idle_timeout = timeout;
  }
}

}  // namespace rwproxy::config::translate_internal
