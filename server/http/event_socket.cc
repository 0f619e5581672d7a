#include "server/http/event_socket.h"

#include <netinet/in.h>
#include <sys/eventfd.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <deque>

#include "boost/asio/executor_work_guard.hpp"
#include "boost/asio/post.hpp"

namespace rwproxy {
namespace asio = boost::asio;

namespace {
boost::system::error_code Errno(int e) { return {e, boost::system::system_category()}; }
}  // namespace

Poller::Poller(asio::io_context& io)
    : executor_(io.get_executor()),
      epfd_(::epoll_create1(EPOLL_CLOEXEC)),
      wake_fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.ptr = nullptr;
  if (epfd_ >= 0 && wake_fd_ >= 0) ::epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &ev);
}

Poller::~Poller() {
  boost::system::error_code ignored;
  if (watch_) watch_->close(ignored);
  if (wake_fd_ >= 0) ::close(wake_fd_);
  if (epfd_ >= 0) ::close(epfd_);
}

void Poller::Run(asio::io_context& io, std::chrono::milliseconds tick,
                 const std::function<void()>& on_tick) {
  // Without outstanding work, poll() would stop the io_context: keep it running until Stop.
  auto work = asio::make_work_guard(io);
  auto next_tick = std::chrono::steady_clock::now() + tick;
  running_ = true;
  while (!io.stopped()) {
    io.poll();  // ready handlers and posted tasks (no reactor: no syscall)
    if (io.stopped()) break;
    auto now = std::chrono::steady_clock::now();
    now_ = now;
    if (now >= next_tick) {
      on_tick();
      next_tick = now + tick;
      continue;  // the tick may have posted work
    }
    auto wake_at = next_tick;
    if (!timers_.empty()) {
      if (timers_.begin()->first <= now) {
        asio::post(io, [this, now] { FireTimers(now); });  // inside the io_context, as below
        continue;
      }
      wake_at = std::min(wake_at, timers_.begin()->first);
    }
    int timeout = static_cast<int>(
        std::chrono::ceil<std::chrono::milliseconds>(wake_at - now).count());
    // The batch is handled inside the io_context (the next poll), where Asio recycles the
    // memory of coroutine frames and handlers; outside it, every one would be a malloc.
    if (Wait(timeout) > 0) {
      now_ = std::chrono::steady_clock::now();  // when this batch's events are handled
      asio::post(io, [this] { HandleEvents(); });
    }
  }
  running_ = false;
}

void Poller::After(std::chrono::steady_clock::time_point at,
                   asio::any_completion_handler<void(boost::system::error_code)> handler) {
  if (timers_cancelled_) {  // shutting down: complete at once (from the io_context)
    asio::post(executor_, [h = std::move(handler)]() mutable {
      std::move(h)(asio::error::operation_aborted);
    });
    return;
  }
  timers_.emplace(at, std::move(handler));
}

void Poller::FireTimers(std::chrono::steady_clock::time_point now) {
  while (!timers_.empty() && timers_.begin()->first <= now) {
    auto node = timers_.extract(timers_.begin());
    std::move(node.mapped())(boost::system::error_code());
  }
}

void Poller::CancelTimers() {
  timers_cancelled_ = true;
  while (!timers_.empty()) {
    auto node = timers_.extract(timers_.begin());
    std::move(node.mapped())(asio::error::operation_aborted);
  }
}

void Poller::Wake() {
  uint64_t one = 1;
  (void)!::write(wake_fd_, &one, sizeof(one));
}

void Poller::Start() {
  stopped_ = false;
  if (!watch_) {
    watch_.emplace(executor_);
    boost::system::error_code ec;
    watch_->assign(::dup(epfd_), ec);
  }
  Arm();
}

void Poller::Stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  if (watch_) watch_->cancel(ignored);
}

void Poller::Arm() {
  if (stopped_) return;
  watch_->async_wait(asio::posix::descriptor_base::wait_read,
                    [this](const boost::system::error_code& ec) {
                      if (ec || stopped_) return;
                      while (Wait(0) > 0) HandleEvents();
                      Arm();
                    });
}

int Poller::Wait(int timeout_ms) {
  int n = ::epoll_wait(epfd_, events_, kMaxEvents, timeout_ms);
  pending_ = n > 0 ? n : 0;
  return pending_;
}

void Poller::HandleEvents() {
  const int n = pending_;
  pending_ = 0;
  // Flags first for the whole batch, then the waiters: a resumed coroutine may close any
  // socket, so no EventSocket is touched after the first handler runs.
  std::deque<EventSocket::Handler>& ready = ready_;  // never relocated: move-only handlers
  for (int i = 0; i < n; ++i) {
    auto* socket = static_cast<EventSocket*>(events_[i].data.ptr);
    if (socket == nullptr) {  // Wake(): the io_context has work from another thread
      uint64_t count;
      (void)!::read(wake_fd_, &count, sizeof(count));
      continue;
    }
    socket->OnEvents(events_[i].events);
    for (int d = 0; d < 2; ++d) {
      auto& waiter = socket->waiters_[d];
      if (waiter && socket->Ready(static_cast<EventSocket::Direction>(d))) {
        ready.emplace_back(std::move(waiter));
        waiter = nullptr;
      }
    }
  }
  for (auto& handler : ready) std::move(handler)(boost::system::error_code());
  ready.clear();
}

void EventSocket::OnEvents(uint32_t events) {
  if (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR)) readable = true;
  if (events & (EPOLLRDHUP | EPOLLHUP | EPOLLERR)) peer_closed = true;
  if (events & (EPOLLOUT | EPOLLHUP | EPOLLERR)) writable = true;
}

bool EventSocket::Adopt(int fd) {
  Close();
  fd_ = fd;
  nodelay_ = false;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET;
  ev.data.ptr = this;
  readable = writable = true;
  peer_closed = read_wants_write = write_wants_read = false;
  if (::epoll_ctl(poller_->epoll_fd(), EPOLL_CTL_ADD, fd_, &ev) != 0) {
    Close();
    return false;
  }
  return true;
}

boost::system::error_code EventSocket::StartConnect(const asio::ip::tcp::endpoint& to) {
  int fd = ::socket(to.protocol().family(), SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return Errno(errno);
  if (::connect(fd, to.data(), static_cast<socklen_t>(to.size())) != 0 && errno != EINPROGRESS) {
    int e = errno;
    ::close(fd);
    return Errno(e);
  }
  if (!Adopt(fd)) return Errno(errno ? errno : EBADF);
  SetNoDelay();
  writable = false;  // until the connect completes
  return {};
}

boost::system::error_code EventSocket::ConnectResult() const {
  int error = 0;
  socklen_t len = sizeof(error);
  if (::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &error, &len) != 0) return Errno(errno);
  return error ? Errno(error) : boost::system::error_code();
}

void EventSocket::SetNoDelay() {
  if (nodelay_ || fd_ < 0) return;
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
  nodelay_ = true;
}

void EventSocket::Cancel() {
  for (auto& waiter : waiters_) {
    if (!waiter) continue;
    asio::post(poller_->executor(), [h = std::move(waiter)]() mutable {
      std::move(h)(asio::error::operation_aborted);
    });
    waiter = nullptr;
  }
}

void EventSocket::Close() {
  if (fd_ < 0) return;
  Cancel();
  if (tls_) {
    tls_->Shutdown();
    tls_.reset();
  }
  ::close(fd_);  // also leaves the epoll set
  fd_ = -1;
}

}  // namespace rwproxy
