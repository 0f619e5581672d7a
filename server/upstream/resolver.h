// Name resolution for cluster endpoints: IP literals directly, then the optional hosts file
// (--dns-hosts-file: "ADDRESS NAME..." lines, re-read at every call, so a test or an operator can
// pin or change a name's addresses without the network), then the system resolver
// (getaddrinfo). Every address a name has is returned, in a stable order; each becomes an
// endpoint of its cluster.
//
// Blocking: call it on the control thread (Compile) or the EndpointMonitor's DNS thread, never on
// a worker.
//
// Ownership: free functions; SetHostsFile is called once by main before any thread starts.
// Thread-safety: Resolve is reentrant.
#ifndef RWPROXY_SERVER_UPSTREAM_RESOLVER_H_
#define RWPROXY_SERVER_UPSTREAM_RESOLVER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "boost/asio/ip/tcp.hpp"

namespace rwproxy {

struct Resolution {
  bool ok = false;
  std::string error;  // "cannot resolve 'app.local': Host not found" when !ok
  std::vector<boost::asio::ip::tcp::endpoint> addresses;  // sorted, no duplicates
};

Resolution Resolve(const std::string& host, uint16_t port);

// Before any thread starts (composition root). Empty: no hosts file.
void SetHostsFile(std::string path);

// The addresses `name` has in hosts-file text (exported for tests).
std::vector<boost::asio::ip::address> LookupHostsText(const std::string& text,
                                                      const std::string& name);

}  // namespace rwproxy

#endif  // RWPROXY_SERVER_UPSTREAM_RESOLVER_H_
