// Wire forms written by the proxy: the upstream request head, the client response head, local
// replies and chunk framing. A head is a gather list: the new start line and added fields (in a
// reused scratch string) around the runs of the peer's own field lines that are kept, so kept
// fields are never copied or re-serialized.
//
// Free functions; the caller's thread. The Gather refers to `scratch` and `base`: keep both alive
// and unchanged until the write is done.
#ifndef RWPROXY_SERVER_HTTP_WIRE_H_
#define RWPROXY_SERVER_HTTP_WIRE_H_

#include <string>
#include <string_view>

#include "config/spec.h"
#include "server/http/codec.h"
#include "server/http/framing.h"
#include "server/http/io.h"

namespace rwproxy {

struct UpstreamHead {
  std::string_view target;          // rewritten origin-form target
  std::string_view host;            // Host to send
  std::string_view client_address;  // appended to X-Forwarded-For
  BodyKind body = BodyKind::kNone;  // kLength or kChunked (restated), else no body
  uint64_t length = 0;
  std::string_view request_id;      // sent as X-Request-Id when not empty (a generated one)
  const HeaderOpsSpec* ops = nullptr;  // the route's request_headers, or null
  bool tls = false;                    // the client came over TLS: X-Forwarded-Proto: https
  std::string_view upgrade;  // an upgrade offer the route tunnels: sent as Upgrade (+ Connection)
};

// Request line (always HTTP/1.1), the client's fields minus framing.drop, then Host,
// X-Forwarded-For (client's values, then client_address), X-Forwarded-Proto: http (https over
// TLS), "Connection: upgrade" and Upgrade for a tunnelled upgrade offer,
// X-Request-Id, the set and add fields of `ops`, framing. `ops` applies in the order remove, set,
// add: client fields named in remove or set are left out, and so are the X-Forwarded-For,
// X-Forwarded-Proto and X-Request-Id the proxy would write; set and add fields are appended (add
// after the client's fields of that name). Only `scratch` grows.
// Returns the index in *out of the piece that holds exactly the Host line ("Host: h\r\n"), so
// that a try to another endpoint can send another Host (Rewrite.host_from_endpoint).
size_t BuildUpstreamHead(const MessageHead& head, const char* base, const RequestFraming& framing,
                         const UpstreamHead& params, std::string* scratch, Gather* out);

struct ClientHead {
  int client_minor = 1;    // the client's HTTP version
  bool keep_alive = true;  // what to announce (Connection: close / keep-alive)
  bool bodiless = false;   // HEAD request, 204 or 304: no body
  BodyKind body = BodyKind::kNone;  // what the client will get: kLength, kChunked, kUntilClose
  uint64_t length = 0;
  const ResponseHeaderOpsSpec* ops = nullptr;  // the route's response_headers, or null
  std::string_view upgrade;  // a 101: the upstream's Upgrade value, sent with Connection: upgrade
};

// Status line ("HTTP/1.1 NNN reason" from the upstream's), the upstream's fields minus
// framing.drop, then the set and add fields of `ops`, framing and Connection fields. Fields named
// in ops->remove or ops->set are left out; a kept Location, Content-Location or URI field whose
// value starts with a rewrite_location `from` (the first that matches) is written in its place
// with that prefix replaced by `to`. Also used for forwarded 1xx heads, which `ops` leaves alone.
void BuildClientHead(const MessageHead& head, const char* base, const ResponseFraming& framing,
                     const ClientHead& params, std::string* scratch, Gather* out);

// A complete local reply (text/plain body, or none for HEAD, 1xx, 204 and 304).
// `request_id`, when not empty, is sent as X-Request-Id.
void BuildLocalReply(int status, std::string_view body, std::string_view location,
                     bool head_method, bool keep_alive, int client_minor, std::string* out,
                     std::string_view request_id = {});

// "<hex>\r\n" for a chunk of n bytes; returns its length (at most 18).
size_t ChunkHeader(uint64_t n, char* out);

inline constexpr std::string_view kLastChunk = "0\r\n\r\n";
inline constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_WIRE_H_
