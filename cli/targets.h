// Which control servers rwctl talks to, with which token, and running one call per server
// concurrently (fleet push).
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; any thread.
// RunPerTarget calls `fn` from its own threads, one target per call.
#ifndef RWPROXY_CLI_TARGETS_H_
#define RWPROXY_CLI_TARGETS_H_

#include <cstddef>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"

namespace rwproxy::cli {

inline constexpr char kDefaultServer[] = "127.0.0.1:15010";
// Calls in flight at once in a fleet push. Apply is CPU-bound on each server, not here: 64 keeps
// a few hundred sidecars busy without one thread per target (verdict waits take no thread).
inline constexpr size_t kMaxParallelTargets = 64;

// Parses a servers file: one address (host:port or unix:/path) per line; blank lines and
// everything after '#' are ignored. An entry with inner whitespace is an error naming its line.
absl::StatusOr<std::vector<std::string>> ParseServersFile(std::string_view text);

// The targets, in order: every --server flag, then the entries of `servers_file` (if not
// empty); when both are empty, `env_server` (RWCTL_SERVER; may be null or empty), else
// kDefaultServer.
absl::StatusOr<std::vector<std::string>> ResolveServers(const std::vector<std::string>& flags,
                                                        const std::string& servers_file,
                                                        const char* env_server);

// The bearer token: the content of `token_file` (surrounding whitespace trimmed) if given, else
// `env_token` (RWCTL_TOKEN), else "" (no authorization metadata).
absl::StatusOr<std::string> ResolveToken(const std::string& token_file, const char* env_token);

// Reads a whole file; "-" reads stdin.
absl::StatusOr<std::string> ReadInput(const std::string& path);

// Calls fn(i) for every i in [0, count) on at most `max_threads` threads; returns when all are
// done. With count == 1 it runs on the calling thread.
void RunPerTarget(size_t count, size_t max_threads, const std::function<void(size_t)>& fn);

}  // namespace rwproxy::cli

#endif  // RWPROXY_CLI_TARGETS_H_
