// The framing policy: THE one place that decides, for a parsed request or response head, where
// its body ends, whether the connection may carry another message, which fields are hop-by-hop,
// and which heads are rejected (RFC 9112 §6, §3.2, §9; RFC 9110 §7.6.1). Strict like HAProxy and
// nginx: an ambiguous head is refused (the connection then closes), never guessed at, because a
// pooled upstream connection is shared by many clients and one byte of disagreement about where a
// message ends answers the next client with someone else's response.
//
// The policy table (each row is a test in tests/server/framing_test.cc):
//   request                                                    result
//   Transfer-Encoding in HTTP/1.0                              400  (§6.1)
//   Transfer-Encoding and Content-Length                       400  (§6.1, §6.3 rule 3)
//   Transfer-Encoding whose final coding is not chunked         400  (§6.3 rule 3)
//   chunked listed twice, empty list element, parameters       400  (§7, §6.1)
//   Transfer-Encoding with another coding (gzip, identity)     501  (§6.1: unknown coding)
//   Content-Length not 1*DIGIT, overflowing, or a list         400  (§6.3 rule 5)
//   several Content-Length fields that differ                  400  (§6.3 rule 5); same: one
//   HTTP/1.1 without Host, with two Host fields, invalid Host  400  (§3.2)
//   absolute-form target                                       its authority is the Host (§3.2.2)
//   userinfo in the authority, fragment in the target          400
//   CONNECT                                                    405 (rwproxy is not a tunnel)
//   OPTIONS *                                                  answered locally, not routed
//   other asterisk or authority form                           400  (§3.2.3, §3.2.4)
//   Expect other than 100-continue                             417  (RFC 9110 §10.1.1)
//   every Connection field: close, keep-alive, named fields    honoured; named fields dropped
//   response                                                    result
//   1xx: 100 dropped, 102/103 forwarded to HTTP/1.1 clients; 101 -> 502 unless the request's
//   upgrade was offered upstream (then it needs one Upgrade field naming only offered
//   protocols, Connection: upgrade, no body framing, and the connection becomes a tunnel)
//   HEAD request, 204, 304                                     no body read or forwarded; 204/304
//                                                              with a body framing: not reused
//   Transfer-Encoding other than exactly chunked, TE + CL, TE in 1.0, bad Content-Length: 502,
//   and the connection is closed
//   neither                                                    body until close; not reused
// Syntax (bare CR/LF, NUL, whitespace before colon, obs-fold, limits) is the codec's (codec.h).
//
// Free functions; no state.
#ifndef RWPROXY_SERVER_HTTP_FRAMING_H_
#define RWPROXY_SERVER_HTTP_FRAMING_H_

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "server/http/codec.h"

namespace rwproxy {

enum class BodyKind : uint8_t { kNone, kLength, kChunked, kUntilClose };

struct PolicyError {
  int status = 400;
  const char* reason = "";
};

struct RequestFraming {
  BodyKind body = BodyKind::kNone;
  uint64_t length = 0;           // kLength
  bool keep_alive = true;        // the client allows another request after this one
  bool expect_continue = false;  // HTTP/1.1 "Expect: 100-continue"
  bool head_method = false;      // HEAD: the response has no body
  bool options_asterisk = false; // "OPTIONS *": answered locally
  std::string_view method;
  std::string_view host;   // absolute-form authority, else the Host field ("" if none in 1.0)
  std::string_view path;   // origin-form path, without the query
  std::string_view query;  // "" or "?..."
  // The Upgrade value of an upgrade offer: HTTP/1.1, Connection: upgrade, one Upgrade field of
  // valid protocols, no body. "" otherwise. (The field is in `drop` either way.)
  std::string_view upgrade;
  std::bitset<kMaxHeaders> drop;  // fields not forwarded as they are (hop-by-hop, restated)
};

// Whether one of the protocols in an Upgrade value (by name, without "/version", any case) is in
// `allowed` (a route's lowercase `upgrades`).
bool UpgradeAllowed(std::string_view offered, const std::vector<std::string>& allowed);
// The protocols of `offered` that `allowed` names, as an Upgrade value ("websocket/13, foo") in
// *out: what is forwarded upstream (the others are dropped). False if there is none.
bool AllowedUpgrades(std::string_view offered, const std::vector<std::string>& allowed,
                     std::string* out);

// Checks a request head against the policy. On error, the connection must be closed after the
// reply (the framing of what follows is unknown).
bool CheckRequest(const MessageHead& head, const char* base, RequestFraming* out,
                  PolicyError* error);

struct ResponseFraming {
  BodyKind body = BodyKind::kNone;
  uint64_t length = 0;
  bool has_length = false;  // a valid Content-Length was sent (kept for HEAD and 304 replies)
  bool reusable = true;   // the upstream connection may carry another request afterwards
  bool interim = false;   // 1xx other than 101
  bool forward_interim = false;  // 102/103: forwarded to an HTTP/1.1 client
  bool switching = false;  // 101 to an offered upgrade: the connection is now a tunnel
  std::bitset<kMaxHeaders> drop;
};

// Checks a response head to a request (`head_request`: the request was HEAD). Errors are 502.
// `upgrade_sent`: the Upgrade value the request carried upstream ("" if none). A 101 is accepted
// only with one, and only to protocols it names.
bool CheckResponse(const MessageHead& head, const char* base, bool head_request,
                   ResponseFraming* out, PolicyError* error, std::string_view upgrade_sent = {});

// The upstream's "Keep-Alive: timeout=N" in milliseconds, or 0.
int64_t KeepAliveHintMs(const MessageHead& head, const char* base);

// True for methods RFC 9110 §9.2.2 calls idempotent.
bool IsIdempotent(std::string_view method);

// A Host / authority value: reg-name, IPv4 or [IPv6], optional :port (RFC 3986 §3.2.2).
bool IsValidHost(std::string_view host);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_FRAMING_H_
