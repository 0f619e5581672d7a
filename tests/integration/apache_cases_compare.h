// The Apache-vs-rwproxy comparison of tests/integration/apache_import_test.cc: the case table's
// types, what one request is reduced to on each side (what the upstream received, what the
// client saw), field-by-field comparison and the per-case agreement table.
//
// Ownership: plain values and free functions. Thread-safety: no shared state; any thread.
#ifndef RWPROXY_TESTS_INTEGRATION_APACHE_CASES_COMPARE_H_
#define RWPROXY_TESTS_INTEGRATION_APACHE_CASES_COMPARE_H_

#include <cstddef>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "tests/support/http_client.h"

namespace rwtest {

// One request of a case, sent on a fresh client connection. `headers` always names Host, so
// both proxies see the same request whatever port they listen on.
struct CaseRequest {
  std::string method;
  std::string target;
  Headers headers;
  std::string body;
};

// An absolute fact about Apache's answer (so that a harness recording nothing cannot pass):
// field `field` of request `request` must be `value` (field names as in Observation).
struct Fact {
  size_t request = 0;
  std::string field;
  std::string value;
};

// Replies of the upstreams: gets the request's bytes and the upstream's "127.0.0.1:PORT".
using UpstreamReplyFn =
    std::function<std::string(const std::string& request, const std::string& address)>;

struct ImportCase {
  std::string name;
  // The Apache config after the generated prelude: "@UPSTREAM@" / "@UPSTREAM2@" are the two
  // recording upstreams ("127.0.0.1:PORT"), "@PORT@" Apache's own port.
  std::string config;
  std::vector<CaseRequest> requests;
  std::vector<std::string> request_headers;   // set by the config: as the upstream got them
  std::vector<std::string> response_headers;  // set by the config: as the client got them
  // Load balancing: upstream-side records are compared as a multiset (sorted), not per request.
  bool unordered_upstream = false;
  UpstreamReplyFn reply;  // empty: 200 "ok"
  std::vector<Fact> facts;
};

// Ordered (name, value) fields. Upstream side: "upstream" (up1, up2, "(none)", or "up1 x2"),
// "method", "path", "query" ("(none)" without '?'), "host", "> Name" per request header (values
// of repeated lines joined with ", "; "(absent)"). Client side: "status", "location", "< Name".
using Fields = std::vector<std::pair<std::string, std::string>>;

struct Observation {
  Fields upstream_side;
  Fields client_side;
};

// The fields of the upstream-side record for `bytes` (one request as received).
Fields UpstreamFields(const std::string& upstream, const std::string& bytes,
                      const std::vector<std::string>& header_names);
// The upstream-side record when no upstream (or several) received the request.
Fields NoUpstreamFields(const std::string& upstream, const std::vector<std::string>& header_names);
// Location, and the listed headers, as the client sees them. Location / Content-Location values
// that are references relative to the request ("/x", "//h/x") are resolved against `origin`
// ("http://HOST" of the request), as a client does (RFC 9110 10.2.2, 8.7): "/x" and
// "http://HOST/x" send it to the same place, and compare equal.
Fields ClientFields(const HttpResponse& response, const std::vector<std::string>& header_names,
                    const std::string& origin);
// `value` resolved against `origin` when it is an absolute-path or network-path reference.
std::string ResolveReference(const std::string& value, const std::string& origin);

// Every occurrence of each `from` replaced by its `to` in every value (ports -> placeholders).
void Normalize(const std::vector<std::pair<std::string, std::string>>& replacements,
               Observation* observation);

// The value of `field` in an observation ("" if missing).
std::string FieldOf(const Observation& observation, const std::string& field);

struct Agreement {
  size_t requests = 0;
  size_t fields = 0;
  size_t agreed = 0;
  std::vector<std::string> disagreements;  // each in full: request, field, both values
};

Agreement Compare(const ImportCase& test_case, const std::vector<Observation>& apache,
                  const std::vector<Observation>& rwproxy);

// "case | requests | fields compared | agreed" rows, plus a total.
std::string AgreementTable(const std::vector<std::pair<std::string, Agreement>>& rows);

// "GET /a?x=1 (Host: h, User-Agent: x)" for messages.
std::string Describe(const CaseRequest& request);

}  // namespace rwtest

#endif  // RWPROXY_TESTS_INTEGRATION_APACHE_CASES_COMPARE_H_
