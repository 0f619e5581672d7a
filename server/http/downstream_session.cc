#include "server/http/downstream_session.h"

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "boost/asio/error.hpp"
#include "server/http/path_normalize.h"
#include "server/http/upstream_exchange.h"
#include "server/http/wire.h"
#include "server/log/log.h"
#include "server/util/sv.h"

namespace rwproxy {
namespace asio = boost::asio;

namespace {

constexpr std::chrono::seconds kFirstRequestTimeout{30};
constexpr std::chrono::seconds kTlsHandshakeTimeout{10};
constexpr std::chrono::seconds kKeepAliveTimeout{60};
constexpr size_t kReadRoom = 4096;

// The request's fields, for route matching on header values.
class HeadFields : public HeaderSource {
 public:
  HeadFields(const MessageHead& head, const char* base) : head_(head), base_(base) {}
  std::optional<std::string_view> Find(std::string_view name) const override {
    for (int i = 0; i < head_.header_count; ++i) {
      if (EqualsIgnoreCase(head_.headers[i].name.In(base_), name)) {
        return head_.headers[i].value.In(base_);
      }
    }
    return std::nullopt;
  }

 private:
  const MessageHead& head_;
  const char* base_;
};

// Bytes of the whole request (head and body) if they are all buffered, else 0.
size_t WholeRequest(const MessageHead& head, const RequestFraming& framing, size_t buffered) {
  if (framing.body == BodyKind::kNone) return head.size;
  if (framing.body == BodyKind::kLength && buffered - head.size >= framing.length) {
    return head.size + framing.length;
  }
  return 0;
}

// Writes the request's access log line when the request ends (its destructor runs when ServeOne
// returns, whichever way), if the log is on and a request head was parsed.
class AccessLogScope {
 public:
  AccessLogScope(WorkerContext& ctx, AccessRecord& record) : ctx_(ctx), record_(record) {
    record_.Reset();
  }
  ~AccessLogScope() {
    if (ctx_.access_log == nullptr || !record_.started) return;
    // Start points are batch times (Poller::Now), end points real clock reads: a duration is
    // never 0, and overstates by at most the time spent in the batch before the request began.
    FormatAccessRecord(record_, ctx_.access_log->format(), Clock::now(),
                       &ctx_.access_log->line());
    ctx_.access_log->End();
  }

 private:
  WorkerContext& ctx_;
  AccessRecord& record_;
};

// Counts the request on its config version's traffic (server/stats/traffic.h) when it ends
// (the destructor runs when ServeOne returns, whichever way), once the version is known (phase
// 3). The bucket second is the batch time (Poller::Now): no clock read, no allocation.
class TrafficScope {
 public:
  explicit TrafficScope(WorkerContext& ctx) : ctx_(ctx) {}
  ~TrafficScope() {
    if (version == 0 || ctx_.stopping) return;
    const int64_t second = std::chrono::duration_cast<std::chrono::seconds>(
                               ctx_.poller->Now().time_since_epoch()).count();
    ctx_.traffic.Count(version, second, ClassifyResponse(status, local, no_route), route);
  }
  uint64_t version = 0;  // 0: not counted (the request ended before routing)
  int status = 0;
  bool local = false;
  bool no_route = false;
  int route = -1;

 private:
  WorkerContext& ctx_;
};

// x-request-id: the client's first one when valid and not dropped as hop-by-hop (it is
// forwarded as is), else a generated one (*generated_out: sent upstream as X-Request-Id);
// invalid ones and duplicates are dropped. The ID is copied into *id: the client buffer moves on
// while the request runs.
// Also finds the User-Agent (for the access log) in the same pass.
void TakeRequestId(const MessageHead& head, const char* base, RequestFraming* framing,
                   RequestIdGenerator* ids, std::string* id, bool* generated_out,
                   std::string_view* user_agent) {
  std::string_view kept;
  bool seen = false;
  for (int i = 0; i < head.header_count; ++i) {
    if (framing->drop.test(static_cast<size_t>(i))) continue;  // hop-by-hop: not forwarded
    std::string_view name = head.headers[i].name.In(base);
    if (name.size() == 10 && user_agent->empty() && EqualsIgnoreCase(name, "user-agent")) {
      *user_agent = head.headers[i].value.In(base);
    } else if (name.size() == 12 && EqualsIgnoreCase(name, "x-request-id")) {
      std::string_view value = head.headers[i].value.In(base);
      if (!seen && IsValidRequestId(value)) {  // the first one, if valid; later ones dropped
        kept = value;
      } else {
        framing->drop.set(static_cast<size_t>(i));
      }
      seen = true;
    }
  }
  *generated_out = kept.empty();
  if (kept.empty()) {
    ids->Next(id);
  } else {
    id->assign(kept);
  }
}

}  // namespace

DownstreamSession::DownstreamSession(int fd, std::string address, WorkerContext& ctx,
                                     ListenerCounters* counters,
                                     std::shared_ptr<const ServerTlsContexts> tls)
    : socket_(ctx.poller),
      buffer_(ctx.buffers),
      ctx_(ctx),
      address_(std::move(address)),
      counters_(counters),
      tls_(std::move(tls)) {
  socket_.Adopt(fd);
  deadline_.client = &socket_;
  ctx_.sessions.insert(this);
}

DownstreamSession::~DownstreamSession() { ctx_.sessions.erase(this); }

void DownstreamSession::CloseIfIdle() {
  if (idle_ && buffer_.empty()) socket_.Cancel();
}

void DownstreamSession::Abort() {
  deadline_.at = Clock::time_point::min();
  deadline_.Check(Clock::now());
}

Task<void> DownstreamSession::Run() {
  ++counters_->downstream_cx_total;
  ++counters_->downstream_cx_active;
  const bool open = tls_ == nullptr || co_await Handshake();
  for (bool first = true; open; first = false) {
    if (buffer_.empty()) {
      if (!co_await WaitForRequest(first)) break;
    } else {
      deadline_.After(kKeepAliveTimeout);  // a pipelined request is already (partly) here
    }
    idle_ = false;
    if (!co_await ServeOne()) break;
  }
  --counters_->downstream_cx_active;
  socket_.Close();
}

Task<bool> DownstreamSession::Handshake() {
  std::unique_ptr<TlsStream> stream =
      TlsStream::Create(tls_->default_context(), socket_.native_handle(), /*server=*/true,
                        ctx_.buffers);
  if (!stream) {
    ++counters_->downstream_tls_handshake_fail;
    co_return false;
  }
  socket_.SetTls(std::move(stream));
  deadline_.After(kTlsHandshakeTimeout);
  const IoStatus io = co_await TlsHandshake(socket_, deadline_);
  if (io == IoStatus::kOk) {
    ++counters_->downstream_tls_handshakes;
    if (SSL_session_reused(socket_.tls()->ssl())) ++counters_->downstream_tls_resumed;
    co_return true;
  }
  const int reason = io == IoStatus::kError ? socket_.tls()->error_reason() : 0;
  if (reason == SSL_R_HTTP_REQUEST || reason == SSL_R_HTTPS_PROXY_REQUEST) {
    // A plain HTTP request on the TLS port (OpenSSL recognises its first bytes): a plain 400
    // that says so, then close, as nginx does; never a hang.
    ++counters_->downstream_tls_plaintext;
    socket_.SetTls(nullptr);
    std::string reply;
    BuildLocalReply(400, "bad request: plain HTTP sent to the TLS port\n", {}, false, false, 1,
                    &reply);
    co_await SendReply(reply, false);
    co_return false;
  }
  ++counters_->downstream_tls_handshake_fail;
  if (log::Enabled(log::Level::kDebug)) {
    log::Debug("tls", absl::StrCat("handshake with ", address_, " failed: ",
                                   io == IoStatus::kError ? socket_.tls()->error()
                                   : io == IoStatus::kTimeout ? "timeout" : "closed"));
  }
  co_return false;
}

Task<bool> DownstreamSession::WaitForRequest(bool first) {
  idle_ = true;
  deadline_.After(first ? kFirstRequestTimeout : kKeepAliveTimeout);
  for (;;) {
    if (ctx_.draining && !first) co_return false;
    if (!socket_.Ready(Socket::kRead)) {
      buffer_.ReleaseIfEmpty();  // an idle connection holds no buffer
      if (socket_.tls()) socket_.tls()->ReleaseBuffers();
      auto [ec] = co_await socket_.Wait(Socket::kRead, kUseTuple);
      if (ec || deadline_.expired) co_return false;  // drained, or the deadline passed
    }
    IoStatus io = TryRead(socket_, buffer_, deadline_, kReadRoom, BufferPool::kBlockSize);
    if (io == IoStatus::kWait) continue;  // the flag was stale: wait without a buffer
    co_return io == IoStatus::kOk;
  }
}

Task<bool> DownstreamSession::SendReply(std::string_view reply, bool keep_alive) {
  deadline_.After(kClientIoTimeout);
  boost::asio::const_buffer one(reply.data(), reply.size());
  std::span<boost::asio::const_buffer> rest(&one, 1);
  IoStatus io = TryWrite(socket_, &rest, deadline_);
  if (io == IoStatus::kWait) io = co_await WriteAll(socket_, rest, deadline_);
  co_return keep_alive && io == IoStatus::kOk;
}

Task<bool> DownstreamSession::ServeOne() {
  // Phase 1: ReadHead.
  RequestStateLease state(ctx_.states);
  AccessRecord& record = state->access;
  AccessLogScope log_scope(ctx_, record);
  MessageHead& head = state->request;
  std::string& reply_text = state->client_head;  // local replies are built here
  size_t scanned = 0;
  size_t end = 0;
  for (;;) {
    if (size_t skip = LeadingEmptyLines(buffer_.view()); skip > 0) {  // RFC 9112 §2.2
      buffer_.Consume(skip);
      scanned = 0;
    }
    if (!buffer_.empty() && (end = FindHeadEnd(buffer_.view(), &scanned)) > 0) break;
    if (buffer_.size() >= kMaxHeadSize) {
      ++counters_->downstream_rq_bad;
      BuildLocalReply(431, "request head too large\n", {}, false, false, 1, &reply_text);
      co_return co_await SendReply(reply_text, false);
    }
    IoStatus io = co_await ReadSome(socket_, buffer_, deadline_, kReadRoom, kMaxHeadSize + kReadRoom);
    if (io == IoStatus::kTimeout && !buffer_.empty()) {
      ++counters_->downstream_rq_bad;
      BuildLocalReply(408, "request head not received in time\n", {}, false, false, 1, &reply_text);
      co_await SendReply(reply_text, false);
    }
    if (io != IoStatus::kOk) co_return false;
  }
  ++counters_->downstream_rq_total;
  ParseError parse_error;
  if (ParseRequestHead(buffer_.view().substr(0, end), &head, &parse_error) !=
      ParseStatus::kComplete) {
    ++counters_->downstream_rq_bad;
    if (parse_error.reason[0] == '\0') parse_error.reason = "malformed request head";
    BuildLocalReply(parse_error.status, absl::StrCat("bad request: ", parse_error.reason, "\n"),
                    {}, false, false, 1, &reply_text);
    co_return co_await SendReply(reply_text, false);
  }
  const char* base = buffer_.data();
  const int minor = head.version_minor;
  if (ctx_.access_log) {
    record.started = true;
    record.start = ctx_.poller->Now();  // the batch time: no clock read per request
    record.start_unix_us = UnixMicros(record.start);
    record.method.assign(head.method.In(base));
    record.path.assign(head.target.In(base));
    record.client.assign(address_);
  }

  // Phase 2: CheckFraming. A rejected head leaves the framing of what follows unknown: close.
  RequestFraming framing;
  PolicyError policy;
  if (!CheckRequest(head, base, &framing, &policy)) {
    ++counters_->downstream_rq_bad;
    BuildLocalReply(policy.status, absl::StrCat("bad request: ", policy.reason, "\n"), {}, false,
                    false, minor, &reply_text);
    record.status = policy.status;
    record.flags |= kFlagBadRequest;
    record.response_bytes = reply_text.size();
    co_return co_await SendReply(reply_text, false);
  }
  std::string_view user_agent;
  TakeRequestId(head, base, &framing, ctx_.request_ids, &state->request_id,
                &state->request_id_generated, &user_agent);
  const std::string_view request_id = state->request_id;
  if (ctx_.access_log) {
    record.request_id.assign(request_id);
    record.authority.assign(framing.host);
    record.user_agent.assign(user_agent);
    record.request_bytes = head.size + (framing.body == BodyKind::kLength ? framing.length : 0);
  }
  const size_t whole = WholeRequest(head, framing, buffer_.size());
  const bool keep = framing.keep_alive && !ctx_.draining && whole > 0;
  // A local reply: built before the request's bytes are consumed (it may quote them).
  TrafficScope traffic(ctx_);
  auto local = [&](int status, std::string_view body, std::string_view location) {
    BuildLocalReply(status, body, location, framing.head_method, keep, minor, &reply_text,
                    request_id);
    record.status = status;
    traffic.status = status;
    traffic.local = true;
    record.response_bytes = reply_text.size();
    if (keep) buffer_.Consume(whole);
    return SendReply(reply_text, keep);
  };
  if (framing.options_asterisk) co_return co_await local(200, "", {});

  // Phase 3: Normalize.
  std::shared_ptr<const Snapshot> snapshot = ctx_.snapshot;  // the config this request runs on
  traffic.version = snapshot->version;
  std::string_view path = framing.path;
  std::string normalized;
  const char* why = "";
  switch (NormalizePath(path, snapshot->http, &normalized, &why)) {
    case NormalizeResult::kUnchanged:
      break;
    case NormalizeResult::kChanged:
      path = normalized;
      break;
    case NormalizeResult::kRejected:
      ++counters_->downstream_rq_bad;
      record.flags |= kFlagBadRequest;
      co_return co_await local(400, absl::StrCat("bad request: ", why, "\n"), {});
  }

  // Phase 4: Route.
  HeadFields fields(head, base);
  RouteRequest route_request{framing.method, path, framing.query, &fields, framing.host};
  RouteDecision decision = snapshot->routes.Route(route_request);
  if (!decision.route) {
    ++ctx_.server.no_route;
    record.flags |= kFlagNoRoute;
    traffic.no_route = true;
    co_return co_await local(404, absl::StrCat("no route matched ", Sv(framing.method), " ",
                                               Sv(path), "\n"), {});
  }
  const CompiledRoute& route = *decision.route;
  ctx_.routes.Count(snapshot, route);
  if (decision.dot_segment_capture) {
    record.flags |= kFlagBadRequest;
    co_return co_await local(400, absl::StrCat("bad request: route ", route.name,
                                               " would put a dot segment from a %N capture into "
                                               "the path\n"),
                             {});
  }
  traffic.route = static_cast<int>(route.index);
  if (ctx_.access_log) {
    record.route.assign(route.name);
    if (route.action == CompiledRoute::Action::kCluster) record.upstream_path.assign(decision.target);
  }
  switch (route.action) {
    case CompiledRoute::Action::kRedirect:
      ++ctx_.server.local_reply_redirect;
      co_return co_await local(route.status, absl::StrCat("redirecting to ", decision.target, "\n"),
                               decision.target);
    case CompiledRoute::Action::kRespond:
      ++ctx_.server.local_reply_respond;
      co_return co_await local(route.status, route.body, {});
    case CompiledRoute::Action::kCluster:
      break;
  }
  // Phases 5-10.
  ClientSide client{socket_, buffer_, deadline_, head, framing, address_, *state,
                    socket_.tls() != nullptr, counters_};
  state->response.status = 0;  // the exchange parses the upstream's answer here
  ExchangeOutcome outcome = co_await ProxyToCluster(client, ctx_, *snapshot, decision);
  traffic.status = outcome.local_status ? outcome.local_status : state->response.status;
  traffic.local = outcome.local_status != 0;
  if (outcome.local_status) {
    const bool kept = outcome.request_consumed && framing.keep_alive && !ctx_.draining;
    BuildLocalReply(outcome.local_status, outcome.local_reason + "\n", {}, framing.head_method,
                    kept, minor, &reply_text, request_id);
    record.status = outcome.local_status;
    record.response_bytes = reply_text.size();
    co_return co_await SendReply(reply_text, kept);
  }
  co_return outcome.keep_alive;
}

}  // namespace rwproxy
