#include "control/state_dir.h"

#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <charconv>
#include <filesystem>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "control/state_file.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "proto/state.pb.h"
#include "server/log/log.h"
#include "server/util/sv.h"

namespace rwproxy::control {
namespace {

namespace fs = std::filesystem;
using google::protobuf::io::CodedInputStream;
using google::protobuf::io::CodedOutputStream;

constexpr char kPrefix[] = "version-";
constexpr char kSuffix[] = ".pb";
constexpr char kLegacyStateFile[] = "state.json";
// StoredVersion's field tags (proto/state.proto): info = 1, config = 2, both length-delimited.
constexpr uint32_t kInfoTag = (1 << 3) | 2;
constexpr uint32_t kConfigTag = (2 << 3) | 2;

// The version a file name carries ("version-57.pb", "version-57.pb.corrupt-..." -> 57), or 0.
uint64_t VersionOfName(std::string_view name, bool* exact) {
  if (!name.starts_with(kPrefix)) return 0;
  name.remove_prefix(sizeof(kPrefix) - 1);
  uint64_t version = 0;
  auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), version);
  if (ec != std::errc() || version == 0) return 0;
  std::string_view rest(end, name.data() + name.size() - end);
  if (!rest.starts_with(kSuffix)) return 0;
  *exact = rest.size() == sizeof(kSuffix) - 1;
  return version;
}

// Splits a stored file into its info and the config's bytes (not parsed).
absl::Status SplitStored(std::string_view file, v1::VersionInfo* info, std::string_view* config) {
  CodedInputStream in(reinterpret_cast<const uint8_t*>(file.data()), static_cast<int>(file.size()));
  bool has_info = false, has_config = false;
  while (uint32_t tag = in.ReadTag()) {
    uint32_t length = 0;
    if (!in.ReadVarint32(&length) || length > file.size()) return absl::DataLossError("truncated");
    const int at = in.CurrentPosition();
    if (static_cast<size_t>(at) + length > file.size()) return absl::DataLossError("truncated");
    if (tag == kInfoTag) {
      if (!info->ParseFromArray(file.data() + at, static_cast<int>(length))) {
        return absl::DataLossError("unreadable version info");
      }
      has_info = true;
    } else if (tag == kConfigTag) {
      *config = file.substr(at, length);
      has_config = true;
    } else {
      return absl::DataLossError(absl::StrCat("unexpected field tag ", tag));
    }
    if (!in.Skip(static_cast<int>(length))) return absl::DataLossError("truncated");
  }
  if (in.CurrentPosition() != static_cast<int>(file.size())) return absl::DataLossError("truncated");
  if (!has_info || !has_config) return absl::DataLossError("missing info or config");
  if (HashBytes(*config) != info->content_hash()) {
    return absl::DataLossError("content does not match its hash");
  }
  return absl::OkStatus();
}

}  // namespace

std::string HashBytes(std::string_view bytes) {
  uint64_t hash = 14695981039346656037ull;  // FNV-1a 64 offset basis
  for (unsigned char c : bytes) {
    hash ^= c;
    hash *= 1099511628211ull;  // FNV-1a 64 prime
  }
  return absl::StrFormat("%016x", hash);
}

std::string DeterministicBytes(const config::v1::Config& config) {
  std::string out;
  out.reserve(config.ByteSizeLong());
  {
    google::protobuf::io::StringOutputStream stream(&out);
    CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    config.SerializeToCodedStream(&coded);
  }
  return out;
}

StateDir::StateDir(std::string path, std::function<absl::Time()> now)
    : path_(std::move(path)), now_(std::move(now)) {}

std::string StateDir::FileOf(uint64_t version) const {
  return absl::StrCat(path_, "/", kPrefix, version, kSuffix);
}

absl::StatusOr<StateDir::Scan> StateDir::Open() {
  std::error_code ec;
  fs::create_directories(path_, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create state dir ", path_, ": ", ec.message()));
  }
  Scan scan;
  if (auto status = MigrateStateJson(&scan.notes); !status.ok()) return status;
  std::vector<uint64_t> exact;
  fs::directory_iterator it(path_, ec);
  for (; !ec && it != fs::directory_iterator(); it.increment(ec)) {
    const std::string name = it->path().filename().string();
    if (name.ends_with(".tmp")) {  // an interrupted write: never acknowledged
      std::error_code ignored;
      fs::remove(it->path(), ignored);
      continue;
    }
    bool is_exact = false;
    const uint64_t version = VersionOfName(name, &is_exact);
    scan.high_water = std::max(scan.high_water, version);
    if (version != 0 && is_exact) exact.push_back(version);
  }
  if (ec) return absl::InternalError(absl::StrCat("cannot list ", path_, ": ", ec.message()));
  std::sort(exact.begin(), exact.end());
  for (uint64_t version : exact) {
    auto text = ReadWholeFile(FileOf(version));
    v1::VersionInfo info;
    std::string_view config;
    absl::Status status = text.status();
    if (status.ok()) status = SplitStored(*text, &info, &config);
    if (status.ok() && info.version() != version) {
      status = absl::DataLossError(absl::StrCat("holds version ", info.version()));
    }
    if (status.ok()) {
      scan.versions.push_back({std::move(info), config.size()});
      continue;
    }
    // Only a file whose content is bad is set aside; one that cannot be read now (permissions,
    // I/O) may be fine: refuse to start rather than serve an older version in its place.
    if (!absl::IsDataLoss(status)) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read ", FileOf(version), ": ", status.message()));
    }
    auto aside = SetAside(version);
    scan.notes.push_back(absl::StrCat(FileOf(version), ": ", status.message(), "; ",
                                      aside.ok() ? "kept it as " + *aside
                                                 : "cannot set it aside: " +
                                                       std::string(aside.status().message())));
  }
  return scan;
}

absl::Status StateDir::Write(const v1::VersionInfo& info, std::string_view config_bytes) {
  // StoredVersion's wire form, built around the config's bytes (not serialized a second time).
  const std::string info_bytes = info.SerializeAsString();
  std::string file;
  file.reserve(info_bytes.size() + config_bytes.size() + 16);
  {
    google::protobuf::io::StringOutputStream stream(&file);
    CodedOutputStream out(&stream);
    out.WriteTag(kInfoTag);
    out.WriteVarint32(static_cast<uint32_t>(info_bytes.size()));
    out.WriteString(info_bytes);
    out.WriteTag(kConfigTag);
    out.WriteVarint32(static_cast<uint32_t>(config_bytes.size()));
    out.WriteRaw(config_bytes.data(), static_cast<int>(config_bytes.size()));
  }
  return WriteFileAtomically(FileOf(info.version()), file);
}

absl::Status StateDir::UpdateInfo(const v1::VersionInfo& info) {
  auto text = ReadWholeFile(FileOf(info.version()));
  if (!text.ok()) return text.status();
  v1::VersionInfo stored_info;
  std::string_view config;
  if (auto status = SplitStored(*text, &stored_info, &config); !status.ok()) {
    return absl::DataLossError(absl::StrCat(FileOf(info.version()), ": ", status.message()));
  }
  if (stored_info.content_hash() != info.content_hash()) {
    return absl::FailedPreconditionError(
        absl::StrCat(FileOf(info.version()), " holds other content"));
  }
  return Write(info, config);
}

absl::Status StateDir::Read(uint64_t version, config::v1::Config* config,
                            std::string* bytes) const {
  auto text = ReadWholeFile(FileOf(version));
  if (!text.ok()) return text.status();
  v1::VersionInfo info;
  std::string_view stored;
  if (auto status = SplitStored(*text, &info, &stored); !status.ok()) {
    return absl::DataLossError(absl::StrCat(FileOf(version), ": ", status.message()));
  }
  if (!config->ParseFromArray(stored.data(), static_cast<int>(stored.size()))) {
    return absl::DataLossError(absl::StrCat(FileOf(version), ": unreadable config"));
  }
  if (bytes != nullptr) bytes->assign(stored);
  return absl::OkStatus();
}

absl::StatusOr<std::string> StateDir::SetAside(uint64_t version) {
  return MoveAside(FileOf(version), absl::StrCat(kPrefix, version, kSuffix), now_());
}

void StateDir::Remove(const std::vector<uint64_t>& versions) {
  for (uint64_t version : versions) {
    const std::string file = FileOf(version);
    if (::unlink(file.c_str()) != 0 && errno != ENOENT) {
      log::Warn("state", absl::StrCat("cannot remove ", file, ": ", std::strerror(errno)));
    }
  }
}

absl::Status StateDir::MigrateStateJson(std::vector<std::string>* notes) {
  const std::string legacy = absl::StrCat(path_, "/", kLegacyStateFile);
  auto text = ReadWholeFile(legacy);
  if (absl::IsNotFound(text.status())) return absl::OkStatus();
  state::v1::State state;
  absl::Status status = text.status();
  if (status.ok()) status = StateFromJson(*text, &state);
  if (!status.ok()) {
    auto aside = MoveAside(legacy, "state", now_());
    notes->push_back(absl::StrCat(legacy, ": ", status.message(), "; ",
                                  aside.ok() ? "kept it as " + *aside : "cannot set it aside"));
    return absl::OkStatus();
  }
  for (const auto& entry : state.history()) {
    v1::VersionInfo info = entry.info();
    const std::string bytes = DeterministicBytes(entry.config());
    info.set_content_hash(HashBytes(bytes));
    if (auto written = Write(info, bytes); !written.ok()) return written;
  }
  if (::unlink(legacy.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("cannot remove ", legacy, " after migrating it: ",
                                            std::strerror(errno)));
  }
  notes->push_back(absl::StrCat("migrated ", legacy, " (", state.history_size(),
                                " versions) to one file per version"));
  return absl::OkStatus();
}

}  // namespace rwproxy::control
