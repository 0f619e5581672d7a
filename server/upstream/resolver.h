// Name resolution for cluster endpoints: IP literals directly, then the optional hosts file
// (--dns-hosts-file: "ADDRESS NAME..." lines, re-read at every call, so a test or an operator can
// pin or change a name's addresses without the network), then the system resolver
// (getaddrinfo). Every address a name has is returned, in a stable order; each becomes an
// endpoint of its cluster.
//
// Blocking: Resolve blocks for as long as the system resolver takes; ResolveAll bounds the wait.
// Call them on the control thread (Compile) or the EndpointMonitor's DNS thread, never on a
// worker.
//
// Ownership: free functions; SetHostsFile is called once by main before any thread starts.
// ResolveAll's lookup threads are its own (detached; each holds the shared state it writes).
// Thread-safety: Resolve and ResolveAll are reentrant.
#ifndef RWPROXY_SERVER_UPSTREAM_RESOLVER_H_
#define RWPROXY_SERVER_UPSTREAM_RESOLVER_H_

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "absl/time/time.h"
#include "boost/asio/ip/tcp.hpp"

namespace rwproxy {

struct Resolution {
  bool ok = false;
  std::string error;  // "cannot resolve 'app.local': Host not found" when !ok
  std::vector<boost::asio::ip::tcp::endpoint> addresses;  // sorted, no duplicates
};

Resolution Resolve(const std::string& host, uint16_t port);

// Resolves every {host, port} of `names` together and returns one Resolution each, in order.
// IP literals are answered at once; each distinct name is looked up once, on up to 8 threads of
// its own, and the caller waits at most `deadline` for all of them together. A name with no
// answer by then fails with "cannot resolve 'NAME': no answer within 2s"; its lookup finishes in
// the background and the answer is dropped. At most 32 such threads live at once (a dead
// resolver holds each until its own timeout); beyond that names fail at once ("resolver busy").
std::vector<Resolution> ResolveAll(const std::vector<std::pair<std::string, uint16_t>>& names,
                                   absl::Duration deadline);

// True if `host` is an IPv4 or IPv6 address (never looked up).
bool IsIpLiteral(const std::string& host);

// Before any thread starts (composition root). Empty: no hosts file.
void SetHostsFile(std::string path);

// The addresses `name` has in hosts-file text (exported for tests).
std::vector<boost::asio::ip::address> LookupHostsText(const std::string& text,
                                                      const std::string& name);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_RESOLVER_H_
