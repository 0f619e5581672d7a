#include "server/http/event_socket.h"

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <deque>

#include "boost/asio/post.hpp"

namespace rwproxy {
namespace asio = boost::asio;

namespace {
constexpr int kMaxEvents = 256;
boost::system::error_code Errno(int e) { return {e, boost::system::system_category()}; }
}  // namespace

Poller::Poller(asio::io_context& io)
    : executor_(io.get_executor()), epfd_(::epoll_create1(EPOLL_CLOEXEC)), watch_(executor_) {
  boost::system::error_code ec;
  if (epfd_ >= 0) watch_.assign(::dup(epfd_), ec);
}

Poller::~Poller() {
  boost::system::error_code ignored;
  watch_.close(ignored);
  if (epfd_ >= 0) ::close(epfd_);
}

void Poller::Start() {
  stopped_ = false;
  Arm();
}

void Poller::Stop() {
  stopped_ = true;
  boost::system::error_code ignored;
  watch_.cancel(ignored);
}

void Poller::Arm() {
  if (stopped_) return;
  watch_.async_wait(asio::posix::descriptor_base::wait_read,
                    [this](const boost::system::error_code& ec) {
                      if (ec || stopped_) return;
                      Dispatch();
                      Arm();
                    });
}

void Poller::Dispatch() {
  epoll_event events[kMaxEvents];
  for (int round = 0; round < 4; ++round) {
    int n = ::epoll_wait(epfd_, events, kMaxEvents, 0);
    if (n <= 0) return;
    // Flags first for the whole batch, then the waiters: a resumed coroutine may close any
    // socket, so no EventSocket is touched after the first handler runs.
    std::deque<EventSocket::Handler>& ready = ready_;  // never relocated: move-only handlers
    for (int i = 0; i < n; ++i) {
      auto* socket = static_cast<EventSocket*>(events[i].data.ptr);
      socket->OnEvents(events[i].events);
      for (auto& waiter : socket->waiters_) {
        if (waiter && socket->Ready(&waiter == &socket->waiters_[0] ? EventSocket::kRead
                                                                    : EventSocket::kWrite)) {
          ready.emplace_back(std::move(waiter));
          waiter = nullptr;
        }
      }
    }
    for (auto& handler : ready) std::move(handler)(boost::system::error_code());
    ready.clear();
    if (n < kMaxEvents) return;
  }
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
  peer_closed = false;
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
  ::close(fd_);  // also leaves the epoll set
  fd_ = -1;
}

}  // namespace rwproxy
