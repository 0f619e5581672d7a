// Start-up and file-watch glue between a config file and the ConfigStore: the first live config
// (restored from --state-dir, else --config) and --watch-config reloads. Both go through the
// store's one validated, versioned path, and report problems at the YAML line:col.
//
// Ownership: free functions and a FileWatcher owned by the caller (main). Thread-safety: call
// LoadFirstConfig once from main before serving; the watcher's callback runs on its own thread.
#ifndef RWPROXY_CONTROL_BOOT_H_
#define RWPROXY_CONTROL_BOOT_H_

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "control/config_store.h"
#include "control/file_watcher.h"

namespace rwproxy::control {

// Parses YAML `text` and applies it through the store. On failure *errors gets every problem
// located at its line:col in `label`. History records `source` and `description`.
bool ApplyYaml(ConfigStore* store, const std::string& label, const std::string& text,
               const std::string& description, const std::string& source,
               std::vector<std::string>* errors);

// The --config file as read once at start-up: what boot applies and what the file watcher
// compares against, so an edit made while booting is not lost.
struct BootFile {
  std::string path;
  std::string text;
  std::vector<std::string> read_errors;  // empty when the file was read
};
BootFile ReadBootFile(const std::string& path);

// The first live config: the newest saved version under --state-dir that compiles, else --config
// (a version above every version the state dir has seen). Logs what happened; false (after
// logging why) when neither gives a config.
bool LoadFirstConfig(ConfigStore* store, const BootFile& config);

// --watch-config: every change of the file goes through the same validated, versioned path as
// `rwctl apply`. An invalid file changes nothing; it is logged with line and field, counted in
// *file_errors, and shown by `rwctl get` until a good version loads. A good one is logged. Null
// (after logging why) when the file cannot be watched.
std::unique_ptr<FileWatcher> WatchConfigFile(const BootFile& config, ConfigStore* store,
                                             std::atomic<uint64_t>* file_errors);

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_BOOT_H_
