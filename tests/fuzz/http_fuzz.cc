// libFuzzer target for every parser on the request path: request and response heads, the
// framing policy behind them, the chunked decoder (fed in pieces) and path normalization.
// Invariants checked beyond "no crash": spans stay inside the input, a decoder never consumes
// more than it was given, normalization is idempotent, and what the proxy would send upstream
// for an accepted request parses back as exactly one request with the same body (no byte more,
// no byte less: the desync property).
//
// Built with clang (tests/fuzz/run.sh) or, without libFuzzer, as a corpus replay test (CTest).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "server/http/body_framing.h"
#include "server/http/codec.h"
#include "server/http/framing.h"
#include "server/http/path_normalize.h"
#include "server/http/wire.h"

namespace {

void Require(bool ok) {
  if (!ok) std::abort();
}

void CheckSpans(const rwproxy::MessageHead& head, size_t size) {
  Require(head.size <= size);
  for (int i = 0; i < head.header_count; ++i) {
    Require(head.headers[i].line.end() <= head.size);
    Require(head.headers[i].value.end() <= head.headers[i].line.end());
  }
}

void FuzzHeads(std::string_view data) {
  size_t scanned = 0;
  size_t end = rwproxy::FindHeadEnd(data, &scanned);
  Require(end <= data.size());
  std::string_view head_bytes = end ? data.substr(0, end) : data;
  rwproxy::MessageHead head;
  rwproxy::ParseError error;
  if (rwproxy::ParseRequestHead(head_bytes, &head, &error) == rwproxy::ParseStatus::kComplete) {
    CheckSpans(head, head_bytes.size());
    rwproxy::RequestFraming framing;
    rwproxy::PolicyError policy;
    if (rwproxy::CheckRequest(head, head_bytes.data(), &framing, &policy)) {
      // An upgrade offer is a token list with no body, and UpgradeAllowed only reads it.
      if (!framing.upgrade.empty()) {
        Require(framing.body == rwproxy::BodyKind::kNone);
        (void)rwproxy::UpgradeAllowed(framing.upgrade, {"websocket", "h2c"});
      }
      std::string out;
      const char* reason = "";
      rwproxy::HttpSpec options;
      if (rwproxy::NormalizePath(framing.path, options, &out, &reason) ==
          rwproxy::NormalizeResult::kChanged) {
        std::string again;
        Require(rwproxy::NormalizePath(out, options, &again, &reason) ==
                rwproxy::NormalizeResult::kUnchanged);
      }
    }
  }
  if (rwproxy::ParseResponseHead(head_bytes, &head, &error) == rwproxy::ParseStatus::kComplete) {
    CheckSpans(head, head_bytes.size());
    rwproxy::ResponseFraming framing;
    rwproxy::PolicyError policy;
    (void)rwproxy::CheckResponse(head, head_bytes.data(), false, &framing, &policy);
    // As the answer to an upgrade offer: a 101 becomes a tunnel only without body framing, and
    // a tunnel is never reused.
    if (rwproxy::CheckResponse(head, head_bytes.data(), false, &framing, &policy,
                               "websocket, h2c/1") &&
        framing.switching) {
      Require(head.status == 101 && !framing.reusable && framing.body == rwproxy::BodyKind::kNone);
    }
    (void)rwproxy::KeepAliveHintMs(head, head_bytes.data());
  }
}

void FuzzChunked(std::string_view data) {
  // The first byte picks the piece size, so splits at every position get explored.
  if (data.empty()) return;
  size_t step = static_cast<unsigned char>(data[0]) % 16 + 1;
  data.remove_prefix(1);
  rwproxy::ChunkedDecoder decoder;
  std::string pending;
  for (size_t at = 0; at < data.size(); at += step) {
    pending.append(data.substr(at, step));
    std::string_view view = pending;
    for (;;) {
      size_t consumed = 0;
      std::string_view body;
      auto result = decoder.Next(view, &consumed, &body);
      Require(consumed <= view.size());
      if (result == rwproxy::ChunkedDecoder::Result::kError ||
          result == rwproxy::ChunkedDecoder::Result::kDone) {
        return;
      }
      view.remove_prefix(consumed);
      if (result == rwproxy::ChunkedDecoder::Result::kNeedMore) break;
    }
    pending.assign(view);
  }
}

std::string Flatten(rwproxy::Gather& gather) {
  std::string out;
  for (const auto& piece : gather.span()) {
    out.append(static_cast<const char*>(piece.data()), piece.size());
  }
  return out;
}

// Decodes a whole body of `framing` at the front of `data`; false if it is not all there.
bool WholeBody(const rwproxy::RequestFraming& framing, std::string_view data, std::string* body,
               size_t* used) {
  if (framing.body == rwproxy::BodyKind::kNone) return true;
  if (framing.body == rwproxy::BodyKind::kLength) {
    if (data.size() < framing.length) return false;
    body->assign(data.substr(0, framing.length));
    *used = framing.length;
    return true;
  }
  rwproxy::ChunkedDecoder decoder;
  size_t at = 0;
  for (;;) {
    size_t consumed = 0;
    std::string_view piece;
    auto result = decoder.Next(data.substr(at), &consumed, &piece);
    at += consumed;
    if (result == rwproxy::ChunkedDecoder::Result::kData) body->append(piece);
    if (result == rwproxy::ChunkedDecoder::Result::kDone) break;
    if (result != rwproxy::ChunkedDecoder::Result::kData) return false;
  }
  *used = at;
  return true;
}

void FuzzForwarding(std::string_view data) {
  size_t scanned = 0;
  size_t end = rwproxy::FindHeadEnd(data, &scanned);
  if (end == 0) return;
  rwproxy::MessageHead head;
  rwproxy::ParseError error;
  if (rwproxy::ParseRequestHead(data.substr(0, end), &head, &error) !=
      rwproxy::ParseStatus::kComplete) {
    return;
  }
  rwproxy::RequestFraming framing;
  rwproxy::PolicyError policy;
  if (!rwproxy::CheckRequest(head, data.data(), &framing, &policy) || framing.options_asterisk) {
    return;
  }
  std::string body;
  size_t used = 0;
  if (!WholeBody(framing, data.substr(head.size), &body, &used)) return;
  // What goes upstream: the head, then the body restated (chunked bodies re-chunked).
  std::string target = std::string(framing.path) + std::string(framing.query);
  rwproxy::UpstreamHead params{target, framing.host.empty() ? "h" : framing.host, "10.0.0.1",
                               framing.body, framing.length, "0123456789ab-0-1"};
  std::string scratch;
  rwproxy::Gather gather;
  rwproxy::BuildUpstreamHead(head, data.data(), framing, params, &scratch, &gather);
  std::string upstream = Flatten(gather);
  if (framing.body == rwproxy::BodyKind::kChunked) {
    rwproxy::BufferPool pool;
    rwproxy::Buffer in(&pool);
    std::string_view raw_body = data.substr(head.size, used);
    Require(in.Prepare(raw_body.size() + 1, raw_body.size() + 65536));
    std::memcpy(in.write_ptr(), raw_body.data(), raw_body.size());
    in.Commit(raw_body.size());
    rwproxy::BodyState state;
    state.kind = rwproxy::BodyKind::kChunked;
    const char* reason = "";
    Require(rwproxy::DecodeBuffered(in, &state, true, &upstream, &reason) && state.done);
  } else {
    upstream += body;
  }
  // Parsed back with the same strict rules (and within the 100 fields a strict upstream such
  // as HAProxy accepts): one request, the same body, nothing left over.
  size_t again_scanned = 0;
  size_t again_end = rwproxy::FindHeadEnd(upstream, &again_scanned);
  Require(again_end > 0);
  rwproxy::MessageHead again;
  Require(rwproxy::ParseRequestHead(std::string_view(upstream).substr(0, again_end), &again,
                                    &error, rwproxy::kMaxHeaders) ==
          rwproxy::ParseStatus::kComplete);
  rwproxy::RequestFraming again_framing;
  Require(rwproxy::CheckRequest(again, upstream.data(), &again_framing, &policy));
  Require(again_framing.body == framing.body);
  std::string again_body;
  size_t again_used = 0;
  Require(WholeBody(again_framing, std::string_view(upstream).substr(again.size), &again_body,
                    &again_used));
  Require(again_body == body);
  Require(again.size + again_used == upstream.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzHeads(input);
  FuzzChunked(input);
  FuzzForwarding(input);
  return 0;
}
