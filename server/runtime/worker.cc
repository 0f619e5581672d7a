#include "server/runtime/worker.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "absl/strings/str_cat.h"
#include "boost/asio/as_tuple.hpp"
#include "boost/asio/co_spawn.hpp"
#include "boost/asio/detached.hpp"
#include "boost/asio/post.hpp"
#include "boost/asio/use_awaitable.hpp"
#include <random>

#include "server/http/downstream_session.h"

namespace rwproxy {
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

namespace {

// How often deadlines (connections, queued pool requests) and idle connections are checked.
constexpr std::chrono::milliseconds kSweepInterval{100};

// The client address for X-Forwarded-For ("" if unknown).
std::string AddressText(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {  // by hand: inet_ntop formats through vfprintf
    const auto* b = reinterpret_cast<const unsigned char*>(
        &reinterpret_cast<const sockaddr_in*>(&addr)->sin_addr);
    char* p = text;
    for (int i = 0; i < 4; ++i) {
      if (i > 0) *p++ = '.';
      if (b[i] >= 100) *p++ = static_cast<char>('0' + b[i] / 100);
      if (b[i] >= 10) *p++ = static_cast<char>('0' + b[i] / 10 % 10);
      *p++ = static_cast<char>('0' + b[i] % 10);
    }
  } else if (addr.ss_family == AF_INET6) {
    ::inet_ntop(AF_INET6, &reinterpret_cast<const sockaddr_in6*>(&addr)->sin6_addr, text,
                sizeof(text));
  }
  return text;
}

Task<void> RunSession(int fd, std::string address, WorkerContext& ctx, ListenerCounters* counters,
                      std::shared_ptr<const ServerTlsContexts> tls) {
  DownstreamSession session(fd, std::move(address), ctx, counters, std::move(tls));
  co_await session.Run();
}

// Accepts every pending connection at each readiness of the listening socket (accept4: the new
// socket is non-blocking from the start), each becoming a session coroutine. With a TLS slot,
// each connection takes the certificates current when it is accepted.
Task<void> AcceptLoop(EventSocket& listener, WorkerContext& ctx, Executor executor,
                      ListenerCounters* counters, const ServerTlsSlot* tls) {
  for (;;) {
    auto [ec] = co_await listener.Wait(EventSocket::kRead, kUseTuple);
    if (ec || !listener.is_open()) co_return;
    for (int i = 0; i < 64; ++i) {
      sockaddr_storage peer{};
      socklen_t len = sizeof(peer);
      int fd = ::accept4(listener.native_handle(), reinterpret_cast<sockaddr*>(&peer), &len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) {
        // EAGAIN: wait for the next edge. Anything else (e.g. EMFILE): keep serving the
        // connections we have and try again at the next readiness, without spinning.
        listener.readable = false;
        break;
      }
      asio::co_spawn(executor,
                     RunSession(fd, AddressText(peer), ctx, counters,
                                tls ? tls->Get() : nullptr),
                     asio::detached);
    }
  }
}

}  // namespace

namespace {
uint64_t ProcessNonce() {
  static const uint64_t nonce = std::random_device{}() * 0x100000000ULL + std::random_device{}();
  return nonce;
}
}  // namespace

Worker::Worker(EndpointRegistry* registry, OutlierSink* sink, int index, int workers,
               uint64_t seed)
    : clusters_(io_.get_executor(), &poller_, &buffers_, registry),
      request_ids_(ProcessNonce(), static_cast<unsigned>(index)) {
  ctx_.request_ids = &request_ids_;
  clusters_.SetOutlierSink(sink);
  clusters_.SetWorkerShare(workers, seed);
  ctx_.clusters = &clusters_;
  ctx_.buffers = &buffers_;
  ctx_.poller = &poller_;
  ctx_.states = &states_;
}

Worker::~Worker() {
  Stop();
  // Sessions still open (a drain that timed out): end their waits and let them finish on this
  // thread (bounded), while the context and pools they use still exist; then destroy whatever
  // handler is left.
  listener_.Close();
  tls_listener_.Close();
  acceptor_.reset();
  tls_acceptor_.reset();
  ctx_.stopping = true;
  std::vector<DownstreamSession*> open(ctx_.sessions.begin(), ctx_.sessions.end());
  for (DownstreamSession* session : open) {
    if (ctx_.sessions.contains(session)) session->Abort();
  }
  clusters_.AbortWaiters();
  poller_.CancelTimers();  // retries waiting out a backoff
  io_.restart();
  for (int i = 0; i < 1000 && !ctx_.sessions.empty(); ++i) {
    if (io_.poll() == 0) break;
  }
  poller_.Stop();
  io_.DestroyHandlers();
}

bool Worker::Listen(const tcp::endpoint& endpoint, std::string* error) {
  return Bind(endpoint, &acceptor_, &bound_, error);
}

bool Worker::ListenTls(const tcp::endpoint& endpoint, const ServerTlsSlot* slot,
                       std::string* error) {
  tls_slot_ = slot;
  return Bind(endpoint, &tls_acceptor_, &tls_bound_, error);
}

bool Worker::Bind(const tcp::endpoint& endpoint, std::optional<Acceptor>* acceptor_slot,
                  tcp::endpoint* bound, std::string* error) {
  boost::system::error_code ec;
  std::optional<Acceptor>& acceptor = *acceptor_slot;
  acceptor.emplace(io_.get_executor());
  acceptor->open(endpoint.protocol(), ec);
  if (!ec) acceptor->set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) {
    int one = 1;
    if (::setsockopt(acceptor->native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) {
      ec.assign(errno, boost::system::system_category());
    }
  }
  if (!ec) acceptor->bind(endpoint, ec);
  if (!ec) acceptor->listen(asio::socket_base::max_listen_connections, ec);
  if (!ec) *bound = acceptor->local_endpoint(ec);
  if (ec) {
    *error = absl::StrCat("cannot listen on ", endpoint.address().to_string(), ":",
                          endpoint.port(), ": ", ec.message());
    return false;
  }
  return true;
}

tcp::endpoint Worker::local_endpoint() const { return bound_; }
tcp::endpoint Worker::tls_local_endpoint() const { return tls_bound_; }

void Worker::Start() {
  // The listening sockets move to the worker's epoll set like every other socket.
  auto start = [this](std::optional<Acceptor>& acceptor, EventSocket& listener,
                      ListenerCounters* counters, const ServerTlsSlot* tls) {
    if (!acceptor) return;
    boost::system::error_code ignored;
    acceptor->non_blocking(true, ignored);
    int fd = acceptor->release(ignored);
    if (fd >= 0 && listener.Adopt(fd)) {
      asio::co_spawn(io_, AcceptLoop(listener, ctx_, io_.get_executor(), counters, tls),
                     asio::detached);
    }
  };
  start(acceptor_, listener_, &ctx_.listener, nullptr);
  start(tls_acceptor_, tls_listener_, &ctx_.tls_listener, tls_slot_);
  thread_ = std::thread([this] { poller_.Run(io_, kSweepInterval, [this] { Sweep(); }); });
}

void Worker::SetAccessLog(AccessLog* log) {
  if (log == nullptr) return;
  access_log_.emplace(log);
  ctx_.access_log = &*access_log_;
}

void Worker::Sweep() {
  if (access_log_) access_log_->Hand();  // lines reach the writer within a sweep
  const Clock::time_point now = Clock::now();
  // Per-connection deadlines: one check per connection per sweep, no timer per operation.
  // Copy: a cancelled session may end and erase itself while we iterate.
  sweep_sessions_.assign(ctx_.sessions.begin(), ctx_.sessions.end());
  for (DownstreamSession* session : sweep_sessions_) {
    if (ctx_.sessions.contains(session)) session->CheckDeadline(now);
  }
  clusters_.Sweep(now);
}

void Worker::Apply(std::shared_ptr<const Snapshot> snapshot, std::shared_ptr<const HostMap> hosts,
                   std::function<void()> done) {
  asio::post(io_, [this, snapshot = std::move(snapshot), hosts = std::move(hosts),
                   done = std::move(done)]() mutable {
    clusters_.Apply(snapshot, std::move(hosts));
    ctx_.traffic.Begin(snapshot->version, snapshot->routes.size());
    ctx_.snapshot = std::move(snapshot);
    done();
  });
  poller_.Wake();
}

void Worker::ApplyNow(std::shared_ptr<const Snapshot> snapshot,
                      std::shared_ptr<const HostMap> hosts) {
  clusters_.Apply(snapshot, std::move(hosts));
  ctx_.traffic.Begin(snapshot->version, snapshot->routes.size());
  ctx_.snapshot = std::move(snapshot);
}

void Worker::Post(std::function<void()> task) {
  asio::post(io_, std::move(task));
  poller_.Wake();
}

void Worker::SetHosts(std::shared_ptr<const HostMap> hosts) {
  asio::post(io_, [this, hosts = std::move(hosts)]() mutable { clusters_.SetHosts(std::move(hosts)); });
  poller_.Wake();
}

void Worker::Collect(std::function<void(StatsSnapshot)> done) {
  asio::post(io_, [this, done = std::move(done)] {
    StatsSnapshot stats;
    clusters_.Collect(&stats);
    ctx_.routes.Collect(&stats);
    stats.Add("proxy", ctx_.listener);
    if (tls_slot_) stats.Add("tls", ctx_.tls_listener);
    stats.Add(ctx_.server);
    if (ctx_.snapshot) stats.config_version = ctx_.snapshot->version;
    done(std::move(stats));
  });
  poller_.Wake();
}

void Worker::CollectTraffic(std::function<void(VersionTraffic)> done) {
  asio::post(io_, [this, done = std::move(done)] {
    VersionTraffic traffic;
    const Snapshot* snapshot = ctx_.snapshot.get();
    ctx_.traffic.Collect(&traffic, [snapshot](size_t route) {
      return snapshot != nullptr && route < snapshot->routes.size()
                 ? snapshot->routes.at(route).name
                 : std::string();
    });
    done(std::move(traffic));
  });
  poller_.Wake();
}

void Worker::BeginDrain() {
  asio::post(io_, [this] {
    ctx_.draining = true;
    // Copy: a cancelled session may end and erase itself while we iterate.
    std::vector<DownstreamSession*> sessions(ctx_.sessions.begin(), ctx_.sessions.end());
    for (DownstreamSession* session : sessions) session->CloseIfIdle();
  });
  poller_.Wake();
}

void Worker::Stop() {
  if (!thread_.joinable()) return;
  asio::post(io_, [this] {
    listener_.Close();
    tls_listener_.Close();
    io_.stop();
  });
  poller_.Wake();
  thread_.join();
}

}  // namespace rwproxy
