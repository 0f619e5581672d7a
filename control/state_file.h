// Durable file primitives for the state dir (control/state_dir.h): atomic replace (tmp file +
// fsync + rename + fsync of the dir), reading, moving a bad file aside; and the JSON form of the
// previous state format (format 1: state.json with the whole history), read to migrate it.
//
// Ownership: free functions over caller-owned values. Thread-safety: reentrant; callers
// serialize writes to the same file (ConfigStore holds its apply lock).
#ifndef RWPROXY_CONTROL_STATE_FILE_H_
#define RWPROXY_CONTROL_STATE_FILE_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "proto/state.pb.h"

namespace rwproxy::control {

// Replaces `path` with `content` so that a crash leaves either the old or the new file.
absl::Status WriteFileAtomically(const std::string& path, std::string_view content);

// The whole file. NotFound if it does not exist; another error if it cannot be read.
absl::StatusOr<std::string> ReadWholeFile(const std::string& path);

// Renames `path` to "<dir>/<stem>.corrupt-<UTC time>" (with a suffix if taken); returns the new
// path.
absl::StatusOr<std::string> MoveAside(const std::string& path, std::string_view stem,
                                      absl::Time now);

// INTERNAL when the state cannot be printed (never persisted as an empty file).
absl::StatusOr<std::string> StateToJson(const state::v1::State& state);
// Parses and checks the structure: format 1, a non-empty history of increasing versions whose
// newest entry is the live version and whose live content hash matches its content.
absl::Status StateFromJson(std::string_view json, state::v1::State* state);

}  // namespace rwproxy::control

#endif  // RWPROXY_CONTROL_STATE_FILE_H_
