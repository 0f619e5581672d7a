// Body framing without I/O: what bytes to send for the body bytes that arrived, with the
// framing restated: a Content-Length body as is, a chunked body decoded and re-chunked
// (extensions and trailers dropped, so what leaves is canonical), a body delimited by the
// connection's close chunked for HTTP/1.1 clients. Used by the relay (body_relay.h) and to
// buffer small request bodies; fuzzed with the codec.
//
// Value types and free functions; the caller's thread.
#ifndef RWPROXY_SERVER_HTTP_BODY_FRAMING_H_
#define RWPROXY_SERVER_HTTP_BODY_FRAMING_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "server/http/buffer.h"
#include "server/http/codec.h"
#include "server/http/framing.h"
#include "server/http/io.h"

namespace rwproxy {

// The state of a body being read; it survives a switch from buffering to streaming.
struct BodyState {
  BodyKind kind = BodyKind::kNone;
  uint64_t remaining = 0;  // kLength: bytes still to read
  ChunkedDecoder decoder;  // kChunked
  bool done = false;
};

inline constexpr size_t kPiecesPerChunk = 3;  // size line, data, CRLF
// Room for the size lines of one gather list's worth of chunks.
using ChunkHeaders = char[Gather::kCapacity / kPiecesPerChunk][20];

// Adds what `in` holds to `gather` (chunk size lines in *headers), up to the gather's capacity,
// and the last chunk when the body ends. Returns the bytes of `in` used, or SIZE_MAX on a
// framing error (*reason set). *body_bytes counts body bytes added.
size_t CollectBody(std::string_view in, BodyState* state, bool out_chunked, Gather* gather,
                   ChunkHeaders* headers, uint64_t* body_bytes, const char** reason);

// Decodes what `in` holds, appending the bytes to send to *out (re-chunked if `out_chunked`).
// Consumes what it decoded. Returns false on a framing error (*reason set).
bool DecodeBuffered(Buffer& in, BodyState* state, bool out_chunked, std::string* out,
                    const char** reason);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_HTTP_BODY_FRAMING_H_
