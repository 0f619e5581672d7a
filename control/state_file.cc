#include "control/state_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "control/config_store.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "server/util/sv.h"

namespace rwproxy::control {
namespace {

absl::Status Errno(std::string_view what, const std::string& path) {
  return absl::InternalError(absl::StrCat(Sv(what), " ", path, ": ", std::strerror(errno)));
}

// Format-1 state files were written when Match.headers (field 5) was a map; it is now named
// legacy_headers and `headers` is a list. Renames every "headers" object under a "match" object.
void RenameLegacyHeaders(google::protobuf::Value* value, bool in_match) {
  if (value->has_list_value()) {
    for (auto& item : *value->mutable_list_value()->mutable_values()) {
      RenameLegacyHeaders(&item, false);
    }
    return;
  }
  if (!value->has_struct_value()) return;
  auto* fields = value->mutable_struct_value()->mutable_fields();
  if (in_match) {
    auto it = fields->find("headers");
    if (it != fields->end() && it->second.has_struct_value()) {
      google::protobuf::Value moved = std::move(it->second);
      fields->erase(it);
      (*fields)["legacy_headers"] = std::move(moved);
    }
  }
  for (auto& [key, child] : *fields) RenameLegacyHeaders(&child, key == "match");
}

absl::Status WriteAll(int fd, std::string_view content, const std::string& path) {
  while (!content.empty()) {
    ssize_t n = ::write(fd, content.data(), content.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return Errno("write", path);
    content.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

absl::Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Errno("open", dir);
  int rc = ::fsync(fd);
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : Errno("fsync", dir);
}

}  // namespace

absl::Status WriteFileAtomically(const std::string& path, std::string_view content) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Errno("create", tmp);
  absl::Status status = WriteAll(fd, content, tmp);
  if (status.ok() && ::fsync(fd) != 0) status = Errno("fsync", tmp);
  if (::close(fd) != 0 && status.ok()) status = Errno("close", tmp);
  if (status.ok() && ::rename(tmp.c_str(), path.c_str()) != 0) status = Errno("rename to", path);
  if (!status.ok()) {
    ::unlink(tmp.c_str());
    return status;
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  return FsyncDir(dir.empty() ? "." : dir);
}

absl::StatusOr<std::string> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return absl::NotFoundError(absl::StrCat(path, " does not exist"));
    return Errno("open", path);
  }
  std::string out;
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      absl::Status status = Errno("read", path);
      ::close(fd);
      return status;
    }
    if (n == 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

absl::StatusOr<std::string> MoveAside(const std::string& path, std::string_view stem,
                                      absl::Time now) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  const std::string base =
      absl::StrCat(dir.empty() ? "." : dir, "/", Sv(stem), ".corrupt-",
                   absl::FormatTime("%Y%m%dT%H%M%SZ", now, absl::UTCTimeZone()));
  std::string target = base;
  for (int i = 1; ::access(target.c_str(), F_OK) == 0; ++i) target = absl::StrCat(base, "-", i);
  if (::rename(path.c_str(), target.c_str()) != 0) return Errno("rename", path);
  return target;
}

absl::StatusOr<std::string> StateToJson(const state::v1::State& state) {
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  std::string out;
  auto printed = google::protobuf::util::MessageToJsonString(state, &out, options);
  if (!printed.ok()) {
    return absl::InternalError(absl::StrCat("cannot print the state: ", printed.message().as_string()));
  }
  return out;
}

absl::Status StateFromJson(std::string_view json, state::v1::State* state) {
  google::protobuf::util::JsonParseOptions options;
  google::protobuf::Value tree;
  auto parsed = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(json.data(), json.size()), &tree, options);
  std::string renamed;
  if (parsed.ok()) {
    RenameLegacyHeaders(&tree, false);
    parsed = google::protobuf::util::MessageToJsonString(tree, &renamed);
  }
  if (parsed.ok()) parsed = google::protobuf::util::JsonStringToMessage(renamed, state, options);
  if (!parsed.ok()) {
    return absl::DataLossError(absl::StrCat("not a state file: ", parsed.message().as_string()));
  }
  if (state->format() != 1) {
    return absl::DataLossError(absl::StrCat("unknown state format ", state->format()));
  }
  if (state->history_size() == 0) return absl::DataLossError("empty history");
  uint64_t previous = 0;
  for (const auto& entry : state->history()) {
    if (entry.info().version() <= previous) {
      return absl::DataLossError(
          absl::StrCat("history versions out of order at version ", entry.info().version()));
    }
    previous = entry.info().version();
  }
  const auto& live = state->history(state->history_size() - 1);
  if (live.info().version() != state->live_version()) {
    return absl::DataLossError(
        absl::StrCat("live version ", state->live_version(), " is not the newest history entry"));
  }
  if (ContentHash(live.config()) != live.info().content_hash()) {
    return absl::DataLossError(
        absl::StrCat("content hash mismatch for live version ", state->live_version()));
  }
  return absl::OkStatus();
}

}  // namespace rwproxy::control
