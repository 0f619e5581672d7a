// The admin listener's endpoints (see admin_server.h for the list): method checks, query
// parameters and one handler per path. AdminServer reads a request, calls Handle, writes the
// response and, after /quitquitquit, calls Quit. Exposed in a header of its own so that tests can
// call Handle directly (e.g. as a client outside the pod, which a loopback test cannot be).
//
// Ownership: AdminServer owns one AdminRoutes, which refers to the server's AdminHandlers.
// Thread-safety: the admin thread only (its coroutines); the waits use timers on its executor.
#ifndef RWPROXY_SERVER_ADMIN_ADMIN_ROUTES_H_
#define RWPROXY_SERVER_ADMIN_ADMIN_ROUTES_H_

#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "boost/asio/awaitable.hpp"
#include "boost/asio/ip/address.hpp"
#include "boost/beast/http/message.hpp"
#include "boost/beast/http/string_body.hpp"
#include "server/admin/admin_server.h"

namespace rwproxy::admin_internal {

using Request = boost::beast::http::request<boost::beast::http::string_body>;
using Response = boost::beast::http::response<boost::beast::http::string_body>;

// The longest GET /drain?wait= (and the default bound of POST /quitquitquit's wait).
inline constexpr absl::Duration kMaxDrainWait = absl::Minutes(5);

// 127.0.0.0/8, ::1 or ::ffff:127.x.y.z.
bool IsLoopback(const boost::asio::ip::address& address);

// The percent-decoded value of `name` in the target's query string ('+' stays '+', so regexes
// need no escaping of it); nullopt when absent, InvalidArgument for a malformed %XX.
absl::StatusOr<std::optional<std::string>> QueryParam(std::string_view target,
                                                      std::string_view name);

class AdminRoutes {
 public:
  enum class Then { kNothing, kQuit };

  explicit AdminRoutes(const AdminHandlers* handlers) : handlers_(*handlers) {}

  // Answers `request` into *response. `from_loopback`: the client is on the pod's loopback (POST
  // actions are refused otherwise). GET /drain?wait= returns only when the drain is done or the
  // wait is over. kQuit: call Quit() once the response is written.
  boost::asio::awaitable<Then> Handle(const Request& request, bool from_loopback,
                                      Response* response);

  // Ends the process the way SIGTERM does (handlers.quit). If an admin /drain already runs (so
  // the signal would count as a second one and exit at once), first waits for the client
  // connections to close, up to handlers.drain_timeout.
  boost::asio::awaitable<void> Quit();

 private:
  boost::asio::awaitable<void> Drain(const Request& request, Response* response);
  void Stats(std::string_view target, bool prometheus, Response* response);
  void Logging(const Request& request, Response* response);
  void ServerInfoJson(Response* response);
  void ConfigDump(Response* response);
  // Polls the open client connections every 50 ms until none is left and `min` has passed, or
  // `max` has passed; returns how many are left.
  boost::asio::awaitable<uint64_t> WaitForDrain(absl::Duration min, absl::Duration max);
  uint64_t OpenClientConnections() const;

  const AdminHandlers& handlers_;
  bool admin_drain_ = false;  // an admin /drain started the drain
};

}  // namespace rwproxy::admin_internal

#endif  // RWPROXY_SERVER_ADMIN_ADMIN_ROUTES_H_
