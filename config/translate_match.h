// Internal to config/translate*.cc: the `match` part of a route (path, case_insensitive, methods,
// hosts, headers, query) and rewrite.query. Not a public API: callers use config/translate.h.
//
// Rules (field paths below the route's, e.g. "routes[2].match.hosts[0]"):
//   - hosts[j]: "example.com" or "*.example.com" (letters, digits, '-', '.'), lowercased. A port
//     is an error ("write the host only"): the request's port is never compared.
//   - headers given as a YAML map (legacy_headers) keep their old paths and messages
//     ("routes[0].match.headers.x-a"); they become exact conditions, sorted by name, before the
//     list entries.
//   - headers[j]: name is a token or the pseudo-header :method / :path (lowercased); exactly one
//     of exact, regex, present; exact and regex without CR, LF or NUL and regex not empty;
//     present is not combined with invert (write present: false) nor used on a pseudo-header.
//   - query.regex: required when `query:` is written.
//   - rewrite.query: keep (default) | discard | append.
// Regexes are compiled (and their size and groups checked) by config/compiled_route.cc.
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
#ifndef RWPROXY_CONFIG_TRANSLATE_MATCH_H_
#define RWPROXY_CONFIG_TRANSLATE_MATCH_H_

#include <string>

#include "config/spec.h"
#include "config/translate_resilience.h"
#include "proto/config.pb.h"

namespace rwproxy::config::translate_internal {

// `path` is the match's field path, e.g. "routes[2].match".
MatchSpec TranslateMatch(const config::v1::Match& match, const std::string& path, Errors* errors);

// rewrite.query; `field` is its path, e.g. "routes[2].rewrite.query".
QueryMode TranslateQueryMode(const std::string& text, const std::string& field, Errors* errors);

}  // namespace rwproxy::config::translate_internal

#endif  // RWPROXY_CONFIG_TRANSLATE_MATCH_H_
