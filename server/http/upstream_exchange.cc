#include "server/http/upstream_exchange.h"

#include <array>

#include "absl/strings/str_cat.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/buffer.hpp"
#include "boost/asio/use_awaitable.hpp"
#include "boost/asio/write.hpp"
#include "boost/beast/http/read.hpp"
#include "boost/beast/http/serializer.hpp"
#include "boost/beast/http/write.hpp"
#include "server/http/headers.h"
#include "server/http/relay.h"

namespace rwproxy {
namespace asio = boost::asio;
namespace beast = boost::beast;

namespace {

constexpr auto kUseTuple = asio::as_tuple(asio::use_awaitable);
constexpr std::chrono::milliseconds kClientIoTimeout{60'000};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

using ResponseParser = http::response_parser<http::buffer_body>;

enum class Failure { kNone, kTimeout, kUpstream, kBadResponse, kClient };

ExchangeOutcome Local(unsigned status, std::string reason) {
  return ExchangeOutcome{status, std::move(reason), false};
}

// One request on one cluster. Lives on ProxyToCluster's coroutine frame.
class Exchange {
 public:
  Exchange(ClientSide client, WorkerContext& ctx, const ClusterInfo& cluster,
           const RouteDecision& decision)
      : client_(client), ctx_(ctx), cluster_(cluster), route_(*decision.route),
        decision_(decision), request_(client.parser.get()) {}

  asio::awaitable<ExchangeOutcome> Run();

 private:
  struct Attempt {
    Failure failure = Failure::kNone;
    uint64_t body_bytes_sent = 0;
    bool response_started = false;
  };
  asio::awaitable<Attempt> SendAndReadHead();
  asio::awaitable<ExchangeOutcome> RelayResponse();
  asio::awaitable<bool> ReadSmallBody(uint64_t length);
  ExchangeOutcome Fail(Failure failure);
  void Release(bool reusable, std::chrono::milliseconds hint = {}) {
    if (lease_.conn) pool_->Release(std::move(lease_.conn), reusable, hint);
  }

  ClientSide client_;
  WorkerContext& ctx_;
  const ClusterInfo& cluster_;
  const CompiledRoute& route_;
  const RouteDecision& decision_;
  http::request<http::buffer_body>& request_;
  ConnPool* pool_ = nullptr;
  ClusterCounters* counters_ = nullptr;
  Lease lease_;
  std::optional<ResponseParser> response_;
  Clock::time_point deadline_;
  bool small_body_ = false;    // buffered in client_.scratch, replayable
  bool request_done_ = false;  // the client's request was read completely
};

ExchangeOutcome Exchange::Fail(Failure failure) {
  Release(false);
  switch (failure) {
    case Failure::kTimeout:
      ++counters_->upstream_rq_timeout;
      return Local(504, absl::StrCat("upstream timeout after ", absl::FormatDuration(route_.timeout),
                                     " (route ", route_.name, ")"));
    case Failure::kBadResponse:
      ++counters_->upstream_rq_bad_response;
      return Local(502, "malformed response from upstream " + pool_->endpoint().key);
    case Failure::kClient:
      return ExchangeOutcome{};  // client is gone: close
    default:
      return Local(502, "upstream " + pool_->endpoint().key + " closed the connection");
  }
}

asio::awaitable<bool> Exchange::ReadSmallBody(uint64_t length) {
  std::string& body = client_.scratch;
  body.resize(length);
  auto& b = request_.body();
  b.data = body.data();
  b.size = length;
  while (!client_.parser.is_done()) {
    client_.stream.expires_after(kClientIoTimeout);
    auto [ec, n] = co_await http::async_read(client_.stream, client_.buffer, client_.parser,
                                             kUseTuple);
    if (ec && ec != http::error::need_buffer) co_return false;
  }
  co_return true;
}

asio::awaitable<Exchange::Attempt> Exchange::SendAndReadHead() {
  Attempt attempt;
  auto& stream = lease_.conn->stream;
  ++lease_.conn->requests;
  stream.expires_at(deadline_);
  if (client_.parser.is_done()) {  // no body, or a small one already read
    SerializeHead(request_, &client_.wire);
    size_t body_size = small_body_ ? client_.scratch.size() : 0;
    std::array<asio::const_buffer, 2> wire = {asio::buffer(client_.wire),
                                              asio::buffer(client_.scratch.data(), body_size)};
    auto [ec, n] = co_await asio::async_write(stream, wire, kUseTuple);
    attempt.body_bytes_sent = body_size;  // possibly sent, even when the write failed
    if (ec) {
      attempt.failure = ec == beast::error::timeout ? Failure::kTimeout : Failure::kUpstream;
      co_return attempt;
    }
  } else {  // a streamed body: every byte read from the client goes upstream at once
    if (client_.chunk.empty()) client_.chunk.resize(kRelayChunk);
    RelayError error = co_await RelayMessage(client_.stream, client_.buffer, client_.parser,
                                             stream, client_.chunk, kClientIoTimeout,
                                             &attempt.body_bytes_sent);
    if (error != RelayError::kNone) {
      attempt.failure = error == RelayError::kWriteFailed ? Failure::kUpstream : Failure::kClient;
      co_return attempt;
    }
    request_done_ = true;
    // The route timeout runs from the end of the upload (each chunk had its own deadline).
    deadline_ = Clock::now() + absl::ToChronoMilliseconds(route_.timeout);
    stream.expires_at(deadline_);
  }
  // Read the response head, skipping interim 1xx responses.
  for (;;) {
    response_.emplace();
    response_->body_limit(boost::none);
    response_->header_limit(64 * 1024);
    if (request_.method() == http::verb::head) response_->skip(true);
    auto [ec, n] = co_await http::async_read_header(stream, lease_.conn->buffer, *response_,
                                                    kUseTuple);
    if (ec) {
      attempt.response_started = response_->got_some() || lease_.conn->buffer.size() > 0;
      if (ec == beast::error::timeout) {
        attempt.failure = Failure::kTimeout;
      } else if (ec.category() == http::make_error_code(http::error::end_of_stream).category() &&
                 ec != http::error::end_of_stream) {
        attempt.failure = Failure::kBadResponse;  // a parse error
      } else {
        attempt.failure = Failure::kUpstream;
      }
      co_return attempt;
    }
    unsigned status = response_->get().result_int();
    if (status < 100 || status >= 200 || status == 101) break;
  }
  co_return attempt;
}

asio::awaitable<ExchangeOutcome> Exchange::Run() {
  ClusterManager::Pick pick = ctx_.clusters->Choose(cluster_);
  counters_ = pick.counters;
  pool_ = pick.pool;
  if (!pool_) co_return Local(503, "cluster " + cluster_.name + " has no endpoints");
  deadline_ = Clock::now() + absl::ToChronoMilliseconds(route_.timeout);

  http::request_parser<http::buffer_body>& parser = client_.parser;
  bool has_body = !parser.is_done();
  auto length = parser.content_length();
  small_body_ = has_body && length && *length <= kMaxBufferedBody;
  request_done_ = !has_body;
  bool expect_continue = has_body && ExpectsContinue(request_);
  std::optional<uint64_t> framed_length;
  if (length) framed_length = *length;
  PrepareUpstreamRequest(&request_, decision_.target, route_.host_rewrite, client_.address,
                         pool_->endpoint().key, framed_length, has_body && !length);

  lease_ = co_await pool_->Acquire(counters_, cluster_.connect_timeout, deadline_, false);
  if (lease_.error == AcquireError::kOverflow) {
    co_return Local(503, "no upstream capacity for " + pool_->endpoint().key + " (pool full)");
  }
  if (lease_.error != AcquireError::kNone) {
    co_return Local(502, "cannot connect to upstream " + pool_->endpoint().key +
                             (lease_.error == AcquireError::kConnectTimeout ? " (timeout)" : ""));
  }
  if (expect_continue) {
    client_.stream.expires_after(kClientIoTimeout);
    auto [ec, n] = co_await asio::async_write(client_.stream, asio::buffer(kContinue), kUseTuple);
    if (ec) co_return Fail(Failure::kClient);
  }
  if (small_body_) {
    if (!(co_await ReadSmallBody(*length))) {
      Release(true);  // nothing was sent on it
      co_return ExchangeOutcome{};
    }
    request_done_ = true;
    deadline_ = Clock::now() + absl::ToChronoMilliseconds(route_.timeout);
  }

  bool idempotent = IsIdempotent(request_.method());
  Attempt attempt = co_await SendAndReadHead();
  if (attempt.failure == Failure::kUpstream && lease_.reused && !attempt.response_started &&
      (idempotent || attempt.body_bytes_sent == 0) && parser.is_done()) {
    // The stale keep-alive race: the upstream closed this idle connection as we reused it.
    ++counters_->upstream_rq_retry_stale;
    Release(false);
    lease_ = co_await pool_->Acquire(counters_, cluster_.connect_timeout, deadline_, true);
    if (lease_.error != AcquireError::kNone) {
      co_return Local(502, "cannot connect to upstream " + pool_->endpoint().key);
    }
    attempt = co_await SendAndReadHead();
  }
  if (attempt.failure != Failure::kNone) co_return Fail(attempt.failure);
  co_return co_await RelayResponse();
}

asio::awaitable<ExchangeOutcome> Exchange::RelayResponse() {
  ResponseParser& parser = *response_;
  auto& response = parser.get();
  counters_->CountResponse(response.result_int());
  auto hint = KeepAliveHint(response);
  bool upstream_reusable = response.keep_alive() && request_done_;
  bool keep = client_.keep_alive && !ctx_.draining && request_done_;
  auto& b = response.body();
  auto length = parser.content_length();
  bool has_body = !parser.is_done();
  ExchangeOutcome outcome;

  if (!has_body || (length && *length <= kMaxBufferedBody)) {
    // Whole response in one write; the upstream connection goes back to the pool first.
    std::string& body = client_.scratch;
    body.resize(has_body ? *length : 0);
    b.data = body.data();
    b.size = body.size();
    while (!parser.is_done()) {
      lease_.conn->stream.expires_after(absl::ToChronoMilliseconds(route_.timeout));
      auto [ec, n] = co_await http::async_read(lease_.conn->stream, lease_.conn->buffer, parser,
                                               kUseTuple);
      if (ec && ec != http::error::need_buffer) {
        co_return Fail(ec == beast::error::timeout ? Failure::kTimeout : Failure::kBadResponse);
      }
    }
    Release(upstream_reusable && !parser.need_eof(), hint);
    std::optional<uint64_t> out_length;
    if (length) out_length = *length;
    outcome.keep_alive = PrepareDownstreamResponse(&response, client_.version, keep, has_body,
                                                   out_length);
    // HEAD, 204 and 304 keep the upstream's Content-Length but carry no body.
    SerializeHead(response, &client_.wire);
    std::array<asio::const_buffer, 2> wire = {asio::buffer(client_.wire),
                                              asio::buffer(body.data(), has_body ? body.size() : 0)};
    client_.stream.expires_after(kClientIoTimeout);
    auto [ec, n] = co_await asio::async_write(client_.stream, wire, kUseTuple);
    if (ec) outcome.keep_alive = false;
    co_return outcome;
  }

  std::optional<uint64_t> out_length;
  if (length) out_length = *length;
  outcome.keep_alive = PrepareDownstreamResponse(&response, client_.version, keep, true,
                                                 out_length);
  uint64_t sent = 0;
  if (client_.chunk.empty()) client_.chunk.resize(kRelayChunk);
  RelayError error = co_await RelayMessage(lease_.conn->stream, lease_.conn->buffer, parser,
                                           client_.stream, client_.chunk,
                                           absl::ToChronoMilliseconds(route_.timeout), &sent);
  if (error == RelayError::kReadTimeout) ++counters_->upstream_rq_timeout;
  Release(error == RelayError::kNone && upstream_reusable && !parser.need_eof(), hint);
  if (error != RelayError::kNone) outcome.keep_alive = false;  // the client saw a partial body
  co_return outcome;
}

}  // namespace

asio::awaitable<ExchangeOutcome> ProxyToCluster(ClientSide client, WorkerContext& ctx,
                                                const Snapshot& snapshot,
                                                const RouteDecision& decision) {
  const ClusterInfo& cluster = snapshot.clusters[decision.route->cluster_index];
  Exchange exchange(client, ctx, cluster, decision);
  ExchangeOutcome outcome = co_await exchange.Run();
  if (outcome.local_status) ctx.clusters->Counters(cluster.name)->CountResponse(*outcome.local_status);
  co_return outcome;
}

}  // namespace rwproxy
