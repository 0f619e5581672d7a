#include "server/http/body_relay.h"

#include <algorithm>

#include "server/http/wire.h"

namespace rwproxy {
namespace {

constexpr size_t kReadRoom = 4096;
constexpr size_t kMaxRelayBuffer = 64 * 1024;
constexpr size_t kPiecesPerChunk = 3;

// Adds what `in` holds to `gather` (chunk headers in `headers`), up to the gather's capacity.
// Returns the bytes of `in` consumed, or SIZE_MAX on a framing error.
size_t Collect(std::string_view in, BodyState* state, bool out_chunked, Gather* gather,
               char (*headers)[20], uint64_t* body_bytes, const char** reason) {
  size_t used = 0;
  int header = 0;
  auto add = [&](std::string_view data) {
    if (out_chunked) {
      size_t n = ChunkHeader(data.size(), headers[header]);
      gather->Add(headers[header++], n);
      gather->Add(data);
      gather->Add("\r\n", 2);
    } else {
      gather->Add(data);
    }
    *body_bytes += data.size();
  };
  switch (state->kind) {
    case BodyKind::kNone:
      state->done = true;
      break;
    case BodyKind::kLength: {
      size_t n = static_cast<size_t>(std::min<uint64_t>(state->remaining, in.size()));
      if (n > 0) add(in.substr(0, n));
      state->remaining -= n;
      used = n;
      state->done = state->remaining == 0;
      break;
    }
    case BodyKind::kUntilClose:
      if (!in.empty()) add(in);
      used = in.size();
      break;
    case BodyKind::kChunked:
      while (used < in.size() && gather->count() + kPiecesPerChunk + 1 < Gather::kCapacity) {
        size_t consumed = 0;
        std::string_view data;
        auto result = state->decoder.Next(in.substr(used), &consumed, &data);
        used += consumed;
        if (result == ChunkedDecoder::Result::kError) {
          *reason = state->decoder.reason();
          return SIZE_MAX;
        }
        if (result == ChunkedDecoder::Result::kData) add(data);
        if (result == ChunkedDecoder::Result::kDone) {
          state->done = true;
          break;
        }
        if (result == ChunkedDecoder::Result::kNeedMore) break;
      }
      break;
  }
  if (state->done && out_chunked) gather->Add(kLastChunk);
  return used;
}

}  // namespace

bool DecodeBuffered(Buffer& in, BodyState* state, bool out_chunked, std::string* out,
                    const char** reason) {
  while (!state->done && !in.empty()) {
    Gather gather;
    char headers[Gather::kCapacity / kPiecesPerChunk][20];
    uint64_t ignored = 0;
    size_t used = Collect(in.view(), state, out_chunked, &gather, headers, &ignored, reason);
    if (used == SIZE_MAX) return false;
    for (const auto& piece : gather.span()) {
      out->append(static_cast<const char*>(piece.data()), piece.size());
    }
    in.Consume(used);
  }
  return true;
}

Task<RelayStatus> RelayBody(Socket& in, Buffer& in_buffer, BodyState* state, Socket& out,
                            bool out_chunked, Deadline& deadline, RelayTimeouts timeouts,
                            uint64_t* bytes, const char** reason) {
  Gather gather;
  char headers[Gather::kCapacity / kPiecesPerChunk][20];
  while (!state->done) {
    if (in_buffer.empty() && !(state->kind == BodyKind::kLength && state->remaining == 0)) {
      deadline.After(timeouts.read);
      IoStatus io = co_await ReadSome(in, in_buffer, deadline, kReadRoom, kMaxRelayBuffer);
      if (io == IoStatus::kEof && state->kind == BodyKind::kUntilClose) {
        state->done = true;
        if (!out_chunked) break;
        deadline.After(timeouts.write);
        if (co_await WriteAll(out, kLastChunk, deadline) != IoStatus::kOk) {
          co_return RelayStatus::kWriteFailed;
        }
        break;
      }
      if (io == IoStatus::kTimeout) co_return RelayStatus::kReadTimeout;
      if (io != IoStatus::kOk) co_return RelayStatus::kReadFailed;
    }
    gather.Clear();
    size_t used =
        Collect(in_buffer.view(), state, out_chunked, &gather, headers, bytes, reason);
    if (used == SIZE_MAX) co_return RelayStatus::kBadFraming;
    if (gather.count() > 0) {
      deadline.After(timeouts.write);
      if (co_await WriteAll(out, gather.span(), deadline) != IoStatus::kOk) {
        co_return RelayStatus::kWriteFailed;
      }
    }
    in_buffer.Consume(used);
  }
  co_return RelayStatus::kOk;
}

}  // namespace rwproxy
