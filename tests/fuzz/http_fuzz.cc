// libFuzzer target for every parser on the request path: request and response heads, the
// framing policy behind them, the chunked decoder (fed in pieces) and path normalization.
// Invariants checked beyond "no crash": spans stay inside the input, a decoder never consumes
// more than it was given, and normalization is idempotent.
//
// Built with clang (tests/fuzz/run.sh) or, without libFuzzer, as a corpus replay test (CTest).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "server/http/codec.h"
#include "server/http/framing.h"
#include "server/http/path_normalize.h"

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  FuzzHeads(input);
  FuzzChunked(input);
  return 0;
}
