// The main thread's life after start-up: waits for SIGTERM/SIGINT, then drains the server:
// /ready fails at once (Server::draining), keep-alive connections close after their current
// response and idle ones at once, and the process may exit as soon as no client connection is
// left, or when the drain timeout expires, or at a second signal.
//
// Free function; call it from the main thread only, after Server::Start.
#ifndef RWPROXY_SERVER_RUNTIME_DRAIN_H_
#define RWPROXY_SERVER_RUNTIME_DRAIN_H_

#include "absl/time/time.h"
#include "server/runtime/server.h"

namespace rwproxy {

// Blocks until it is time to exit; returns the reason, for the log.
std::string WaitForSignalsAndDrain(Server& server, absl::Duration drain_timeout);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_RUNTIME_DRAIN_H_
