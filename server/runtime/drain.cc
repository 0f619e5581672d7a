#include "server/runtime/drain.h"

#include <csignal>
#include <functional>

#include "absl/strings/str_cat.h"
#include "boost/asio/io_context.hpp"
#include "boost/asio/signal_set.hpp"
#include "boost/asio/steady_timer.hpp"
#include "server/log/log.h"

namespace rwproxy {
namespace {

constexpr std::chrono::milliseconds kIdleCheck{100};

uint64_t OpenClientConnections(Server& server) {
  uint64_t open = 0;
  for (const auto& [name, counters] : server.CollectStats().listeners) {
    auto it = counters.find("downstream_cx_active");
    if (it != counters.end()) open += it->second;
  }
  return open;
}

}  // namespace

std::string WaitForSignalsAndDrain(Server& server, absl::Duration drain_timeout) {
  std::signal(SIGPIPE, SIG_IGN);
  boost::asio::io_context io;
  boost::asio::signal_set signals(io, SIGTERM, SIGINT);
  boost::asio::steady_timer deadline(io);
  boost::asio::steady_timer idle_check(io);
  std::string reason;
  auto stop = [&](std::string why) {
    reason = std::move(why);
    io.stop();
  };
  std::function<void()> check_idle = [&] {
    idle_check.expires_after(kIdleCheck);
    idle_check.async_wait([&](const boost::system::error_code& ec) {
      if (ec) return;
      if (OpenClientConnections(server) == 0) return stop("drained: no client connection left");
      check_idle();
    });
  };
  std::function<void(const boost::system::error_code&, int)> on_signal =
      [&](const boost::system::error_code& ec, int signal) {
        if (ec) return;
        if (server.draining()) return stop("second signal");
        log::Info("drain", absl::StrCat("signal ", signal, ": draining (up to ",
                                        absl::FormatDuration(drain_timeout), ")"));
        server.BeginDrain();
        deadline.expires_after(absl::ToChronoMilliseconds(drain_timeout));
        deadline.async_wait([&](const boost::system::error_code& e) {
          if (!e) stop("drain timeout");
        });
        check_idle();
        signals.async_wait(on_signal);
      };
  signals.async_wait(on_signal);
  io.run();
  return reason;
}

}  // namespace rwproxy
