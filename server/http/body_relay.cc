#include "server/http/body_relay.h"

#include <algorithm>

#include "server/http/wire.h"

namespace rwproxy {
namespace {

constexpr size_t kReadRoom = 4096;
constexpr size_t kMaxRelayBuffer = 64 * 1024;

}  // namespace

Task<RelayStatus> RelayBody(Socket& in, Buffer& in_buffer, BodyState* state, Socket& out,
                            bool out_chunked, Deadline& deadline, RelayTimeouts timeouts,
                            uint64_t* bytes, const char** reason) {
  Gather gather;
  ChunkHeaders headers;
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
        CollectBody(in_buffer.view(), state, out_chunked, &gather, &headers, bytes, reason);
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
