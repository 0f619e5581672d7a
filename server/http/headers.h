// Header surgery between the two sides of the proxy, done in place on Beast messages so no field
// is copied: hop-by-hop removal (RFC 9110 7.6.1), X-Forwarded-*, framing, Keep-Alive hints.
//
// Free functions; thread-safety: whatever thread owns the message.
#ifndef RWPROXY_SERVER_HTTP_HEADERS_H_
#define RWPROXY_SERVER_HTTP_HEADERS_H_

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "boost/beast/http/fields.hpp"
#include "boost/beast/http/message.hpp"

namespace rwproxy {

namespace http = boost::beast::http;

// Removes Connection and every header it names, Keep-Alive, Proxy-Connection, TE, Trailer,
// Transfer-Encoding, Upgrade. Content-Length is kept (the caller sets framing afterwards).
void StripHopByHop(http::fields* fields);

// Rewrites a client request head, in place, into the head sent upstream: HTTP/1.1 keep-alive,
// new target and (optionally) Host, hop-by-hop and Expect removed, X-Forwarded-For appended with
// the client address, X-Forwarded-Proto set to "http" unless present, and body framing restated.
void PrepareUpstreamRequest(http::request_header<>* head, std::string_view target,
                            std::optional<std::string_view> host, std::string_view client_address,
                            std::string_view default_host, std::optional<uint64_t> content_length,
                            bool chunked);

// Rewrites an upstream response head, in place, into the head sent to the client.
// `body_length`: known length, or nullopt for a streamed body of unknown length (sent chunked to
// HTTP/1.1 clients; to HTTP/1.0 clients delimited by close, which forces keep_alive false).
// Returns the keep-alive decision actually written.
bool PrepareDownstreamResponse(http::response_header<>* head, unsigned client_version,
                               bool keep_alive, bool has_body,
                               std::optional<uint64_t> body_length);

// The upstream's "Keep-Alive: timeout=N" hint, if any (zero when absent or malformed).
std::chrono::milliseconds KeepAliveHint(const http::fields& fields);

// Replaces *out with the wire form of a head: request or status line, fields, blank line. Used
// for messages sent in one write, where Beast's generic serializer costs more than the copy.
void SerializeHead(const http::request_header<>& head, std::string* out);
void SerializeHead(const http::response_header<>& head, std::string* out);

// True for methods RFC 9110 calls idempotent.
bool IsIdempotent(http::verb method);

// Client asked for "Expect: 100-continue".
bool ExpectsContinue(const http::request_header<>& head);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_HEADERS_H_
