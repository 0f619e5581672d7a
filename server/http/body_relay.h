// Phase 9, Relay: streams one message body from a connection's buffer and socket to another
// socket in bounded pieces (at most one buffer's worth in memory, whatever the body size), with
// the framing restated: a Content-Length body is copied as is, a chunked body is decoded and
// re-chunked (extensions and trailers dropped, so what leaves is canonical), a body delimited by
// the connection's close is chunked for HTTP/1.1 clients.
//
// Free function; the worker thread that owns both sockets. The framing itself (what bytes to
// send for what was read) is body_framing.h, without I/O.
#ifndef RWPROXY_SERVER_HTTP_BODY_RELAY_H_
#define RWPROXY_SERVER_HTTP_BODY_RELAY_H_

#include <cstdint>

#include "server/http/body_framing.h"
#include "server/http/io.h"

namespace rwproxy {

enum class RelayStatus { kOk, kReadFailed, kReadTimeout, kBadFraming, kWriteFailed };

struct RelayTimeouts {
  Clock::duration read;
  Clock::duration write;
};

// Relays the rest of the body from `in` (its buffer first) to `out`. *bytes counts body bytes
// written (framing excluded).
Task<RelayStatus> RelayBody(Socket& in, Buffer& in_buffer, BodyState* state, Socket& out,
                            bool out_chunked, Deadline& deadline, RelayTimeouts timeouts,
                            uint64_t* bytes, const char** reason);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_BODY_RELAY_H_
