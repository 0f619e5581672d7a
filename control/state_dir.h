// Persistence of the version log under --state-dir: one file per version, written once, so an
// apply writes only what changed (its own config), never the whole history. The only rewrite is
// UpdateInfo (a guarded version's verdict), atomic like every write.
//
//   <state-dir>/version-<N>.pb                 state.v1.StoredVersion (info + config), binary
//   <state-dir>/version-<N>.pb.corrupt-<time>  a file that could not be parsed, set aside
//
// The live version is the highest readable one. A version file is written atomically and durably
// (tmp + fsync + rename + fsync of the dir) before the apply is acknowledged, so after a crash the
// restored version is never older than the last acknowledged one. The highest <N> among every
// file name, set aside or not, is the high-water mark: versions never go backwards. A state.json
// of the previous format (format 1, the whole history in one file) is migrated on Open.
//
// Ownership: owned by ConfigStore. Thread-safety: none; ConfigStore serializes every call (it
// holds its apply lock).
#ifndef RWPROXY_CONTROL_STATE_DIR_H_
#define RWPROXY_CONTROL_STATE_DIR_H_

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/config.pb.h"
#include "proto/control.pb.h"

namespace rwproxy::control {

class StateDir {
 public:
  struct Stored {
    v1::VersionInfo info;
    size_t bytes = 0;  // serialized config size
  };
  struct Scan {
    std::vector<Stored> versions;  // every readable version file, oldest first
    uint64_t high_water = 0;       // the highest version any file name carries
    std::vector<std::string> notes;  // what Open did: migrated, set aside (for the log)
  };

  StateDir(std::string path, std::function<absl::Time()> now);

  // Creates the dir, migrates a format-1 state.json, removes stale tmp files, reads every version
  // file's info (not its config) and sets aside the files that cannot be parsed.
  absl::StatusOr<Scan> Open();

  // Writes version `info` with `config_bytes` (the config's deterministic serialization).
  absl::Status Write(const v1::VersionInfo& info, std::string_view config_bytes);

  // Atomically rewrites version info.version()'s file with `info` and the config it holds (a
  // guard's verdict). NOT_FOUND when there is no such file; DATA_LOSS when it cannot be parsed.
  absl::Status UpdateInfo(const v1::VersionInfo& info);

  // The config of `version` and its serialization. DATA_LOSS when the file cannot be parsed or
  // its content does not match its hash; NOT_FOUND when it does not exist.
  absl::Status Read(uint64_t version, config::v1::Config* config, std::string* bytes) const;

  // Renames version `version`'s file to version-<N>.pb.corrupt-<time>; returns the new path.
  absl::StatusOr<std::string> SetAside(uint64_t version);

  // Deletes the files of `versions` (dropped from the history); failures are logged.
  void Remove(const std::vector<uint64_t>& versions);

  std::string FileOf(uint64_t version) const;
  const std::string& path() const { return path_; }

 private:
  absl::Status MigrateStateJson(std::vector<std::string>* notes);

  const std::string path_;
  const std::function<absl::Time()> now_;
};

// 16 hex digits: 64-bit FNV-1a of `bytes`. ContentHash(config) is this over its deterministic
// serialization.
std::string HashBytes(std::string_view bytes);
// The deterministic serialization of `config` (the bytes that are hashed and stored).
std::string DeterministicBytes(const config::v1::Config& config);

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_STATE_DIR_H_
