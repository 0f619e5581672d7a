// Internal to config/translate*.cc: the header edits of a route (request_headers,
// response_headers and its rewrite_location) from config.proto to spec.h. Not a public API:
// callers use config/translate.h.
//
// Rules:
//   - Names are RFC 9110 tokens, lowercased in the spec; `set` and `add` (proto maps, unordered)
//     are sorted by name so that the spec and config dumps are stable; `remove` keeps its order.
//   - Values must not contain CR, LF, NUL or other control characters (HTAB is allowed).
//   - Names the proxy owns because they frame or route the message are refused: on requests
//     content-length, transfer-encoding, connection, keep-alive, te, upgrade, proxy-connection,
//     trailer and host (use rewrite.host); on responses the same but te and host.
//   - A name both in set and in remove is an error (set already replaces every field of that
//     name), as is one name written twice in set, add or remove (in different case).
//   - Header edits are only allowed on cluster and backends routes.
//   - rewrite_location: `from` is required, `to` may be empty; neither has spaces or control
//     characters; a repeated `from` is an error (the first matching entry applies).
// Field paths: routes[i].request_headers.set.<name>, .add.<name>, .remove[j],
// routes[i].response_headers.rewrite_location[j].from / .to.
//
// Ownership: a free function over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CONFIG_TRANSLATE_HEADERS_H_
#define RWPROXY_CONFIG_TRANSLATE_HEADERS_H_

#include <string>

#include "config/spec.h"
#include "config/translate_resilience.h"
#include "proto/config.pb.h"

namespace rwproxy::config::translate_internal {

// Fills spec->request_headers and spec->response_headers from `route`; `path` is the route's
// field path, e.g. "routes[2]".
void TranslateHeaderOps(const config::v1::Route& route, const std::string& path, RouteSpec* spec,
                        Errors* errors);

}  // namespace rwproxy::config::translate_internal

#endif  // RWPROXY_CONFIG_TRANSLATE_HEADERS_H_
