// Keeps the TLS listener's certificates current without a restart: every certificate, key and
// client CA file is watched (FileWatcher: its directory, so a Kubernetes Secret mount's `..data`
// symlink swap is seen like an in-place write), and on any change all of them are loaded again.
// Only a set that loads and checks completely (every key matches its certificate, none expired)
// replaces the one in the ServerTlsSlot; otherwise the old certificates stay in use, the error is
// logged and counted (server.tls_cert_reload_fail). A connection keeps the certificates it was
// accepted with; the next one gets the new ones.
//
// Ownership: owned by main, which stops it before the Server. Thread-safety: Reload may be
// called from any thread (calls are serialised); the watchers call it from their own threads.
#ifndef RWPROXY_CONTROL_CERT_RELOADER_H_
#define RWPROXY_CONTROL_CERT_RELOADER_H_

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "control/file_watcher.h"
#include "server/tls/server_tls.h"

namespace rwproxy::control {

class CertReloader {
 public:
  // Loads the certificates once (an error if they do not load: the process should not start)
  // and creates the slot the TLS listener serves from.
  static absl::StatusOr<std::unique_ptr<CertReloader>> Create(ServerTlsOptions options);
  ~CertReloader();

  std::shared_ptr<ServerTlsSlot> slot() const { return slot_; }
  // Starts watching every file.
  absl::Status Watch();
  // Loads every file again; on success the slot serves the new set.
  absl::Status Reload();
  void Stop();

 private:
  explicit CertReloader(ServerTlsOptions options) : options_(std::move(options)) {}
  ServerTlsOptions options_;
  TicketKeys keys_ = RandomTicketKeys();
  std::shared_ptr<ServerTlsSlot> slot_;
  std::mutex mu_;  // serialises Reload
  std::vector<std::unique_ptr<FileWatcher>> watchers_;
  // Each file's content as it was read for the first load, so that a change made between that
  // load and Watch() is still seen.
  std::map<std::string, std::string> initial_;
  std::string loaded_contents_;  // every file's content (in initial_'s order) of the set in use
};

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_CERT_RELOADER_H_
