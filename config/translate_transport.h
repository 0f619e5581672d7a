// Internal to config/translate*.cc: the transport part of proto -> spec translation, TLS to a
// cluster's endpoints (cluster `tls:`) and the upgrade tunnels of a route (`upgrades:`,
// `upgrade_idle_timeout:`). Not a public API: callers use config/translate.h.
//
// Rules (field paths below the cluster's or the route's, e.g. "clusters[1].tls.sni"):
//   - tls: written turns TLS on, and every member is optional (`tls: {}`: verify against the
//     system store, TLS 1.2 or later, the endpoint's host as server name).
//   - tls.sni: a DNS name (dot-separated labels of 1..63 letters, digits and '-', not starting or
//     ending with '-'; no trailing dot) or an IPv4 / IPv6 literal (no brackets); no port; at most
//     253 characters. Lowercased in the spec. Written means not empty.
//   - tls.min_version: "1.2" or "1.3"; empty (left out) is "1.2".
//   - tls.ca_file, client_cert, client_key: written means not empty and without control
//     characters. They are not opened here: the server reads them when it compiles the config.
//     client_cert and client_key go together. verify: false with a ca_file is allowed.
//   - upgrades[j]: an RFC 9110 token (a protocol name such as websocket, no "/version"),
//     lowercased in the spec; no two equal ignoring case; at most kMaxUpgrades. Only on cluster
//     and backends routes: on redirect and respond routes `upgrades` is one error.
//   - upgrade_idle_timeout: a duration (ParseDurationField rules), at most 24h; only with
//     upgrades.
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CONFIG_TRANSLATE_TRANSPORT_H_
#define RWPROXY_CONFIG_TRANSLATE_TRANSPORT_H_

#include <cstddef>
#include <optional>
#include <string>

#include "absl/time/time.h"
#include "config/spec.h"
#include "config/translate_resilience.h"
#include "proto/config.pb.h"

namespace rwproxy::config::translate_internal {

inline constexpr size_t kMaxUpgrades = 8;
inline constexpr absl::Duration kMaxUpgradeIdleTimeout = absl::Hours(24);

// The cluster's TLS settings, or nullopt without `tls:`; `path` is the cluster's field path,
// e.g. "clusters[0]".
std::optional<UpstreamTlsSpec> TranslateTls(const config::v1::Cluster& cluster,
                                            const std::string& path, Errors* errors);

// Fills spec->upgrades and spec->upgrade_idle_timeout from `route`; `path` is the route's field
// path, e.g. "routes[2]".
void TranslateUpgrades(const config::v1::Route& route, const std::string& path, RouteSpec* spec,
                       Errors* errors);

}  // namespace rwproxy::config::translate_internal

#endif  // RWPROXY_CONFIG_TRANSLATE_TRANSPORT_H_
