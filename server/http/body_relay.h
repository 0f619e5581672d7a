// Phase 9, Relay: streams one message body from a connection's buffer and socket to another
// socket in bounded pieces (at most one buffer's worth in memory, whatever the body size), with
// the framing restated: a Content-Length body is copied as is, a chunked body is decoded and
// re-chunked (extensions and trailers dropped, so what leaves is canonical), a body delimited by
// the connection's close is chunked for HTTP/1.1 clients.
//
// Free function; the worker thread that owns both sockets.
#ifndef RWPROXY_SERVER_HTTP_BODY_RELAY_H_
#define RWPROXY_SERVER_HTTP_BODY_RELAY_H_

#include <cstdint>

#include "server/http/codec.h"
#include "server/http/framing.h"
#include "server/http/io.h"

namespace rwproxy {

enum class RelayStatus { kOk, kReadFailed, kReadTimeout, kBadFraming, kWriteFailed };

// The state of a body being read; it survives a switch from buffering to streaming.
struct BodyState {
  BodyKind kind = BodyKind::kNone;
  uint64_t remaining = 0;  // kLength: bytes still to read
  ChunkedDecoder decoder;  // kChunked
  bool done = false;
};

struct RelayTimeouts {
  Clock::duration read;
  Clock::duration write;
};

// Decodes what `in` holds, appending the bytes to send to *out (re-chunked if `out_chunked`,
// the last chunk included when the body ends). Consumes what it decoded. Returns false on a
// framing error (*reason set).
bool DecodeBuffered(Buffer& in, BodyState* state, bool out_chunked, std::string* out,
                    const char** reason);

// Relays the rest of the body from `in` (its buffer first) to `out`. *bytes counts body bytes
// written (framing excluded).
Task<RelayStatus> RelayBody(Socket& in, Buffer& in_buffer, BodyState* state, Socket& out,
                            bool out_chunked, Deadline& deadline, RelayTimeouts timeouts,
                            uint64_t* bytes, const char** reason);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_BODY_RELAY_H_
