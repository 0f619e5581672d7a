#include "server/http/body_framing.h"

#include <algorithm>
#include <cstdint>

#include "server/http/wire.h"

namespace rwproxy {

size_t CollectBody(std::string_view in, BodyState* state, bool out_chunked, Gather* gather,
                   ChunkHeaders* headers, uint64_t* body_bytes, const char** reason) {
  size_t used = 0;
  int header = 0;
  auto add = [&](std::string_view data) {
    if (out_chunked) {
      size_t n = ChunkHeader(data.size(), (*headers)[header]);
      gather->Add((*headers)[header++], n);
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

bool DecodeBuffered(Buffer& in, BodyState* state, bool out_chunked, std::string* out,
                    const char** reason) {
  while (!state->done && !in.empty()) {
    Gather gather;
    ChunkHeaders headers;
    uint64_t ignored = 0;
    size_t used = CollectBody(in.view(), state, out_chunked, &gather, &headers, &ignored, reason);
    if (used == SIZE_MAX) return false;
    for (const auto& piece : gather.span()) {
      out->append(static_cast<const char*>(piece.data()), piece.size());
    }
    in.Consume(used);
  }
  return true;
}

}  // namespace rwproxy
